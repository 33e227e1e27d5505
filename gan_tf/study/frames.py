"""Progress grids side by side: reading a run's frames, labelled sheets of them (one per
epoch), and the study report's progress GIF (a row per setting, a column per variant).

`compare` builds its side-by-side picture and GIF from the same sheets. Frames are read
with `gan_tf.images.read_frames`; an unreadable one is skipped with a warning.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gan_tf.images import IMAGE_SIZE, grid_scale, read_frames, save_gif, upscale
from gan_tf.rundir import RunDir
from gan_tf.study.analysis import Analysis
from gan_tf.study.records import RunResult

DPI = 100
PROGRESS_GIF_NAME = "progress.gif"
# progress.gif draws each pixel of 28-pixel images GIF_SCALE x GIF_SCALE (larger images
# fewer times: `cell_scale`), in GIF_LEVELS levels a channel: twice the size of the digits
# costs four times the pixels, and 64 levels (a step of about 4 in 255, hard to see) keep the
# file within what the repository commits (tests/test_docs.py).
GIF_SCALE = 2
GIF_LEVELS = 64


def _gray(image: np.ndarray) -> np.ndarray:
    """An image as uint8 greys (the mean of its colour channels)."""
    image = np.asarray(image)
    if image.ndim == 3:
        image = image[..., :3].mean(axis=-1)
    return np.clip(image, 0, 255).astype(np.uint8)


def _grey_or_colour(image: np.ndarray) -> np.ndarray:
    """A frame as (H, W) uint8 greys, or (H, W, 3) uint8 colour where its channels differ."""
    image = np.asarray(image)
    if image.ndim == 3 and not (image[..., :1] == image[..., :3]).all():
        return np.clip(image[..., :3], 0, 255).astype(np.uint8)
    return _gray(image)


def image_side(run: RunResult) -> int:
    """The side in pixels of the images a run draws (its config.json; 28 without one)."""
    config = RunDir(run.run_dir).read_config()
    return config.image_size if config is not None else IMAGE_SIZE[0]


def readable_frames(run: RunResult) -> tuple[dict[int, np.ndarray], str]:
    """The run's progress grids at their native size, and a note on the unreadable ones.

    Frames are written by `gan_tf.images.save_image_grid` with every pixel repeated
    `grid_scale(side)` times each way; slicing undoes that. Colour grids stay in colour. A
    frame that does not read (or differs in size from the run's last) is left out and
    warned about.

    Args:
        run: the run, whose folder holds its image_at_epoch_NNNN.png.

    Returns:
        ({epoch: uint8 image}, "unreadable NAMES" or "" for a report's notes).
    """
    paths = RunDir(run.run_dir).frames()
    arrays, bad = read_frames(list(paths.values()))
    readable = [epoch for epoch, path in paths.items() if path not in bad]
    step = grid_scale(image_side(run))
    frames = {
        epoch: _grey_or_colour(array)[::step, ::step]
        for epoch, array in zip(readable, arrays, strict=True)
    }
    if not bad:
        return frames, ""
    names = ", ".join(p.name for p in bad)
    warnings.warn(f"{run.run_dir}: unreadable progress images skipped: {names}", stacklevel=3)
    return frames, f"unreadable {names}"


def choose_frames(analysis: Analysis) -> tuple[dict, list[str]]:
    """(setting, label) -> (run, {epoch: image}) for the first seed with a readable frame,
    and notes on unreadable frames (each also warned about)."""
    chosen, notes = {}, []
    for group in analysis.groups:
        for run in group.runs:
            frames, unreadable = readable_frames(run)
            if unreadable:
                notes.append(f"{run.label}, {run.setting}, seed {run.seed}: {unreadable}.")
            if frames:
                chosen[group.setting, group.label] = (run, frames)
                break
    return chosen, notes


def _text_image(text: str, width: int, height: int, size: float = 8, rotation=0) -> np.ndarray:
    """`text` centred on white, as a (height, width) uint8 array."""
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=size, rotation=rotation)
    canvas.draw()
    image = _gray(np.asarray(canvas.buffer_rgba()))[:height, :width]  # may round a pixel up
    return _pad_to(image, height, width)


def _pad_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    out = np.full((height, width, *image.shape[2:]), 255, np.uint8)
    out[: image.shape[0], : image.shape[1]] = image[:height, :width]
    return out


def cell_scale(scale: int, side: int) -> int:
    """How many times a cell draws each pixel of `side`-pixel images, for a sheet that draws
    the tutorial's 28-pixel ones `scale` times: about the same size on screen."""
    return max(1, round(scale * IMAGE_SIZE[0] / side))


def frame_sheets(
    rows: Sequence[str],
    cols: Sequence[str],
    cells: dict[tuple[str, str], dict[int, np.ndarray]],
    scale: int = 1,
    sides: dict[tuple[str, str], int] | None = None,
) -> dict[int, np.ndarray]:
    """Labelled sheets of progress grids, one per epoch that any cell has.

    Args:
        rows: row labels, written sideways at the left ("" for no label column).
        cols: column labels, written above each column.
        cells: (row, col) -> {epoch: grid at native size, grey or colour}; a cell without
            an image for an epoch repeats its last earlier one, or reads "no frame".
        scale: each pixel of 28-pixel images drawn scale x scale.
        sides: (row, col) -> the side of the cell's images (default: 28 for every cell);
            larger images are drawn fewer times (`cell_scale`), so cells look alike.

    Returns:
        {epoch: uint8 sheet}, grey, or colour if any grid is; the epoch written on top
        (which also keeps GIF frames distinct: Pillow merges identical ones).
    """
    epochs_ = sorted({e for frames in cells.values() for e in frames})
    scales = {key: cell_scale(scale, (sides or {}).get(key, IMAGE_SIZE[0])) for key in cells}
    shapes = [
        (frame.shape[0] * scales[key], frame.shape[1] * scales[key])
        for key, frames in cells.items()
        for frame in frames.values()
    ]
    if not shapes:
        return {}
    colour = any(frame.ndim == 3 for frames in cells.values() for frame in frames.values())
    depth = (3,) if colour else ()

    def paint(image: np.ndarray) -> np.ndarray:  # a grey image in the sheet's depth
        return np.repeat(image[..., None], 3, axis=-1) if colour and image.ndim == 2 else image

    cell_h, cell_w = max(s[0] for s in shapes), max(s[1] for s in shapes)
    gap, head, title = 4, 18, 24
    side = 18 if any(rows) else 0
    height, width = title + head + len(rows) * (cell_h + gap), side + len(cols) * (cell_w + gap)
    template = np.full((height, width, *depth), 255, np.uint8)
    for c, label in enumerate(cols):
        left = side + c * (cell_w + gap)
        size = min(8, 1.3 * cell_w / max(len(label), 1))  # shrunk to fit a narrow cell
        template[title : title + head, left : left + cell_w] = paint(
            _text_image(label, cell_w, head, size)
        )
    for r, label in enumerate(rows if side else ()):
        top = title + head + r * (cell_h + gap)
        template[top : top + cell_h, :side] = paint(_text_image(label, side, cell_h, rotation=90))
    blank = paint(_text_image("no frame", cell_w, cell_h))
    sheets = {}
    for epoch in epochs_:
        sheet = template.copy()
        sheet[:title] = paint(_text_image(f"epoch {epoch}", width, title, 10))
        for (r, row), (c, col) in itertools.product(enumerate(rows), enumerate(cols)):
            frames = cells.get((row, col), {})
            earlier = [e for e in frames if e <= epoch]
            cell = blank
            if earlier:
                grid = upscale(frames[earlier[-1]], scales[row, col])
                cell = _pad_to(paint(grid), cell_h, cell_w)
            top, left = title + head + r * (cell_h + gap), side + c * (cell_w + gap)
            sheet[top : top + cell_h, left : left + cell_w] = cell
        sheets[epoch] = sheet
    return sheets


def _posterise(image: np.ndarray, levels: int = GIF_LEVELS) -> np.ndarray:
    """`image` in `levels` evenly spaced levels a channel, black and white kept."""
    steps = np.rint(np.asarray(image, dtype=float) * (levels - 1) / 255)
    return np.rint(steps * 255 / (levels - 1)).astype(np.uint8)


def progress_gif(analysis: Analysis, chosen: dict, path: Path, fps: float = 4) -> list[str]:
    """Writes the GIF: a row per setting, a column per variant, a frame per epoch.

    Args:
        analysis: the study's analysis (its settings and variants).
        chosen: `choose_frames`' frames.
        path: the GIF to write.
        fps: frames per second.

    Returns:
        Notes on what was missing; [] and no file where no run has a readable frame.
    """
    cells = {key: frames for key, (_, frames) in chosen.items()}
    sides = {key: image_side(run) for key, (run, _) in chosen.items()}
    labels = [variant.label for variant in analysis.variants]
    sheets = frame_sheets(analysis.settings, labels, cells, GIF_SCALE, sides)
    if not sheets:
        return []
    save_gif([_posterise(sheet) for sheet in sheets.values()], path, fps=fps)
    notes = []
    for group in analysis.groups:
        if not group.runs:
            continue
        if (group.setting, group.label) not in chosen:
            notes.append(f"{group.label}, {group.setting}: no progress images; shown blank.")
            continue
        run, frames = chosen[group.setting, group.label]
        absent = [e for e in sheets if e not in frames]
        if absent:
            notes.append(
                f"{group.label}, {group.setting} (seed {run.seed}): no progress image for "
                f"epoch(s) {', '.join(map(str, absent))}; the GIF repeats the last earlier one "
                "or shows a blank."
            )
    return notes
