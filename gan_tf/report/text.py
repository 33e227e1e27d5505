"""The words of the study report: number formatting, the tables, the plain-language reading
and report.md itself, all from a `stats.Analysis`.

The reading claims only what holds at stats.ALPHA after Holm's correction, and says so
plainly where a budget decides nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from gan_tf.report import stats
from gan_tf.report.stats import Analysis, Comparison, Correlation, Group, RunResult

# Key phrases; the tests pin them, so change them together.
HOLDS = f"holds at {stats.ALPHA:g} after Holm"
NOT_TESTABLE = "not testable"
DECIDES_NOTHING = "this budget decides nothing"
NOT_REACHED = "not reached"
NAN = float("nan")
RHO = "\u03c1"  # Spearman's rho, written as statisticians write it

RULES = (
    "Comparisons: each LeakyReLU variant against relu within a setting, on "
    + ", ".join(m.title for m in stats.COMPARED)
    + ". The difference is mean(variant) - mean(relu) over seeds, with Welch's 95% t "
    "interval (unequal variances, Welch-Satterthwaite degrees of freedom), Hedges' g "
    "(difference over the pooled standard deviation, small-sample corrected) and Welch's "
    "two-sided t-test. With fewer than 2 values on a side, or no spread on either, a "
    f"comparison is {NOT_TESTABLE}: it has no p-value. pp: percentage points.",
    "Multiple testing: Holm's step-down correction over every p-value in this report "
    "(the comparisons, the correlation tests of the mechanism and the slope tests). A "
    f"claim holds if its Holm-adjusted p ≤ {stats.ALPHA:g}; only such claims are read out "
    "below.",
    "Slope: within each setting, Spearman's correlation between the negative slope alpha "
    "(relu counted as alpha = 0, which it is) and the final FD of the setting's runs that "
    "did not collapse, with a 95% bootstrap interval over runs: does a larger alpha go "
    "with better or worse samples?",
    f"Collapse: a generator collapsed if its final classifier score < {stats.COLLAPSE_SCORE:g} "
    f"or its final recall < {stats.COLLAPSE_RECALL:g} (the last evaluated epoch where there "
    "is no final evaluation). Collapsed runs are left out of every FD figure, curve and "
    "comparison; diverged runs are left out of all statistics and listed apart.",
    "Quality over the run: best FD is the lowest FD over the evaluated epochs; mean FD over "
    "training is the area under the FD curve (trapezoids over images seen) divided by its "
    "span. Lower FD is better.",
    "Probes: dead channels (share of D's conv channels whose pre-activation is ≤ 0 on every "
    "probe image) and grad → G (mean L2 norm of ∂gen_loss/∂image) are means over the epochs "
    "that probed them; the maximum is over the run's per-epoch probes.",
)

LIMITS = (
    "The training budget (see above) is one budget: longer or otherwise tuned training can "
    "change which variant ends ahead.",
    "One dataset and one architecture (the tutorial's DCGAN).",
    "FD, score, classes, precision and recall come from a classifier's features; "
    "they are not human judgement of the samples.",
    "A difference that does not hold after correction is not shown to be absent: few seeds "
    "give wide intervals.",
    "The mechanism is a correlation over runs, not an intervention, and runs of one "
    "setting and seed share their data order. Pooled over settings it mixes settings whose "
    "levels of both measures differ; within a setting, a larger alpha by itself passes more "
    "gradient through D's negative pre-activations.",
    "A LeakyReLU channel counted as 'dead' still passes gradient scaled by alpha; only for "
    "ReLU does it pass none. The probe batch is small.",
)


# --- Numbers ----------------------------------------------------------------------------


def _decimals(x: float, digits: int = 3) -> int | None:
    """Decimals that show `x` to `digits` significant figures; None: use e-notation."""
    if x == 0 or not math.isfinite(x):
        return digits - 1
    magnitude = math.floor(math.log10(abs(x)))
    if magnitude < -3 or magnitude >= 6:
        return None
    return max(digits - 1 - magnitude, 0)


def fmt(x: float, decimals: int | None = None, scale: float = 1.0, unit: str = "") -> str:
    """One number: fixed `decimals`, or 3 significant figures when None; "n/a" for NaN."""
    if not math.isfinite(x):
        return "n/a"
    x *= scale
    places = _decimals(x) if decimals is None else decimals
    return (f"{x:.2e}" if places is None else f"{x:.{places}f}") + unit


def fmt_p(p: float) -> str:
    if not math.isfinite(p):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def pm(group: Group, key: str, decimals: int | None = None, scale=1.0, unit="") -> str:
    """`mean ± sd` over the group's runs; the mean alone where only one run has it."""
    mean, std, n = group.stat(key)
    if n < 2 or not math.isfinite(std):
        return fmt(mean, decimals, scale, unit)
    places = _decimals(mean * scale) if decimals is None else decimals
    if places is None:
        return f"{mean * scale:.2e}{unit} ± {std * scale:.1e}{unit}"
    return f"{fmt(mean, places, scale, unit)} ± {fmt(std, places, scale, unit)}"


