"""A user's own images as a `Data`: a folder of image files, or CIFAR-10's python batches.

`load_image_folder` reads every image under a folder (recursively, in sorted order),
crops each to a centred square, resizes it to `image_size` and keeps the lot as one uint8
array (N, image_size, image_size, C). Class subfolders, as torchvision's ImageFolder
reads them, give integer labels. The decoded array can be cached as an .npz outside the
data folder, so a second run with the same files and options skips the decoding.

`load_cifar10` reads CIFAR-10's pickled batches from their folder or straight from the
downloaded .tar.gz; `prepare_images` applies the folder's crop, resize and channel rules to
arrays already in memory (CIFAR-10 at another size, say).

Pure numpy and Pillow: nothing here imports TensorFlow.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import math
import operator
import os
import pickle
import re
import sys
import tarfile
import warnings
import zlib
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_tf.data import Data
from gan_tf.errors import ConfigError, DataError, one_line
from gan_tf.files import atomic_path

# Suffixes read, compared in lower case (photo.JPG counts). A GIF or WebP gives its first
# frame.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
# Files an operating system leaves in folders of pictures (Finder, Windows Explorer). They
# are skipped and counted, as is any name that starts with "." (macOS's "._photo.jpg"
# companions on non-Apple disks look like images but are not); on their own they raise no
# warning. A folder whose name starts with "." (.ipynb_checkpoints, .git) is not searched.
IGNORED_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")
_IGNORED_LOWER = frozenset(name.lower() for name in IGNORED_NAMES)

# Above this many image files a progress bar goes to stderr; a smaller folder decodes in a
# second or two and stays quiet.
_PROGRESS_OVER = 2000
# With skip_unreadable, at most this share of the image files may fail to decode: a larger
# share means something systematic (a Pillow without WebP support, files that are not what
# their names say), which leaving files out would hide.
_SKIP_AT_MOST = 0.05
# Bump when the decoding changes, so that caches written by older code are not read.
_CACHE_FORMAT = 1
# Files named in one message, before "and N more".
_NAMED = 3


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
    image_size, crop, channels = _check_options(image_size, crop, channels)
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
            raise DataError(f"{folder}: empty folder (no files in it or its subfolders)")
        raise DataError(
            f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)}) in it or its subfolders; "
            f"{_not_images(skipped)} ({_names(skipped)})"
        )
    _warn_skipped(folder, skipped)
    labels = _labels(images)

    if cache_path is not None:
        key = _cache_key(images, stats, image_size, crop, channels)
        cache_path = cache_path / f"{_safe_name(folder.name)}-{image_size}px-{key[:20]}.npz"
        cached = _read_cache(cache_path, len(images), image_size, channels)
        if cached is not None:
            x, kept, unreadable = cached
            _check_unreadable(folder, unreadable, len(images), skip_unreadable)
            return Data(x, _kept_labels(labels, kept), None, None, source=str(folder))

    names = ["/".join(parts) for parts in images]
    results = _map_with_progress(
        lambda name: _decode_file(folder / name, image_size, crop, channels),
        names,
    )
    unreadable, small, kept, arrays = [], [], [], []
    for i, (name, result) in enumerate(zip(names, results, strict=True)):
        if isinstance(result, _Unreadable):
            unreadable.append((name, result.reason))
        elif isinstance(result, _TooSmall):
            small.append((name, result.size))
        else:
            kept.append(i)
            arrays.append(result)
    _check_unreadable(folder, unreadable, len(images), skip_unreadable)
    if small:
        _raise_too_small(str(folder), small, len(images), crop)
    x = _stack(arrays, image_size, channels)
    kept = np.asarray(kept, dtype=np.int64)
    if cache_path is not None:
        _write_cache(cache_path, x, kept, unreadable)
    return Data(x, _kept_labels(labels, kept), None, None, source=str(folder))


def prepare_images(
    images, image_size: int, crop: int | None = None, channels: int | None = None
) -> np.ndarray:
    """Crops, resizes and sets the channels of images in memory, as `load_image_folder`
    does to each file.

    Args:
        images: a sequence (or an array) of uint8 images, each (H, W) or (H, W, C) with C 1
            (grey), 2 (grey and alpha), 3 (RGB) or 4 (RGBA); alpha is laid on white. Sizes
            may differ.
        image_size, crop, channels: as for `load_image_folder`.

    Returns:
        uint8 (N, image_size, image_size, C); C is `channels`, or when that is None 1 if no
        image has colour, else 3 (3 for no images).

    Raises:
        ConfigError: image_size, crop or channels is not a valid value.
        DataError: an image is not uint8, has an unknown shape, or is smaller than `crop`
            (named by its index).
    """
    image_size, crop, channels = _check_options(image_size, crop, channels)
    results = _map_with_progress(
        lambda item: _prepare_array(item, image_size, crop, channels),
        list(enumerate(images)),
    )
    small = [(f"image {i}", r.size) for i, r in enumerate(results) if isinstance(r, _TooSmall)]
    if small:
        _raise_too_small("images", small, len(results), crop)
    return _stack(results, image_size, channels)


def load_cifar10(path: str | Path) -> Data:
    """CIFAR-10 from its python version: the batches' folder or the downloaded archive.

    The archive is read as it is, without unpacking it to disk. The pickles are read by an
    unpickler that builds only what a CIFAR-10 batch holds (dicts, lists, bytes, numpy
    arrays), so a doctored file cannot run code.

    Args:
        path: the folder `cifar-10-batches-py` (data_batch_1 ... data_batch_5, test_batch),
            a folder that contains it (or contains cifar-10-python.tar.gz), or the
            `cifar-10-python.tar.gz` archive itself.

    Returns:
        `Data`: x_train uint8 (50000, 32, 32, 3) RGB, y_train int64 (50000,), x_test
        (10000, 32, 32, 3), y_test (10000,); fewer images if the batches hold fewer.

    Raises:
        DataError: the path is missing, a batch is missing, or a file is corrupt or not a
            CIFAR-10 batch; the message names the file.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        if (path / "cifar-10-batches-py").is_dir():
            path = path / "cifar-10-batches-py"
        elif not (path / "data_batch_1").exists() and (path / _CIFAR_ARCHIVE).is_file():
            path = path / _CIFAR_ARCHIVE
    batches = _read_cifar_dir(path) if path.is_dir() else _read_cifar_archive(path)
    x_train, y_train = _join(batches[name] for name in _CIFAR_TRAIN)
    x_test, y_test = batches[_CIFAR_TEST]
    return Data(x_train, y_train, x_test, y_test, source=str(path))


