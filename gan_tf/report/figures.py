"""The pictures of the study report: per-epoch curves, the mechanism scatter, the final
samples and the side-by-side progress GIF.

Figures are `matplotlib.figure.Figure`s drawn by the Agg canvas, not pyplot: they never
enter pyplot's list of open figures and leave the caller's backend (a notebook's, say)
alone. Progress frames are read with imageio; an unreadable one is skipped with a warning.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from gan_tf.files import atomic_path
from gan_tf.images import GRID_SCALE, save_gif, upscale
from gan_tf.report.stats import (
    Analysis,
    RunResult,
    course,
    is_collapsed,
    mean_sd,
    relapses,
    variant_label,
    variant_order,
)
from gan_tf.report.text import fmt, sample_size
from gan_tf.rundir import RunDir

DPI = 100
GIF_NAME = "progress.gif"
MECHANISM_NAME = "mechanism.png"
SAMPLES_NAME = "samples.png"
MARKERS = "osD^vP*X"
# progress.gif draws each grid pixel GIF_SCALE x GIF_SCALE, in GIF_LEVELS grey levels: twice
# the size of the digits costs four times the pixels, and 64 greys (a step of about 4 in
# 255, hard to see) keep the file within what the repository commits (tests/test_docs.py).
GIF_SCALE = 2
GIF_LEVELS = 64
BAND = "line: mean over seeds; band: ± 1 sd over seeds (ddof=1)"


@dataclasses.dataclass(frozen=True)
class Column:
    """A per-epoch metrics column drawn as curves: one subplot row in figure `plot`."""

    key: str
    title: str
    plot: str
    scale: float = 1.0
    unit: str = ""
    log: bool = False  # log y axis where every plotted mean is positive
    fd: bool = False  # an FD column: collapsed runs are left out


COLUMNS = (
    Column("fd", "FD", "fd.png", fd=True),
    Column("dead_channels_1", "dead channels, layer 1", "dead.png", 100, " (%)"),
    Column("dead_channels_2", "dead channels, layer 2", "dead.png", 100, " (%)"),
    Column("gen_image_grad_norm", "‖∂gen_loss/∂image‖", "grad.png", log=True),
    Column("gen_loss", "gen_loss", "losses.png"),
    Column("disc_loss", "disc_loss", "losses.png"),
)
CURVE_TITLES = {
    "fd.png": "Fréchet distance during training{n} (lower is better; collapsed runs left out)",
    "dead.png": "Discriminator channels with pre-activation ≤ 0 on every probe image",
    "grad.png": "Gradient reaching the generator",
    "losses.png": "Losses",
}
PLOT_NAMES = (*CURVE_TITLES, MECHANISM_NAME, SAMPLES_NAME)


def _color(index: int):
    return colormaps["tab10"](index % 10)


def _save(fig: Figure, path: Path, gray: bool = False) -> None:
    """Write `fig` as a PNG; `gray` (a figure drawn in greys only) keeps one channel of four."""
    with atomic_path(path) as tmp:
        if not gray:
            fig.savefig(tmp, dpi=DPI)
            return
        fig.set_dpi(DPI)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        iio.imwrite(tmp, np.asarray(canvas.buffer_rgba())[..., 0], extension=".png")


def _curve(runs: Sequence[RunResult], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epochs where any run measured `key`, with the mean and the sd (ddof=1, NaN where
    only one run has the epoch) over those runs."""
    x, values = course(runs, key)
    return (x, *mean_sd(values))


def _panels(analysis: Analysis, columns: Sequence[Column]) -> dict:
    """(column key, setting) -> [(group, epochs, mean, sd)] of every line to draw."""
    panels = {}
    for spec in columns:
        for setting in analysis.settings:
            lines = []
            for group in (g for g in analysis.groups if g.setting == setting):
                runs = [run for run in group.runs if not (spec.fd and is_collapsed(run))]
                x, mean, sd = _curve(runs, spec.key)
                if len(x):
                    lines.append((group, x, mean * spec.scale, sd * spec.scale))
            panels[spec.key, setting] = lines
    return panels


def _zero(lines: list) -> bool:
    """A panel with data, all of it 0: nothing to see but a flat line."""
    values = [v for _, _, mean, _ in lines for v in mean if math.isfinite(v)]
    return bool(values) and not any(values)


