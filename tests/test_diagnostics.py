"""Dying-ReLU diagnostics on a discriminator whose dead channels we kill by hand."""

import keras
import numpy as np
import pytest

from gan_tf.evaluation.diagnostics import make_diagnose, probe_batch
from gan_tf.models import make_discriminator_model, make_generator_model

from conftest import make_images


def _probe(generator):
    # Noise images: on mostly-black digits some channels are dead by chance already.
    images = np.random.default_rng(0).integers(0, 256, (40, 28, 28)).astype(np.uint8)
    return probe_batch(images, size=16, noise_dim=8, seed=0)


def _kill_channels(generator, discriminator, layer, channels):
    """Lowers the first `channels` biases until those channels are <= -0.1 on the whole probe.

    The weights stay, so gradients still flow wherever the activation lets them.
    """
    real, noise = _probe(generator)
    images = np.concatenate([real, generator(noise, training=False)])
    pre = keras.Model(discriminator.input, discriminator.get_layer(layer).output)(images)
    peak = np.max(pre, axis=(0, 1, 2))
    kernel, bias = discriminator.get_layer(layer).get_weights()
    bias[:channels] -= peak[:channels] + 0.1
    discriminator.get_layer(layer).set_weights([kernel, bias])


@pytest.fixture(scope="module")
def generator():
    return make_generator_model(8)


def _diagnose(generator, discriminator):
    real, noise = _probe(generator)
    scalars, pre = make_diagnose(generator, discriminator)(real, noise)
    return {k: float(v) for k, v in scalars.items()}, pre


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_dead_channels_are_counted(generator, activation):
    discriminator = make_discriminator_model(activation, alpha=0.2)
    _kill_channels(generator, discriminator, "disc_conv_1", 16)  # 16 of 64
    _kill_channels(generator, discriminator, "disc_conv_2", 64)  # 64 of 128
    scalars, pre = _diagnose(generator, discriminator)
    assert scalars["dead_channels_1"] == pytest.approx(0.25)
    assert scalars["dead_channels_2"] == pytest.approx(0.5)
    assert scalars["dead_units_2"] >= 0.5
    assert 0.25 <= scalars["negative_1"] < 1
    assert pre["disc_conv_1"].shape == (32, 14, 14, 64)  # 16 real + 16 generated


def test_relu_blocks_the_gradient_that_leaky_relu_passes(generator):
    grads = {}
    for activation in ("relu", "leaky_relu"):
        discriminator = make_discriminator_model(activation, alpha=0.2)
        _kill_channels(generator, discriminator, "disc_conv_2", 128)  # all of layer 2 dead
        scalars, _ = _diagnose(generator, discriminator)
        assert scalars["dead_channels_2"] == 1.0
        grads[activation] = scalars
    # With every layer-2 unit dead, ReLU passes nothing back: not to D's first
    # layer, not to G's images. LeakyReLU passes alpha times the signal.
    assert grads["relu"]["act_grad_gen_2"] == 0.0
    assert grads["relu"]["act_grad_gen_1"] == 0.0
    assert grads["relu"]["gen_image_grad_norm"] == 0.0
    assert grads["leaky_relu"]["act_grad_gen_2"] > 0
    assert grads["leaky_relu"]["gen_image_grad_norm"] > 0


def test_healthy_discriminator(generator):
    scalars, _ = _diagnose(generator, make_discriminator_model())
    assert scalars["dead_channels_1"] == 0.0 and scalars["dead_channels_2"] == 0.0
    assert 0 < scalars["d_real"] < 1 and 0 < scalars["d_fake"] < 1
    assert np.isfinite(scalars["gen_weight_grad_norm"]) and scalars["gen_weight_grad_norm"] > 0


def test_probe_is_fixed_by_seed():
    images = make_images(40)
    a, b, c = (probe_batch(images, 8, 4, seed) for seed in (0, 0, 1))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    assert float(np.min(a[0])) >= -1 and float(np.max(a[0])) <= 1
