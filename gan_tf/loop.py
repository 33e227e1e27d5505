"""Training orchestration: every file a run reads or writes is decided here.

`train(config)` loads the data, builds the tutorial's models and optimizers,
resumes from the run folder's last checkpoint if there is one, and after each
epoch writes the progress grid, a row of `metrics.csv` and (every
`checkpoint_every` epochs and at the end) a checkpoint; at the end it writes
`dcgan.gif` and `generator.keras`. The math lives in `gan_tf.step`.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import imageio.v3 as iio
import keras
import numpy as np
import tensorflow as tf

from gan_tf.config import ARCHITECTURE_FIELDS, CONFIG_NAME, Config, read_config
from gan_tf.data import load_data, make_dataset
from gan_tf.diagnostics import make_diagnose, probe_batch
from gan_tf.evaluate import METRIC_NAMES
from gan_tf.files import (
    LockedError,
    atomic_path,
    folder_lock,
    remove_stale_temporaries,
    write_text,
)
from gan_tf.generate import GENERATOR_NAME
from gan_tf.gif import FRAME_GLOB, GIF_NAME, frame_epoch, frame_name, make_gif
from gan_tf.images import save_image_grid
from gan_tf.models import make_discriminator_model, make_generator_model
from gan_tf.step import make_train_steps

METRICS_NAME = "metrics.csv"
HISTOGRAM_SAMPLES = 65536


class RunDirError(ValueError):
    """The output folder cannot hold this run; the message says why."""


def _architecture(config: Config) -> dict:
    arch = {name: getattr(config, name) for name in ARCHITECTURE_FIELDS}
    if config.activation == "relu":
        arch.pop("alpha")  # the slope means nothing to ReLU
    return arch


def check_out_dir(config: Config) -> None:
    """Checks, without writing anything, that the run folder can hold this run.

    Raises:
        RunDirError: the path is a file, not writable, or holds a run whose
            architecture differs from this one.
    """
    out_dir = Path(config.out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise RunDirError(f"--out-dir {out_dir} is a file, not a folder")
    existing = next(p for p in (out_dir, *out_dir.absolute().parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise RunDirError(f"cannot write to --out-dir {out_dir} ({existing} is not writable)")
    try:
        saved = read_config(out_dir)
    except ValueError as e:
        raise RunDirError(str(e)) from None
    if saved is not None and _architecture(saved) != _architecture(config):
        before = _architecture(saved)
        differences = ", ".join(
            f"{k}={before.get(k)!r} (this run: {v!r})"
            for k, v in _architecture(config).items()
            if before.get(k) != v
        )
        raise RunDirError(
            f"{out_dir} holds a run with a different architecture: {differences}; "
            "choose another --out-dir"
        )


def prepare_out_dir(config: Config) -> None:
    """Creates the run folder and saves the run's config in it.

    Raises:
        RunDirError: the folder cannot be created or written.
    """
    out_dir = Path(config.out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_text(out_dir / CONFIG_NAME, config.to_json())
    except OSError as e:
        raise RunDirError(f"cannot write to --out-dir {out_dir} ({e.strerror or e})") from None


def make_optimizers(config: Config, generator, discriminator):
    """The tutorial's two Adam optimizers, built so a checkpoint restores their moments.

    (keras-team/keras#19389: an unbuilt optimizer silently drops restored slots.)

    Args:
        config: learning rates, beta_1 and mixed precision.
        generator, discriminator: the models whose variables the optimizers update.

    Returns:
        (generator_optimizer, discriminator_optimizer), wrapped in loss scaling for float16.
    """
    generator_optimizer = keras.optimizers.Adam(config.gen_lr, beta_1=config.beta1)
    discriminator_optimizer = keras.optimizers.Adam(config.disc_lr, beta_1=config.beta1)
    if config.mixed_precision == "float16":
        # float16 gradients underflow without a dynamic loss scale; bfloat16's
        # float32-sized exponent does not need one.
        generator_optimizer = keras.optimizers.LossScaleOptimizer(generator_optimizer)
        discriminator_optimizer = keras.optimizers.LossScaleOptimizer(discriminator_optimizer)
    generator_optimizer.build(generator.trainable_variables)
    discriminator_optimizer.build(discriminator.trainable_variables)
    return generator_optimizer, discriminator_optimizer


def steps_per_epoch(n_images: int, config: Config, replicas: int = 1) -> int:
    """Batches per epoch: every image once, the last batch smaller if need be.

    Under a strategy with several replicas, a last batch of fewer images than
    replicas is left out: it cannot be split so that each replica gets one.
    """
    full, rest = divmod(n_images, config.batch_size)
    steps = full + (1 if rest >= replicas else 0)
    return min(steps, config.max_steps_per_epoch or steps)


def newest_checkpoint(*managers: tf.train.CheckpointManager) -> str | None:
    """The checkpoint with the highest number (step) among the managers' latest."""
    paths = [m.latest_checkpoint for m in managers if m.latest_checkpoint]
    return max(paths, key=lambda p: int(p.rsplit("-", 1)[1]), default=None)


def _seed_states(model) -> list:
    # Keras keeps each Dropout's RNG state in a variable that tf.train.Checkpoint
    # does not see through the model; list them so a resumed run draws the
    # same dropout masks as one that never stopped.
    return [v.value for v in model.variables if v.path.endswith("seed_generator_state")]


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
            RunDirError: --batch-size or --max-steps-per-epoch changed mid-epoch.
        """
        if int(self.step) and (int(self.epoch_steps), int(self.batch_size)) != (
            epoch_steps,
            batch_size,
        ):
            raise RunDirError(
                f"the interrupted epoch ran {int(self.epoch_steps)} steps of batch "
                f"{int(self.batch_size)}; finish it with the same --batch-size and "
                "--max-steps-per-epoch"
            )

    def describe(self) -> str:
        done = f"epoch {int(self.epoch)}"
        return f"{done}, step {int(self.step)} of the next" if int(self.step) else done


def make_checkpoint(
    generator, discriminator, generator_optimizer, discriminator_optimizer, progress
) -> tf.train.Checkpoint:
    """Everything a resumed run needs: weights, Adam moments, dropout RNG states, progress.

    (The noise needs no state: it is a function of seed, epoch and step.)

    Args:
        generator, discriminator, generator_optimizer, discriminator_optimizer: as built.
        progress: the run's `EpochProgress`.

    Returns:
        A `tf.train.Checkpoint` of all of them.
    """
    return tf.train.Checkpoint(
        generator_optimizer=generator_optimizer,
        discriminator_optimizer=discriminator_optimizer,
        generator=generator,
        discriminator=discriminator,
        dropout_seeds=_seed_states(discriminator),
        progress=progress,
    )


POLICIES = {"off": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}


@contextlib.contextmanager
def dtype_policy(mixed_precision: str) -> Iterator[None]:
    """Builds layers under Keras' mixed-precision policy for `mixed_precision`, then restores."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(POLICIES[mixed_precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The `tf.distribute` strategy: default (one device), mirrored (all local GPUs, or
    all logical CPUs), or multi_worker (machines listed in $TF_CONFIG)."""
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = gpus or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def _is_chief(strategy: tf.distribute.Strategy) -> bool:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker"
        and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict()
    )


def progress_noise(config: Config) -> tf.Tensor:
    """The tutorial's `seed`: fixed noise for the progress grid, a function of config.seed."""
    rng = np.random.default_rng([config.seed, 16])
    shape = (config.num_examples_to_generate, config.noise_dim)
    return tf.constant(rng.standard_normal(shape, dtype=np.float32))


