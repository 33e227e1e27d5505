"""The DCGAN paper's networks: shapes, hand-counted parameters, layer names, init, seeding."""

import itertools
import warnings

import keras
import numpy as np
import pytest

from gan_tf.dcgan import (
    IMAGE_SIZES,
    hidden_layer_names,
    make_dcgan_discriminator,
    make_dcgan_generator,
    upsamplings,
)
from gan_tf.models import DISC_HIDDEN_LAYERS, make_discriminator_model, make_generator_model

# Fast networks for tests that only look at structure.
SMALL = {"image_size": 32, "channels": 1, "width": 4}


def build(**kwargs):
    """(generator, discriminator) for the same images; generator-only kwargs go to it alone."""
    noise_dim = kwargs.pop("noise_dim", 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no Keras warnings at build time
        generator = make_dcgan_generator(noise_dim=noise_dim, **kwargs)
        discriminator = make_dcgan_discriminator(**kwargs)
    return generator, discriminator


@pytest.fixture(scope="module")
def paper_sized():
    """The 64 px colour networks at pytorch/examples' width 64, seeded."""
    keras.utils.set_random_seed(0)
    return build(image_size=64, channels=3, width=64)


def weight(model, path: str) -> np.ndarray:
    (variable,) = [w for w in model.weights if w.path == path]
    return keras.ops.convert_to_numpy(variable)


def of_type(model, kind) -> list:
    return [layer for layer in model.layers if isinstance(layer, kind)]


def counts(model) -> tuple[int, int]:
    """(total, non-trainable) parameters."""
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return model.count_params(), non_trainable


@pytest.mark.parametrize(("image_size", "n"), [(32, 3), (64, 4), (128, 5)])
def test_upsamplings(image_size, n):
    assert upsamplings(image_size) == n
    assert 4 * 2**n == image_size


@pytest.mark.parametrize("image_size", IMAGE_SIZES)
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes(image_size, channels):
    generator, discriminator = build(image_size=image_size, channels=channels, width=8)
    assert generator.name == "generator" and discriminator.name == "discriminator"
    assert generator.output_shape == (None, image_size, image_size, channels)
    assert discriminator.input_shape == (None, image_size, image_size, channels)
    assert discriminator.output_shape == (None, 1)
    noise = np.random.default_rng(0).normal(size=(2, 100)).astype(np.float32)
    images = generator(noise, training=False)
    assert images.shape == (2, image_size, image_size, channels)
    assert discriminator(images, training=False).shape == (2, 1)


def test_parameter_counts_at_64px(paper_sized):
    generator, discriminator = paper_sized
    # BatchNorm holds 4 numbers per channel: gamma and beta (trained), and the
    # moving mean and variance (not trained).
    gen_bn = 4 * 512 + 4 * 256 + 4 * 128 + 4 * 64
    gen_total = (
        100 * (4 * 4 * 512)  # Dense, no bias: noise 100 -> 4x4x512 (8 * width)
        + 5 * 5 * 512 * 256  # 4x4 -> 8x8, no bias
        + 5 * 5 * 256 * 128  # 8x8 -> 16x16, no bias
        + 5 * 5 * 128 * 64  # 16x16 -> 32x32, no bias
        + 5 * 5 * 64 * 3
        + 3  # 32x32 -> 64x64 RGB, with bias
        + gen_bn
    )
    disc_bn = 4 * 128 + 4 * 256 + 4 * 512  # none after the first convolution
    disc_total = (
        5 * 5 * 3 * 64
        + 64  # 64x64 RGB -> 32x32, with bias
        + 5 * 5 * 64 * 128  # -> 16x16, no bias
        + 5 * 5 * 128 * 256  # -> 8x8, no bias
        + 5 * 5 * 256 * 512  # -> 4x4, no bias
        + 4 * 4 * 512
        + 1  # logit
        + disc_bn
    )
    assert (gen_total, disc_total) == (5_128_643, 4_317_441)
    assert counts(generator) == (gen_total, gen_bn // 2)
    assert counts(discriminator) == (disc_total, disc_bn // 2)
    assert generator.count_params() - gen_bn // 2 == 5_126_723  # trainable
    assert discriminator.count_params() - disc_bn // 2 == 4_315_649


def test_parameter_counts_at_32px_grey():
    # Another size, channel count, width and noise length: the rule is pinned, not one total.
    generator, discriminator = build(noise_dim=64, image_size=32, channels=1, width=16)
    gen_bn = 4 * 64 + 4 * 32 + 4 * 16
    gen_total = (
        64 * (4 * 4 * 64)  # Dense, no bias: noise 64 -> 4x4x64 (4 * width)
        + 5 * 5 * 64 * 32  # 4x4 -> 8x8
        + 5 * 5 * 32 * 16  # 8x8 -> 16x16
        + 5 * 5 * 16 * 1
        + 1  # 16x16 -> 32x32 grey, with bias
        + gen_bn
    )
    disc_bn = 4 * 32 + 4 * 64
    disc_total = (
        5 * 5 * 1 * 16
        + 16  # 32x32 grey -> 16x16, with bias
        + 5 * 5 * 16 * 32  # -> 8x8
        + 5 * 5 * 32 * 64  # -> 4x4
        + 4 * 4 * 64
        + 1  # logit
        + disc_bn
    )
    assert (gen_total, disc_total) == (130_385, 65_825)
    assert counts(generator) == (gen_total, gen_bn // 2)
    assert counts(discriminator) == (disc_total, disc_bn // 2)


@pytest.mark.parametrize("image_size", IMAGE_SIZES)
def test_hidden_layer_names(image_size):
    n = upsamplings(image_size)
    _, discriminator = build(image_size=image_size, channels=1, width=2)
    assert hidden_layer_names(discriminator) == tuple(f"disc_conv_{i}" for i in range(1, n + 1))


def test_hidden_layer_names_of_tutorial_discriminator():
    names = hidden_layer_names(make_discriminator_model())
    assert names == ("disc_conv_1", "disc_conv_2") == DISC_HIDDEN_LAYERS


def test_hidden_layer_names_are_numbered_not_alphabetical():
    x = inputs = keras.Input((2,))
    for i in range(1, 12):
        x = keras.layers.Dense(2, name=f"disc_conv_{i}")(x)
    names = hidden_layer_names(keras.Model(inputs, x))
    assert names == tuple(f"disc_conv_{i}" for i in range(1, 12))  # 10 and 11 last


def test_hidden_layer_names_refuses_other_models():
    with pytest.raises(ValueError, match="no disc_conv_1"):
        hidden_layer_names(make_generator_model())
    inputs = keras.Input((2,))
    x = keras.layers.Dense(2, name="disc_conv_1")(inputs)
    x = keras.layers.Dense(2, name="disc_conv_3")(x)
    with pytest.raises(ValueError, match=r"numbered \[1, 3\], expected \[1, 2\]"):
        hidden_layer_names(keras.Model(inputs, x))


@pytest.mark.parametrize("dropout", [0.0, 0.4])
def test_discriminator_layers(dropout):
    n = upsamplings(64)
    discriminator = make_dcgan_discriminator(64, 3, 2, dropout=dropout)
    names = {layer.name for layer in discriminator.layers}
    assert "disc_bn_1" not in names  # the paper leaves BatchNorm off the input layer
    for i in range(1, n + 1):
        conv = discriminator.get_layer(f"disc_conv_{i}")
        act = discriminator.get_layer(f"disc_act_{i}")
        if i == 1:
            assert conv.use_bias
            assert act.input is conv.output
        else:
            assert not conv.use_bias  # BatchNorm's beta does the shifting
            bn = discriminator.get_layer(f"disc_bn_{i}")
            assert isinstance(bn, keras.layers.BatchNormalization)
            assert bn.input is conv.output and act.input is bn.output
    dropouts = of_type(discriminator, keras.layers.Dropout)
    assert len(dropouts) == (n if dropout else 0)
    assert all(layer.rate == dropout for layer in dropouts)
    assert len(of_type(discriminator, keras.layers.BatchNormalization)) == n - 1


def test_generator_layers():
    generator, _ = build(**SMALL)
    n = upsamplings(SMALL["image_size"])
    convs = of_type(generator, keras.layers.Conv2DTranspose)
    assert len(convs) == n
    assert all(c.kernel_size == (5, 5) and c.strides == (2, 2) for c in convs)
    assert [c.use_bias for c in convs] == [False] * (n - 1) + [True]
    # ReLU throughout the generator (the paper's choice), whatever the discriminator uses.
    assert sum(type(layer) is keras.layers.ReLU for layer in generator.layers) == n
    assert generator.layers[-1].activation is keras.activations.tanh
    assert len(of_type(generator, keras.layers.BatchNormalization)) == n


@pytest.mark.parametrize(
    ("activation", "alpha", "kind", "slope"),
    [
        ("relu", 0.2, keras.layers.ReLU, 0.0),
        ("leaky_relu", 0.2, keras.layers.LeakyReLU, 0.2),
        ("leaky_relu", 0.05, keras.layers.LeakyReLU, 0.05),
    ],
)
def test_activation(activation, alpha, kind, slope):
    discriminator = make_dcgan_discriminator(32, 1, 2, activation=activation, alpha=alpha)
    x = np.array([[-2.0, -0.5, 0.0, 1.5]], np.float32)
    for i in range(1, upsamplings(32) + 1):
        layer = discriminator.get_layer(f"disc_act_{i}")
        assert type(layer) is kind
        np.testing.assert_allclose(layer(x), [[-2.0 * slope, -0.5 * slope, 0.0, 1.5]], rtol=1e-6)


def test_default_slope_is_the_papers():
    layer = make_dcgan_discriminator(32, 1, 2).get_layer("disc_act_1")
    np.testing.assert_allclose(layer(np.array([[-1.0]], np.float32)), [[-0.2]], rtol=1e-6)


def test_initial_weights(paper_sized):
    generator, discriminator = paper_sized
    big_kernels = [
        # 4x4 -> 8x8: 5*5*512*256 = 3.3M values
        keras.ops.convert_to_numpy(of_type(generator, keras.layers.Conv2DTranspose)[0].kernel),
        weight(discriminator, "disc_conv_4/kernel"),
        keras.ops.convert_to_numpy(of_type(generator, keras.layers.Dense)[0].kernel),
    ]
    for kernel in big_kernels:
        assert kernel.size > 800_000
        assert abs(kernel.mean()) < 1e-3
        assert kernel.std() == pytest.approx(0.02, rel=0.03)
    for model in paper_sized:
        bns = of_type(model, keras.layers.BatchNormalization)
        gamma = np.concatenate([keras.ops.convert_to_numpy(bn.gamma) for bn in bns])
        assert gamma.mean() == pytest.approx(1.0, abs=0.005)
        assert 0.015 < gamma.std() < 0.025  # N(1, 0.02), not Keras' constant 1
        for layer in bns:
            np.testing.assert_array_equal(layer.beta, 0.0)
            np.testing.assert_array_equal(layer.moving_mean, 0.0)
            np.testing.assert_array_equal(layer.moving_variance, 1.0)
    # Biases start at zero.
    np.testing.assert_array_equal(weight(discriminator, "disc_conv_1/bias"), 0.0)


def test_layers_draw_different_initial_weights(paper_sized):
    # One initialiser object shared between layers would give them all the same draws.
    heads = []
    for model in paper_sized:
        heads.append(
            [
                keras.ops.convert_to_numpy(bn.gamma)[:64]
                for bn in of_type(model, keras.layers.BatchNormalization)
            ]
        )
        heads.append(
            [
                keras.ops.convert_to_numpy(w).ravel()[:100]
                for w in model.trainable_weights
                if w.path.endswith("kernel")
            ]
        )
    for group in heads:
        assert len(group) >= 3
        for a, b in itertools.combinations(group, 2):
            assert not np.allclose(a, b)


def test_generator_output_in_range():
    generator, _ = build(image_size=32, channels=3, width=8)
    # Large noise drives tanh into saturation, where a missing tanh would show.
    noise = 50 * np.random.default_rng(1).normal(size=(4, 100)).astype(np.float32)
    for training in (False, True):
        images = keras.ops.convert_to_numpy(generator(noise, training=training))
        assert images.dtype == np.float32
        assert np.all(np.abs(images) <= 1.0)
        assert images.std() > 0


def test_same_seed_same_weights():
    def weights(seed):
        keras.utils.set_random_seed(seed)
        return [w for model in build(**SMALL) for w in model.get_weights()]

    first, again, other = weights(5), weights(5), weights(6)
    assert len(first) == len(again)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    # A different seed changes every randomly drawn array.
    drawn = [(a, b) for a, b in zip(first, other, strict=True) if a.std() > 0]
    assert drawn and all(not np.array_equal(a, b) for a, b in drawn)


def test_float32_outputs_under_mixed_precision():
    policy = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        generator, discriminator = build(**SMALL)
    finally:
        keras.mixed_precision.set_dtype_policy(policy)
    assert of_type(generator, keras.layers.Conv2DTranspose)[0].compute_dtype == "float16"
    assert generator.output.dtype == "float32"
    assert discriminator.output.dtype == "float32"


@pytest.mark.parametrize(
    ("make", "kwargs", "match"),
    [
        (upsamplings, {"image_size": 48}, "image_size must be one of 32, 64, 128, got 48"),
        (make_dcgan_generator, {"image_size": 28}, "image_size must be one of 32, 64, 128"),
        (make_dcgan_generator, {"image_size": 64.0}, "image_size must be one of 32, 64, 128"),
        (make_dcgan_generator, {"channels": 2}, "channels must be one of 1, 3, got 2"),
        (make_dcgan_generator, {"width": 0}, "width must be an integer >= 1, got 0"),
        (make_dcgan_generator, {"noise_dim": 0}, "noise_dim must be an integer >= 1"),
        (make_dcgan_generator, {"noise_dim": True}, "noise_dim must be an integer >= 1"),
        (make_dcgan_discriminator, {"image_size": 256}, "image_size must be one of 32, 64, 128"),
        (make_dcgan_discriminator, {"channels": 4}, "channels must be one of 1, 3, got 4"),
        (make_dcgan_discriminator, {"width": -1}, "width must be an integer >= 1"),
        (make_dcgan_discriminator, {"activation": "tanh"}, "relu, leaky_relu"),
        (make_dcgan_discriminator, {"alpha": -0.1}, "alpha"),
        (make_dcgan_discriminator, {"dropout": 1.0}, r"dropout must be a rate in \[0, 1\)"),
        (make_dcgan_discriminator, {"dropout": -0.1}, "dropout"),
    ],
)
def test_bad_arguments(make, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(**kwargs)
