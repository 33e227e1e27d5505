"""The picture of study v3's report: the primary endpoint seed by seed, and the FD curves it
averages. Drawn from the same `V3Run` records as the report, on the Agg canvas (no pyplot), so
that a rebuild from the same runs writes the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from scipy import stats

from gan_tf.study.confirm import QUARTER, collapse_flags, late_fd
from gan_tf.study.confirm_runs import EPOCHS, PLAN_BUDGET, Arm, V3Run
from gan_tf.study.figures import plain_tick, save_png, tab10
from gan_tf.study.measures import COLLAPSE_RECALL, COLLAPSE_SCORE
from gan_tf.study.records import as_float
from gan_tf.study.stats import LEVEL

LATE_FD_NAME = "late_fd.png"


def _fd_curve(run: V3Run) -> np.ndarray:
    """FD at epochs 1..EPOCHS (NaN where not evaluated)."""
    by_epoch = {int(r["epoch"]): as_float(r.get("fd")) for r in run.rows if "epoch" in r}
    return np.asarray([by_epoch.get(e, math.nan) for e in range(1, EPOCHS + 1)])


def _flagged_epochs(run: V3Run) -> list[int]:
    """The epochs of `run` whose evaluation is a collapse flag (`confirm.collapse_flags`)."""
    return [int(r["epoch"]) for r in run.rows if collapse_flags([r])]


def plot_late_fd(runs: Sequence[V3Run], path: Path) -> bool:
    """Writes the figure of the primary arms' finished runs to `path`: left, each seed's late
    FD in each arm, joined by seed, with each arm's mean and its 95% t interval; right, every
    run's FD per epoch, the late window shaded and collapse flags marked.

    Returns:
        False (and writes nothing) when no primary run has finished.
    """
    finished = [r for r in runs if r.arm.primary and math.isfinite(late_fd(r.rows))]
    if not finished:
        return False
    arms = sorted({r.arm for r in finished}, key=Arm.order)
    seeds = sorted({r.seed for r in finished})
    late = {(r.arm, r.seed): late_fd(r.rows) for r in finished}

    fig = Figure(figsize=(12, 4.6))
    paired, curves = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.5]})
    x = np.arange(len(arms))
    for seed in seeds:
        values = [late.get((arm, seed), math.nan) for arm in arms]
        paired.plot(x, values, "-o", color="0.6", lw=1, ms=4, zorder=1)
        last = max((i for i, v in enumerate(values) if math.isfinite(v)), default=None)
        if last is not None:
            paired.annotate(
                f"seed {seed}",
                (x[last], values[last]),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                color="0.4",
            )
    for i, arm in enumerate(arms):
        values = [late[(arm, s)] for s in seeds if (arm, s) in late]
        mean = float(np.mean(values))
        if len(values) > 1:
            low, high = stats.ttest_1samp(values, 0).confidence_interval(LEVEL)
            error = [[mean - low], [high - mean]]
            paired.errorbar(i, mean, yerr=error, fmt="s", color="black", capsize=5, zorder=3)
        else:
            paired.plot(i, mean, "s", color="black", zorder=3)
    paired.set_xticks(x, [arm.label for arm in arms])
    paired.set_xlim(-0.4, len(arms) - 0.4)
    paired.set_ylabel("late FD (lower is better)")
    paired.set_title(
        "Late FD per seed (grey, joined by seed);\n"
        f"black: arm mean with its {LEVEL:.0%} t interval",
        fontsize=10,
    )

    epochs = np.arange(1, EPOCHS + 1)
    first_late = EPOCHS - math.ceil(EPOCHS * QUARTER) + 1
    curves.axvspan(first_late - 0.5, EPOCHS + 0.5, color="0.92", zorder=0)
    curves.text(
        first_late - 0.3,
        0.97,
        "late window",
        transform=curves.get_xaxis_transform(),
        va="top",
        fontsize=8,
        color="0.4",
    )
    flagged = False
    for i, arm in enumerate(arms):
        color = tab10(i)
        for j, run in enumerate(r for r in finished if r.arm == arm):
            fd = _fd_curve(run)
            curves.plot(
                epochs, fd, color=color, lw=1, alpha=0.8, label=arm.label if j == 0 else None
            )
            marks = [e for e in _flagged_epochs(run) if math.isfinite(fd[e - 1])]
            if marks:
                flagged = True
                curves.plot(marks, fd[np.asarray(marks) - 1], "x", color=color, ms=7, mew=2)
    if flagged:
        curves.plot([], [], "x", color="black", label="collapse flag")
    curves.set_yscale("log")
    curves.yaxis.set_major_formatter(FuncFormatter(plain_tick))
    curves.yaxis.set_minor_formatter(FuncFormatter(plain_tick))
    steps, batch = PLAN_BUDGET["max_steps_per_epoch"], PLAN_BUDGET["batch_size"]
    curves.set_xlabel(f"epoch ({steps} steps at batch {batch})")
    curves.set_ylabel("FD (log scale)")
    curves.set_xlim(0.5, EPOCHS + 0.5)
    curves.set_title(
        f"FD at every epoch (N = {PLAN_BUDGET['eval_n']:,}), one line per run;\n"
        f"collapse flag: classifier score < {COLLAPSE_SCORE:g} or recall < {COLLAPSE_RECALL:g}",
        fontsize=10,
    )
    curves.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    save_png(fig, path)
    return True
