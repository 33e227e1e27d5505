"""The ReLU vs LeakyReLU study as a library: a grid of runs that differ only in D's activation.

A study crosses discriminator variants (`Variant`), optimiser settings
(`Setting`: learning rate of both networks and Adam's beta_1) and seeds. A given
seed gives every variant the same data order, noise, dropout seeds and initial
weights. Each run is an ordinary run folder under OUT_DIR/runs/, evaluated at
the end on `final_n` samples; `run_study` trains what is not finished (several
at once with `jobs`, or every N-th with `shard`) and writes the report from
every finished run in the folder.
"""

from __future__ import annotations

import dataclasses
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING

from gan_tf.config import Config, Variant
from gan_tf.errors import ConfigError, DivergenceError, RunDirError
from gan_tf.files import write_text
from gan_tf.rundir import RunDir

if TYPE_CHECKING:
    from gan_tf.report import RunResult

DEFAULT_VARIANTS = ("relu", "leaky_relu:0.01", "leaky_relu:0.1", "leaky_relu:0.2", "leaky_relu:0.3")
DEFAULT_SEEDS = (0, 1, 2)
# The study's own evaluation classifier, under OUT_DIR, unless --cache-dir names another.
CLASSIFIER_DIR = "classifier"
# Every run's settings but the grid's axes: the tutorial's, but a checkpoint after every
# epoch (one kept) and an evaluation every 5 epochs.
STUDY_BASE = Config(eval_every=5, checkpoint_every=1, max_checkpoints=1)
# The `Config` fields that the study command sets for every run.
BUDGET_FLAGS = ("epochs", "max_steps_per_epoch", "batch_size", "train_limit", "beta1")
MEASURE_FLAGS = ("eval_every", "eval_n", "probe_size", "cache_dir")
DATA_FLAGS = ("dataset", "data")
# ... and those it leaves to each run (run_config) or ignores.
STUDY_FIELDS = (
    BUDGET_FLAGS
    + MEASURE_FLAGS
    + DATA_FLAGS
    + (
        "activation",
        "alpha",
        "gen_lr",
        "disc_lr",
        "seed",
        "out_dir",
    )
)


@dataclasses.dataclass(frozen=True)
class Setting:
    """An optimiser setting: Adam's learning rate (G and D alike) and beta_1."""

    name: str
    lr: float
    beta1: float = Config.beta1

    @property
    def slug(self) -> str:
        # The beta_1 suffix only where it differs from the tutorial's, so run folders
        # of earlier studies (lr only) keep their names.
        suffix = "" if self.beta1 == Config.beta1 else f"_b{self.beta1:g}"
        return f"lr{self.lr:g}{suffix}"


# The tutorial's setting, a stressed one (10x the learning rate), and the DCGAN paper's.
SETTINGS = {
    "tutorial": Setting("tutorial", Config.gen_lr, Config.beta1),
    "stressed": Setting("stressed", 1e-3, Config.beta1),
    "paper": Setting("paper", 2e-4, 0.5),
}
DEFAULT_SETTINGS = ("tutorial", "stressed")


