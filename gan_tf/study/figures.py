"""The pictures of the study report: per-epoch curves, the mechanism scatter and the final
samples; `write_figures` also writes the progress GIF (`frames`).

Figures are `matplotlib.figure.Figure`s drawn by the Agg canvas, not pyplot: they never
enter pyplot's list of open figures and leave the caller's backend (a notebook's, say)
alone.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from gan_tf.files import atomic_path
from gan_tf.rundir import DEAD_CHANNELS_1, DEAD_CHANNELS_2, GRAD_TO_G, LOSS_COLUMNS
from gan_tf.study.analysis import Analysis
from gan_tf.study.formatting import RHO, fmt
from gan_tf.study.frames import DPI, PROGRESS_GIF_NAME, choose_frames, progress_gif
from gan_tf.study.measures import course, is_collapsed, relapses, sample_size
from gan_tf.study.stats import mean_sd

MECHANISM_NAME = "mechanism.png"
SAMPLES_NAME = "samples.png"
MARKERS = "osD^vP*X"
BAND = "line: mean over seeds; band: ± 1 sd over seeds (ddof=1)"


@dataclasses.dataclass(frozen=True)
class CurveColumn:
    """A per-epoch metrics column drawn as curves: one subplot row in figure `plot`."""

    key: str
    title: str
    plot: str
    scale: float = 1.0
    unit: str = ""
    log: bool = False  # log y axis where every plotted mean is positive
    fd: bool = False  # an FD column: collapsed runs are left out


GEN_LOSS, DISC_LOSS = LOSS_COLUMNS
CURVE_COLUMNS = (
    CurveColumn("fd", "FD", "fd.png", fd=True),
    CurveColumn(DEAD_CHANNELS_1, "dead channels, layer 1", "dead.png", 100, " (%)"),
    CurveColumn(DEAD_CHANNELS_2, "dead channels, layer 2", "dead.png", 100, " (%)"),
    CurveColumn(GRAD_TO_G, "‖∂gen_loss/∂image‖", "grad.png", log=True),
    CurveColumn(GEN_LOSS, GEN_LOSS, "losses.png"),
    CurveColumn(DISC_LOSS, DISC_LOSS, "losses.png"),
)
CURVE_TITLES = {
    "fd.png": "Fréchet distance during training{n} (lower is better; collapsed runs left out)",
    "dead.png": "Discriminator channels with pre-activation ≤ 0 on every probe image",
    "grad.png": "Gradient reaching the generator",
    "losses.png": "Losses",
}
PLOT_NAMES = (*CURVE_TITLES, MECHANISM_NAME, SAMPLES_NAME)


def tab10(index: int):
    """The `index`th colour of matplotlib's tab10 cycle (cycling past 10)."""
    return colormaps["tab10"](index % 10)


def save_png(fig: Figure, path: Path, gray: bool = False) -> None:
    """Write `fig` as a PNG; `gray` (a figure drawn in greys only) keeps one channel of four."""
    with atomic_path(path) as tmp:
        if not gray:
            fig.savefig(tmp, dpi=DPI)
            return
        fig.set_dpi(DPI)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        iio.imwrite(tmp, np.asarray(canvas.buffer_rgba())[..., 0], extension=".png")


def panels(analysis: Analysis, columns: Sequence[CurveColumn]) -> dict:
    """The lines to draw, per panel.

    Args:
        analysis: the study's analysis.
        columns: the metrics columns of one figure.

    Returns:
        (column key, setting) -> [(group, epochs, mean, sd)]: per variant, the epochs where
        any of its runs measured the column, the mean over those runs and the sd (ddof=1,
        NaN where one run has the epoch), times the column's scale. FD columns leave
        collapsed runs out.
    """
    found = {}
    for spec in columns:
        for setting in analysis.settings:
            lines = []
            for group in (g for g in analysis.groups if g.setting == setting):
                runs = [run for run in group.runs if not (spec.fd and is_collapsed(run))]
                x, values = course(runs, spec.key)
                mean, sd = mean_sd(values)
                if len(x):
                    lines.append((group, x, mean * spec.scale, sd * spec.scale))
            found[spec.key, setting] = lines
    return found


