"""Study v3's confirmatory analysis as its plan (docs/study/v3/plan.md) fixes it: the late-FD
endpoint, the primary family (H1, H2, H3) with Holm's correction and the decision rule, and
the power of the paired t-test; `confirm` adds the exploratory analysis (`confirm_explore`).

Works on `V3Run` records (`confirm_runs` reads them from run folders) and plain numbers;
nothing here reads or writes a file. Every reading of the decision rule is computed from the
numbers; `confirm_report` only words them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats as scipy_stats

from gan_tf.study.confirm_runs import EPOCHS, PLAN_SEEDS, PRIMARY_ALPHAS, Arm, V3Run
from gan_tf.study.records import as_float
from gan_tf.study.stats import LEVEL, NAN, SIGNIFICANCE, Interval, holm

if TYPE_CHECKING:
    from gan_tf.study.confirm_explore import ArmSummary, Mechanism

QUARTER = 0.25  # late FD averages this share of a run's evaluations, the last ones
DELTA = 14.0  # the smallest difference the design must detect, in FD units
PLANNING_SD = 6.57  # sd of a paired late-FD difference in study v2, the plan's basis
FAMILY_SIZE = 3  # H1, H2, H3: Holm's m, whatever a test could not compute
POWER_TARGET = 0.8

RELU_BETTER = "ReLU is better"
LEAKY_BETTER = "LeakyReLU is better"
NO_DIFFERENCE = "no difference as large as δ"
UNDECIDED = "undecided"
CHANGES = "changes with α"
NOT_SHOWN = "not shown"


def late_fd(rows: Sequence[dict], quarter: float = QUARTER, epochs: int = EPOCHS) -> float:
    """The primary endpoint: the mean FD over the last quarter of a run's evaluations.

    Args:
        rows: a run's metrics.csv rows (`RunDir.read_metrics`).
        quarter: the share of the evaluations averaged, the last ones (the plan: a quarter,
            so epochs 13 to 16 when all 16 are evaluated).
        epochs: the run's budget; a run without a row for each of epochs 1..`epochs`, or
            without an evaluation at the last, is unfinished.

    Returns:
        The mean of `fd` over the last ceil(evaluations x quarter) evaluated epochs; NaN for
        an unfinished run, which the analysis leaves out.
    """
    by_epoch = {int(row["epoch"]): row for row in rows if "epoch" in row}
    if any(epoch not in by_epoch for epoch in range(1, epochs + 1)):
        return NAN
    fd = np.asarray([as_float(by_epoch[e].get("fd")) for e in range(1, epochs + 1)])
    if not np.isfinite(fd[-1]):
        return NAN
    evaluated = fd[np.isfinite(fd)]
    return float(evaluated[-math.ceil(evaluated.size * quarter) :].mean())


@dataclasses.dataclass(frozen=True)
class Test(Interval):
    """One test: a mean (of paired differences or of per-seed slopes) against 0.

    Attributes:
        name: "H1", "H2", "H3", or an exploratory comparison's name.
        what: what the estimate is, for people.
        seeds: the seeds it used (those with every arm it needs).
        estimate: the mean difference (LeakyReLU minus ReLU) or the mean slope.
        low, high: the estimate's 95% t interval (df = n - 1).
        dz: Cohen's d_z, mean / sd of the differences (NaN for a slope).
        t: the t statistic, with n - 1 degrees of freedom.
        p: the two-sided t-test's p; p_holm: after Holm over the primary family (NaN
            outside it).
        reading: the decision rule's reading ("" outside the primary family).
    """

    name: str
    what: str
    seeds: tuple[int, ...]
    estimate: float = NAN
    dz: float = NAN
    t: float = NAN
    p_holm: float = NAN
    reading: str = ""

    @property
    def n(self) -> int:
        return len(self.seeds)


def t_test(name: str, what: str, seeds: Sequence[int], values: Sequence[float]) -> Test:
    """The one-sample t-test of `values` (one per seed) against 0, with the mean's 95% t
    interval and d_z; without numbers below 2 values or where the values have no spread."""
    values = np.asarray(values, dtype=float)
    test = Test(name, what, tuple(seeds))
    if values.size < 2 or not values.std() > 0:
        return dataclasses.replace(test, estimate=float(values.mean()) if values.size else NAN)
    mean, sd = float(values.mean()), float(values.std(ddof=1))
    se, df = sd / math.sqrt(values.size), values.size - 1
    t = mean / se
    half = float(scipy_stats.t.ppf(0.5 + LEVEL / 2, df)) * se
    p = float(2 * scipy_stats.t.sf(abs(t), df))
    return dataclasses.replace(
        test, estimate=mean, low=mean - half, high=mean + half, dz=mean / sd, t=t, p=p
    )


def late_table(
    runs: Sequence[V3Run], setting: Arm | None = None, figure=None
) -> dict[int, dict[float, float]]:
    """{seed: {α: late FD}} of the finished runs at one setting (default: the primary arms),
    for the plan's seeds; an unfinished or diverged run has no entry. `figure(rows)` gives
    another figure of a finished run in place of the late FD (NaN: no entry)."""
    table: dict[int, dict[float, float]] = {}
    for run in runs:
        same = run.arm.primary if setting is None else run.arm.same_setting(setting)
        if not (same and run.seed in PLAN_SEEDS and math.isfinite(late_fd(run.rows))):
            continue
        value = late_fd(run.rows) if figure is None else figure(run.rows)
        if math.isfinite(value):
            table.setdefault(run.seed, {})[run.arm.variant.alpha] = value
    return table


def paired(name: str, table: dict[int, dict[float, float]], alpha: float, what: str = "") -> Test:
    """The paired t-test of late FD, LeakyReLU α = `alpha` minus ReLU, over the seeds that
    have both arms."""
    seeds = sorted(s for s, row in table.items() if 0.0 in row and alpha in row)
    differences = [table[s][alpha] - table[s][0.0] for s in seeds]
    what = what or f"leaky_relu α={alpha:g} minus relu"
    return t_test(name, what, seeds, differences)


def slope(alphas: Sequence[float], values: Sequence[float]) -> float:
    """The least-squares slope of `values` on `alphas`."""
    x, y = np.asarray(alphas, dtype=float), np.asarray(values, dtype=float)
    return float(((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum())


def trend(table: dict[int, dict[float, float]], alphas=PRIMARY_ALPHAS) -> Test:
    """H3: the per-seed slope of late FD on α, tested against 0 over the seeds with every
    arm in `alphas` (FD units per unit of α)."""
    seeds = sorted(s for s, row in table.items() if all(a in row for a in alphas))
    slopes = [slope(alphas, [table[s][a] for a in alphas]) for s in seeds]
    test = t_test("H3", "slope of late FD on α", seeds, slopes)
    return dataclasses.replace(test, dz=NAN)


def holm_family(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's adjusted p over exactly the given family: a p that could not be computed
    counts as 1, so m stays the family's size, and stays NaN in the result."""
    p = np.asarray(pvalues, dtype=float)
    return np.where(np.isfinite(p), holm(np.where(np.isfinite(p), p, 1.0)), NAN)