def lr_setting(lr: float, beta1: float = Config.beta1) -> Setting:
    """A setting given by its learning rate (the study's --lrs), named after a known one."""
    for setting in SETTINGS.values():
        if (setting.lr, setting.beta1) == (lr, beta1):
            return setting
    return Setting(f"lr {lr:g}", lr, beta1)


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """The grid and the budget shared by every run.

    `base` holds every run's settings but the variant, the optimiser setting and the
    seed (default: `STUDY_BASE`). `pilots` are run folders outside the grid (ordinary
    `gan_tf.train` runs: the pilot that chose the budget, a longer reference run) whose
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
        if self.final_n < 10:
            raise ConfigError(f"--final-n must be at least 10, got {self.final_n}")
        for pilot in self.pilots:
            run = RunDir(pilot)
            if run.read_config() is None or not run.metrics.is_file():
                raise ConfigError(f"--pilot {pilot}: no config.json or metrics.csv there")
        for run in self.grid():
            self.run_config(*run)  # validates every run before any trains

    @property
    def classifier_dir(self) -> str:
        """Where the study's evaluation classifier is kept: the base's cache_dir if given,
        else OUT_DIR/classifier."""
        return self.base.cache_dir or str(Path(self.out_dir) / CLASSIFIER_DIR)

    def run_config(self, variant: Variant, setting: Setting, seed: int) -> Config:
        """The Config of one run of the grid."""
        run_dir = Path(self.out_dir) / "runs" / f"{variant.slug}_{setting.slug}_seed{seed}"
        return dataclasses.replace(
            self.base,
            cache_dir=self.classifier_dir,
            activation=variant.activation,
            alpha=variant.alpha if variant.activation == "leaky_relu" else Config.alpha,
            gen_lr=setting.lr,
            disc_lr=setting.lr,
            beta1=setting.beta1,
            seed=seed,
            out_dir=str(run_dir),
        )

    def grid(self) -> list[tuple[Variant, Setting, int]]:
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


def train_and_evaluate(config: Config, final_n: int) -> str:
    """Trains one run of a study, then evaluates it on `final_n` samples.

    Returns:
        "trained", "diverged" (recorded in diverged.json), or "busy" (another process
        holds the run folder).
    """
    import json

    from gan_tf.data import load_data
    from gan_tf.evaluation.classifier import Evaluator, load_or_train_classifier
    from gan_tf.evaluation.sampling import load_generator
    from gan_tf.training.loop import train

    run = RunDir(config.out_dir)
    try:
        train(config, verbose=0)
    except DivergenceError as e:
        # A result too: kept in the run folder and the report, not retried.
        write_text(run.diverged, json.dumps({"error": str(e)}))
        return "diverged"
    except RunDirError as e:
        if "in use by another run" in str(e):
            return "busy"
        raise
    data = load_data(config.dataset, config.data)
    classifier, info = load_or_train_classifier(data, config.cache_dir, verbose=0)
    evaluator = Evaluator(classifier, data, n=final_n, seed=0, info=info)
    run.write_evaluation(evaluator.report(load_generator(run.path), seed=config.seed))
    return "trained"


def _worker_init() -> None:
    # Several runs share one GPU: each process takes memory as it needs it, not all of it.
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)


def run_study(
    study: StudyConfig, verbose: int = 1, jobs: int = 1, shard: tuple[int, int] = (0, 1)
) -> Path:
    """Trains and evaluates the runs of the grid that are not finished, then writes the report.

    Args:
        study: the grid and budget.
        verbose: 0 silent, 1 a line per run.
        jobs: runs trained at once, each in its own process (for a GPU, which one small
            run leaves mostly idle, or a many-core machine).
        shard: (I, N): train only runs I, I+N, I+2N, ... of the grid, so N processes or
            machines (a SLURM job array, say) can share one study folder.

    Returns:
        The path of report.md, built from every finished run in the folder.
    """
    from gan_tf.data import load_data
    from gan_tf.evaluation.classifier import load_or_train_classifier

    index, count = shard
    out_dir = Path(study.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_data(study.base.dataset, study.base.data)
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
        with concurrent.futures.ProcessPoolExecutor(jobs, context, _worker_init) as pool:
            futures = {pool.submit(train_and_evaluate, c, study.final_n): n for n, c in pending}
            _log(verbose, f"training {len(pending)} runs, {jobs} at a time")
            for future in concurrent.futures.as_completed(futures):
                _log(verbose, f"{futures[future]}: {future.result()}")
    else:
        for done, (name, config) in enumerate(pending):
            elapsed = time.perf_counter() - started
            left = elapsed / done * (len(pending) - done) / 60 if done else None
            _log(verbose, f"{name}: training" + (f", about {left:.0f} min left" if left else ""))
            outcome = train_and_evaluate(config, study.final_n)
            if outcome != "trained":
                _log(verbose, f"{name}: {outcome}")
    path = write_study_report(study, len(data.x_train))
    _log(verbose, f"Wrote {path}")
    return path


def _log(verbose: int, message: str) -> None:
    if verbose:
        print(message, flush=True)


def collect_results(study: StudyConfig) -> list:
    """The `RunResult` of every finished run of the grid (unfinished ones are left out)."""
    results = []
    for variant, setting, seed in study.grid():
        config = study.run_config(variant, setting, seed)
        if is_finished(config, study.final_n):
            # The grid's name for the setting, which --lrs may have given.
            run = load_run(config.out_dir, config)
            results.append(dataclasses.replace(run, setting=setting.name))
    return results


def load_run(run_dir: str | Path, config: Config | None = None) -> RunResult:
    """A `RunResult` of any run folder (its metrics.csv and evaluation.json, and its
    config.json unless `config` is given).

    Raises:
        RunDirError: no `config` and the folder has no config.json.
    """
    from gan_tf.report import RunResult

    run = RunDir(run_dir)
    config = config or run.read_config()
    if config is None:
        raise RunDirError(f"{run.config}: missing; not a gan_tf run folder")
    rows = run.read_metrics()
    if config.gen_lr == config.disc_lr:
        setting = lr_setting(config.gen_lr, config.beta1).name
    else:
        setting = f"G lr {config.gen_lr:g}, D lr {config.disc_lr:g}"
    return RunResult(
        activation=config.activation,
        alpha=config.alpha if config.activation == "leaky_relu" else 0.0,
        setting=setting,
        lr=config.gen_lr,
        beta1=config.beta1,
        seed=config.seed,
        run_dir=run.path,
        metrics=rows,
        final=run.read_evaluation() or {},
        wall_time=sum(row["seconds"] for row in rows),
        batch_size=config.batch_size,
        diverged=run.diverged.is_file(),
        command=train_command(config),
    )


def train_command(config: Config) -> str:
    """The `gan_tf.train` command that trains (or resumes) a run with these settings."""
    from gan_tf.cli.common import config_flags

    return shlex.join(["python", "-m", "gan_tf.train", *config_flags(config)])


def study_command(study: StudyConfig) -> str:
    """The `gan_tf.study` command of this study: run again, it trains what is unfinished and
    rewrites the report from the run folders.

    What a study built in Python sets and no study flag can say (a field of every run
    without a flag, a None budget, settings that --settings and --lrs cannot name) is
    appended as a shell comment, not dropped.
    """
    from gan_tf.cli.common import config_flags

    defaults = StudyConfig()
    words, unsaid = ["python", "-m", "gan_tf.study"], []
    if study.variants != defaults.variants:
        words += ["--variants", *(v.name for v in study.variants)]
    base = study.base
    beta1s = {s.beta1 for s in study.settings}
    if all(SETTINGS.get(s.name) == s for s in study.settings):
        if study.settings != defaults.settings:
            words += ["--settings", *(s.name for s in study.settings)]
    elif len(beta1s) == 1 and all(lr_setting(s.lr, s.beta1) == s for s in study.settings):
        words += ["--lrs", *(repr(s.lr) for s in study.settings)]
        base = dataclasses.replace(base, beta1=beta1s.pop())
    else:
        unsaid += [
            f"settings {', '.join(f'{s.name} ({s.lr!r}, {s.beta1!r})' for s in study.settings)}"
        ]
    if study.seeds != defaults.seeds:
        words += ["--seeds", *map(str, study.seeds)]
    flagged = BUDGET_FLAGS + MEASURE_FLAGS + DATA_FLAGS
    words += config_flags(base, STUDY_BASE, flagged)
    if study.final_n != defaults.final_n:
        words += ["--final-n", str(study.final_n)]
    if study.pilots:
        words += ["--pilot", *study.pilots]
    for field in dataclasses.fields(Config):
        value = getattr(base, field.name)
        no_flag = field.name not in STUDY_FIELDS or (field.name in flagged and value is None)
        if no_flag and value != getattr(STUDY_BASE, field.name):
            unsaid.append(f"{field.name}={value!r}")
    command = shlex.join([*words, "--out-dir", study.out_dir])
    return command + (f"  # set in Python, no flag for: {'; '.join(unsaid)}" if unsaid else "")


def write_study_report(study: StudyConfig, n_train: int) -> Path:
    """Writes OUT_DIR/report/ from the finished runs; returns the path of report.md."""
    from gan_tf.report import write_report

    return write_report(
        collect_results(study),
        Path(study.out_dir) / "report",
        budget=describe_budget(study, n_train),
        command=study_command(study),
        pilots=[load_run(pilot) for pilot in study.pilots],
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
