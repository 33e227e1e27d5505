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
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from gan_tf.errors import Remedy, UserError, keyword
from gan_tf.files import write_text
from gan_tf.images import GRID_SCALE, save_gif, write_png
from gan_tf.rundir import RunDir, frame_name
from gan_tf.study.formatting import fmt, table
from gan_tf.study.frames import frame_sheets, image_side, readable_frames
from gan_tf.study.measures import SCORE_THRESHOLDS, quality_at_end
from gan_tf.study.records import RunResult, epochs
from gan_tf.study.tables import EPOCH_HEADER, epoch_cells, epoch_columns_note, time_to_text

SIDE_BY_SIDE_NAME = "side_by_side.png"
SIDE_BY_SIDE_GIF_NAME = "side_by_side.gif"
COMPARISON_NAME = "comparison.md"


def _unique(names: Sequence[str]) -> list[str]:
    if len(set(names)) == len(names):
        return list(names)
    return [f"{i + 1}_{name}" for i, name in enumerate(names)]


def run_labels(runs: Sequence[RunResult]) -> list[str]:
    """A short name per run: its variant, or its folder's name where variants repeat."""
    labels = [run.label for run in runs]
    if len(set(labels)) == len(labels):
        return labels
    return _unique([Path(run.run_dir).resolve().name for run in runs])


def epoch_table(runs: Sequence[RunResult], labels: Sequence[str], every: int) -> list[str]:
    """Markdown rows: every `every`-th epoch (and each run's last), one row per run."""
    last = {int(epochs(run)[-1]) for run in runs if run.metrics}
    wanted = sorted({int(e) for run in runs for e in epochs(run) if e % every == 0} | last)
    rows = []
    for epoch in wanted:
        for run, label in zip(runs, labels, strict=True):
            index = np.flatnonzero(epochs(run) == epoch)
            if index.size:
                rows.append([str(epoch), label, *epoch_cells(run, index[0])])
    return table(["epoch", "run", *EPOCH_HEADER], rows)


def _final(run: RunResult) -> str:
    if not (run.final and run.final.get("generator")):
        return "no final evaluation"
    quality = quality_at_end(run)  # the final evaluation's figures
    figures = f"FD {fmt(quality['fd'])}, score {fmt(quality['score'], 2)}, "
    figures += f"recall {fmt(quality['recall'], 2)}"
    return f"final evaluation on {run.final.get('n', '?')} samples: {figures}"


def _own_files(folder: Path) -> list[str]:
    """What compare writes into a run's copy folder."""
    run = RunDir(folder)
    return [run.metrics.name, run.config.name, *(p.name for p in run.frames().values())]


def check_target(out_dir: Path) -> None:
    """Refuses a target folder that holds anything compare did not write: compare copies
    files into it, and must never replace a run's own (comparing two runs into `runs/`
    would overwrite `runs/<name>/metrics.csv`). An empty or new folder, or compare's own
    earlier output, is fine.

    Raises:
        UserError: naming the folder and what in it is not compare's.
    """
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise UserError(f"{out_dir} is a file, not a folder", setting="out_dir")
    entries = sorted(out_dir.iterdir())
    ours = {COMPARISON_NAME, SIDE_BY_SIDE_NAME, SIDE_BY_SIDE_GIF_NAME}
    foreign = []
    for entry in entries:
        if entry.is_dir():
            foreign += [
                f"{entry.name}/{p.name}"
                for p in sorted(entry.iterdir())
                if p.name not in _own_files(entry)
            ]
        elif entry.name not in ours:
            foreign.append(entry.name)
    if entries and not (out_dir / COMPARISON_NAME).is_file():
        foreign = foreign or [p.name for p in entries]
    if foreign:
        shown = ", ".join(foreign[:4]) + (
            f" and {len(foreign) - 4} more" if len(foreign) > 4 else ""
        )
        raise UserError(
            f"{out_dir} holds files that compare did not write ({shown})",
            setting="out_dir",
            remedies=[Remedy("choose an empty or new {}", ("out_dir",))],
        )


