"""Image grids and GIFs from arrays, and whether a grid fits in memory; knows nothing about
models."""

from __future__ import annotations

import math
import os
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from gan_tf.errors import UserError
from gan_tf.files import atomic_path

# Progress grids of 28x28 images are saved with each pixel drawn GRID_SCALE x GRID_SCALE,
# to be readable; larger images get a smaller scale (`grid_scale`).
GRID_SCALE = 4
IMAGE_SIZE = (28, 28)
# The side a grid cell is drawn at, about: 28 x GRID_SCALE.
_CELL_SIDE = IMAGE_SIZE[0] * GRID_SCALE
# A GIF stores each frame's duration in hundredths of a second, at most 655.35 s (and the
# last frame is held 4 times longer): frame rates outside this range cannot be written.
MIN_FPS, MAX_FPS = 0.01, 100.0


# A grid and the arrays it is drawn from may take at most this share of the machine's memory:
# TensorFlow, the generator and the images' other copies need the rest, and an allocation
# beyond it swaps for minutes or is killed rather than failing cleanly.
MEMORY_SHARE = 0.5
# Memory assumed where the machine does not say (no sysconf): a common laptop's.
_UNKNOWN_MEMORY = 16 * 2**30


def memory_bytes() -> int:
    """The memory this process may use: the machine's physical memory, or its container's
    limit (cgroup v2 memory.max) where that is lower."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        total = _UNKNOWN_MEMORY
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        limit = ""
    return min(total, int(limit)) if limit.isdigit() else total


def memory_budget() -> int:
    """Bytes one picture (or one batch of samples) may take: `MEMORY_SHARE` of `memory_bytes`."""
    return int(memory_bytes() * MEMORY_SHARE)


def gib(size: int) -> str:
    """Bytes for people: 3221225472 -> "3 GiB", 10**15 -> "931,323 GiB"."""
    value = size / 2**30
    return f"{value:,.0f} GiB" if value >= 100 else f"{value:.3g} GiB"


def grid_scale(side: int) -> int:
    """How many times each pixel of `side`-pixel images is repeated in a saved progress grid:
    GRID_SCALE (4) for the tutorial's 28 pixels, 2 for 64, 1 from 128 on."""
    return max(1, round(_CELL_SIDE / side))


def _grid_bytes(n: int, cols: int | None, pad: int, scale: int, size, channels: int) -> int:
    """The most memory drawing `n` images of `size` (H, W) into a grid takes at once: the
    float images, two float temporaries and their uint8 copy, the grid, and the grid `scale`
    x `scale` times larger (twice while it is built), each pixel `channels` values."""
    h, w = size
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    pixels = (rows * (h + pad) + pad) * (cols * (w + pad) + pad)
    per_pixel = n * h * w * (3 * 4 + 1) + pixels * (1 + (2 * scale * scale if scale > 1 else 0))
    return per_pixel * channels


def check_grid(
    n: int,
    cols: int | None = None,
    *,
    pad: int = 2,
    scale: int = GRID_SCALE,
    size=IMAGE_SIZE,
    channels: int = 1,
) -> None:
    """Refuses a grid that cannot be drawn, before anything is drawn or generated.

    Args:
        n: images in the grid, at least 1.
        cols: images per row (None: a square grid); at most `n`.
        pad, scale: as `image_grid` and `save_image_grid` take them.
        size: each image's (H, W).
        channels: each image's channels, 1 or 3.

    Raises:
        UserError: naming `cols` (not from 1 to n) or `n` (the grid would take more than
            `memory_budget()`), with the most that fits.
    """
    if n < 1:
        raise UserError(f"must be at least 1, got {n}", setting="n")
    if cols is not None and not 1 <= cols <= n:
        raise UserError(f"must be from 1 to the number of images ({n}), got {cols}", setting="cols")
    need, budget = _grid_bytes(n, cols, pad, scale, size, channels), memory_budget()
    if need <= budget:
        return
    fits, low, high = 0, 1, n  # the most images whose square grid fits (bisection)
    while low <= high:
        mid = (low + high) // 2
        if _grid_bytes(mid, None, pad, scale, size, channels) <= budget:
            fits, low = mid, mid + 1
        else:
            high = mid - 1
    raise UserError(
        f"must be at most about {fits} on this machine, got {n}: their grid would take about "
        f"{gib(need)}, more than the {gib(budget)} allowed ({MEMORY_SHARE:.0%} of its memory)",
        setting="n",
    )


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Maps generator output in [-1, 1] to uint8 pixels, as the tutorial's `* 127.5 + 127.5`."""
    return np.clip(np.rint(np.asarray(images) * 127.5 + 127.5), 0, 255).astype(np.uint8)


