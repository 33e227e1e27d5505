"""The training loop: `train(config)` runs (or resumes) a DCGAN run in its run folder.

It checks the run folder and the data before writing anything, builds the
tutorial's models (`gan_tf.training.build`), resumes from the newest checkpoint
(`gan_tf.training.checkpoint`), and after each epoch writes, in this order, the epoch's
measurements and progress grid (`gan_tf.training.monitor`), a row of metrics.csv and a
checkpoint; at the end, or when stopped, the GIF and generator.keras. The math
lives in `gan_tf.step`, the file names in `gan_tf.rundir`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import tensorflow as tf

from gan_tf.config import Config
from gan_tf.data import (
    image_channels,
    load_run_data,
    make_dataset,
    steps_per_epoch,
    training_images,
)
from gan_tf.errors import ConfigError, RunDirError, TrainingInterrupted
from gan_tf.evaluation.sampling import save_generator
from gan_tf.files import remove_stale_temporaries
from gan_tf.images import make_gif
from gan_tf.rundir import RunDir
from gan_tf.step import make_train_steps
from gan_tf.training.build import Models, build_models, distribute, is_chief, make_strategy
from gan_tf.training.checkpoint import Checkpoints, EpochProgress, make_checkpoint
from gan_tf.training.monitor import EpochMonitor, StepWatch
from gan_tf.training.preflight import (
    check_run_dir,
    locked_run_dir,
    move_aside,
    remove_checkpoint_debris,
)
from gan_tf.training.signals import stop_requests


def _log(verbose: int, message: str) -> None:
    if verbose:
        print(message, flush=True)


def train(
    config: Config,
    verbose: int = 1,
    *,
    allow_changes: bool = False,
    restart: bool = False,
    models: Models | None = None,
    on_epoch_end: Callable[[int, dict], None] | None = None,
    wrap_train_steps: Callable[[Callable], Callable] | None = None,
) -> list[dict]:
    """Trains (or resumes) a DCGAN run in `config.out_dir`.

    Args:
        config: the run's settings.
        verbose: 0 silent, 1 a progress bar per epoch and a summary line.
        allow_changes: continue a run folder trained with other settings (batch size,
            learning rates, beta_1, seed, data); the change is recorded in config.json.
        restart: move an earlier run in the folder aside (to RUN_DIR.replaced-TIME) and
            start over, instead of continuing it.
        models: train these (`gan_tf.training.build.build_models(config)`, say, built and
            inspected in a notebook) instead of building fresh ones; they must match
            `config`'s architecture, and a checkpoint in the run folder is restored into
            them. Only under the default strategy.
        on_epoch_end: called as `on_epoch_end(epoch, row)` after each epoch's files are
            written (benchmarks time whole epochs with it).
        wrap_train_steps: called once with the compiled training function,
            `train_steps(iterator, n) -> losses`, and trained with what it returns: a hook
            to count, pause or alter calls (the tests stop runs at exact steps with it).

    Returns:
        The rows of metrics.csv, one per epoch trained so far (resumed ones included).

    Raises:
        RunDirError: the output folder cannot hold this run (also: disk full), or a path
            the run writes there is of the wrong kind (`RunDir.check_layout`).
        ConfigError: a setting does not fit: $TF_CONFIG for a multi-worker strategy, or a
            probe larger than the training images.
        gan_tf.errors.DataError: the data cannot be loaded, or (an `EvaluationError`) cannot
            serve the evaluation `eval_every` asks for.
        TrainingInterrupted: Ctrl-C or SIGTERM; a checkpoint was saved first.
        DivergenceError: a loss became NaN or infinite; the last checkpoint is untouched.
    """
    # Stored absolute, so the run reads the same files when resumed from another folder.
    config = config.with_absolute_paths()
    # A multi-worker strategy must exist before TensorFlow runs anything else.
    strategy = make_strategy(config.strategy)
    if models is not None and config.strategy != "default":
        raise ConfigError(
            f"must be 'default' for models built outside train(), got {config.strategy!r}",
            setting="strategy",
        )
    if not is_chief(strategy):
        # Every worker runs the same program; only the chief writes the run folder.
        task = strategy.cluster_resolver.task_id
        config = dataclasses.replace(config, out_dir=str(Path(config.out_dir) / f"worker-{task}"))
    run = RunDir(config.out_dir)
    # Check everything before writing anything: a bad flag or data file leaves no trace.
    preflight = check_run_dir(run, config, allow_changes, restart)
    data = load_run_data(config)
    images = training_images(data, config)
    if image_channels(images) != config.image_shape[-1]:
        # A grey folder (a folder's default is colour): stored, so that a resume builds the
        # same networks before it reads the images.
        config = dataclasses.replace(config, channels=image_channels(images))
    _check_probe_size(config, len(images), data.source)
    evaluator = None
    if config.eval_every:
        from gan_tf.evaluation.quality import make_evaluator

        evaluator = make_evaluator(data, config, verbose)
    with locked_run_dir(run) as lock_note:
        for note in filter(None, [lock_note, *preflight.notes]):
            _log(verbose, f"{run}: {note}")
        try:
            if preflight.earlier_run_to_move:
                _log(verbose, f"{run}: moved the earlier run's files to {move_aside(run)}")
            remove_stale_temporaries(run.path)
            remove_checkpoint_debris(run)
            with stop_requests() as stop:
                training = _Training(config, run, images, strategy, stop, verbose, models)
                # Restored before config.json is written: a checkpoint that does not fit
                # these models is refused with the folder as it was.
                resumed = training.checkpoints.restore()
                done = int(training.progress.epoch)
                if done >= config.epochs:  # nothing to train: nothing is written either
                    _log(verbose, f"{run} already holds {done} epochs; nothing to train")
                    return [row for row in run.read_metrics() if row["epoch"] <= done]
                run.write_config(config, preflight.changes)
                if wrap_train_steps is not None:
                    training.train_steps = wrap_train_steps(training.train_steps)
                return training.train(evaluator, on_epoch_end, resumed)
        except OSError as e:
            # Disk full or folder gone mid-run: every file is written atomically, so the
            # last good checkpoint, images and metrics are still in place; a half-written
            # checkpoint's temporary folder is not left to fill the disk further.
            with contextlib.suppress(OSError):
                remove_checkpoint_debris(run)
            reason = e.strerror or e
            # A failed rename names its target second: the file the run meant to write.
            where = e.filename2 or e.filename or run
            raise RunDirError(
                f"cannot write to {where} ({reason})", resumes=config.out_dir
            ) from None


def _check_probe_size(config: Config, count: int, source: str | None) -> None:
    """Refuses a probe larger than the training images: it draws `probe_size` distinct real
    images, as many as its generated ones.

    Raises:
        ConfigError: naming `probe_size`, the images there are and where they come from.
    """
    if config.probe_size <= count:
        return
    limited = f" (train_limit {config.train_limit})" if count == config.train_limit else ""
    raise ConfigError(
        f"must be at most the {count} training images{limited} of {source or 'the data'}, "
        f"got {config.probe_size}: the probe draws that many distinct real images",
        setting="probe_size",
    )


@dataclasses.dataclass
class Epoch:
    """One epoch of the run: its number, its length, and how far it has got."""

    number: int
    steps: int
    step: int = 0  # steps done; > 0 at the start only when resuming an interrupted epoch
    totals: dict = dataclasses.field(default_factory=dict)  # loss sums over those steps


class _Training:
    """The state of one `train` call: models, checkpoints, and the epoch loop over them."""

    def __init__(self, config, run: RunDir, images, strategy, stop: dict, verbose: int, models):
        self.config, self.run, self.images = config, run, images
        self.strategy, self.stop, self.verbose = strategy, stop, verbose
        if config.deterministic:
            tf.config.experimental.enable_op_determinism()
        self.models = models or build_models(config, strategy)
        self.progress = EpochProgress()
        self.checkpoints = Checkpoints(
            make_checkpoint(*self.models, self.progress), run, config.max_checkpoints
        )
        self.train_steps = make_train_steps(
            *self.models, strategy, jit_compile=config.jit_compile, fused=config.fused_discriminator
        )
        self.steps = steps_per_epoch(len(images), config, strategy.num_replicas_in_sync)

    def train(self, evaluator, on_epoch_end, resumed: str | None) -> list[dict]:
        """The epochs left, after `resumed` (the checkpoint restored, or None)."""
        config, run, progress = self.config, self.run, self.progress
        if resumed:
            _log(self.verbose, f"Resuming from {resumed} ({progress.describe()})")
        start = int(progress.epoch)
        history = [row for row in run.read_metrics() if row["epoch"] <= start]
        progress.check_resumable(self.steps, config.batch_size)
        # An interrupted run may have left progress images of epochs it never
        # checkpointed: they are redrawn, and must not slip into this run's GIF.
        for epoch, frame in run.frames().items():
            if epoch > start:
                frame.unlink()
        monitor = EpochMonitor(
            config, self.models.generator, self.models.discriminator, self.images, evaluator
        )
        try:
            for number in range(start + 1, config.epochs + 1):
                epoch = Epoch(number, self.steps, int(progress.step), progress.loss_sums())
                began, seconds = time.perf_counter(), progress.seconds
                self.run_epoch(epoch)
                seconds += time.perf_counter() - began
                if epoch.step < epoch.steps:  # stopped by a signal mid-epoch
                    where = f"at epoch {number}, step {epoch.step}/{epoch.steps}"
                    progress.pause(
                        number - 1,
                        epoch.step,
                        epoch.totals,
                        seconds,
                        epoch.steps,
                        config.batch_size,
                    )
                    raise self.interrupted(where)
                history.append(self.finish_epoch(epoch, seconds, monitor, history))
                if on_epoch_end:
                    on_epoch_end(number, history[-1])
                if self.stop["signal"] and number < config.epochs:
                    raise self.interrupted(f"after epoch {number}")
        finally:
            monitor.close()
        self.save_final()
        _log(self.verbose, f"Wrote {run.gif} and {run.generator}")
        return history

    def finish_epoch(self, epoch: Epoch, seconds: float, monitor, history: list) -> dict:
        """Measures and draws the epoch, then writes its metrics row and checkpoint."""
        config = self.config
        row = {
            "epoch": epoch.number,
            **{k: float(v) / epoch.steps for k, v in epoch.totals.items()},
        }
        row.update(seconds=seconds, steps=epoch.steps)
        self.progress.finish(epoch.number)
        row = monitor.on_epoch_end(epoch.number, row)
        self.run.write_metrics([*history, row])
        last = epoch.number == config.epochs
        self.save_checkpoint(keep=epoch.number % config.checkpoint_every == 0 or last)
        _log(
            self.verbose,
            f"Time for epoch {epoch.number} is {seconds:.1f} sec "
            f"(gen_loss {row['gen_loss']:.4f}, disc_loss {row['disc_loss']:.4f})",
        )
        return row

    def run_epoch(self, epoch: Epoch) -> None:
        """Runs the epoch's steps from `epoch.step`, adding to its loss sums, until its end
        or a stop request.

        Raises:
            DivergenceError: a loss became NaN or infinite.
        """
        config = self.config
        dataset = make_dataset(
            self.images,
            config.batch_size,
            config.seed,
            epoch.number,
            config.buffer_size,
            config.noise_dim,
        )
        iterator = iter(distribute(dataset.take(epoch.steps).skip(epoch.step), self.strategy))
        resumed = f" from step {epoch.step + 1}" if epoch.step else ""
        _log(self.verbose, f"Epoch {epoch.number}/{config.epochs}{resumed}")
        watch = StepWatch(epoch.number, epoch.steps, self.verbose, self.checkpoints.newest)
        while epoch.step < epoch.steps and not self.stop["signal"]:
            n = min(config.steps_per_call, epoch.steps - epoch.step)
            losses = self.train_steps(iterator, tf.constant(n))
            epoch.step += n
            epoch.totals = {k: epoch.totals[k] + losses[k] for k in epoch.totals}
            watch.add(epoch.step, n, losses, force=self.stop["signal"] is not None)
        watch.check()  # a stop can come between two checks

    def save_checkpoint(self, keep: bool = False) -> None:
        # Numbered by step, so a mid-epoch save sorts after the epoch before it.
        self.checkpoints.save(int(self.progress.epoch) * self.steps + int(self.progress.step), keep)

    def save_final(self) -> None:
        """The generator as it is now, and the GIF of the frames so far."""
        save_generator(self.models.generator, self.run.generator)
        if self.run.frames():
            with contextlib.suppress(FileNotFoundError):  # every frame unreadable: warned
                make_gif(self.run.path)

    def interrupted(self, where: str) -> TrainingInterrupted:
        self.save_checkpoint()
        self.save_final()
        message = f"{self.stop['signal']}: stopped {where}; checkpoint saved"
        return TrainingInterrupted(message, resumes=self.config.out_dir)
