"""The training step: updates both networks, pairs each real batch with as many fakes,
never retraces, and the single discriminator call equals the tutorial's two."""

import numpy as np
import pytest
import tensorflow as tf

from benchmarks.tutorial import make_tutorial_train_step
from gan_tf.config import Config
from gan_tf.models import make_discriminator_model, make_generator_model
from gan_tf.step import make_train_step, make_train_steps
from gan_tf.training import loop
from gan_tf.training.build import dtype_policy, make_optimizers

NOISE_DIM = 8


def _models(dropout=0.3, mixed_precision="off", seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    config = Config(mixed_precision=mixed_precision)
    with dtype_policy(mixed_precision):
        generator = make_generator_model(NOISE_DIM)
        discriminator = make_discriminator_model(dropout=dropout)
        optimizers = make_optimizers(config, generator, discriminator)
    return generator, discriminator, *optimizers


def _batch(n, seed=0):
    rng = np.random.default_rng(seed)
    images = tf.constant(rng.uniform(-1, 1, (n, 28, 28, 1)), tf.float32)
    noise = tf.constant(rng.normal(size=(n, NOISE_DIM)), tf.float32)
    return images, noise


def _weights(*models):
    return [w.numpy().copy() for m in models for w in m.trainable_weights]


def test_one_step_changes_both_networks():
    generator, discriminator, *optimizers = _models()
    train_step = make_train_step(generator, discriminator, *optimizers, NOISE_DIM)
    before_g, before_d = _weights(generator), _weights(discriminator)
    losses = train_step(*_batch(4))
    assert set(losses) == {"gen_loss", "disc_loss"}
    assert all(np.isfinite(float(v)) for v in losses.values())
    for before, model in ((before_g, generator), (before_d, discriminator)):
        after = _weights(model)
        assert all(not np.array_equal(b, a) for b, a in zip(before, after, strict=True))


def test_smaller_last_batch_does_not_retrace():
    generator, discriminator, *optimizers = _models()
    train_step = make_train_step(generator, discriminator, *optimizers, NOISE_DIM)
    for n in (8, 8, 3, 8):  # full, full, the epoch's short last batch, next epoch
        train_step(*_batch(n))
    assert train_step.experimental_get_tracing_count() == 1


@pytest.mark.parametrize(("fused", "calls"), [(False, [3, 3]), (True, [6])])
def test_fakes_match_real_batch_size(fused, calls):
    # The tutorial draws BATCH_SIZE fakes even for a 96-image last batch; here
    # D sees as many fakes as real images.
    generator, discriminator, *optimizers = _models()
    seen = []
    original_call = discriminator.call

    def spy(inputs, *args, **kwargs):
        seen.append(inputs.shape[0])
        return original_call(inputs, *args, **kwargs)

    discriminator.call = spy
    step = make_train_step(generator, discriminator, *optimizers, NOISE_DIM, fused=fused)
    step.python_function(*_batch(3))
    assert seen == calls


@pytest.mark.parametrize("fused", [False, True])
def test_step_equals_the_tutorials(fused):
    """gan_tf's step, given the same noise, equals `benchmarks.tutorial`'s (the tutorial's own).

    Also fused: without dropout, D(concat(real, fake)) is exactly D(real), D(fake).
    """
    images, noise = _batch(6)
    ours = _models(dropout=0.0)
    our_losses = make_train_step(*ours, NOISE_DIM, fused=fused)(images, noise)

    tutorials = _models(dropout=0.0)
    tutorial_step = make_tutorial_train_step(
        *tutorials, batch_size=len(images), noise_dim=NOISE_DIM
    )
    tutorial_losses = tutorial_step(images, noise)
    for name in ("gen_loss", "disc_loss"):
        assert float(our_losses[name]) == pytest.approx(float(tutorial_losses[name]), rel=1e-5)
    for a, b in zip(_weights(*ours[:2]), _weights(*tutorials[:2]), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_several_steps_per_call_equal_single_steps():
    batches = [_batch(4, seed) for seed in range(3)]
    single = _models(dropout=0.0)
    step = make_train_step(*single, NOISE_DIM)
    expected = [step(*b) for b in batches]
    several = _models(dropout=0.0)
    train_steps = make_train_steps(*several)
    iterator = iter(tf.data.Dataset.from_tensor_slices(
        tuple(tf.stack(x) for x in zip(*batches, strict=True))
    ))  # fmt: skip
    sums = train_steps(iterator, tf.constant(3))
    assert float(sums["gen_loss"]) == pytest.approx(
        sum(float(e["gen_loss"]) for e in expected), rel=1e-5
    )
    for a, b in zip(_weights(*single[:2]), _weights(*several[:2]), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# Without XLA here: it compiles for tens of seconds on a CPU. XLA with mixed precision is
# trained by the loop in test_train.py::test_float16_xla_and_several_steps_per_call.
@pytest.mark.parametrize("mixed_precision", ["bfloat16", "float16"])
def test_mixed_precision_steps_are_finite(mixed_precision):
    generator, discriminator, *optimizers = _models(mixed_precision=mixed_precision)
    assert generator.layers[1].compute_dtype == mixed_precision  # the Dense layer
    assert generator.output.dtype == "float32"  # images and losses stay float32
    train_steps = make_train_steps(generator, discriminator, *optimizers)
    dataset = tf.data.Dataset.from_tensors(_batch(8)).repeat(3)
    sums = train_steps(iter(dataset), tf.constant(3))
    assert all(np.isfinite(float(v)) for v in sums.values())


def test_training_never_retraces(tmp_path, npz_path):
    made = []

    def spy(train_steps):
        made.append(train_steps)
        return train_steps

    # 48 images at batch 20: two full batches and a short one each epoch.
    config = Config(
        data=str(npz_path), out_dir=str(tmp_path / "run"), epochs=3, batch_size=20,
        noise_dim=NOISE_DIM, probe_size=8,
    )  # fmt: skip
    loop.train(config, verbose=0, wrap_train_steps=spy)
    assert made[0].experimental_get_tracing_count() == 1
