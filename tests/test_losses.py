"""Loss values on logits whose cross-entropy is known in closed form."""

import math

import numpy as np
import pytest

from gan_tf.losses import discriminator_loss, generator_loss


def test_undecided_discriminator():
    zeros = np.zeros((4, 1), np.float32)  # D says 50/50 to everything
    assert float(generator_loss(zeros)) == pytest.approx(math.log(2), rel=1e-6)
    assert float(discriminator_loss(zeros, zeros)) == pytest.approx(2 * math.log(2), rel=1e-6)


def test_confident_discriminator():
    real = np.full((4, 1), 20.0, np.float32)
    fake = np.full((4, 1), -20.0, np.float32)
    assert float(discriminator_loss(real, fake)) == pytest.approx(0.0, abs=1e-6)
    # softplus(20): G is told it is losing badly.
    assert float(generator_loss(fake)) == pytest.approx(20.0, rel=1e-6)


def test_known_logits_mean_over_batch():
    real = np.array([[1.0], [-1.0]], np.float32)
    fake = np.array([[0.5], [2.0]], np.float32)

    def softplus(x):
        return math.log1p(math.exp(x))

    # BCE(1, l) = softplus(-l); BCE(0, l) = softplus(l)
    expected_d = (softplus(-1) + softplus(1)) / 2 + (softplus(0.5) + softplus(2)) / 2
    expected_g = (softplus(-0.5) + softplus(-2)) / 2
    assert float(discriminator_loss(real, fake)) == pytest.approx(expected_d, rel=1e-5)
    assert float(generator_loss(fake)) == pytest.approx(expected_g, rel=1e-5)