def pct(group: Group, key: str) -> str:
    return pm(group, key, 1, 100, "%")


def setting_title(group: Group) -> str:
    run = (group.runs or group.diverged)[0]
    return f"{group.setting} (lr {run.lr:g}, β1 {run.beta1:g})"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


# --- Tables -----------------------------------------------------------------------------


def _fd_runs(group: Group) -> str:
    collapsed = sum(bool(c) for c in group.collapsed)
    text = f"n={group.stat('fd')[2]} of {len(group.runs)}"
    return text + (f", {collapsed} collapsed" if collapsed else "")


def _best_fd(group: Group) -> str:
    epochs = [f"{e:g}" for e in group.values("fd_best_epoch") if math.isfinite(e)]
    where = f" (epoch {', '.join(epochs)})" if epochs else ""
    return pm(group, "fd_best") + (where if group.stat("fd_best")[2] else "")


def _max_dead(group: Group) -> str:
    probes = sorted({int(n) for n in group.values("probes") if n > 0})
    if not probes:
        return "n/a"
    count = f"{probes[0]}" if len(probes) == 1 else f"{probes[0]} to {probes[-1]}"
    return f"{pct(group, 'max_dead_channels_2')} (max over {count} per-epoch probes)"


# The results table: header, how to render a group.
COLUMNS: tuple[tuple[str, Callable[[Group], str]], ...] = (
    ("variant", lambda g: g.label),
    ("runs", lambda g: str(len(g.runs))),
    ("FD runs", _fd_runs),
    ("final FD", lambda g: pm(g, "fd")),
    ("best FD (epoch)", _best_fd),
    ("mean FD over training", lambda g: pm(g, "fd_auc")),
    ("score", lambda g: pm(g, "score", 2)),
    ("classes", lambda g: pm(g, "covered", 1)),
    ("precision", lambda g: pm(g, "precision", 2)),
    ("recall", lambda g: pm(g, "recall", 2)),
    ("dead ch. L1", lambda g: pct(g, "dead_channels_1")),
    ("dead ch. L2", lambda g: pct(g, "dead_channels_2")),
    ("max dead ch. L2", _max_dead),
    ("grad → G", lambda g: pm(g, "gen_image_grad_norm")),
    ("D(x)", lambda g: pm(g, "d_real", 2)),
    ("D(G(z))", lambda g: pm(g, "d_fake", 2)),
    ("time", lambda g: pm(g, "wall_time", unit=" s")),
)


def results_table(groups: Sequence[Group]) -> list[str]:
    return table([h for h, _ in COLUMNS], [[render(g) for _, render in COLUMNS] for g in groups])


def _comparison_row(c: Comparison) -> list[str]:
    t, m = c.test, c.measure
    diff = fmt(t.diff, scale=m.scale, unit=m.unit)
    if math.isfinite(t.low):
        diff += f" ({fmt(t.low, scale=m.scale)} to {fmt(t.high, scale=m.scale)})"
    tested = math.isfinite(t.p)
    return [
        c.setting,
        c.measure.title,
        f"{c.label} vs relu",
        f"{t.n_a}, {t.n_b}",
        diff,
        fmt(t.g, 2),
        fmt_p(t.p) if tested else t.note,
        fmt_p(c.p_holm) if tested else "—",
        ("yes" if c.holds else "no") if tested else NOT_TESTABLE,
    ]


