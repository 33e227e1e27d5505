"""A folder of a user's own image files as a `Data`: `load_image_folder`.

It reads every image under a folder (recursively, in sorted order), crops each to a centred
square, resizes it to `image_size` and keeps the lot as one uint8 array
(N, image_size, image_size, C). Class subfolders, as torchvision's ImageFolder reads them,
give integer labels. The decoded array can be cached as an .npz outside the data folder
(`gan_tf.datasets.cache`), so a second run with the same files and options skips the
decoding. Here: listing the files, labels, decoding each file with Pillow, and the messages
about files skipped or unreadable; the crop and resize rules are `gan_tf.datasets.prepare`'s.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_tf.datasets import Data, empty_folder
from gan_tf.datasets.cache import cache_key, read_cache, safe_name, write_cache
from gan_tf.datasets.prepare import (
    NAMED,
    TooSmall,
    check_options,
    fit,
    map_with_progress,
    raise_too_small,
    stack,
    to_grey_or_rgb,
)
from gan_tf.errors import ConfigError, DataError, one_line

# Suffixes read, compared in lower case (photo.JPG counts). A GIF or WebP gives its first
# frame.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
# Files an operating system leaves in folders of pictures (Finder, Windows Explorer). They
# are skipped and counted, as is any name that starts with "." (macOS's "._photo.jpg"
# companions on non-Apple disks look like images but are not); on their own they raise no
# warning. A folder whose name starts with "." (.ipynb_checkpoints, .git) is not searched.
IGNORED_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")
_IGNORED_LOWER = frozenset(name.lower() for name in IGNORED_NAMES)

# With skip_unreadable, at most this share of the image files may fail to decode: a larger
# share means something systematic (a Pillow without WebP support, files that are not what
# their names say), which leaving files out would hide.
_SKIP_AT_MOST = 0.05


def load_image_folder(
    folder: str | Path,
    image_size: int,
    crop: int | None = None,
    channels: int | None = None,
    cache_dir: str | Path | None = None,
    skip_unreadable: bool = False,
) -> Data:
    """Decodes every image under `folder` into one uint8 array of square images.

    Each image is decoded with Pillow (a GIF's or WebP's first frame; transparency laid on
    white; 16-bit greyscale scaled to 8 bits; a photo's EXIF rotation applied), centre
    cropped, and resized to image_size x image_size.

    Args:
        folder: the folder; searched recursively, files in sorted order. If the images are
            all in its immediate subfolders (none directly in it), each subfolder is a
            class: its index among the sorted subfolders that hold images is the label.
        image_size: the side of the returned images, in pixels.
        crop: None: the largest centred square (the shorter side). A number: first a
            centred crop x crop square, then the resize; every image must be at least that
            large.
        channels: None: 1 if no image has colour (every pixel has R == G == B), else 3.
            1: colour becomes grey by Pillow's standard (ITU-R 601-2) weights. 3: grey is
            repeated into R, G and B.
        cache_dir: if given, the decoded array is kept there as an .npz, named by a hash of
            each file's relative path, size and modification time and of the options; a
            later call with the same files and options reads it instead of decoding. It
            must lie outside `folder`.
        skip_unreadable: leave out files Pillow cannot decode, with a warning that names
            them, instead of refusing. Folders gathered from the web often hold a few
            truncated files or HTML pages saved as .jpg, and hunting them down is a chore;
            but leaving images out silently would hide a damaged copy, so it must be asked
            for, the warning names the files, and more than 5% unreadable is refused anyway.

    Returns:
        `Data(x_train, y_train, None, None, source=str(folder))`: x_train uint8
        (N, image_size, image_size, C); y_train int64 (N,) class indices, or None when the
        folder has no class subfolders. Non-image files are skipped; if any besides system
        clutter (.DS_Store, dotfiles) were, a warning counts them.

    Raises:
        ConfigError: image_size, crop or channels is not a valid value (its `setting`
            names which), or cache_dir lies inside `folder`.
        DataError: the folder is missing, a file, empty, or holds no images; images fail to
            decode (up to 3 named, with the count); an image is smaller than `crop`.
    """
    image_size, crop, channels = check_options(image_size, crop, channels)
    folder = Path(folder)
    if not folder.exists():
        raise DataError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise DataError(f"{folder}: a file, not a folder of images")
    cache_path = None
    if cache_dir is not None:
        cache_path = _cache_dir(Path(cache_dir), folder)
    images, skipped, stats = _list_files(folder, with_stats=cache_path is not None)
    if not images:
        if not skipped:
            raise empty_folder(folder)
        raise DataError(
            f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)}) in it or its subfolders; "
            f"{_not_images(skipped)} ({_names(skipped)})"
        )
    _warn_skipped(folder, skipped)
    labels = _labels(images)

    if cache_path is not None:
        key = cache_key(images, stats, image_size, crop, channels)
        cache_path = cache_path / f"{safe_name(folder.name)}-{image_size}px-{key[:20]}.npz"
        cached = read_cache(cache_path, len(images), image_size, channels)
        if cached is not None:
            x, kept, unreadable = cached
            _check_unreadable(folder, unreadable, len(images), skip_unreadable)
            return Data(x, _kept_labels(labels, kept), None, None, source=str(folder))

    names = ["/".join(parts) for parts in images]
    results = map_with_progress(
        lambda name: _decode_file(folder / name, image_size, crop, channels),
        names,
    )
    unreadable, small, kept, arrays = [], [], [], []
    for i, (name, result) in enumerate(zip(names, results, strict=True)):
        if isinstance(result, _Unreadable):
            unreadable.append((name, result.reason))
        elif isinstance(result, TooSmall):
            small.append((name, result.size))
        else:
            kept.append(i)
            arrays.append(result)
    _check_unreadable(folder, unreadable, len(images), skip_unreadable)
    if small:
        raise_too_small(str(folder), small, len(images), crop)
    x = stack(arrays, image_size, channels)
    kept = np.asarray(kept, dtype=np.int64)
    if cache_path is not None:
        write_cache(cache_path, x, kept, unreadable)
    return Data(x, _kept_labels(labels, kept), None, None, source=str(folder))


def _cache_dir(cache_dir: Path, folder: Path) -> Path:
    # A cache inside the data folder would be listed (and counted as a skipped file) by the
    # next call, and would land in the user's copies and backups of their data.
    if cache_dir.resolve().is_relative_to(folder.resolve()):
        raise ConfigError(
            f"{cache_dir} lies inside the image folder {folder}; choose a folder outside it",
            setting="cache_dir",
        )
    return cache_dir


# ---------------------------------------------------------------------------- listing


def _list_files(folder: Path, with_stats: bool):
    """The image files and the skipped files under `folder`, each as a tuple of path parts,
    sorted; and, if asked, each image's (size, mtime_ns)."""
    images, skipped, stats = [], [], {}
    visited = set()  # real paths of folders seen: a symlink loop is followed once

    def visit(directory: Path, parts: tuple[str, ...]) -> None:
        real = os.path.realpath(directory)
        if real in visited:
            return
        visited.add(real)
        try:
            entries = list(os.scandir(directory))
        except OSError as e:
            raise DataError(f"{directory}: cannot list the folder ({e.strerror or e})") from None
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()  # follows symlinks: linked class folders count
                is_file = not is_dir and entry.is_file()
            except OSError:
                is_dir = is_file = False
            if is_dir:
                if not name.startswith("."):
                    visit(Path(entry.path), (*parts, name))
                continue
            rel = (*parts, name)
            # Only regular files: opening a FIFO named x.png would block forever.
            if is_file and not name.startswith(".") and _suffix(name) in IMAGE_SUFFIXES:
                images.append(rel)
                if with_stats:
                    try:
                        st = entry.stat()
                        stats[rel] = (st.st_size, st.st_mtime_ns)
                    except OSError:  # it fails to decode later, with the reason
                        stats[rel] = (-1, -1)
            else:
                skipped.append(rel)

    visit(folder, ())
    # Sorting the parts, not the joined string, puts a folder's files together ("a/x.png"
    # before "a.b/y.png"), the same on every platform.
    return sorted(images), sorted(skipped), stats


def _suffix(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def _is_clutter(parts: tuple[str, ...]) -> bool:
    name = parts[-1]
    return name.startswith(".") or name.lower() in _IGNORED_LOWER


def _warn_skipped(folder: Path, skipped: list[tuple[str, ...]]) -> None:
    # System clutter alone is expected in any folder of pictures and not worth a warning;
    # a stray notes.txt or .tiff may be an image the user meant to include.
    if not skipped or all(map(_is_clutter, skipped)):
        return
    warnings.warn(
        f"{folder}: {_not_images(skipped)} ({_names(skipped)})",
        stacklevel=3,
    )


def _not_images(skipped: list) -> str:
    if len(skipped) == 1:
        return "skipped 1 file that is not an image"
    return f"skipped {len(skipped):,} files that are not images"


def _names(files: list[tuple[str, ...]]) -> str:
    """Up to 3 of `files`, the ones that are not clutter first, and how many more."""
    shown = sorted(files, key=_is_clutter)[:NAMED]
    text = ", ".join("/".join(parts) for parts in shown)
    return text + (f" and {len(files) - len(shown):,} more" if len(files) > len(shown) else "")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _labels(images: list[tuple[str, ...]]) -> np.ndarray | None:
    """Class indices when every image lies in a subfolder; None otherwise."""
    if any(len(parts) == 1 for parts in images):
        return None
    classes = {name: i for i, name in enumerate(sorted({parts[0] for parts in images}))}
    return np.array([classes[parts[0]] for parts in images], dtype=np.int64)


def _kept_labels(labels: np.ndarray | None, kept: np.ndarray) -> np.ndarray | None:
    return None if labels is None else labels[kept]


# ---------------------------------------------------------------------------- decoding


class _Unreadable:
    def __init__(self, reason: str):
        self.reason = reason


# EXIF orientations 5 to 8 turn the picture a quarter, swapping its width and height.
_EXIF_ORIENTATION = 0x0112
_QUARTER_TURNS = (5, 6, 7, 8)


def _decode_file(path: Path, image_size: int, crop: int | None, channels: int | None):
    """One file as a uint8 (S, S) or (S, S, 3) array, or why it cannot be."""
    try:
        opened = Image.open(path)
    except Exception as e:  # Pillow's plugins raise many types on damaged files
        return _Unreadable(_reason(e, path))
    with opened:
        try:
            orientation = _orientation(opened)
            width, height = opened.size
            if orientation in _QUARTER_TURNS:
                width, height = height, width
            side = crop or min(width, height)
            if side > min(width, height):
                return TooSmall((width, height))
            shrink = _draft(opened, side, image_size)
            opened.load()
            image = opened
            if orientation not in (None, 1):
                image = ImageOps.exif_transpose(opened)
            image = to_grey_or_rgb(image)
        except Exception as e:
            return _Unreadable(_reason(e, path))
        # Still inside the `with`: an image that needed no conversion is the opened one,
        # whose pixels go when it closes. Outside the `try`: a failure here is a bug, not
        # a damaged file.
        return fit(image, image_size, crop, channels, (width, height), shrink)


def _draft(image: Image.Image, side: int, image_size: int) -> float:
    """Asks a JPEG to decode at 1/2, 1/4 or 1/8 of its size, which takes a fraction of the
    time (a 12-megapixel photo for 64-pixel images); returns the factor it shrank by.

    At least twice the final resolution is kept, so the resize still does the filtering.
    """
    if image.format != "JPEG" or side < 4 * image_size:
        return 1.0
    wanted = 2 * image_size / side
    full_width = image.size[0]
    request = (math.ceil(image.size[0] * wanted), math.ceil(image.size[1] * wanted))
    drafted = image.draft(None, request)
    # The draft's box is the whole picture in the reduced size: (0, 0, width / k, height / k).
    return full_width / drafted[1][2] if drafted is not None and drafted[1][2] else 1.0


def _orientation(image: Image.Image) -> int | None:
    try:
        return image.getexif().get(_EXIF_ORIENTATION)
    except Exception:  # damaged EXIF: show the picture as stored rather than refuse it
        return None


def _reason(error: Exception, path: Path) -> str:
    """Why a file failed, short and without its path (the message names it once)."""
    if isinstance(error, UnidentifiedImageError):
        return "cannot identify image file"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = one_line(error)
    for spelling in (repr(str(path)), str(path)):
        text = text.replace(spelling, "").strip(" :")
    return text[:80] or type(error).__name__


def _check_unreadable(folder: Path, unreadable, total: int, skip: bool) -> None:
    if not unreadable:
        return
    shown = ", ".join(f"{name} ({reason})" for name, reason in unreadable[:NAMED])
    more = f" and {len(unreadable) - NAMED:,} more" if len(unreadable) > NAMED else ""
    count = f"{len(unreadable):,} of {_count(total, 'image file')}"
    few = len(unreadable) <= _SKIP_AT_MOST * total
    if skip and few:
        warnings.warn(
            f"{folder}: left out {count}, which could not be read: {shown}{more}", stacklevel=3
        )
        return
    if skip:
        advice = f"more than {_SKIP_AT_MOST:.0%} of the images, too many to leave out"
    elif few:
        advice = "remove or fix them, or pass skip_unreadable=True to leave them out"
    else:
        advice = "remove or fix them"
    raise DataError(f"{folder}: {count} could not be read: {shown}{more}; {advice}")
