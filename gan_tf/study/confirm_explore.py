"""Study v3's exploratory analysis, everything its plan puts outside the primary family:
per-arm summaries, the primary arms' other figures paired by seed, the stage-2 arms' late FD
against ReLU, collapse flags, and the link of dead channels with the gradient reaching G.
Uncorrected p-values and intervals throughout; nothing here is a confirmed finding.

Works on `V3Run` records and plain numbers; nothing here reads or writes a file.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from gan_tf.rundir import DEAD_CHANNELS_1, DEAD_CHANNELS_2, GRAD_TO_G, layer_column
from gan_tf.study.confirm import Test, late_fd, late_table, paired
from gan_tf.study.confirm_runs import EPOCHS, Arm, V3Run
from gan_tf.study.measures import COLLAPSE_RECALL, COLLAPSE_SCORE
from gan_tf.study.records import as_float
from gan_tf.study.stats import NAN, Correlation, correlate

DEAD_UNITS_2 = layer_column("dead_units", 2)
# Below this many points a correlation gets no bootstrap interval or permutation p: with 3
# or 4 points the bootstrap resamples little more than the points themselves.
MIN_CORRELATION_POINTS = 5
# Below this many runs with a dead channel at some epoch, the dead share is too rare to
# correlate with anything.
MIN_RUNS_WITH_DEAD = 3


def _at(rows: Sequence[dict], epoch: int, key: str) -> float:
    return next((as_float(r.get(key)) for r in rows if r.get("epoch") == epoch), NAN)


def _mean(values) -> float:
    """The mean of the finite `values`; NaN where there is none."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else NAN


def flagged_epochs(rows: Sequence[dict]) -> list[int]:
    """The evaluated epochs whose classifier score is below 2 or recall below 0.01 (the
    plan's collapse flags)."""
    return [
        int(r["epoch"])
        for r in rows
        if as_float(r.get("score")) < COLLAPSE_SCORE or as_float(r.get("recall")) < COLLAPSE_RECALL
    ]


def collapse_flags(rows: Sequence[dict]) -> int:
    """How many of a run's evaluations are collapse flags (`flagged_epochs`)."""
    return len(flagged_epochs(rows))


def training_hours(rows: Sequence[dict]) -> float:
    """Hours a run spent in training steps: its metrics rows' per-epoch `seconds` summed
    (evaluations, probes and start-up left out, and so is any attempt lost with a machine)."""
    seconds = [as_float(r.get("seconds")) for r in rows]
    return sum(s for s in seconds if math.isfinite(s)) / 3600


def finished(runs: Sequence[V3Run]) -> list[V3Run]:
    """The runs that reached the end of their budget (a late FD)."""
    return [run for run in runs if math.isfinite(late_fd(run.rows))]


def _mean_of(key: str):
    return lambda rows: _mean([as_float(r.get(key)) for r in rows])


# What the exploratory tables summarise per arm: a name and one run's figure.
EXPLORATORY = {
    "late FD": late_fd,
    "final FD": lambda rows: _at(rows, EPOCHS, "fd"),
    "score": lambda rows: _at(rows, EPOCHS, "score"),
    "recall": lambda rows: _at(rows, EPOCHS, "recall"),
    "precision": lambda rows: _at(rows, EPOCHS, "precision"),
    "coverage": lambda rows: _at(rows, EPOCHS, "covered"),
    "dead channels L1, epoch 1": lambda rows: _at(rows, 1, DEAD_CHANNELS_1),
    f"dead channels L1, epoch {EPOCHS}": lambda rows: _at(rows, EPOCHS, DEAD_CHANNELS_1),
    "dead channels L2, epoch 1": lambda rows: _at(rows, 1, DEAD_CHANNELS_2),
    f"dead channels L2, epoch {EPOCHS}": lambda rows: _at(rows, EPOCHS, DEAD_CHANNELS_2),
    "dead units L2": _mean_of(DEAD_UNITS_2),
    "grad to G": _mean_of(GRAD_TO_G),
}
# The figures the primary arms are also compared on, paired by seed, outside the family.
PAIRED_FIGURES = ("final FD", "score", "recall", "precision", "grad to G")


@dataclasses.dataclass(frozen=True)
class ArmSummary:
    """One arm's finished runs: their seeds, each `EXPLORATORY` figure as (mean, sd), and
    their collapse flags."""

    arm: Arm
    seeds: tuple[int, ...]
    figures: dict[str, tuple[float, float]]
    flags: int  # flagged evaluations over the arm's finished runs
    flagged_runs: int
    flagged_epochs: tuple[int, ...]  # the epochs flagged in any of them

    @property
    def runs(self) -> int:
        return len(self.seeds)


