"""How the report's numbers are made, in words: the rules of the tests, the correlations
with their figures, what a comparison needed to hold, and what the study cannot show.

The rules describe the method and hold for any study; where a sentence depends on the
study (how many runs the design had, whether settings were pooled), it is written from
the analysis.
"""

from __future__ import annotations

from gan_tf.rundir import GRAD_TO_G
from gan_tf.study.analysis import COMPARED, Analysis
from gan_tf.study.formatting import correlation, plain
from gan_tf.study.measures import COLLAPSE_RECALL, COLLAPSE_SCORE
from gan_tf.study.stats import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, PERMUTATIONS, SIGNIFICANCE
from gan_tf.study.tables import NOT_TESTABLE

RULES = (
    "Comparisons: each LeakyReLU variant against relu within a setting, on "
    + ", ".join(m.title for m in COMPARED)
    + ". The difference is mean(variant) - mean(relu) over seeds, with Welch's 95% t "
    "interval (unequal variances, Welch-Satterthwaite degrees of freedom), Hedges' g "
    "(difference over the pooled standard deviation, small-sample corrected) and Welch's "
    "two-sided t-test. With fewer than 2 values on a side, or no spread on either, a "
    f"comparison is {NOT_TESTABLE}: it has no p-value. pp: percentage points.",
    "Multiple testing: Holm's step-down correction over every p-value in this report "
    "(the comparisons, the correlation tests of the mechanism and the slope tests). A "
    f"claim holds if its Holm-adjusted p ≤ {SIGNIFICANCE:g}; only such claims are read out "
    "below.",
    "Slope: within each setting, Spearman's correlation between the negative slope alpha "
    "(relu counted as alpha = 0, which it is) and the final FD of the setting's runs that "
    "did not collapse, with a 95% bootstrap interval over runs: does a larger alpha go "
    "with better or worse samples? This test and the mechanism's within-setting "
    "correlations joined the analysis after a first pass of runs had been looked at: they "
    "were not planned before any data were seen.",
    f"Collapse: a generator collapsed if its final classifier score < {COLLAPSE_SCORE:g} "
    f"or its final recall < {COLLAPSE_RECALL:g} (the last evaluated epoch where there "
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

CORRELATION_METHOD = (
    f"Intervals: {BOOTSTRAP_RESAMPLES} bootstrap resamples over runs; p-values: a "
    f"permutation test of the pairs ({PERMUTATIONS:,} random orderings, or all of "
    f"them where fewer); seed {BOOTSTRAP_SEED}."
)


def mechanism_line(analysis: Analysis) -> str:
    """The mechanism's correlations, pooled and within each setting, with their figures."""
    pearson, spearman = analysis.correlations
    within = "".join(
        f" Within {setting} alone ({p.n} runs): {correlation(p)}; {correlation(s)}."
        for setting, (p, s) in analysis.within.items()
    )
    return (
        f"Mechanism: across {pearson.n} runs (every setting and variant; per run, the mean over "
        "epochs of the fraction of D's dead layer-2 channels and of the gradient reaching G), "
        f"{correlation(pearson)}; {correlation(spearman)}.{within} "
        f"{CORRELATION_METHOD}"
    )


def slope_line(analysis: Analysis) -> str:
    """The slope tests of final FD against alpha, per setting, with their figures."""
    parts = [f"{setting} ({c.n} runs): {correlation(c)}" for setting, c in analysis.slopes.items()]
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
    if bar.very_large:
        meaning = (
            "At this number of runs, a comparison that does not hold after Holm is largely "
            "what the design makes of any difference short of a very large one; it is not "
            "evidence that the variants are alike."
        )
    else:
        meaning = (
            f"That is a difference of at least about {bar.effect:.1f} pooled standard "
            "deviations (Cohen's d); a comparison that does not hold after Holm is not "
            "evidence that the variants are alike."
        )
    return (
        f"What could hold: with {runs} runs on a side, the Welch tests here have {dfs} degrees "
        f"of freedom. Holm's first step asks the smallest of the {bar.family} p-values to be "
        f"at most {SIGNIFICANCE:g}/{bar.family} = {bar.threshold:.4f}, which takes |t| ≥ {need}: "
        f"a difference that many standard errors wide. {meaning}"
    )


def descriptive_line(analysis: Analysis) -> str:
    """The descriptive correlations, as figures ("" where there are none)."""
    parts = [
        f"{setting}, mechanism centred within each variant ({p.n} runs): {plain(p)}"
        for setting, (p, _) in analysis.centred.items()
    ]
    names = {GRAD_TO_G: "grad → G", "recall": "final recall"}
    parts += [
        f"{setting}, alpha against {names.get(key, 'final ' + key)} ({c.n} runs): {plain(c)}"
        for (setting, key), c in analysis.trends.items()
    ]
    if not parts:
        return ""
    return (
        "Descriptive figures, not in the Holm family: " + "; ".join(parts) + ". Intervals: "
        f"{BOOTSTRAP_RESAMPLES} bootstrap resamples over runs; p: the same permutation "
        "test as above, uncorrected."
    )


def limits(analysis: Analysis) -> list[str]:
    """What the study cannot show: of any such study, and of this one's design."""
    bar = analysis.first_step()
    few = ": few seeds give wide intervals." if bar is not None and bar.very_large else "."
    pooled = (
        " Pooled over settings it mixes settings whose levels of both measures differ; within "
        "a setting, alpha"
        if analysis.within
        else " Within a setting, alpha"
    )
    return [
        "The training budget (see above) is one budget: longer or otherwise tuned training can "
        "change which variant ends ahead.",
        "One dataset and one architecture (the tutorial's DCGAN).",
        "FD, score, classes, precision and recall come from a classifier's features; "
        "they are not human judgement of the samples.",
        f"A difference that does not hold after correction is not shown to be absent{few}",
        "The mechanism is a correlation over runs, not an intervention, and runs of one "
        f"setting and seed share their data order.{pooled} itself moves both measures "
        "(it sets what a negative pre-activation passes back, and how often a channel goes "
        "all-negative), so variants can line up without any run-to-run link.",
        "A LeakyReLU channel counted as 'dead' still passes gradient scaled by alpha; only for "
        "ReLU does it pass none. The probe batch is small, and the probe counts dead channels "
        "without naming them: a falling count does not show that the same channels came back.",
    ]
