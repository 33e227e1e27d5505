"""Statistics on plain numbers: Welch's interval and test, Holm's correction, correlations
with permutation p-values and bootstrap intervals, mean and sd over runs.

Knows nothing of runs or reports; `analysis` applies these to a study's runs. A test
"holds" when its Holm-adjusted p is at most SIGNIFICANCE (the significance level; not
LeakyReLU's alpha).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats

SIGNIFICANCE = 0.05
LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
PERMUTATIONS = 9999
NAN = float("nan")


def finite(values) -> np.ndarray:
    """The finite ones of `values`, as a float array."""
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]


def mean_sd(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of a (runs x epochs) table: the mean and the sd (ddof=1, NaN below 2
    values), NaN entries left out."""
    n = np.isfinite(table).sum(axis=0)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(table, axis=0) if table.size else np.zeros(0)
        sd = np.nanstd(table, axis=0, ddof=1) if table.size else np.zeros(0)
    return mean, np.where(n > 1, sd, NAN)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Interval:
    """What every test here reports: the estimate's 95% interval (`low`, `high`) and the
    two-sided p, each NaN where there was nothing to test."""

    low: float = NAN
    high: float = NAN
    p: float = NAN


@dataclasses.dataclass(frozen=True)
class Welch(Interval):
    """mean(b) - mean(a) with Welch's interval and test, and Hedges' g; `note` says why
    there is no p-value where there is none."""

    n_a: int
    n_b: int
    diff: float = NAN
    g: float = NAN
    note: str = ""
    df: float = NAN  # Welch-Satterthwaite degrees of freedom


def welch(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> Welch:
    """Welch's t interval and test for mean(b) - mean(a), and Hedges' g (pooled std).

    Args:
        a, b: the two samples; NaN values are left out.
        level: the interval's confidence level.

    Returns:
        The difference, its interval, g and p; without a p-value (and a `note` saying
        why) where a side has fewer than 2 values or neither has any spread.
    """
    a, b = finite(a), finite(b)
    if min(a.size, b.size) < 2:
        return Welch(a.size, b.size, note="not testable: fewer than 2 values on a side")
    diff = float(b.mean() - a.mean())
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    if va + vb == 0:
        return Welch(a.size, b.size, diff, note="not testable: no spread on either side")
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    p = float(2 * stats.t.sf(abs(diff) / se, df))
    pooled = math.sqrt(
        ((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (a.size + b.size - 2)
    )
    correction = 1 - 3 / (4 * (a.size + b.size) - 9)  # Hedges' small-sample factor
    g = diff / pooled * correction if pooled > 0 else NAN
    return Welch(a.size, b.size, diff, g, low=diff - half, high=diff + half, p=p, df=df)


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values; NaN entries stay NaN and do not count in m."""
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full(p.shape, NAN)
    tested = np.flatnonzero(np.isfinite(p))
    running = 0.0
    for rank, i in enumerate(tested[np.argsort(p[tested], kind="stable")]):
        running = max(running, min(1.0, (tested.size - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def t_needed(p: float, df: float) -> float:
    """|t| that a two-sided t-test with `df` degrees of freedom needs for p-value `p`."""
    return float(stats.t.isf(p / 2, df))


@dataclasses.dataclass(frozen=True)
class Correlation:
    """A correlation over runs with a percentile bootstrap interval; NaN where n < 3."""

    method: str  # "Pearson" or "Spearman"
    n: int  # runs
    r: float = NAN
    # the 95% percentile bootstrap interval of r
    low: float = NAN
    high: float = NAN
    p: float = NAN  # the permutation test's, before and after Holm's correction
    p_holm: float = NAN

    @property
    def holds(self) -> bool:
        """Its Holm-adjusted p is at most SIGNIFICANCE."""
        return math.isfinite(self.p_holm) and self.p_holm <= SIGNIFICANCE

    @property
    def clear(self) -> bool:
        """Its bootstrap interval leaves out 0 (how a descriptive trend is called clear)."""
        return math.isfinite(self.r) and (self.low > 0 or self.high < 0)


def _r(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """Pearson's r along `axis`, row by row (NaN for a row without spread)."""
    a = a - a.mean(axis=axis, keepdims=True)
    b = b - b.mean(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(axis=axis) / np.sqrt((a**2).sum(axis=axis) * (b**2).sum(axis=axis))


def correlate(
    x: Sequence[float], y: Sequence[float], resamples: int = BOOTSTRAP_RESAMPLES
) -> tuple[Correlation, Correlation]:
    """Pearson's and Spearman's correlation of paired values, each with a two-sided
    permutation p-value (exact up to PERMUTATIONS orderings, else that many random ones)
    and a percentile bootstrap interval over the pairs (resamples without spread are
    dropped). Both use the fixed seed BOOTSTRAP_SEED.

    The permutation test holds with few runs, where scipy's t-approximation does not:
    a perfect correlation of 5 points has p = 2/120, not ~0.

    Args:
        x, y: the paired values.
        resamples: bootstrap resamples.

    Returns:
        (Pearson, Spearman), both NaN with fewer than 3 pairs or no spread in x or y.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return Correlation("Pearson", x.size), Correlation("Spearman", x.size)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    index = rng.integers(0, x.size, (resamples, x.size))
    tails = 100 * np.array([(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    out = []
    for method, (a, b), (bx, by) in (
        ("Pearson", (x, y), (x[index], y[index])),
        (
            "Spearman",
            (stats.rankdata(x), stats.rankdata(y)),
            (stats.rankdata(x[index], axis=1), stats.rankdata(y[index], axis=1)),
        ),
    ):
        r = float(_r(a, b))
        test = stats.permutation_test(
            (a,),
            lambda a_, axis=-1, b=b: _r(a_, np.broadcast_to(b, a_.shape), axis=axis),
            permutation_type="pairings",
            vectorized=True,
            n_resamples=PERMUTATIONS,
            rng=np.random.default_rng(BOOTSTRAP_SEED),
        )
        low, high = np.nanpercentile(_r(bx, by), tails)
        out.append(Correlation(method, x.size, r, float(low), float(high), float(test.pvalue)))
    return out[0], out[1]