def image_grid(images: np.ndarray, cols: int | None = None, pad: int = 2) -> np.ndarray:
    """Tiles images into one picture.

    Args:
        images: (N, H, W), (N, H, W, 1) or (N, H, W, 3), float in [-1, 1] or uint8.
        cols: images per row (default: a square grid, 4x4 for 16).
        pad: pixels of white between images.

    Returns:
        A uint8 (rows*(H+pad)+pad, cols*(W+pad)+pad) array for grey images, with a last
        axis of 3 for colour ones.

    Raises:
        UserError: `cols` outside 1 to N, or a grid too large for memory (`check_grid`).
    """
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.dtype != np.uint8:
        images = to_uint8(images)
    n, h, w = images.shape[:3]
    colour = images.shape[3:]  # () for grey, (3,) for colour
    check_grid(n, cols, pad=pad, scale=1, size=(h, w), channels=colour[0] if colour else 1)
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, *colour), 255, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        grid[top : top + h, left : left + w] = image
    return grid


def upscale(image: np.ndarray, scale: int = GRID_SCALE) -> np.ndarray:
    """Repeats each pixel of an (H, W) or (H, W, C) image `scale` x `scale` times (nearest
    neighbour)."""
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def write_png(image: np.ndarray, path: str | Path) -> Path:
    """Writes a uint8 image as a PNG, atomically; returns the path."""
    # The file is opened here, not by imageio: a folder that refuses it then fails once,
    # without imageio retrying (and failing again) when its writer is collected.
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        iio.imwrite(f, image, extension=".png")
    return Path(path)


def save_image_grid(
    images: np.ndarray, path: str | Path, scale: int = GRID_SCALE, **grid_kw
) -> Path:
    """Writes `image_grid(images)` as a PNG, each pixel `scale`x`scale` (nearest).

    Returns:
        The path written.

    Raises:
        UserError: `cols` outside 1 to N, or a grid too large for memory (`check_grid`).
    """
    shape = np.shape(images)
    channels = shape[3] if len(shape) == 4 else 1
    pad = grid_kw.get("pad", 2)
    check_grid(
        shape[0], grid_kw.get("cols"), pad=pad, scale=scale, size=shape[1:3], channels=channels
    )
    return write_png(upscale(image_grid(images, **grid_kw), scale), path)


def save_gif(frames: Sequence[str | Path | np.ndarray], path: str | Path, fps: float = 4) -> Path:
    """Writes frames (image files or arrays of one size) as a looping GIF.

    The last frame is held four times longer so the final result is readable.

    Returns:
        The path written.

    Raises:
        UserError: `fps` outside [MIN_FPS, MAX_FPS].
    """
    if not MIN_FPS <= fps <= MAX_FPS:
        raise UserError(
            f"must be from {MIN_FPS:g} to {MAX_FPS:g} frames a second, got {fps!r}", setting="fps"
        )
    if not frames:
        raise ValueError("no frames to put in a GIF")
    arrays = [iio.imread(f) if isinstance(f, (str, Path)) else np.asarray(f) for f in frames]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"GIF frames differ in size: {sorted(shapes)}")
    durations = [1000 / fps] * len(arrays)
    durations[-1] *= 4
    if len(durations) == 1:  # Pillow wants a number, not a list, for one frame
        durations = durations[0]
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        iio.imwrite(f, np.stack(arrays), extension=".gif", duration=durations, loop=0)
    return Path(path)


