"""The exploratory part of study v3's report: per-arm summaries with the epochs of collapse
flags, the primary arms' other figures paired by seed, the stage-2 comparisons, and the link
of dead channels with the gradient reaching G, or why there is none to give. Worded from
`confirm_explore`'s numbers, labelled exploratory throughout."""

from __future__ import annotations

import math
from collections.abc import Sequence

from gan_tf.study.confirm import Confirmation
from gan_tf.study.confirm_cells import interval, mean_sd, seeds_used, signed
from gan_tf.study.confirm_explore import (
    MIN_CORRELATION_POINTS,
    MIN_RUNS_WITH_DEAD,
    ArmSummary,
    Mechanism,
)
from gan_tf.study.confirm_runs import EPOCHS
from gan_tf.study.formatting import fmt, fmt_p, table
from gan_tf.study.stats import Correlation

# Decimals of a paired difference, by figure (others: 2).
DIFFERENCE_DECIMALS = {"recall": 3, "precision": 3, "grad to G": 3}


def _seeds(seeds: Sequence[int]) -> str:
    return ", ".join(map(str, seeds)) or "none"


def _epochs(summary: ArmSummary) -> str:
    if not summary.flags:
        return "0"
    epochs = ", ".join(map(str, summary.flagged_epochs))
    plural = "s" if len(summary.flagged_epochs) > 1 else ""
    return (
        f"{summary.flags} ({summary.flagged_runs} of {summary.runs} runs; epoch{plural} {epochs})"
    )


def exploratory_section(confirmation: Confirmation) -> list[str]:
    summaries = confirmation.summaries
    lines = [
        "## Exploratory (not confirmatory)",
        "",
        "Everything in this section is exploratory: outside the Holm family, with uncorrected "
        "p-values, and never a confirmed finding. Each figure is the mean ± sd over an arm's "
        f"finished runs; final FD, score, recall, precision and classes covered are those of "
        f"epoch {EPOCHS}. "
        "Dead channels are the share of the channels of D's first (L1) or second (L2) layer "
        "that are dead on the probe batch; dead units, the share of L2's units (channel and "
        "position) whose pre-activation is at most 0 for every probe image, averaged over a "
        "run's epochs (a figure the plan does not name; under LeakyReLU such a unit still "
        "passes α times its gradient); grad to G is the gradient norm reaching G's images, "
        "averaged over a run's epochs; a collapse flag is an evaluation with classifier score "
        "below 2 or recall below 0.01, and the table gives the epochs flagged.",
        "",
    ]
    if len({s.seeds for s in summaries}) > 1:
        seeds = "; ".join(f"{s.arm.label}: {_seeds(s.seeds)}" for s in summaries)
        lines += [
            f"The arms' finished runs do not cover the same seeds ({seeds}), so their means "
            "are not yet matched; the paired differences below are.",
            "",
        ]
    rows = []
    for s in summaries:
        f = s.figures
        rows.append(
            [
                s.arm.label,
                str(s.runs),
                mean_sd(f["late FD"], 2),
                mean_sd(f["final FD"], 2),
                mean_sd(f["score"], 2),
                mean_sd(f["recall"], 3),
                mean_sd(f["precision"], 3),
                mean_sd(f["coverage"], 2),
            ]
        )
    header = ["arm", "finished runs", "late FD", "final FD", "score", "recall", "precision"]
    header.append("classes covered")
    lines += [*table(header, rows), ""]
    rows = []
    for s in summaries:
        f = s.figures
        rows.append(
            [
                s.arm.label,
                mean_sd(f["dead channels L1, epoch 1"], 1, 100, "%"),
                mean_sd(f[f"dead channels L1, epoch {EPOCHS}"], 1, 100, "%"),
                mean_sd(f["dead channels L2, epoch 1"], 1, 100, "%"),
                mean_sd(f[f"dead channels L2, epoch {EPOCHS}"], 1, 100, "%"),
                mean_sd(f["dead units L2"], 1, 100, "%"),
                mean_sd(f["grad to G"], None),
                _epochs(s),
            ]
        )
    header = ["arm", "dead L1, epoch 1", f"L1, epoch {EPOCHS}", "dead L2, epoch 1"]
    header += [f"L2, epoch {EPOCHS}", "dead units L2", "grad to G", "collapse flags"]
    lines += [*table(header, rows), ""]
    if any(t.n for t in confirmation.differences):
        lines += [
            "The primary arms' other figures, LeakyReLU minus ReLU paired by seed (mean "
            "difference, 95% t interval, uncorrected p):",
            "",
        ]
        rows = []
        for t in confirmation.differences:
            places = DIFFERENCE_DECIMALS.get(t.name, 2)
            rows.append(
                [t.what, seeds_used(t), signed(t.estimate, places), interval(t, places), fmt_p(t.p)]
            )
        header = ["difference", "seeds used", "mean", "95% CI", "p (uncorrected)"]
        lines += [*table(header, rows), ""]
    if confirmation.comparisons:
        lines += [
            "Paired late-FD differences outside the primary family (uncorrected p):",
            "",
        ]
        rows = [
            [t.what, seeds_used(t), signed(t.estimate), interval(t), fmt(t.dz, 2), fmt_p(t.p)]
            for t in confirmation.comparisons
        ]
        header = ["difference", "seeds used", "mean", "95% CI", "d_z", "p (uncorrected)"]
        lines += [*table(header, rows), ""]
    return lines + mechanism_lines(confirmation.mechanism)


