"""Crop, resize and channel rules for images: one image at a time, and arrays in memory.

`load_image_folder` (`gan_tf.datasets.folder`) applies them to each decoded file;
`prepare_images` to images already in memory (CIFAR-10 or MNIST at another size, say). Both
check their options with `check_options` and stack the results with `stack`.
"""

from __future__ import annotations

import operator
import sys

import numpy as np
from PIL import Image

from gan_tf.errors import ConfigError, DataError

# Above this many image files a progress bar goes to stderr; a smaller folder decodes in a
# second or two and stays quiet.
_PROGRESS_OVER = 2000
# Files named in one message, before "and N more".
NAMED = 3


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
    image_size, crop, channels = check_options(image_size, crop, channels)
    results = map_with_progress(
        lambda item: _prepare_array(item, image_size, crop, channels),
        list(enumerate(images)),
    )
    small = [(f"image {i}", r.size) for i, r in enumerate(results) if isinstance(r, TooSmall)]
    if small:
        raise_too_small("images", small, len(results), crop)
    return stack(results, image_size, channels)


def check_options(image_size, crop, channels) -> tuple[int, int | None, int | None]:
    """The options of `prepare_images` and `load_image_folder`, checked once.

    Returns:
        (image_size, crop, channels) as ints, crop and channels None where not given.

    Raises:
        ConfigError: image_size or crop is not a positive whole number, or channels is
            not None, 1 or 3; its `setting` names which.
    """
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


class TooSmall:
    """What an image smaller than the crop gives instead of pixels: its (width, height)."""

    def __init__(self, size: tuple[int, int]):
        self.size = size


def to_grey_or_rgb(image: Image.Image) -> Image.Image:
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


def fit(
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
        return TooSmall((width, height))
    image = Image.fromarray(
        np.ascontiguousarray(array if depth > 1 else array[..., 0]), modes[depth]
    )
    return fit(to_grey_or_rgb(image), image_size, crop, channels)


def raise_too_small(where: str, small, total: int, crop: int) -> None:
    """Raises the DataError for images smaller than `crop`: how many of `total`, up to
    `NAMED` of them by (name, (width, height)) in `small`, and what to do."""
    shown = ", ".join(f"{name} ({w}x{h})" for name, (w, h) in small[:NAMED])
    more = f" and {len(small) - NAMED:,} more" if len(small) > NAMED else ""
    what = "image is" if len(small) == 1 else "images are"
    raise DataError(
        f"{where}: {len(small):,} of {total:,} {what} smaller than crop={crop} "
        f"({crop}x{crop} pixels): {shown}{more}; choose a smaller crop or remove them"
    )


def stack(arrays: list[np.ndarray], image_size: int, channels: int | None) -> np.ndarray:
    """(N, S, S, C) from (S, S) grey and (S, S, 3) colour arrays."""
    depth = channels or (1 if all(a.ndim == 2 for a in arrays) and arrays else 3)
    out = np.empty((len(arrays), image_size, image_size, depth), dtype=np.uint8)
    for i, array in enumerate(arrays):
        out[i] = array[..., None] if array.ndim == 2 else array  # grey repeats into R, G, B
    return out


def map_with_progress(function, items: list) -> list:
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
