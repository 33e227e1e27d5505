"""Data loading from every supported source, every bad-file case, and the input pipeline."""

import numpy as np
import pytest

from gan_tf.data import DataError, load_data, make_dataset, read_idx

from conftest import BAD_DATA_CASES, bad_data_cases, idx_bytes, make_images, write_idx_folder


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


@pytest.mark.parametrize("case", BAD_DATA_CASES)
def test_bad_data_names_file_and_problem(tmp_path, images, case):
    path, expected = bad_data_cases(tmp_path, images)[case]
    with pytest.raises(DataError) as info:
        load_data(data=path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_every_bad_data_case_is_parametrized(tmp_path, images):
    # A case written by bad_data_cases but missing from BAD_DATA_CASES would never run.
    assert sorted(bad_data_cases(tmp_path, images)) == sorted(BAD_DATA_CASES)


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
    sleep (about 0.6 s at this age; 8-20 s at a real epoch's), so 8 tries catch it nearly
    always (and the options check always); a healthy release takes milliseconds, so the
    bound leaves room for a busy machine.
    """
    import time

    images = make_images(512)
    dataset = make_dataset(images, 32, 0, 1, 512, noise_dim=8)
    assert dataset.options().autotune.enabled is False  # no tuner thread to wait for
    worst = 0.0
    for trial in range(8):
        iterator = iter(make_dataset(images, 32, 0, trial, 512, noise_dim=8).take(16))
        start = time.perf_counter()
        while time.perf_counter() - start < 0.65:  # the tuner would now sleep until ~1.3 s
            next(iterator)
            time.sleep(0.04)
        start = time.perf_counter()
        del iterator
        worst = max(worst, time.perf_counter() - start)
    assert worst < 0.3, f"releasing a cut-short epoch's iterator took {worst:.2f} s"


def test_local_data_of_the_other_dataset_is_warned_about(tmp_path):
    """--dataset fashion_mnist with a folder of MNIST digits would train on digits."""
    import warnings

    digits = np.zeros((100, 28, 28), np.uint8)
    digits[:, 9:19, 7:22] = 200  # a stroke on a black page: 81% of pixels are 0, as in MNIST
    clothes = np.full((100, 28, 28), 90, np.uint8)
    clothes[:, :, :14] = 0  # half the page blank
    for images, dataset, other in [
        (digits, "fashion_mnist", "mnist"),
        (clothes, "mnist", "fashion_mnist"),
    ]:
        path = tmp_path / f"{dataset}.npz"
        np.savez(path, x_train=images)
        with pytest.warns(UserWarning, match=f"look like {other}, not {dataset}"):
            load_data(dataset, path)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the dataset it is: no warning
            load_data(other, path)
