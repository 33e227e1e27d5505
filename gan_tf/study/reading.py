"""The reading of a study: plain-language bullets written from its analysis.

It claims only what holds at SIGNIFICANCE after Holm's correction, says plainly where a
budget decides nothing, and then adds the descriptive sentences of `description`. Every
claim is written from the numbers: which comparisons and correlations hold, which way they
point, and how many runs stand behind them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gan_tf.rundir import GRAD_TO_G
from gan_tf.study.analysis import Analysis, Comparison, Group
from gan_tf.study.description import (
    DESCRIPTIVE,
    dead_cost_bullet,
    dying_bullet,
    gradient_bullet,
    gradient_direction_bullet,
    quality_bullet,
    relapse_bullet,
    snapshot_bullet,
)
from gan_tf.study.findings import setting_tests, settings_differences
from gan_tf.study.formatting import RHO, fmt, fmt_p, named
from gan_tf.study.stats import SIGNIFICANCE, Correlation
from gan_tf.study.tables import HOLDS, NOT_TESTABLE

# Key phrase; the tests pin it, so change it with them.
DECIDES_NOTHING = "this budget decides nothing"


def _claim(c: Comparison) -> str:
    t, m = c.test, c.measure
    side = "higher" if t.diff > 0 else "lower"
    return (
        f"{c.label} has a {side} {m.title} than relu by {fmt(abs(t.diff), None, m.scale, m.unit)} "
        f"(95% CI {fmt(t.low, None, m.scale)} to {fmt(t.high, None, m.scale)}, "
        f"Hedges' g {fmt(t.g, 2)}, "
        f"Holm p {fmt_p(c.p_holm)})"
    )


def setting_bullets(
    setting: str, groups: Sequence[Group], comparisons, underpowered: bool = False
) -> list[str]:
    """What a setting's collapses and comparisons say; `underpowered`: only a very large
    difference could have held (the Statistics section says what it took)."""
    found = setting_tests(setting, groups, comparisons)
    bullets = []
    if found.every_run_collapsed:
        bullets.append(
            f"{setting}: every evaluated run collapsed ({found.judged} of {found.judged}), so "
            f"{DECIDES_NOTHING} about image quality at this setting."
        )
    elif found.collapses:
        rates = ", ".join(f"{label} {k} of {n}" for label, k, n in found.collapsed)
        bullets.append(f"{setting}: collapsed runs per variant: {rates} (counts, not tested).")
    if not found.comparisons:
        return [*bullets, f"{setting}: relu or LeakyReLU is missing, so nothing is compared."]
    holding, untestable = found.holding, found.untestable
    bullets += [f"{setting}: {_claim(c)}." for c in holding]
    if not holding:
        bullets.append(
            f"{setting}: no difference between a LeakyReLU variant and relu {HOLDS} "
            f"({found.comparisons - untestable} tested, {untestable} {NOT_TESTABLE}), so "
            f"{DECIDES_NOTHING} between the variants at this setting"
            + (
                ": with this few runs only a very large difference could have held "
                "(Statistics, what could hold)."
                if underpowered
                else "."
            )
        )
    elif len(holding) < found.comparisons:
        bullets.append(
            f"{setting}: the other {found.comparisons - len(holding)} comparisons do not hold "
            f"after correction ({untestable} of them {NOT_TESTABLE})"
            + (
                "; at this number of runs that says little (Statistics, what could hold)."
                if underpowered
                else "."
            )
        )
    return bullets


def slope_bullet(setting: str, c: Correlation) -> str:
    """The slope test's reading: does final FD move with alpha at the setting?"""
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


def _centred_sentence(centred: tuple[Correlation, Correlation]) -> str:
    """What is left of the mechanism's correlation within each variant."""
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
    if pearson.p > SIGNIFICANCE:
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


