"""Data loading from every supported source, every bad-file case, and the input pipeline."""

import gzip

import numpy as np
import pytest

from gan_tf.data import DataError, load_data, make_dataset, read_idx

from conftest import idx_bytes, make_images, write_idx_folder


def test_npz(npz_path, images):
    data = load_data(data=npz_path)
    np.testing.assert_array_equal(data.x_train, images)
    assert data.y_train.shape == (len(images),)
    assert data.x_test.shape == (8, 28, 28)


@pytest.mark.parametrize("compress", [True, False], ids=["gz", "raw"])
def test_idx_folder(tmp_path, images, compress):
    labels = np.arange(len(images), dtype=np.uint8) % 10
    folder = write_idx_folder(tmp_path / "mnist", images, labels, compress=compress)
    data = load_data(data=folder)
    np.testing.assert_array_equal(data.x_train, images)
    np.testing.assert_array_equal(data.y_train, labels)
    assert data.x_test is None  # the folder has no t10k files


def test_single_idx_file_and_channel_axis(tmp_path, images):
    path = tmp_path / "imgs-idx3-ubyte"
    path.write_bytes(idx_bytes(images))
    np.testing.assert_array_equal(load_data(data=path).x_train, images)
    npz = tmp_path / "channels.npz"
    np.savez(npz, x_train=images[..., None])  # (N, 28, 28, 1) is accepted too
    assert load_data(data=npz).x_train.shape == images.shape


def _bad_cases(tmp_path, images):
    good = idx_bytes(images)
    labels = np.zeros(len(images), np.uint8)
    cases = {}
    good_labels = idx_bytes(labels)

    def folder(name, image_bytes, label_bytes=good_labels):
        f = tmp_path / name
        f.mkdir()
        (f / "train-images-idx3-ubyte.gz").write_bytes(image_bytes)
        (f / "train-labels-idx1-ubyte.gz").write_bytes(label_bytes)
        return f

    cases["missing"] = (tmp_path / "nope", "no such file")
    cases["truncated gz"] = (
        folder("trunc", gzip.compress(good)[:2000]),
        "corrupt or truncated gzip",
    )
    cases["bad magic"] = (folder("magic", gzip.compress(b"\x12\x34" + good[2:])), "bad magic")
    cases["wrong dims"] = (
        folder("dims", gzip.compress(idx_bytes(images.reshape(len(images), -1)))),
        "2 dimensions, expected 3",
    )
    cases["short data"] = (folder("short", gzip.compress(good[:-10])), "header promises")
    cases["count mismatch"] = (
        folder("count", gzip.compress(good), gzip.compress(idx_bytes(labels[:-1]))),
        "48 train images but 47 train labels",
    )
    cases["wrong size"] = (
        folder("size", gzip.compress(idx_bytes(np.zeros((4, 32, 32), np.uint8)))),
        "expected (N, 28, 28)",
    )
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    cases["empty file"] = (empty, "not a readable .npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    cases["corrupt npz"] = (garbage, "not a readable .npz")
    keys = tmp_path / "keys.npz"
    np.savez(keys, images=images)
    cases["npz keys"] = (keys, "no 'x_train' array (found: images)")
    floats = tmp_path / "floats.npz"
    np.savez(floats, x_train=images.astype(np.float32))
    cases["float images"] = (floats, "dtype float32, expected uint8")
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    (nothing / "readme.txt").write_text("hi")
    cases["folder without data"] = (nothing, "no train-images-idx3-ubyte")
    no_images = tmp_path / "zero.npz"
    np.savez(no_images, x_train=np.zeros((0, 28, 28), np.uint8))
    cases["no images"] = (no_images, "holds no images")
    return cases


CASES = [
    "missing",
    "truncated gz",
    "bad magic",
    "wrong dims",
    "short data",
    "count mismatch",
    "wrong size",
    "empty file",
    "corrupt npz",
    "npz keys",
    "float images",
    "folder without data",
    "no images",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_data_names_file_and_problem(tmp_path, images, case):
    path, expected = _bad_cases(tmp_path, images)[case]
    with pytest.raises(DataError) as info:
        load_data(data=path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_read_idx_rejects_non_byte_type(tmp_path):
    path = tmp_path / "f.idx"
    path.write_bytes(bytes([0, 0, 0x0D, 1]) + np.array([1], ">u4").tobytes() + b"\0\0\0\0")
    with pytest.raises(DataError, match="expected unsigned bytes"):
        read_idx(path, ndim=1)


def test_dataset_scaling_and_batches():
    images = make_images(10)
    batches = list(make_dataset(images, batch_size=4, seed=0, epoch=1, buffer_size=100))
    assert [b.shape[0] for b in batches] == [4, 4, 2]  # the last batch keeps its real size
    stacked = np.concatenate([b.numpy() for b in batches])
    assert stacked.shape == (10, 28, 28, 1)
    assert stacked.min() == -1.0 and stacked.max() <= 1.0
    # Every image exactly once, scaled as the tutorial: (x - 127.5) / 127.5.
    expected = (images.astype(np.float32) - 127.5) / 127.5
    assert sorted(map(bytes, stacked[..., 0])) == sorted(map(bytes, expected))


def test_order_depends_on_seed_and_epoch_only():
    images = make_images(32)

    def order(seed, epoch):
        ds = make_dataset(images, batch_size=32, seed=seed, epoch=epoch, buffer_size=32)
        return next(iter(ds)).numpy()

    np.testing.assert_array_equal(order(0, 1), order(0, 1))
    assert not np.array_equal(order(0, 1), order(0, 2))
    assert not np.array_equal(order(0, 1), order(1, 1))


def test_data_env_var_is_the_default(monkeypatch, npz_path, images):
    monkeypatch.setenv("GAN_TF_DATA", str(npz_path))
    np.testing.assert_array_equal(load_data().x_train, images)
    monkeypatch.setenv("GAN_TF_DATA", str(npz_path.parent / "missing.npz"))
    with pytest.raises(DataError, match=r"missing\.npz: no such file"):
        load_data()


def test_a_cut_short_epoch_is_released_at_once():
    """Issue 13: dropping an epoch's iterator before its end must not wait on a sleeping thread.

    With tf.data's autotuner on, about one release in three waited out the tuner's current
    sleep (0.24 s at this age; 8-20 s at a real epoch's), so 16 tries catch it all but surely.
    """
    import time

    images = make_images(512)
    worst = 0.0
    for trial in range(16):
        iterator = iter(make_dataset(images, 32, 0, trial, 512, noise_dim=8).take(16))
        start = time.perf_counter()
        while time.perf_counter() - start < 0.3:  # the tuner's sleep is ~0.3 s by now
            next(iterator)
            time.sleep(0.02)
        start = time.perf_counter()
        del iterator
        worst = max(worst, time.perf_counter() - start)
    assert worst < 0.12, f"releasing a cut-short epoch's iterator took {worst:.2f} s"
