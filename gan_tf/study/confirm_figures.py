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

from gan_tf.study.confirm import DELTA, QUARTER, Test, late_fd
from gan_tf.study.confirm_explore import finished, flagged_epochs
from gan_tf.study.confirm_runs import EPOCHS, PLAN_BUDGET, Arm, V3Run
from gan_tf.study.figures import save_png, tab10
from gan_tf.study.measures import COLLAPSE_RECALL, COLLAPSE_SCORE
from gan_tf.study.records import as_float
from gan_tf.study.stats import LEVEL

LATE_FD_NAME = "late_fd.png"


def _fd_curve(run: V3Run) -> np.ndarray:
    """FD at epochs 1..EPOCHS (NaN where not evaluated)."""
    by_epoch = {int(r["epoch"]): as_float(r.get("fd")) for r in run.rows if "epoch" in r}
    return np.asarray([by_epoch.get(e, math.nan) for e in range(1, EPOCHS + 1)])


# The curves' y axis stops a little above the highest FD from this epoch on: the first
# epochs' FDs (several hundred) would otherwise squash the late window, where the endpoint is.
CURVES_FROM_EPOCH = 4


def _per_seed(panel, arms, seeds, late) -> None:
    """Each seed's late FD in each arm, joined by seed, and each arm's mean."""
    x = np.arange(len(arms))
    for seed in seeds:
        values = [late.get((arm, seed), math.nan) for arm in arms]
        panel.plot(x, values, "-o", color="0.6", lw=1, ms=4, zorder=1)
        last = max((i for i, v in enumerate(values) if math.isfinite(v)), default=None)
        if last is not None:
            panel.annotate(
                f"seed {seed}", (x[last], values[last]), xytext=(6, 0),
                textcoords="offset points", va="center", fontsize=7, color="0.4",
            )  # fmt: skip
    for i, arm in enumerate(arms):
        mean = float(np.mean([late[(arm, s)] for s in seeds if (arm, s) in late]))
        panel.plot(i, mean, "_", color="black", ms=22, mew=2.5, zorder=3)
    panel.set_xticks(x, [arm.label for arm in arms])
    panel.set_xlim(-0.4, len(arms) - 0.4)
    panel.set_ylabel("late FD (lower is better)")
    panel.set_title("Late FD per seed, joined by seed;\nblack bar: the arm's mean", fontsize=10)


def _differences(panel, primary, late) -> None:
    """Each seed's paired difference, LeakyReLU minus ReLU, with H1's and H2's mean and 95% t
    interval (the report's own tests, `primary`), 0 and ±δ."""
    h1, h2, _ = primary
    for i, (test, alpha) in enumerate(((h1, 0.2), (h2, 0.3))):
        relu = {s: v for (arm, s), v in late.items() if arm.variant.activation == "relu"}
        mine = {s: v for (arm, s), v in late.items() if arm.variant.alpha == alpha and s in relu}
        differences = [mine[s] - relu[s] for s in sorted(mine) if s in test.seeds]
        panel.plot([i] * len(differences), differences, "o", color=tab10(i + 1), ms=5, zorder=2)
        if math.isfinite(test.low):
            error = [[test.estimate - test.low], [test.high - test.estimate]]
            panel.errorbar(
                i + 0.18, test.estimate, yerr=error, fmt="s", color="black", capsize=5, zorder=3
            )
    panel.axhline(0, color="0.3", lw=1)
    for edge in (-DELTA, DELTA):
        panel.axhline(edge, color="0.5", lw=1, ls="--")
    panel.text(-0.45, DELTA, f"+δ = {DELTA:g}", va="bottom", ha="left", fontsize=8, color="0.4")
    panel.set_xticks([0, 1], [f"{h1.name}: α=0.2 minus relu", f"{h2.name}: α=0.3 minus relu"])
    panel.set_xlim(-0.5, 1.5)
    panel.set_ylabel("late FD difference (above 0: ReLU better)")
    panel.set_title(
        f"Paired differences per seed;\nblack: mean with its {LEVEL:.0%} t interval (H1, H2)",
        fontsize=10,
    )


