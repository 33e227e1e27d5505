"""The statistics of a ReLU vs LeakyReLU study: per-run figures, collapse, tests, correlation.

Reduces `RunResult`s to numbers; nothing draws or writes. The rules (text.RULES states
them in the report): Welch's t interval and test for each LeakyReLU variant against relu
within a setting, Holm's correction over every p-value of the report, and a collapse
flag that keeps collapsed runs out of every FD figure. Diverged runs are kept apart.

Besides the tests, descriptive figures that Holm's family leaves out: per-epoch curves
(`course`), per-epoch collapse flags (`collapse_flags`, `relapses`), trends of a per-run
measure with alpha (`Analysis.trends`) and the mechanism's correlation within each variant
(`Analysis.centred`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import integrate, stats

ALPHA = 0.05
LEVEL = 0.95
COLLAPSE_SCORE = 2.0
COLLAPSE_RECALL = 0.01
SCORE_THRESHOLDS = (5.0, 7.0)
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
PERMUTATIONS = 9999
QUALITY_KEYS = ("fd", "score", "covered", "mode_kl", "precision", "recall")
FD_KEYS = ("fd", "fd_best", "fd_best_epoch", "fd_auc")  # never given for a collapsed run
# Descriptive trends with alpha, per setting: the gradient reaching G, and the two halves of
# sample quality (recall: how much of the data's variety; precision: how data-like each one).
TREND_KEYS = ("gen_image_grad_norm", "recall", "precision")
NAN = float("nan")


@dataclasses.dataclass(frozen=True)
class RunResult:
    """One finished (or diverged) run of the study.

    Attributes:
        activation: D's hidden activation, "relu" or "leaky_relu".
        alpha: LeakyReLU's negative slope (ignored for relu).
        setting: the optimiser setting's name, e.g. "tutorial", "stressed", "paper".
        lr: Adam's learning rate, of G and D alike.
        beta1: Adam's beta_1.
        seed: the run's seed.
        run_dir: the run folder (holds image_at_epoch_NNNN.png).
        metrics: rows of metrics.csv, one per epoch, in order (quality columns NaN on
            epochs that were not evaluated).
        final: the final evaluation, {"n", "generator": {...}, "reference": {...}}, or {}.
        wall_time: seconds of training.
        batch_size: images per step, to count the images seen.
        diverged: the run stopped on a non-finite loss.
        command: the command that trains it, where known.
    """

    activation: str
    alpha: float
    setting: str
    lr: float
    beta1: float
    seed: int
    run_dir: Path
    metrics: list[dict]
    final: dict
    wall_time: float
    batch_size: int
    diverged: bool = False
    command: str = ""

    @property
    def variant(self) -> tuple[str, float]:
        """(activation, alpha), alpha 0 for relu: the key runs are grouped by."""
        return (self.activation, 0.0 if self.activation == "relu" else float(self.alpha))

    @property
    def label(self) -> str:
        return variant_label(self.variant)


def variant_label(variant: tuple[str, float]) -> str:
    activation, alpha = variant
    return "relu" if activation == "relu" else f"{activation} α={alpha:g}"


def variant_order(variant: tuple[str, float]) -> tuple:
    """Sort key: relu first, then by activation and slope."""
    return (variant[0] != "relu", variant[0], variant[1])


# --- One run ----------------------------------------------------------------------------


def as_float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return NAN


def column(run: RunResult, key: str) -> np.ndarray:
    """The run's per-epoch values of `key` (NaN where a row has none)."""
    return np.asarray([as_float(row.get(key)) for row in run.metrics], dtype=float)


def epochs(run: RunResult) -> np.ndarray:
    """The run's epoch numbers (row numbers where a row has none)."""
    return np.asarray([as_float(r.get("epoch", i + 1)) for i, r in enumerate(run.metrics)])


