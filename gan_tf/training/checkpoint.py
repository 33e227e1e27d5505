"""Checkpoints: what a resumed run needs, where it is saved, and how it is restored.

A checkpoint holds both networks, both Adam optimizers (moments included), the
dropout layers' RNG states and an `EpochProgress`. The noise needs no state: it
is a function of (seed, epoch, step). Checkpoints are numbered by training step,
so a mid-epoch save sorts after the epoch before it. Two managers share the
folder: the kept checkpoints every `checkpoint_every` epochs (the tutorial's 15)
and at the end in checkpoints/, and one "latest" after every other epoch and on
interruption in checkpoints/latest/: a killed run loses at most the epoch it was in.
"""

from __future__ import annotations

import tensorflow as tf

from gan_tf.errors import Remedy, RunDirError
from gan_tf.rundir import RunDir, newest_checkpoint


class EpochProgress(tf.Module):
    """Where training stands, as checkpointed variables.

    `epoch` counts finished epochs. After an interruption mid-epoch, `step`
    counts the steps done of the next one and the loss sums and seconds cover
    them, so the resumed epoch skips those batches and its row of metrics.csv
    is the same as if it had never stopped.
    """

    def __init__(self):
        super().__init__(name="progress")
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.gen_loss_sum = tf.Variable(0.0, trainable=False, name="gen_loss_sum")
        self.disc_loss_sum = tf.Variable(0.0, trainable=False, name="disc_loss_sum")
        self.seconds_var = tf.Variable(0.0, dtype=tf.float64, trainable=False, name="seconds")
        # The epoch's length and batch size when it was interrupted: `step` counts in them.
        self.epoch_steps = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch_steps")
        self.batch_size = tf.Variable(0, dtype=tf.int64, trainable=False, name="batch_size")

    @property
    def seconds(self) -> float:
        return float(self.seconds_var)

    def loss_sums(self) -> dict:
        """The loss sums of the steps done of the current epoch, as tensors."""
        return {
            "gen_loss": self.gen_loss_sum.read_value(),
            "disc_loss": self.disc_loss_sum.read_value(),
        }

    def pause(self, epoch, step, totals, seconds, epoch_steps=0, batch_size=0) -> None:
        """Records a stop after `step` steps of epoch `epoch + 1`."""
        self.epoch.assign(epoch)
        self.step.assign(step)
        self.gen_loss_sum.assign(totals["gen_loss"])
        self.disc_loss_sum.assign(totals["disc_loss"])
        self.seconds_var.assign(seconds)
        self.epoch_steps.assign(epoch_steps)
        self.batch_size.assign(batch_size)

    def finish(self, epoch: int) -> None:
        """Records that `epoch` is complete."""
        self.pause(epoch, 0, {"gen_loss": 0.0, "disc_loss": 0.0}, 0.0)

    def check_resumable(self, epoch_steps: int, batch_size: int) -> None:
        """Refuses to finish an interrupted epoch whose batches would now differ.

        Raises:
            RunDirError: batch_size or max_steps_per_epoch changed mid-epoch.
        """
        if int(self.step) and (int(self.epoch_steps), int(self.batch_size)) != (
            epoch_steps,
            batch_size,
        ):
            same = Remedy(
                "finish it with the same {} and {}", ("batch_size", "max_steps_per_epoch")
            )
            raise RunDirError(
                f"the interrupted epoch ran {int(self.epoch_steps)} steps of batch "
                f"{int(self.batch_size)}",
                remedies=[same],
            )

    def describe(self) -> str:
        done = f"epoch {int(self.epoch)}"
        return f"{done}, step {int(self.step)} of the next" if int(self.step) else done


# Where a checkpoint keeps the finished epochs: `make_checkpoint`'s `progress` object, its
# `epoch` variable, as tf.train.Checkpoint names them in the file.
EPOCH_KEY = "progress/epoch/.ATTRIBUTES/VARIABLE_VALUE"


def _seed_states(model) -> list:
    # Keras keeps each Dropout's RNG state in a variable that tf.train.Checkpoint
    # does not see through the model; list them so a resumed run draws the
    # same dropout masks as one that never stopped.
    return [v.value for v in model.variables if v.path.endswith("seed_generator_state")]


def make_checkpoint(
    generator, discriminator, generator_optimizer, discriminator_optimizer, progress
) -> tf.train.Checkpoint:
    """Everything a resumed run needs: weights, Adam moments, dropout RNG states, progress.

    Args:
        generator, discriminator, generator_optimizer, discriminator_optimizer: as built.
        progress: the run's `EpochProgress`.

    Returns:
        A `tf.train.Checkpoint` of all of them (the layout every gan_tf version wrote).
    """
    return tf.train.Checkpoint(
        generator_optimizer=generator_optimizer,
        discriminator_optimizer=discriminator_optimizer,
        generator=generator,
        discriminator=discriminator,
        dropout_seeds=_seed_states(discriminator),
        progress=progress,
    )


class Checkpoints:
    """A run folder's checkpoints: the kept ones and the latest, saved and restored together.

    Args:
        checkpoint: from `make_checkpoint`.
        run: the run folder.
        max_to_keep: kept checkpoints (the latest is always one more).
    """

    def __init__(self, checkpoint: tf.train.Checkpoint, run: RunDir, max_to_keep: int):
        self.checkpoint = checkpoint
        self.run = run
        self._kept = tf.train.CheckpointManager(checkpoint, run.checkpoints, max_to_keep)
        self._latest = tf.train.CheckpointManager(checkpoint, run.latest_checkpoints, 1)

    def newest(self) -> str | None:
        """The newest checkpoint on disk now, or None."""
        return newest_checkpoint(m.latest_checkpoint for m in (self._kept, self._latest))

    def restore(self) -> str | None:
        """Restores the newest checkpoint, if any; returns its path.

        Raises:
            RunDirError: it exists but does not fit these models, or cannot be read.
        """
        path = self.newest()
        if path:
            try:
                self.checkpoint.restore(path).assert_existing_objects_matched()
            except (AssertionError, ValueError, IndexError, tf.errors.OpError) as e:
                message = str(e).splitlines()[0] if str(e) else type(e).__name__
                raise RunDirError(f"cannot restore {path}: {message}") from None
        return path

    def save(self, number: int, keep: bool = False) -> str:
        """Saves as checkpoint `number` (a step count): kept, or as the latest.

        Raises:
            OSError: TensorFlow could not write it (disk full, folder gone).
        """
        try:
            return (self._kept if keep else self._latest).save(checkpoint_number=number)
        except tf.errors.OpError as e:  # TensorFlow's own file errors, e.g. disk full
            raise OSError(None, e.message.splitlines()[0], str(self.run.checkpoints)) from None
