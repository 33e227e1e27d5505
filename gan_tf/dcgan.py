"""The DCGAN paper's generator and discriminator, for 32, 64 and 128 pixel images.

Radford, Metz and Chintala, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks" (2015),
https://arxiv.org/abs/1511.06434. The tutorial's networks in `gan_tf.models`
are a small 28x28 cousin of these; this module follows the paper's recipe:
strided (transposed) convolutions instead of pooling, BatchNorm in both
networks except the generator's output and the discriminator's input layer,
ReLU in the generator with tanh at the end, and LeakyReLU (slope 0.2) in the
discriminator.

Both networks grow with the image: `upsamplings(image_size)` stride-2 layers
take a 4x4 map to the full size, so 64 px images use four, as in the paper's
Figure 1. The discriminator's layers are named like the tutorial's
(`disc_conv_i`, `disc_act_i`), so `hidden_layer_names` finds them in either.
"""

from __future__ import annotations

import numbers
import re

import keras
from keras import layers

from gan_tf.models import make_activation

IMAGE_SIZES = (32, 64, 128)
CHANNELS = (1, 3)
# Every stride-2 layer doubles (or halves) the side, starting from this one.
BASE_SIZE = 4
# The paper's Figure 1 draws 5x5 kernels; pytorch/examples' dcgan uses 4x4, which
# tiles a stride-2 upsampling without the uneven overlap an odd kernel leaves.
KERNEL_SIZE = 5
# The paper initialises weights from N(0, 0.02) and says nothing about BatchNorm's
# scale; pytorch/examples' weights_init draws gamma from N(1, 0.02) and sets beta to
# 0, and we do the same so the two ports start from the same kind of network.
WEIGHT_STDDEV = 0.02

_HIDDEN_NAME = re.compile(r"disc_conv_(\d+)")


def upsamplings(image_size: int) -> int:
    """How many stride-2 layers separate a 4x4 map from an `image_size` square image.

    Args:
        image_size: the image side in pixels, one of `IMAGE_SIZES`.

    Returns:
        log2(image_size / 4): 3 for 32 px, 4 for 64 px, 5 for 128 px.

    Raises:
        ValueError: `image_size` is not one of `IMAGE_SIZES`.
    """
    _check_choice("image_size", image_size, IMAGE_SIZES)
    return (int(image_size) // BASE_SIZE).bit_length() - 1


def _is_int(value) -> bool:
    # bool is an int to Python, and 64.0 == 64, but neither makes a valid shape.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_choice(name: str, value, choices: tuple[int, ...]) -> None:
    if not (_is_int(value) and value in choices):
        raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}")


def _check_positive_int(name: str, value) -> None:
    if not (_is_int(value) and value >= 1):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


# Fresh initialiser objects for every layer: an unseeded Keras 3 initialiser
# picks its seed once, when it is constructed (from the state that
# keras.utils.set_random_seed fixes), so one object shared between layers would
# hand them all the same draws.
def _layers_for(image_size: int, channels: int, width: int) -> int:
    """Checks the shape arguments both networks take; returns their stride-2 layer count."""
    n = upsamplings(image_size)
    _check_choice("channels", channels, CHANNELS)
    _check_positive_int("width", width)
    return n


def _kernel_init() -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(0.0, WEIGHT_STDDEV)


def _batch_norm(synchronized: bool = False, name: str | None = None) -> layers.Layer:
    # Momentum and epsilon stay at Keras' defaults, as in gan_tf.models; the paper
    # gives neither.
    return layers.BatchNormalization(
        synchronized=synchronized,
        gamma_initializer=keras.initializers.RandomNormal(1.0, WEIGHT_STDDEV),
        beta_initializer="zeros",
        name=name,
    )


def make_dcgan_generator(
    noise_dim: int = 100,
    image_size: int = 64,
    channels: int = 3,
    width: int = 64,
    synchronized: bool = False,
) -> keras.Model:
    """The paper's generator: noise (B, noise_dim) -> images (B, S, S, channels) in [-1, 1].

    The noise is projected to a 4x4 map with width * 2^(n-1) channels, n =
    `upsamplings(image_size)`, and every stride-2 transposed convolution then
    doubles the side and halves the channels. At 64 px that first map has
    8 * width channels: the paper's 4x4x1024 is width 128; pytorch/examples'
    default (ngf) is 64, which gives 4x4x512.

    Args:
        noise_dim: length of the input noise vector (paper: 100).
        image_size: output side in pixels, one of `IMAGE_SIZES`.
        channels: output channels, 1 (grey) or 3 (colour).
        width: channels of the last hidden layer; every earlier one doubles it.
        synchronized: BatchNorm statistics over the global batch under a
            tf.distribute strategy with several replicas (else each replica's
            share), as in `gan_tf.models.make_generator_model`.

    Returns:
        A functional `keras.Model` named "generator".

    Raises:
        ValueError: an argument outside its valid values (the message lists them).
    """
    n = _layers_for(image_size, channels, width)
    _check_positive_int("noise_dim", noise_dim)

    filters = width * 2 ** (n - 1)
    noise = keras.Input(shape=(noise_dim,), name="noise")
    # The projection is followed by BatchNorm, whose beta does a bias's job.
    x = layers.Dense(
        BASE_SIZE * BASE_SIZE * filters, use_bias=False, kernel_initializer=_kernel_init()
    )(noise)
    x = layers.Reshape((BASE_SIZE, BASE_SIZE, filters))(x)
    # BatchNorm per channel of the map, as the paper's "project and reshape" then
    # normalise does (not per unit of the flat projection).
    x = _batch_norm(synchronized)(x)
    x = layers.ReLU()(x)
    # state size. (B, 4, 4, width * 2^(n-1)); at 64 px (B, 4, 4, 8*width), which is
    # the paper's 4x4x1024 at width 128
    # At 64 px the loop below then gives
    #   (B, 8, 8, 4*width) -> (B, 16, 16, 2*width) -> (B, 32, 32, width)
    # and the output layer (B, 64, 64, channels).
    for _ in range(n - 1):
        filters //= 2
        x = layers.Conv2DTranspose(
            filters,
            KERNEL_SIZE,
            strides=2,
            padding="same",
            use_bias=False,  # BatchNorm's beta follows
            kernel_initializer=_kernel_init(),
        )(x)
        x = _batch_norm(synchronized)(x)
        x = layers.ReLU()(x)
        # state size. (B, 8 * 2^k, 8 * 2^k, width * 2^(n-2-k)) after step k = 0, 1, ...
    # No BatchNorm on the output, as the paper prescribes, so this layer keeps its
    # bias. float32 output even under a mixed-precision policy: images, losses and
    # saved samples stay exact.
    image = layers.Conv2DTranspose(
        channels,
        KERNEL_SIZE,
        strides=2,
        padding="same",
        use_bias=True,
        activation="tanh",
        kernel_initializer=_kernel_init(),
        dtype="float32",
    )(x)
    # state size. (B, image_size, image_size, channels)
    return keras.Model(noise, image, name="generator")


