"""Study v3's runs and its log, as `confirm` reads them: the arms and seeds of the plan
(docs/study/v3/plan.md), one run folder as a `V3Run`, log.csv, and the pre-registration check
that every analysed run started after the plan's commit, under that commit.

The plan's commit is read from log.csv; its commit time comes from the caller (the command
layer asks git), so nothing here runs a program.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
from collections.abc import Sequence
from pathlib import Path

from gan_tf.config import Config, Variant
from gan_tf.errors import RunDirError, UserError
from gan_tf.rundir import RunDir
from gan_tf.study.records import variant_order

PLAN_SEEDS = (10, 11, 12, 13, 14, 15)
PRIMARY_ALPHAS = (0.0, 0.2, 0.3)  # relu, and LeakyReLU's two slopes of stage 1
# What every v3 run shares, by its `Config` field: 16 epochs of 250 steps at batch 64, each
# evaluated on 5,000 samples.
PLAN_BUDGET = {
    "epochs": 16,
    "max_steps_per_epoch": 250,
    "batch_size": 64,
    "eval_every": 1,
    "eval_n": 5000,
}
EPOCHS = PLAN_BUDGET["epochs"]
BUDGET_HOURS = 8.0  # the plan's CPU budget for the whole study; stage 2 only within it
LOG_COLUMNS = ("run", "event", "utc", "plan_commit")
EVENTS = ("start", "finish")


@dataclasses.dataclass(frozen=True)
class Arm:
    """An arm of the study: D's activation, its dropout, Adam's learning rate (of G and D
    alike) and β1. The defaults are the primary setting."""

    variant: Variant
    dropout: float = 0.3
    lr: float = 2e-4
    beta1: float = 0.5

    @classmethod
    def of(cls, config: Config) -> Arm:
        return cls(config.variant, config.dropout, config.gen_lr, config.beta1)

    def same_setting(self, other: Arm) -> bool:
        """Trained with the same dropout, learning rate and β1 as `other`."""
        return (self.dropout, self.lr, self.beta1) == (other.dropout, other.lr, other.beta1)

    @property
    def primary(self) -> bool:
        """One of the three arms of the primary family (stage 1)."""
        return self.same_setting(PRIMARY) and self.variant.alpha in PRIMARY_ALPHAS

    def reference(self) -> Arm:
        """The ReLU arm of this arm's setting."""
        return dataclasses.replace(self, variant=Variant("relu"))

    @property
    def label(self) -> str:
        """For people: "relu", "leaky_relu α=0.2, dropout 0", "relu, lr 0.001"."""
        parts = [self.variant.label]
        parts += [f"dropout {self.dropout:g}"] if self.dropout != PRIMARY.dropout else []
        parts += [f"lr {self.lr:g}"] if self.lr != PRIMARY.lr else []
        parts += [f"β1 {self.beta1:g}"] if self.beta1 != PRIMARY.beta1 else []
        return ", ".join(parts)

    def order(self) -> tuple:
        """Sort key: the primary setting first, then by setting, relu first within one."""
        setting = (not self.same_setting(PRIMARY), self.lr, -self.dropout, self.beta1)
        return (*setting, *variant_order(self.variant))


PRIMARY = Arm(Variant("relu"))


def run_name(config: Config) -> str:
    """The folder name the study's script gives a run of these settings, e.g.
    "leaky_relu_0.2_lr0.0002_b0.5_d0_seed10"."""
    name = f"{config.variant.slug}_lr{config.gen_lr:g}_b{config.beta1:g}"
    name += f"_d{config.dropout:g}" if config.dropout != PRIMARY.dropout else ""
    return f"{name}_seed{config.seed}"


@dataclasses.dataclass(frozen=True)
class V3Run:
    """One v3 run folder: its name, arm, seed, metrics.csv rows, and whether it diverged
    (a diverged.json in the folder says so)."""

    name: str
    arm: Arm
    seed: int
    rows: tuple[dict, ...]
    diverged: bool = False

    def order(self) -> tuple:
        """Sort key: the primary arms first, seed by seed as they trained, then the rest."""
        return (not self.arm.primary, self.seed, self.arm.order())


def load_v3_run(folder: str | Path) -> V3Run:
    """One run folder of study v3.

    Raises:
        RunDirError: it has no readable config.json or metrics.csv, it was trained with a
            budget other than the plan's or with different learning rates for G and D, or
            its name is not the one its settings give.
    """
    run = RunDir(folder)
    config = run.read_config()
    if config is None:
        raise RunDirError(f"{run.config}: missing; not a gan_tf run folder")
    for field, planned in PLAN_BUDGET.items():
        if getattr(config, field) != planned:
            value = getattr(config, field)
            raise RunDirError(
                f"{run.path}: trained with {field} {value!r}; the plan fixes {planned}"
            )
    if config.gen_lr != config.disc_lr:
        raise RunDirError(f"{run.path}: G and D have different learning rates; no v3 arm does")
    if run_name(config) != run.path.name:
        raise RunDirError(
            f"{run.path}: its settings give the name {run_name(config)}, which the log uses"
        )
    rows = tuple(run.read_metrics())
    return V3Run(run.path.name, Arm.of(config), config.seed, rows, run.diverged.is_file())


