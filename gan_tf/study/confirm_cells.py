"""The cells of study v3's report tables: signed differences, intervals, mean ± sd, the seeds
a test used and a run's status, each with fixed decimals so that a rebuild gives the same
bytes."""

from __future__ import annotations

import math
from collections.abc import Sequence

from gan_tf.study.confirm import Test, late_fd
from gan_tf.study.confirm_runs import EPOCHS, PLAN_SEEDS, V3Run
from gan_tf.study.formatting import fmt


def signed(x: float, decimals: int = 2) -> str:
    """A difference with its sign and `decimals` places: "+3.20", "-1.05"; "n/a" for NaN."""
    return f"{x:+.{decimals}f}" if math.isfinite(x) else "n/a"


def interval(test: Test, decimals: int = 2) -> str:
    """The 95% interval with `decimals` places: "-1.00 to 7.40"."""
    if not math.isfinite(test.low):
        return "n/a"
    return f"{test.low:.{decimals}f} to {test.high:.{decimals}f}"


def mean_sd(figure: tuple[float, float], decimals: int | None, scale=1.0, unit="") -> str:
    """The mean ± sd with `decimals` places (None: enough for 3 significant figures of the
    mean); the mean alone where there is no sd, "n/a" where there is no mean."""
    mean, sd = figure
    if decimals is None:
        size = abs(mean * scale)
        decimals = max(2 - math.floor(math.log10(size)), 0) if 0 < size < math.inf else 2
    if not math.isfinite(sd):
        return fmt(mean, decimals, scale, unit)
    return f"{fmt(mean, decimals, scale, unit)} ± {fmt(sd, decimals, scale, unit)}"


def seeds_used(test: Test, seeds: Sequence[int] = PLAN_SEEDS) -> str:
    """How many seeds a test used, and which of the plan's it left out."""
    left_out = [str(s) for s in seeds if s not in test.seeds]
    return f"{test.n}" + (f" (left out: {', '.join(left_out)})" if left_out else "")


def status(run: V3Run) -> str:
    if math.isfinite(late_fd(run.rows)):
        return "finished"
    return "diverged" if run.diverged else f"unfinished ({len(run.rows)} of {EPOCHS} epochs)"
