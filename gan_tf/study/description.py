"""The descriptive part of the reading: what the figures show that the tests do not cover,
in sentences written from `findings`.

Whether digits appear at the budget, how dead channels come and go over training, where
the variant with the most of them ranks, which way the gradient reaching G moves with alpha,
what a worse FD is made of (recall or precision), how much the final FD moves from one epoch
to the next, and generators that lost their digits for a while. Each sentence names the
figure or table that shows it, and says it is descriptive where it reads a trend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gan_tf.rundir import DEAD_CHANNELS_2
from gan_tf.study.analysis import Analysis, Group
from gan_tf.study.findings import (
    NEAR_ZERO,
    FDStep,
    dead_cost,
    dead_course,
    gradient,
    gradient_directions,
    reach,
    relapse_summary,
    snapshot,
)
from gan_tf.study.formatting import (
    RHO,
    fmt,
    labels,
    ordinal,
    pct,
    pm,
    setting_title,
    setting_values,
    share,
    span,
    trend,
)
from gan_tf.study.measures import SCORE_THRESHOLDS
from gan_tf.study.records import RunResult
from gan_tf.study.stats import Correlation

DESCRIPTIVE = "descriptive, not in the Holm family"


def reach_bullets(
    analysis: Analysis,
    pilots: Sequence[RunResult] = (),
    threshold: float = max(SCORE_THRESHOLDS),
) -> list[str]:
    """Whether generators draw data-like images at this budget: per setting of the grid, the best
    variant by mean final score and how many runs reached score `threshold`; then, per
    setting only the pilots have, what they reached and when."""
    grid, others, budget = reach(analysis, pilots, threshold)
    bullets = [
        f"{setting_title(r.best)}: the best variant by mean final score is {r.best.label} "
        f"({pm(r.best, 'score', 2)}); {r.reached} of its {r.n} runs reached score ≥ "
        f"{threshold:g} during training, {r.all_reached} of {r.all_n} runs of every variant."
        for r in grid
    ]
    stop = f"{budget:,.0f} steps" if math.isfinite(budget) else "the grid's budget"
    for other in others:
        said = [
            f"{label} at batch {batch} "
            + (
                f"reached score ≥ {threshold:g} at {hit:,.0f} steps"
                if hit is not None
                else f"did not reach score ≥ {threshold:g} in its {done:,.0f} steps"
            )
            for label, batch, hit, done in other.runs
        ]
        bullets.append(
            f"{setting_values(other.setting, other.lr, other.beta1)} is not in the grid, whose "
            f"runs stop at {stop}; its pilot and reference runs: {'; '.join(said)}."
        )
    return bullets


def dying_bullet(setting: str, groups: Sequence[Group], key: str = DEAD_CHANNELS_2) -> str:
    """How the share of D's dead layer-2 channels went over training at one setting: each
    variant's highest and last per-epoch mean over seeds, the runs of the variant with the
    most, and whether the share lasted or went away (dead.png)."""
    found = dead_course(groups, key)
    if not found.moved:
        if not found.quiet:
            return f"{setting}: no run probed D's dead channels."
        return (
            f"{setting}: no D had a dead layer-2 channel at any probe (dead.png; "
            f"{labels(found.quiet)})."
        )
    parts = [
        f"{g.label} {share(high)} at epoch {at:g}, {share(last)} at epoch {end:g}"
        for g, high, at, last, end in found.moved
    ]
    (at, high), (end, last) = found.top_at_peak, found.top_at_last
    text = (
        f"{setting}: D's dead layer-2 channels, mean over seeds at the highest and the last "
        f"probe (dead.png): {'; '.join(parts)}. Run by run, {found.top.label} had "
        f"{', '.join(map(share, high))} at epoch {at:g} and {', '.join(map(share, last))} at "
        f"epoch {end:g}."
    )
    moved = [m[0] for m in found.moved]
    if len(found.fell) == len(moved):
        text += (
            " In each, the share had at least halved between its highest probe and the last"
            + (", and the highest came in the first half of training" if found.early else "")
            + ": dead channels here were "
            + ("an early, passing phase" if found.early else "a passing phase")
            + ", not a lasting loss."
        )
    elif not found.fell:
        text += " None of them had halved its highest share by the last probe: they lasted."
    else:
        kept = [g for g in moved if all(g is not f for f in found.fell)]
        text += (
            f" The share had at least halved by the last probe for {labels(found.fell)}, not "
            f"for {labels(kept)}."
        )
    if found.quiet:
        text += f" None at any probe: {labels(found.quiet)}."
    return text


def dead_cost_bullet(setting: str, groups: Sequence[Group]) -> str | None:
    """Where the variant with the most dead channels ranked on final FD (None where no
    variant had more than almost none, or fewer than 2 have a final FD)."""
    cost = dead_cost(groups)
    if cost is None:
        return None
    most = cost.most
    text = (
        f"{setting}: {most.label}, the variant with the most dead layer-2 channels "
        f"({pct(most, DEAD_CHANNELS_2)} mean over epochs), ended {ordinal(cost.rank)} of "
        f"{cost.scored} on mean final FD ({fmt(cost.fd)}; the others {span(cost.others)}; "
        "results table)"
    )
    if cost.behind:
        return (
            f"{text}, ahead of {labels(cost.behind)}: these runs show no cost in sample "
            "quality from its dead channels."
        )
    if cost.level:
        return (
            f"{text}, level with {labels(cost.level)}: these runs show no cost from its dead "
            "channels."
        )
    return f"{text}: the worst; whether its dead channels caused that is not tested."


def gradient_bullet(setting: str, groups: Sequence[Group], alpha_trend: Correlation | None) -> str:
    """Which way grad → G moved with alpha at one setting (`alpha_trend`: alpha against it
    over runs), and whether dead channels can account for it: how it moved among the
    variants that had almost none."""
    found = gradient(groups, alpha_trend)
    if found is None:
        return f"{setting}: no run measured the gradient reaching G."
    means = "; ".join(f"{g.label} {fmt(mean)}" for g, mean in found.means)
    text = f"{setting}: grad → G, mean over epochs and seeds (grad.png; results table): {means}"
    if math.isfinite(found.ratio):
        text += f". {found.top.label} passed {found.ratio:.2f} times relu's"
    c = found.trend
    if c is not None and math.isfinite(c.r):
        text += f"; over runs, alpha against grad → G: {trend(c)} ({DESCRIPTIVE})"
        if c.clear:
            text += f", so a larger alpha went with {'more' if c.r > 0 else 'less'} gradient here"
    text += "."
    if found.no_dead:
        return text + (
            " No D at this setting had a dead layer-2 channel at any probe (dead.png), so "
            "dead channels play no part in these differences."
        )
    if not found.near:
        return text
    values = found.near_means
    if found.near_direction > 0:
        how = f"rose from {fmt(values[0])} to {fmt(values[-1])} as alpha grew"
    elif found.near_direction < 0:
        how = f"fell from {fmt(values[0])} to {fmt(values[-1])} as alpha grew"
    else:
        how = f"ranged from {fmt(min(values))} to {fmt(max(values))}, not in the order of alpha"
    return text + (
        f" Among the variants with almost no dead channels (at most {share(NEAR_ZERO)} mean "
        f"over epochs: {labels(found.near)}), grad → G still {how}: dead channels do not "
        "account for that."
    )


def gradient_direction_bullet(analysis: Analysis) -> str | None:
    """Where grad → G clearly rose with alpha at one setting and clearly fell at another."""
    up, down = gradient_directions(analysis)
    if not (up and down):
        return None

    def at(found):
        return ", ".join(f"{s} ({RHO} = {c.r:.2f})" for s, c in found)

    return (
        f"Which way the gradient reaching G moves with alpha depends on the setting "
        f"(grad.png): it fell as alpha grew at {at(down)} and rose at "
        f"{at(up)}. A leakier D does not by itself pass more gradient to G."
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
        if c.clear:
            return f"{name} {'rose' if c.r > 0 else 'fell'} as alpha grew ({trend(c)})"
        return f"{name} shows no clear trend with alpha ({trend(c)})"

    text = (
        f"{setting}: final recall and precision against alpha (results table; "
        f"{DESCRIPTIVE}): {said('recall', recall)}; {said('precision', precision)}"
    )
    recall_clear = recall is not None and recall.clear
    precision_clear = precision is not None and precision.clear
    if recall_clear and not precision_clear:
        text += (
            ". What moved is how much of the data's variety the samples cover, not how "
            f"data-like each sample is: {'less' if recall.r < 0 else 'more'} varied samples "
            "rather than worse or better drawn ones"
        )
    elif precision_clear and not recall_clear:
        text += (
            ". What moved is how data-like each sample is, not how much of the data's "
            "variety they cover"
        )
    return text + "."


def _told(step: FDStep) -> str:
    return (
        f"{step.group.label}, seed {step.run.seed}: {fmt(step.fd1)} at epoch {step.epoch1:g}, "
        f"{fmt(step.fd2)} at epoch {step.epoch2:g}"
    )


def snapshot_bullet(setting: str, groups: Sequence[Group]) -> str | None:
    """How far FD moved between a run's last two evaluations, against the spread of
    final FD over seeds: how much one end-of-run snapshot carries."""
    snap = snapshot(groups)
    if snap is None:
        return None
    moves = []
    if snap.rise:
        moves.append(f"up by as much as {fmt(snap.rise.change)} ({_told(snap.rise)})")
    if snap.fall:
        moves.append(f"down by as much as {fmt(-snap.fall.change)} ({_told(snap.fall)})")
    text = (
        f"{setting}: the final FD is one snapshot of a moving curve (fd.png). Between a "
        f"run's last two evaluations during training"
        + (f" (N = {snap.n:,.0f})" if math.isfinite(snap.n) else "")
        + f", FD moved by a median of {fmt(snap.median)}"
        + (f", {' and '.join(moves)}" if moves else "")
    )
    if snap.sds:
        text += (
            f"; a variant's sd of final FD over seeds is {span(snap.sds)} here (results table), "
            "so where each run's last epoch happened to land is part "
            "of the final-FD columns and their spread"
        )
        if snap.auc_spreads_less:
            text += f". Mean FD over training spreads less over seeds (sd {span(snap.auc_sds)})"
    return text + "."


def relapse_bullet(analysis: Analysis) -> str | None:
    """Runs whose generator met the collapse rule again after having passed it."""
    summary = relapse_summary(analysis)
    if summary is None:
        return None
    if not summary.found:
        return (
            f"No run met the collapse rule again after first passing it ({summary.evaluated} "
            "evaluated runs; Collapse, during training)."
        )
    said = "; ".join(
        f"{g.setting} {g.label} seed {r.seed} at epoch {x.epoch:g} (score {fmt(x.score, 2)}, "
        f"recall {fmt(x.recall, 3)}, FD {fmt(x.fd)}; "
        + (f"passing again at epoch {x.back:g})" if math.isfinite(x.back) else "not passing again)")
        for g, r, x in summary.found
    )
    text = (
        f"Collapse during training (its table; crosses in fd.png): {summary.runs} of "
        f"{summary.evaluated} runs met the collapse rule again after having passed it: {said}."
    )
    if summary.recovered:
        text += (
            f" The collapse counts, which judge only the end of each run, do not show the "
            f"{summary.recovered} that had recovered by then."
        )
    return text
