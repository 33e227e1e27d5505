"""Image grids and GIFs from arrays; knows nothing about models."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from gan_tf.files import atomic_path

# Progress grids are saved with each pixel drawn GRID_SCALE x GRID_SCALE, to be readable.
GRID_SCALE = 4


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Maps generator output in [-1, 1] to uint8 pixels, as the tutorial's `* 127.5 + 127.5`."""
    return np.clip(np.rint(np.asarray(images) * 127.5 + 127.5), 0, 255).astype(np.uint8)


def image_grid(images: np.ndarray, cols: int | None = None, pad: int = 2) -> np.ndarray:
    """Tiles images into one picture.

    Args:
        images: (N, H, W) or (N, H, W, 1), float in [-1, 1] or uint8.
        cols: images per row (default: a square grid, 4x4 for 16).
        pad: pixels of white between images.

    Returns:
        A uint8 (rows*(H+pad)+pad, cols*(W+pad)+pad) array.
    """
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[..., 0]
    if images.dtype != np.uint8:
        images = to_uint8(images)
    n, h, w = images.shape
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), 255, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        grid[top : top + h, left : left + w] = image
    return grid


def upscale(image: np.ndarray, scale: int = GRID_SCALE) -> np.ndarray:
    """Repeats each pixel of a 2-D image `scale` x `scale` times (nearest neighbour)."""
    return np.kron(image, np.ones((scale, scale), image.dtype))


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
    """
    return write_png(upscale(image_grid(images, **grid_kw), scale), path)


def save_gif(frames: Sequence[str | Path | np.ndarray], path: str | Path, fps: float = 4) -> Path:
    """Writes frames (image files or arrays of one size) as a looping GIF.

    The last frame is held four times longer so the final result is readable.

    Returns:
        The path written.
    """
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
    """Reads image files for a GIF: (the images that read and match the last one's size,
    the paths that did not)."""
    arrays, bad = [], []
    for path in paths:
        try:
            arrays.append((Path(path), iio.imread(path)))
        except Exception:  # imageio raises many types on a damaged file
            bad.append(Path(path))
    size = arrays[-1][1].shape if arrays else None
    bad += [path for path, array in arrays if array.shape != size]
    return [array for _, array in arrays if array.shape == size], bad


def make_gif(run_dir: str | Path, out: str | Path | None = None, fps: float = 4) -> Path:
    """Writes a run's progress GIF (dcgan.gif) from its image_at_epoch_NNNN.png, in epoch order.

    An unreadable frame (or one of another size) is left out, with a warning naming it.

    Args:
        run_dir: a run folder.
        out: where to write (default: RUN_DIR/dcgan.gif).
        fps: frames per second.

    Returns:
        The GIF's path.

    Raises:
        FileNotFoundError: the folder holds no readable progress image.
    """
    from gan_tf.rundir import FRAME_GLOB, RunDir

    run = RunDir(run_dir)
    arrays, bad = read_frames(list(run.frames().values()))
    if bad:
        names = ", ".join(p.name for p in bad)
        warnings.warn(f"{run}: left out of the GIF, unreadable: {names}", stacklevel=2)
    if not arrays:
        raise FileNotFoundError(f"{run}: no readable {FRAME_GLOB} to make a GIF from")
    return save_gif(arrays, out or run.gif, fps=fps)
