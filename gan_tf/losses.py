"""The tutorial's losses: binary cross-entropy on the discriminator's logits."""

from __future__ import annotations

import keras
import tensorflow as tf


def cross_entropy(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """The tutorial's `BinaryCrossentropy(from_logits=True)`: the mean over the batch.

    A plain mean on purpose: a Keras `Loss` object also divides by the number of
    replicas under tf.distribute, and the training step already weights each
    replica's share of the batch itself.
    """
    return tf.reduce_mean(keras.losses.binary_crossentropy(labels, logits, from_logits=True))


def discriminator_loss(real_output: tf.Tensor, fake_output: tf.Tensor) -> tf.Tensor:
    """How well D tells real (label 1) from fake (label 0).

    Args:
        real_output: D's logits on real images, (B, 1).
        fake_output: D's logits on generated images, (B, 1).

    Returns:
        A scalar: mean BCE on the real batch plus mean BCE on the fake batch.
    """
    real_loss = cross_entropy(tf.ones_like(real_output), real_output)
    fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
    return real_loss + fake_loss


def generator_loss(fake_output: tf.Tensor) -> tf.Tensor:
    """How well G fools D: BCE of D's logits on fakes against the "real" label.

    Args:
        fake_output: D's logits on generated images, (B, 1).

    Returns:
        A scalar mean BCE.
    """
    return cross_entropy(tf.ones_like(fake_output), fake_output)
