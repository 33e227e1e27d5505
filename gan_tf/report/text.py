"""The words of the study report: number formatting, the tables, the plain-language reading
and report.md itself, all from a `stats.Analysis`.

The reading claims only what holds at stats.ALPHA after Holm's correction, and says so
plainly where a budget decides nothing. Besides those claims it describes, from the numbers
and labelled as descriptive, what the tests do not cover: how dead channels come and go
over training, which way the gradient reaching G moves with alpha, what a worse FD is made
of (recall or precision), how much the final FD moves from one epoch to the next, and
generators that lost their digits for a while. Each such sentence names the figure or table
that shows it.
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
# A variant whose D had at most this share of dead layer-2 channels, mean over epochs, has
# "almost none": too few for dead channels to explain what it does.
NEAR_ZERO = 0.005
DESCRIPTIVE = "descriptive, not in the Holm family"

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
    "with better or worse samples? This test and the mechanism's within-setting "
    "correlations joined the analysis after a first pass of runs had been looked at: they "
    "were not planned before any data were seen.",
    f"Collapse: a generator collapsed if its final classifier score < {stats.COLLAPSE_SCORE:g} "
    f"or its final recall < {stats.COLLAPSE_RECALL:g} (the last evaluated epoch where there "
    "is no final evaluation). Collapsed runs are left out of every FD figure, curve and "
    "comparison; diverged runs are left out of all statistics and listed apart. The same "
    "rule is also applied to every evaluated epoch (Collapse, during training): flags "
    "before a run first passes it are the start of training, a flag after that is a relapse.",
    "Quality over the run: best FD is the lowest FD over the evaluated epochs, measured "
    "during training on the evaluation's smaller sample; mean FD over training is the area "
    "under the FD curve (trapezoids over images seen) divided by its span. Lower FD is better.",
    "Probes: dead channels (share of D's conv channels whose pre-activation is ≤ 0 on every "
    "probe image) and grad → G (mean L2 norm of ∂gen_loss/∂image) are means over the epochs "
    "that probed them; the maximum is over the run's per-epoch probes.",
    "Descriptive figures (not in the Holm family; chosen after results had been seen, so "
    "they describe and do not test): the course of dead channels "
    "over the epochs; per setting, Spearman's correlation of alpha with grad → G, final "
    "recall and final precision, with 95% bootstrap intervals (a trend is called clear only "
    "where its interval leaves out 0); the per-epoch collapse flags; and the mechanism's "
    "correlation centred within each variant (each run's two measures minus its variant's "
    "mean at its setting), with an uncorrected permutation p-value.",
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
    "levels of both measures differ; within a setting, alpha itself moves both measures "
    "(it sets what a negative pre-activation passes back, and how often a channel goes "
    "all-negative), so variants can line up without any run-to-run link.",
    "A LeakyReLU channel counted as 'dead' still passes gradient scaled by alpha; only for "
    "ReLU does it pass none. The probe batch is small, and the probe counts dead channels "
    "without naming them: a falling count does not show that the same channels came back.",
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


def sample_size(runs: Sequence[RunResult], final: bool = False) -> float:
    """The samples behind the runs' FD: their final evaluation's (`final`) or their
    evaluations during training; NaN where the runs do not record it or disagree."""
    if final:
        sizes = {stats.as_float(r.final.get("n")) for r in runs if r.final}
    else:
        sizes = {stats.eval_n(r) for r in runs}
    sizes = {n for n in sizes if math.isfinite(n)}
    return sizes.pop() if len(sizes) == 1 else NAN


def _n(size: float) -> str:
    """', N = 2,000' for a known sample size, '' otherwise."""
    return f", N = {size:,.0f}" if math.isfinite(size) else ""


def results_table(groups: Sequence[Group]) -> list[str]:
    """The results table; the FD headers say how many samples each FD was measured on."""
    runs = [r for g in groups for r in g.runs]
    names = {
        "final FD": f"final FD{_n(sample_size(runs, final=True))}",
        "best FD (epoch)": f"best FD during training{_n(sample_size(runs))} (epoch)",
    }
    header = [names.get(h, h) for h, _ in COLUMNS]
    return table(header, [[render(g) for _, render in COLUMNS] for g in groups])


def best_fd_note(groups: Sequence[Group]) -> str:
    """Why best FD and final FD are not on one footing, with how many runs show it."""
    runs = [r for g in groups for r in g.runs]
    pairs = [
        (best, final)
        for g in groups
        for best, final in zip(g.values("fd_best"), g.values("fd"), strict=True)
        if math.isfinite(best) and math.isfinite(final)
    ]
    if not pairs:
        return ""
    during, end = sample_size(runs), sample_size(runs, final=True)
    sizes = (
        f"{during:,.0f} samples against {end:,.0f}"
        if math.isfinite(during) and math.isfinite(end)
        else "a different number of samples"
    )
    above = sum(best > final for best, final in pairs)
    return (
        "Best FD is the lowest of the evaluations during training; final FD is one more "
        f"evaluation at the end, on {sizes}. An FD estimated from fewer samples comes out "
        f"higher, so the two are not on one footing: in {above} of {len(pairs)} runs the best "
        "FD during training is above the final FD."
    )


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


def _relapse_cell(group: Group) -> str:
    """How many of the group's runs relapsed during training, and where."""
    evaluated = [r for r in group.runs if np.isfinite(stats.collapse_flags(r)).any()]
    if not evaluated:
        return "n/a"
    where = [
        f"seed {r.seed}: epoch {', '.join(f'{x.epoch:g}' for x in stats.relapses(r))}"
        for r in evaluated
        if stats.relapses(r)
    ]
    return f"{len(where)} of {len(evaluated)}" + (f" ({'; '.join(where)})" if where else "")


