"""The tutorial's losses: binary cross-entropy on the discriminator's logits."""

from __future__ import annotations

import keras
import tensorflow as tf

cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)


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
