"""The training step: updates both networks, pairs each real batch with as many fakes."""

import numpy as np
import tensorflow as tf

from gan_tf.config import Config
from gan_tf.loop import make_optimizers
from gan_tf.models import make_discriminator_model, make_generator_model
from gan_tf.step import make_train_step


def _setup(noise_dim=8):
    generator = make_generator_model(noise_dim)
    discriminator = make_discriminator_model()
    generator_optimizer, discriminator_optimizer = make_optimizers(
        Config(), generator, discriminator
    )
    rng = tf.random.Generator.from_seed(0)
    step = make_train_step(
        generator, discriminator, generator_optimizer, discriminator_optimizer, noise_dim, rng
    )
    return generator, discriminator, step


def _images(n, seed=0):
    return tf.constant(np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28, 1)), tf.float32)


def test_one_step_changes_both_networks():
    generator, discriminator, train_step = _setup()
    before_g = [w.numpy().copy() for w in generator.trainable_weights]
    before_d = [w.numpy().copy() for w in discriminator.trainable_weights]
    losses = train_step(_images(4))
    assert set(losses) == {"gen_loss", "disc_loss"}
    assert all(np.isfinite(float(v)) for v in losses.values())
    for before, model in ((before_g, generator), (before_d, discriminator)):
        changed = [
            not np.array_equal(b, w.numpy())
            for b, w in zip(before, model.trainable_weights, strict=True)
        ]
        assert all(changed), f"{model.name}: some weights did not move"


def test_smaller_last_batch_does_not_retrace():
    _, _, train_step = _setup()
    for n in (8, 8, 3, 8):  # full, full, the epoch's short last batch, next epoch
        train_step(_images(n))
    assert train_step.experimental_get_tracing_count() == 1


def test_fakes_match_real_batch_size():
    # The tutorial draws BATCH_SIZE fakes even for a 96-image last batch; here
    # D sees exactly 2 * n images, half real and half fake.
    _, discriminator, train_step = _setup()
    seen = []
    original_call = discriminator.call

    def spy(inputs, *args, **kwargs):
        seen.append(inputs.shape[0])
        return original_call(inputs, *args, **kwargs)

    discriminator.call = spy
    train_step.python_function(_images(3))  # eager, so the spy sees concrete shapes
    assert seen == [6]