def statistics_table(comparisons: Sequence[Comparison]) -> list[str]:
    header = ["setting", "measure", "comparison", "n (relu, variant)"]
    header += ["difference variant - relu (95% CI)", "Hedges' g", "p", "Holm p", HOLDS]
    return table(header, [_comparison_row(c) for c in comparisons])


def collapse_table(groups: Sequence[Group]) -> list[str]:
    rows = []
    for g in groups:
        judged = [c for c in g.collapsed if c is not None]
        rate = f"{sum(judged)} of {len(judged)}" if judged else "n/a"
        if judged:
            rate += f" ({100 * sum(judged) / len(judged):.0f}%)"
        runs = len(g.runs) + len(g.diverged)
        rows.append([g.setting, g.label, str(runs), str(len(g.diverged)), str(len(judged)), rate])
    return table(["setting", "variant", "runs", "diverged", "evaluated", "collapsed"], rows)


def _time_cell(group: Group, threshold: float) -> str:
    reached, n, images, seconds = group.time_to(threshold)
    if not reached:
        return f"{NOT_REACHED} (0 of {n})"
    return f"{reached} of {n} reached: median {images:,.0f} images, {fmt(seconds, unit=' s')}"


def _speed_cell(group: Group) -> str:
    speeds = stats.speeds(group.runs)
    if not speeds.size:
        return "n/a"
    cell = f"{np.median(speeds):,.0f}"
    return cell + (f" ({speeds.min():,.0f} to {speeds.max():,.0f})" if speeds.size > 1 else "")


def time_table(groups: Sequence[Group]) -> list[str]:
    header = ["setting", "variant", *(f"score ≥ {t:g}" for t in stats.SCORE_THRESHOLDS)]
    rows = [
        [g.setting, g.label, *(_time_cell(g, t) for t in stats.SCORE_THRESHOLDS), _speed_cell(g)]
        for g in groups
    ]
    return table([*header, "images/s: median (range)"], rows)


SPEED_SPREAD = 1.5  # fastest / slowest run beyond which wall seconds are not comparable


def speed_note(runs: Sequence[RunResult]) -> str:
    """What the runs' training speeds allow wall seconds to say ("" when they agree)."""
    speeds = stats.speeds(runs)
    if speeds.size < 2 or speeds.max() <= SPEED_SPREAD * speeds.min():
        return ""
    return (
        f"Training speed differed {speeds.max() / speeds.min():.1f}-fold between runs "
        f"({speeds.min():,.0f} to {speeds.max():,.0f} images/s): a machine's speed drifts "
        "over hours, and runs may have shared one with other work or run on different "
        "machines. Wall seconds compare only runs of similar speed; images seen are the "
        "measure that does not depend on the machine."
    )


def _symbol(c: Correlation) -> str:
    """A correlation's name and letter: 'Pearson r', or 'Spearman' with the Greek rho."""
    return f"{c.method} {'r' if c.method == 'Pearson' else RHO}"


def _correlation(c: Correlation) -> str:
    if not math.isfinite(c.r):
        return f"{_symbol(c)} cannot be computed"
    return (
        f"{_symbol(c)} = {c.r:.2f} (95% bootstrap CI {c.low:.2f} to {c.high:.2f}; "
        f"p {fmt_p(c.p)}, Holm p {fmt_p(c.p_holm)}; {'holds' if c.holds else 'does not hold'})"
    )


CORRELATION_METHOD = (
    f"Intervals: {stats.BOOTSTRAP_RESAMPLES} bootstrap resamples over runs; p-values: a "
    f"permutation test of the pairs ({stats.PERMUTATIONS:,} random orderings, or all of "
    f"them where fewer); seed {stats.BOOTSTRAP_SEED}."
)


def mechanism_line(analysis: Analysis) -> str:
    pearson, spearman = analysis.correlations
    within = "".join(
        f" Within {setting} alone ({p.n} runs): {_correlation(p)}; {_correlation(s)}."
        for setting, (p, s) in analysis.within.items()
    )
    return (
        f"Mechanism: across {pearson.n} runs (every setting and variant; per run, the mean over "
        "epochs of the fraction of D's dead layer-2 channels and of the gradient reaching G), "
        f"{_correlation(pearson)}; {_correlation(spearman)}.{within} "
        f"{CORRELATION_METHOD}"
    )


