"""MNIST-style files: IDX files (gzip-compressed or raw) and Keras-format .npz archives.

`read_idx` reads one IDX file; `load_idx_folder` a folder of them under their standard
names, `load_npz` an .npz of x_train, y_train, x_test and y_test. `check` holds what either
gives to MNIST's shape: uint8 images (N, 28, 28) and labels (N,), counts that agree.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from gan_tf.datasets import Data, empty_folder
from gan_tf.errors import DataError

IMAGE_SHAPE = (28, 28)  # (H, W) of the images `check` accepts: MNIST's

# The IDX files' standard names (yann.lecun.com and the Fashion-MNIST repo
# use the same ones); some mirrors write a dot before "idx".
IDX_NAMES = {
    "x_train": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "y_train": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "x_test": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "y_test": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}
_IDX_UBYTE = 0x08


def read_head(path: Path, n: int) -> bytes:
    """The first `n` bytes of a file (fewer if it is shorter), to tell its format by.

    Raises:
        DataError: the file cannot be read; the message names it.
    """
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None


def read_idx(path: str | Path, ndim: int) -> np.ndarray:
    """Reads one IDX file of unsigned bytes, gzip-compressed or raw.

    Args:
        path: the file.
        ndim: the number of dimensions expected (3 for images, 1 for labels).

    Returns:
        A uint8 array of the shape the header gives.

    Raises:
        DataError: the file is unreadable, truncated, or not a uint8 IDX file of `ndim` dims.
    """
    path = Path(path)
    head = read_head(path, 2)
    try:
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: corrupt or truncated gzip file ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    if raw[2] != _IDX_UBYTE:
        raise DataError(f"{path}: IDX data type 0x{raw[2]:02x}, expected unsigned bytes (0x08)")
    if raw[3] != ndim:
        raise DataError(f"{path}: IDX file has {raw[3]} dimensions, expected {ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    size = math.prod(shape)  # Python ints: a header's huge dims cannot overflow
    if len(raw) - header != size:
        raise DataError(
            f"{path}: header promises {size} bytes of data for shape {shape}, "
            f"file holds {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def find_idx(folder: Path, key: str) -> Path | None:
    """The IDX file of `key` ("x_train", "y_train", "x_test" or "y_test") in `folder`,
    under any of its standard names, gzip-compressed or raw; None if there is none."""
    for name in IDX_NAMES[key]:
        for candidate in (folder / f"{name}.gz", folder / name):
            if candidate.is_file():
                return candidate
    return None


def load_idx_folder(folder: Path) -> Data:
    """A folder of IDX files under their standard names (`IDX_NAMES`), or of one .npz.

    Args:
        folder: the folder; only the training images must be there.

    Returns:
        A `Data` checked by `check`; the splits whose files are absent are None.

    Raises:
        DataError: an empty folder, no training images (nor a single .npz), or a file
            `read_idx` refuses.
    """
    paths = {key: find_idx(folder, key) for key in IDX_NAMES}
    if paths["x_train"] is None:
        npz = sorted(folder.glob("*.npz"))
        if len(npz) == 1:
            return load_npz(npz[0])
        if not any(entry.is_file() for entry in folder.rglob("*")):
            raise empty_folder(folder)
        raise DataError(
            f"{folder}: no {IDX_NAMES['x_train'][0]}[.gz] (nor a single .npz) in this folder"
        )
    arrays = {
        key: None if p is None else read_idx(p, ndim=3 if key.startswith("x") else 1)
        for key, p in paths.items()
    }
    return check(Data(**arrays), folder)


def load_npz(path: Path) -> Data:
    """A Keras-format .npz: x_train, and y_train, x_test and y_test where present.

    Args:
        path: the file; it is read without pickle, so it cannot run code.

    Returns:
        A `Data` checked by `check`; absent arrays are None.

    Raises:
        DataError: the file is not a readable .npz, holds no x_train, or fails `check`.
    """
    try:
        f = np.load(path, allow_pickle=False)
        if not isinstance(f, np.lib.npyio.NpzFile):
            raise ValueError("a single .npy array, not an .npz archive")
        with f:
            files = list(f.files)
            arrays = {key: f[key] if key in files else None for key in Data._fields}
    except MemoryError:
        raise DataError(f"{path}: an array header asks for more memory than there is") from None
    except Exception as e:  # numpy/zipfile raise many types on corrupt files
        reason = " ".join(str(e).split())[:200] or type(e).__name__
        raise DataError(f"{path}: not a readable .npz file ({reason})") from None
    for key, array in arrays.items():
        if array is not None and not isinstance(array, np.ndarray):
            raise DataError(f"{path}: {key} is not a numpy array")
    if arrays["x_train"] is None:
        raise DataError(f"{path}: no 'x_train' array (found: {', '.join(files) or 'none'})")
    return check(Data(**arrays), path)


def check(data: Data, source: Path) -> Data:
    """Checks dtypes, shapes and counts; returns images as (N, 28, 28).

    Args:
        data: the arrays read; a None split is left as it is.
        source: the file or folder they came from, for messages and `Data.source`.

    Returns:
        `data` with (N, 28, 28, 1) images as (N, 28, 28), and `source` set.

    Raises:
        DataError: an array is not uint8, images are not (N, 28, 28) or none, labels are
            not (N,), or a split's image and label counts differ.
    """
    fixed = {}
    for key, array in data._asdict().items():
        if array is None:
            fixed[key] = None
            continue
        if array.dtype != np.uint8:
            raise DataError(f"{source}: {key} has dtype {array.dtype}, expected uint8")
        if key.startswith("x"):
            if array.ndim == 4 and array.shape[-1] == 1:
                array = array[..., 0]
            if array.ndim != 3 or array.shape[1:] != IMAGE_SHAPE:
                raise DataError(
                    f"{source}: {key} has shape {array.shape}, expected (N, 28, 28) images"
                )
            if len(array) == 0:
                raise DataError(f"{source}: {key} holds no images")
        elif array.ndim != 1:
            raise DataError(f"{source}: {key} has shape {array.shape}, expected (N,) labels")
        fixed[key] = array
    for split in ("train", "test"):
        x, y = fixed[f"x_{split}"], fixed[f"y_{split}"]
        if x is not None and y is not None and len(x) != len(y):
            raise DataError(f"{source}: {len(x)} {split} images but {len(y)} {split} labels")
    return Data(**fixed, source=str(source))
