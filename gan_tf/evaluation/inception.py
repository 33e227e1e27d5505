"""FID and KID of image sets, on the 2048 pool features of Keras' ImageNet InceptionV3.

These are the usual sample-quality scores for images without labels, where the MNIST
classifier of `classifier` has nothing to say. `inception_model` builds the network (fetching
its ImageNet weights through Keras' cache, or reading a local weights file),
`inception_features` turns images into features, and `fid` and `kid` compare two feature
sets: FID (Heusel et al. 2017, https://arxiv.org/abs/1706.08500) with the Frechet distance
of `metrics`, KID (Binkowski et al. 2018, https://arxiv.org/abs/1801.01401) here.

The weights are Keras' InceptionV3 checkpoint, not the 2015 TensorFlow graph that the TTUR
code and pytorch-fid use, and images are resized by `tf.image.resize`: figures compare with
each other, not with published FIDs, which differ in both respects.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gan_tf.errors import EvaluationError, Remedy
from gan_tf.evaluation.metrics import check_features, check_same_dim, frechet_distance

if TYPE_CHECKING:  # Keras is imported where used, so importing this module stays quick
    import keras

# Keras' own file, address and MD5 for the headless ImageNet InceptionV3
# (keras/src/applications/inception_v3.py). We fetch it through the public
# `keras.utils.get_file` ourselves rather than let `InceptionV3(weights="imagenet")` do it
# through a private module, so that a failed download is ours to report, and the file
# lands in, and is found in, the same cache as Keras'.
WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
_WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/" + WEIGHTS_FILE
)
_WEIGHTS_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"
# The suffixes `keras.Model.load_weights` reads (anything else it refuses as unsupported).
_WEIGHTS_SUFFIXES = (".h5", ".weights.h5", ".hdf5", ".keras", ".weights.json")

DEFAULT_INPUT_SIZE = 299  # what InceptionV3 was trained at
# Below this the stride-2 stem and reduction blocks leave no spatial extent: Keras refuses it.
MIN_INPUT_SIZE = 75
FEATURE_DIM = 2048
# Below this many images a progress bar flashes by and only adds noise.
_PROGRESS_MIN_IMAGES = 1000

OFFLINE = Remedy(
    f"offline, point {{}} at a local copy of Keras' {WEIGHTS_FILE} (or any InceptionV3 "
    ".h5 or .weights.h5 weights file)",
    ("fid_weights",),
)


def _reason(error: Exception) -> str:
    """The gist of an error in one line: its first line, with the next one if the first
    only introduces it (Keras' "...could not be loaded. Example error message for ...:")."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    if lines[0].endswith(":") and len(lines) > 1:
        return f"{lines[0]} {lines[1]}"
    return lines[0]


def _fetch_imagenet_weights(cache_dir: str | Path | None) -> str:
    """The path of the ImageNet weights in Keras' cache, downloading them if absent."""
    import keras

    try:
        return keras.utils.get_file(
            WEIGHTS_FILE,
            _WEIGHTS_URL,
            cache_subdir="models",
            file_hash=_WEIGHTS_MD5,
            cache_dir=None if cache_dir is None else str(cache_dir),
        )
    except Exception as e:  # offline, proxy, disk full, checksum: the remedy is the same
        raise EvaluationError(
            f"could not download the InceptionV3 ImageNet weights with Keras ({_reason(e)})",
            remedies=[OFFLINE],
        ) from None


def _check_weights_file(weights: str | Path) -> str:
    """`weights` as a string after checking it names a file Keras can read weights from."""
    path = Path(weights)
    if not path.exists():
        raise EvaluationError(f"{path}: no such file", setting="fid_weights")
    if path.is_dir():
        raise EvaluationError(f"{path} is a folder, not a weights file", setting="fid_weights")
    if not path.name.endswith(_WEIGHTS_SUFFIXES):
        raise EvaluationError(
            f"{path}: not a Keras weights file (expected a name ending in "
            f"{', '.join(_WEIGHTS_SUFFIXES)})",
            setting="fid_weights",
        )
    # Catches a damaged or mislabelled file before InceptionV3 is built, which takes seconds.
    if path.name.endswith((".h5", ".hdf5")):
        import h5py  # Keras' own dependency for these files

        if not h5py.is_hdf5(path):
            raise EvaluationError(
                f"{path}: not an HDF5 file (damaged, or not a Keras weights file)",
                setting="fid_weights",
            )
    if path.name.endswith(".keras") and not zipfile.is_zipfile(path):
        raise EvaluationError(
            f"{path}: not a zip archive (damaged, or not a .keras file)", setting="fid_weights"
        )
    return str(path)


def inception_model(
    weights: str | Path | None = "imagenet",
    input_size: int = DEFAULT_INPUT_SIZE,
    *,
    cache_dir: str | Path | None = None,
) -> keras.Model:
    """Keras' InceptionV3 without its classifier, average-pooled to 2048 features.

    Args:
        weights: "imagenet" for Keras' ImageNet weights (downloaded once into Keras' cache
            and reused from there); the path of a local weights file (`.h5` such as Keras'
            own download, `.weights.h5`, `.keras`); or None for random weights (tests).
        input_size: the height and width images are resized to, at least 75 (Keras'
            minimum for InceptionV3); 299 is what it was trained at and what FID assumes.
        cache_dir: where Keras keeps downloads, holding a `models/` folder (default:
            $KERAS_HOME, else ~/.keras); used only for "imagenet".

    Returns:
        A `keras.Model` from (B, input_size, input_size, 3) images in [-1, 1] to (B, 2048)
        non-negative features.

    Raises:
        EvaluationError: the ImageNet weights could not be downloaded (offering a local file
            as `fid_weights`), or the local weights file is missing, a folder, of a kind
            Keras cannot read, damaged, or not InceptionV3's.
        ValueError: `input_size` is not an int of at least 75.
    """
    if isinstance(input_size, bool) or not isinstance(input_size, (int, np.integer)):
        raise ValueError(
            f"input_size must be an int of at least {MIN_INPUT_SIZE}, got {input_size!r}"
        )
    if input_size < MIN_INPUT_SIZE:
        raise ValueError(f"input_size must be at least {MIN_INPUT_SIZE}, got {input_size}")
    import keras

    if keras.config.image_data_format() != "channels_last":
        raise ValueError(
            "inception_model needs Keras' image_data_format 'channels_last', got "
            f"{keras.config.image_data_format()!r}"
        )
    # Fetch or check the file before building the network, which takes seconds.
    if weights is None:
        path = None
    elif isinstance(weights, str) and weights == "imagenet":
        path = _fetch_imagenet_weights(cache_dir)
    else:
        path = _check_weights_file(weights)

    model = keras.applications.InceptionV3(
        include_top=False,
        weights=None,
        input_shape=(int(input_size), int(input_size), 3),
        pooling="avg",
    )
    if path is not None:
        # What InceptionV3(weights=path) would do, but here its failures name the file. Keras
        # warns once per layer of a file that does not fit (over 90 lines for InceptionV3)
        # before it raises; the error says it in one line, so they are shown only on success.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model.load_weights(path)
                error = None
            except Exception as e:  # h5py, zipfile and Keras each fail in their own way
                error = e
        if error is not None:
            raise EvaluationError(
                f"{path}: not a readable InceptionV3 weights file ({_reason(error)})",
                setting=None if weights == "imagenet" else "fid_weights",
            )
        for warning in caught:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return model


def _check_images(images) -> np.ndarray:
    """`images` as an array after checking it is (N, H, W, 1 or 3), uint8 or in [-1, 1]."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        hint = " (add a channel axis to grey images: images[..., None])" if images.ndim == 3 else ""
        raise ValueError(
            f"images must be an (N, H, W, C) array with C 1 (grey) or 3 (RGB), got shape "
            f"{images.shape}{hint}"
        )
    if min(images.shape[:3]) < 1:
        raise ValueError(f"images must hold at least one non-empty image, got shape {images.shape}")
    if images.dtype == np.uint8:
        return images
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"images must be uint8 in [0, 255] or floating point in [-1, 1], got dtype "
            f"{images.dtype}"
        )
    if not np.all(np.isfinite(images)):
        raise ValueError("images contain NaN or inf")
    low, high = float(images.min()), float(images.max())
    if low < -1.0 or high > 1.0:
        raise ValueError(
            f"floating-point images must lie in [-1, 1] (uint8 ones in [0, 255]), got values "
            f"in [{low:g}, {high:g}]"
        )
    return images


def inception_features(
    model: keras.Model, images, batch_size: int = 50, progress: bool | None = None
) -> np.ndarray:
    """InceptionV3 pool features of a set of images, batch by batch.

    Each batch is repeated to RGB if grey, scaled to [-1, 1] as
    `keras.applications.inception_v3.preprocess_input` does (x / 127.5 - 1) if uint8, and
    resized bilinearly (`tf.image.resize`: half-pixel centres, no antialiasing) to the
    model's input size. Bilinear weights sum to 1, so scaling before resizing or after gives
    the same images.

    Args:
        model: from `inception_model`.
        images: (N, H, W, C) with C 1 (grey, repeated to RGB) or 3 (RGB); either uint8 in
            [0, 255] (as read from files) or floating point in [-1, 1] (as the generator
            makes them). Floats in [0, 1] cannot be told from [-1, 1]: scale them first.
        batch_size: images per forward pass, >= 1.
        progress: a tqdm progress bar on stderr: True shows it, False hides it, None shows
            it for 1000 images or more when stderr is a terminal. Never shown if tqdm is not
            installed (it is not one of gan_tf's requirements).

    Returns:
        (N, 2048) float64 features.

    Raises:
        ValueError: `images` has the wrong shape, dtype or range, or `batch_size` is not a
            positive int.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size}")
    images = _check_images(images)
    import keras
    import tensorflow as tf

    size = tuple(model.input_shape[1:3])  # (input_size, input_size)
    count = len(images)
    bar = _progress_bar(count, progress)
    features = []
    try:
        for start in range(0, count, batch_size):
            batch = images[start : start + batch_size]
            if batch.shape[-1] == 1:
                batch = np.repeat(batch, 3, axis=-1)  # (B, H, W, 3)
            if batch.dtype == np.uint8:
                batch = keras.applications.inception_v3.preprocess_input(batch.astype(np.float32))
            batch = tf.image.resize(tf.constant(batch, tf.float32), size, method="bilinear")
            # state size. (B, input_size, input_size, 3) in [-1, 1]
            features.append(np.asarray(model(batch, training=False), dtype=np.float64))
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
    return np.concatenate(features)  # (N, 2048)


def _progress_bar(total: int, progress: bool | None):
    """A tqdm bar over `total` images, or None (not wanted, or tqdm not installed)."""
    if progress is False or (progress is None and total < _PROGRESS_MIN_IMAGES):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    # disable=None: tqdm hides itself when stderr is not a terminal (logs, CI).
    disable = None if progress is None else False
    return tqdm(total=total, unit="image", desc="Inception features", disable=disable)


def fid(real_features, fake_features) -> float:
    """Frechet Inception Distance: the Frechet distance of Gaussians fitted to two sets.

    Args:
        real_features: (N_real, D) features of real images, N_real >= 2 (`inception_features`).
        fake_features: (N_fake, D) features of generated images, N_fake >= 2.

    Returns:
        FID as a float >= 0; 0 for identical sets. It is biased upwards for small N, so
        compare figures computed from equal N (FID papers use 50,000).

    Raises:
        ValueError: either set is not a finite 2-D array of at least 2 rows, or their
            feature dimensions differ.
    """
    return frechet_distance(real_features, fake_features)


def _polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 of equal-sized samples x, y (m, D) under k(a, b) = (a.b / D + 1)^3."""
    m, dim = x.shape
    k_xx = (x @ x.T / dim + 1.0) ** 3  # (m, m)
    k_yy = (y @ y.T / dim + 1.0) ** 3  # (m, m)
    k_xy = (x @ y.T / dim + 1.0) ** 3  # (m, m)
    # Unbiased: the diagonals k(x_i, x_i) pair a sample with itself and are left out.
    same_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    same_y = (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(same_x + same_y - 2.0 * k_xy.mean())


def kid(
    real_features, fake_features, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Kernel Inception Distance (Binkowski et al. 2018, https://arxiv.org/abs/1801.01401).

    The unbiased estimate of the squared MMD with the cubic polynomial kernel
    k(x, y) = (x.y / D + 1)^3, averaged over `subsets` pairs of random subsets of
    m = min(subset_size, N_real, N_fake) rows, each drawn without replacement. Unlike FID it
    is unbiased, so figures from different N compare; it can come out slightly below 0 when
    the two sets are alike.

    Args:
        real_features: (N_real, D) features of real images, N_real >= 2.
        fake_features: (N_fake, D) features of generated images, N_fake >= 2.
        subsets: how many subset pairs to average, >= 1.
        subset_size: rows per subset, >= 2 (capped at the smaller set's size).
        seed: seeds the subset draws, so a figure can be reproduced.

    Returns:
        (mean, std) of the subsets' estimates, floats; std is the population standard
        deviation (0 for one subset), a measure of the estimate's spread, not its error.

    Raises:
        ValueError: either set is not a finite 2-D array of at least 2 rows, their feature
            dimensions differ, or `subsets` or `subset_size` is out of range.
    """
    real = check_features(real_features, "real_features")
    fake = check_features(fake_features, "fake_features")
    check_same_dim(real, fake, "real_features", "fake_features")
    for name, value, least in (("subsets", subsets, 1), ("subset_size", subset_size, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"{name} must be an int of at least {least}, got {value!r}")
    m = min(int(subset_size), len(real), len(fake))
    rng = np.random.default_rng(seed)
    estimates = np.array(
        [
            _polynomial_mmd2(
                real[rng.choice(len(real), m, replace=False)],
                fake[rng.choice(len(fake), m, replace=False)],
            )
            for _ in range(int(subsets))
        ]
    )
    return float(estimates.mean()), float(estimates.std())
