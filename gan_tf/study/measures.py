"""What one run measured, as numbers: its quality over training and at the end, the collapse
rule, its speed and time to quality, and the per-run figures the study compares.

Reads `RunResult`s only; nothing tests, draws or writes. A run collapsed if its classifier
score is below COLLAPSE_SCORE or its recall below COLLAPSE_RECALL (at the end for
`is_collapsed`, at each evaluated epoch for `collapse_flags`); FD figures of a collapsed run
are NaN, so they stay out of every FD statistic.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy import integrate

from gan_tf.rundir import (
    D_FAKE,
    D_REAL,
    DEAD_CHANNELS_1,
    DEAD_CHANNELS_2,
    GRAD_TO_G,
    QUALITY_COLUMNS,
)
from gan_tf.study.records import RunResult, as_float, column, epochs
from gan_tf.study.stats import NAN, finite

COLLAPSE_SCORE = 2.0
COLLAPSE_RECALL = 0.01
SCORE_THRESHOLDS = (5.0, 7.0)
SPEED_SPREAD = 1.5  # fastest / slowest run beyond which wall seconds are not comparable
FD_KEYS = ("fd", "fd_best", "fd_best_epoch", "fd_auc")  # never given for a collapsed run
# Per-epoch probes averaged over the epochs that probed them (`run_values`).
PROBED = (DEAD_CHANNELS_1, DEAD_CHANNELS_2, GRAD_TO_G)


def speed(run: RunResult) -> float:
    """Training images per wall second over the whole run (NaN without timed steps)."""
    images, seconds = run.images, run.seconds
    if not images.size or not np.isfinite(seconds[-1]) or seconds[-1] <= 0:
        return NAN
    return float(images[-1] / seconds[-1])


def speeds(runs: Sequence[RunResult]) -> np.ndarray:
    """The finite `speed` of each run."""
    return finite([speed(run) for run in runs])


def speed_spread(runs: Sequence[RunResult]) -> tuple[float, float] | None:
    """(slowest, fastest) training speed where the fastest run beat the slowest by more
    than SPEED_SPREAD, so that wall seconds do not compare runs; None otherwise."""
    measured = speeds(runs)
    if measured.size < 2 or measured.max() <= SPEED_SPREAD * measured.min():
        return None
    return float(measured.min()), float(measured.max())


def fd_over_run(run: RunResult) -> tuple[float, float, float]:
    """(best FD, its epoch, mean FD over training) over the evaluated epochs.

    The mean is the area under the FD curve (trapezoids over images seen, or epochs where
    steps are missing) divided by its span; one evaluated epoch gives its own FD.
    """
    fd, ok = column(run, "fd"), np.isfinite(column(run, "fd"))
    if not ok.any():
        return NAN, NAN, NAN
    best = int(np.argmin(np.where(ok, fd, np.inf)))
    x, y = run.images[ok], fd[ok]
    if not np.isfinite(x).all():
        x = epochs(run)[ok]
    span = x[-1] - x[0]
    auc = float(y[0]) if len(y) == 1 or span <= 0 else float(integrate.trapezoid(y, x) / span)
    return float(fd[best]), float(epochs(run)[best]), auc


def quality_at_end(run: RunResult) -> dict[str, float]:
    """The generator's figures from the final evaluation, else the last evaluated epoch."""
    generator = run.final.get("generator") if isinstance(run.final, dict) else None
    if isinstance(generator, dict) and generator:
        return {key: as_float(generator.get(key)) for key in QUALITY_COLUMNS}
    for row in reversed(run.metrics):
        values = {key: as_float(row.get(key)) for key in QUALITY_COLUMNS}
        if math.isfinite(values["score"]) or math.isfinite(values["recall"]):
            return values
    return dict.fromkeys(QUALITY_COLUMNS, NAN)


def is_collapsed(run: RunResult) -> bool | None:
    """Score < COLLAPSE_SCORE or recall < COLLAPSE_RECALL at the end; None: never evaluated."""
    quality = quality_at_end(run)
    score, recall = quality["score"], quality["recall"]
    if not (math.isfinite(score) or math.isfinite(recall)):
        return None
    return bool(score < COLLAPSE_SCORE or recall < COLLAPSE_RECALL)  # NaN compares False


def collapse_flags(run: RunResult) -> np.ndarray:
    """The collapse rule applied to each metrics row: 1 where an evaluated epoch meets it
    (score < COLLAPSE_SCORE or recall < COLLAPSE_RECALL), 0 where it does not, NaN where
    the epoch was not evaluated."""
    score, recall = column(run, "score"), column(run, "recall")
    evaluated = np.isfinite(score) | np.isfinite(recall)
    with np.errstate(invalid="ignore"):
        flagged = (score < COLLAPSE_SCORE) | (recall < COLLAPSE_RECALL)  # NaN compares False
    return np.where(evaluated, flagged.astype(float), NAN)


def was_evaluated(run: RunResult) -> bool:
    """Whether any epoch of the run was evaluated (so the collapse rule could judge it)."""
    return bool(np.isfinite(collapse_flags(run)).any())


@dataclasses.dataclass(frozen=True)
class Relapse:
    """An evaluated epoch that met the collapse rule after an earlier one had not."""

    epoch: float
    score: float
    recall: float
    fd: float
    back: float  # the next evaluated epoch that passed the rule again; NaN: none did


