"""The decoded-folder cache: an .npz of a folder's decoded images, kept outside the folder.

`cache_key` names the cache by a hash of each file's relative path, size and modification
time, of the decoding options and of Pillow's version; `read_cache` reads one back only if it
is what this code would write for those files, and `write_cache` writes one atomically. The
cache only saves time: a missing, foreign or unwritable one costs a decode, never the images.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from pathlib import Path

import numpy as np
import PIL

from gan_tf.errors import one_line
from gan_tf.files import atomic_path

# Bump when the decoding changes, so that caches written by older code are not read.
_CACHE_FORMAT = 1


def cache_key(images, stats, image_size, crop, channels) -> str:
    """The hex SHA-256 naming a folder's cache.

    Args:
        images: the image files, each a tuple of path parts relative to the folder.
        stats: each file's (size, mtime_ns), by its parts.
        image_size, crop, channels: the decoding options, as checked.

    Returns:
        64 hex digits; the same files (by name, size and time) and options give the same.
    """
    # Pillow's version is part of the key: another version may decode or resize a little
    # differently. The folder's own path is not: a moved or copied folder (same names,
    # sizes and times) keeps its cache.
    description = {
        "format": _CACHE_FORMAT,
        "pillow": PIL.__version__,
        "options": [image_size, crop, channels],
        "files": [["/".join(parts), *stats[parts]] for parts in images],
    }
    return hashlib.sha256(json.dumps(description).encode()).hexdigest()


def safe_name(name: str) -> str:
    """A folder's name made safe for a file name (letters, digits, _ . -), at most 40
    characters; "images" if nothing is left."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")[:40] or "images"


def read_cache(path: Path, n_files: int, image_size: int, channels: int | None):
    """(x, kept indices, unreadable (name, reason) pairs) from a cache file, or None if it
    is missing or not one this code wrote for these files."""
    if not path.is_file():
        return None
    try:
        # Opened here, not by np.load, which leaves its own file open when the zip is bad.
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as f:
            x, kept = f["x"], f["kept"]
            unreadable = [tuple(pair) for pair in f["unreadable"].tolist()]
        depth = x.shape[-1] if x.ndim == 4 else None
        valid = (
            x.dtype == np.uint8
            and x.shape[1:3] == (image_size, image_size)
            and depth in ((1, 3) if channels is None else (channels,))
            and kept.dtype == np.int64
            and kept.shape == (len(x),)
            and len(kept) + len(unreadable) == n_files
            and (len(kept) == 0 or (kept.min() >= 0 and kept.max() < n_files))
            and all(len(pair) == 2 for pair in unreadable)
        )
    except Exception:  # a truncated or foreign file: decode again and rewrite it
        return None
    return (x, kept, unreadable) if valid else None


def write_cache(path: Path, x: np.ndarray, kept: np.ndarray, unreadable) -> None:
    """Writes a cache file atomically: the images `x`, the indices of the files they came
    from (`kept`) and the (name, reason) pairs of the files that failed to decode. A write
    that fails is a warning, not an error."""
    # The unreadable files are kept with the images, so that a call that hits the cache
    # applies skip_unreadable as a call that decodes would.
    pairs = np.array(unreadable, dtype=str).reshape(len(unreadable), 2)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, x=x, kept=kept, unreadable=pairs)
    except OSError as e:
        # The cache only saves time: a full disk or a read-only folder should not cost the
        # images just decoded.
        warnings.warn(
            f"{path}: could not write the image cache ({e.strerror or one_line(e)})",
            stacklevel=3,
        )
