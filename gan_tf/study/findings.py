"""What the reading of a study rests on, as numbers: for each thing the report says in
words, the figures it says it from.

Each function here takes runs, groups or the analysis and returns a small record of
numbers and the groups they belong to (None where there is nothing to say); `reading`,
`description` and `notes` turn the records into sentences and decide nothing themselves
beyond which words fit the numbers.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from gan_tf.rundir import DEAD_CHANNELS_2, GRAD_TO_G
from gan_tf.study.analysis import Analysis, Comparison, Group
from gan_tf.study.measures import (
    budget_steps,
    course,
    is_collapsed,
    relapses,
    sample_size,
    steps_done,
    time_to_score,
    was_evaluated,
)
from gan_tf.study.records import RunResult, column, epochs
from gan_tf.study.stats import Correlation, mean_sd

# A variant whose D had at most this share of dead layer-2 channels, mean over epochs, has
# "almost none": too few for dead channels to explain what it does.
NEAR_ZERO = 0.005


# --- The tests, per setting -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SettingTests:
    """A setting's collapses and comparisons: `collapsed` (variant label, collapsed,
    judged) per group; `holding` the comparisons that hold after Holm."""

    setting: str
    judged: int
    collapsed: list[tuple[str, int, int]]
    comparisons: int
    untestable: int
    holding: list[Comparison]

    @property
    def collapses(self) -> int:
        return sum(c for _, c, _ in self.collapsed)

    @property
    def every_run_collapsed(self) -> bool:
        return bool(self.judged) and self.collapses == self.judged


def setting_tests(setting: str, groups: Sequence[Group], comparisons) -> SettingTests:
    """The counts behind a setting's verdict on the comparisons."""
    judged = [c for g in groups for c in g.collapsed if c is not None]
    return SettingTests(
        setting,
        len(judged),
        [
            (g.label, sum(bool(c) for c in g.collapsed), sum(c is not None for c in g.collapsed))
            for g in groups
        ],
        len(comparisons),
        sum(not math.isfinite(c.test.p) for c in comparisons),
        [c for c in comparisons if c.holds],
    )


def settings_differences(analysis: Analysis) -> list[tuple[str, str, tuple, tuple]]:
    """Pairs of settings that differ in both the learning rate and beta_1: (a, b, (lr,
    beta_1) of a, (lr, beta_1) of b)."""
    values = {}
    for g in analysis.groups:
        run = (g.runs or g.diverged)[0]
        values.setdefault(g.setting, (run.lr, run.beta1))
    names = list(values)
    return [
        (a, b, values[a], values[b])
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if values[a][0] != values[b][0] and values[a][1] != values[b][1]
    ]


# --- Dead channels ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DeadCourse:
    """How the share of dead layer-2 channels went over training at one setting.

    `moved`: per variant with any, (group, highest mean over seeds, its epoch, last mean,
    its epoch); `quiet` the groups with none at any probe; `top` the variant with the most,
    with its runs' shares at its highest and last probe; `fell` the variants whose share at
    least halved by the last probe; `early`: each one's highest came in the first half.
    """

    moved: list[tuple[Group, float, float, float, float]]
    quiet: list[Group]
    top: Group | None = None
    top_at_peak: tuple[float, list[float]] = (math.nan, [])
    top_at_last: tuple[float, list[float]] = (math.nan, [])
    fell: list[Group] = dataclasses.field(default_factory=list)
    early: bool = False


