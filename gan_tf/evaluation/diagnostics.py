"""Dying-ReLU diagnostics: what the discriminator's hidden units do on a fixed probe batch.

Measured between epochs, in inference mode (dropout off, BatchNorm on its
moving statistics), never inside the training step. For each hidden layer L of
the discriminator (`disc_conv_L` feeds `disc_act_L`, through `disc_bn_L` in the DCGAN
paper's network; the pre-activation is what `disc_act_L` receives):

- `dead_channels_L`: fraction of channels whose pre-activation is <= 0 at every
  position for every probe image, real and generated: ReLU passes no gradient
  through such a channel, to D's weights or to the generator;
- `dead_units_L`: the same per unit (channel x position);
- `negative_L`: fraction of all pre-activations <= 0 (where ReLU's derivative is 0);
- `act_grad_disc_L`, `act_grad_gen_L`: mean |d loss / d pre-activation| for D's
  and G's loss, per probe image (losses summed, not averaged, over the batch);

and for the generator: `gen_image_grad_norm`, the mean per-image L2 norm of
d gen_loss / d G(z) (the signal that reaches G), `gen_weight_grad_norm`, the
global norm of d gen_loss / d G's weights; plus `d_real` and `d_fake`, D's mean
probability of "real" on real and generated probe images.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from gan_tf.data import scale_images
from gan_tf.dcgan import hidden_layer_names
from gan_tf.losses import discriminator_loss, generator_loss
from gan_tf.rundir import D_FAKE, D_REAL, GEN_WEIGHT_GRAD, GRAD_TO_G, layer_column


def probe_batch(images: np.ndarray, size: int, noise_dim: int, seed: int):
    """The fixed probe: `size` training images and `size` noise vectors, chosen by `seed`.

    Args:
        images: uint8 (N, H, W) or (N, H, W, C) training images.
        size: probe images of each kind (capped at N for the real ones).
        noise_dim: the generator's noise length.
        seed: the run's seed; the same seed gives every variant the same probe.

    Returns:
        (real float32 (size, H, W, C) in [-1, 1], noise float32 (size, noise_dim)).
    """
    rng = np.random.default_rng([seed, 3])
    index = rng.choice(len(images), size=min(size, len(images)), replace=False)
    real = scale_images(images[np.sort(index)])
    noise = rng.standard_normal((size, noise_dim), dtype=np.float32)
    return tf.constant(real), tf.constant(noise)


def make_diagnose(generator: keras.Model, discriminator: keras.Model):
    """Builds `diagnose(real_images, noise) -> (scalars, pre_activations)` for these models.

    Returns:
        A `tf.function` giving a dict of scalar tensors (names in the module
        docstring) and a dict {layer name: pre-activation tensor (2P, H, W, C)},
        real images first.
    """
    layers = [
        layer for layer in discriminator.layers if not isinstance(layer, keras.layers.InputLayer)
    ]
    names = hidden_layer_names(discriminator)
    # {"disc_act_L": "disc_conv_L"}: the activation whose input is layer L's pre-activation.
    activation_of = {name.replace("conv", "act"): name for name in names}

    @tf.function
    def diagnose(real_images, noise):
        n_real = tf.shape(real_images)[0]
        n_fake = tf.shape(noise)[0]
        with tf.GradientTape(persistent=True) as tape:
            generated_images = generator(noise, training=False)
            x = tf.concat([real_images, generated_images], 0)
            pre_activations = {}
            # Run D layer by layer to keep its hidden pre-activations on the tape.
            for layer in layers:
                if layer.name in activation_of:
                    pre_activations[activation_of[layer.name]] = x
                x = layer(x, training=False)
            real_output, fake_output = x[:n_real], x[n_real:]
            # Per-image sums, so gradient sizes do not shrink with the probe size.
            disc_loss = discriminator_loss(real_output, fake_output) * tf.cast(n_real, tf.float32)
            gen_loss = generator_loss(fake_output) * tf.cast(n_fake, tf.float32)
        scalars = {
            D_REAL: tf.reduce_mean(tf.sigmoid(real_output)),
            D_FAKE: tf.reduce_mean(tf.sigmoid(fake_output)),
        }
        pres = [pre_activations[name] for name in names]
        # One backward pass per loss, for every target at once (not one per target).
        disc_grads = tape.gradient(disc_loss, pres)
        n = len(pres)
        targets = [*pres, generated_images, *generator.trainable_variables]
        grads = tape.gradient(gen_loss, targets)
        gen_grads, image_grads, weight_grads = grads[:n], grads[n], grads[n + 1 :]
        del tape
        for i, (pre, disc_grad, gen_grad) in enumerate(
            zip(pres, disc_grads, gen_grads, strict=True), start=1
        ):
            fired = tf.reduce_any(pre > 0, axis=0)  # (H, W, C): positive for some image
            scalars[layer_column("dead_channels", i)] = 1 - tf.reduce_mean(
                tf.cast(tf.reduce_any(fired, axis=[0, 1]), tf.float32)
            )
            scalars[layer_column("dead_units", i)] = 1 - tf.reduce_mean(tf.cast(fired, tf.float32))
            scalars[layer_column("negative", i)] = tf.reduce_mean(tf.cast(pre <= 0, tf.float32))
            scalars[layer_column("act_grad_disc", i)] = tf.reduce_mean(tf.abs(disc_grad))
            scalars[layer_column("act_grad_gen", i)] = tf.reduce_mean(tf.abs(gen_grad))
        # image_grads: (P, H, W, C)
        scalars[GRAD_TO_G] = tf.reduce_mean(
            tf.sqrt(tf.reduce_sum(tf.square(image_grads), axis=[1, 2, 3]))
        )
        scalars[GEN_WEIGHT_GRAD] = tf.linalg.global_norm(weight_grads) / tf.cast(n_fake, tf.float32)
        return scalars, pre_activations

    return diagnose
