"""The ReLU vs LeakyReLU study: a grid of runs that differ only in D's hidden activation.

    python -m gan_tf.study [--variants relu leaky_relu:0.01 ...] [--settings tutorial stressed]
                           [--seeds 0 1 2] [--epochs 50] [--out-dir runs/study]
                           [--jobs N] [--shard I/N] [--pilot RUN_DIR ...]

Every run uses the same data, data order, noise, dropout seeds and initial
weights for a given seed; only the discriminator's activation (and the optimiser
setting: learning rate of both networks and Adam's beta_1) changes. Each run is a
normal gan_tf run folder under OUT_DIR/runs/, scored during training every
--eval-every epochs and at the end on --final-n samples. OUT_DIR/report/ gets
report.md, plots and a side-by-side GIF. Running the same command again skips
finished runs and resumes unfinished ones; --shard lets several processes or
machines share one study folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import shlex
import sys

from gan_tf.cli.common import (
    ArgumentParser,
    command_name,
    config_flags,
    flag,
    given_config_values,
    positive_int,
    train_command,
    with_guessed_dataset,
)
from gan_tf.cli.quiet import quiet_tensorflow
from gan_tf.config import MIN_SAMPLES, Config, Variant, with_architecture_defaults
from gan_tf.study.grid import (
    BUDGET_FIELDS,
    CLASSIFIER_DIR,
    DATA_FIELDS,
    DEFAULT_SEEDS,
    DEFAULT_VARIANTS,
    MEASURE_FIELDS,
    MODEL_FIELDS,
    STUDY_BASE,
    STUDY_FIELDS,
    StudyConfig,
    run_study,
)
from gan_tf.study.settings import DEFAULT_SETTINGS, SETTINGS, lr_setting
from gan_tf.study.wording import Wording


def shard(text: str) -> tuple[int, int]:
    """argparse type: "I/N" with 0 <= I < N."""
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or not int(match.group(1)) < int(match.group(2)):
        raise argparse.ArgumentTypeError(f"expected I/N with 0 <= I < N, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def build_parser() -> ArgumentParser:
    defaults = StudyConfig()
    parser = ArgumentParser(
        prog=command_name("study"),
        description=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    described = ", ".join(f"{s.name} (lr {s.lr:g}, β1 {s.beta1:g})" for s in SETTINGS.values())
    grid.add_argument(
        "--settings",
        nargs="+",
        choices=list(SETTINGS),
        metavar="S",
        help=f"optimiser settings: {described} (default: {' '.join(DEFAULT_SETTINGS)})",
    )
    grid.add_argument(
        "--lrs",
        nargs="+",
        type=float,
        metavar="LR",
        help="instead of --settings: Adam learning rates, for G and D alike, with --beta1",
    )
    grid.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=list(DEFAULT_SEEDS),
        metavar="SEED",
        help="seeds; the same seed gives every variant the same data order, noise and "
        f"initial weights (default: {' '.join(map(str, DEFAULT_SEEDS))})",
    )
    budget = parser.add_argument_group("the budget of each run")
    parser.add_config_flags(budget, BUDGET_FIELDS, defaults.base, keep_absent=True)
    measure = parser.add_argument_group("measurement")
    measure_flags = [name for name in MEASURE_FIELDS if name != "cache_dir"]
    parser.add_config_flags(measure, measure_flags, defaults.base, keep_absent=True)
    parser.add_cache_dir_flag(
        measure,
        f"OUT_DIR/{CLASSIFIER_DIR}, whatever $GAN_TF_CACHE_DIR says: one classifier scores "
        "every run and shard of the study, wherever they train; one trained on another "
        "machine differs slightly",
    )
    measure.add_argument(
        "--final-n",
        type=positive_int,
        default=defaults.final_n,
        help=f"samples for the final score, at least {MIN_SAMPLES} (default: {defaults.final_n})",
    )
    measure.add_argument(
        "--pilot",
        nargs="+",
        action="extend",
        default=[],
        metavar="RUN_DIR",
        help="run folders outside the grid (ordinary gan_tf.train runs: the pilot that chose "
        "the budget, a longer reference run) whose scores over training the report shows "
        "(default: none)",
    )
    io = parser.add_argument_group("data, output and scale")
    parser.add_config_flags(io, DATA_FIELDS, defaults.base, keep_absent=True)
    model = parser.add_argument_group(
        "the networks (every run alike; the study needs 10-class data: mnist, fashion_mnist "
        "or cifar10)"
    )
    parser.add_config_flags(model, MODEL_FIELDS, defaults.base, keep_absent=True)
    io.add_argument(
        "--out-dir", default=defaults.out_dir, help=f"study folder (default: {defaults.out_dir})"
    )
    io.add_argument(
        "--jobs",
        type=positive_int,
        default=1,
        help="runs trained at once, each in its own process: for a GPU, which one small run "
        "leaves mostly idle (default: 1)",
    )
    io.add_argument(
        "--shard",
        type=shard,
        default=(0, 1),
        metavar="I/N",
        help="train only every N-th run of the grid, starting at run I (0-based), so N "
        "processes or machines share one --out-dir; each writes the report of the runs "
        "finished so far (default: 0/1, all)",
    )
    return parser


def study_from_args(args: argparse.Namespace) -> StudyConfig:
    """The StudyConfig of the parsed flags.

    Raises:
        ConfigError: a bad variant, setting or budget value.
    """
    from gan_tf.errors import ConfigError

    defaults = StudyConfig()
    if args.settings and args.lrs:
        raise ConfigError("give --settings or --lrs, not both")
    given = given_config_values(args)
    given.pop("out_dir")  # the study's folder, not a run's: run_config names each run's
    # Flags left out take the study's defaults, or with --architecture dcgan the paper's
    # (image size, batch size, dropout; each run's lr, beta1 and alpha come from the grid).
    base = dataclasses.replace(
        defaults.base, **with_architecture_defaults(with_guessed_dataset(given))
    )
    if args.lrs:
        settings = tuple(lr_setting(lr, base.beta1) for lr in dict.fromkeys(args.lrs))
    else:
        names = args.settings or DEFAULT_SETTINGS
        settings = tuple(SETTINGS[name] for name in dict.fromkeys(names))
    return StudyConfig(
        variants=tuple(dict.fromkeys(Variant.parse(v) for v in args.variants)),
        settings=settings,
        seeds=tuple(dict.fromkeys(args.seeds)),
        base=base,
        final_n=args.final_n,
        out_dir=args.out_dir,
        pilots=tuple(dict.fromkeys(args.pilot)),
    )


def study_command(study: StudyConfig) -> str:
    """The `gan_tf.study` command of this study: run again, it trains what is unfinished and
    rewrites the report from the run folders.

    What a study built in Python sets and no study flag can say (a field of every run
    without a flag, a None budget, settings that --settings and --lrs cannot name) is
    appended as a shell comment, not dropped.

    Args:
        study: the study.

    Returns:
        One shell-quoted line, with the flags that differ from the defaults.
    """
    defaults = StudyConfig()
    words, unsaid = shlex.split(command_name("study")), []
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
    flagged = BUDGET_FIELDS + MEASURE_FIELDS + DATA_FIELDS + MODEL_FIELDS
    # What the flags left out give: the study's defaults, or with --architecture (said
    # first) the paper's.
    implied = dataclasses.replace(
        STUDY_BASE, **with_architecture_defaults({"architecture": base.architecture})
    )
    words += config_flags(base, STUDY_BASE, ["architecture"])
    words += config_flags(base, implied, flagged)
    if study.final_n != defaults.final_n:
        words += ["--final-n", str(study.final_n)]
    if study.pilots:
        words += ["--pilot", *study.pilots]
    for field in dataclasses.fields(Config):
        value = getattr(base, field.name)
        no_flag = field.name not in STUDY_FIELDS or (field.name in flagged and value is None)
        if no_flag and value != getattr(implied, field.name):
            unsaid.append(f"{field.name}={value!r}")
    command = shlex.join([*words, "--out-dir", study.out_dir])
    return command + (f"  # set in Python, no flag for: {'; '.join(unsaid)}" if unsaid else "")


def main(argv: list[str] | None = None) -> int:
    """The `python -m gan_tf.study` command; bad input exits 2 with one line."""
    quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)

    def body() -> None:
        study = study_from_args(args)
        # The report prints this command, each pilot's training command and flags, not
        # the library's field names.
        wording = Wording(study_command(study), train_command, flag)
        run_study(
            study,
            jobs=args.jobs,
            shard=args.shard,
            wording=wording,
            worker_setup=quiet_tensorflow,
        )

    return parser.run(body, resume_hint="; run the same study command to go on")


if __name__ == "__main__":
    sys.exit(main())
