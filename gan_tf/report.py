"""The report of a ReLU vs LeakyReLU study: tables, plots, a GIF and a reading of the numbers.

A study is a grid of DCGAN runs that differ only in the discriminator's hidden
activation (the "variant"), the learning rate and the seed. Each run is handed
in as a `RunResult`; `write_report` turns a list of them into `report.md`,
five PNG plots and `progress.gif` in one folder.

numpy, matplotlib, imageio and the package's image helpers only: no TensorFlow,
so a report can be rebuilt from run folders on any machine. Figures are built as
`matplotlib.figure.Figure` drawn by the Agg canvas, not through pyplot: they never
enter pyplot's list of open figures (nothing is left to close) and the caller's
backend, a notebook's inline one say, is left alone.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from gan_tf.files import atomic_path, write_text
from gan_tf.gif import FRAME_GLOB
from gan_tf.images import save_gif

REPORT_NAME = "report.md"
PLOT_NAMES = ("fd.png", "dead.png", "grad.png", "losses.png", "samples.png")
GIF_NAME = "progress.gif"
DPI = 100

# Measures that `summarize` reduces over seeds, and where each comes from.
FINAL_METRICS = ("fd", "score", "covered", "precision", "recall")  # final["generator"]
LAST_EPOCH_METRICS = (
    "dead_channels_1",
    "dead_channels_2",
    "gen_image_grad_norm",
    "d_real",
    "d_fake",
)
SUMMARY_METRICS = (*FINAL_METRICS, *LAST_EPOCH_METRICS, "max_dead_channels_2", "wall_time")

# Key phrases of `reading`; tests pin them, so change them together.
SEPARATED = "clearly separated"
NOT_SEPARATED = "cannot be separated"
NO_SPREAD = "no spread can be estimated"
BUDGET_CANNOT = "this budget cannot separate the variants"
SEPARATION_RULE = (
    "Two variants count as clearly separated on a measure only if the difference of their "
    "means over seeds is larger than the sum of their standard deviations "
    "(|mean_a - mean_b| > std_a + std_b) and each has at least 2 seeds with a value."
)

NAN = float("nan")


@dataclasses.dataclass(frozen=True)
class RunResult:
    """One finished (or partly finished) run of the study.

    Attributes:
        variant: display label of the discriminator activation, e.g. "relu",
            "leaky_relu alpha=0.2".
        lr: learning rate of both optimizers.
        seed: the run's seed.
        run_dir: the run folder (holds `image_at_epoch_NNNN.png`).
        metrics: rows of the run's metrics.csv, one per epoch, in order.
        final: the run's final evaluation, `{"n", "generator": {...}, "reference": {...}}`,
            or {} if it was not evaluated.
        wall_time: seconds spent training.
    """

    variant: str
    lr: float
    seed: int
    run_dir: Path
    metrics: list[dict]
    final: dict
    wall_time: float


# --- Numbers ----------------------------------------------------------------------------


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return NAN


def _mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    """Mean, std (ddof=0) and count of the finite values; NaN, NaN, 0 if there are none."""
    finite = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    if not finite.size:
        return NAN, NAN, 0
    return float(finite.mean()), float(finite.std()), int(finite.size)


def _column(run: RunResult, key: str) -> np.ndarray:
    return np.asarray([_float(row.get(key)) for row in run.metrics], dtype=float)


def _last_finite(run: RunResult, key: str) -> float:
    # Probe measures may be skipped on some epochs (NaN there): the last measured value
    # is the run's final state, not a NaN that would drop the seed from the mean.
    column = _column(run, key)
    column = column[np.isfinite(column)]
    return float(column[-1]) if column.size else NAN


def _max_finite(run: RunResult, key: str) -> float:
    column = _column(run, key)
    column = column[np.isfinite(column)]
    return float(column.max()) if column.size else NAN


def _per_run(run: RunResult) -> dict[str, float]:
    """The run's value of every SUMMARY_METRICS measure (NaN where it has none)."""
    generator = run.final.get("generator", {}) if run.final else {}
    values = {key: _float(generator.get(key)) for key in FINAL_METRICS}
    values.update({key: _last_finite(run, key) for key in LAST_EPOCH_METRICS})
    values["max_dead_channels_2"] = _max_finite(run, "dead_channels_2")
    values["wall_time"] = _float(run.wall_time)
    return values