def _curves(panel, arms, finished) -> None:
    """Every run's FD per epoch, the late window shaded, collapse flags marked."""
    epochs = np.arange(1, EPOCHS + 1)
    first_late = EPOCHS - math.ceil(EPOCHS * QUARTER) + 1
    panel.axvspan(first_late - 0.5, EPOCHS + 0.5, color="0.92", zorder=0)
    panel.text(
        first_late - 0.3, 0.97, "late window", transform=panel.get_xaxis_transform(),
        va="top", fontsize=8, color="0.4",
    )  # fmt: skip
    curves = {run.name: _fd_curve(run) for run in finished}
    later = np.concatenate([fd[CURVES_FROM_EPOCH - 1 :] for fd in curves.values()])
    top = 1.1 * float(np.nanmax(later)) if np.isfinite(later).any() else None
    hidden = set()
    for i, arm in enumerate(arms):
        for j, run in enumerate(r for r in finished if r.arm == arm):
            fd = curves[run.name]
            label = arm.label if j == 0 else None
            panel.plot(epochs, fd, color=tab10(i), lw=1, alpha=0.8, label=label)
            marks = [e for e in flagged_epochs(run.rows) if math.isfinite(fd[e - 1])]
            hidden |= {e for e in marks if top is not None and fd[e - 1] > top}
            shown = [e for e in marks if e not in hidden]
            if shown:
                panel.plot(shown, fd[np.asarray(shown) - 1], "x", color=tab10(i), ms=7, mew=2)
    panel.plot([], [], "x", color="black", label="collapse flag")
    if top is not None:
        panel.set_ylim(0, top)
    steps, batch = PLAN_BUDGET["max_steps_per_epoch"], PLAN_BUDGET["batch_size"]
    panel.set_xlabel(f"epoch ({steps} steps at batch {batch})")
    panel.set_ylabel("FD")
    panel.set_xlim(0.5, EPOCHS + 0.5)
    note = ""
    if hidden:
        off = ", ".join(map(str, sorted(hidden)))
        note = f"; flags above the top at epoch{'s' if len(hidden) > 1 else ''} {off}"
    panel.set_title(
        f"FD at every epoch (N = {PLAN_BUDGET['eval_n']:,}), one line per run;\ncollapse flag: "
        f"score < {COLLAPSE_SCORE:g} or recall < {COLLAPSE_RECALL:g}{note}",
        fontsize=10,
    )
    panel.legend(fontsize=8, loc="upper center")


def plot_late_fd(runs: Sequence[V3Run], path: Path, primary: tuple[Test, Test, Test]) -> bool:
    """Writes the figure of the primary arms' finished runs to `path`: each seed's late FD in
    each arm, joined by seed; the paired differences that H1 and H2 test, with their means and
    95% t intervals; and every run's FD per epoch, the late window shaded and collapse flags
    marked.

    Args:
        runs: study v3's runs.
        path: the PNG to write.
        primary: the report's primary family of `runs` (`confirm(runs).primary`), whose H1
            and H2 the middle panel draws.

    Returns:
        False (and writes nothing) when no primary run has finished.
    """
    done = [r for r in finished(runs) if r.arm.primary]
    if not done:
        return False
    arms = sorted({r.arm for r in done}, key=Arm.order)
    seeds = sorted({r.seed for r in done})
    late = {(r.arm, r.seed): late_fd(r.rows) for r in done}

    fig = Figure(figsize=(16, 4.8))
    per_seed, differences, curves = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 0.8, 1.4]})
    _per_seed(per_seed, arms, seeds, late)
    _differences(differences, primary, late)
    _curves(curves, arms, done)
    fig.tight_layout()
    save_png(fig, path)
    return True