def progress(run: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """Images seen (cumulative steps x batch size) and wall seconds at each row's end."""
    return np.cumsum(column(run, "steps")) * run.batch_size, np.cumsum(column(run, "seconds"))


def speed(run: RunResult) -> float:
    """Training images per wall second over the whole run (NaN without timed steps)."""
    images, seconds = progress(run)
    if not images.size or not np.isfinite(seconds[-1]) or seconds[-1] <= 0:
        return NAN
    return float(images[-1] / seconds[-1])


def speeds(runs: Sequence[RunResult]) -> np.ndarray:
    """The finite `speed` of each run."""
    return _finite([speed(run) for run in runs])


def fd_over_run(run: RunResult) -> tuple[float, float, float]:
    """(best FD, its epoch, mean FD over training) over the evaluated epochs.

    The mean is the area under the FD curve (trapezoids over images seen, or epochs where
    steps are missing) divided by its span; one evaluated epoch gives its own FD.
    """
    fd, ok = column(run, "fd"), np.isfinite(column(run, "fd"))
    if not ok.any():
        return NAN, NAN, NAN
    best = int(np.argmin(np.where(ok, fd, np.inf)))
    x, y = progress(run)[0][ok], fd[ok]
    if not np.isfinite(x).all():
        x = epochs(run)[ok]
    span = x[-1] - x[0]
    auc = float(y[0]) if len(y) == 1 or span <= 0 else float(integrate.trapezoid(y, x) / span)
    return float(fd[best]), float(epochs(run)[best]), auc


def quality_at_end(run: RunResult) -> dict[str, float]:
    """The generator's figures from the final evaluation, else the last evaluated epoch."""
    generator = run.final.get("generator") if isinstance(run.final, dict) else None
    if isinstance(generator, dict) and generator:
        return {key: as_float(generator.get(key)) for key in QUALITY_KEYS}
    for row in reversed(run.metrics):
        values = {key: as_float(row.get(key)) for key in QUALITY_KEYS}
        if math.isfinite(values["score"]) or math.isfinite(values["recall"]):
            return values
    return dict.fromkeys(QUALITY_KEYS, NAN)


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


def mean_sd(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of a `course` table: the mean and the sd (ddof=1, NaN below 2 values)."""
    n = np.isfinite(table).sum(axis=0)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(table, axis=0) if table.size else np.zeros(0)
        sd = np.nanstd(table, axis=0, ddof=1) if table.size else np.zeros(0)
    return mean, np.where(n > 1, sd, NAN)


def eval_n(run: RunResult) -> float:
    """How many samples the run's evaluations during training used (its config.json's
    eval_n; NaN where the run folder does not say)."""
    try:
        config = json.loads((Path(run.run_dir) / "config.json").read_text())
    except (OSError, ValueError):
        return NAN
    return as_float(config.get("eval_n")) if isinstance(config, dict) else NAN


def class_shares(figures: dict | None) -> np.ndarray | None:
    """The share of each class among an evaluation's samples, from its figures (a final
    evaluation's "generator" or "reference"); None where they have no class histogram."""
    counts = np.asarray((figures or {}).get("histogram") or [], dtype=float)
    if not counts.size or not np.isfinite(counts).all() or counts.sum() <= 0:
        return None
    return counts / counts.sum()


def time_to_score(run: RunResult, threshold: float) -> tuple[float, float] | None:
    """(images seen, wall seconds) when the per-epoch score first reaches `threshold`."""
    hit = np.flatnonzero(np.nan_to_num(column(run, "score"), nan=-np.inf) >= threshold)
    if not hit.size:
        return None
    images, seconds = progress(run)
    return float(images[hit[0]]), float(seconds[hit[0]])


def _finite(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]


def run_values(run: RunResult) -> dict[str, float]:
    """Every per-run figure the report uses; FD figures are NaN for a collapsed run.

    Final quality from the final evaluation; dead fractions and the gradient reaching G
    are means over the epochs that probed them (`max_dead_channels_2` their maximum,
    `probes` how many); D(x) and D(G(z)) from the last epoch that has them.
    """
    generator = run.final.get("generator", {}) if isinstance(run.final, dict) else {}
    values = {key: as_float(generator.get(key)) for key in QUALITY_KEYS}
    values["fd_best"], values["fd_best_epoch"], values["fd_auc"] = fd_over_run(run)
    for key in ("dead_channels_1", "dead_channels_2", "gen_image_grad_norm"):
        finite = _finite(column(run, key))
        values[key] = float(finite.mean()) if finite.size else NAN
    dead = _finite(column(run, "dead_channels_2"))
    values["max_dead_channels_2"] = float(dead.max()) if dead.size else NAN
    values["probes"] = float(dead.size)
    for key in ("d_real", "d_fake"):
        finite = _finite(column(run, key))
        values[key] = float(finite[-1]) if finite.size else NAN
    values["wall_time"] = as_float(run.wall_time)
    if is_collapsed(run):
        values.update(dict.fromkeys(FD_KEYS, NAN))
    return values


# --- Groups -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Group:
    """The runs of one variant at one setting: `runs` trained (by seed), `diverged` did not."""

    setting: str
    variant: tuple[str, float]
    runs: tuple[RunResult, ...]
    diverged: tuple[RunResult, ...]

    @property
    def label(self) -> str:
        return variant_label(self.variant)

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
        finite = _finite(self.values(key))
        if not finite.size:
            return NAN, NAN, 0
        std = float(finite.std(ddof=1)) if finite.size > 1 else NAN
        return float(finite.mean()), std, int(finite.size)

    def time_to(self, threshold: float) -> tuple[int, int, float, float]:
        """(runs that reached score `threshold`, runs, median images, median seconds),
        medians over the runs that reached it."""
        hits = [t for t in (time_to_score(run, threshold) for run in self.runs) if t]
        if not hits:
            return 0, len(self.runs), NAN, NAN
        images, seconds = np.median(np.asarray(hits), axis=0)
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


# --- Tests ------------------------------------------------------------------------------


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
    Measure("dead_channels_2", "dead channels L2 (mean over epochs)", scale=100, unit=" pp"),
    Measure("gen_image_grad_norm", "grad → G (mean over epochs)"),
)