def _order(runs: Sequence[RunResult]) -> tuple[list[str], list[float]]:
    """Variants in first-seen order and learning rates ascending."""
    variants = list(dict.fromkeys(run.variant for run in runs))
    lrs = sorted({run.lr for run in runs})
    return variants, lrs


def _groups(runs: Sequence[RunResult]) -> dict[tuple[str, float], list[RunResult]]:
    """Runs by (variant, lr) in report order, each group sorted by seed."""
    variants, lrs = _order(runs)
    groups = {}
    for lr in lrs:
        for variant in variants:
            group = sorted(
                (r for r in runs if r.variant == variant and r.lr == lr), key=lambda r: r.seed
            )
            if group:
                groups[variant, lr] = group
    return groups


def summarize(runs: Sequence[RunResult]) -> list[dict]:
    """Reduces the runs over seeds: one row per (variant, lr).

    Args:
        runs: the study's runs.

    Returns:
        Rows ordered by learning rate (ascending), then variant (first-seen order),
        each with `variant`, `lr`, `n_seeds` (runs in the group), `seeds`, and for
        every name in SUMMARY_METRICS `<name>_mean`, `<name>_std` (ddof=0) and
        `<name>_n` (seeds with a finite value; NaN seeds are ignored, all-NaN gives
        NaN). Final measures come from `final["generator"]`; probe measures are the
        last epoch that measured them; `max_dead_channels_2` is over all epochs.
    """
    rows = []
    for (variant, lr), group in _groups(runs).items():
        per_run = [_per_run(run) for run in group]
        row = {
            "variant": variant,
            "lr": lr,
            "n_seeds": len(group),
            "seeds": [r.seed for r in group],
        }
        for key in SUMMARY_METRICS:
            mean, std, n = _mean_std([values[key] for values in per_run])
            row.update({f"{key}_mean": mean, f"{key}_std": std, f"{key}_n": n})
        rows.append(row)
    return rows


def separation(row_a: dict, row_b: dict, metric: str) -> str:
    """Applies SEPARATION_RULE to two summary rows on one measure.

    Args:
        row_a, row_b: rows of `summarize`.
        metric: a name in SUMMARY_METRICS.

    Returns:
        "separated", "not separated", "no spread" (a side has fewer than 2 seeds
        with a value) or "missing" (a side has no value).
    """
    mean_a, mean_b = row_a[f"{metric}_mean"], row_b[f"{metric}_mean"]
    if not (math.isfinite(mean_a) and math.isfinite(mean_b)):
        return "missing"
    if min(row_a[f"{metric}_n"], row_b[f"{metric}_n"]) < 2:
        return "no spread"
    spread = row_a[f"{metric}_std"] + row_b[f"{metric}_std"]
    return "separated" if abs(mean_a - mean_b) > spread else "not separated"


# --- Formatting -------------------------------------------------------------------------


def _decimals(x: float, digits: int = 3) -> int | None:
    """Decimals that show `x` to `digits` significant figures; None: use e-notation."""
    if x == 0 or not math.isfinite(x):
        return digits - 1
    magnitude = math.floor(math.log10(abs(x)))
    if magnitude < -3 or magnitude >= 6:
        return None
    return max(digits - 1 - magnitude, 0)


def _fmt(x: float, decimals: int | None = None, scale: float = 1.0, unit: str = "") -> str:
    """One number: fixed `decimals`, or 3 significant figures when None; "n/a" for NaN."""
    if not math.isfinite(x):
        return "n/a"
    x *= scale
    places = _decimals(x) if decimals is None else decimals
    text = f"{x:.2e}" if places is None else f"{x:.{places}f}"
    return text + unit


