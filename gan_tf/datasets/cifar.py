"""CIFAR-10's python version as a `Data`: the pickled batches, from their folder or the .tar.gz.

`load_cifar10` reads the archive as it is, without unpacking it to disk, and unpickles the
batches with an unpickler that builds only what a batch holds, so a doctored file cannot
run code.
"""

from __future__ import annotations

import codecs
import pickle
import tarfile
import zlib
from pathlib import Path

import numpy as np

from gan_tf.datasets import Data
from gan_tf.errors import DataError, one_line


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
