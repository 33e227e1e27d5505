"""Fuzzing the data loaders: random bytes, arrays and headers give a `Data` or a `DataError`.

Whatever a user points --data at, `load_data` and `read_idx` must either return MNIST-shaped
uint8 arrays or raise the documented `DataError` whose one-line message names the file. Any
other exception is a crash and fails these tests. Every input is tiny, so a loader that
trusted a header's sizes over the bytes actually present would show up as a MemoryError, a
large traced allocation, or a hypothesis deadline failure (our guard against hangs).
"""

from __future__ import annotations

import gzip
import io
import math
import tempfile
import tracemalloc
import zipfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from gan_tf.data import Data, DataError, load_data, read_idx

from conftest import idx_bytes, make_images

# database=None: nothing replayed from .hypothesis/, so a run depends only on the code; the
# failures fuzzing found are pinned as CRAFTED cases below instead.
# The deadline is thousands of times the few milliseconds an example takes, so a busy
# machine never trips it: it only turns a hang into a failure. No explain phase: on a
# failure it costs minutes and the shrunk example already says what broke.
FUZZ = settings(
    max_examples=100,
    deadline=timedelta(seconds=30),
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


def npz_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, x_train=images, y_train=labels)
    return buffer.getvalue()


def _valid_files() -> dict[str, bytes]:
    images = make_images(2)
    labels = np.array([3, 7], np.uint8)
    return {
        "x.npz": npz_bytes(images, labels),
        "train-images-idx3-ubyte": idx_bytes(images),
        "train-images-idx3-ubyte.gz": gzip.compress(idx_bytes(images)),
    }


VALID_FILES = _valid_files()


@FUZZ
@given(
    name=st.sampled_from(sorted(VALID_FILES)),
    cut=st.none() | st.floats(0, 1),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8),
    in_folder=st.booleans(),
)
def test_valid_files_truncated_or_with_random_bytes_changed(name, cut, edits, in_folder):
    content = bytearray(VALID_FILES[name])
    for where, value in edits:
        content[int(where * len(content))] = value
    if cut is not None:
        content = content[: int(cut * len(content))]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "mnist"
        folder.mkdir()
        path = folder / name
        path.write_bytes(bytes(content))
        load_file(folder if in_folder else path)


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


_GOOD_NPZ = npz_bytes(make_images(2), np.array([3, 7], np.uint8))

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