def mechanism_lines(m: Mechanism) -> list[str]:
    """The plan's exploratory correlation of dead channels with the gradient reaching G."""
    if not m.runs:
        return []
    first, second = m.most_dead
    heading = ["### Dead channels and the gradient reaching G", ""]
    if m.runs_with_dead == 0:
        return [
            *heading,
            "No channel of D's first or second layer was dead on the probe batch (its "
            "pre-activation at most 0 at every position of every probe image, which under ReLU "
            f"means no output and no gradient) at any epoch of the {m.runs} finished runs. The "
            "plan's correlation of dead channels with the gradient reaching G is therefore "
            "undefined: with no dead channel there is nothing to correlate.",
            "",
        ]
    found = (
        f"{m.runs_with_dead} of the {m.runs} finished runs had a dead channel (its "
        "pre-activation at most 0 at every position of every probe image) at some epoch, "
        f"{m.epochs_with_dead} run-epoch{'s' if m.epochs_with_dead > 1 else ''} in all; the "
        f"most at any one: {100 * first:.1f}% of "
        f"layer 1, {100 * second:.1f}% of layer 2."
    )
    if m.runs_with_dead < MIN_RUNS_WITH_DEAD:
        return [
            *heading,
            f"{found} That is too rare to correlate with the gradient reaching G (the report "
            f"asks for at least {MIN_RUNS_WITH_DEAD} runs with one), so it gives no r.",
            "",
        ]
    rows = [[f"within {arm.label}", str(c.n), *_r(c)] for arm, c in m.within]
    rows.append(["pooled, centred by arm", str(m.centred.n), *_r(m.centred)])
    rows.append(["between arms (their means)", str(m.between.n), *_r(m.between)])
    header = ["runs", "n", "Pearson r", "95% bootstrap CI", "p (permutation, uncorrected)"]
    return [
        *heading,
        f"{found} Per run, the mean over its epochs of the share of D's dead layer-2 channels "
        "and of the gradient norm reaching G's images. The pooled row takes each arm's means "
        "from its runs and leaves out arms whose dead share does not vary; r is n/a without "
        f"spread, and the interval and p below {MIN_CORRELATION_POINTS} points.",
        "",
        *table(header, rows),
        "",
    ]


def _r(c: Correlation) -> list[str]:
    if not math.isfinite(c.r):
        return ["n/a", "n/a", "n/a"]
    if not math.isfinite(c.low):
        return [f"{c.r:+.2f}", "n/a", "n/a"]
    return [f"{c.r:+.2f}", f"{c.low:+.2f} to {c.high:+.2f}", fmt_p(c.p)]