def slope_line(analysis: Analysis) -> str:
    parts = [f"{setting} ({c.n} runs): {_correlation(c)}" for setting, c in analysis.slopes.items()]
    return (
        "Slope: Spearman's correlation between alpha (relu as 0) and final FD, per setting: "
        + "; ".join(parts)
        + f". {CORRELATION_METHOD}"
    )


def _slope_bullet(setting: str, c: Correlation) -> str:
    if not math.isfinite(c.r):
        return (
            f"{setting}: the trend of final FD with alpha cannot be assessed (fewer than 3 "
            "runs with a final FD, or a single alpha)."
        )
    if c.holds:
        side = "higher (worse)" if c.r > 0 else "lower (better)"
        return (
            f"{setting}: the larger alpha, the {side} the final FD (Spearman {RHO} = "
            f"{c.r:.2f} over {c.n} runs, 95% CI {c.low:.2f} to {c.high:.2f}, Holm p "
            f"{fmt_p(c.p_holm)})."
        )
    return (
        f"{setting}: no trend of final FD with alpha holds after correction (Spearman "
        f"{RHO} = {c.r:.2f}, Holm p {fmt_p(c.p_holm)})."
    )


def _named(correlations: list[Correlation]) -> str:
    """'Pearson r = -0.77, Holm p 0.016' for each correlation, joined with 'and'."""
    return " and ".join(f"{_symbol(c)} = {c.r:.2f}, Holm p {fmt_p(c.p_holm)}" for c in correlations)


def _mechanism_bullet(pair: tuple[Correlation, Correlation], where: str = "") -> str:
    """The reading of one pair of correlations; `where` names its runs if not all."""
    pearson, spearman = pair
    head = f"Mechanism, {where}:" if where else "Mechanism:"
    if not math.isfinite(spearman.r):
        return f"{head} cannot be assessed (too few runs, or no spread in one of the measures)."
    if pearson.holds or spearman.holds:
        side = "less" if spearman.r < 0 else "more"
        held = [c for c in pair if c.holds]
        missed = [c for c in pair if not c.holds]
        verdict = f"{_named(held)} {'hold' if len(held) > 1 else 'holds'} after correction"
        if missed:
            verdict += f"; {_named(missed)} does not"
        return (
            f"{head} runs whose D had more dead layer-2 channels passed {side} "
            f"gradient to G ({verdict}). It is a correlation over runs."
        )
    return (
        f"{head} the link between D's dead layer-2 channels and the gradient "
        f"reaching G does not hold after correction (Spearman {RHO} = {spearman.r:.2f}, "
        f"Holm p {fmt_p(spearman.p_holm)})."
    )


# --- Reading ----------------------------------------------------------------------------


def _claim(c: Comparison) -> str:
    t, m = c.test, c.measure
    side = "higher" if t.diff > 0 else "lower"
    return (
        f"{c.label} has a {side} {m.title} than relu by {fmt(abs(t.diff), None, m.scale, m.unit)} "
        f"(95% CI {fmt(t.low, None, m.scale)} to {fmt(t.high, None, m.scale)}, "
        f"Hedges' g {fmt(t.g, 2)}, "
        f"Holm p {fmt_p(c.p_holm)})"
    )