def _pm(row: dict, key: str, decimals: int | None = None, scale: float = 1.0, unit="") -> str:
    """`mean ± std` of a summary measure; the mean alone where fewer than 2 seeds have it."""
    mean, std, n = row[f"{key}_mean"], row[f"{key}_std"], row[f"{key}_n"]
    if not math.isfinite(mean):
        return "n/a"
    if n < 2:  # a std of one value is 0 by construction, not a measured spread
        return _fmt(mean, decimals, scale, unit)
    places = _decimals(mean * scale) if decimals is None else decimals
    if places is None:
        return f"{mean * scale:.2e}{unit} ± {std * scale:.1e}{unit}"
    return f"{_fmt(mean, places, scale, unit)} ± {_fmt(std, places, scale, unit)}"


def _lr(lr: float) -> str:
    return f"lr={lr:g}"


def _pct(row: dict, key: str) -> str:
    return _pm(row, key, decimals=1, scale=100, unit="%")


# Table columns: header, how to render a summary row.
COLUMNS: tuple[tuple[str, Callable[[dict], str]], ...] = (
    ("FD", lambda r: _pm(r, "fd")),
    ("score", lambda r: _pm(r, "score", 2)),
    ("classes", lambda r: _pm(r, "covered", 1)),
    ("precision", lambda r: _pm(r, "precision", 2)),
    ("recall", lambda r: _pm(r, "recall", 2)),
    ("dead ch. L1", lambda r: _pct(r, "dead_channels_1")),
    ("dead ch. L2", lambda r: _pct(r, "dead_channels_2")),
    ("grad → G", lambda r: _pm(r, "gen_image_grad_norm")),
    ("D(x)", lambda r: _pm(r, "d_real", 2)),
    ("D(G(z))", lambda r: _pm(r, "d_fake", 2)),
    ("time", lambda r: _pm(r, "wall_time", unit=" s")),
)


