"""Fuzzing the data loaders against an oracle: what must load, what must be refused.

- Valid data the tests write themselves (random uint8 images and labels as IDX files, gzipped
  or raw, or as .npz, with or without a channel axis, 1 to 5 images a split) must load as
  exactly the arrays written.
- Known-bad data (truncated, wrong magic number, type code or dimensions, a header promising
  more or less data, wrong shapes, image and label counts that differ, an .npz without
  x_train or with arrays not uint8, random bytes) must be refused with a `DataError` whose
  one-line message names the file and the problem.
- Valid files with random bytes changed, added, removed or cut off, and random bytes,
  headers and archives, must load as what their bytes describe (IDX), as arrays that were
  written (.npz), or as MNIST-shaped uint8 arrays at least, or else raise `DataError`.

Any other exception is a crash and fails these tests. Every input is tiny, so a loader that
trusted a header's sizes over the bytes actually present would show up as a MemoryError or
a large traced allocation.
"""

from __future__ import annotations

import gzip
import io
import math
import tempfile
import tracemalloc
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from gan_tf.data import Data, DataError, load_data, read_idx

from conftest import idx_bytes, make_images, write_idx_folder

# database=None: nothing replayed from .hypothesis/, so a run depends only on the code; the
# failures fuzzing found are pinned as CRAFTED cases below instead. No deadline: a busy
# machine must not fail a test. No explain phase: on a failure it costs minutes and the
# shrunk example already says what broke. Few examples each, so the file takes seconds.
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow],
)

