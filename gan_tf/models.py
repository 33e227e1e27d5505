"""The tutorial's generator and discriminator, with a swappable hidden activation.

Layer names are fixed so that diagnostics can find the discriminator's
pre-activations (`disc_conv_1`, `disc_conv_2`) and activations (`disc_act_1`,
`disc_act_2`) in any saved model.
"""

from __future__ import annotations

import keras
from keras import layers

from gan_tf.config import ACTIVATIONS

IMAGE_SHAPE = (28, 28, 1)  # the tutorial's MNIST images; `channels=3` draws colour ones
# The discriminator's hidden convolutions, whose outputs feed the activation.
DISC_HIDDEN_LAYERS = ("disc_conv_1", "disc_conv_2")


def make_generator_model(
    noise_dim: int = 100, synchronized: bool = False, channels: int = 1
) -> keras.Model:
    """The tutorial's generator: noise (B, noise_dim) -> images (B, 28, 28, channels) in [-1, 1].

    Args:
        noise_dim: length of the input noise vector (tutorial: 100).
        channels: 1 (the tutorial's grey digits) or 3 (colour).
        synchronized: BatchNorm statistics over the global batch under a
            tf.distribute strategy with several replicas (else each replica's
            share), so the result equals one device's training.

    Returns:
        A functional `keras.Model` named "generator".
    """

    def batch_norm():
        return layers.BatchNormalization(synchronized=synchronized)

    noise = keras.Input(shape=(noise_dim,), name="noise")
    x = layers.Dense(7 * 7 * 256, use_bias=False)(noise)
    x = batch_norm()(x)
    x = layers.LeakyReLU()(x)
    x = layers.Reshape((7, 7, 256))(x)
    # state size. (B, 7, 7, 256)
    x = layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False)(x)
    x = batch_norm()(x)
    x = layers.LeakyReLU()(x)
    # state size. (B, 7, 7, 128)
    x = layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False)(x)
    x = batch_norm()(x)
    x = layers.LeakyReLU()(x)
    # state size. (B, 14, 14, 64)
    # float32 output even under a mixed-precision policy: images, losses and
    # saved samples stay exact.
    image = layers.Conv2DTranspose(
        channels, 5, strides=2, padding="same", use_bias=False, activation="tanh", dtype="float32"
    )(x)
    # state size. (B, 28, 28, channels)
    return keras.Model(noise, image, name="generator")


def make_activation(activation: str, alpha: float, name: str) -> layers.Layer:
    """The discriminator's hidden activation layer.

    Args:
        activation: "relu" or "leaky_relu".
        alpha: LeakyReLU's negative slope (ignored for "relu").
        name: the layer's name.

    Raises:
        ValueError: an unknown activation or a negative slope.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    if activation == "relu":
        return layers.ReLU(name=name)
    if not alpha >= 0:
        raise ValueError(f"alpha (LeakyReLU's negative slope) must be >= 0, got {alpha!r}")
    return layers.LeakyReLU(negative_slope=alpha, name=name)


def make_discriminator_model(
    activation: str = "leaky_relu", alpha: float = 0.3, dropout: float = 0.3, channels: int = 1
) -> keras.Model:
    """The tutorial's discriminator: images (B, 28, 28, channels) -> real/fake logits (B, 1).

    Args:
        activation: the hidden activation, "leaky_relu" (tutorial) or "relu".
        alpha: LeakyReLU's negative slope (tutorial: Keras' default 0.3).
        dropout: dropout rate after each activation (tutorial: 0.3).
        channels: the images' channels, 1 (tutorial) or 3.

    Returns:
        A functional `keras.Model` named "discriminator".

    Raises:
        ValueError: an unknown activation or a negative slope.
    """
    image = keras.Input(shape=(*IMAGE_SHAPE[:2], channels), name="image")
    x = layers.Conv2D(64, 5, strides=2, padding="same", name="disc_conv_1")(image)
    x = make_activation(activation, alpha, name="disc_act_1")(x)
    x = layers.Dropout(dropout)(x)
    # state size. (B, 14, 14, 64)
    x = layers.Conv2D(128, 5, strides=2, padding="same", name="disc_conv_2")(x)
    x = make_activation(activation, alpha, name="disc_act_2")(x)
    x = layers.Dropout(dropout)(x)
    # state size. (B, 7, 7, 128)
    x = layers.Flatten()(x)
    logit = layers.Dense(1, name="logit", dtype="float32")(x)  # float32 logits for the loss
    return keras.Model(image, logit, name="discriminator")