def _setting_bullets(setting: str, groups: Sequence[Group], comparisons) -> list[str]:
    bullets = []
    judged = [(g, c) for g in groups for c in g.collapsed if c is not None]
    collapsed = [g for g, c in judged if c]
    if judged and len(collapsed) == len(judged):
        bullets.append(
            f"{setting}: every evaluated run collapsed ({len(judged)} of {len(judged)}), so "
            f"{DECIDES_NOTHING} about image quality at this setting."
        )
    elif collapsed:
        rates = ", ".join(
            f"{g.label} {sum(bool(c) for c in g.collapsed)} of "
            f"{sum(c is not None for c in g.collapsed)}"
            for g in groups
        )
        bullets.append(f"{setting}: collapsed runs per variant: {rates} (counts, not tested).")
    if not comparisons:
        return [*bullets, f"{setting}: relu or LeakyReLU is missing, so nothing is compared."]
    holding = [c for c in comparisons if c.holds]
    untestable = sum(not math.isfinite(c.test.p) for c in comparisons)
    bullets += [f"{setting}: {_claim(c)}." for c in holding]
    if not holding:
        bullets.append(
            f"{setting}: no difference between a LeakyReLU variant and relu {HOLDS} "
            f"({len(comparisons) - untestable} tested, {untestable} {NOT_TESTABLE}), so "
            f"{DECIDES_NOTHING} between the variants at this setting."
        )
    elif len(holding) < len(comparisons):
        bullets.append(
            f"{setting}: the other {len(comparisons) - len(holding)} comparisons do not hold "
            f"after correction ({untestable} of them {NOT_TESTABLE})."
        )
    return bullets


def reading(analysis: Analysis) -> list[str]:
    """Plain-language bullets (without the leading "- ") that claim only what holds at
    stats.ALPHA after Holm's correction."""
    bullets = []
    for setting in analysis.settings:
        groups = [g for g in analysis.groups if g.setting == setting and g.runs]
        comparisons = [c for c in analysis.comparisons if c.setting == setting]
        bullets += _setting_bullets(setting, groups, comparisons)
    bullets += [_slope_bullet(setting, c) for setting, c in analysis.slopes.items()]
    if not math.isfinite(analysis.correlations[1].r):
        bullets.append("The mechanism cannot be assessed: too few runs measured both sides.")
    else:
        pooled = "all settings pooled" if analysis.within else ""
        bullets.append(_mechanism_bullet(analysis.correlations, pooled))
        for setting, pair in analysis.within.items():
            bullets.append(_mechanism_bullet(pair, f"within {setting}"))
    correlations = analysis.correlation_tests
    if not any(c.holds for c in analysis.comparisons) and not any(c.holds for c in correlations):
        bullets.append(f"Nothing {HOLDS}: {DECIDES_NOTHING} in this study.")
    return bullets


# --- One run's figures over training (the pilot section; gan_tf.compare) ---------------

# The per-epoch columns shown for a single run: (header, metrics.csv column, decimals;
# "%" for a percentage).
EPOCH_COLUMNS = (
    ("FD", "fd", None),
    ("score", "score", 2),
    ("recall", "recall", 2),
    ("dead ch. L1", "dead_channels_1", "%"),
    ("dead ch. L2", "dead_channels_2", "%"),
    ("grad → G", "gen_image_grad_norm", None),
    ("D(x)", "d_real", 2),
    ("D(G(z))", "d_fake", 2),
)
EPOCH_COLUMNS_NOTE = (
    "FD, score and recall: the evaluation during training (on the run's --eval-n samples; "
    "n/a where the epoch was not evaluated). Dead ch.: share of D's channels whose "
    "pre-activation is ≤ 0 on every probe image; grad → G: mean L2 norm of ∂gen_loss/∂image; "
    "D(x), D(G(z)): D's mean probability of 'real' on the probe images."
)


def epoch_cells(run: RunResult, row: int) -> list[str]:
    """Steps and images by the end of metrics row `row`, then the EPOCH_COLUMNS."""
    images = stats.progress(run)[0][row]
    cells = [f"{images / run.batch_size:,.0f}", f"{images:,.0f}"]
    for _, key, decimals in EPOCH_COLUMNS:
        value = stats.column(run, key)[row]
        cells.append(fmt(value, 1, 100, "%") if decimals == "%" else fmt(value, decimals))
    return cells


def time_to_text(run: RunResult, threshold: float) -> str:
    """When the run's score first reached `threshold`: images, steps and training seconds."""
    hit = stats.time_to_score(run, threshold)
    if hit is None:
        steps = stats.progress(run)[0][-1] / run.batch_size if run.metrics else 0
        return f"score ≥ {threshold:g} {NOT_REACHED} in {steps:,.0f} steps"
    images, seconds = hit
    return (
        f"score ≥ {threshold:g} first at {images / run.batch_size:,.0f} steps "
        f"({images:,.0f} images, {fmt(seconds, unit=' s')} of training)"
    )