def collapse_table(groups: Sequence[Group]) -> list[str]:
    rows = []
    for g in groups:
        judged = [c for c in g.collapsed if c is not None]
        rate = f"{sum(judged)} of {len(judged)}" if judged else "n/a"
        if judged:
            rate += f" ({100 * sum(judged) / len(judged):.0f}%)"
        runs = len(g.runs) + len(g.diverged)
        rows.append(
            [
                g.setting,
                g.label,
                str(runs),
                str(len(g.diverged)),
                str(len(judged)),
                rate,
                _relapse_cell(g),
            ]
        )
    header = ["setting", "variant", "runs", "diverged", "evaluated", "collapsed"]
    return table([*header, "relapsed during training"], rows)


def relapse_section(groups: Sequence[Group]) -> list[str]:
    """The collapse rule over the epochs: how training started, and each relapse."""
    runs = [r for g in groups for r in g.runs]
    starts = [stats.flagged_at_start(r) for r in runs]
    evaluated = [r for r in runs if np.isfinite(stats.collapse_flags(r)).any()]
    if not evaluated:
        return []
    began = [s for s in starts if math.isfinite(s) and s > 0]
    never = sum(
        np.isfinite(stats.collapse_flags(r)).any() and not (stats.collapse_flags(r) == 0).any()
        for r in runs
    )
    lines = ["### Collapse during training", ""]
    start = (
        f"At the start, {len(began)} of {len(evaluated)} evaluated runs met the collapse rule "
        f"at their first evaluation(s), the latest up to epoch {max(began):g}, before their "
        "generators drew digits"
        if began
        else f"All {len(evaluated)} evaluated runs passed the collapse rule from their first "
        "evaluation on"
    )
    start += f"; {never} never passed it." if never else "."
    lines += [start, ""]
    rows = [
        [
            g.setting,
            g.label,
            str(r.seed),
            f"{x.epoch:g}",
            fmt(x.score, 2),
            fmt(x.recall, 3),
            fmt(x.fd),
            f"epoch {x.back:g}" if math.isfinite(x.back) else "no",
        ]
        for g in groups
        for r in g.runs
        for x in stats.relapses(r)
    ]
    if not rows:
        return [*lines, "No run met the rule again after it had first passed it.", ""]
    header = ["setting", "variant", "seed", "epoch", "score", "recall", "FD", "passed again at"]
    lines += [
        "Epochs that met the rule after the run had passed it (fd.png marks them with "
        "crosses); the collapse counts above judge only the end of each run:",
        "",
        *table(header, rows),
        "",
    ]
    return lines


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