def _table(rows: Sequence[dict]) -> list[str]:
    header = ["variant", "seeds", *(name for name, _ in COLUMNS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row["variant"], str(row["n_seeds"]), *(render(row) for _, render in COLUMNS)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


# --- Reading ----------------------------------------------------------------------------


def _is_relu(variant: str) -> bool:
    return variant.strip().lower() == "relu"


def _is_leaky(variant: str) -> bool:
    return variant.strip().lower().startswith("leaky")


def _pair_sentence(a: dict, b: dict, metric: str, render: Callable[[float], str]) -> str:
    """Whether two rows differ on `metric` by more than their spread, in one sentence."""
    verdict = separation(a, b, metric)
    if verdict == "missing":
        return f"{a['variant']} and {b['variant']} cannot be compared: one has no value."
    gap = a[f"{metric}_mean"] - b[f"{metric}_mean"]
    side = "lower" if gap < 0 else "higher"
    diff = f"{a['variant']} is {side} than {b['variant']} by {render(abs(gap))}"
    if verdict == "no spread":
        n = min(a[f"{metric}_n"], b[f"{metric}_n"])
        return f"{diff}, but with {n} seed {NO_SPREAD}, so no separation can be claimed."
    spread = render(a[f"{metric}_std"] + b[f"{metric}_std"])
    if verdict == "separated":
        return f"{diff}, more than their summed spread ({spread}): {SEPARATED}."
    return f"{diff}, within their summed spread ({spread}): they {NOT_SEPARATED}."


def _versus_leaky(relu: dict, leaky: Sequence[dict], metric: str) -> str:
    """relu against every leaky variant on `metric`, by SEPARATION_RULE, in one sentence."""
    verdicts = {row["variant"]: separation(relu, row, metric) for row in leaky}
    apart = [v for v, s in verdicts.items() if s == "separated"]
    close = [v for v, s in verdicts.items() if s == "not separated"]
    lone = [v for v, s in verdicts.items() if s == "no spread"]
    if not (apart or close or lone):
        return "No leaky variant has a value to compare with."
    if relu[f"{metric}_n"] < 2:
        return f"relu has fewer than 2 seeds, so {NO_SPREAD} and no separation can be claimed."
    clauses = []
    if apart:
        which = ", ".join(apart)
        if not (close or lone):
            which = "the leaky variant" if len(apart) == 1 else f"all {len(apart)} leaky variants"
        clauses.append(f"relu is {SEPARATED} from {which}")
    if close:
        which = ", ".join(close)
        if not (apart or lone):
            which = "any leaky variant"
        clauses.append(f"relu {NOT_SEPARATED} from {which}")
    if lone:
        clauses.append(
            f"for {', '.join(lone)} (fewer than 2 seeds) {NO_SPREAD}, so no separation is claimed"
        )
    return "By the rule, " + "; ".join(clauses) + "."


def _range(rows: Sequence[dict], key: str, render: Callable[[float], str]) -> str:
    means = [r[f"{key}_mean"] for r in rows if math.isfinite(r[f"{key}_mean"])]
    if not means:
        return "n/a"
    low, high = render(min(means)), render(max(means))
    return low if low == high else f"{low} to {high}"


def _dead_bullet(lr: float, relu: dict, leaky: Sequence[dict]) -> str:
    percent = lambda x: _fmt(x, 1, 100, "%")  # noqa: E731
    if not math.isfinite(relu["dead_channels_2_mean"]):
        return f"{_lr(lr)}: relu has no dead-channel measure, so dying ReLU cannot be assessed."
    return (
        f"{_lr(lr)}, dead layer-2 channels of D (pre-activation ≤ 0 on every probe image): "
        f"relu ends at {_pct(relu, 'dead_channels_2')} "
        f"(max during training {_pct(relu, 'max_dead_channels_2')}); "
        f"the leaky variants end at {_range(leaky, 'dead_channels_2', percent)} "
        f"(max {_range(leaky, 'max_dead_channels_2', percent)}). "
        + _versus_leaky(relu, leaky, "dead_channels_2")
    )


def _grad_bullet(lr: float, relu: dict, leaky: Sequence[dict]) -> str:
    return (
        f"{_lr(lr)}, gradient reaching the generator (mean L2 norm of ∂gen_loss/∂image, "
        f"last epoch): relu {_pm(relu, 'gen_image_grad_norm')}; the leaky variants "
        f"{_range(leaky, 'gen_image_grad_norm', _fmt)}. "
        + _versus_leaky(relu, leaky, "gen_image_grad_norm")
    )


def _fd_bullets(lr: float, relu: dict | None, leaky: Sequence[dict]) -> list[str]:
    """FD of relu against the best and worst leaky variant, and best against worst."""
    scored = [r for r in leaky if math.isfinite(r["fd_mean"])]
    if relu is not None and not math.isfinite(relu["fd_mean"]):
        relu = None
    if not scored and relu is None:
        return [f"{_lr(lr)}: no final FD was measured, so image quality cannot be compared."]
    best = min(scored, key=lambda r: r["fd_mean"]) if scored else None
    worst = max(scored, key=lambda r: r["fd_mean"]) if scored else None
    figures = []
    if relu is not None:
        figures.append(f"relu {_pm(relu, 'fd')}")
    if best is not None:
        figures.append(f"best leaky variant {best['variant']} {_pm(best, 'fd')}")
    if worst is not None and worst is not best:
        figures.append(f"worst leaky variant {worst['variant']} {_pm(worst, 'fd')}")
    pairs = []
    if relu is not None and best is not None:
        pairs.append((relu, best))
        if worst is not best:
            pairs.append((relu, worst))
    if best is not None and worst is not best:
        pairs.append((best, worst))
    sentences = [_pair_sentence(a, b, "fd", _fmt) for a, b in pairs]
    head = f"{_lr(lr)}, final FD (lower is better): {'; '.join(figures)}."
    bullets = [" ".join([head, *sentences])]
    verdicts = [separation(a, b, "fd") for a, b in pairs]
    if verdicts and "separated" not in verdicts:
        bullets.append(f"{_lr(lr)}: {BUDGET_CANNOT} on FD (image quality).")
    return bullets


def reading(summary: Sequence[dict]) -> list[str]:
    """Plain-language observations drawn only from the summary's numbers.

    For each learning rate: relu's final and maximum dead layer-2 channels against
    the leaky variants', the gradient that reaches the generator, and the final FD
    of relu against the best and worst leaky variant, each judged by
    SEPARATION_RULE. Says explicitly when the budget cannot separate the variants.

    Args:
        summary: rows of `summarize`.

    Returns:
        One sentence (or a few) per bullet, without the leading "- ".
    """
    bullets = []
    for lr in sorted({row["lr"] for row in summary}):
        rows = [row for row in summary if row["lr"] == lr]
        relu = next((row for row in rows if _is_relu(row["variant"])), None)
        leaky = [row for row in rows if _is_leaky(row["variant"])]
        if max(row["n_seeds"] for row in rows) < 2:
            bullets.append(
                f"{_lr(lr)}: one seed per variant, so {NO_SPREAD} and {BUDGET_CANNOT} "
                "on any measure; the numbers below are single runs."
            )
        if relu is None or not leaky:
            missing = "relu" if relu is None else "leaky"
            bullets.append(f"{_lr(lr)}: no {missing} run, so relu and leaky cannot be compared.")
        else:
            bullets.append(_dead_bullet(lr, relu, leaky))
            bullets.append(_grad_bullet(lr, relu, leaky))
        bullets.extend(_fd_bullets(lr, relu, leaky))
    return bullets


LIMITS = (
    "The training budget (see above) is one budget: longer or otherwise tuned training can "
    "change which variant ends ahead.",
    "One dataset (the one named above) and one architecture (the tutorial's DCGAN).",
    "FD, score, classes, precision and recall come from a classifier's features; "
    "they are not human judgement of the samples.",
    "Spread is over the seeds listed; few seeds make the std itself uncertain.",
    "A LeakyReLU channel counted as 'dead' (pre-activation ≤ 0 on every probe image) still "
    "passes gradient scaled by alpha; only for ReLU does it pass none.",
    "The probe batch is small, so dead fractions are measured on those images only.",
)


# --- Images -----------------------------------------------------------------------------


def _frames(run_dir: Path) -> dict[int, Path]:
    """The run's progress images by epoch."""
    frames = {}
    for path in Path(run_dir).glob(FRAME_GLOB):
        match = re.search(r"(\d+)$", path.stem)
        if match:
            frames[int(match.group(1))] = path
    return dict(sorted(frames.items()))


def _gray(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3:
        image = image[..., :3].mean(axis=-1)
    return np.clip(image, 0, 255).astype(np.uint8)


def _native(image: np.ndarray, max_size: int = 160) -> np.ndarray:
    """Undoes the nearest-neighbour upscaling frames are saved with (4x: 488 -> 122 px)."""
    h, w = image.shape
    for scale in (4, 3, 2):
        small = image[::scale, ::scale]
        upscaled = np.repeat(np.repeat(small, scale, 0), scale, 1)
        if h % scale == 0 and w % scale == 0 and np.array_equal(image, upscaled):
            image = small
            break
    # A frame that was not upscaled is subsampled anyway, to keep the GIF small.
    step = math.ceil(max(image.shape) / max_size)
    return image[::step, ::step]


def _read_frame(path: Path) -> np.ndarray | None:
    try:
        return _native(_gray(iio.imread(path)))
    except (OSError, ValueError):
        return None


def _text_image(text: str, width: int, height: int, size: float = 9, rotation=0) -> np.ndarray:
    """`text` centred on white, as a (height, width) uint8 array."""
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=size, rotation=rotation)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[..., :3]
    out = np.full((height, width), 255, np.uint8)
    gray = _gray(rgb)[:height, :width]  # the canvas may round a pixel up
    out[: gray.shape[0], : gray.shape[1]] = gray
    return out


def _pad_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    out = np.full((height, width), 255, np.uint8)
    out[: image.shape[0], : image.shape[1]] = image[:height, :width]
    return out


def _frame_runs(groups: dict[tuple[str, float], list[RunResult]]) -> dict:
    """(variant, lr) -> (run, {epoch: path}) for the first seed that has frames."""
    chosen = {}
    for key, group in groups.items():
        for run in group:
            frames = _frames(run.run_dir)
            if frames:
                chosen[key] = (run, frames)
                break
    return chosen


def _progress_gif(groups, variants, lrs, path: Path, fps: float = 4) -> tuple[bool, list[str]]:
    """Writes the side-by-side progress GIF.

    Returns:
        Whether it was written (not without any progress image), and notes on what
        was missing.
    """
    chosen = _frame_runs(groups)
    epochs = sorted({epoch for _, frames in chosen.values() for epoch in frames})
    if not epochs:
        return False, []
    cache: dict[Path, np.ndarray | None] = {}

    def load(p: Path) -> np.ndarray | None:
        if p not in cache:
            cache[p] = _read_frame(p)
        return cache[p]

    first = [load(frames[min(frames)]) for _, frames in chosen.values()]
    shapes = [f.shape for f in first if f is not None]
    cell_h = max((s[0] for s in shapes), default=64)
    cell_w = max((s[1] for s in shapes), default=64)
    gap, head, side, title = 4, 18, 18, 24
    height = title + head + len(lrs) * (cell_h + gap)
    width = side + len(variants) * (cell_w + gap)
    blank = _text_image("no frame", cell_w, cell_h, size=8)

    template = np.full((height, width), 255, np.uint8)
    for c, variant in enumerate(variants):
        left = side + c * (cell_w + gap)
        template[title : title + head, left : left + cell_w] = _text_image(variant, cell_w, head, 8)
    for r, lr in enumerate(lrs):
        top = title + head + r * (cell_h + gap)
        template[top : top + cell_h, :side] = _text_image(_lr(lr), side, cell_h, 8, rotation=90)

    notes, frames_out = [], []
    for epoch in epochs:
        frame = template.copy()
        # The epoch label also keeps every frame distinct: Pillow merges identical ones.
        frame[:title] = _text_image(f"epoch {epoch}", width, title, 10)
        for r, lr in enumerate(lrs):
            for c, variant in enumerate(variants):
                cell = None
                if (variant, lr) in chosen:
                    _, frames = chosen[variant, lr]
                    earlier = [e for e in frames if e <= epoch]
                    # A missing epoch shows the run's last earlier frame.
                    cell = load(frames[earlier[-1]]) if earlier else None
                top, left = title + head + r * (cell_h + gap), side + c * (cell_w + gap)
                frame[top : top + cell_h, left : left + cell_w] = (
                    blank if cell is None else _pad_to(cell, cell_h, cell_w)
                )
        frames_out.append(frame)
    for variant in variants:
        for lr in lrs:
            if (variant, lr) not in groups:
                continue
            if (variant, lr) not in chosen:
                notes.append(f"{variant}, {_lr(lr)}: no progress images; shown blank.")
                continue
            run, frames = chosen[variant, lr]
            absent = [e for e in epochs if e not in frames]
            if absent:
                notes.append(
                    f"{variant}, {_lr(lr)} (seed {run.seed}): no progress image for epoch(s) "
                    f"{', '.join(map(str, absent))}; the GIF repeats the last earlier one "
                    "or shows a blank."
                )
    save_gif(frames_out, path, fps=fps)
    return True, notes


# --- Plots ------------------------------------------------------------------------------


def _curve(runs: Sequence[RunResult], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epochs where any seed measured `key`, with the mean and std over those seeds."""
    by_epoch: dict[int, list[float]] = {}
    for run in runs:
        for i, row in enumerate(run.metrics):
            value = _float(row.get(key))
            if math.isfinite(value):
                by_epoch.setdefault(int(row.get("epoch", i + 1)), []).append(value)
    epochs = sorted(by_epoch)
    stats = [_mean_std(by_epoch[e]) for e in epochs]
    return (
        np.asarray(epochs, dtype=float),
        np.asarray([s[0] for s in stats]),
        np.asarray([s[1] for s in stats]),
    )


def _color(index: int):
    return colormaps["tab10"](index % 10)


def _save(fig: Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI)


def _plot_curves(
    groups,
    variants,
    lrs,
    keys: Sequence[tuple[str, str]],
    path: Path,
    title: str,
    percent: bool = False,
    log: bool = False,
) -> None:
    """One row of subplots per (key, label), one column per lr; a line per variant.

    Each line is the mean over seeds with a shaded ±std band.
    """
    fig = Figure(figsize=(0.6 + 4.4 * len(lrs), 0.6 + 3.0 * len(keys)), layout="constrained")
    axes = fig.subplots(len(keys), len(lrs), squeeze=False, sharex=True, sharey="row")
    handles = {}
    for r, (key, label) in enumerate(keys):
        row_values = []
        for c, lr in enumerate(lrs):
            ax = axes[r][c]
            for i, variant in enumerate(variants):
                epochs, mean, std = _curve(groups.get((variant, lr), []), key)
                if not len(epochs):
                    continue
                scale = 100 if percent else 1
                mean, std = mean * scale, std * scale
                (line,) = ax.plot(
                    epochs,
                    mean,
                    color=_color(i),
                    label=variant,
                    lw=1.5,
                    marker="o" if len(epochs) <= 12 else None,
                    ms=3,
                )
                ax.fill_between(epochs, mean - std, mean + std, color=_color(i), alpha=0.2, lw=0)
                handles.setdefault(variant, line)
                row_values.extend(mean)
            if not ax.lines:
                ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
            ax.set_title(_lr(lr) if len(keys) == 1 else f"{label}, {_lr(lr)}", fontsize=10)
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if r == len(keys) - 1:
                ax.set_xlabel("epoch")
            if c == 0:
                ax.set_ylabel(label + (" (%)" if percent else ""))
        # A log axis only when every plotted mean is positive; the rows share their y axis.
        if log and row_values and min(row_values) > 0:
            axes[r][0].set_yscale("log")
    if handles:
        fig.legend(
            list(handles.values()),
            list(handles),
            loc="outside right upper",
            title="D activation",
            fontsize=8,
            title_fontsize=8,
        )
    fig.suptitle(title)
    _save(fig, path)


def _plot_samples(groups, variants, lrs, path: Path) -> list[str]:
    """Last progress image of each (lr, variant); returns notes on what was missing."""
    chosen = _frame_runs(groups)
    fig = Figure(figsize=(0.4 + 2.2 * len(variants), 0.6 + 2.5 * len(lrs)), layout="constrained")
    axes = fig.subplots(len(lrs), len(variants), squeeze=False)
    notes = []
    for r, lr in enumerate(lrs):
        for c, variant in enumerate(variants):
            ax = axes[r][c]
            ax.set_axis_off()
            image, caption = None, f"{variant}\n{_lr(lr)}"
            if (variant, lr) in chosen:
                run, frames = chosen[variant, lr]
                epoch = max(frames)
                image = _read_frame(frames[epoch])
                caption += f", epoch {epoch}, seed {run.seed}"
            if image is not None:
                ax.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            else:
                ax.text(0.5, 0.5, "no frame", ha="center", va="center", transform=ax.transAxes)
            if image is None and (variant, lr) in chosen:  # no frames at all: the GIF's note
                notes.append(f"{variant}, {_lr(lr)}: its last progress image is unreadable.")
            ax.set_title(caption, fontsize=8)
    fig.suptitle("Final samples (fixed noise), first seed with images")
    _save(fig, path)
    return notes


# --- Report -----------------------------------------------------------------------------


def _reference(runs: Sequence[RunResult]) -> list[str]:
    refs = [run.final["reference"] for run in runs if run.final and run.final.get("reference")]
    if not refs:
        return ["No run has a final evaluation, so there are no real-data reference figures."]
    keys = ("fd", "score", "covered", "mode_kl", "precision", "recall")
    mean = {key: _mean_std([_float(ref.get(key)) for ref in refs])[0] for key in keys}
    sizes = [_float(run.final.get("n")) for run in runs if run.final]
    sizes = [n for n in sizes if math.isfinite(n)]
    size = f" (n = {_fmt(max(sizes), 0)} images)" if sizes else ""
    names = {"fd": "FD", "score": "score", "covered": "classes", "mode_kl": "mode KL"}
    figures = ", ".join(f"{names.get(k, k)} {_fmt(v)}" for k, v in mean.items())
    return [
        f"Real training images against real test images{size}, mean over {len(refs)} "
        f"evaluation(s): {figures}. This is what a generator matching the data would score."
    ]


def write_report(runs: Sequence[RunResult], report_dir: str | Path, budget: str) -> Path:
    """Writes the study's report: report.md, the plots and progress.gif.

    Runs without metrics, final evaluation or progress images are left out of what
    needs them, and report.md says so.

    Args:
        runs: the study's runs (at least one).
        report_dir: folder to write into; created if absent.
        budget: one sentence on the training budget (epochs, steps, batch, data, seeds).

    Returns:
        The path of report.md.

    Raises:
        ValueError: `runs` is empty.
    """
    if not runs:
        raise ValueError("no runs to report")
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    variants, lrs = _order(runs)
    groups = _groups(runs)
    summary = summarize(runs)

    missing = [
        f"{r.variant}, {_lr(r.lr)}, seed {r.seed}: no metrics rows; left out of curves "
        "and last-epoch columns."
        for r in runs
        if not r.metrics
    ]
    missing += [
        f"{r.variant}, {_lr(r.lr)}, seed {r.seed}: no final evaluation; left out of FD, "
        "score, classes, precision, recall."
        for r in runs
        if not (r.final and r.final.get("generator"))
    ]

    _plot_curves(
        groups,
        variants,
        lrs,
        [("fd", "FD")],
        report_dir / "fd.png",
        "Fréchet distance during training (lower is better)",
    )
    _plot_curves(
        groups,
        variants,
        lrs,
        [
            ("dead_channels_1", "dead channels, layer 1"),
            ("dead_channels_2", "dead channels, layer 2"),
        ],
        report_dir / "dead.png",
        "Discriminator channels with pre-activation ≤ 0 on every probe image",
        percent=True,
    )
    _plot_curves(
        groups,
        variants,
        lrs,
        [("gen_image_grad_norm", "‖∂gen_loss/∂image‖")],
        report_dir / "grad.png",
        "Gradient reaching the generator",
        log=True,
    )
    _plot_curves(
        groups,
        variants,
        lrs,
        [("gen_loss", "gen_loss"), ("disc_loss", "disc_loss")],
        report_dir / "losses.png",
        "Losses",
    )
    missing += _plot_samples(groups, variants, lrs, report_dir / "samples.png")
    has_gif, notes = _progress_gif(groups, variants, lrs, report_dir / GIF_NAME)
    missing += notes
    if not has_gif:
        missing.append("No run has progress images, so there is no progress.gif.")

    seeds = sorted({r.seed for r in runs})
    lines = [
        "# ReLU vs LeakyReLU in the DCGAN discriminator",
        "",
        budget.strip(),
        "",
        f"{len(runs)} runs: variants {', '.join(variants)}; learning rates "
        f"{', '.join(f'{lr:g}' for lr in lrs)} (generator and discriminator alike); "
        f"seeds {', '.join(map(str, seeds))}.",
        "",
        "## Real-data reference",
        "",
        *_reference(runs),
        "",
        "## Results",
        "",
        "Each cell is mean ± std over seeds (a single value where only one seed has it; "
        "n/a where none does). FD, score, classes, precision and recall are the final "
        "evaluation of the generator; dead channels (% of the discriminator's conv channels "
        "whose pre-activation is ≤ 0 on every probe image), grad → G (mean L2 norm of "
        "∂gen_loss/∂image, the gradient that reaches the generator), D(x) and D(G(z)) are "
        "the last epoch's; time is training wall time.",
        "",
    ]
    for lr in lrs:
        lines += [f"### {_lr(lr)}", "", *_table([r for r in summary if r["lr"] == lr]), ""]
    lines += [
        "## Plots",
        "",
        "![FD vs epoch](fd.png)",
        "",
        "![Dead channels vs epoch](dead.png)",
        "",
        "![Gradient reaching the generator vs epoch](grad.png)",
        "",
        "![Losses vs epoch](losses.png)",
        "",
        "![Final samples](samples.png)",
        "",
    ]
    if has_gif:
        lines += ["![Progress, all variants side by side](progress.gif)", ""]
    lines += [
        "## What the numbers show",
        "",
        SEPARATION_RULE,
        "",
        *(f"- {bullet}" for bullet in reading(summary)),
        "",
        "## What they do not show",
        "",
        *(f"- {limit}" for limit in LIMITS),
        "",
    ]
    if missing:
        lines += ["## Missing data", "", *(f"- {note}" for note in missing), ""]
    path = report_dir / REPORT_NAME
    write_text(path, "\n".join(lines))
    return path