def _steps(run: RunResult):
    """Steps done by the end of each metrics row."""
    return stats.progress(run)[0] / run.batch_size


def _at_budget(run: RunResult, steps: float, batch_size: int) -> str:
    """The run's score at the last evaluated epoch within `steps` steps of `batch_size`."""
    if run.batch_size != batch_size:
        return f"n/a (batch {run.batch_size})"
    done, score = _steps(run), stats.column(run, "score")
    within = np.flatnonzero((done <= steps) & np.isfinite(score))
    if not within.size:
        return "n/a"
    i = within[-1]
    return f"{fmt(score[i], 2)} (at {done[i]:,.0f} steps)"


def pilot_summary(pilots: Sequence[RunResult], runs: Sequence[RunResult]) -> list[str]:
    """One row per pilot: its setting, whether the grid has it, its score at the grid's
    budget, its best score and its time to each score threshold."""
    in_grid = {(r.lr, r.beta1) for r in runs}
    budgets = [_steps(r)[-1] for r in runs if r.metrics]
    steps = float(np.median(budgets)) if budgets else math.nan
    batch_size = runs[0].batch_size if runs else 0
    rows = []
    for run in pilots:
        score = stats.column(run, "score")
        best = ""
        if np.isfinite(score).any():
            i = int(np.nanargmax(score))
            best = f"{fmt(score[i], 2)} (at {_steps(run)[i]:,.0f} steps)"
        reached = []
        for threshold in stats.SCORE_THRESHOLDS:
            hit = stats.time_to_score(run, threshold)
            reached.append(NOT_REACHED if hit is None else f"{hit[0] / run.batch_size:,.0f} steps")
        rows.append(
            [
                run.label,
                f"{run.setting} (lr {run.lr:g}, β1 {run.beta1:g})",
                "yes" if (run.lr, run.beta1) in in_grid else "no",
                str(run.batch_size),
                f"{_steps(run)[-1]:,.0f}" if run.metrics else "0",
                _at_budget(run, steps, batch_size) if math.isfinite(steps) else "n/a",
                best or "n/a",
                *reached,
            ]
        )
    header = ["run", "setting", "setting in the grid", "batch", "steps"]
    header += [f"score at the grid's {steps:,.0f} steps", "best score"]
    header += [f"score ≥ {t:g} at" for t in stats.SCORE_THRESHOLDS]
    return table(header, rows)


def pilot_section(pilots: Sequence[RunResult], runs: Sequence[RunResult] = ()) -> list[str]:
    """The pilots in one table against the grid's budget, then each one's command, its
    evaluated epochs and when its score first reached each threshold."""
    lines = [
        "## Pilot and reference runs",
        "",
        "Ordinary `gan_tf.train` runs outside the grid: the pilot that chose the budget above "
        "and any longer run shown for comparison. The score at the grid's budget is that of "
        "the last evaluated epoch within it, for runs at the grid's batch size; steps at which "
        "a score was reached are to within the evaluation interval.",
        "",
        *pilot_summary(pilots, runs),
        "",
        "Each run's evaluated epochs follow. " + EPOCH_COLUMNS_NOTE,
        "",
    ]
    header = ["epoch", "steps", "images", *(h for h, _, _ in EPOCH_COLUMNS)]
    for run in pilots:
        title = f"{run.label}, {run.setting} (lr {run.lr:g}, β1 {run.beta1:g})"
        lines += [f"### {title}, batch {run.batch_size}, seed {run.seed}", ""]
        if run.command:
            lines += [f"    {run.command}", ""]
        score = stats.column(run, "score")
        rows = [
            [f"{epoch:g}", *epoch_cells(run, i)]
            for i, epoch in enumerate(stats.epochs(run))
            if math.isfinite(score[i])
        ]
        lines += table(header, rows) if rows else ["No evaluated epoch."]
        lines += ["", "; ".join(time_to_text(run, t) for t in stats.SCORE_THRESHOLDS) + ".", ""]
    return lines