def summarise(runs: Sequence[V3Run]) -> list[ArmSummary]:
    """Per arm, in `Arm.order`, the exploratory figures over its finished runs."""
    summaries = []
    for arm in sorted({run.arm for run in runs}, key=Arm.order):
        mine = [r for r in finished(runs) if r.arm == arm]
        figures = {}
        for name, figure in EXPLORATORY.items():
            values = np.asarray([figure(r.rows) for r in mine], dtype=float)
            values = values[np.isfinite(values)]
            sd = float(values.std(ddof=1)) if values.size > 1 else NAN
            figures[name] = (_mean(values), sd)
        flags = [flagged_epochs(r.rows) for r in mine]
        epochs = tuple(sorted({e for f in flags for e in f}))
        summaries.append(
            ArmSummary(
                arm,
                tuple(r.seed for r in mine),
                figures,
                sum(map(len, flags)),
                sum(bool(f) for f in flags),
                epochs,
            )
        )
    return summaries


def paired_figures(runs: Sequence[V3Run]) -> list[Test]:
    """Each `PAIRED_FIGURES` figure of the primary LeakyReLU arms minus ReLU's, paired by
    seed over the seeds that finished both: mean, 95% t interval, uncorrected p."""
    tests = []
    for name in PAIRED_FIGURES:
        table = late_table(runs, figure=EXPLORATORY[name])
        for alpha in (0.2, 0.3):
            tests.append(paired(name, table, alpha, f"{name}: leaky_relu α={alpha:g} minus relu"))
    return tests


def exploratory_comparisons(runs: Sequence[V3Run]) -> list[Test]:
    """Paired late-FD differences of each stage-2 LeakyReLU arm against the ReLU arm of its
    setting, outside the primary family: uncorrected p, no reading."""
    tests = []
    for arm in sorted({run.arm for run in runs}, key=Arm.order):
        if arm.variant.activation == "relu" or (arm.primary and arm.variant.alpha > 0):
            continue
        what = f"{arm.label} minus {arm.reference().label}"
        tests.append(paired(arm.label, late_table(runs, arm), arm.variant.alpha, what))
    return tests


@dataclasses.dataclass(frozen=True)
class Mechanism:
    """The plan's exploratory link of dead channels with the gradient that reaches G, over
    the finished runs. Per run, the mean over its epochs of the share of D's dead layer-2
    channels and of the gradient norm reaching G's images (as study v2's mechanism); Pearson's
    r of the two (`stats.correlate`): within each arm, pooled over the arms whose dead share
    varies after each arm's means are taken from its runs ("centred by arm"), and between
    the arms' means. r is NaN where the dead share has no spread; the interval and p are NaN
    below MIN_CORRELATION_POINTS points."""

    most_dead: tuple[float, float]  # the largest dead share of layers 1 and 2, any epoch or run
    runs: int  # finished runs
    runs_with_dead: int  # of them, with a dead channel in either layer at some epoch
    epochs_with_dead: int  # (run, epoch) pairs with one
    within: list[tuple[Arm, Correlation]]
    centred: Correlation
    between: Correlation


def _correlation(x, y) -> Correlation:
    pearson = correlate(x, y)[0]
    if pearson.n < MIN_CORRELATION_POINTS:
        return dataclasses.replace(pearson, low=NAN, high=NAN, p=NAN)
    return pearson


def _has_dead(row: dict) -> bool:
    return any(as_float(row.get(c)) > 0 for c in (DEAD_CHANNELS_1, DEAD_CHANNELS_2))


def mechanism(runs: Sequence[V3Run]) -> Mechanism:
    """The exploratory correlations of `Mechanism` for `runs` (finished ones only)."""
    done = finished(runs)
    points = {}  # arm -> [(dead, grad)] per run
    for run in done:
        dead = _mean([as_float(r.get(DEAD_CHANNELS_2)) for r in run.rows])
        grad = _mean([as_float(r.get(GRAD_TO_G)) for r in run.rows])
        points.setdefault(run.arm, []).append((dead, grad))
    arms = sorted(points, key=Arm.order)
    within, centred_x, centred_y = [], [], []
    for arm in arms:
        dead, grad = np.asarray(points[arm]).T
        within.append((arm, _correlation(dead, grad)))
        # Rounding leaves an arm without spread a few ulps off 0: that is no spread.
        if np.ptp(dead) > 1e-12:
            centred_x += list(dead - dead.mean())
            centred_y += list(grad - grad.mean())
    means = [np.asarray(points[arm]).mean(axis=0) for arm in arms]
    most = [
        max((as_float(r.get(column)) for run in done for r in run.rows), default=NAN)
        for column in (DEAD_CHANNELS_1, DEAD_CHANNELS_2)
    ]
    return Mechanism(
        (most[0], most[1]),
        len(done),
        sum(any(map(_has_dead, run.rows)) for run in done),
        sum(_has_dead(r) for run in done for r in run.rows),
        within,
        _correlation(centred_x, centred_y),
        _correlation([m[0] for m in means], [m[1] for m in means]),
    )
