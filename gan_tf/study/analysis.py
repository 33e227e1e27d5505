"""A study's runs as the numbers its report states: groups by setting and variant, each
LeakyReLU variant against relu, the mechanism's correlations, the slopes, Holm over them all.

The rules: Welch's t interval and test for each LeakyReLU variant against relu within a
setting, Holm's correction over every p-value of the report, and the collapse rule
(`measures`) that keeps collapsed runs out of every FD figure. Diverged runs are kept apart.

Besides the tests, descriptive figures that Holm's family leaves out: trends of a per-run
measure with alpha (`Analysis.trends`) and the mechanism's correlation within each variant
(`Analysis.centred`).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence

import numpy as np

from gan_tf.config import Variant
from gan_tf.rundir import DEAD_CHANNELS_2, GRAD_TO_G
from gan_tf.study.measures import is_collapsed, run_values, time_to_score
from gan_tf.study.records import RunResult, variant_order
from gan_tf.study.stats import (
    NAN,
    SIGNIFICANCE,
    Correlation,
    Welch,
    correlate,
    finite,
    holm,
    t_needed,
    welch,
)

# Descriptive trends with alpha, per setting: the gradient reaching G, and the two halves of
# sample quality (recall: how much of the data's variety; precision: how data-like each one).
TREND_KEYS = (GRAD_TO_G, "recall", "precision")
# Cohen's d from which a difference between two variants counts as very large (Sawilowsky
# 2009's "very large"): a design whose first Holm step asks that much can show little else.
VERY_LARGE_EFFECT = 1.2


@dataclasses.dataclass(frozen=True)
class Group:
    """The runs of one variant at one setting: `runs` trained (by seed), `diverged` did not."""

    setting: str
    variant: Variant
    runs: tuple[RunResult, ...]
    diverged: tuple[RunResult, ...]

    @property
    def label(self) -> str:
        return self.variant.label

    @functools.cached_property
    def collapsed(self) -> list[bool | None]:
        return [is_collapsed(run) for run in self.runs]

    @functools.cached_property
    def _values(self) -> list[dict[str, float]]:
        return [run_values(run) for run in self.runs]

    def values(self, key: str) -> np.ndarray:
        """Per-run values of a `run_values` key, NaN where a run has none."""
        return np.asarray([values[key] for values in self._values], dtype=float)

    def stat(self, key: str) -> tuple[float, float, int]:
        """Mean, std (ddof=1; NaN below 2 values) and count of the finite values."""
        values = finite(self.values(key))
        if not values.size:
            return NAN, NAN, 0
        std = float(values.std(ddof=1)) if values.size > 1 else NAN
        return float(values.mean()), std, int(values.size)

    def time_to(self, threshold: float) -> tuple[int, int, float, float]:
        """(runs that reached score `threshold`, runs, median images, median seconds),
        medians over the runs that reached it."""
        hits = [t for t in (time_to_score(run, threshold) for run in self.runs) if t]
        if not hits:
            return 0, len(self.runs), NAN, NAN
        images, seconds = np.median([(t.images, t.seconds) for t in hits], axis=0)
        return len(hits), len(self.runs), float(images), float(seconds)


def group_runs(runs: Sequence[RunResult]) -> list[Group]:
    """Groups by (setting, variant): settings as they first appear, relu first, then alpha."""
    groups = []
    for setting in dict.fromkeys(run.setting for run in runs):
        mine = [run for run in runs if run.setting == setting]
        for variant in sorted({run.variant for run in mine}, key=variant_order):
            same = sorted((r for r in mine if r.variant == variant), key=lambda r: r.seed)
            live, diverged = [r for r in same if not r.diverged], [r for r in same if r.diverged]
            groups.append(Group(setting, variant, tuple(live), tuple(diverged)))
    return groups


@dataclasses.dataclass(frozen=True)
class Measure:
    """A compared measure: `key` of `run_values`; `fd`: collapsed runs are left out;
    differences are shown times `scale` in `unit` (a fraction in percentage points)."""

    key: str
    title: str
    fd: bool = False
    scale: float = 1.0
    unit: str = ""


COMPARED = (
    Measure("fd", "final FD", fd=True),
    Measure("fd_auc", "mean FD over training", fd=True),
    Measure("score", "final score"),
    Measure(DEAD_CHANNELS_2, "dead channels L2 (mean over epochs)", scale=100, unit=" pp"),
    Measure(GRAD_TO_G, "grad → G (mean over epochs)"),
)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One variant against relu at one setting on one measure."""

    setting: str
    measure: Measure
    label: str
    test: Welch
    p_holm: float = NAN

    @property
    def holds(self) -> bool:
        return math.isfinite(self.p_holm) and self.p_holm <= SIGNIFICANCE