def reach_bullets(
    analysis: Analysis,
    pilots: Sequence[RunResult] = (),
    threshold: float = max(stats.SCORE_THRESHOLDS),
) -> list[str]:
    """Whether generators draw digits at this budget: per setting of the grid, the best
    variant by mean final score and how many runs reached score `threshold`; then, per
    setting only the pilots have, what they reached and when."""
    bullets = []
    for setting in analysis.settings:
        groups = [g for g in analysis.groups if g.setting == setting and g.runs]
        scored = [g for g in groups if g.stat("score")[2]]
        if not scored:
            continue
        best = max(scored, key=lambda g: g.stat("score")[0])
        reached, n, _, _ = best.time_to(threshold)
        every = [g.time_to(threshold)[:2] for g in groups]
        bullets.append(
            f"{setting_title(best)}: the best variant by mean final score is {best.label} "
            f"({pm(best, 'score', 2)}); {reached} of its {n} runs reached score ≥ "
            f"{threshold:g} during training, {sum(k for k, _ in every)} of "
            f"{sum(m for _, m in every)} runs of every variant."
        )
    in_grid = {(r.lr, r.beta1) for g in analysis.groups for r in g.runs}
    steps = [_steps(r)[-1] for g in analysis.groups for r in g.runs if r.metrics]
    budget = f"{np.median(steps):,.0f} steps" if steps else "the grid's budget"
    outside: dict[tuple[float, float], list[RunResult]] = {}
    for run in pilots:
        if (run.lr, run.beta1) not in in_grid:
            outside.setdefault((run.lr, run.beta1), []).append(run)
    for (lr, beta1), mine in outside.items():
        said = []
        for run in mine:
            hit = stats.time_to_score(run, threshold)
            done = _steps(run)[-1] if run.metrics else 0
            when = (
                f"reached score ≥ {threshold:g} at {hit[0] / run.batch_size:,.0f} steps"
                if hit
                else f"did not reach score ≥ {threshold:g} in its {done:,.0f} steps"
            )
            said.append(f"{run.label} at batch {run.batch_size} {when}")
        bullets.append(
            f"{mine[0].setting} (lr {lr:g}, β1 {beta1:g}) is not in the grid, whose runs stop "
            f"at {budget}; its pilot and reference runs: {'; '.join(said)}."
        )
    return bullets


# --- report.md --------------------------------------------------------------------------


def reference(runs: Sequence[RunResult]) -> str:
    """The real-data reference figures, mean over the runs' final evaluations."""
    refs = [r.final["reference"] for r in runs if r.final and r.final.get("reference")]
    if not refs:
        return "No run has a final evaluation, so there are no real-data reference figures."
    names = {"fd": "FD", "covered": "classes", "mode_kl": "mode KL"}
    figures = []
    for key in stats.QUALITY_KEYS:
        values = [stats.as_float(ref.get(key)) for ref in refs]
        values = [v for v in values if math.isfinite(v)]
        figures.append(f"{names.get(key, key)} {fmt(sum(values) / len(values) if values else NAN)}")
    sizes = [stats.as_float(r.final.get("n")) for r in runs if r.final]
    sizes = [n for n in sizes if math.isfinite(n)]
    size = f" (n = {max(sizes):.0f} images)" if sizes else ""
    return (
        f"Real training images against real test images{size}, mean over {len(refs)} "
        f"evaluation(s): {', '.join(figures)}. This is what a generator matching the data "
        "would score." + _classifiers(runs)
    )