def write_comparison(
    runs: Sequence[RunResult],
    out_dir: str | Path,
    every: int = 5,
    epoch: int | None = None,
    fps: float = 4,
    gif_scale: int = 2,
    spell: Callable[[str], str] = keyword,
) -> Path:
    """Writes the side-by-side grids, GIF, table and per-run copies into `out_dir`.

    Args:
        runs: the runs, in the order to show them.
        out_dir: created if absent; each run's copies go to OUT_DIR/FOLDER_NAME/.
        every: the table shows every `every`-th epoch and each run's last.
        epoch: the epoch of side_by_side.png (default: the last one every run has a grid of).
        fps: the GIF's frames per second.
        gif_scale: each pixel of 28-pixel images drawn gif_scale x gif_scale in the GIF
            (PNG: GRID_SCALE); larger images fewer times (`gan_tf.study.frames.cell_scale`).
        spell: how the text names a setting (default: its `Config` field; the command layer
            passes its flag spelling).

    Returns:
        The path of comparison.md.

    Raises:
        UserError: no runs, no epoch that every run has a readable grid of, or a copy
            folder that would be a run folder itself. Nothing is written then.
    """
    if not runs:
        raise UserError("no runs to compare")
    out_dir = Path(out_dir)
    labels = run_labels(runs)
    folders = _unique([Path(run.run_dir).resolve().name or "run" for run in runs])
    for run, folder in zip(runs, folders, strict=True):
        if (out_dir / folder).resolve() == Path(run.run_dir).resolve():
            raise UserError(f"{out_dir} would copy {run.run_dir} onto itself", setting="out_dir")
    check_target(out_dir)
    cells, sides, notes = {}, {}, []
    for run, label in zip(runs, labels, strict=True):
        cells["", label], unreadable = readable_frames(run)
        sides["", label] = image_side(run)
        notes += [f"- {label}: {unreadable}; left out of the pictures."] if unreadable else []
    common = set.intersection(*(set(frames) for frames in cells.values()))
    if epoch is None:
        if not common:
            raise UserError("the runs share no epoch with a readable progress image")
        epoch = max(common)
    elif epoch not in common:
        missing = [label for (_, label), frames in cells.items() if epoch not in frames]
        raise UserError(f"no readable progress image of epoch {epoch} in: {', '.join(missing)}")

    out_dir.mkdir(parents=True, exist_ok=True)
    at_epoch = {key: {epoch: frames[epoch]} for key, frames in cells.items()}
    sheet = frame_sheets([""], labels, at_epoch, GRID_SCALE, sides)[epoch]
    write_png(sheet, out_dir / SIDE_BY_SIDE_NAME)
    sheets = frame_sheets([""], labels, cells, gif_scale, sides)
    save_gif(list(sheets.values()), out_dir / SIDE_BY_SIDE_GIF_NAME, fps)
    lines = ["# Runs side by side", ""]
    for run, label, folder in zip(runs, labels, folders, strict=True):
        source = RunDir(run.run_dir)
        (out_dir / folder).mkdir(exist_ok=True)
        for path in (source.metrics, source.config, source.frame(epoch)):
            if path.is_file():
                shutil.copyfile(path, out_dir / folder / path.name)
        lines += [f"## {label} ({source.path.resolve().name})", ""]
        lines += [f"    {run.command}", ""] if run.command else []
        reached = "; ".join(time_to_text(run, t) for t in SCORE_THRESHOLDS)
        lines += [
            f"- {len(run.metrics)} epochs, {fmt(run.wall_time, unit=' s')} of training; "
            f"{_final(run)}.",
            f"- Time to quality (the first evaluated epoch that reaches it): {reached}.",
            f"- Files: [{folder}/]({folder}/) (metrics.csv, config.json, {frame_name(epoch)}).",
            "",
        ]
    lines += [f"## Every {every} epochs", "", epoch_columns_note(spell), ""]
    lines += [*epoch_table(runs, labels, every), ""]
    lines += [f"![Epoch {epoch}, side by side]({SIDE_BY_SIDE_NAME})", ""]
    lines += [f"![Every epoch, side by side]({SIDE_BY_SIDE_GIF_NAME})", ""]
    if notes:
        lines += ["## Missing pictures", "", *notes, ""]
    path = out_dir / COMPARISON_NAME
    write_text(path, "\n".join(lines))
    return path