def decide(test: Test, delta: float = DELTA, significance: float = SIGNIFICANCE) -> str:
    """The plan's reading of H1 or H2 from the Holm p and the 95% interval of LeakyReLU
    minus ReLU (lower FD is better)."""
    significant = test.p_holm < significance  # False for NaN
    if significant and test.low > 0:
        return RELU_BETTER
    if significant and test.high < 0:
        return LEAKY_BETTER
    if -delta < test.low and test.high < delta:
        return NO_DIFFERENCE
    return UNDECIDED


def decide_trend(test: Test, significance: float = SIGNIFICANCE) -> str:
    """The plan's reading of H3: the late FD changes with α (the mean slope's sign says
    which way), or the trend is not shown."""
    if test.p_holm < significance:
        return f"{CHANGES} (late FD {'rises' if test.estimate > 0 else 'falls'} with α)"
    return NOT_SHOWN


def primary_family(runs: Sequence[V3Run]) -> tuple[Test, Test, Test]:
    """H1, H2 and H3 with their Holm p-values and readings."""
    table = late_table(runs)
    tests = [paired("H1", table, 0.2), paired("H2", table, 0.3), trend(table)]
    adjusted = holm_family([test.p for test in tests])
    tests = [dataclasses.replace(t, p_holm=float(p)) for t, p in zip(tests, adjusted, strict=True)]
    h1, h2, h3 = tests
    return (
        dataclasses.replace(h1, reading=decide(h1)),
        dataclasses.replace(h2, reading=decide(h2)),
        dataclasses.replace(h3, reading=decide_trend(h3)),
    )


def power(n: int, delta: float, sd: float, alpha: float) -> float:
    """Power of the two-sided paired t-test of n differences with true mean `delta` and
    sd `sd`, at level `alpha`, from the noncentral t distribution (NaN below 2)."""
    if n < 2:
        return NAN
    df, shift = n - 1, delta / sd * math.sqrt(n)
    critical = scipy_stats.t.isf(alpha / 2, df)
    nct = scipy_stats.nct
    return float(nct.sf(critical, df, shift) + nct.cdf(-critical, df, shift))


def seeds_needed(
    delta: float, sd: float, alpha: float, target: float = POWER_TARGET, most: int = 10_000
) -> int:
    """The fewest seeds whose paired t-test has at least `target` power (`power`).

    Raises:
        ValueError: more than `most` seeds would be needed (a zero effect, say).
    """
    for n in range(2, most + 1):
        if power(n, delta, sd, alpha) >= target:
            return n
    raise ValueError(f"more than {most} seeds needed for power {target} at delta {delta}")


def complete_seeds(runs: Sequence[V3Run]) -> list[int]:
    """The plan's seeds whose three primary arms have all ended: finished, or diverged."""
    ended: dict[int, set[float]] = {}
    for run in runs:
        if run.arm.primary and (run.diverged or math.isfinite(late_fd(run.rows))):
            ended.setdefault(run.seed, set()).add(run.arm.variant.alpha)
    return sorted(s for s in PLAN_SEEDS if ended.get(s, set()) >= set(PRIMARY_ALPHAS))


@dataclasses.dataclass(frozen=True)
class Confirmation:
    """Everything the report states: the primary family, the seeds complete so far, and the
    exploratory summaries."""

    primary: tuple[Test, Test, Test]
    complete: list[int]
    summaries: list[ArmSummary]
    comparisons: list[Test]
    mechanism: Mechanism
    differences: list[Test]  # the primary arms' other figures, paired by seed (exploratory)

    @property
    def interim(self) -> bool:
        """Some of the plan's seeds have a primary arm still to end: no decision yet."""
        return len(self.complete) < len(PLAN_SEEDS)


def confirm(runs: Sequence[V3Run]) -> Confirmation:
    """The analysis of study v3's runs, as the plan fixes it."""
    # Imported here: confirm_explore builds on this module's tests.
    from gan_tf.study.confirm_explore import (
        exploratory_comparisons,
        mechanism,
        paired_figures,
        summarise,
    )

    return Confirmation(
        primary_family(runs),
        complete_seeds(runs),
        summarise(runs),
        exploratory_comparisons(runs),
        mechanism(runs),
        paired_figures(runs),
    )