# ---------------------------------------------------------------------------- options


def _check_options(image_size, crop, channels) -> tuple[int, int | None, int | None]:
    image_size = _positive_int(image_size, "image_size")
    if crop is not None:
        crop = _positive_int(crop, "crop")
    if channels is not None:
        if _positive_int(channels, "channels", "None, 1 or 3") not in (1, 3):
            raise ConfigError(f"must be None, 1 or 3, got {channels!r}", setting="channels")
        channels = int(channels)
    return image_size, crop, channels


def _positive_int(value, setting: str, valid: str = "a positive whole number") -> int:
    # operator.index takes ints and numpy ints, refuses floats (a 64.5-pixel side) and
    # strings; bool is an int to Python but never a size.
    try:
        number = None if isinstance(value, bool) else operator.index(value)
    except TypeError:
        number = None
    if number is None or number < 1:
        raise ConfigError(f"must be {valid}, got {value!r}", setting=setting)
    return number


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
    shown = sorted(files, key=_is_clutter)[:_NAMED]
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


class _TooSmall:
    def __init__(self, size: tuple[int, int]):
        self.size = size


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
                return _TooSmall((width, height))
            shrink = _draft(opened, side, image_size)
            opened.load()
            image = opened
            if orientation not in (None, 1):
                image = ImageOps.exif_transpose(opened)
            image = _to_grey_or_rgb(image)
        except Exception as e:
            return _Unreadable(_reason(e, path))
        # Still inside the `with`: an image that needed no conversion is the opened one,
        # whose pixels go when it closes. Outside the `try`: a failure here is a bug, not
        # a damaged file.
        return _fit(image, image_size, crop, channels, (width, height), shrink)


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


