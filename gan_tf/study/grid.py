"""The ReLU vs LeakyReLU study's grid, and running it: runs that differ only in D's activation.

A study crosses discriminator variants (`Variant`), optimiser settings (`Setting`:
learning rate of both networks and Adam's beta_1) and seeds. A given seed gives every
variant the same data order, noise, dropout seeds and initial weights. Each run is an
ordinary run folder under OUT_DIR/runs/, evaluated at the end on `final_n` samples;
`run_study` trains what is not finished (several at once with `jobs`, or every N-th with
`shard`) and writes the report from every finished run in the folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from gan_tf.config import Config, Variant, check_sample_count
from gan_tf.errors import ConfigError, DivergenceError, RunDirBusy, UserError
from gan_tf.files import write_text
from gan_tf.rundir import RunDir
from gan_tf.study.records import RunResult, load_run
from gan_tf.study.settings import DEFAULT_SETTINGS, SETTINGS, Setting
from gan_tf.study.wording import PLAIN, Wording

DEFAULT_VARIANTS = ("relu", "leaky_relu:0.01", "leaky_relu:0.1", "leaky_relu:0.2", "leaky_relu:0.3")
DEFAULT_SEEDS = (0, 1, 2)
# The study's own evaluation classifier, under OUT_DIR, unless the base's cache_dir names
# another.
CLASSIFIER_DIR = "classifier"
REPORT_DIR = "report"
RUNS_DIR = "runs"
# Every run's settings but the grid's axes: the tutorial's, but a checkpoint after every
# epoch (one kept) and an evaluation every 5 epochs.
STUDY_BASE = Config(eval_every=5, checkpoint_every=1, max_checkpoints=1)
# The `Config` fields that a study sets alike for every run (its `base`) ...
BUDGET_FIELDS = ("epochs", "max_steps_per_epoch", "batch_size", "train_limit", "beta1")
MEASURE_FIELDS = ("eval_every", "eval_n", "probe_size", "cache_dir")
DATA_FIELDS = ("dataset", "data")
MODEL_FIELDS = ("architecture", "image_size", "crop", "channels", "gen_width", "disc_width")
# ... and, with those that `run_config` sets for each run, every field a study decides.
STUDY_FIELDS = (
    BUDGET_FIELDS
    + MEASURE_FIELDS
    + DATA_FIELDS
    + MODEL_FIELDS
    + ("activation", "alpha", "gen_lr", "disc_lr", "seed", "out_dir")
)


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """The grid and the budget shared by every run.

    `base` holds every run's settings but the variant, the optimiser setting and the
    seed (default: `STUDY_BASE`). `pilots` are run folders outside the grid (ordinary
    training runs: the pilot that chose the budget, a longer reference run) whose
    per-epoch scores the report shows beside the grid.

    Every run is judged by one classifier: the one in `classifier_dir`. Trained again on
    another machine, the classifier comes out slightly different (floating point), and FD
    moves with it; keeping it in the study folder means every run and shard of a study,
    wherever it trains, is scored on one scale.
    """

    variants: tuple[Variant, ...] = tuple(Variant.parse(v) for v in DEFAULT_VARIANTS)
    settings: tuple[Setting, ...] = tuple(SETTINGS[name] for name in DEFAULT_SETTINGS)
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    base: Config = STUDY_BASE
    final_n: int = 10000
    out_dir: str = "runs/study"
    pilots: tuple[str, ...] = ()

    def __post_init__(self):
        check_sample_count(self.final_n, "final_n")
        if self.base.dataset == "folder":
            # The report reads the classifier score of 10 classes (its thresholds 2, 5, 7):
            # a folder has its own classes, or none (scored on InceptionV3 features).
            raise ConfigError(
                "a study needs 10-class labelled data (mnist, fashion_mnist or cifar10), "
                "whose classifier score its report reads; a folder of images has not",
                setting="dataset",
            )
        for pilot in self.pilots:
            run = RunDir(pilot)
            if run.read_config() is None or not run.metrics.is_file():
                raise ConfigError(f"pilot run folder {pilot}: no config.json or metrics.csv there")
        for run in self.grid():
            self.run_config(*run)  # validates every run before any trains

    @property
    def classifier_dir(self) -> str:
        """Where the study's evaluation classifier is kept: the base's cache_dir if given,
        else OUT_DIR/classifier."""
        return self.base.cache_dir or str(Path(self.out_dir) / CLASSIFIER_DIR)

    @property
    def report_dir(self) -> Path:
        """Where the report is written: OUT_DIR/report."""
        return Path(self.out_dir) / REPORT_DIR

    def run_config(self, variant: Variant, setting: Setting, seed: int) -> Config:
        """The Config of one run of the grid."""
        run_dir = Path(self.out_dir) / RUNS_DIR / f"{variant.slug}_{setting.slug}_seed{seed}"
        return dataclasses.replace(
            self.base,
            cache_dir=self.classifier_dir,
            activation=variant.activation,
            # relu has no slope; its runs keep the tutorial's alpha field, which it ignores.
            alpha=variant.alpha if variant.activation == "leaky_relu" else Config.alpha,
            gen_lr=setting.lr,
            disc_lr=setting.lr,
            beta1=setting.beta1,
            seed=seed,
            out_dir=str(run_dir),
        )

    def grid(self) -> list[tuple[Variant, Setting, int]]:
        """Every run of the study as (variant, setting, seed), setting by setting."""
        return [(v, s, seed) for s in self.settings for v in self.variants for seed in self.seeds]


def is_finished(config: Config, final_n: int) -> bool:
    """Whether a run folder holds the whole run and its final evaluation on `final_n` samples
    (or a recorded divergence: the same seed would diverge the same way again)."""
    run = RunDir(config.out_dir)
    if run.diverged.is_file():
        return True
    rows = run.read_metrics()
    evaluation = run.read_evaluation() or {}
    return bool(rows) and rows[-1]["epoch"] >= config.epochs and evaluation.get("n") == final_n


def _not_predict_retracing(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return "tf.function retracing" not in message or "make_predict_function" not in message


@contextlib.contextmanager
def without_predict_retracing_warnings():
    """Drops TensorFlow's warning that Keras' predict function "triggered tf.function
    retracing", which a study's runs in one process set off though nothing retraces.

    Each run builds its generator (and loads it again for the final score), and each
    evaluator wraps the classifier in a model of its own: four new models a run, whose
    predict functions trace once each (`experimental_get_tracing_count()` is 1 for every
    one). TensorFlow counts traces by the traced Python function's code, which all Keras
    predict functions share, so in a short study that reads as one function tracing on
    half its calls. A new model needs its own trace, and runs differ in their models, so
    only the warning goes; any other retracing warning (the training step's) still shows.
    """
    logger = logging.getLogger("tensorflow")
    logger.addFilter(_not_predict_retracing)
    try:
        yield
    finally:
        logger.removeFilter(_not_predict_retracing)


@without_predict_retracing_warnings()
def train_and_evaluate(config: Config, final_n: int) -> str:
    """Trains one run of a study, then evaluates it on `final_n` samples.

    Returns:
        "trained", "diverged" (recorded in diverged.json), or "busy" (another process
        holds the run folder).
    """
    import json

    from gan_tf.data import load_run_data
    from gan_tf.evaluation.classifier import load_or_train_classifier
    from gan_tf.evaluation.quality import Evaluator
    from gan_tf.evaluation.sampling import load_generator
    from gan_tf.training.loop import train

    run = RunDir(config.out_dir)
    try:
        train(config, verbose=0)
    except DivergenceError as e:
        # A result too: kept in the run folder and the report, not retried.
        write_text(run.diverged, json.dumps({"error": str(e)}))
        return "diverged"
    except RunDirBusy:
        return "busy"
    data = load_run_data(config)
    classifier, info = load_or_train_classifier(data, config.cache_dir, verbose=0)
    evaluator = Evaluator(classifier, data, n=final_n, seed=0, info=info)
    run.write_evaluation(evaluator.report(load_generator(run.path), seed=config.seed))
    return "trained"


def _train_in_worker(config: Config, final_n: int) -> str:
    """`train_and_evaluate` in a worker process, which ends once its run is stopped (with a
    checkpoint): a stopped study must not leave workers waiting for more work."""
    try:
        return train_and_evaluate(config, final_n)
    except KeyboardInterrupt:  # SIGTERM or Ctrl-C: the run saved a checkpoint first
        os._exit(130)


def _worker_init(setup: Callable[[], None] | None) -> None:
    if setup is not None:  # what the caller wants done first in a new process
        setup()
    # A worker dies with the study that started it, whatever killed that (kill -9
    # included): Linux sends it SIGTERM then, which stops its run at the next step with a
    # checkpoint, as Ctrl-C would.
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:  # the study died before the request took hold
            os._exit(1)
    # Several runs share one GPU: each process takes memory as it needs it, not all of it.
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)


# prctl's option that sends a signal to a process when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def run_study(
    study: StudyConfig,
    verbose: int = 1,
    jobs: int = 1,
    shard: tuple[int, int] = (0, 1),
    wording: Wording = PLAIN,
    worker_setup: Callable[[], None] | None = None,
) -> Path:
    """Trains and evaluates the runs of the grid that are not finished, then writes the report.

    Args:
        study: the grid and budget.
        verbose: 0 silent, 1 a line per run.
        jobs: runs trained at once, each in its own process (for a GPU, which one small
            run leaves mostly idle, or a many-core machine).
        shard: (I, N): train only runs I, I+N, I+2N, ... of the grid, so N processes or
            machines (a SLURM job array, say) can share one study folder.
        wording: what the report prints of the commands that made it (default: none, and
            settings by their field names).
        worker_setup: with `jobs` > 1, run first in each worker process, before TensorFlow
            is imported there (the command layer quiets TensorFlow's start-up lines with it);
            a module-level function, so that it can be sent to the process.

    Returns:
        The path of report.md, built from every finished run in the folder.
    """
    from gan_tf.data import load_run_data
    from gan_tf.evaluation.classifier import load_or_train_classifier

    # A pilot the report cannot read is found now, not after hours of training.
    for pilot in study.pilots:
        try:
            load_run(pilot)
        except UserError as e:
            raise UserError(f"pilot run folder {pilot}: {e}") from None
    index, count = shard
    out_dir = Path(study.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_run_data(study.base)
    grid = study.grid()
    mine = [(i, run) for i, run in enumerate(grid, start=1) if (i - 1) % count == index]
    pending = []
    for i, (variant, setting, seed) in mine:
        name = f"[{i}/{len(grid)}] {variant.label}, {setting.name}, seed {seed}"
        if is_finished(study.run_config(variant, setting, seed), study.final_n):
            _log(verbose, f"{name}: finished, skipped")
        else:
            pending.append((name, study.run_config(variant, setting, seed)))
    if pending:
        # Trained (and kept in the study folder) once, before any run needs it; with
        # nothing left to train, the report is rewritten without it.
        load_or_train_classifier(data, study.classifier_dir, verbose=verbose)
    started = time.perf_counter()
    if jobs > 1 and len(pending) > 1:
        import concurrent.futures
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # TensorFlow does not survive a fork
        pool = concurrent.futures.ProcessPoolExecutor(
            jobs, context, _worker_init, initargs=(worker_setup,)
        )
        try:
            futures = {pool.submit(_train_in_worker, c, study.final_n): n for n, c in pending}
            _log(verbose, f"training {len(pending)} runs, {jobs} at a time")
            for future in concurrent.futures.as_completed(futures):
                _log(verbose, f"{futures[future]}: {future.result()}")
        except BaseException:
            # Stopped (SIGTERM, Ctrl-C) or failed: the workers stop too, each with a
            # checkpoint, rather than train on for hours with nobody waiting for them.
            for child in multiprocessing.active_children():
                child.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
    else:
        for done, (name, config) in enumerate(pending):
            elapsed = time.perf_counter() - started
            left = elapsed / done * (len(pending) - done) / 60 if done else None
            _log(verbose, f"{name}: training" + (f", about {left:.0f} min left" if left else ""))
            outcome = train_and_evaluate(config, study.final_n)
            if outcome != "trained":
                _log(verbose, f"{name}: {outcome}")
    path = write_study_report(study, len(data.x_train), wording)
    _log(verbose, f"Wrote {path}")
    return path


def _log(verbose: int, message: str) -> None:
    if verbose:
        print(message, flush=True)


def collect_results(
    study: StudyConfig, run_command: Callable[[Config], str] | None = None
) -> list[RunResult]:
    """The record of every finished run of the grid (unfinished ones are left out).

    Args:
        study: the grid.
        run_command: spells each run's training command (see `load_run`).

    Returns:
        The records, in grid order, each named by the grid's setting.
    """
    results = []
    for variant, setting, seed in study.grid():
        config = study.run_config(variant, setting, seed)
        if is_finished(config, study.final_n):
            # The grid's name for the setting, which a learning rate alone may have given.
            run = load_run(config.out_dir, config, run_command)
            results.append(dataclasses.replace(run, setting=setting.name))
    return results


def write_study_report(study: StudyConfig, n_train: int, wording: Wording = PLAIN) -> Path:
    """Writes OUT_DIR/report/ from the finished runs.

    Args:
        study: the grid and budget.
        n_train: the training set's size, for the budget sentence.
        wording: what the report prints of the commands that made it.

    Returns:
        The path of report.md.
    """
    from gan_tf.study.report import write_report

    return write_report(
        collect_results(study, wording.run_command),
        study.report_dir,
        budget=describe_budget(study, n_train),
        pilots=[load_run(pilot, command=wording.run_command) for pilot in study.pilots],
        wording=wording,
    )


def describe_budget(study: StudyConfig, n_train: int) -> str:
    """One sentence stating what each run was given."""
    base = study.base
    images = min(base.train_limit or n_train, n_train)
    steps = -(-images // base.batch_size)
    if base.max_steps_per_epoch:
        steps = min(steps, base.max_steps_per_epoch)
    settings = "; ".join(f"{s.name}: lr {s.lr:g}, β1 {s.beta1:g}" for s in study.settings)
    return (
        f"Each run: {base.epochs} epochs of {steps} steps at batch {base.batch_size} "
        f"({base.epochs * steps} steps) on {images} training images "
        f"({base.data or base.dataset}); optimiser settings: {settings}; "
        f"{len(study.seeds)} seed(s) ({', '.join(map(str, study.seeds))}); quality scored on "
        f"{base.eval_n} samples every {base.eval_every} epoch(s) and on {study.final_n} at the end."
    )
