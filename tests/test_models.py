"""The tutorial's networks: parameter counts, shapes, and the swappable activation."""

import warnings

import numpy as np
import pytest

from gan_tf.models import make_discriminator_model, make_generator_model

# The tutorial's model.summary() totals.
GENERATOR_PARAMS = 2_330_944
DISCRIMINATOR_PARAMS = 212_865


def test_generator_matches_tutorial():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no Keras warnings at build time
        generator = make_generator_model()
    assert generator.count_params() == GENERATOR_PARAMS
    assert generator.output_shape == (None, 28, 28, 1)
    images = generator(np.random.default_rng(0).normal(size=(3, 100)), training=False)
    assert images.shape == (3, 28, 28, 1)
    assert np.all(np.abs(images) <= 1.0)  # tanh output


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_discriminator_matches_tutorial(activation):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        discriminator = make_discriminator_model(activation)
    # Activations have no weights: the count is the tutorial's either way.
    assert discriminator.count_params() == DISCRIMINATOR_PARAMS
    assert discriminator.output_shape == (None, 1)
    assert discriminator(np.zeros((2, 28, 28, 1)), training=False).shape == (2, 1)


@pytest.mark.parametrize(
    ("activation", "alpha", "slope"),
    [
        ("relu", 0.3, 0.0),
        ("leaky_relu", 0.3, 0.3),
        ("leaky_relu", 0.2, 0.2),
        ("leaky_relu", 0.01, 0.01),
    ],
)
def test_activation_slope_on_negatives(activation, alpha, slope):
    discriminator = make_discriminator_model(activation, alpha)
    for name in ("disc_act_1", "disc_act_2"):
        layer = discriminator.get_layer(name)
        x = np.array([[-2.0, -0.5, 0.0, 1.5]], np.float32)
        np.testing.assert_allclose(layer(x), [[-2.0 * slope, -0.5 * slope, 0.0, 1.5]], rtol=1e-6)


def test_default_alpha_is_keras_default():
    layer = make_discriminator_model().get_layer("disc_act_1")
    np.testing.assert_allclose(layer(np.array([[-1.0]], np.float32)), [[-0.3]], rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"activation": "tanh"}, "relu, leaky_relu"), ({"alpha": -0.1}, "alpha")],
)
def test_bad_activation_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_discriminator_model(**kwargs)