@dataclasses.dataclass(frozen=True)
class Welch:
    """mean(b) - mean(a) with Welch's interval and test, and Hedges' g; `note` says why
    there is no p-value where there is none."""

    n_a: int
    n_b: int
    diff: float = NAN
    low: float = NAN
    high: float = NAN
    g: float = NAN
    p: float = NAN
    note: str = ""
    df: float = NAN  # Welch-Satterthwaite degrees of freedom


def welch(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> Welch:
    """Welch's t interval and test for mean(b) - mean(a), and Hedges' g (pooled std)."""
    a, b = _finite(a), _finite(b)
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
    return Welch(a.size, b.size, diff, diff - half, diff + half, g, p, df=df)


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
        return math.isfinite(self.p_holm) and self.p_holm <= ALPHA


def compare(groups: Sequence[Group]) -> list[Comparison]:
    """Every non-relu group against the relu group of its setting, on every COMPARED
    measure (not yet corrected: `p_holm` is NaN)."""
    relu = {g.setting: g for g in groups if g.variant[0] == "relu"}
    comparisons = []
    for group in groups:
        if group.variant[0] == "relu" or group.setting not in relu:
            continue
        for measure in COMPARED:
            test = welch(relu[group.setting].values(measure.key), group.values(measure.key))
            comparisons.append(Comparison(group.setting, measure, group.label, test))
    return comparisons


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
        return math.isfinite(self.p_holm) and self.p_holm <= ALPHA


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


# --- The whole study --------------------------------------------------------------------


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
        threshold = ALPHA / self.family
        low, high = min(dfs), max(dfs)
        sizes = sorted({n for t in tested for n in (t.n_a, t.n_b)})
        return FirstStep(
            self.family,
            threshold,
            low,
            high,
            float(stats.t.isf(threshold / 2, high)),
            float(stats.t.isf(threshold / 2, low)),
            sizes[0],
            sizes[-1],
        )


@dataclasses.dataclass(frozen=True)
class FirstStep:
    """The bar at Holm's first step: the smallest p-value of the `family` must be at most
    `threshold` (ALPHA / family), which for a Welch test takes |t| of at least `t_low` at
    its largest degrees of freedom `df_high`, and `t_high` at its smallest, `df_low`.
    `n_low` and `n_high`: the fewest and most runs on a side of a tested comparison."""

    family: int
    threshold: float
    df_low: float
    df_high: float
    t_low: float
    t_high: float
    n_low: int
    n_high: int


def analyse(runs: Sequence[RunResult]) -> Analysis:
    """Groups, comparisons, the mechanism's correlations and Holm over every p-value."""
    groups = group_runs(runs)
    comparisons = compare(groups)
    points = []
    for group in groups:
        dead, grad = group.values("dead_channels_2"), group.values("gen_image_grad_norm")
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
        (group.variant[1], value)
        for group in groups
        if group.setting == setting
        for value in group.values(key)
        if math.isfinite(value)
    ]
    if not pairs:
        return Correlation("Spearman", 0)
    return correlate(*zip(*pairs, strict=True))[1]