def power_line(analysis: Analysis) -> str:
    """What a comparison needed to hold: Holm's first step in t units ("" if none tested)."""
    bar = analysis.first_step()
    if bar is None:
        return ""
    runs = f"{bar.n_low}" if bar.n_low == bar.n_high else f"{bar.n_low} to {bar.n_high}"
    dfs = (
        f"{bar.df_low:.1f}"
        if round(bar.df_low, 1) == round(bar.df_high, 1)
        else f"{bar.df_low:.1f} to {bar.df_high:.1f}"
    )
    need = (
        f"{bar.t_low:.1f}"
        if round(bar.t_low, 1) == round(bar.t_high, 1)
        else f"{bar.t_low:.1f} (at {bar.df_high:.1f} df) to {bar.t_high:.1f} "
        f"(at {bar.df_low:.1f} df)"
    )
    return (
        f"What could hold: with {runs} runs on a side, the Welch tests here have {dfs} degrees "
        f"of freedom. Holm's first step asks the smallest of the {bar.family} p-values to be "
        f"at most {stats.ALPHA:g}/{bar.family} = {bar.threshold:.4f}, which takes |t| ≥ {need}: "
        "a difference that many standard errors wide. At this number of runs, a comparison "
        "that does not hold after Holm is largely what the design makes of any difference "
        "short of a very large one; it is not evidence that the variants are alike."
    )


def descriptive_line(analysis: Analysis) -> str:
    """The descriptive correlations, as figures ("" where there are none)."""
    parts = [
        f"{setting}, mechanism centred within each variant ({p.n} runs): {_plain(p)}"
        for setting, (p, _) in analysis.centred.items()
    ]
    names = {"gen_image_grad_norm": "grad → G", "recall": "final recall"}
    parts += [
        f"{setting}, alpha against {names.get(key, 'final ' + key)} ({c.n} runs): {_plain(c)}"
        for (setting, key), c in analysis.trends.items()
    ]
    if not parts:
        return ""
    return (
        "Descriptive figures, not in the Holm family: " + "; ".join(parts) + ". Intervals: "
        f"{stats.BOOTSTRAP_RESAMPLES} bootstrap resamples over runs; p: the same permutation "
        "test as above, uncorrected."
    )


def _plain(c: Correlation) -> str:
    """A correlation with its interval and uncorrected p (no Holm verdict)."""
    if not math.isfinite(c.r):
        return f"{_symbol(c)} cannot be computed"
    return (
        f"{_symbol(c)} = {c.r:.2f} (95% bootstrap CI {c.low:.2f} to {c.high:.2f}; p {fmt_p(c.p)})"
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
            f"{fmt_p(c.p_holm)}; results table, Statistics)."
        )
    return (
        f"{setting}: no trend of final FD with alpha holds after correction (Spearman "
        f"{RHO} = {c.r:.2f}, Holm p {fmt_p(c.p_holm)})."
    )


def _named(correlations: list[Correlation]) -> str:
    """'Pearson r = -0.77, Holm p 0.016' for each correlation, joined with 'and'."""
    return " and ".join(f"{_symbol(c)} = {c.r:.2f}, Holm p {fmt_p(c.p_holm)}" for c in correlations)


def _centred_sentence(centred: tuple[Correlation, Correlation]) -> str:
    """What is left of the mechanism's correlation within each variant ("" if nothing)."""
    pearson = centred[0]
    if not math.isfinite(pearson.r):
        return (
            " Within each variant it cannot be assessed: no variant's runs differ in both measures."
        )
    said = (
        f"centred within each variant (each run against its variant's mean), Pearson r = "
        f"{pearson.r:.2f} over {pearson.n} runs (95% bootstrap CI {pearson.low:.2f} to "
        f"{pearson.high:.2f}, uncorrected p {fmt_p(pearson.p)}; {DESCRIPTIVE})"
    )
    if pearson.p > stats.ALPHA:
        return (
            f" But {said}: runs of one variant with more dead channels did not pass "
            "measurably less gradient, so the association is between variants, not between "
            "runs (mechanism.png shows clusters by variant rather than one slope)."
        )
    side = "less" if pearson.r < 0 else "more"
    return (
        f" {said[0].upper()}{said[1:]}: runs of one variant with more dead channels also "
        f"passed {side} gradient."
    )