GZIP_MAGIC = b"\x1f\x8b"
PREFIXES = st.sampled_from(
    [b"", GZIP_MAGIC, b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY", bytes([0, 0, 8, 3])]
)
FILE_NAMES = st.sampled_from(
    ["x.npz", "train-images-idx3-ubyte", "train-images-idx3-ubyte.gz", "data.bin", "mnist"]
)
# Every name `load_data` looks for in a folder (standard and dotted, raw and .gz).
IDX_NAMES = [
    f"{stem}{suffix}"
    for stem in (
        "train-images-idx3-ubyte",
        "train-images.idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    )
    for suffix in ("", ".gz")
]
# A header dimension: small (28 often, so some inputs are valid), or large enough that
# allocating what the header promises would be fatal.
DIMS = st.one_of(
    st.integers(0, 30),
    st.just(28),
    st.sampled_from([2**k for k in range(16, 32)]),
    st.integers(0, 2**32 - 1),
)


def outcome(load, path: Path):
    """Runs `load()`: its result if it loads, None if it raised a well-formed `DataError`.

    Any other exception propagates and fails the test.
    """
    try:
        result = load()
    except DataError as e:
        message = str(e)
        assert "\n" not in message, message
        assert str(path) in message, message
        event("DataError")
        return None
    event("loaded")  # --hypothesis-show-statistics: how often inputs were valid
    return result


def assert_mnist_shaped(data: Data) -> None:
    assert isinstance(data, Data)
    assert data.x_train.dtype == np.uint8
    assert data.x_train.ndim == 3 and data.x_train.shape[1:] == (28, 28)
    assert len(data.x_train) >= 1
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        if x is not None:
            assert x.dtype == np.uint8 and x.shape[1:] == (28, 28) and len(x) >= 1
        if y is not None:
            assert y.dtype == np.uint8 and y.ndim == 1
        if x is not None and y is not None:
            assert len(x) == len(y)


def load_file(path: Path) -> Data | None:
    data = outcome(lambda: load_data(data=path), path)
    if data is not None:
        assert_mnist_shaped(data)
    return data


def read_file(path: Path, ndim: int) -> np.ndarray | None:
    array = outcome(lambda: read_idx(path, ndim), path)
    if array is not None:
        assert isinstance(array, np.ndarray)
        assert array.dtype == np.uint8 and array.ndim == ndim
    return array


def idx_oracle(raw: bytes, ndim: int) -> tuple[int, ...] | None:
    """The shape a correct reader gets from these IDX bytes, None if they are invalid.

    Python ints, so no product can overflow.
    """
    header = 4 + 4 * ndim
    if len(raw) < header or raw[:3] != b"\x00\x00\x08" or raw[3] != ndim:
        return None
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return shape if len(raw) - header == math.prod(shape) else None


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npy_with_header(header: str, payload: bytes = b"") -> bytes:
    """A version 1.0 .npy file with this header text, padded as numpy writes it."""
    text = header.encode("latin1")
    text += b" " * (63 - (10 + len(text)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + payload


def zip_with(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def patch_zip(raw: bytes, flags: int | None, method: int | None) -> bytes:
    """Overwrites the first member's flag bits and compression method, local and central."""
    raw = bytearray(raw)
    local, central = 0, raw.find(b"PK\x01\x02")
    for offset, value in ((6, flags), (8, method)):
        if value is not None:
            raw[local + offset : local + offset + 2] = value.to_bytes(2, "little")
            raw[central + offset + 2 : central + offset + 4] = value.to_bytes(2, "little")
    return bytes(raw)


@FUZZ
@given(name=FILE_NAMES, prefix=PREFIXES, body=st.binary(max_size=200))
def test_random_bytes_as_a_file(name, prefix, body):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(prefix + body)
        load_file(path)
        for ndim in (1, 3):
            array = read_file(path, ndim)
            if array is not None and not (prefix + body).startswith(GZIP_MAGIC):
                assert array.shape == idx_oracle(prefix + body, ndim)


@FUZZ
@given(
    files=st.dictionaries(
        st.sampled_from([*IDX_NAMES, "extra.npz"]),
        st.tuples(PREFIXES, st.binary(max_size=100), st.booleans()),
        max_size=4,
    )
)
def test_random_bytes_in_a_folder(files):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "mnist"
        folder.mkdir()
        for name, (prefix, body, compress) in files.items():
            content = prefix + body
            (folder / name).write_bytes(gzip.compress(content) if compress else content)
        load_file(folder)


@FUZZ
@given(prefix=PREFIXES, body=st.binary(max_size=300), truncated=st.booleans(), cut=st.floats(0, 1))
def test_gzip_of_random_bytes_whole_or_truncated(prefix, body, truncated, cut):
    packed = gzip.compress(prefix + body)
    content = packed[: int(cut * len(packed))] if truncated else packed
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train-images-idx3-ubyte.gz"
        path.write_bytes(content)
        for ndim in (1, 3):
            array = read_file(path, ndim)
            if array is not None:
                assert not truncated or content == packed
                assert array.shape == idx_oracle(prefix + body, ndim)
        load_file(path)
        # The same file as the folder's training images.
        folder = Path(tmp) / "folder"
        folder.mkdir()
        (folder / path.name).write_bytes(content)
        load_file(folder)


@FUZZ
@given(
    # magic, data type, ndim: half valid, half any bytes.
    fields=st.one_of(
        st.sampled_from([(b"\x00\x00", 0x08, 3), (b"\x00\x00", 0x08, 1)]),
        st.tuples(st.binary(max_size=2), st.integers(0, 255), st.integers(0, 255)),
    ),
    compress=st.booleans(),
    data=st.data(),
)
def test_idx_headers_with_random_fields(fields, compress, data):
    magic, dtype, ndim_byte = fields
    # As many dims as the header claims, or any number; or small images' dims.
    dims = data.draw(
        st.one_of(
            st.lists(DIMS, min_size=min(ndim_byte, 4), max_size=min(ndim_byte, 4)),
            st.lists(DIMS, max_size=4),
            st.tuples(st.integers(0, 5), st.just(28), st.just(28)).map(list),
        )
    )
    header = magic + bytes([dtype, ndim_byte]) + b"".join(d.to_bytes(4, "big") for d in dims)
    size = math.prod(dims)
    # The data length matches the header's product, or nearly, or is just some length.
    lengths = [st.integers(0, 64)]
    if size <= 4096:
        lengths += [st.just(size), st.integers(max(0, size - 3), size + 3)]
    n_bytes = data.draw(st.one_of(lengths))
    raw = header + data.draw(st.binary(min_size=n_bytes, max_size=n_bytes))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "imgs-idx3-ubyte"
        path.write_bytes(gzip.compress(raw) if compress else raw)
        for ndim in (1, 3):
            array = read_file(path, ndim)
            expected = idx_oracle(raw, ndim)
            assert (array is None) == (expected is None), (expected, raw[:32])
            if array is not None:
                assert array.shape == expected
        images = idx_oracle(raw, 3)
        loaded = load_file(path)
        valid = images is not None and images[1:] == (28, 28) and images[0] >= 1
        assert (loaded is not None) == valid


@FUZZ
@given(
    # Powers of two, so products of 2**64 and beyond are common: int64 arithmetic wraps them.
    dims=st.lists(st.integers(16, 31).map(lambda k: 2**k), min_size=3, max_size=3),
    n_bytes=st.just(0) | st.integers(0, 64),
)
def test_huge_header_dims_are_checked_against_the_bytes_present(dims, n_bytes):
    raw = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in dims) + bytes(n_bytes)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "imgs-idx3-ubyte"
        path.write_bytes(raw)
        tracemalloc.start()
        try:
            array = read_file(path, 3)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    # Nothing the size of what the header promises was allocated.
    assert peak < 1_000_000
    assert (array is None) == (math.prod(dims) != n_bytes)


def test_header_claiming_2_to_the_93_bytes_with_10_present(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + np.array([2**31] * 3, ">u4").tobytes() + bytes(10))
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="file holds 10") as info:
            load_data(data=path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_promised_size_in_the_message_is_the_header_product(tmp_path):
    # 2**93 bytes; an int64 product wraps it to 0.
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + np.array([2**31] * 3, ">u4").tobytes() + bytes(10))
    with pytest.raises(DataError, match=f"promises {2**93} bytes"):
        read_idx(path, 3)


# uint8 (the valid dtype) half the time, so some inputs load.
DTYPES = st.just(np.uint8) | st.sampled_from([np.int64, np.float32, np.bool_, np.object_])
ARRAY_SHAPES = st.one_of(
    st.lists(st.sampled_from([0, 1, 2, 3, 28]), max_size=4).map(tuple),
    st.integers(0, 3).map(lambda n: (n, 28, 28)),
    st.integers(0, 3).map(lambda n: (n, 28, 28, 1)),
).filter(lambda shape: math.prod(shape) <= 3 * 28 * 28 * 2)
KEYS = ["x_train", "y_train", "x_test", "y_test", "other"]


def random_array(shape: tuple[int, ...], dtype, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype is np.float32:
        array = rng.normal(0, 100, shape).astype(np.float32)
        array.flat[:: max(1, array.size // 3)] = rng.choice([np.nan, np.inf, -np.inf])
        return array
    if dtype is np.object_:
        return np.full(shape, "x", dtype=object)
    return rng.integers(0, 256, shape).astype(dtype)


def npz_is_valid(arrays: dict[str, np.ndarray]) -> bool:
    """Whether `load_data` must accept these arrays (the documented format)."""
    if "x_train" not in arrays:
        return False
    counts = {}
    for key, array in arrays.items():
        if key == "other":
            continue
        if array.dtype != np.uint8:
            return False
        shape = array.shape
        if key.startswith("x"):
            if len(shape) == 4 and shape[-1] == 1:
                shape = shape[:-1]
            if len(shape) != 3 or shape[1:] != (28, 28) or shape[0] == 0:
                return False
        elif len(shape) != 1:
            return False
        counts[key] = shape[0]
    return all(
        counts.get(f"x_{s}") is None
        or counts.get(f"y_{s}") is None
        or counts[f"x_{s}"] == counts[f"y_{s}"]
        for s in ("train", "test")
    )


@st.composite
def npz_specs(draw) -> dict[str, tuple[tuple[int, ...], type]]:
    """{key: (shape, dtype)}: any keys, or a valid dataset with one entry maybe replaced."""
    if draw(st.booleans()):
        return draw(
            st.dictionaries(st.sampled_from(KEYS), st.tuples(ARRAY_SHAPES, DTYPES), max_size=5)
        )
    n_train, n_test = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    spec = {
        "x_train": ((n_train, 28, 28), np.uint8),
        "y_train": ((n_train,), np.uint8),
        "x_test": ((n_test, 28, 28), np.uint8),
        "y_test": ((n_test,), np.uint8),
    }
    spec = {k: v for k, v in spec.items() if k == "x_train" or draw(st.booleans())}
    if draw(st.booleans()):
        spec[draw(st.sampled_from(KEYS))] = draw(st.tuples(ARRAY_SHAPES, DTYPES))
    return spec


@FUZZ
@given(spec=npz_specs(), seed=st.integers(0, 2**32 - 1))
def test_npz_with_random_keys_dtypes_and_shapes(spec, seed):
    arrays = {key: random_array(shape, dtype, seed) for key, (shape, dtype) in spec.items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npz"
        np.savez(path, **arrays)
        data = load_file(path)
    assert (data is not None) == npz_is_valid(arrays)
    if data is not None:
        np.testing.assert_array_equal(data.x_train, arrays["x_train"].reshape(-1, 28, 28))


def npz_bytes(compressed: bool = False, **arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


# --- The oracle: data the test wrote itself, so it knows what must come back ------------------

# The documented IDX file names of each array (standard, and the dotted one some mirrors use).
IDX_FILE_NAMES = {
    "x_train": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "y_train": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "x_test": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "y_test": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}
SEEDS = st.integers(0, 2**32 - 1)


def random_images(n: int, seed: int) -> np.ndarray:
    """n uint8 (28, 28) images of random pixels: every byte value, no structure to lean on."""
    return np.random.default_rng([seed, 1]).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def random_labels(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng([seed, 2]).integers(0, 256, n, dtype=np.uint8)


def valid_splits(n: int, seed: int) -> dict[str, np.ndarray]:
    """All four arrays of a valid dataset of n images per split."""
    return {
        "x_train": random_images(n, seed),
        "y_train": random_labels(n, seed),
        "x_test": random_images(n, seed + 1),
        "y_test": random_labels(n, seed + 1),
    }


class Dataset(NamedTuple):
    """A valid dataset as its recipe, so that a failing example prints in a few words."""

    seed: int
    n_train: int  # images in a split: at least 1
    n_test: int
    keys: tuple[str, ...]  # the arrays present: x_train and any of the others

    def data(self) -> Data:
        arrays = {
            "x_train": random_images(self.n_train, self.seed),
            "y_train": random_labels(self.n_train, self.seed),
            "x_test": random_images(self.n_test, self.seed + 1),
            "y_test": random_labels(self.n_test, self.seed + 1),
        }
        return Data(**{key: arrays[key] if key in self.keys else None for key in Data._fields})


def datasets(max_n: int = 5) -> st.SearchStrategy[Dataset]:
    """Valid datasets: 1 to `max_n` images a split; the training labels, the test images and
    the test labels each present or not (the loaders accept any of these)."""
    others = st.sets(st.sampled_from(["y_train", "x_test", "y_test"]))
    return st.builds(
        Dataset,
        SEEDS,
        st.integers(1, max_n),
        st.integers(1, max_n),
        others.map(lambda keys: ("x_train", *sorted(keys))),
    )


def write_valid(tmp: Path, dataset: Data, form: str, draw) -> tuple[Path, Data]:
    """Writes `dataset` as `form`; returns the path to load and the `Data` it must give."""
    arrays = {key: a for key, a in dataset._asdict().items() if a is not None}
    if form == "idx file":  # one IDX image file, passed as --data
        name = draw(st.sampled_from(["train-images-idx3-ubyte", "images.idx", "x"]))
        raw = idx_bytes(dataset.x_train)
        path = tmp / (f"{name}.gz" if draw(st.booleans()) else name)
        path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)
        return path, Data(dataset.x_train, None, None, None)
    folder = tmp / "mnist"
    if form != "npz":
        folder.mkdir()
    if form == "idx folder":  # each file gzipped or raw, under either documented name
        for key, array in arrays.items():
            name = draw(st.sampled_from(IDX_FILE_NAMES[key]))
            raw = idx_bytes(array)
            if draw(st.booleans()):
                (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
            else:
                (folder / name).write_bytes(raw)
        return folder, dataset
    # .npz: images with a channel axis (N, 28, 28, 1) or without, compressed or not.
    for key in ("x_train", "x_test"):
        if key in arrays and draw(st.booleans()):
            arrays[key] = arrays[key][..., None]
    content = npz_bytes(draw(st.booleans()), **arrays)
    # Named .npz or not (a zip is known by its first bytes); a folder holding one .npz.
    if form == "npz in folder":
        path = folder / "mnist.npz"
    else:
        path = tmp / draw(st.sampled_from(["mnist.npz", "mnist"]))
    path.write_bytes(content)
    return (folder if form == "npz in folder" else path), dataset


def assert_loaded_exactly(loaded: Data, expected: Data) -> None:
    assert isinstance(loaded, Data)
    for key, want in expected._asdict().items():
        got = getattr(loaded, key)
        if want is None:
            assert got is None, key
        else:  # strict: the same shape and dtype (uint8), not just equal values
            np.testing.assert_array_equal(got, want, strict=True, err_msg=key)


@FUZZ
@given(
    dataset=datasets(),
    form=st.sampled_from(["idx file", "idx folder", "npz", "npz in folder"]),
    data=st.data(),
)
def test_valid_data_loads_exactly(dataset, form, data):
    with tempfile.TemporaryDirectory() as tmp:
        path, expected = write_valid(Path(tmp), dataset.data(), form, data.draw)
        assert_loaded_exactly(load_data(data=path), expected)


# Bad inputs, each built by a function of (folder, draw) that writes it and returns
# (the path to load, the file or folder the message must name, phrases it must hold).
# A file that cannot be read as IDX or .npz is named itself; arrays read but of the wrong
# shape or counts are named by the folder or file given as --data, and the array's key.


def _place(tmp: Path, name: str, content: bytes, draw) -> tuple[Path, Path]:
    """Writes `content` as `name`, alone or in a folder given as --data; returns
    (the path to load, the file)."""
    if draw(st.booleans()):
        (tmp / "mnist").mkdir()
        path = tmp / "mnist" / name
        path.write_bytes(content)
        return path.parent, path
    path = tmp / name
    path.write_bytes(content)
    return path, path


def _images_file(tmp: Path, raw: bytes, draw) -> tuple[Path, Path]:
    """IDX image bytes, gzipped or raw, under the training images' name."""
    if draw(st.booleans()):
        return _place(tmp, "train-images-idx3-ubyte.gz", gzip.compress(raw), draw)
    return _place(tmp, "train-images-idx3-ubyte", raw, draw)


def _truncated(tmp, draw):
    images = random_images(draw(st.integers(1, 3)), draw(SEEDS))
    form = draw(st.sampled_from(["idx", "idx.gz", "npz"]))
    content = {
        "idx": idx_bytes(images),
        "idx.gz": gzip.compress(idx_bytes(images)),
        "npz": npz_bytes(draw(st.booleans()), x_train=images),
    }[form]
    cut = draw(st.integers(0, len(content) - 1))
    name = {"idx": "train-images-idx3-ubyte", "idx.gz": "train-images-idx3-ubyte.gz"}
    path, culprit = _place(tmp, name.get(form, "mnist.npz"), content[:cut], draw)
    if form == "idx":  # 4 bytes of magic number, 12 of dimensions, then the pixels
        reason = "bad magic" if cut < 4 else "truncated IDX header"
        reason = "header promises" if cut >= 16 else reason
    elif form == "idx.gz":  # fewer than 2 bytes: not even gzip's magic number
        reason = "bad magic" if cut < 2 else "corrupt or truncated gzip"
    else:
        reason = "not a readable .npz"
    return path, culprit, (reason,)


# Not IDX's 00 00, nor the first bytes of a gzip or zip file (those are read as such).
NOT_MAGIC = (b"\0\0", GZIP_MAGIC, b"PK")


def _wrong_magic(tmp, draw):
    images = random_images(draw(st.integers(1, 3)), draw(SEEDS))
    magic = draw(st.binary(min_size=2, max_size=2).filter(lambda b: b not in NOT_MAGIC))
    return (*_images_file(tmp, magic + idx_bytes(images)[2:], draw), ("bad magic",))


def _wrong_type_code(tmp, draw):
    images = random_images(draw(st.integers(1, 3)), draw(SEEDS))
    code = draw(st.integers(0, 255).filter(lambda c: c != 0x08))
    raw = idx_bytes(images)
    content = raw[:2] + bytes([code]) + raw[3:]
    return (*_images_file(tmp, content, draw), (f"type 0x{code:02x}", "expected unsigned bytes"))


def _wrong_ndim(tmp, draw):
    n, seed = draw(st.integers(1, 3)), draw(SEEDS)
    # The header and data agree, but the file has the wrong number of dimensions for its name.
    if draw(st.booleans()):
        shape = draw(st.sampled_from([(n * 784,), (n, 784), (n, 28, 28, 1), (1, n, 28, 28)]))
        array, name, expected = random_images(n, seed).reshape(shape), "train-images", 3
    else:
        shape = draw(st.sampled_from([(n, 1), (1, n), (1, 1, n)]))
        array, name, expected = random_labels(n, seed).reshape(shape), "train-labels", 1
    name = f"{name}-idx{expected}-ubyte"
    folder = write_idx_folder(tmp / "mnist", random_images(n, seed), random_labels(n, seed))
    for old in folder.iterdir():
        if old.name.startswith(name):
            old.unlink()
    path = folder / name
    path.write_bytes(idx_bytes(array))
    return folder, path, (f"{array.ndim} dimensions, expected {expected}",)


def _wrong_size_in_header(tmp, draw):
    n = draw(st.integers(1, 3))
    raw = idx_bytes(random_images(n, draw(SEEDS)))
    how = draw(st.sampled_from(["count", "more data", "less data"]))
    if how == "count":  # the header's N, off by some
        count = draw(st.integers(0, n + 3).filter(lambda c: c != n))
        raw = raw[:4] + count.to_bytes(4, "big") + raw[8:]
    elif how == "more data":
        raw += draw(st.binary(min_size=1, max_size=100))
    else:
        raw = raw[: -draw(st.integers(1, 784 * n))]
    return (*_images_file(tmp, raw, draw), ("header promises",))


def _wrong_shape(tmp, draw):
    n, seed = draw(st.integers(1, 3)), draw(SEEDS)
    hw = st.tuples(st.integers(0, 40), st.integers(0, 40)).filter(lambda s: s != (28, 28))
    if draw(st.booleans()):  # an IDX image file of other-sized images
        images = np.zeros((n, *draw(hw)), np.uint8)
        path, _ = _images_file(tmp, idx_bytes(images), draw)
        return path, path, ("x_train has shape", "expected (N, 28, 28) images")
    # An .npz with one array of the wrong shape, the others valid.
    arrays = valid_splits(n, seed)
    key = draw(st.sampled_from(sorted(arrays)))
    if key.startswith("x"):
        shapes = st.sampled_from([(n, 784), (n, 28, 28, 3), (1, n, 28, 28), (n,)])
        arrays[key] = np.zeros(draw(shapes | hw.map(lambda s: (n, *s))), np.uint8)
        expected = "expected (N, 28, 28) images"
    else:
        arrays[key] = np.zeros(draw(st.sampled_from([(), (n, 1), (1, n), (n, 2)])), np.uint8)
        expected = "expected (N,) labels"
    content = npz_bytes(**arrays)
    return (*_place(tmp, "mnist.npz", content, draw), (f"{key} has shape", expected))


def _no_images(tmp, draw):
    empty = np.zeros((0, 28, 28), np.uint8)
    if draw(st.booleans()):
        path, _ = _images_file(tmp, idx_bytes(empty), draw)
        return path, path, ("x_train holds no images",)
    return (*_place(tmp, "mnist.npz", npz_bytes(x_train=empty), draw), ("holds no images",))


def _count_mismatch(tmp, draw):
    n, seed = draw(st.integers(1, 3)), draw(SEEDS)
    count = draw(st.integers(0, n + 3).filter(lambda c: c != n))
    split = draw(st.sampled_from(["train", "test"]))
    arrays = {"x_train": random_images(n, seed), "y_train": random_labels(n, seed)}
    arrays[f"x_{split}"] = random_images(n, seed + 1)
    arrays[f"y_{split}"] = random_labels(count, seed + 1)
    reason = (f"{n} {split} images but {count} {split} labels",)
    if draw(st.booleans()):
        return (*_place(tmp, "mnist.npz", npz_bytes(**arrays), draw), reason)
    folder = tmp / "mnist"
    folder.mkdir()
    for key, array in arrays.items():
        raw = idx_bytes(array)
        name = IDX_FILE_NAMES[key][0]
        if draw(st.booleans()):
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return folder, folder, reason


def _npz_without_x_train(tmp, draw):
    n, seed = draw(st.integers(1, 3)), draw(SEEDS)
    keys = draw(st.lists(st.sampled_from(["y_train", "x_test", "X_train", "images"]), unique=True))
    arrays = {key: random_images(n, seed) for key in keys}
    return (*_place(tmp, "mnist.npz", npz_bytes(**arrays), draw), ("no 'x_train' array",))


def _npz_wrong_dtype(tmp, draw):
    n, seed = draw(st.integers(1, 3)), draw(SEEDS)
    arrays = valid_splits(n, seed)
    key = draw(st.sampled_from(sorted(arrays)))
    dtype = np.dtype(
        draw(st.sampled_from([np.int8, np.uint16, np.int64, np.float16, np.float64, np.bool_]))
    )
    arrays[key] = arrays[key].astype(dtype)
    content = npz_bytes(draw(st.booleans()), **arrays)
    reason = (f"{key} has dtype {dtype}, expected uint8",)
    return (*_place(tmp, "mnist.npz", content, draw), reason)


def _random_bytes(tmp, draw):
    # At most 300 bytes: too few for even one 28x28 image, so never valid.
    content = draw(st.binary(max_size=300))
    names = ["mnist.npz", "train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"]
    return (*_place(tmp, draw(st.sampled_from(names)), content, draw), ())


BAD_INPUTS = {
    "truncated at a random byte": _truncated,
    "wrong magic number": _wrong_magic,
    "wrong IDX type code": _wrong_type_code,
    "wrong number of dimensions": _wrong_ndim,
    "header promising more or less data": _wrong_size_in_header,
    "wrong image or label shape": _wrong_shape,
    "no images": _no_images,
    "image and label counts differ": _count_mismatch,
    "npz without x_train": _npz_without_x_train,
    "npz array not uint8": _npz_wrong_dtype,
    "random bytes": _random_bytes,
}


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_bad_data_is_refused_naming_the_file(kind, data):
    with tempfile.TemporaryDirectory() as tmp:
        path, culprit, phrases = BAD_INPUTS[kind](Path(tmp), data.draw)
        with pytest.raises(DataError) as info:
            load_data(data=path)
    message = str(info.value)
    assert str(culprit) in message and "\n" not in message, message
    for phrase in phrases:
        assert phrase in message, message


def expected_idx(content: bytes, ndim: int, npz_first: bool) -> np.ndarray | None:
    """The array a correct reader gets from an IDX file's bytes (gzipped or raw), None if it
    must refuse them. `npz_first`: the file was given as --data, so "PK" makes it a zip."""
    if npz_first and content[:2] == b"PK":
        return None
    if content[:2] == GZIP_MAGIC:
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError, zlib.error):
            return None
    shape = idx_oracle(content, ndim)
    if shape is None:
        return None
    return np.frombuffer(content, np.uint8, offset=4 + 4 * ndim).reshape(shape)


EDITS = st.lists(
    st.tuples(
        st.sampled_from(["set", "insert", "delete"]),
        st.floats(0, 1, exclude_max=True),
        st.binary(min_size=1, max_size=4),
    ),
    min_size=1,
    max_size=6,
)


def mutate(content: bytes, edits, cut: float | None) -> bytes:
    """`content` with bytes overwritten, inserted or deleted at random places, maybe cut."""
    content = bytearray(content)
    for op, where, value in edits:
        i = int(where * len(content))
        if op == "set":
            content[i : i + len(value)] = value[: len(content) - i]
        elif op == "insert":
            content[i:i] = value
        else:
            del content[i : i + len(value)]
    if cut is not None:
        content = content[: int(cut * len(content))]
    return bytes(content)


@FUZZ
@given(
    form=st.sampled_from(["idx", "idx.gz", "npz"]),
    dataset=datasets(max_n=3),
    edits=EDITS,
    cut=st.none() | st.floats(0, 1, exclude_max=True),
    in_folder=st.booleans(),
)
def test_mutated_valid_files_load_correctly_or_are_refused(form, dataset, edits, cut, in_folder):
    """A valid file with bytes changed, added, removed or cut off: a raw or gzipped IDX file
    must give exactly the array its bytes now describe, or be refused; an .npz must give
    only arrays that were written into it, or be refused. Never another exception."""
    dataset = dataset.data()
    x_train, y_train = dataset.x_train, random_labels(len(dataset.x_train), 0)
    if form == "npz":
        original = npz_bytes(**{k: a for k, a in dataset._asdict().items() if a is not None})
    else:
        original = idx_bytes(x_train)
        original = gzip.compress(original) if form == "idx.gz" else original
    content = mutate(original, edits, cut)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "mnist"
        folder.mkdir()
        if form == "npz":
            path = folder / "mnist.npz"
        else:
            path = folder / "train-images-idx3-ubyte"
            (folder / "train-labels-idx1-ubyte").write_bytes(idx_bytes(y_train))
        path.write_bytes(content)
        loaded = load_file(folder if in_folder else path)
    if form != "npz":
        images = expected_idx(content, 3, npz_first=not in_folder)
        if images is not None and (images.shape[1:] != (28, 28) or len(images) == 0):
            images = None
        if images is not None and in_folder and len(images) != len(y_train):
            images = None  # the labels beside it no longer match
        if images is None:
            assert loaded is None, "a damaged IDX file was loaded"
        else:
            labels = y_train if in_folder else None
            assert_loaded_exactly(loaded, Data(images, labels, None, None))
    elif content == original:  # the edits changed nothing
        assert_loaded_exactly(loaded, dataset)
    elif loaded is not None:
        # The zip's CRCs catch damaged members: whatever loads was written, unchanged.
        written = [a for a in dataset if a is not None]
        for key, array in loaded._asdict().items():
            if array is not None:
                assert any(np.array_equal(array, w) for w in written), key


NPY_CONTENT = st.one_of(
    st.binary(max_size=64),
    st.binary(max_size=64).map(lambda b: b"\x93NUMPY" + b),
    st.tuples(ARRAY_SHAPES, DTYPES, st.integers(0, 99)).map(lambda t: npy_bytes(random_array(*t))),
)


@FUZZ
@given(
    members=st.dictionaries(
        st.sampled_from(["x_train", "x_train.npy", "y_train.npy", "x_test.npy", "other.npy"]),
        NPY_CONTENT,
        min_size=1,
        max_size=3,
    ),
    compression=st.sampled_from(
        [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
    ),
    flags=st.sampled_from([None, 0x01, 0x08, 0x20, 0x40]),
    method=st.sampled_from([None, 0, 1, 8, 12, 14, 99]),
    name=st.sampled_from(["x.npz", "mnist.zip"]),
)
def test_zip_archives_with_random_members(members, compression, flags, method, name):
    raw = patch_zip(zip_with(members, compression), flags, method)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(raw)
        load_file(path)


# Python literals for the header dict numpy parses with ast.literal_eval; shape entries that
# are huge, so honouring them would mean allocating petabytes.
LITERALS = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 30)
    | st.sampled_from([2**50, 2**62, 10**30])
    | st.sampled_from(["|u1", "<i8", "<f4", "|b1", "|O", "<U3", "V0", "x", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.lists(inner, max_size=3).map(tuple),
    max_leaves=6,
)
HEADERS = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "descr": LITERALS,
            "fortran_order": st.booleans() | LITERALS,
            "shape": st.lists(LITERALS, max_size=3).map(tuple) | LITERALS,
            "extra": LITERALS,
        },
    ).map(repr),
    st.text(alphabet="{}[]()'\":,-_ 0123456789descrshapfortn|<u1", max_size=40),
)


@FUZZ
@given(header=HEADERS, payload=st.binary(max_size=64), in_zip=st.booleans())
def test_npy_headers_random(header, payload, in_zip):
    raw = npy_with_header(header, payload)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npz"
        path.write_bytes(zip_with({"x_train.npy": raw}) if in_zip else raw)
        load_file(path)


def _huge_idx(tmp: Path) -> Path:
    # 2**22 * 2**21 * 2**21 = 2**64 wraps to 0 in int64, which "matches" zero data bytes.
    path = tmp / "train-images-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + np.array([2**22, 2**21, 2**21], ">u4").tobytes())
    return path


def _file(content: bytes, name: str = "x.npz"):
    def write(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(content)
        return path

    return write


_GOOD_NPZ = npz_bytes(x_train=make_images(2), y_train=np.array([3, 7], np.uint8))

# Small inputs, found by fuzzing, that must raise DataError like any other bad file.
CRAFTED = {
    "idx dims whose int64 product wraps to 0": _huge_idx,
    "a .npy file named .npz": _file(npy_bytes(make_images(2))),
    "zip member x_train.npy that is not .npy": _file(zip_with({"x_train.npy": b"hello"})),
    "zip member flagged encrypted": _file(patch_zip(_GOOD_NPZ, 0x01, None)),
    "zip member with strong-encryption flag": _file(patch_zip(_GOOD_NPZ, 0x40, None)),
    "zip member with unsupported compression": _file(patch_zip(_GOOD_NPZ, None, 99)),
    "npy header dict with a list key": _file(npy_with_header("{[]: 1}")),
    "npy header with an unclosed bracket": _file(npy_with_header("{'descr': (")),
    "npy descr an empty tuple": _file(
        npy_with_header("{'descr': (), 'fortran_order': False, 'shape': (1,)}")
    ),
    "npy shape beyond int64": _file(
        npy_with_header(f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({10**30},)}}")
    ),
    "npy header nesting past the recursion limit": _file(npy_with_header("-" * 4000 + "1")),
    "npy header promising 182 TiB": _file(
        npy_with_header("{'descr': 'V2000000000', 'fortran_order': False, 'shape': (100000,)}")
    ),
    "npy header promising 1 PiB inside a zip": _file(
        zip_with(
            {
                "x_train.npy": npy_with_header(
                    f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({2**50},)}}"
                )
            }
        )
    ),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_inputs_raise_data_error(tmp_path, case):
    path = CRAFTED[case](tmp_path)
    with pytest.raises(DataError) as info:
        load_data(data=path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