def _classifiers(runs: Sequence[RunResult]) -> str:
    """A note when the final evaluations were judged by more than one classifier copy.

    Trained again elsewhere (another CPU's floating point, say), the classifier comes out
    slightly different, and the FD it measures moves with it: the note names each copy
    (by its weights' digest, or its test accuracy where an older evaluation has none), how
    many runs it judged and its real-data FD.
    """
    judges: dict[str, list[RunResult]] = {}
    for r in runs:
        info = r.final.get("classifier") if r.final else None
        if not isinstance(info, dict):
            continue
        accuracy = stats.as_float(info.get("test_accuracy"))
        name = f"test accuracy {accuracy:.2%}" if math.isfinite(accuracy) else "unknown"
        if info.get("weights_sha256"):
            name += f", weights {str(info['weights_sha256'])[:8]}"
        judges.setdefault(name, []).append(r)
    if len(judges) < 2:
        return ""
    said = []
    for name, judged in judges.items():
        fds = [stats.as_float(r.final.get("reference", {}).get("fd")) for r in judged]
        fds = [fd for fd in fds if math.isfinite(fd)]
        fd = f", real-data FD {fmt(sum(fds) / len(fds))}" if fds else ""
        said.append(f"{name} ({len(judged)} run(s){fd})")
    return (
        f" The final evaluations were judged by {len(judges)} separately trained copies of "
        f"the classifier: {'; '.join(said)}. Figures from different copies are not on one "
        "scale, so compare only runs judged by the same copy (a study keeps one classifier "
        "for all its runs in its folder unless --cache-dir says otherwise)."
    )


def markdown(
    analysis: Analysis,
    runs: Sequence[RunResult],
    budget: str,
    plots: Sequence[tuple[str, str]],
    command: str = "",
    pilots: Sequence[RunResult] = (),
) -> list[str]:
    """report.md's lines up to its notes: `plots` are (file name, caption) to show."""
    labels = ", ".join(dict.fromkeys(g.label for g in analysis.groups))
    seeds = ", ".join(map(str, sorted({r.seed for r in runs})))
    settings = ", ".join(analysis.settings)
    lines = ["# ReLU vs LeakyReLU in the DCGAN discriminator", ""]
    if command:
        lines += [
            "Made by the command below. Run again from the same folder, it trains only what "
            "is unfinished and rewrites this report from the run folders.",
            "",
            f"    {command}",
            "",
        ]
    lines += [budget.strip(), ""]
    lines += [f"{len(runs)} runs: variants {labels}; settings {settings}; seeds {seeds}.", ""]
    if pilots:
        lines += pilot_section(pilots, runs)
    lines += ["## Real-data reference", "", reference(runs), "", "## Results", ""]
    lines += [
        "Each cell is mean ± sd (ddof=1) over the runs of a variant at a setting (a single "
        "value where only one run has it; n/a where none does). Final FD, score, classes, "
        "precision and recall are the final evaluation; FD figures leave collapsed runs out "
        "(FD runs says how many remain). Dead channels and grad → G are means over the "
        "probed epochs; D(x) and D(G(z)) the last epoch's; time is training wall time.",
        "",
    ]
    for setting in analysis.settings:
        groups = [g for g in analysis.groups if g.setting == setting and g.runs]
        if groups:
            lines += [f"### {setting_title(groups[0])}", "", *results_table(groups), ""]
    lines += ["## Collapse", "", *collapse_table(analysis.groups), ""]
    lines += [
        "## Time to quality",
        "",
        "Images seen (cumulative steps x batch size) and wall seconds until the first evaluated "
        "epoch whose classifier score reaches each threshold (so to within the evaluation "
        "interval); the median is over the runs that reached it, k of n counts them.",
        "",
        *time_table([g for g in analysis.groups if g.runs]),
        "",
    ]
    if note := speed_note(runs):
        lines += [note, ""]
    lines += ["## Statistics", "", *(f"- {rule}" for rule in RULES), ""]
    lines += [f"{analysis.family} p-values were corrected together.", ""]
    lines += [*statistics_table(analysis.comparisons), "", mechanism_line(analysis), ""]
    lines += [slope_line(analysis), ""] if analysis.slopes else []
    lines += ["## Plots", ""]
    for name, caption in plots:
        lines += [f"![{caption}]({name})", ""]
    bullets = [*reach_bullets(analysis, pilots), *reading(analysis)]
    lines += ["## What the numbers show", "", *(f"- {b}" for b in bullets), ""]
    lines += ["## What they do not show", "", *(f"- {limit}" for limit in LIMITS), ""]
    diverged = [r for g in analysis.groups for r in g.diverged]
    if diverged:
        lines += ["## Diverged runs", "", "Left out of every statistic above.", ""]
        lines += [f"- {r.label}, {r.setting}, seed {r.seed}" for r in diverged] + [""]
    return lines
