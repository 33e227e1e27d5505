"""What is measured and drawn between epochs, in the spirit of keras-io's GANMonitor.

Per epoch: the progress grid from the fixed noise (the tutorial's `seed`), the
dying-ReLU diagnostics on a fixed probe batch, every `eval_every` epochs the
sample-quality figures, and TensorBoard scalars, pre-activation histograms and
the grid under RUN_DIR/tensorboard. Never inside the training step.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from gan_tf.config import Config
from gan_tf.errors import DivergenceError
from gan_tf.evaluation.diagnostics import make_diagnose, probe_batch
from gan_tf.images import grid_scale, image_grid, upscale, write_png
from gan_tf.rundir import RunDir

# TensorBoard's histogram op holds a (values x buckets) matrix: millions of values
# would cost GBs, a strided sample of this many does not.
HISTOGRAM_SAMPLES = 65536


def progress_noise(config: Config) -> tf.Tensor:
    """The tutorial's `seed`: fixed noise for the progress grid, a function of config.seed."""
    rng = np.random.default_rng([config.seed, 16])
    shape = (config.num_examples_to_generate, config.noise_dim)
    return tf.constant(rng.standard_normal(shape, dtype=np.float32))


class EpochMonitor:
    """Measures and draws the generator and discriminator after each epoch.

    Args:
        config: the run's settings (seed, probe size, evaluation period).
        generator, discriminator: the models being trained.
        images: uint8 training images, for the probe batch.
        evaluator: a `gan_tf.evaluation.quality.Evaluator` for `eval_every`, or None.
    """

    def __init__(self, config: Config, generator, discriminator, images, evaluator=None):
        self.config = config
        self.run = RunDir(config.out_dir)
        self.generator = generator
        self.evaluator = evaluator
        # The tutorial calls this fixed noise `seed`; here that word is the integer seed.
        self.progress_noise = progress_noise(config)
        self.probe = probe_batch(images, config.probe_size, config.noise_dim, config.seed)
        self.diagnose = make_diagnose(generator, discriminator)
        self.writer = tf.summary.create_file_writer(str(self.run.tensorboard))

    def measure(self, epoch: int, row: dict) -> tuple[dict, np.ndarray]:
        """Adds the epoch's diagnostics (and evaluation) to `row`; writes nothing.

        Returns:
            (row, the progress grid as a uint8 image).
        """
        config = self.config
        images = self.generator(self.progress_noise, training=False).numpy()
        grid = upscale(image_grid(images), grid_scale(images.shape[1]))
        scalars, self._pre_activations = self.diagnose(*self.probe)
        row.update({k: float(v) for k, v in scalars.items()})
        if self.evaluator and (epoch % config.eval_every == 0 or epoch == config.epochs):
            row.update(self.evaluator.metrics_row(self.generator, seed=config.seed))
        return row, grid

    def write(self, epoch: int, row: dict, grid: np.ndarray) -> None:
        """Writes the epoch's progress image and its TensorBoard summaries."""
        write_png(grid, self.run.frame(epoch))
        with self.writer.as_default(step=epoch):
            for name, value in row.items():
                if name != "epoch":
                    tf.summary.scalar(name, value)
            for name, pre in self._pre_activations.items():
                values = tf.reshape(pre, [-1])
                stride = max(1, int(values.shape[0]) // HISTOGRAM_SAMPLES)
                tf.summary.histogram(f"pre_activation/{name}", values[::stride])
            # (1, H, W, C): one picture, grey or colour.
            tf.summary.image("progress", grid[None, ..., None] if grid.ndim == 2 else grid[None])
        self.writer.flush()

    def on_epoch_end(self, epoch: int, row: dict) -> dict:
        """Measures, then writes the grid and TensorBoard; returns the completed row."""
        row, grid = self.measure(epoch, row)
        self.write(epoch, row, grid)
        return row

    def close(self) -> None:
        self.writer.close()


class StepWatch:
    """Watches an epoch's losses: a progress bar, and a check that they stay finite.

    Reading a loss waits for the device, so the losses are checked and shown a few
    times a second, not after every compiled call.

    Args:
        epoch: the epoch's number, for messages.
        steps: the epoch's length.
        verbose: 0 silent; 1 a live bar on a terminal (a log file gets the summary line).
        kept: returns the newest checkpoint on disk, named when training diverges.
    """

    def __init__(self, epoch: int, steps: int, verbose: int, kept: Callable[[], str | None]):
        self.epoch, self.kept = epoch, kept
        self.bar = 1 if verbose and sys.stdout.isatty() else 0
        self.progbar = keras.utils.Progbar(
            steps, verbose=self.bar, stateful_metrics=["gen_loss", "disc_loss"]
        )
        self.steps, self.window, self.last_sync = steps, [], time.perf_counter()

    def add(self, step: int, n: int, losses: dict, force: bool = False) -> None:
        """Records the loss sums of the `n` steps that ended at `step`."""
        self.window.append((step - n + 1, step, losses))
        now = time.perf_counter()
        if now - self.last_sync > 0.5 or step == self.steps or force:
            self.check()
            self.last_sync = now
            if self.bar:
                self.progbar.update(step, [(k, float(v) / n) for k, v in losses.items()])

    def check(self) -> None:
        """Raises DivergenceError naming the first call with a NaN or infinite loss."""
        for first, last, losses in self.window:
            for name, value in losses.items():
                if not math.isfinite(float(value)):
                    steps = f"step {first}" if first == last else f"steps {first}-{last}"
                    raise DivergenceError(
                        f"{name} became {float(value)} at epoch {self.epoch}, {steps}; stopped "
                        f"without saving that epoch (checkpoint kept: {self.kept() or 'none'}); "
                        "try a lower learning rate"
                    )
        self.window.clear()