def compare(groups: Sequence[Group]) -> list[Comparison]:
    """Every non-relu group against the relu group of its setting, on every COMPARED
    measure (not yet corrected: `p_holm` is NaN)."""
    relu = {g.setting: g for g in groups if g.variant.activation == "relu"}
    comparisons = []
    for group in groups:
        if group.variant.activation == "relu" or group.setting not in relu:
            continue
        for measure in COMPARED:
            test = welch(relu[group.setting].values(measure.key), group.values(measure.key))
            comparisons.append(Comparison(group.setting, measure, group.label, test))
    return comparisons


@dataclasses.dataclass(frozen=True)
class FirstStep:
    """The bar at Holm's first step: the smallest p-value of the `family` must be at most
    `threshold` (SIGNIFICANCE / family), which for a Welch test takes |t| of at least
    `t_low` at its largest degrees of freedom `df_high`, and `t_high` at its smallest,
    `df_low`. `n_low` and `n_high`: the fewest and most runs on a side of a tested
    comparison."""

    family: int
    threshold: float
    df_low: float
    df_high: float
    t_low: float
    t_high: float
    n_low: int
    n_high: int

    @property
    def effect(self) -> float:
        """The smallest difference that could hold, in pooled standard deviations
        (Cohen's d): `t_low` standard errors with `n_high` runs on each side."""
        return self.t_low * math.sqrt(2 / self.n_high)

    @property
    def very_large(self) -> bool:
        """Only a very large difference (VERY_LARGE_EFFECT) could hold."""
        return self.effect >= VERY_LARGE_EFFECT


@dataclasses.dataclass(frozen=True)
class Analysis:
    """What the report says, as numbers.

    `points` are the mechanism's runs: (group, run, mean dead layer-2 fraction, mean
    gradient reaching G); `correlations` Pearson's and Spearman's over them all; `within`
    the same over each setting's runs alone, where there is more than one setting (pooled
    runs mix settings whose levels of both differ, which can make or hide a correlation).
    `slopes`: per setting, Spearman's correlation between the slope alpha (relu as 0) and
    the final FD of the setting's non-collapsed runs. Comparisons and correlations carry
    Holm-adjusted p-values over all of them together.

    Outside Holm's family (descriptive; `p_holm` stays NaN): `centred`, per setting, the
    mechanism's correlation after each variant's mean is taken from both measures (do runs
    of one variant with more dead channels pass less gradient, or is the link only between
    variants?); `trends`, per (setting, TREND_KEYS key), Spearman's correlation of alpha
    with that per-run figure.
    """

    groups: list[Group]
    comparisons: list[Comparison]
    points: list[tuple[Group, RunResult, float, float]]
    correlations: tuple[Correlation, Correlation]
    within: dict[str, tuple[Correlation, Correlation]] = dataclasses.field(default_factory=dict)
    slopes: dict[str, Correlation] = dataclasses.field(default_factory=dict)
    centred: dict[str, tuple[Correlation, Correlation]] = dataclasses.field(default_factory=dict)
    trends: dict[tuple[str, str], Correlation] = dataclasses.field(default_factory=dict)

    @property
    def settings(self) -> list[str]:
        return list(dict.fromkeys(g.setting for g in self.groups))

    @property
    def variants(self) -> list[Variant]:
        """Every variant of the study, relu first, then by alpha."""
        return sorted({g.variant for g in self.groups}, key=variant_order)

    def trained(self, setting: str) -> list[Group]:
        """The setting's groups that have trained runs."""
        return [g for g in self.groups if g.setting == setting and g.runs]

    @property
    def family(self) -> int:
        """How many p-values the Holm correction ran over."""
        return sum(math.isfinite(p) for p in self._p_values())

    @property
    def tests(self) -> list[Comparison | Correlation]:
        """Every test of the report: the family Holm's correction runs over."""
        return [*self.comparisons, *self.correlation_tests]

    def _p_values(self) -> list[float]:
        """The p-value of each of `tests`, in its order."""
        return [t.test.p if isinstance(t, Comparison) else t.p for t in self.tests]

    @property
    def correlation_tests(self) -> list[Correlation]:
        """Every correlation of the report: the mechanism's, pooled and within, and the slopes."""
        within = [c for pair in self.within.values() for c in pair]
        return [*self.correlations, *within, *self.slopes.values()]

    def first_step(self) -> FirstStep | None:
        """What a comparison needs to hold at Holm's first step (None: nothing tested)."""
        tested = [c.test for c in self.comparisons if math.isfinite(c.test.p)]
        dfs = [t.df for t in tested if math.isfinite(t.df)]
        if not dfs:
            return None
        threshold = SIGNIFICANCE / self.family
        low, high = min(dfs), max(dfs)
        sizes = sorted({n for t in tested for n in (t.n_a, t.n_b)})
        return FirstStep(
            self.family,
            threshold,
            low,
            high,
            t_needed(threshold, high),
            t_needed(threshold, low),
            sizes[0],
            sizes[-1],
        )