def read_metrics(path: str | Path) -> list[dict]:
    """Rows of a run's metrics.csv.

    Args:
        path: the CSV file.

    Returns:
        One dict per row, floats (NaN where empty) but "epoch" as int; [] if there is no file.
    """
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            # Columns measured only some epochs (fd, score, ...) are empty elsewhere: NaN.
            rows.append({k: int(v) if k == "epoch" else float(v or "nan") for k, v in row.items()})
    return rows


def write_metrics(path: str | Path, rows: list[dict]) -> None:
    """Writes all rows atomically (a few KB: rewriting beats appending to a torn file).

    Args:
        path: the CSV file.
        rows: dicts of numbers; a column missing from a row is written empty.
    """
    buffer = io.StringIO()
    fields = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(buffer, fieldnames=fields, restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in row.items()})
    write_text(path, buffer.getvalue())


def save_generator(generator, path: str | Path) -> None:
    """Saves the generator as a `.keras` file that plain `keras.models.load_model` reads."""
    with atomic_path(path) as tmp:
        generator.save(tmp)


def training_images(data, config: Config) -> np.ndarray:
    """The training images, or a seeded subset of `config.train_limit` of them.

    Args:
        data: the loaded `Data`.
        config: the run's settings (train_limit, seed).

    Returns:
        uint8 (N, 28, 28) images.
    """
    images = data.x_train
    if config.train_limit and config.train_limit < len(images):
        rng = np.random.default_rng([config.seed, 11])
        images = images[np.sort(rng.choice(len(images), config.train_limit, replace=False))]
    return images