def kept_panels(
    analysis: Analysis, columns: Sequence[Column], panels: dict
) -> tuple[list[Column], list[str], list[str]]:
    """The rows (columns of metrics) and settings worth a panel, and notes on the panels
    left out: those whose data are all 0. Where every panel with data is all 0, all stay."""
    zero = {key for key, lines in panels.items() if _zero(lines)}
    if len(zero) == sum(bool(lines) for lines in panels.values()):
        return list(columns), list(analysis.settings), []
    rows = [c for c in columns if any((c.key, s) not in zero for s in analysis.settings)]
    settings = [s for s in analysis.settings if any((c.key, s) not in zero for c in rows)]
    notes = []
    for spec in columns:
        left = [s for s in analysis.settings if (spec.key, s) in zero]
        left = [s for s in left if spec not in rows or s not in settings]
        if left:
            notes.append(f"{spec.title} ({', '.join(left)})")
    return rows, settings, notes


def _relapse_marks(ax, group, color) -> bool:
    """Crosses at the epochs where a run of `group` met the collapse rule again."""
    marked = False
    for run in group.runs:
        if is_collapsed(run):
            continue
        for x in relapses(run):
            if math.isfinite(x.fd):
                ax.scatter([x.epoch], [x.fd], marker="x", s=45, color=color, zorder=3)
                marked = True
    return marked


def plot_curves(analysis: Analysis, name: str, path: Path) -> None:
    """One row per Column of figure `name`, one column per setting, a line per variant
    (mean over seeds, shaded ± 1 sd with ddof=1). Panels whose data are all 0 are left
    out and named in the figure; FD panels mark relapses into collapse with crosses."""
    columns = [c for c in COLUMNS if c.plot == name]
    variants = _variants(analysis)
    panels = _panels(analysis, columns)
    columns, settings, dropped = kept_panels(analysis, columns, panels)
    fig = Figure(figsize=(0.6 + 4.4 * max(len(settings), 1.5), 1.0 + 3.0 * len(columns)))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(len(columns), len(settings), squeeze=False, sharex=True, sharey="row")
    handles, marked = {}, False
    for r, spec in enumerate(columns):
        plotted = []
        for c, setting in enumerate(settings):
            ax, lines = axes[r][c], panels[spec.key, setting]
            for group, x, mean, sd in lines:
                color = variants[group.label]
                marker = "o" if len(x) <= 12 else None  # markers only where they stay apart
                (line,) = ax.plot(x, mean, color=color, label=group.label, marker=marker, ms=3)
                ax.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.2, lw=0)
                handles.setdefault(group.label, line)
                plotted.extend(mean)
                if spec.fd:
                    marked |= _relapse_marks(ax, group, color)
            if not lines:
                ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
            elif _zero(lines):
                ax.text(0.5, 0.5, "0 at every epoch", ha="center", va="center",
                        transform=ax.transAxes)  # fmt: skip
            ax.set_title(setting if len(columns) == 1 else f"{spec.title}, {setting}", fontsize=10)
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if c == 0:
                ax.set_ylabel(spec.title + spec.unit)
        if spec.log and plotted and min(plotted) > 0:  # the row shares its y axis
            axes[r][0].set_yscale("log")
    if marked:
        cross = axes[0][0].scatter([], [], marker="x", color="gray")
        handles["a run meeting the collapse rule again"] = cross
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="outside right center", fontsize=8)
    n = sample_size([run for g in analysis.groups for run in g.runs])
    fig.suptitle(CURVE_TITLES[name].format(n=f", N = {n:,.0f} samples" if math.isfinite(n) else ""))
    note = BAND + (f"\n0 at every epoch, not drawn: {'; '.join(dropped)}" if dropped else "")
    fig.supxlabel(f"epoch\n{note}", fontsize=9)
    _save(fig, path)


def _variants(analysis: Analysis) -> dict[str, tuple]:
    """A colour per variant label, in report order."""
    variants = sorted({g.variant for g in analysis.groups}, key=variant_order)
    labels = [variant_label(v) for v in variants]
    return {label: _color(i) for i, label in enumerate(labels)}


def _plain_tick(value: float, _) -> str:
    """A log axis's tick as 0.3 rather than a power of ten; only 1, 2, 3 and 5 times one."""
    if value <= 0:
        return ""
    leading = round(value / 10 ** math.floor(math.log10(value)))
    return f"{value:g}" if leading in (1, 2, 3, 5) else ""