def dead_course(groups: Sequence[Group], key: str = DEAD_CHANNELS_2) -> DeadCourse:
    """The course of `key` per variant: highest and last mean over seeds (dead.png)."""
    quiet, moved = [], []
    for g in groups:
        x, values = course(g.runs, key)
        if not x.size:
            continue
        mean = mean_sd(values)[0]
        if np.nanmax(mean) > 0:
            moved.append((g, x, values, mean))
        else:
            quiet.append(g)
    if not moved:
        return DeadCourse([], quiet)
    summary = []
    for g, x, _, mean in moved:
        peak = int(np.nanargmax(mean))
        summary.append((g, float(mean[peak]), float(x[peak]), float(mean[-1]), float(x[-1])))
    top, x, values, mean = max(moved, key=lambda m: np.nanmax(m[3]))
    peak = int(np.nanargmax(mean))

    def runs_at(i):
        return float(x[i]), [float(v) for v in values[:, i] if math.isfinite(v)]

    fell = [m[0] for m in moved if m[3][-1] <= np.nanmax(m[3]) / 2]
    early = all(m[1][int(np.nanargmax(m[3]))] <= m[1][(len(m[1]) - 1) // 2] for m in moved)
    return DeadCourse(summary, quiet, top, runs_at(peak), runs_at(-1), fell, early)


@dataclasses.dataclass(frozen=True)
class DeadCost:
    """Where the variant with the most dead channels (`most`) ranked on mean final FD:
    `rank` of `scored`; `fd` its mean, `others` the rest's; `behind` the variants it beat
    (best first), `level` those it tied."""

    most: Group
    rank: int
    scored: int
    fd: float
    others: list[float]
    behind: list[Group]
    level: list[Group]


def dead_cost(groups: Sequence[Group]) -> DeadCost | None:
    """The final-FD rank of the variant with the most dead channels (None where no variant
    had more than almost none, or fewer than 2 have a final FD)."""
    scored = [g for g in groups if g.stat("fd")[2] and math.isfinite(g.stat(DEAD_CHANNELS_2)[0])]
    if len(scored) < 2:
        return None
    most = max(scored, key=lambda g: g.stat(DEAD_CHANNELS_2)[0])
    if not most.stat(DEAD_CHANNELS_2)[0] > NEAR_ZERO:
        return None
    fd = {id(g): g.stat("fd")[0] for g in scored}
    rank = 1 + sum(fd[id(g)] < fd[id(most)] for g in scored)
    others = [fd[id(g)] for g in scored if g is not most]
    behind = sorted((g for g in scored if fd[id(g)] > fd[id(most)]), key=lambda g: fd[id(g)])
    level = [g for g in scored if g is not most and fd[id(g)] == fd[id(most)]]
    return DeadCost(most, rank, len(scored), fd[id(most)], others, behind, level)


# --- The gradient reaching G ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Gradient:
    """grad → G at one setting: `means` per variant; `ratio` the largest alpha's over
    relu's (NaN without both); `trend` alpha against it over runs; `no_dead` no D had a dead
    layer-2 channel at any probe; `near` the variants with almost none, by alpha, and their
    means."""

    means: list[tuple[Group, float]]
    top: Group
    ratio: float
    trend: Correlation | None
    no_dead: bool
    near: list[Group]
    near_means: list[float]

    @property
    def near_direction(self) -> int:
        """1 where grad → G rose with every step of alpha among `near`, -1 where it fell
        with every one, 0 otherwise."""
        steps = np.diff(self.near_means)
        return 1 if (steps > 0).all() else -1 if (steps < 0).all() else 0


def gradient(groups: Sequence[Group], trend: Correlation | None) -> Gradient | None:
    """The gradient reaching G per variant at one setting (None: no run measured it)."""
    have = [g for g in groups if g.stat(GRAD_TO_G)[2]]
    if not have:
        return None
    means = [(g, g.stat(GRAD_TO_G)[0]) for g in have]
    relu = next((g for g in have if g.variant.activation == "relu"), None)
    top = max(have, key=lambda g: g.variant.alpha)
    ratio = math.nan
    if relu and top is not relu and relu.stat(GRAD_TO_G)[0] > 0:
        ratio = top.stat(GRAD_TO_G)[0] / relu.stat(GRAD_TO_G)[0]
    dead = {id(g): g.stat(DEAD_CHANNELS_2)[0] for g in have}
    near = [g for g in have if math.isfinite(dead[id(g)]) and dead[id(g)] <= NEAR_ZERO]
    no_dead = len(near) == len(have) and all(g.stat("max_dead_channels_2")[0] == 0 for g in have)
    by_alpha = sorted(near, key=lambda g: g.variant.alpha)
    if len({g.variant.alpha for g in by_alpha}) < 2:
        by_alpha = []
    near_means = [g.stat(GRAD_TO_G)[0] for g in by_alpha]
    return Gradient(means, top, ratio, trend, no_dead, by_alpha, near_means)


def gradient_directions(analysis: Analysis) -> tuple[list, list]:
    """The settings where grad → G clearly rose with alpha, and where it clearly fell:
    (setting, Spearman's correlation) each."""
    clear = {
        setting: c for (setting, key), c in analysis.trends.items() if key == GRAD_TO_G and c.clear
    }
    up = [(s, c) for s, c in clear.items() if c.r > 0]
    down = [(s, c) for s, c in clear.items() if c.r < 0]
    return up, down


# --- FD over the last epochs ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FDStep:
    """FD between a run's last two evaluations: from `fd1` at `epoch1` to `fd2` at `epoch2`."""

    group: Group
    run: RunResult
    epoch1: float
    fd1: float
    epoch2: float
    fd2: float

    @property
    def change(self) -> float:
        return self.fd2 - self.fd1


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """How far FD moved at the end of the setting's runs (evaluated on `n` samples), against
    its spread over seeds: `median` of the steps' sizes, the largest `rise` and `fall` (None
    where none), `sds` and `auc_sds` the variants' sd of final FD and of mean FD over
    training."""

    n: float
    median: float
    rise: FDStep | None
    fall: FDStep | None
    sds: list[float]
    auc_sds: list[float]

    @property
    def auc_spreads_less(self) -> bool:
        """Mean FD over training spreads less over seeds than final FD (medians of sds)."""
        return bool(self.auc_sds) and np.median(self.auc_sds) < np.median(self.sds)


def snapshot(groups: Sequence[Group]) -> Snapshot | None:
    """FD's last step in each non-collapsed run of the groups (None: no run has two
    evaluations with an FD); `n` the samples of those evaluations."""
    steps = []
    for g in groups:
        for run in g.runs:
            if is_collapsed(run):
                continue
            fd, when = column(run, "fd"), epochs(run)
            ok = np.flatnonzero(np.isfinite(fd))
            if ok.size >= 2:
                i, j = ok[-2], ok[-1]
                steps.append(FDStep(g, run, when[i], fd[i], when[j], fd[j]))
    if not steps:
        return None
    rise = max(steps, key=lambda s: s.change)
    fall = min(steps, key=lambda s: s.change)
    return Snapshot(
        sample_size([r for g in groups for r in g.runs]),
        float(np.median([abs(s.change) for s in steps])),
        rise if rise.change > 0 else None,
        fall if fall.change < 0 else None,
        [g.stat("fd")[1] for g in groups if math.isfinite(g.stat("fd")[1])],
        [g.stat("fd_auc")[1] for g in groups if math.isfinite(g.stat("fd_auc")[1])],
    )


# --- Collapse during training -----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Relapses:
    """Runs that met the collapse rule again after passing it: (group, run, relapse) each,
    of `evaluated` runs; `recovered` of them passed it at the end."""

    evaluated: int
    found: list
    recovered: int

    @property
    def runs(self) -> int:
        return len({id(r) for _, r, _ in self.found})


def relapse_summary(analysis: Analysis) -> Relapses | None:
    """Every relapse of the study's runs (None: no run was evaluated)."""
    runs = [(g, r) for g in analysis.groups for r in g.runs]
    evaluated = [r for _, r in runs if was_evaluated(r)]
    if not evaluated:
        return None
    found = [(g, r, x) for g, r in runs for x in relapses(r)]
    relapsed = {id(r) for _, r, _ in found}
    recovered = sum(not is_collapsed(r) for _, r in runs if id(r) in relapsed)
    return Relapses(len(evaluated), found, recovered)


# --- Whether digits appear --------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Reach:
    """At one setting of the grid: the `best` variant by mean final score, how many of its
    runs (`reached` of `n`) and of every variant's (`all_reached` of `all_n`) reached the
    score."""

    best: Group
    reached: int
    n: int
    all_reached: int
    all_n: int


@dataclasses.dataclass(frozen=True)
class PilotReach:
    """A setting only the pilots have (`setting`, `lr`, `beta1`): per pilot run, (label,
    batch size, steps at which it reached the score or None, steps it trained)."""

    setting: str
    lr: float
    beta1: float
    runs: list[tuple[str, int, float | None, float]]


def reach(analysis: Analysis, pilots: Sequence[RunResult], threshold: float):
    """Whether generators reached score `threshold`: a `Reach` per setting of the grid with
    a final score, a `PilotReach` per setting only pilots have, and the grid's budget in
    steps (NaN without metrics)."""
    grid = []
    for setting in analysis.settings:
        groups = analysis.trained(setting)
        scored = [g for g in groups if g.stat("score")[2]]
        if not scored:
            continue
        best = max(scored, key=lambda g: g.stat("score")[0])
        reached, n, _, _ = best.time_to(threshold)
        every = [g.time_to(threshold)[:2] for g in groups]
        grid.append(Reach(best, reached, n, sum(k for k, _ in every), sum(m for _, m in every)))
    in_grid = {(r.lr, r.beta1) for g in analysis.groups for r in g.runs}
    outside: dict[tuple[float, float], list[RunResult]] = {}
    for run in pilots:
        if (run.lr, run.beta1) not in in_grid:
            outside.setdefault((run.lr, run.beta1), []).append(run)
    others = []
    for (lr, beta1), mine in outside.items():
        said = []
        for run in mine:
            hit = time_to_score(run, threshold)
            said.append((run.label, run.batch_size, hit.steps if hit else None, steps_done(run)))
        others.append(PilotReach(mine[0].setting, lr, beta1, said))
    budget = budget_steps([r for g in analysis.groups for r in g.runs])
    return grid, others, budget
