"""Image grids and GIFs from arrays; knows nothing about models."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from gan_tf.files import atomic_path


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


def save_image_grid(images: np.ndarray, path: str | Path, scale: int = 4, **grid_kw) -> Path:
    """Writes `image_grid(images)` as a PNG, each pixel `scale`x`scale` (nearest).

    Returns:
        The path written.
    """
    grid = image_grid(images, **grid_kw)
    grid = np.kron(grid, np.ones((scale, scale), np.uint8))
    with atomic_path(path) as tmp:
        iio.imwrite(tmp, grid)
    return Path(path)


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
    with atomic_path(path) as tmp:
        iio.imwrite(tmp, np.stack(arrays), duration=durations, loop=0)
    return Path(path)