def analyse(runs: Sequence[RunResult]) -> Analysis:
    """Groups, comparisons, the mechanism's correlations and Holm over every p-value.

    Args:
        runs: the study's runs.

    Returns:
        The analysis, every test's p-value Holm-adjusted over the report's family.
    """
    groups = group_runs(runs)
    comparisons = compare(groups)
    points = []
    for group in groups:
        dead, grad = group.values(DEAD_CHANNELS_2), group.values(GRAD_TO_G)
        for run, x, y in zip(group.runs, dead, grad, strict=True):
            if math.isfinite(x) and math.isfinite(y):
                points.append((group, run, float(x), float(y)))
    correlations = correlate([p[2] for p in points], [p[3] for p in points])
    settings = list(dict.fromkeys(p[0].setting for p in points))
    within = {}
    if len(settings) > 1:
        for setting in settings:
            pairs = [(p[2], p[3]) for p in points if p[0].setting == setting]
            within[setting] = correlate(*zip(*pairs, strict=True))
    slopes = {
        setting: slope(groups, setting) for setting in dict.fromkeys(g.setting for g in groups)
    }
    raw = Analysis(groups, comparisons, points, correlations, within, slopes)
    descriptive = {
        "centred": {setting: centred(points, setting) for setting in settings},
        "trends": {
            (setting, key): slope(groups, setting, key)
            for setting in raw.settings
            for key in TREND_KEYS
        },
    }
    # Each test's adjusted p, looked up by the test itself (the order is `tests`' alone).
    adjusted = dict(zip(map(id, raw.tests), holm(raw._p_values()), strict=True))

    def adjust(test):
        return dataclasses.replace(test, p_holm=adjusted[id(test)])

    return Analysis(
        groups,
        [adjust(c) for c in comparisons],
        points,
        tuple(map(adjust, correlations)),
        {setting: tuple(map(adjust, pair)) for setting, pair in within.items()},
        {setting: adjust(c) for setting, c in slopes.items()},
        **descriptive,
    )


def centred(
    points: Sequence[tuple[Group, RunResult, float, float]], setting: str
) -> tuple[Correlation, Correlation]:
    """The mechanism's correlation over the setting's runs after each variant's mean is
    taken from both measures: what is left is how runs of one variant differ from each
    other. NaN where no variant's runs differ in both (a variant of one run adds nothing)."""
    mine = [p for p in points if p[0].setting == setting]
    x, y = [], []
    for variant in dict.fromkeys(p[0].variant for p in mine):
        dead = np.asarray([p[2] for p in mine if p[0].variant == variant])
        grad = np.asarray([p[3] for p in mine if p[0].variant == variant])
        x += list(dead - dead.mean())
        y += list(grad - grad.mean())
    # Rounding leaves a variant without spread a few ulps off 0: that is no spread.
    x = np.where(np.abs(x) < 1e-12, 0.0, x) if x else np.asarray(x)
    return correlate(x, y)


def slope(groups: Sequence[Group], setting: str, key: str = "fd") -> Correlation:
    """Spearman's correlation between alpha (relu as 0) and a `run_values` figure (final
    FD unless `key` says) over the setting's runs that have one (collapsed runs have no
    FD); NaN with fewer than 3, or one alpha."""
    pairs = [
        (group.variant.alpha, value)
        for group in groups
        if group.setting == setting
        for value in group.values(key)
        if math.isfinite(value)
    ]
    if not pairs:
        return Correlation("Spearman", 0)
    return correlate(*zip(*pairs, strict=True))[1]