def relapses(run: RunResult) -> list[Relapse]:
    """The run's evaluated epochs that met the collapse rule after it had first passed it:
    a generator that had drawn digits and lost them (epochs flagged before the first pass
    are the start of training, before digits form, and are not counted here)."""
    flags = collapse_flags(run)
    passed = np.flatnonzero(flags == 0)
    if not passed.size:
        return []
    when, score, recall, fd = (
        epochs(run),
        column(run, "score"),
        column(run, "recall"),
        column(run, "fd"),
    )
    out = []
    for i in np.flatnonzero(flags == 1):
        if i > passed[0]:
            later = passed[passed > i]
            back = float(when[later[0]]) if later.size else NAN
            out.append(
                Relapse(float(when[i]), float(score[i]), float(recall[i]), float(fd[i]), back)
            )
    return out


def flagged_at_start(run: RunResult) -> float:
    """The last epoch of the run's first stretch of evaluated epochs that met the collapse
    rule (0 if its first evaluation passed; NaN if it never passed or was never evaluated)."""
    flags = collapse_flags(run)
    evaluated = np.flatnonzero(np.isfinite(flags))
    passed = np.flatnonzero(flags == 0)
    if not evaluated.size or not passed.size:
        return NAN
    before = evaluated[evaluated < passed[0]]
    return float(epochs(run)[before[-1]]) if before.size else 0.0


@dataclasses.dataclass(frozen=True)
class CollapseStart:
    """How the runs started against the collapse rule: of `evaluated` runs, the epochs
    up to which those flagged at their first evaluation(s) stayed flagged (`began`), and
    how many `never` passed it."""

    evaluated: int
    began: list[float]
    never: int


def collapse_start(runs: Sequence[RunResult]) -> CollapseStart | None:
    """The start of training against the collapse rule (None: no run was evaluated)."""
    evaluated = [r for r in runs if was_evaluated(r)]
    if not evaluated:
        return None
    starts = [flagged_at_start(r) for r in runs]
    never = sum(was_evaluated(r) and math.isnan(flagged_at_start(r)) for r in runs)
    return CollapseStart(len(evaluated), [s for s in starts if math.isfinite(s) and s > 0], never)


def course(runs: Sequence[RunResult], key: str) -> tuple[np.ndarray, np.ndarray]:
    """A per-epoch column over runs: the epochs where any run measured `key`, and a
    (runs x epochs) table of the values (NaN where a run has none at that epoch)."""
    x = np.asarray(
        sorted(
            {
                e
                for run in runs
                for e, v in zip(epochs(run), column(run, key), strict=True)
                if math.isfinite(v)
            }
        )
    )
    table = np.full((len(runs), x.size), NAN)
    for i, run in enumerate(runs):
        for e, v in zip(epochs(run), column(run, key), strict=True):
            if math.isfinite(v):
                table[i, np.searchsorted(x, e)] = v
    return x, table


def class_shares(figures: dict | None) -> np.ndarray | None:
    """The share of each class among an evaluation's samples, from its figures (a final
    evaluation's "generator" or "reference"); None where they have no class histogram."""
    counts = np.asarray((figures or {}).get("histogram") or [], dtype=float)
    if not counts.size or not np.isfinite(counts).all() or counts.sum() <= 0:
        return None
    return counts / counts.sum()


class Reached(NamedTuple):
    """Where a run first reached a score: steps done, images seen and wall seconds."""

    steps: float
    images: float
    seconds: float


def time_to_score(run: RunResult, threshold: float) -> Reached | None:
    """When the per-epoch score first reaches `threshold` (None: it never does)."""
    hit = np.flatnonzero(np.nan_to_num(column(run, "score"), nan=-np.inf) >= threshold)
    if not hit.size:
        return None
    i = hit[0]
    return Reached(float(run.steps[i]), float(run.images[i]), float(run.seconds[i]))


def steps_done(run: RunResult) -> float:
    """Training steps of the whole run (0 without metrics rows)."""
    return float(run.steps[-1]) if run.metrics else 0.0


def budget_steps(runs: Sequence[RunResult]) -> float:
    """The runs' budget in steps: the median over those with metrics (NaN without any)."""
    done = [steps_done(r) for r in runs if r.metrics]
    return float(np.median(done)) if done else NAN


def run_values(run: RunResult) -> dict[str, float]:
    """Every per-run figure the report uses; FD figures are NaN for a collapsed run.

    Final quality from the final evaluation; dead fractions and the gradient reaching G
    are means over the epochs that probed them (`max_dead_channels_2` their maximum,
    `probes` how many); D(x) and D(G(z)) from the last epoch that has them.
    """
    generator = run.final.get("generator", {}) if isinstance(run.final, dict) else {}
    values = {key: as_float(generator.get(key)) for key in QUALITY_COLUMNS}
    values["fd_best"], values["fd_best_epoch"], values["fd_auc"] = fd_over_run(run)
    for key in PROBED:
        probed = finite(column(run, key))
        values[key] = float(probed.mean()) if probed.size else NAN
    dead = finite(column(run, DEAD_CHANNELS_2))
    values["max_dead_channels_2"] = float(dead.max()) if dead.size else NAN
    values["probes"] = float(dead.size)
    for key in (D_REAL, D_FAKE):
        probed = finite(column(run, key))
        values[key] = float(probed[-1]) if probed.size else NAN
    values["wall_time"] = as_float(run.wall_time)
    if is_collapsed(run):
        values.update(dict.fromkeys(FD_KEYS, NAN))
    return values


def sample_size(runs: Sequence[RunResult], final: bool = False) -> float:
    """The samples behind the runs' FD: their final evaluation's (`final`) or their
    evaluations during training; NaN where the runs do not record it or disagree."""
    if final:
        sizes = {as_float(r.final.get("n")) for r in runs if r.final}
    else:
        sizes = {r.eval_n for r in runs}
    sizes = {n for n in sizes if math.isfinite(n)}
    return sizes.pop() if len(sizes) == 1 else NAN
