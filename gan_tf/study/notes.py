"""The sentences beside the report's tables, written from figures computed elsewhere
(`evaluations`, `findings`, `measures`): the real-data reference and the classifier copies,
best FD against final FD, training speed, collapse during training, a pilot's classes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from gan_tf.errors import keyword
from gan_tf.study import evaluations
from gan_tf.study.analysis import Group
from gan_tf.study.formatting import fmt
from gan_tf.study.measures import collapse_start, speed_spread
from gan_tf.study.records import RunResult
from gan_tf.study.tables import relapse_table

# How the reference sentence names a quality column where its name is not its own.
QUALITY_NAMES = {"fd": "FD", "covered": "classes", "mode_kl": "mode KL"}


def reference(runs: Sequence[RunResult], spell: Callable[[str], str] = keyword) -> str:
    """The real-data reference figures, mean over the runs' final evaluations, and a note
    where more than one classifier copy judged them (`spell` names the setting that picks
    the copy)."""
    ref = evaluations.reference(runs)
    if ref is None:
        return "No run has a final evaluation, so there are no real-data reference figures."
    figures = ", ".join(f"{QUALITY_NAMES.get(k, k)} {fmt(v)}" for k, v in ref.means.items())
    size = f" (n = {ref.n:.0f} images)" if math.isfinite(ref.n) else ""
    return (
        f"Real training images against real test images{size}, mean over {ref.count} "
        f"evaluation(s): {figures}. This is what a generator matching the data "
        "would score." + _classifiers(runs, spell)
    )


def _classifiers(runs: Sequence[RunResult], spell: Callable[[str], str]) -> str:
    """A note when the final evaluations were judged by more than one classifier copy: each
    copy, how many runs it judged and its real-data FD."""
    copies = evaluations.classifier_copies(runs)
    if len(copies) < 2:
        return ""
    said = "; ".join(
        f"{name} ({count} run(s)" + (f", real-data FD {fmt(fd)}" if math.isfinite(fd) else "") + ")"
        for name, count, fd in copies
    )
    return (
        f" The final evaluations were judged by {len(copies)} separately trained copies of "
        f"the classifier: {said}. Figures from different copies are not on one "
        "scale, so compare only runs judged by the same copy (a study keeps one classifier "
        f"for all its runs in its folder unless {spell('cache_dir')} says otherwise)."
    )


def pilot_classifier_note(pilots: Sequence[RunResult], runs: Sequence[RunResult]) -> str:
    """Which classifier copy scored each pilot, where that is not the grid's ("" when the
    grid records none, or every pilot was scored by a copy the grid used)."""
    copies = evaluations.pilot_copies(pilots, runs)
    if copies is None:
        return ""
    said = []
    for run, copy in copies.pilots:
        name = f"{run.label} at batch {run.batch_size}"
        if copy is None:
            said.append(f"{name}: not recorded (no final evaluation)")
        elif copy not in copies.grid:
            digest = "" if "weights" in copy else ", no weights digest"
            said.append(f"{name}: {copy}{digest}")
        else:
            said.append(f"{name}: the grid's")
    return (
        f"Classifier: the grid's runs were all scored by one copy ({'; '.join(copies.grid)}); "
        f"the runs above record another, or none: {'; '.join(said)}. A separately trained copy "
        "scores slightly differently, so their FDs and scores are not strictly comparable "
        "with the grid's."
    )


def class_balance(run: RunResult) -> str:
    """The final samples' spread over the classes, against real data's ("" if unknown)."""
    balance = evaluations.class_balance(run)
    if balance is None:
        return ""
    shares, low, high = balance.shares, balance.rarest, balance.commonest
    text = (
        f"Final evaluation ({balance.n:,.0f} samples): recall {fmt(balance.recall, 2)}; by "
        f"class, from {shares[low]:.1%} of the samples (class {low}) to {shares[high]:.1%} "
        f"(class {high})"
    )
    if math.isfinite(balance.real_low):
        text += (
            f", where real test images range from {balance.real_low:.1%} to {balance.real_high:.1%}"
        )
    if balance.short_yet_passed:
        text += (
            ". The collapse rule (score and recall) does not look at how the samples share "
            "out over the classes, and this run passes it"
        )
    return text + "."


def best_fd_note(groups: Sequence[Group]) -> str:
    """Why best FD and final FD are not on one footing, with how many runs show it."""
    found = evaluations.best_vs_final(groups)
    if found is None:
        return ""
    sizes = (
        f"{found.during:,.0f} samples against {found.end:,.0f}"
        if math.isfinite(found.during) and math.isfinite(found.end)
        else "a different number of samples"
    )
    return (
        "Best FD is the lowest of the evaluations during training; final FD is one more "
        f"evaluation at the end, on {sizes}. An FD estimated from fewer samples comes out "
        f"higher, so the two are not on one footing: in {found.above} of {found.runs} runs "
        "the best FD during training is above the final FD."
    )


def speed_note(runs: Sequence[RunResult]) -> str:
    """What the runs' training speeds allow wall seconds to say ("" when they agree)."""
    spread = speed_spread(runs)
    if spread is None:
        return ""
    low, high = spread
    return (
        f"Training speed differed {high / low:.1f}-fold between runs "
        f"({low:,.0f} to {high:,.0f} images/s): a machine's speed drifts "
        "over hours, and runs may have shared one with other work or run on different "
        "machines. Wall seconds compare only runs of similar speed; images seen are the "
        "measure that does not depend on the machine."
    )


def relapse_section(groups: Sequence[Group]) -> list[str]:
    """The collapse rule over the epochs: how training started, and each relapse."""
    start = collapse_start([r for g in groups for r in g.runs])
    if start is None:
        return []
    text = (
        f"At the start, {len(start.began)} of {start.evaluated} evaluated runs met the "
        f"collapse rule at their first evaluation(s), the latest up to epoch "
        f"{max(start.began):g}, before their generators drew recognisable images"
        if start.began
        else f"All {start.evaluated} evaluated runs passed the collapse rule from their first "
        "evaluation on"
    )
    text += f"; {start.never} never passed it." if start.never else "."
    lines = ["### Collapse during training", "", text, ""]
    rows = relapse_table(groups)
    if not rows:
        return [*lines, "No run met the rule again after it had first passed it.", ""]
    return [
        *lines,
        "Epochs that met the rule after the run had passed it (fd.png marks them with "
        "crosses); the collapse counts above judge only the end of each run:",
        "",
        *rows,
        "",
    ]