def _to_grey_or_rgb(image: Image.Image) -> Image.Image:
    """`image` in mode "L" or "RGB": transparency laid on white, 16 bits scaled to 8."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        # PNG's 16-bit greyscale. Pillow's convert("L") would clip at 255 rather than
        # scale; 65535 / 257 = 255 maps the range exactly.
        values = np.asarray(image).astype(np.float64)
        return Image.fromarray(np.clip(np.rint(values / 257), 0, 255).astype(np.uint8), "L")
    if mode in ("1", "L", "F") and "transparency" not in image.info:
        return image.convert("L")
    if mode == "RGB" and "transparency" not in image.info:
        return image
    has_alpha = mode in ("LA", "La", "PA", "RGBA", "RGBa") or "transparency" in image.info
    if has_alpha:
        # convert("RGBA") also turns a palette's or a PNG's transparent colour into alpha.
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")  # palette, CMYK, YCbCr, LAB, HSV


def _fit(
    image: Image.Image,
    image_size: int,
    crop: int | None,
    channels: int | None,
    original: tuple[int, int] | None = None,
    scale: float = 1.0,
) -> np.ndarray:
    """The centred square (crop x crop, or the shorter side) of an "L" or "RGB" image,
    resized to image_size; `original` is the size the crop is measured in, `scale` the
    shrink of `image` from it (a JPEG decoded at reduced size)."""
    width, height = original or image.size
    side = crop or min(width, height)
    # The centre; an odd leftover pixel goes to the right and bottom.
    left, top = (width - side) // 2, (height - side) // 2
    if channels == 1 and image.mode == "RGB":
        image = image.convert("L")  # before the resize: a third of the work
    if scale == 1.0 and side == image_size:
        image = image.crop((left, top, left + side, top + side))
    else:
        box = tuple(v / scale for v in (left, top, left + side, top + side))
        # LANCZOS when shrinking: its kernel widens with the shrink factor, so it filters
        # out detail finer than the new pixels instead of aliasing it. BICUBIC when
        # enlarging: as sharp, with less ringing around hard edges (emoji, line art).
        resample = Image.Resampling.LANCZOS if side > image_size else Image.Resampling.BICUBIC
        image = image.resize((image_size, image_size), resample, box=box)
    array = np.asarray(image)
    if array.ndim == 3 and channels is None and _is_grey(array):
        array = array[..., 0]  # what Pillow's L conversion gives when R == G == B
    return array


def _is_grey(rgb: np.ndarray) -> bool:
    return bool(
        np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])
    )


def _prepare_array(item, image_size, crop, channels):
    index, array = item
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise DataError(f"image {index}: dtype {array.dtype}, expected uint8")
    modes = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in modes or 0 in array.shape:
        raise DataError(
            f"image {index}: shape {array.shape}, expected (H, W) or (H, W, C) with C 1-4"
        )
    height, width, depth = array.shape
    side = crop or min(width, height)
    if side > min(width, height):
        return _TooSmall((width, height))
    image = Image.fromarray(
        np.ascontiguousarray(array if depth > 1 else array[..., 0]), modes[depth]
    )
    return _fit(_to_grey_or_rgb(image), image_size, crop, channels)


def _raise_too_small(where: str, small, total: int, crop: int) -> None:
    shown = ", ".join(f"{name} ({w}x{h})" for name, (w, h) in small[:_NAMED])
    more = f" and {len(small) - _NAMED:,} more" if len(small) > _NAMED else ""
    what = "image is" if len(small) == 1 else "images are"
    raise DataError(
        f"{where}: {len(small):,} of {total:,} {what} smaller than crop={crop} "
        f"({crop}x{crop} pixels): {shown}{more}; choose a smaller crop or remove them"
    )


def _check_unreadable(folder: Path, unreadable, total: int, skip: bool) -> None:
    if not unreadable:
        return
    shown = ", ".join(f"{name} ({reason})" for name, reason in unreadable[:_NAMED])
    more = f" and {len(unreadable) - _NAMED:,} more" if len(unreadable) > _NAMED else ""
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


def _stack(arrays: list[np.ndarray], image_size: int, channels: int | None) -> np.ndarray:
    """(N, S, S, C) from (S, S) grey and (S, S, 3) colour arrays."""
    depth = channels or (1 if all(a.ndim == 2 for a in arrays) and arrays else 3)
    out = np.empty((len(arrays), image_size, image_size, depth), dtype=np.uint8)
    for i, array in enumerate(arrays):
        out[i] = array[..., None] if array.ndim == 2 else array  # grey repeats into R, G, B
    return out


def _map_with_progress(function, items: list) -> list:
    """`function` over `items` in order, with a progress bar on stderr for many items."""
    bar = _progress(len(items))
    results = []
    for item in items:
        results.append(function(item))
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return results


def _progress(total: int):
    if total <= _PROGRESS_OVER:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc="decoding images",
        unit="img",
        file=sys.stderr,
        leave=False,
        mininterval=0.5,
    )


# ---------------------------------------------------------------------------- cache


def _cache_key(images, stats, image_size, crop, channels) -> str:
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


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")[:40] or "images"


def _read_cache(path: Path, n_files: int, image_size: int, channels: int | None):
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


def _write_cache(path: Path, x: np.ndarray, kept: np.ndarray, unreadable) -> None:
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


# ---------------------------------------------------------------------------- CIFAR-10

_CIFAR_ARCHIVE = "cifar-10-python.tar.gz"
_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_TEST = "test_batch"
_CIFAR_SHAPE = (3, 32, 32)  # a row of 3072 bytes: the red plane, then green, then blue


def _read_cifar_dir(folder: Path) -> dict:
    batches = {}
    for name in (*_CIFAR_TRAIN, _CIFAR_TEST):
        path = folder / name
        if not path.is_file():
            raise DataError(f"{path}: missing (a CIFAR-10 python folder holds {_cifar_list()})")
        try:
            with open(path, "rb") as f:
                batches[name] = _parse_batch(f, path)
        except OSError as e:
            raise DataError(f"{path}: cannot read ({e.strerror or one_line(e)})") from None
    return batches


def _read_cifar_archive(archive: Path) -> dict:
    batches = {}
    try:
        # One pass through the members: a .tar.gz cannot jump to a member without
        # decompressing everything before it anyway.
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                name = member.name.rsplit("/", 1)[-1]
                if member.isfile() and name in (*_CIFAR_TRAIN, _CIFAR_TEST) and name not in batches:
                    with tar.extractfile(member) as f:
                        batches[name] = _parse_batch(f, f"{archive}:{member.name}")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        if isinstance(e, tarfile.ReadError) and "opened successfully" in str(e):
            # tarfile's own message lists every compression it tried, a paragraph long.
            reason = "not a tar file, compressed or not"
        elif isinstance(e, OSError) and e.strerror:
            reason = e.strerror
        else:
            reason = one_line(e)[:80]
        raise DataError(f"{archive}: not a readable CIFAR-10 archive ({reason})") from None
    missing = [name for name in (*_CIFAR_TRAIN, _CIFAR_TEST) if name not in batches]
    if missing:
        raise DataError(
            f"{archive}: no {', '.join(missing)} in the archive (CIFAR-10's python version, "
            f"{_CIFAR_ARCHIVE}, holds {_cifar_list()})"
        )
    return batches


def _cifar_list() -> str:
    return f"{_CIFAR_TRAIN[0]} ... {_CIFAR_TRAIN[-1]} and {_CIFAR_TEST}"


def _parse_batch(f, where) -> tuple[np.ndarray, np.ndarray]:
    """A batch's images as uint8 (N, 32, 32, 3) and labels as int64 (N,)."""
    try:
        batch = _BatchUnpickler(f, encoding="bytes").load()
    except Exception as e:  # pickle raises many types on damaged data, some without a word
        reason = " ".join(str(e).split())[:80] or "damaged or truncated"
        raise DataError(f"{where}: not a readable CIFAR-10 batch ({reason})") from None
    if not isinstance(batch, dict):
        raise DataError(f"{where}: holds a {type(batch).__name__}, not a CIFAR-10 batch dict")
    # Keys are bytes in the original (Python 2) files; a copy pickled again under
    # Python 3 has str keys.
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise DataError(f"{where}: no 'data' and 'labels' in it, not a CIFAR-10 batch")
    data = np.asarray(data)
    size = int(np.prod(_CIFAR_SHAPE))
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != size:
        raise DataError(f"{where}: data is {data.dtype} {data.shape}, expected uint8 (N, {size})")
    try:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        raise DataError(f"{where}: labels are not integers") from None
    if len(labels) != len(data):
        raise DataError(f"{where}: {len(data)} images but {len(labels)} labels")
    # (N, 3072) -> (N, 3, 32, 32) channel planes -> (N, 32, 32, 3), the layout images use.
    images = data.reshape(-1, *_CIFAR_SHAPE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def _join(batches) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*batches, strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def _numpy_globals() -> dict:
    """What pickled numpy arrays may refer to, under the names numpy 1 and 2 write."""
    array, scalar = np.zeros(1, np.uint8), np.int64(0)
    reconstruct, frombuffer, make_scalar = (
        array.__reduce__()[0],
        array.__reduce_ex__(5)[0],
        scalar.__reduce__()[0],
    )
    allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for core in ("numpy.core", "numpy._core"):
        allowed[(f"{core}.multiarray", "_reconstruct")] = reconstruct
        allowed[(f"{core}.multiarray", "scalar")] = make_scalar
        allowed[(f"{core}.numeric", "_frombuffer")] = frombuffer
    # Python 3's protocol 2 writes bytes as _codecs.encode(text, "latin1").
    allowed[("_codecs", "encode")] = codecs.encode
    return allowed


class _BatchUnpickler(pickle.Unpickler):
    """Builds only dicts, lists, bytes, numbers and numpy arrays: a pickle that names any
    other function (os.system, say) is refused before it can call it."""

    _allowed = None

    def find_class(self, module, name):
        if _BatchUnpickler._allowed is None:
            _BatchUnpickler._allowed = _numpy_globals()
        allowed = _BatchUnpickler._allowed.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f"it refers to {module}.{name}, which a CIFAR-10 batch never holds"
            )
        return allowed
