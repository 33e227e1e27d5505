"""Runs side by side: their progress grids at one epoch, a GIF over training, and a table of
their figures every few epochs (what docs/sample/ shows of the tutorial's 50 epochs with
LeakyReLU and with ReLU).

    OUT_DIR/
      side_by_side.png       each run's grid at one epoch, labelled
      side_by_side.gif       the same for every epoch
      comparison.md          the runs, their commands, the table, time to quality
      RUN_NAME/              each run's metrics.csv, config.json and that epoch's grid
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gan_tf.files import write_text
from gan_tf.images import GRID_SCALE, save_gif, write_png
from gan_tf.report import stats
from gan_tf.report.figures import frame_sheets, read_frames
from gan_tf.report.stats import RunResult
from gan_tf.report.text import NOT_REACHED, fmt
from gan_tf.rundir import RunDir, frame_name

SHEET_NAME = "side_by_side.png"
GIF_NAME = "side_by_side.gif"
COMPARISON_NAME = "comparison.md"
# The table's columns: (header, metrics.csv column, decimals; "%" for a percentage).
TABLE_COLUMNS = (
    ("FD", "fd", None),
    ("score", "score", 2),
    ("recall", "recall", 2),
    ("dead ch. L1", "dead_channels_1", "%"),
    ("dead ch. L2", "dead_channels_2", "%"),
    ("grad → G", "gen_image_grad_norm", None),
    ("D(x)", "d_real", 2),
    ("D(G(z))", "d_fake", 2),
)


def run_labels(runs: Sequence[RunResult]) -> list[str]:
    """A short name per run: its variant, or its folder's name where variants repeat."""
    labels = [run.label for run in runs]
    if len(set(labels)) == len(labels):
        return labels
    names = [Path(run.run_dir).name for run in runs]
    if len(set(names)) == len(names):
        return names
    return [f"{i + 1}: {name}" for i, name in enumerate(names)]


def _cell(value: float, decimals) -> str:
    if decimals == "%":
        return fmt(value, 1, 100, "%")
    return fmt(value, decimals)


def table(runs: Sequence[RunResult], labels: Sequence[str], every: int) -> list[str]:
    """Markdown rows: every `every`-th epoch (and each run's last), one row per run."""
    last = {int(stats.epochs(run)[-1]) for run in runs if run.metrics}
    wanted = sorted({int(e) for run in runs for e in stats.epochs(run) if e % every == 0} | last)
    header = ["epoch", "run", "images", *(h for h, _, _ in TABLE_COLUMNS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for epoch in wanted:
        for run, label in zip(runs, labels, strict=True):
            rows = np.flatnonzero(stats.epochs(run) == epoch)
            if not rows.size:
                continue
            i = rows[0]
            images = stats.progress(run)[0][i]
            cells = [_cell(stats.column(run, key)[i], d) for _, key, d in TABLE_COLUMNS]
            lines.append("| " + " | ".join([str(epoch), label, f"{images:,.0f}", *cells]) + " |")
    return lines


def _time_to(run: RunResult, threshold: float) -> str:
    hit = stats.time_to_score(run, threshold)
    if hit is None:
        return f"score ≥ {threshold:g}: {NOT_REACHED}"
    images, seconds = hit
    return (
        f"score ≥ {threshold:g}: {images:,.0f} images ({images / run.batch_size:,.0f} steps, "
        f"{fmt(seconds, unit=' s')} of training)"
    )


def _final(run: RunResult) -> str:
    generator = run.final.get("generator") if run.final else None
    if not generator:
        return "no final evaluation"
    figures = ", ".join(
        f"{name} {fmt(stats.as_float(generator.get(key)), d)}"
        for name, key, d in (("FD", "fd", None), ("score", "score", 2), ("recall", "recall", 2))
    )
    return f"final evaluation on {run.final.get('n', '?')} samples: {figures}"


def _copy_run(run: RunResult, epoch: int, folder: Path) -> None:
    source = RunDir(run.run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for path in (source.metrics, source.config, source.frame(epoch)):
        if path.is_file():
            shutil.copyfile(path, folder / path.name)


def write_comparison(
    runs: Sequence[RunResult],
    out_dir: str | Path,
    every: int = 5,
    epoch: int | None = None,
    fps: float = 4,
    gif_scale: int = 2,
) -> Path:
    """Writes the side-by-side grids, GIF, table and per-run copies into `out_dir`.

    Args:
        runs: two or more runs (one works too).
        out_dir: created if absent.
        every: the table shows every `every`-th epoch and each run's last.
        epoch: the epoch of side_by_side.png (default: the last one every run has a grid of).
        fps: the GIF's frames per second.
        gif_scale: each grid pixel drawn gif_scale x gif_scale in the GIF (PNG: GRID_SCALE).

    Returns:
        The path of comparison.md.

    Raises:
        ValueError: no runs, or no epoch that every run has a readable grid of.
    """
    if not runs:
        raise ValueError("no runs to compare")
    labels = run_labels(runs)
    cells = {}
    for run, label in zip(runs, labels, strict=True):
        frames, bad = read_frames(run)
        if bad:
            names = ", ".join(p.name for p in bad)
            message = f"{run.run_dir}: unreadable progress images skipped: {names}"
            warnings.warn(message, stacklevel=2)
        cells["", label] = frames
    common = set.intersection(*(set(frames) for frames in cells.values()))
    if epoch is None:
        if not common:
            raise ValueError("the runs share no epoch with a readable progress image")
        epoch = max(common)
    elif epoch not in common:
        missing = [label for (_, label), frames in cells.items() if epoch not in frames]
        raise ValueError(f"no readable progress image of epoch {epoch} in: {', '.join(missing)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    at_epoch = {key: {epoch: frames[epoch]} for key, frames in cells.items()}
    write_png(frame_sheets([""], labels, at_epoch, GRID_SCALE)[epoch], out_dir / SHEET_NAME)
    save_gif(list(frame_sheets([""], labels, cells, gif_scale).values()), out_dir / GIF_NAME, fps)

    lines = ["# Runs side by side", ""]
    for run, label in zip(runs, labels, strict=True):
        folder = Path(run.run_dir).name
        _copy_run(run, epoch, out_dir / folder)
        reached = "; ".join(_time_to(run, t) for t in stats.SCORE_THRESHOLDS)
        lines += [f"## {label} ({folder})", ""]
        lines += [f"    {run.command}", ""] if run.command else []
        lines += [
            f"- {len(run.metrics)} epochs, {fmt(run.wall_time, unit=' s')} of training; "
            f"{_final(run)}.",
            f"- Time to quality (the first evaluated epoch that reaches it): {reached}.",
            f"- Files: [{folder}/]({folder}/) (metrics.csv, config.json, {frame_name(epoch)}).",
            "",
        ]
    lines += [
        f"## Every {every} epochs",
        "",
        "FD, score and recall: the evaluation during training (on each run's --eval-n "
        "samples; n/a where the epoch was not evaluated). Dead ch.: share of D's channels "
        "whose pre-activation is ≤ 0 on every probe image; grad → G: mean L2 norm of "
        "∂gen_loss/∂image; D(x), D(G(z)): D's mean probability of 'real' on probe images.",
        "",
        *table(runs, labels, every),
        "",
        f"![Epoch {epoch}, side by side]({SHEET_NAME})",
        "",
        f"![Every epoch, side by side]({GIF_NAME})",
        "",
    ]
    path = out_dir / COMPARISON_NAME
    write_text(path, "\n".join(lines))
    return path