def _mechanism_bullet(
    pair: tuple[Correlation, Correlation],
    where: str = "",
    centred: tuple[Correlation, Correlation] | None = None,
) -> str:
    """The reading of one pair of correlations; `where` names its runs if not all;
    `centred`, the same runs' correlation within each variant, says whether it holds
    between runs or only between variants."""
    pearson, spearman = pair
    head = f"Mechanism, {where}:" if where else "Mechanism:"
    if not math.isfinite(spearman.r):
        return f"{head} cannot be assessed (too few runs, or no spread in one of the measures)."
    within = _centred_sentence(centred) if centred else ""
    if pearson.holds or spearman.holds:
        side = "less" if spearman.r < 0 else "more"
        held = [c for c in pair if c.holds]
        missed = [c for c in pair if not c.holds]
        verdict = f"{_named(held)} {'hold' if len(held) > 1 else 'holds'} after correction"
        if missed:
            verdict += f"; {_named(missed)} does not"
        return (
            f"{head} runs whose D had more dead layer-2 channels passed {side} "
            f"gradient to G ({verdict}; mechanism.png). It is a correlation over runs." + within
        )
    return (
        f"{head} the link between D's dead layer-2 channels and the gradient "
        f"reaching G does not hold after correction (Spearman {RHO} = {spearman.r:.2f}, "
        f"Holm p {fmt_p(spearman.p_holm)})." + within
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


def _setting_bullets(
    setting: str, groups: Sequence[Group], comparisons, power: bool = False
) -> list[str]:
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
            f"{DECIDES_NOTHING} between the variants at this setting"
            + (
                ": with this few runs only a very large difference could have held "
                "(Statistics, what could hold)."
                if power
                else "."
            )
        )
    elif len(holding) < len(comparisons):
        bullets.append(
            f"{setting}: the other {len(comparisons) - len(holding)} comparisons do not hold "
            f"after correction ({untestable} of them {NOT_TESTABLE})"
            + (
                "; at this number of runs that says little (Statistics, what could hold)."
                if power
                else "."
            )
        )
    return bullets


def _share(x: float) -> str:
    return fmt(x, 1, 100, "%")


def _span(values: Sequence[float]) -> str:
    """'lowest to highest' of `values`, or the one value where they print alike."""
    low, high = fmt(min(values)), fmt(max(values))
    return low if low == high else f"{low} to {high}"


def _labels(groups: Sequence[Group]) -> str:
    return ", ".join(g.label for g in groups)


def settings_bullet(analysis: Analysis) -> str | None:
    """Which optimiser values two settings differ in, where they differ in more than one."""
    values = {}
    for g in analysis.groups:
        run = (g.runs or g.diverged)[0]
        values.setdefault(g.setting, (run.lr, run.beta1))
    said = []
    names = list(values)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            (lr_a, b1_a), (lr_b, b1_b) = values[a], values[b]
            if lr_a != lr_b and b1_a != b1_b:
                said.append(
                    f"the settings {a} and {b} differ in both the learning rate ({lr_a:g} "
                    f"against {lr_b:g}) and β1 ({b1_a:g} against {b1_b:g})"
                )
    if not said:
        return None
    joined = "; ".join(said)
    return (
        f"{joined[0].upper()}{joined[1:]}: a difference between such settings cannot be put "
        "down to either value alone."
    )