def plot_mechanism(analysis: Analysis, path: Path) -> None:
    """Per run: mean dead layer-2 fraction against mean gradient reaching G; colour by
    variant, marker by setting."""
    fig = Figure(figsize=(7.5, 5), layout="constrained")
    ax = fig.subplots()
    colors, markers = _variants(analysis), dict(zip(analysis.settings, MARKERS * 4, strict=False))
    for group, _, x, y in analysis.points:
        style = {"color": colors[group.label], "marker": markers[group.setting], "alpha": 0.8}
        ax.scatter(100 * x, y, s=30, **style)
    for label, color in colors.items():
        ax.scatter([], [], color=color, label=label)
    for setting, marker in markers.items():
        ax.scatter([], [], color="gray", marker=marker, label=setting)
    if not analysis.points:
        ax.text(0.5, 0.5, "no run measured both", ha="center", va="center", transform=ax.transAxes)
    elif min(p[3] for p in analysis.points) > 0:
        grads = [p[3] for p in analysis.points]
        if max(grads) > 10 * min(grads):  # a log axis only where it spans a decade
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(_plain_tick))
            ax.yaxis.set_minor_formatter(FuncFormatter(_plain_tick))
    pearson, spearman = analysis.correlations
    title = f"{pearson.n} runs: Pearson r {fmt(pearson.r, 2)}, Spearman \u03c1 {fmt(spearman.r, 2)}"
    for setting, (p, s) in analysis.within.items():
        title += f"\nwithin {setting}: r {fmt(p.r, 2)}, \u03c1 {fmt(s.r, 2)}"
        if setting in analysis.centred:
            title += f"; centred within each variant: r {fmt(analysis.centred[setting][0].r, 2)}"
    if not analysis.within and analysis.centred:
        ((p, _),) = analysis.centred.values()
        title += f"\ncentred within each variant: r {fmt(p.r, 2)}"
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("dead channels of D's layer 2, mean over epochs (%)")
    ax.set_ylabel("‖∂gen_loss/∂image‖, mean over epochs")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle("Dead D channels against the gradient reaching G, per run")
    _save(fig, path)


# --- Frames -----------------------------------------------------------------------------


