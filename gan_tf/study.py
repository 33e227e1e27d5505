"""The ReLU vs LeakyReLU study: a grid of runs that differ only in D's hidden activation.

    python -m gan_tf.study [--variants relu leaky_relu:0.01 ...] [--lrs 1e-4 1e-3]
                           [--seeds 0 1 2] [--epochs 50] [--out-dir runs/study]

Every run uses the same data, data order, noise, dropout seeds and initial
weights for a given seed; only the discriminator's activation (and the learning
rate axis, applied to both networks) changes. Each run is a normal gan_tf run
folder under OUT_DIR/runs/, scored during training every --eval-every epochs
and at the end on --final-n samples. OUT_DIR/report/ gets report.md, plots and a
side-by-side GIF. Running the same command again skips finished runs and
resumes unfinished ones.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

from gan_tf.cli import ArgumentParser, positive_int, quiet_tensorflow
from gan_tf.config import DATASETS, Config

DEFAULT_VARIANTS = ("relu", "leaky_relu:0.01", "leaky_relu:0.1", "leaky_relu:0.2", "leaky_relu:0.3")
DEFAULT_LRS = (1e-4, 1e-3)
DEFAULT_SEEDS = (0, 1, 2)


@dataclasses.dataclass(frozen=True)
class Variant:
    """One discriminator activation: relu, or leaky_relu with slope alpha."""

    activation: str
    alpha: float = 0.3

    @classmethod
    def parse(cls, text: str) -> Variant:
        """Parses "relu", "leaky_relu" (α 0.3) or "leaky_relu:0.2".

        Raises:
            ValueError: anything else, listing the valid forms.
        """
        name, _, alpha = text.partition(":")
        try:
            if name == "relu" and not alpha:
                return cls("relu", 0.0)
            if name == "leaky_relu":
                value = float(alpha) if alpha else 0.3
                if 0 <= value <= 1:
                    return cls("leaky_relu", value)
        except ValueError:
            pass
        raise ValueError(
            f"bad variant {text!r}: use relu, leaky_relu, or leaky_relu:ALPHA with 0 <= ALPHA <= 1"
        )

    @property
    def label(self) -> str:
        return "relu" if self.activation == "relu" else f"leaky_relu α={self.alpha:g}"

    @property
    def slug(self) -> str:
        return "relu" if self.activation == "relu" else f"leaky_relu_{self.alpha:g}"


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """The grid and the budget shared by every run."""

    variants: tuple[Variant, ...]
    lrs: tuple[float, ...] = DEFAULT_LRS
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    base: Config = dataclasses.field(default_factory=Config)
    final_n: int = 10000
    out_dir: str = "runs/study"

    def run_config(self, variant: Variant, lr: float, seed: int) -> Config:
        """The Config of one run of the grid."""
        run_dir = Path(self.out_dir) / "runs" / f"{variant.slug}_lr{lr:g}_seed{seed}"
        return dataclasses.replace(
            self.base,
            activation=variant.activation,
            alpha=variant.alpha if variant.activation == "leaky_relu" else Config.alpha,
            gen_lr=lr,
            disc_lr=lr,
            seed=seed,
            out_dir=str(run_dir),
        )

    def grid(self) -> list[tuple[Variant, float, int]]:
        return [(v, lr, s) for lr in self.lrs for v in self.variants for s in self.seeds]


DIVERGED_NAME = "diverged.json"


def _finished(config: Config, final_n: int) -> bool:
    from gan_tf.evaluate import EVALUATION_NAME
    from gan_tf.loop import METRICS_NAME, read_metrics

    run_dir = Path(config.out_dir)
    if (run_dir / DIVERGED_NAME).is_file():
        return True  # the same seed would diverge the same way again
    evaluation = run_dir / EVALUATION_NAME
    rows = read_metrics(run_dir / METRICS_NAME)
    if not rows or rows[-1]["epoch"] < config.epochs or not evaluation.is_file():
        return False
    return json.loads(evaluation.read_text()).get("n") == final_n


def run_study(study: StudyConfig, verbose: int = 1) -> Path:
    """Trains and evaluates every run of the grid that is not finished, then writes the report.

    A run that diverges is recorded (diverged.json) and counts as finished.

    Args:
        study: the grid and budget.
        verbose: 0 silent, 1 a line per run.

    Returns:
        The path of report.md.
    """
    from gan_tf.data import load_data
    from gan_tf.evaluate import (
        EVALUATION_NAME,
        Evaluator,
        load_or_train_classifier,
        write_evaluation,
    )
    from gan_tf.files import write_text
    from gan_tf.generate import load_generator
    from gan_tf.loop import METRICS_NAME, DivergenceError, read_metrics, train
    from gan_tf.report import RunResult, write_report

    out_dir = Path(study.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_data(study.base.dataset, study.base.data)
    classifier, info = load_or_train_classifier(data, study.base.cache_dir, verbose=verbose)
    evaluator = Evaluator(classifier, data, n=study.final_n, seed=0, info=info)

    grid = study.grid()
    results = []
    started = time.perf_counter()
    trained = 0
    for index, (variant, lr, seed) in enumerate(grid, start=1):
        config = study.run_config(variant, lr, seed)
        name = f"[{index}/{len(grid)}] {variant.label}, lr {lr:g}, seed {seed}"
        if _finished(config, study.final_n):
            if verbose:
                print(f"{name}: finished, skipped")
        else:
            if verbose:
                elapsed = time.perf_counter() - started
                eta = (
                    ""
                    if not trained
                    else f", about {elapsed / trained * (len(grid) - index + 1) / 60:.0f} min left"
                )
                print(f"{name}: training{eta}", flush=True)
            try:
                train(config, verbose=0)
                result = evaluator.report(load_generator(config.out_dir), seed=seed)
                write_evaluation(config.out_dir, result)
            except DivergenceError as e:
                # A result too: kept in the run folder and the report, not retried.
                write_text(Path(config.out_dir) / DIVERGED_NAME, json.dumps({"error": str(e)}))
                if verbose:
                    print(f"{name}: diverged ({e})")
            trained += 1
        rows = read_metrics(Path(config.out_dir) / METRICS_NAME)
        evaluation_path = Path(config.out_dir) / EVALUATION_NAME
        evaluation = json.loads(evaluation_path.read_text()) if evaluation_path.is_file() else {}
        results.append(
            RunResult(
                variant=variant.label,
                lr=lr,
                seed=seed,
                run_dir=Path(config.out_dir),
                metrics=rows,
                final=evaluation,
                wall_time=sum(row["seconds"] for row in rows),
            )
        )
    path = write_report(
        results, out_dir / "report", budget=describe_budget(study, len(data.x_train))
    )
    if verbose:
        print(f"Wrote {path}")
    return path


def describe_budget(study: StudyConfig, n_train: int) -> str:
    """One sentence stating what each run was given."""
    base = study.base
    images = min(base.train_limit or n_train, n_train)
    steps = -(-images // base.batch_size)
    if base.max_steps_per_epoch:
        steps = min(steps, base.max_steps_per_epoch)
    return (
        f"Each run: {base.epochs} epochs of {steps} steps at batch {base.batch_size} "
        f"({base.epochs * steps} steps) on {images} training images "
        f"({base.data or base.dataset}); Adam β1 {base.beta1}; "
        f"{len(study.seeds)} seed(s) ({', '.join(map(str, study.seeds))}); quality scored on "
        f"{base.eval_n} samples every {base.eval_every} epoch(s) and on {study.final_n} at the end."
    )


def build_parser() -> ArgumentParser:
    defaults = Config()
    parser = ArgumentParser(
        prog="python -m gan_tf.study",
        description=__doc__.split("\n\n", 1)[1],
    )
    grid = parser.add_argument_group("the grid")
    grid.add_argument(
        "--variants",
        nargs="+",
        default=list(DEFAULT_VARIANTS),
        metavar="V",
        help="discriminator activations: relu, leaky_relu or leaky_relu:ALPHA "
        f"(default: {' '.join(DEFAULT_VARIANTS)})",
    )
    grid.add_argument(
        "--lrs",
        nargs="+",
        type=float,
        default=list(DEFAULT_LRS),
        metavar="LR",
        help="Adam learning rates, for G and D alike (default: 1e-4 1e-3)",
    )
    grid.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=list(DEFAULT_SEEDS),
        metavar="SEED",
        help="seeds; the same seed gives every variant the same data order, noise and "
        "initial weights (default: 0 1 2)",
    )
    budget = parser.add_argument_group("the budget of each run")
    budget.add_argument(
        "--epochs", type=positive_int, default=defaults.epochs, help="(default: %(default)s)"
    )
    budget.add_argument(
        "--max-steps-per-epoch", type=positive_int, help="cut epochs short (default: none)"
    )
    budget.add_argument(
        "--batch-size",
        type=positive_int,
        default=defaults.batch_size,
        help="(default: %(default)s)",
    )
    budget.add_argument(
        "--train-limit",
        type=positive_int,
        help="a seeded subset of N training images (default: all)",
    )
    budget.add_argument(
        "--beta1", type=float, default=defaults.beta1, help="(default: %(default)s)"
    )
    measure = parser.add_argument_group("measurement")
    measure.add_argument(
        "--eval-every",
        type=positive_int,
        default=5,
        help="score samples every N epochs (default: 5)",
    )
    measure.add_argument(
        "--eval-n",
        type=positive_int,
        default=defaults.eval_n,
        help="samples per in-training score (default: %(default)s)",
    )
    measure.add_argument(
        "--final-n",
        type=positive_int,
        default=StudyConfig.final_n,
        help="samples for the final score, at least 10 (default: %(default)s)",
    )
    measure.add_argument("--cache-dir", help="classifier cache (default: ~/.cache/gan_tf)")
    io = parser.add_argument_group("data and output")
    io.add_argument(
        "--dataset", choices=DATASETS, default=defaults.dataset, help="(default: mnist)"
    )
    io.add_argument("--data", help="local .npz or IDX folder instead of a download")
    io.add_argument(
        "--out-dir", default=StudyConfig.out_dir, help="study folder (default: %(default)s)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """The `python -m gan_tf.study` command; bad input exits 2 with one line."""
    quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        variants = tuple(dict.fromkeys(Variant.parse(v) for v in args.variants))
        base = Config(
            epochs=args.epochs,
            batch_size=args.batch_size,
            beta1=args.beta1,
            max_steps_per_epoch=args.max_steps_per_epoch,
            train_limit=args.train_limit,
            eval_every=args.eval_every,
            eval_n=args.eval_n,
            cache_dir=args.cache_dir,
            dataset=args.dataset,
            data=args.data,
            checkpoint_every=1,
            max_checkpoints=1,
        )
        if args.final_n < 10:
            raise ValueError(f"--final-n must be at least 10, got {args.final_n}")
        study = StudyConfig(
            variants=variants,
            lrs=tuple(dict.fromkeys(args.lrs)),
            seeds=tuple(dict.fromkeys(args.seeds)),
            base=base,
            final_n=args.final_n,
            out_dir=args.out_dir,
        )
        for variant, lr, seed in study.grid():
            study.run_config(variant, lr, seed)  # validates every run before any trains
    except ValueError as e:
        parser.fail(e)

    from gan_tf.data import DataError
    from gan_tf.loop import RunDirError, TrainingInterrupted

    try:
        run_study(study)
    except (DataError, RunDirError, OSError) as e:
        parser.fail(e)
    except TrainingInterrupted as e:
        parser.exit(130, f"\n{parser.prog}: {e}; run the same study command to go on\n")
    except KeyboardInterrupt:
        parser.exit(130, f"\n{parser.prog}: interrupted; run the same command to go on\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