def dying_bullet(setting: str, groups: Sequence[Group], key: str = "dead_channels_2") -> str:
    """How the share of D's dead layer-2 channels went over training at one setting: each
    variant's highest and last per-epoch mean over seeds, the runs of the variant with the
    most, and whether the share lasted or went away (the dead.png)."""
    quiet, moved = [], []
    for g in groups:
        x, values = stats.course(g.runs, key)
        if not x.size:
            continue
        mean = stats.mean_sd(values)[0]
        if np.nanmax(mean) > 0:
            moved.append((g, x, values, mean))
        else:
            quiet.append(g)
    if not moved:
        if not quiet:
            return f"{setting}: no run probed D's dead channels."
        return (
            f"{setting}: no D had a dead layer-2 channel at any probe (dead.png; {_labels(quiet)})."
        )
    parts = []
    for g, x, _, mean in moved:
        peak = int(np.nanargmax(mean))
        parts.append(
            f"{g.label} {_share(mean[peak])} at epoch {x[peak]:g}, {_share(mean[-1])} at "
            f"epoch {x[-1]:g}"
        )
    g, x, values, mean = max(moved, key=lambda m: np.nanmax(m[3]))
    peak = int(np.nanargmax(mean))

    def runs_at(i):
        return ", ".join(_share(v) for v in values[:, i] if math.isfinite(v))

    text = (
        f"{setting}: D's dead layer-2 channels, mean over seeds at the highest and the last "
        f"probe (dead.png): {'; '.join(parts)}. Run by run, {g.label} had "
        f"{runs_at(peak)} at epoch {x[peak]:g} and {runs_at(-1)} at epoch {x[-1]:g}."
    )
    fell = [m[0] for m in moved if m[3][-1] <= np.nanmax(m[3]) / 2]
    early = all(m[1][int(np.nanargmax(m[3]))] <= m[1][(len(m[1]) - 1) // 2] for m in moved)
    if len(fell) == len(moved):
        text += (
            " In each, the share had at least halved between its highest probe and the last"
            + (", and the highest came in the first half of training" if early else "")
            + ": dead channels here were "
            + ("an early, passing phase" if early else "a passing phase")
            + ", not a lasting loss."
        )
    elif not fell:
        text += " None of them had halved its highest share by the last probe: they lasted."
    else:
        kept = [m[0] for m in moved if all(m[0] is not g for g in fell)]
        text += (
            f" The share had at least halved by the last probe for {_labels(fell)}, not for "
            f"{_labels(kept)}."
        )
    if quiet:
        text += f" None at any probe: {_labels(quiet)}."
    return text


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def dead_cost_bullet(setting: str, groups: Sequence[Group]) -> str | None:
    """Where the variant with the most dead channels ranked on final FD (None where no
    variant had more than almost none, or fewer than 2 have a final FD)."""
    scored = [g for g in groups if g.stat("fd")[2] and math.isfinite(g.stat("dead_channels_2")[0])]
    if len(scored) < 2:
        return None
    most = max(scored, key=lambda g: g.stat("dead_channels_2")[0])
    if not most.stat("dead_channels_2")[0] > NEAR_ZERO:
        return None
    fd = {id(g): g.stat("fd")[0] for g in scored}
    rank = 1 + sum(fd[id(g)] < fd[id(most)] for g in scored)
    others = [fd[id(g)] for g in scored if g is not most]
    text = (
        f"{setting}: {most.label}, the variant with the most dead layer-2 channels "
        f"({pct(most, 'dead_channels_2')} mean over epochs), ended {_ordinal(rank)} of "
        f"{len(scored)} on mean final FD ({fmt(fd[id(most)])}; the others {_span(others)}; "
        "results table)"
    )
    behind = sorted((g for g in scored if fd[id(g)] > fd[id(most)]), key=lambda g: fd[id(g)])
    if behind:
        return (
            f"{text}, ahead of {_labels(behind)}: these runs show no cost in sample "
            "quality from its dead channels."
        )
    level = [g for g in scored if g is not most and fd[id(g)] == fd[id(most)]]
    if level:
        return (
            f"{text}, level with {_labels(level)}: these runs show no cost from its dead channels."
        )
    return f"{text}: the worst; whether its dead channels caused that is not tested."


def _clear(c: Correlation | None) -> bool:
    """A descriptive trend whose bootstrap interval leaves out 0."""
    return bool(c and math.isfinite(c.r) and (c.low > 0 or c.high < 0))


def _trend(c: Correlation) -> str:
    return f"Spearman {RHO} = {c.r:.2f}, 95% bootstrap CI {c.low:.2f} to {c.high:.2f}"


def gradient_bullet(setting: str, groups: Sequence[Group], trend: Correlation | None) -> str:
    """Which way grad → G moved with alpha at one setting, and whether dead channels can
    account for it: how it moved among the variants that had almost none."""
    key = "gen_image_grad_norm"
    have = [g for g in groups if g.stat(key)[2]]
    if not have:
        return f"{setting}: no run measured the gradient reaching G."
    means = "; ".join(f"{g.label} {fmt(g.stat(key)[0])}" for g in have)
    text = f"{setting}: grad → G, mean over epochs and seeds (grad.png; results table): {means}"
    relu = next((g for g in have if g.variant[0] == "relu"), None)
    top = max(have, key=lambda g: g.variant[1])
    if relu and top is not relu and relu.stat(key)[0] > 0:
        text += f". {top.label} passed {top.stat(key)[0] / relu.stat(key)[0]:.2f} times relu's"
    if trend is not None and math.isfinite(trend.r):
        text += f"; over runs, alpha against grad → G: {_trend(trend)} ({DESCRIPTIVE})"
        if _clear(trend):
            text += (
                f", so a larger alpha went with {'more' if trend.r > 0 else 'less'} gradient here"
            )
    text += "."
    dead = {id(g): g.stat("dead_channels_2")[0] for g in have}
    near = [g for g in have if math.isfinite(dead[id(g)]) and dead[id(g)] <= NEAR_ZERO]
    if near and len(near) == len(have) and all(g.stat("max_dead_channels_2")[0] == 0 for g in have):
        return text + (
            " No D at this setting had a dead layer-2 channel at any probe (dead.png), so "
            "dead channels play no part in these differences."
        )
    by_alpha = sorted(near, key=lambda g: g.variant[1])
    if len({g.variant[1] for g in by_alpha}) < 2:
        return text
    values = [g.stat(key)[0] for g in by_alpha]
    steps = np.diff(values)
    if (steps > 0).all():
        how = f"rose from {fmt(values[0])} to {fmt(values[-1])} as alpha grew"
    elif (steps < 0).all():
        how = f"fell from {fmt(values[0])} to {fmt(values[-1])} as alpha grew"
    else:
        how = f"ranged from {fmt(min(values))} to {fmt(max(values))}, not in the order of alpha"
    return text + (
        f" Among the variants with almost no dead channels (at most {_share(NEAR_ZERO)} mean "
        f"over epochs: {_labels(by_alpha)}), grad → G still {how}: dead channels do not "
        "account for that."
    )


def gradient_direction_bullet(analysis: Analysis) -> str | None:
    """Where grad → G clearly rose with alpha at one setting and clearly fell at another."""
    clear = {
        setting: c
        for (setting, key), c in analysis.trends.items()
        if key == "gen_image_grad_norm" and _clear(c)
    }
    up = [f"{s} ({RHO} = {c.r:.2f})" for s, c in clear.items() if c.r > 0]
    down = [f"{s} ({RHO} = {c.r:.2f})" for s, c in clear.items() if c.r < 0]
    if not (up and down):
        return None
    return (
        f"Which way the gradient reaching G moves with alpha depends on the setting "
        f"(grad.png): it fell as alpha grew at {', '.join(down)} and rose at "
        f"{', '.join(up)}. A leakier D does not by itself pass more gradient to G."
    )


def quality_bullet(setting: str, analysis: Analysis) -> str | None:
    """What moved with alpha in the final samples: recall (variety) or precision (how
    data-like each sample is)."""
    recall = analysis.trends.get((setting, "recall"))
    precision = analysis.trends.get((setting, "precision"))
    if not any(c is not None and math.isfinite(c.r) for c in (recall, precision)):
        return None

    def said(name: str, c: Correlation | None) -> str:
        if c is None or not math.isfinite(c.r):
            return f"{name} cannot be assessed"
        if _clear(c):
            return f"{name} {'rose' if c.r > 0 else 'fell'} as alpha grew ({_trend(c)})"
        return f"{name} shows no clear trend with alpha ({_trend(c)})"

    text = (
        f"{setting}: final recall and precision against alpha (results table; "
        f"{DESCRIPTIVE}): {said('recall', recall)}; {said('precision', precision)}"
    )
    if _clear(recall) and not _clear(precision):
        text += (
            ". What moved is how much of the data's variety the samples cover, not how "
            f"data-like each sample is: {'less' if recall.r < 0 else 'more'} varied digits "
            "rather than worse or better drawn ones"
        )
    elif _clear(precision) and not _clear(recall):
        text += (
            ". What moved is how data-like each sample is, not how much of the data's "
            "variety they cover"
        )
    return text + "."


def snapshot_bullet(setting: str, groups: Sequence[Group]) -> str | None:
    """How far FD moved between a run's last two evaluations, against the spread of
    final FD over seeds: how much one end-of-run snapshot carries."""
    steps = []
    for g in groups:
        for run in g.runs:
            if stats.is_collapsed(run):
                continue
            fd, when = stats.column(run, "fd"), stats.epochs(run)
            ok = np.flatnonzero(np.isfinite(fd))
            if ok.size >= 2:
                i, j = ok[-2], ok[-1]
                steps.append((fd[j] - fd[i], g, run, when[i], fd[i], when[j], fd[j]))
    if not steps:
        return None

    def told(step) -> str:
        _, g, run, e1, fd1, e2, fd2 = step
        return f"{g.label}, seed {run.seed}: {fmt(fd1)} at epoch {e1:g}, {fmt(fd2)} at epoch {e2:g}"

    size = sample_size([r for grp in groups for r in grp.runs])
    rise, fall = max(steps, key=lambda x: x[0]), min(steps, key=lambda x: x[0])
    moves = []
    if rise[0] > 0:
        moves.append(f"up by as much as {fmt(rise[0])} ({told(rise)})")
    if fall[0] < 0:
        moves.append(f"down by as much as {fmt(-fall[0])} ({told(fall)})")
    text = (
        f"{setting}: the final FD is one snapshot of a moving curve (fd.png). Between a "
        f"run's last two evaluations during training"
        + (f" (N = {size:,.0f})" if math.isfinite(size) else "")
        + ", FD moved by a median of "
        f"{fmt(float(np.median([abs(x[0]) for x in steps])))}"
        + (f", {' and '.join(moves)}" if moves else "")
    )
    sds = [g.stat("fd")[1] for g in groups if math.isfinite(g.stat("fd")[1])]
    aucs = [g.stat("fd_auc")[1] for g in groups if math.isfinite(g.stat("fd_auc")[1])]
    if sds:
        text += (
            f"; a variant's sd of final FD over seeds is {_span(sds)} here (results table), "
            "so where each run's last epoch happened to land is part "
            "of the final-FD columns and their spread"
        )
        if aucs and np.median(aucs) < np.median(sds):
            text += f". Mean FD over training spreads less over seeds (sd {_span(aucs)})"
    return text + "."


def relapse_bullet(analysis: Analysis) -> str | None:
    """Runs whose generator met the collapse rule again after having passed it."""
    runs = [(g, r) for g in analysis.groups for r in g.runs]
    evaluated = [r for _, r in runs if np.isfinite(stats.collapse_flags(r)).any()]
    if not evaluated:
        return None
    found = [(g, r, x) for g, r in runs for x in stats.relapses(r)]
    if not found:
        return (
            f"No run met the collapse rule again after first passing it ({len(evaluated)} "
            "evaluated runs; Collapse, during training)."
        )
    said = "; ".join(
        f"{g.setting} {g.label} seed {r.seed} at epoch {x.epoch:g} (score {fmt(x.score, 2)}, "
        f"recall {fmt(x.recall, 3)}, FD {fmt(x.fd)}; "
        + (f"passing again at epoch {x.back:g})" if math.isfinite(x.back) else "not passing again)")
        for g, r, x in found
    )
    relapsed = {id(r) for _, r, _ in found}
    recovered = sum(not stats.is_collapsed(r) for _, r in runs if id(r) in relapsed)
    text = (
        f"Collapse during training (its table; crosses in fd.png): {len(relapsed)} of "
        f"{len(evaluated)} runs met the collapse rule again after having passed it: {said}."
    )
    if recovered:
        text += (
            f" The collapse counts, which judge only the end of each run, do not show the "
            f"{recovered} that had recovered by then."
        )
    return text


def reading(analysis: Analysis) -> list[str]:
    """Plain-language bullets (without the leading "- "): the claims that hold at
    stats.ALPHA after Holm's correction, then what the descriptive figures show, each
    naming the figure or table it comes from."""
    bullets = []
    power = analysis.first_step() is not None
    for setting in analysis.settings:
        groups = [g for g in analysis.groups if g.setting == setting and g.runs]
        comparisons = [c for c in analysis.comparisons if c.setting == setting]
        bullets += _setting_bullets(setting, groups, comparisons, power)
    bullets += [_slope_bullet(setting, c) for setting, c in analysis.slopes.items()]
    if not math.isfinite(analysis.correlations[1].r):
        bullets.append("The mechanism cannot be assessed: too few runs measured both sides.")
    else:
        pooled = "all settings pooled" if analysis.within else ""
        alone = analysis.centred.get(analysis.settings[0]) if not analysis.within else None
        bullets.append(_mechanism_bullet(analysis.correlations, pooled, alone))
        for setting, pair in analysis.within.items():
            bullets.append(
                _mechanism_bullet(pair, f"within {setting}", analysis.centred.get(setting))
            )
    if note := settings_bullet(analysis):
        bullets.append(note)
    for setting in analysis.settings:
        groups = [g for g in analysis.groups if g.setting == setting and g.runs]
        if not groups:
            continue
        bullets.append(dying_bullet(setting, groups))
        bullets.append(dead_cost_bullet(setting, groups))
        trend = analysis.trends.get((setting, "gen_image_grad_norm"))
        bullets.append(gradient_bullet(setting, groups, trend))
    bullets.append(gradient_direction_bullet(analysis))
    for setting in analysis.settings:
        groups = [g for g in analysis.groups if g.setting == setting and g.runs]
        bullets += [quality_bullet(setting, analysis), snapshot_bullet(setting, groups)]
    bullets.append(relapse_bullet(analysis))
    bullets = [b for b in bullets if b]
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
        if balance := class_balance(run):
            lines += [balance, ""]
    if note := pilot_classifier_note(pilots, runs):
        lines += [note, ""]
    return lines


def class_balance(run: RunResult) -> str:
    """The final samples' spread over the classes, against real data's ("" if unknown)."""
    final = run.final if isinstance(run.final, dict) else {}
    shares = stats.class_shares(final.get("generator"))
    if shares is None:
        return ""
    low, high = int(np.argmin(shares)), int(np.argmax(shares))
    recall = stats.quality_at_end(run)["recall"]
    text = (
        f"Final evaluation ({stats.as_float(final.get('n')):,.0f} samples): recall "
        f"{fmt(recall, 2)}; by class, from {shares[low]:.1%} of the samples (class {low}) "
        f"to {shares[high]:.1%} (class {high})"
    )
    reference = stats.class_shares(final.get("reference"))
    if reference is not None:
        text += (
            f", where real test images range from {reference.min():.1%} to {reference.max():.1%}"
        )
    if shares.min() < 0.5 / shares.size and stats.is_collapsed(run) is False:
        text += (
            ". The collapse rule (score and recall) does not look at how the samples share "
            "out over the classes, and this run passes it"
        )
    return text + "."


def _judge(run: RunResult) -> str | None:
    """The classifier copy of the run's final evaluation: its test accuracy and, where
    recorded, its weights' digest (None: the run has no record of one)."""
    info = run.final.get("classifier") if run.final else None
    if not isinstance(info, dict):
        return None
    accuracy = stats.as_float(info.get("test_accuracy"))
    name = f"test accuracy {accuracy:.2%}" if math.isfinite(accuracy) else "unknown"
    if info.get("weights_sha256"):
        name += f", weights {str(info['weights_sha256'])[:8]}"
    return name


def pilot_classifier_note(pilots: Sequence[RunResult], runs: Sequence[RunResult]) -> str:
    """Which classifier copy scored each pilot, where that is not the grid's ("" when the
    grid records none, or every pilot was scored by a copy the grid used)."""
    grid = sorted({j for r in runs if (j := _judge(r))})
    if not grid:
        return ""
    said, other = [], False
    for run in pilots:
        judge = _judge(run)
        name = f"{run.label} at batch {run.batch_size}"
        if judge is None:
            said.append(f"{name}: not recorded (no final evaluation)")
        elif judge not in grid:
            digest = "" if "weights" in judge else ", no weights digest"
            said.append(f"{name}: {judge}{digest}")
        else:
            said.append(f"{name}: the grid's")
            continue
        other = True
    if not other:
        return ""
    return (
        f"Classifier: the grid's runs were all scored by one copy ({'; '.join(grid)}); the "
        f"runs above record another, or none: {'; '.join(said)}. A separately trained copy "
        "scores slightly differently, so their FDs and scores are not strictly comparable "
        "with the grid's."
    )


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
        if name := _judge(r):
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
    if note := best_fd_note([g for g in analysis.groups if g.runs]):
        lines += [note, ""]
    lines += ["## Collapse", "", *collapse_table(analysis.groups), ""]
    lines += relapse_section([g for g in analysis.groups if g.runs])
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
    lines += [power, ""] if (power := power_line(analysis)) else []
    lines += [*statistics_table(analysis.comparisons), "", mechanism_line(analysis), ""]
    lines += [slope_line(analysis), ""] if analysis.slopes else []
    lines += [descriptive, ""] if (descriptive := descriptive_line(analysis)) else []
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