def _gray(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3:
        image = image[..., :3].mean(axis=-1)
    return np.clip(image, 0, 255).astype(np.uint8)


def read_frames(run: RunResult) -> tuple[dict[int, np.ndarray], list[Path]]:
    """The run's progress grids at their native size ({epoch: image}), and the unreadable.

    Frames are written by `gan_tf.images.save_image_grid` with every pixel repeated
    GRID_SCALE x GRID_SCALE times; slicing undoes that.
    """
    frames, bad = {}, []
    for epoch, path in RunDir(run.run_dir).frames().items():
        try:
            frames[epoch] = _gray(iio.imread(path, plugin="pillow"))[::GRID_SCALE, ::GRID_SCALE]
        except Exception:  # imageio raises many types on a damaged file
            bad.append(path)
    return frames, bad


def readable_frames(run: RunResult) -> tuple[dict[int, np.ndarray], str]:
    """`read_frames`, warning about the unreadable ones; also returns "unreadable NAMES"
    (or "") for a report's notes."""
    frames, bad = read_frames(run)
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
    gray = _gray(np.asarray(canvas.buffer_rgba()))[:height, :width]  # may round a pixel up
    return _pad_to(gray, height, width)


def _pad_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    out = np.full((height, width), 255, np.uint8)
    out[: image.shape[0], : image.shape[1]] = image[:height, :width]
    return out


def plot_samples(analysis: Analysis, chosen: dict, path: Path) -> None:
    """The last readable progress grid of each (setting, variant)."""
    labels = list(_variants(analysis))
    fig = Figure(figsize=(0.4 + 2.2 * len(labels), 0.6 + 2.5 * len(analysis.settings)))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(len(analysis.settings), len(labels), squeeze=False)
    for r, setting in enumerate(analysis.settings):
        for c, label in enumerate(labels):
            ax, caption = axes[r][c], f"{label}\n{setting}"
            ax.set_axis_off()
            if (setting, label) in chosen:
                run, frames = chosen[setting, label]
                ax.imshow(frames[max(frames)], cmap="gray", vmin=0, vmax=255)
                caption += f", epoch {max(frames)}, seed {run.seed}"
            else:
                ax.text(0.5, 0.5, "no frame", ha="center", va="center", transform=ax.transAxes)
            ax.set_title(caption, fontsize=8)
    fig.suptitle("Final samples (fixed noise), first seed with images")
    _save(fig, path, gray=True)  # black text and grey images: half the bytes


def frame_sheets(
    rows: Sequence[str],
    cols: Sequence[str],
    cells: dict[tuple[str, str], dict[int, np.ndarray]],
    scale: int = 1,
) -> dict[int, np.ndarray]:
    """Labelled sheets of progress grids, one per epoch that any cell has.

    Args:
        rows: row labels, written sideways at the left ("" for no label column).
        cols: column labels, written above each column.
        cells: (row, col) -> {epoch: grid at native size}; a cell without an image for
            an epoch repeats its last earlier one, or reads "no frame".
        scale: each grid pixel drawn scale x scale.

    Returns:
        {epoch: uint8 sheet}, the epoch written on top (which also keeps GIF frames
        distinct: Pillow merges identical ones).
    """
    epochs_ = sorted({e for frames in cells.values() for e in frames})
    shapes = [frame.shape for frames in cells.values() for frame in frames.values()]
    if not shapes:
        return {}
    cell_h, cell_w = max(s[0] for s in shapes) * scale, max(s[1] for s in shapes) * scale
    gap, head, title = 4, 18, 24
    side = 18 if any(rows) else 0
    height, width = title + head + len(rows) * (cell_h + gap), side + len(cols) * (cell_w + gap)
    template = np.full((height, width), 255, np.uint8)
    for c, label in enumerate(cols):
        left = side + c * (cell_w + gap)
        size = min(8, 1.3 * cell_w / max(len(label), 1))  # shrunk to fit a narrow cell
        template[title : title + head, left : left + cell_w] = _text_image(
            label, cell_w, head, size
        )
    for r, label in enumerate(rows if side else ()):
        top = title + head + r * (cell_h + gap)
        template[top : top + cell_h, :side] = _text_image(label, side, cell_h, rotation=90)
    blank = _text_image("no frame", cell_w, cell_h)
    sheets = {}
    for epoch in epochs_:
        sheet = template.copy()
        sheet[:title] = _text_image(f"epoch {epoch}", width, title, 10)
        for (r, row), (c, col) in itertools.product(enumerate(rows), enumerate(cols)):
            frames = cells.get((row, col), {})
            earlier = [e for e in frames if e <= epoch]
            cell = (
                _pad_to(upscale(frames[earlier[-1]], scale), cell_h, cell_w) if earlier else blank
            )
            top, left = title + head + r * (cell_h + gap), side + c * (cell_w + gap)
            sheet[top : top + cell_h, left : left + cell_w] = cell
        sheets[epoch] = sheet
    return sheets


def _posterise(image: np.ndarray, levels: int = GIF_LEVELS) -> np.ndarray:
    """`image` in `levels` evenly spaced greys, black and white kept."""
    steps = np.rint(np.asarray(image, dtype=float) * (levels - 1) / 255)
    return np.rint(steps * 255 / (levels - 1)).astype(np.uint8)


def progress_gif(analysis: Analysis, chosen: dict, path: Path, fps: float = 4) -> list[str]:
    """Writes the GIF: a row per setting, a column per variant, a frame per epoch.

    Returns:
        Notes on what was missing; [] and no file where no run has a readable frame.
    """
    cells = {key: frames for key, (_, frames) in chosen.items()}
    sheets = frame_sheets(analysis.settings, list(_variants(analysis)), cells, GIF_SCALE)
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


def write_figures(analysis: Analysis, report_dir: Path) -> tuple[list[str], bool]:
    """Writes every plot and progress.gif into `report_dir`.

    Returns:
        (notes on missing or unreadable data, whether progress.gif was written).
    """
    for name in CURVE_TITLES:
        plot_curves(analysis, name, report_dir / name)
    plot_mechanism(analysis, report_dir / MECHANISM_NAME)
    chosen, notes = choose_frames(analysis)
    plot_samples(analysis, chosen, report_dir / SAMPLES_NAME)
    notes += progress_gif(analysis, chosen, report_dir / GIF_NAME)
    if not chosen:
        notes.append("No run has progress images, so there is no progress.gif.")
    return notes, bool(chosen)
