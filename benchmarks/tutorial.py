"""The TensorFlow DCGAN tutorial's own training code, kept as a reference to hold gan_tf against.

The tutorial (https://www.tensorflow.org/tutorials/generative/dcgan) trains with a
`train_step` that closes over its models, optimizers and global `BATCH_SIZE`, a
`from_tensor_slices().shuffle().batch()` dataset, and a Python loop over that dataset
that draws a progress grid after each epoch and saves a checkpoint every 15. This
module writes that code out once, as small functions, so that tests/test_step.py
can check gan_tf's step against it and benchmarks/ can time gan_tf against it. The
code follows the tutorial's, published by the TensorFlow Authors under the Apache
License 2.0 (see NOTICE); the comments are ours.

It keeps, on purpose, what gan_tf does differently:

- the noise has the global `BATCH_SIZE` rows whatever the batch holds, so an
  epoch's short last batch (96 images at batch 256) meets 256 fakes, and the step
  traces again for that batch's shape;
- the dataset holds float32 images, is not prefetched, and keeps tf.data's default
  options (the autotuner on; gan_tf turns it off, see `gan_tf.data.pipeline_options`);
- the progress grid is a matplotlib figure of 4 x 4 subplots, and only every 15th
  epoch is checkpointed.

Not for training runs: use `gan_tf.training.loop.train`.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from gan_tf.data import scale_images
from gan_tf.losses import discriminator_loss, generator_loss
from gan_tf.models import make_discriminator_model, make_generator_model
from gan_tf.rundir import frame_name

# The tutorial's settings, under its names.
BUFFER_SIZE = 60000
BATCH_SIZE = 256
EPOCHS = 50
NOISE_DIM = 100
NUM_EXAMPLES_TO_GENERATE = 16
LEARNING_RATE = 1e-4
CHECKPOINT_EVERY = 15


def make_tutorial_models(noise_dim: int = NOISE_DIM):
    """The tutorial's two networks and its two `Adam(1e-4)` optimizers, float32.

    The optimizers are left unbuilt, as in the tutorial: they build their slots on
    the first `apply_gradients`, inside the first traced step.

    Returns:
        (generator, discriminator, generator_optimizer, discriminator_optimizer).
    """
    return (
        make_generator_model(noise_dim),
        make_discriminator_model(),
        keras.optimizers.Adam(LEARNING_RATE),
        keras.optimizers.Adam(LEARNING_RATE),
    )


def make_tutorial_train_step(
    generator,
    discriminator,
    generator_optimizer,
    discriminator_optimizer,
    batch_size: int = BATCH_SIZE,
    noise_dim: int = NOISE_DIM,
):
    """The tutorial's `train_step`: one update of both networks from a batch of real images.

    Args:
        generator, discriminator, generator_optimizer, discriminator_optimizer: the
            models and optimizers the step closes over, as the tutorial's globals.
        batch_size: the tutorial's `BATCH_SIZE`: rows of noise drawn per step,
            whatever the number of real images.
        noise_dim: length of a noise vector.

    Returns:
        `train_step(images, noise=None) -> {"gen_loss", "disc_loss"}`, a `tf.function`.
        Without `noise` it draws `tf.random.normal([batch_size, noise_dim])` as the
        tutorial does; a test passes its own noise to compare the math. The tutorial's
        step returns nothing; the losses are returned so a caller can wait on the step
        (reading one waits for the device).
    """

    @tf.function
    def train_step(images, noise=None):
        if noise is None:  # a Python choice, fixed when the step is traced
            noise = tf.random.normal([batch_size, noise_dim])
        # Two tapes, one per network, as the tutorial records them.
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            # Two discriminator calls: (B, 28, 28, 1) -> (B, 1), then the fakes.
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)
            gen_loss = generator_loss(fake_output)
            disc_loss = discriminator_loss(real_output, fake_output)
        gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(
            disc_loss, discriminator.trainable_variables
        )
        generator_optimizer.apply_gradients(
            zip(gradients_of_generator, generator.trainable_variables, strict=True)
        )
        discriminator_optimizer.apply_gradients(
            zip(gradients_of_discriminator, discriminator.trainable_variables, strict=True)
        )
        return {"gen_loss": gen_loss, "disc_loss": disc_loss}

    return train_step


def make_tutorial_dataset(
    images: np.ndarray,
    batch_size: int = BATCH_SIZE,
    buffer_size: int = BUFFER_SIZE,
    seed: int | None = None,
) -> tf.data.Dataset:
    """The tutorial's `train_dataset`: float images in [-1, 1], shuffled, batched.

    Args:
        images: uint8 (N, 28, 28), as `gan_tf.data.load_data` returns them.
        batch_size: images per batch; the last batch holds the rest.
        buffer_size: the shuffle buffer (the tutorial's 60000: all of MNIST).
        seed: the shuffle's seed (the tutorial gives none). The order changes
            with each pass over the dataset.

    Returns:
        A dataset of float32 (B, 28, 28, 1) batches: no prefetch, tf.data's default
        options.
    """
    # The whole set as float32 (N, 28, 28, 1) in memory: 188 MB for MNIST.
    train_images = scale_images(images)
    return (
        tf.data.Dataset.from_tensor_slices(train_images)
        .shuffle(buffer_size, seed=seed)
        .batch(batch_size)
    )


def train_epoch(train_step, dataset) -> None:
    """The tutorial's epoch: one `train_step` call per batch, in a Python loop."""
    for image_batch in dataset:
        train_step(image_batch)


def generate_and_save_images(model, epoch: int, test_input, out_dir: str | Path) -> Path:
    """The tutorial's progress image: 16 samples as a 4 x 4 matplotlib figure, saved as PNG.

    Drawn on a `Figure` of its own (not pyplot's global state), so nothing is left open.

    Args:
        model: the generator.
        epoch: names the file, image_at_epoch_NNNN.png.
        test_input: the fixed noise (the tutorial's `seed`), (16, noise_dim).
        out_dir: the folder to write to.

    Returns:
        The PNG's path.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # training=False: BatchNorm uses its moving statistics.
    predictions = model(test_input, training=False)
    fig = Figure(figsize=(4, 4))
    FigureCanvasAgg(fig)
    for i in range(predictions.shape[0]):
        ax = fig.add_subplot(4, 4, i + 1)
        ax.imshow(predictions[i, :, :, 0] * 127.5 + 127.5, cmap="gray")
        ax.axis("off")
    path = Path(out_dir) / frame_name(epoch)
    fig.savefig(path)
    return path


def make_tutorial_checkpoint(
    generator, discriminator, generator_optimizer, discriminator_optimizer
) -> tf.train.Checkpoint:
    """The tutorial's checkpoint: both networks and both optimizers."""
    return tf.train.Checkpoint(
        generator_optimizer=generator_optimizer,
        discriminator_optimizer=discriminator_optimizer,
        generator=generator,
        discriminator=discriminator,
    )


def tutorial_epoch(
    epoch: int,
    dataset,
    train_step,
    generator,
    seed,
    checkpoint: tf.train.Checkpoint,
    out_dir: str | Path,
    checkpoint_every: int = CHECKPOINT_EVERY,
) -> None:
    """One pass of the body of the tutorial's `train(dataset, epochs)` loop.

    The steps over `dataset`, the progress image, and a checkpoint every
    `checkpoint_every` epochs (under OUT_DIR/training_checkpoints/ckpt-N).
    The tutorial also clears the notebook's output and prints the epoch's time;
    those are left to the caller.

    Args:
        epoch: the epoch's number, from 1.
        dataset: the batches of this epoch (`make_tutorial_dataset`, or a `.take(n)`).
        train_step: from `make_tutorial_train_step`.
        generator: the generator, for the progress image.
        seed: the fixed progress noise, (16, noise_dim).
        checkpoint: from `make_tutorial_checkpoint`.
        out_dir: where the progress images and checkpoints go.
        checkpoint_every: the tutorial's 15.
    """
    train_epoch(train_step, dataset)
    generate_and_save_images(generator, epoch, seed, out_dir)
    if epoch % checkpoint_every == 0:
        checkpoint.save(file_prefix=str(Path(out_dir) / "training_checkpoints" / "ckpt"))