def _zero(lines: list) -> bool:
    """A panel with data, all of it 0: nothing to see but a flat line."""
    values = [v for _, _, mean, _ in lines for v in mean if math.isfinite(v)]
    return bool(values) and not any(values)


def kept_panels(
    analysis: Analysis, columns: Sequence[CurveColumn], drawn: dict
) -> tuple[list[CurveColumn], list[str], list[str]]:
    """The rows (columns of metrics) and settings worth a panel, and notes on the panels
    left out: those whose data are all 0. Where every panel with data is all 0, all stay."""
    zero = {key for key, lines in drawn.items() if _zero(lines)}
    if len(zero) == sum(bool(lines) for lines in drawn.values()):
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
    """One row per CurveColumn of figure `name`, one column per setting, a line per variant
    (mean over seeds, shaded ± 1 sd with ddof=1). Panels whose data are all 0 are left
    out and named in the figure; FD panels mark relapses into collapse with crosses."""
    columns = [c for c in CURVE_COLUMNS if c.plot == name]
    variants = _variants(analysis)
    drawn = panels(analysis, columns)
    columns, settings, dropped = kept_panels(analysis, columns, drawn)
    fig = Figure(figsize=(0.6 + 4.4 * max(len(settings), 1.5), 1.0 + 3.0 * len(columns)))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(len(columns), len(settings), squeeze=False, sharex=True, sharey="row")
    handles, marked = {}, False
    for r, spec in enumerate(columns):
        plotted = []
        for c, setting in enumerate(settings):
            ax, lines = axes[r][c], drawn[spec.key, setting]
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
    save_png(fig, path)


def _variants(analysis: Analysis) -> dict[str, tuple]:
    """A colour per variant label, in report order."""
    return {v.label: tab10(i) for i, v in enumerate(analysis.variants)}


def plain_tick(value: float, _=None) -> str:
    """A log axis's tick as 0.3 rather than a power of ten; only 1, 2, 3 and 5 times one
    (a matplotlib `FuncFormatter` function: the second argument, the tick's position, is
    not used)."""
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
            ax.yaxis.set_major_formatter(FuncFormatter(plain_tick))
            ax.yaxis.set_minor_formatter(FuncFormatter(plain_tick))
    pearson, spearman = analysis.correlations
    title = f"{pearson.n} runs: Pearson r {fmt(pearson.r, 2)}, Spearman {RHO} {fmt(spearman.r, 2)}"
    for setting, (p, s) in analysis.within.items():
        dead = {x for group, _, x, _ in analysis.points if group.setting == setting}
        if len(dead) == 1:  # nothing to correlate: every run had the same dead share
            title += f"\n{setting} runs alone: every run {100 * dead.pop():g}% dead, no r"
            continue
        title += f"\n{setting} runs alone: r {fmt(p.r, 2)}, {RHO} {fmt(s.r, 2)}"
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
    save_png(fig, path)


# --- Samples -----------------------------------------------------------------------------


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
    title = "Last progress grid of each variant (its lowest seed; the same fixed noise)"
    if fig.get_figwidth() < 6:  # too narrow for one line (one or two variants)
        title = title.replace(" (", "\n(")
    fig.suptitle(title)
    colour = any(frames[max(frames)].ndim == 3 for _, frames in chosen.values())
    save_png(fig, path, gray=not colour)  # black text and grey images: half the bytes


def write_figures(analysis: Analysis, report_dir: Path) -> tuple[list[str], bool]:
    """Writes every plot (PLOT_NAMES) and the progress GIF into `report_dir`.

    Args:
        analysis: the study's analysis.
        report_dir: an existing folder.

    Returns:
        (notes on missing or unreadable data, whether progress.gif was written).
    """
    for name in CURVE_TITLES:
        plot_curves(analysis, name, report_dir / name)
    plot_mechanism(analysis, report_dir / MECHANISM_NAME)
    chosen, notes = choose_frames(analysis)
    plot_samples(analysis, chosen, report_dir / SAMPLES_NAME)
    notes += progress_gif(analysis, chosen, report_dir / PROGRESS_GIF_NAME)
    if not chosen:
        notes.append("No run has progress images, so there is no progress.gif.")
    return notes, bool(chosen)