def make_dcgan_discriminator(
    image_size: int = 64,
    channels: int = 3,
    width: int = 64,
    activation: str = "leaky_relu",
    alpha: float = 0.2,
    dropout: float = 0.0,
    synchronized: bool = False,
) -> keras.Model:
    """The paper's discriminator: images (B, S, S, channels) -> real/fake logits (B, 1).

    n = `upsamplings(image_size)` stride-2 convolutions with width, 2 * width,
    ..., width * 2^(n-1) channels bring the image down to 4x4; a dense layer
    reads the flattened map. Layer i is `disc_conv_i`, then `disc_bn_i` (not on
    layer 1), then `disc_act_i`, then a dropout layer if `dropout` > 0.

    Args:
        image_size: input side in pixels, one of `IMAGE_SIZES`.
        channels: input channels, 1 (grey) or 3 (colour).
        width: channels of the first convolution; every later one doubles it.
        activation: the hidden activation, "leaky_relu" (paper) or "relu".
        alpha: LeakyReLU's negative slope (paper: 0.2; ignored for "relu").
        dropout: dropout rate after each activation, in [0, 1); the paper uses
            none (0), and then no dropout layers are built.
        synchronized: BatchNorm statistics over the global batch under a strategy with
            several replicas, as in `make_dcgan_generator`.

    Returns:
        A functional `keras.Model` named "discriminator".

    Raises:
        ValueError: an argument outside its valid values (the message lists them).
    """
    n = _layers_for(image_size, channels, width)
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a rate in [0, 1), got {dropout!r}")

    image = keras.Input(shape=(image_size, image_size, channels), name="image")
    x = image
    for i in range(1, n + 1):
        filters = width * 2 ** (i - 1)
        # The paper leaves BatchNorm off the first layer; that layer keeps its bias,
        # while the others leave the shift to BatchNorm's beta.
        normalised = i > 1
        x = layers.Conv2D(
            filters,
            KERNEL_SIZE,
            strides=2,
            padding="same",
            use_bias=not normalised,
            kernel_initializer=_kernel_init(),
            name=f"disc_conv_{i}",
        )(x)
        if normalised:
            x = _batch_norm(synchronized, name=f"disc_bn_{i}")(x)
        x = make_activation(activation, alpha, name=f"disc_act_{i}")(x)
        if dropout > 0:
            x = layers.Dropout(dropout, name=f"disc_dropout_{i}")(x)
        # state size. (B, S / 2^i, S / 2^i, width * 2^(i-1));
        # at 64 px: (B, 32, 32, width), (B, 16, 16, 2*width), (B, 8, 8, 4*width),
        # (B, 4, 4, 8*width)
    x = layers.Flatten()(x)
    # state size. (B, 4 * 4 * width * 2^(n-1))
    logit = layers.Dense(1, kernel_initializer=_kernel_init(), name="logit", dtype="float32")(x)
    # float32 logits for the loss, as in gan_tf.models
    return keras.Model(image, logit, name="discriminator")


def hidden_layer_names(discriminator: keras.Model) -> tuple[str, ...]:
    """The hidden convolutions of a gan_tf discriminator, first to last.

    Works for the tutorial's network (`gan_tf.models.make_discriminator_model`)
    and this module's alike, because both name them `disc_conv_1`, ...,
    `disc_conv_L`. In the tutorial's network each feeds `disc_act_i` directly;
    here, from layer 2 on, `disc_bn_i` sits between the two, so the input to
    `disc_act_i` is the BatchNorm output rather than the convolution's.

    Args:
        discriminator: a model built by either module.

    Returns:
        ("disc_conv_1", ..., "disc_conv_L"), ordered by layer number.

    Raises:
        ValueError: the model has no such layers, or their numbers skip one.
    """
    numbers_found = sorted(
        int(match.group(1))
        for layer in discriminator.layers
        if (match := _HIDDEN_NAME.fullmatch(layer.name))
    )
    if not numbers_found:
        raise ValueError(
            f"model {discriminator.name!r} has no disc_conv_1, disc_conv_2, ... layers: "
            "not a gan_tf discriminator"
        )
    expected = list(range(1, len(numbers_found) + 1))
    if numbers_found != expected:
        raise ValueError(
            f"model {discriminator.name!r} has hidden layers numbered {numbers_found}, "
            f"expected {expected}"
        )
    return tuple(f"disc_conv_{i}" for i in numbers_found)