def make_evaluator(data, config: Config, verbose: int):
    """The sample-quality evaluator for `--eval-every` (trains the classifier once, cached)."""
    from gan_tf.evaluate import Evaluator, load_or_train_classifier

    classifier, info = load_or_train_classifier(data, config.cache_dir, verbose=verbose)
    return Evaluator(classifier, data, n=config.eval_n, seed=config.seed, info=info)


class EpochMonitor:
    """Everything measured and drawn between epochs, in the spirit of keras-io's GANMonitor.

    Per epoch: the progress grid from the fixed noise (`seed`, as the
    tutorial), the dying-ReLU diagnostics on a fixed probe batch, every
    `eval_every` epochs FD/score/coverage/precision/recall, and TensorBoard
    scalars, pre-activation histograms and the grid under RUN_DIR/tensorboard.
    """

    def __init__(self, config: Config, generator, discriminator, images, evaluator=None):
        self.config = config
        self.out_dir = Path(config.out_dir)
        self.generator = generator
        self.evaluator = evaluator
        self.seed = progress_noise(config)
        self.probe = probe_batch(images, config.probe_size, config.noise_dim, config.seed)
        self.diagnose = make_diagnose(generator, discriminator)
        self.writer = tf.summary.create_file_writer(str(self.out_dir / "tensorboard"))

    def on_epoch_end(self, epoch: int, row: dict) -> dict:
        """Adds the epoch's measurements to `row`, writes the grid and TensorBoard; returns row."""
        config = self.config
        predictions = self.generator(self.seed, training=False).numpy()
        grid = save_image_grid(predictions, self.out_dir / frame_name(epoch))
        scalars, pre_activations = self.diagnose(*self.probe)
        row.update({k: float(v) for k, v in scalars.items()})
        if self.evaluator and (epoch % config.eval_every == 0 or epoch == config.epochs):
            scores = self.evaluator.score_generator(self.generator, seed=config.seed)
            row.update({k: float(scores[k]) for k in METRIC_NAMES})
        with self.writer.as_default(step=epoch):
            for name, value in row.items():
                if name != "epoch":
                    tf.summary.scalar(name, value)
            for name, pre in pre_activations.items():
                # TensorBoard's histogram op holds a (values x buckets) matrix:
                # millions of values would cost GBs, a strided 64k sample does not.
                values = tf.reshape(pre, [-1])
                stride = max(1, int(values.shape[0]) // HISTOGRAM_SAMPLES)
                tf.summary.histogram(f"pre_activation/{name}", values[::stride])
            tf.summary.image("progress", iio.imread(grid)[None, ..., None])
        self.writer.flush()
        return row

    def close(self) -> None:
        self.writer.close()


def _log(verbose: int, message: str) -> None:
    if verbose:
        print(message, flush=True)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped training after saving a checkpoint; says how to resume."""


class DivergenceError(RuntimeError):
    """A loss became NaN or infinite; nothing of that epoch was saved."""


@contextlib.contextmanager
def stop_requests() -> Iterator[dict]:
    """Turns the first Ctrl-C or SIGTERM into a request to stop at the next step boundary.

    A second Ctrl-C raises KeyboardInterrupt at once. Every file is written
    atomically, so even that leaves the last good one of each in place.
    Outside the main thread (where handlers cannot be set) nothing changes.

    Yields:
        A dict whose "signal" becomes the signal's name when a stop is requested.
    """
    state = {"signal": None}
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def request_stop(signum, frame):
        if state["signal"] is not None:
            raise KeyboardInterrupt
        state["signal"] = signal.Signals(signum).name

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield state
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def train(config: Config, verbose: int = 1) -> list[dict]:
    """Trains (or resumes) a DCGAN run in `config.out_dir`.

    Args:
        config: the run's settings.
        verbose: 0 silent, 1 a progress bar per epoch and a summary line.

    Returns:
        The rows of metrics.csv, one per epoch trained so far (resumed ones included).

    Raises:
        RunDirError: the output folder cannot hold this run (also: disk full).
        gan_tf.data.DataError: the data cannot be loaded.
        TrainingInterrupted: Ctrl-C or SIGTERM; a checkpoint was saved first.
        DivergenceError: a loss became NaN or infinite; the last checkpoint is untouched.
    """
    # A multi-worker strategy must exist before TensorFlow runs anything else.
    strategy = make_strategy(config.strategy)
    if not _is_chief(strategy):
        # Every worker runs the same program; only the chief writes the run folder.
        task = strategy.cluster_resolver.task_id
        config = dataclasses.replace(config, out_dir=str(Path(config.out_dir) / f"worker-{task}"))
    out_dir = Path(config.out_dir)
    # Check everything before writing anything: a bad flag or data file leaves no trace.
    check_out_dir(config)
    data = load_data(config.dataset, config.data)
    images = training_images(data, config)
    with contextlib.ExitStack() as stack:
        try:
            evaluator = make_evaluator(data, config, verbose) if config.eval_every else None
            out_dir.mkdir(parents=True, exist_ok=True)
            note = stack.enter_context(folder_lock(out_dir))
        except LockedError as e:
            raise RunDirError(f"{e}; wait for it to finish or choose another --out-dir") from None
        except OSError as e:
            raise RunDirError(
                f"cannot write to {e.filename or out_dir} ({e.strerror or e})"
            ) from None
        try:
            if note:
                _log(verbose, f"{out_dir}: {note}")
            remove_stale_temporaries(out_dir)
            prepare_out_dir(config)
            with stop_requests() as stop:
                return _train(config, images, evaluator, strategy, stop, verbose)
        except OSError as e:
            # Disk full or folder gone mid-run: every file is written atomically, so the
            # last good checkpoint, images and metrics are still in place.
            reason = e.strerror or e
            raise RunDirError(
                f"cannot write to {out_dir} ({reason}); {_resume_hint(config)}"
            ) from None


def _resume_hint(config: Config) -> str:
    return f"resume with: python -m gan_tf.train --out-dir {config.out_dir}"


def _train(config, images, evaluator, strategy, stop: dict, verbose: int) -> list[dict]:
    out_dir = Path(config.out_dir)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(config.seed)
    with strategy.scope(), dtype_policy(config.mixed_precision):
        generator = make_generator_model(
            config.noise_dim, synchronized=strategy.num_replicas_in_sync > 1
        )
        discriminator = make_discriminator_model(config.activation, config.alpha, config.dropout)
        generator_optimizer, discriminator_optimizer = make_optimizers(
            config, generator, discriminator
        )
    progress = EpochProgress()
    checkpoint = make_checkpoint(
        generator, discriminator, generator_optimizer, discriminator_optimizer, progress
    )
    # Kept checkpoints every `checkpoint_every` epochs (the tutorial's 15), and one
    # "latest" after every other epoch and on interruption: a killed run loses at
    # most the epoch it was in.
    manager = tf.train.CheckpointManager(
        checkpoint, config.checkpoint_dir, max_to_keep=config.max_checkpoints
    )
    latest = tf.train.CheckpointManager(checkpoint, config.checkpoint_dir / "latest", max_to_keep=1)
    resume_from = newest_checkpoint(manager, latest)
    if resume_from:
        try:
            checkpoint.restore(resume_from).assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as e:
            message = str(e).splitlines()[0]
            raise RunDirError(f"cannot restore {resume_from}: {message}") from None
        _log(verbose, f"Resuming from {resume_from} ({progress.describe()})")
    start_epoch = int(progress.epoch)
    history = [row for row in read_metrics(out_dir / METRICS_NAME) if row["epoch"] <= start_epoch]

    train_steps = make_train_steps(
        generator,
        discriminator,
        generator_optimizer,
        discriminator_optimizer,
        strategy,
        jit_compile=config.jit_compile,
        fused=config.fused_discriminator,
    )
    steps = steps_per_epoch(len(images), config, strategy.num_replicas_in_sync)
    progress.check_resumable(steps, config.batch_size)
    # An interrupted run may have left progress images of epochs it never
    # checkpointed: they are redrawn, and must not slip into this run's GIF.
    for frame in out_dir.glob(FRAME_GLOB):
        if frame_epoch(frame) > start_epoch:
            frame.unlink()

    def save_checkpoint(keep: bool = False):
        # Numbered by step, so a mid-epoch save sorts after the epoch before it.
        number = int(progress.epoch) * steps + int(progress.step)
        try:
            (manager if keep else latest).save(checkpoint_number=number)
        except tf.errors.OpError as e:  # TensorFlow's own file errors, e.g. disk full
            raise OSError(None, e.message.splitlines()[0], config.checkpoint_dir) from None

    def interrupted(where: str) -> TrainingInterrupted:
        save_checkpoint()
        _save_final(generator, out_dir)
        message = f"{stop['signal']}: stopped {where}; checkpoint saved; {_resume_hint(config)}"
        return TrainingInterrupted(message)

    monitor = EpochMonitor(config, generator, discriminator, images, evaluator)
    try:
        for epoch in range(start_epoch + 1, config.epochs + 1):
            start = time.perf_counter()
            totals, step = _run_epoch(
                train_steps, strategy, images, config, epoch, steps, progress, stop, verbose,
                resume_from,
            )  # fmt: skip
            seconds = progress.seconds + time.perf_counter() - start
            if step < steps:  # stopped by a signal mid-epoch
                progress.pause(epoch - 1, step, totals, seconds, steps, config.batch_size)
                raise interrupted(f"at epoch {epoch}, step {step}/{steps}")
            row = {"epoch": epoch, **{k: float(v) / steps for k, v in totals.items()}}
            row.update(seconds=seconds, steps=steps)
            progress.finish(epoch)
            history.append(monitor.on_epoch_end(epoch, row))
            write_metrics(out_dir / METRICS_NAME, history)
            save_checkpoint(keep=epoch % config.checkpoint_every == 0 or epoch == config.epochs)
            _log(
                verbose,
                f"Time for epoch {epoch} is {seconds:.1f} sec "
                f"(gen_loss {row['gen_loss']:.4f}, disc_loss {row['disc_loss']:.4f})",
            )
            if stop["signal"] and epoch < config.epochs:
                raise interrupted(f"after epoch {epoch}")
    finally:
        monitor.close()

    if start_epoch >= config.epochs:
        _log(verbose, f"{out_dir} already holds {start_epoch} epochs; nothing to train")
    _save_final(generator, out_dir)
    _log(verbose, f"Wrote {out_dir / GIF_NAME} and {out_dir / GENERATOR_NAME}")
    return history


def _run_epoch(
    train_steps, strategy, images, config, epoch, steps, progress, stop, verbose, last_good
):
    """Runs the steps of one epoch (from where an interruption left it).

    Returns:
        (loss sums over the epoch's steps so far, the last step done); the step
        is short of `steps` only when a stop was requested.

    Raises:
        DivergenceError: a loss became NaN or infinite.
    """
    first_step = int(progress.step)  # > 0 only when resuming an interrupted epoch
    dataset = make_dataset(
        images, config.batch_size, config.seed, epoch, config.buffer_size, config.noise_dim
    ).take(steps)
    dataset = dataset.skip(first_step)
    if strategy.num_replicas_in_sync > 1:
        options = tf.data.Options()
        # In-memory data: each worker reads its share of every batch.
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        dataset = strategy.experimental_distribute_dataset(dataset.with_options(options))
    iterator = iter(dataset)
    # A live bar on a terminal; in a log file, one line per epoch from the summary.
    progbar_verbose = 1 if verbose and sys.stdout.isatty() else 0
    progbar = keras.utils.Progbar(
        steps, verbose=progbar_verbose, stateful_metrics=["gen_loss", "disc_loss"]
    )
    resumed = f" from step {first_step + 1}" if first_step else ""
    _log(verbose, f"Epoch {epoch}/{config.epochs}{resumed}")
    totals = {
        "gen_loss": progress.gen_loss_sum.read_value(),
        "disc_loss": progress.disc_loss_sum.read_value(),
    }
    window, last_sync, step = [], time.perf_counter(), first_step
    while step < steps and not stop["signal"]:
        n = min(config.steps_per_call, steps - step)
        losses = train_steps(iterator, tf.constant(n))
        step += n
        totals = {k: totals[k] + losses[k] for k in totals}
        window.append((step - n + 1, step, losses))
        # Reading a loss waits for the device: check and show the losses a few
        # times a second, not every step.
        now = time.perf_counter()
        if now - last_sync > 0.5 or step == steps or stop["signal"]:
            _check_finite(window, epoch, last_good)
            window.clear()
            last_sync = now
            if progbar_verbose:
                progbar.update(step, [(k, float(v) / n) for k, v in losses.items()])
    _check_finite(window, epoch, last_good)  # a stop can come between two checks
    return totals, step


def _check_finite(window, epoch, last_good) -> None:
    """Raises DivergenceError naming the first call in `window` with a NaN or infinite loss."""
    for first, last, losses in window:
        for name, value in losses.items():
            if not math.isfinite(float(value)):
                steps = f"step {first}" if first == last else f"steps {first}-{last}"
                raise DivergenceError(
                    f"{name} became {float(value)} at epoch {epoch}, {steps}; stopped "
                    f"without saving that epoch (checkpoint kept: {last_good or 'none'}); "
                    "try a lower learning rate"
                )


def _save_final(generator, out_dir: Path) -> None:
    """The GIF of the frames so far and the generator as it is now."""
    if any(out_dir.glob(FRAME_GLOB)):
        make_gif(out_dir)
    save_generator(generator, out_dir / GENERATOR_NAME)
