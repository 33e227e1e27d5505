"""Data as training sees it: which dataset, read from where, and the tutorial's input pipeline.

`load_data` reads a local file or folder with the right reader of `gan_tf.datasets` (IDX
files or an .npz, a folder of images, CIFAR-10's batches), or goes through Keras' cached
download, and returns uint8 arrays as `keras.datasets.mnist.load_data()` does, cropped,
resized and converted on request. `make_dataset` turns the training images into the
tutorial's input pipeline (scaled to [-1, 1], shuffled, batched), one epoch at a time so the
order of epoch e depends only on (seed, e) and a resumed run sees the same batches as one
that never stopped.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from gan_tf.datasets import Data
from gan_tf.datasets.cifar import load_cifar10
from gan_tf.datasets.folder import IMAGE_SUFFIXES, load_image_folder
from gan_tf.datasets.idx import (
    IDX_NAMES,
    IMAGE_SHAPE,
    check,
    find_idx,
    load_idx_folder,
    load_npz,
    read_head,
    read_idx,
)
from gan_tf.datasets.prepare import prepare_images
from gan_tf.errors import ConfigError, DataError, Remedy
from gan_tf.files import default_cache_dir

# Where to look for MNIST when no data path is given, before downloading (offline machines,
# CI); each other dataset has its own variable (`data_env`), so a local MNIST is never
# taken for Fashion-MNIST.
DATA_ENV = "GAN_TF_DATA"


def load_data(
    dataset: str = "mnist",
    data: str | Path | None = None,
    image_size: int | None = None,
    crop: int | None = None,
    channels: int | None = None,
    cache_dir: str | Path | None = None,
) -> Data:
    """Loads a dataset from a local path, or through Keras' downloader.

    Args:
        dataset: "mnist", "fashion_mnist", "cifar10" or "folder" (a folder of image files,
            `gan_tf.datasets.folder.load_image_folder`).
        data: a Keras-format `.npz` (x_train, y_train, x_test, y_test), a folder
            of IDX files (`.gz` or raw, standard names), or one IDX image file; for
            cifar10, its python folder or `.tar.gz`; for "folder", the folder of images.
            None: the dataset's variable if set (`data_env`: $GAN_TF_DATA for
            MNIST), else a download.
        image_size, crop, channels: centre-crop (to crop x crop pixels first, if given),
            resize to image_size and convert to `channels` (`gan_tf.datasets.prepare`). Left
            out, the images stay as the data has them (a folder's at 64 pixels).
        cache_dir: where a folder's decoded images are cached (default: `gan_tf.files.
            default_cache_dir()`); never inside the folder.

    Returns:
        A `Data` of uint8 arrays: images (N, H, W) for MNIST-style data as it comes, else
        (N, H, W, C).

    Raises:
        DataError: with a one-line message naming the file and the problem.
        ConfigError: image_size, crop or channels out of range, or no folder given for
            dataset "folder".
    """
    if data is None:
        data = os.environ.get(data_env(dataset)) or None
    if dataset == "folder":
        if data is None:
            raise ConfigError(
                "must name a folder of images for the dataset 'folder'", setting="data"
            )
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        return load_image_folder(data, image_size or 64, crop, channels, cache / "images")
    loaded = download(dataset) if data is None else _load_local(dataset, Path(data))
    return _reshaped(loaded, image_size, crop, channels)


def load_run_data(config) -> Data:
    """The data as a run of `config` (a `gan_tf.config.Config`) trains on it: its dataset
    and path, at its image size, crop and channels; a folder's decoded images cached in its
    cache_dir. Training, a study's classifier and its final evaluation all read it here, so
    that each sees the same images (and the classifier's cache key matches)."""
    return load_data(
        config.dataset,
        config.data,
        config.image_size,
        config.crop,
        config.channels,
        config.cache_dir,
    )


def _load_local(dataset: str, path: Path) -> Data:
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if dataset == "cifar10":
        return load_cifar10(path)
    if path.is_dir():
        if _is_image_folder(path):
            raise DataError(
                f"{path} holds image files, not {dataset}'s IDX files",
                remedies=[
                    Remedy("for a folder of your own images, set {} to folder", ("dataset",))
                ],
            )
        loaded = load_idx_folder(path)
    elif read_head(path, 4)[:2] == b"PK" or path.suffix == ".npz":
        loaded = load_npz(path)
    else:
        loaded = check(Data(read_idx(path, ndim=3), None, None, None), path)
    _warn_if_another_dataset(loaded.x_train, dataset, path)
    return loaded


def guess_dataset(path: str | Path) -> str | None:
    """The dataset a local path holds, where it tells: "folder" for a folder of image files
    (and no IDX files), "cifar10" for CIFAR-10's python folder or archive; else None."""
    path = Path(path)
    if path.name.startswith("cifar-10") or (path / "data_batch_1").is_file():
        return "cifar10"
    if (path / "cifar-10-batches-py").is_dir() or (path / "cifar-10-python.tar.gz").is_file():
        return "cifar10"
    return "folder" if path.is_dir() and _is_image_folder(path) else None


def _is_image_folder(folder: Path) -> bool:
    """Whether a folder holds image files and no IDX files: an image file lies in it or one
    level down (a quick look, not a full search)."""
    if any(find_idx(folder, key) for key in IDX_NAMES):
        return False
    try:
        entries = [*folder.iterdir()]
        entries += [e for d in entries if d.is_dir() for e in d.iterdir()]
    except OSError:
        return False
    return any(e.suffix.lower() in IMAGE_SUFFIXES and e.is_file() for e in entries)


def _reshaped(data: Data, image_size, crop, channels) -> Data:
    """`data` with its images cropped, resized and converted, where that changes them."""
    if image_size is None and crop is None and channels is None:
        return data
    size, have = data.x_train.shape[1], image_channels(data.x_train)
    if (image_size in (None, size)) and crop is None and channels in (None, have):
        return data

    def prepare(images):
        return (
            None if images is None else prepare_images(images, image_size or size, crop, channels)
        )

    return data._replace(x_train=prepare(data.x_train), x_test=prepare(data.x_test))


def image_channels(images: np.ndarray) -> int:
    """The channels of uint8 images (N, H, W) (1) or (N, H, W, C) (C)."""
    return images.shape[3] if images.ndim == 4 else 1


# The share of pixels that are exactly 0: MNIST's digits sit on a black page (about 81% of
# pixels), Fashion-MNIST's clothes fill much more of theirs (about 50%).
_BLANK_SHARE = {"mnist": 0.81, "fashion_mnist": 0.50}


def _warn_if_another_dataset(images: np.ndarray, dataset: str, source: Path) -> None:
    """Warns when local images look like the other known dataset than the one named (a
    folder of MNIST digits given for Fashion-MNIST trains on digits, silently otherwise)."""
    if images.shape[1:] != IMAGE_SHAPE or not len(images):
        return
    sample = images[: min(len(images), 5000)]
    blank = float(np.mean(sample == 0))
    closest = min(_BLANK_SHARE, key=lambda name: abs(_BLANK_SHARE[name] - blank))
    # Only a clear match of the other dataset and a clear miss of this one: images of
    # neither (a user's own, synthetic ones) are not second-guessed.
    if abs(_BLANK_SHARE[closest] - blank) < 0.08 and abs(_BLANK_SHARE[dataset] - blank) > 0.2:
        warnings.warn(
            f"{source}: these images look like {closest}, not {dataset} ({blank:.0%} of "
            f"pixels are 0; {closest} has about {_BLANK_SHARE[closest]:.0%}, {dataset} about "
            f"{_BLANK_SHARE[dataset]:.0%})",
            stacklevel=2,
        )


# What a local copy of each dataset Keras downloads may be.
_LOCAL_COPY = {
    "mnist": "a Keras-format .npz or a folder of its IDX files",
    "cifar10": "its python folder, cifar-10-batches-py, or cifar-10-python.tar.gz",
}


def data_env(dataset: str) -> str:
    """The environment variable naming a local copy of `dataset`: GAN_TF_DATA for MNIST,
    GAN_TF_DATA_FASHION_MNIST for Fashion-MNIST."""
    return DATA_ENV if dataset == "mnist" else f"{DATA_ENV}_{dataset.upper()}"


def download(dataset: str) -> Data:
    """`dataset` through Keras' downloader (cached in ~/.keras/datasets).

    Raises:
        DataError: the download failed (offline, say); it says how to use a local copy.
    """
    import keras

    loaders = {
        "mnist": keras.datasets.mnist,
        "fashion_mnist": keras.datasets.fashion_mnist,
        "cifar10": keras.datasets.cifar10,
    }
    if dataset not in loaders:
        raise DataError(f"unknown dataset {dataset!r}; choose from {', '.join(loaders)}")
    try:
        (x_train, y_train), (x_test, y_test) = loaders[dataset].load_data()
    except Exception as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        copy = _LOCAL_COPY.get(dataset, _LOCAL_COPY["mnist"])
        offline = Remedy(
            f"offline, point {{}} at a local copy ({copy}), or set ${data_env(dataset)} to one",
            ("data",),
        )
        raise DataError(
            f"could not download {dataset} with Keras ({reason})", remedies=[offline]
        ) from None
    # CIFAR-10's labels come as (N, 1).
    y_train, y_test = y_train.reshape(-1), y_test.reshape(-1)
    return Data(x_train, y_train, x_test, y_test, source=f"Keras' {dataset} download")


def scale_images(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) or (N, H, W, C) -> float32 (N, H, W, C) in [-1, 1], the tutorial's
    `(x - 127.5) / 127.5`.

    Args:
        images: uint8 images.

    Returns:
        float32 images with a channel axis, in the generator's range.
    """
    if images.ndim == 3:
        images = images[..., None]
    return (images.astype(np.float32) - 127.5) / 127.5


def make_dataset(
    images: np.ndarray,
    batch_size: int,
    seed: int,
    epoch: int,
    buffer_size: int,
    noise_dim: int | None = None,
):
    """The tutorial's pipeline for one epoch: shuffle, batch, scale to [-1, 1].

    Args:
        images: uint8 (N, H, W) or (N, H, W, C), kept as uint8 until batched (4x less
            memory).
        batch_size: images per batch; the last batch may be smaller.
        seed, epoch: the shuffle order (and the noise) is a function of both, nothing else.
        buffer_size: the shuffle buffer (tutorial: 60000, a full shuffle of MNIST).
        noise_dim: if given, each batch comes with its generator noise, drawn
            statelessly from (seed, epoch, batch index): a resumed run, or one
            spread over several devices, sees the same noise as a single one.

    Returns:
        A `tf.data.Dataset` of float32 (B, H, W, C) batches, or of
        (images, noise (B, noise_dim)) pairs when `noise_dim` is given.
    """
    import tensorflow as tf

    grey = images.ndim == 3  # MNIST as Keras gives it: no channel axis

    def scale(batch):
        # (B, H, W[, C]) uint8 -> (B, H, W, C) float32 in [-1, 1]
        if grey:
            batch = batch[..., tf.newaxis]
        return (tf.cast(batch, tf.float32) - 127.5) / 127.5

    epoch_seed = int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])
    dataset = (
        tf.data.Dataset.from_tensor_slices(images)
        .shuffle(buffer_size, seed=epoch_seed, reshuffle_each_iteration=False)
        .batch(batch_size)
    )
    if noise_dim is None:
        dataset = dataset.map(scale, num_parallel_calls=_PARALLEL_CALLS)
    else:

        def with_noise(index, batch):
            noise_seed = tf.stack([tf.constant(epoch_seed % 2**31, tf.int64), index])
            noise = tf.random.stateless_normal([tf.shape(batch)[0], noise_dim], seed=noise_seed)
            return scale(batch), noise

        dataset = dataset.enumerate().map(with_noise, num_parallel_calls=_PARALLEL_CALLS)
    return dataset.prefetch(_PREFETCH).with_options(pipeline_options())


# Batches kept ready, and batches prepared at once: a cast and a noise draw per batch
# need no more, on a CPU or a GPU (benchmarks/epoch_speed.py).
_PREFETCH = 2
_PARALLEL_CALLS = 2


def pipeline_options():
    """tf.data options for the training pipeline: fixed settings, no autotuner.

    tf.data's autotuner runs one background thread per iterator that sleeps
    between tuning rounds, each sleep twice as long as the last (up to a minute),
    and dropping the iterator does not always wake it: releasing an epoch's
    iterator before its end (max_steps_per_epoch) then waited out the rest of
    that sleep, about 8-20 s an epoch on a 2-core CPU (issue 13, benchmarks/README.md).
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def steps_per_epoch(n_images: int, config, replicas: int = 1) -> int:
    """Batches per epoch: every image once, the last batch smaller if need be.

    Under a strategy with several replicas, a last batch of fewer images than
    replicas is left out: it cannot be split so that each replica gets one.
    """
    full, rest = divmod(n_images, config.batch_size)
    steps = full + (1 if rest >= replicas else 0)
    return min(steps, config.max_steps_per_epoch or steps)


def training_images(data, config) -> np.ndarray:
    """The training images, or a seeded subset of `config.train_limit` of them (uint8)."""
    images = data.x_train
    if config.train_limit and config.train_limit < len(images):
        rng = np.random.default_rng([config.seed, 11])
        images = images[np.sort(rng.choice(len(images), config.train_limit, replace=False))]
    return images