def read_frames(paths: Sequence[str | Path]) -> tuple[list[np.ndarray], list[Path]]:
    """Reads image files for a GIF: (the images that read and have the size most of them
    share, the paths that did not). On a tie the earliest frame's size wins, so one odd frame
    never decides the size of the others."""
    arrays, bad = [], []
    for path in paths:
        try:
            arrays.append((Path(path), iio.imread(path, plugin="pillow")))
        except Exception:  # imageio raises many types on a damaged file
            bad.append(Path(path))
    shapes = Counter(array.shape for _, array in arrays)
    size = shapes.most_common(1)[0][0] if shapes else None
    bad += [path for path, array in arrays if array.shape != size]
    return [array for _, array in arrays if array.shape == size], sorted(bad)


def check_gif_target(path: Path) -> None:
    """Refuses to write a GIF where it would replace something that is not a GIF.

    Raises:
        UserError: the name does not end in .gif, or names a folder or a file that is not
            a GIF (a run's metrics.csv, say).
    """
    if path.suffix.lower() != ".gif":
        raise UserError(f"{path}: a GIF's file name must end in .gif")
    if path.is_dir():
        raise UserError(f"{path} is a folder, not a GIF file")
    if path.exists():
        with open(path, "rb") as f:
            if f.read(4) != b"GIF8":
                raise UserError(f"{path} exists and is not a GIF: refusing to write over it")


def every_nth(epochs: Sequence[int], every: int) -> list[int]:
    """The epochs a GIF of one frame every `every` epochs shows: the first, each multiple of
    `every`, and the last (1, 5, 10, ..., 100 for epochs 1 to 100 and every 5)."""
    if not epochs:
        return []
    first, last = epochs[0], epochs[-1]
    return [e for e in epochs if e in (first, last) or e % every == 0]


def shrunk(image: np.ndarray, size: int) -> np.ndarray:
    """`image` resized (Lanczos, by Pillow) so that its longer side is at most `size` pixels;
    a smaller image is returned as it is."""
    from PIL import Image

    height, width = image.shape[:2]
    if max(height, width) <= size:
        return image
    scale = size / max(height, width)
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(image).resize(target, Image.Resampling.LANCZOS))


def make_gif(
    run_dir: str | Path,
    out: str | Path | None = None,
    fps: float = 4,
    every: int = 1,
    size: int | None = None,
) -> Path:
    """Writes a run's progress GIF (dcgan.gif) from its image_at_epoch_NNNN.png, in epoch order.

    An unreadable frame (or one of another size) is left out, with a warning naming it.

    Args:
        run_dir: a run folder.
        out: where to write (default: RUN_DIR/dcgan.gif).
        fps: frames per second.
        every: one frame every `every` epochs (`every_nth`: the first and last always);
            1, every frame.
        size: the longest side of each frame in pixels, if smaller than drawn (None: as
            drawn). With `every`, a GIF small enough to put on a web page.

    Returns:
        The GIF's path.

    Raises:
        FileNotFoundError: the folder holds no readable progress image.
        UserError: `out` is not a GIF's name, or would replace a file that is not a GIF.
    """
    from gan_tf.rundir import FRAME_GLOB, RunDir

    run = RunDir(run_dir)
    out = Path(out) if out is not None else run.gif
    check_gif_target(out)
    if every < 1 or (size is not None and size < 1):
        raise ValueError(f"every and size must be at least 1, got {every!r} and {size!r}")
    frames = run.frames()
    arrays, bad = read_frames([frames[e] for e in every_nth(list(frames), every)])
    if bad:
        names = ", ".join(p.name for p in bad)
        warnings.warn(
            f"{run}: left out of the GIF, unreadable or not the others' size: {names}",
            stacklevel=2,
        )
    if not arrays:
        raise FileNotFoundError(f"{run}: no readable {FRAME_GLOB} to make a GIF from")
    if size is not None:
        arrays = [shrunk(a, size) for a in arrays]
    return save_gif(arrays, out, fps=fps)
