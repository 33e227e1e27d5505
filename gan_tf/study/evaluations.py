"""What the runs' evaluations say beyond each run's own figures, as numbers: the real-data
reference, which copy of the classifier judged each run, how a run's samples share out over
the classes, and best FD during training against final FD.

`notes` writes these as the sentences beside the report's tables.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from gan_tf.rundir import QUALITY_COLUMNS
from gan_tf.study.analysis import Group
from gan_tf.study.measures import class_shares, is_collapsed, quality_at_end, sample_size
from gan_tf.study.records import RunResult, as_float
from gan_tf.study.stats import NAN


@dataclasses.dataclass(frozen=True)
class Reference:
    """The real-data figures, mean over `count` final evaluations (`means` per quality
    column, NaN where none has it), on `n` images (NaN where unknown)."""

    means: dict[str, float]
    count: int
    n: float


def reference(runs: Sequence[RunResult]) -> Reference | None:
    """The real-data reference of the runs' final evaluations (None: none has one)."""
    refs = [r.final["reference"] for r in runs if r.final and r.final.get("reference")]
    if not refs:
        return None
    means = {}
    for key in QUALITY_COLUMNS:
        values = [as_float(ref.get(key)) for ref in refs]
        values = [v for v in values if math.isfinite(v)]
        means[key] = sum(values) / len(values) if values else NAN
    sizes = [as_float(r.final.get("n")) for r in runs if r.final]
    sizes = [n for n in sizes if math.isfinite(n)]
    return Reference(means, len(refs), max(sizes) if sizes else NAN)


def classifier_copy(run: RunResult) -> str | None:
    """The classifier copy of the run's final evaluation, by its test accuracy and, where
    recorded, its weights' digest (None: the run has no record of one). Two runs with the
    same name were judged by the same copy."""
    info = run.final.get("classifier") if run.final else None
    if not isinstance(info, dict):
        return None
    accuracy = as_float(info.get("test_accuracy"))
    name = f"test accuracy {accuracy:.2%}" if math.isfinite(accuracy) else "unknown"
    if info.get("weights_sha256"):
        name += f", weights {str(info['weights_sha256'])[:8]}"
    return name


def classifier_copies(runs: Sequence[RunResult]) -> list[tuple[str, int, float]]:
    """Each classifier copy that judged the runs' final evaluations: (its name, how many
    runs it judged, its mean real-data FD or NaN), in order of first use.

    Trained again elsewhere (another CPU's floating point, say), the classifier comes out
    slightly different, and the FD it measures moves with it.
    """
    judged: dict[str, list[RunResult]] = {}
    for r in runs:
        if name := classifier_copy(r):
            judged.setdefault(name, []).append(r)
    copies = []
    for name, mine in judged.items():
        fds = [as_float(r.final.get("reference", {}).get("fd")) for r in mine]
        fds = [fd for fd in fds if math.isfinite(fd)]
        copies.append((name, len(mine), sum(fds) / len(fds) if fds else NAN))
    return copies


@dataclasses.dataclass(frozen=True)
class PilotCopies:
    """The copies that judged the grid (`grid`), and per pilot (run, its copy or None)
    where some pilot was judged by another copy, or by none on record."""

    grid: list[str]
    pilots: list[tuple[RunResult, str | None]]


def pilot_copies(pilots: Sequence[RunResult], runs: Sequence[RunResult]) -> PilotCopies | None:
    """Which classifier copy judged each pilot (None when the grid records none, or every
    pilot was judged by a copy the grid used)."""
    grid = sorted({j for r in runs if (j := classifier_copy(r))})
    if not grid:
        return None
    said = [(run, classifier_copy(run)) for run in pilots]
    if all(copy in grid for _, copy in said):
        return None
    return PilotCopies(grid, said)


@dataclasses.dataclass(frozen=True)
class ClassBalance:
    """The final samples' share of each class (`shares`, on `n` samples; `rarest` and
    `commonest` the classes with the least and the most), the run's `recall`, real test
    images' lowest and highest share (NaN where unknown), and whether a class is badly short
    (under half its fair share) while the collapse rule passes it."""

    n: float
    shares: np.ndarray
    rarest: int
    commonest: int
    recall: float
    real_low: float
    real_high: float
    short_yet_passed: bool


def class_balance(run: RunResult) -> ClassBalance | None:
    """The run's final samples over the classes (None: no class histogram)."""
    final = run.final if isinstance(run.final, dict) else {}
    shares = class_shares(final.get("generator"))
    if shares is None:
        return None
    real = class_shares(final.get("reference"))
    short = bool(shares.min() < 0.5 / shares.size and is_collapsed(run) is False)
    return ClassBalance(
        as_float(final.get("n")),
        shares,
        int(np.argmin(shares)),
        int(np.argmax(shares)),
        quality_at_end(run)["recall"],
        float(real.min()) if real is not None else NAN,
        float(real.max()) if real is not None else NAN,
        short,
    )


@dataclasses.dataclass(frozen=True)
class BestVsFinal:
    """Best FD during training (on `during` samples) against final FD (on `end`): in
    `above` of `runs` runs the best was above the final."""

    during: float
    end: float
    above: int
    runs: int


def best_vs_final(groups: Sequence[Group]) -> BestVsFinal | None:
    """Best FD against final FD over the groups' runs (None: no run has both)."""
    runs = [r for g in groups for r in g.runs]
    pairs = [
        (best, final)
        for g in groups
        for best, final in zip(g.values("fd_best"), g.values("fd"), strict=True)
        if math.isfinite(best) and math.isfinite(final)
    ]
    if not pairs:
        return None
    above = sum(best > final for best, final in pairs)
    return BestVsFinal(sample_size(runs), sample_size(runs, final=True), above, len(pairs))