def mechanism_bullet(
    pair: tuple[Correlation, Correlation],
    where: str = "",
    centred: tuple[Correlation, Correlation] | None = None,
) -> str:
    """The reading of one pair of the mechanism's correlations (Pearson, Spearman).

    Args:
        pair: the correlations, Holm-adjusted.
        where: names its runs if not all, e.g. "within stressed".
        centred: the same runs' correlation within each variant, which says whether the
            link holds between runs or only between variants.

    Returns:
        One bullet, naming which of the two holds after correction.
    """
    pearson, spearman = pair
    head = f"Mechanism, {where}:" if where else "Mechanism:"
    if not math.isfinite(spearman.r):
        return f"{head} cannot be assessed (too few runs, or no spread in one of the measures)."
    within = _centred_sentence(centred) if centred else ""
    if pearson.holds or spearman.holds:
        side = "less" if spearman.r < 0 else "more"
        held = [c for c in pair if c.holds]
        missed = [c for c in pair if not c.holds]
        verdict = f"{named(held)} {'hold' if len(held) > 1 else 'holds'} after correction"
        if missed:
            verdict += f"; {named(missed)} does not"
        return (
            f"{head} runs whose D had more dead layer-2 channels passed {side} "
            f"gradient to G ({verdict}; mechanism.png). It is a correlation over runs." + within
        )
    return (
        f"{head} the link between D's dead layer-2 channels and the gradient "
        f"reaching G does not hold after correction (Spearman {RHO} = {spearman.r:.2f}, "
        f"Holm p {fmt_p(spearman.p_holm)})." + within
    )


def settings_bullet(analysis: Analysis) -> str | None:
    """Which optimiser values two settings differ in, where they differ in more than one."""
    said = [
        f"the settings {a} and {b} differ in both the learning rate ({lr_a:g} against "
        f"{lr_b:g}) and β1 ({b1_a:g} against {b1_b:g})"
        for a, b, (lr_a, b1_a), (lr_b, b1_b) in settings_differences(analysis)
    ]
    if not said:
        return None
    joined = "; ".join(said)
    return (
        f"{joined[0].upper()}{joined[1:]}: a difference between such settings cannot be put "
        "down to either value alone."
    )


def reading(analysis: Analysis) -> list[str]:
    """Plain-language bullets (without the leading "- "): the claims that hold at
    SIGNIFICANCE after Holm's correction, then what the descriptive figures show, each
    naming the figure or table it comes from.

    Args:
        analysis: the study's analysis.

    Returns:
        The bullets, in the report's order.
    """
    bullets = []
    bar = analysis.first_step()
    underpowered = bar is not None and bar.very_large
    for setting in analysis.settings:
        comparisons = [c for c in analysis.comparisons if c.setting == setting]
        bullets += setting_bullets(setting, analysis.trained(setting), comparisons, underpowered)
    bullets += [slope_bullet(setting, c) for setting, c in analysis.slopes.items()]
    if not math.isfinite(analysis.correlations[1].r):
        bullets.append("The mechanism cannot be assessed: too few runs measured both sides.")
    else:
        pooled = "all settings pooled" if analysis.within else ""
        alone = analysis.centred.get(analysis.settings[0]) if not analysis.within else None
        bullets.append(mechanism_bullet(analysis.correlations, pooled, alone))
        for setting, pair in analysis.within.items():
            bullets.append(
                mechanism_bullet(pair, f"within {setting}", analysis.centred.get(setting))
            )
    bullets.append(settings_bullet(analysis))
    for setting in analysis.settings:
        groups = analysis.trained(setting)
        if not groups:
            continue
        bullets.append(dying_bullet(setting, groups))
        bullets.append(dead_cost_bullet(setting, groups))
        bullets.append(gradient_bullet(setting, groups, analysis.trends.get((setting, GRAD_TO_G))))
    bullets.append(gradient_direction_bullet(analysis))
    for setting in analysis.settings:
        groups = analysis.trained(setting)
        bullets += [quality_bullet(setting, analysis), snapshot_bullet(setting, groups)]
    bullets.append(relapse_bullet(analysis))
    bullets = [b for b in bullets if b]
    correlations = analysis.correlation_tests
    if not any(c.holds for c in analysis.comparisons) and not any(c.holds for c in correlations):
        bullets.append(f"Nothing {HOLDS}: {DECIDES_NOTHING} in this study.")
    return bullets