def load_runs(runs_dir: str | Path) -> list[V3Run]:
    """Every run folder in `runs_dir` (hidden entries and files aside), in `V3Run.order`.

    Raises:
        UserError: `runs_dir` is not a folder, or a folder in it is not a v3 run.
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise UserError(f"{runs_dir}: no such folder of runs")
    folders = sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    return sorted((load_v3_run(folder) for folder in folders), key=V3Run.order)


def parse_time(text: str) -> datetime.datetime:
    """An ISO 8601 time ("2026-12-07T03:00:00Z", "2026-12-07T01:07:23+00:00"); one without
    a zone is UTC.

    Raises:
        ValueError: not such a time.
    """
    text = text.strip()
    when = datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)


@dataclasses.dataclass(frozen=True)
class LogEntry:
    """One line of log.csv: a run's start or finish, in UTC, under a plan commit."""

    run: str
    event: str
    utc: str
    plan_commit: str
    cpu: str = ""

    @property
    def when(self) -> datetime.datetime:
        return parse_time(self.utc)


def read_log(path: str | Path) -> list[LogEntry]:
    """The entries of a study log (columns run, event, utc, plan_commit, cpu).

    Raises:
        UserError (setting "log"): no such file, a missing column, an unknown event or a
            time that does not parse.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file", setting="log")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in LOG_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(f"{path}: not a study log (no {', '.join(missing)})", setting="log")
        entries = []
        for row in reader:
            entry = LogEntry(*(str(row.get(c) or "").strip() for c in (*LOG_COLUMNS, "cpu")))
            try:
                entry.when  # noqa: B018 (parsed here, so that a bad time fails now)
            except ValueError:
                entry = dataclasses.replace(entry, event="")
            if entry.event not in EVENTS:
                where = f"{path}, line {reader.line_num}"
                raise UserError(f"{where}: not a start or finish with a UTC time", setting="log")
            entries.append(entry)
    return entries


def plan_commit(entries: Sequence[LogEntry]) -> str:
    """The plan commit that every entry of the log names.

    Raises:
        UserError (setting "log"): the log names none, or more than one.
    """
    commits = sorted({entry.plan_commit for entry in entries})
    if len(commits) != 1:
        found = ", ".join(commits) or "none"
        raise UserError(f"must name one plan commit for every run; it names {found}", setting="log")
    return commits[0]


@dataclasses.dataclass(frozen=True)
class Plan:
    """The plan's commit and its commit time, as git gives it (ISO 8601)."""

    commit: str
    committed: str

    @property
    def when(self) -> datetime.datetime:
        return parse_time(self.committed)


@dataclasses.dataclass(frozen=True)
class Registration:
    """One analysed run against the plan: its first start, and whether it came after the
    plan's commit under that commit."""

    run: str
    first_start: str
    plan_committed: str
    after_plan: bool
    plan_commit: str
    logged_hours: float = float("nan")  # first start to last finish; NaN: not finished


def logged_hours(entries: Sequence[LogEntry], run: str) -> float:
    """Hours from `run`'s first start in the log to its last finish, pauses and restarts
    included; NaN when the log has no finish for it."""
    starts = [e.when for e in entries if e.run == run and e.event == "start"]
    finishes = [e.when for e in entries if e.run == run and e.event == "finish"]
    if not starts or not finishes:
        return float("nan")
    return (max(finishes) - min(starts)).total_seconds() / 3600


def check_preregistration(
    runs: Sequence[V3Run], entries: Sequence[LogEntry], plan: Plan
) -> list[Registration]:
    """Each run's first start in the log against the plan's commit time.

    Args:
        runs: the analysed runs.
        entries: the study log (`read_log`).
        plan: the plan's commit and its time.

    Returns:
        One `Registration` per run, in the order of `runs`.

    Raises:
        UserError: a run has no start in the log, started no later than the plan's commit,
            or was logged under another plan commit; every such run is named.
    """
    registrations, problems = [], []
    for run in runs:
        logged = [entry for entry in entries if entry.run == run.name]
        starts = sorted((e for e in logged if e.event == "start"), key=lambda e: e.when)
        if not starts:
            problems.append(f"{run.name} has no start in the log")
            continue
        first = starts[0]
        others = sorted({e.plan_commit for e in logged} - {plan.commit})
        if others:
            problems.append(f"{run.name} was logged under plan commit {', '.join(others)}")
        after = first.when > plan.when
        if not after:
            problems.append(f"{run.name} started at {first.utc}, not after the plan")
        registrations.append(
            Registration(
                run.name,
                first.utc,
                plan.committed,
                after,
                first.plan_commit,
                logged_hours(logged, run.name),
            )
        )
    if problems:
        raise UserError(
            f"pre-registration check failed (plan {plan.commit} committed {plan.committed}): "
            + "; ".join(problems)
        )
    return registrations


def unlisted(runs: Sequence[V3Run], entries: Sequence[LogEntry]) -> list[str]:
    """The runs that the log names and `runs` lacks (a folder not committed, say), sorted."""
    return sorted({entry.run for entry in entries} - {run.name for run in runs})
