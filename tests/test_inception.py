"""FID and KID on InceptionV3 features: the feature path run on a randomly initialised network
at Keras' minimum input size (75), KID pinned against its formula written out pair by pair,
and the weights' failures (offline, missing or damaged file) as one-line errors. Nothing is
downloaded: the offline test replaces Keras' downloader."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gan_tf.cli.common import flag
from gan_tf.errors import EvaluationError
from gan_tf.evaluation.inception import (
    FEATURE_DIM,
    MIN_INPUT_SIZE,
    WEIGHTS_FILE,
    fid,
    inception_features,
    inception_model,
    kid,
)
from gan_tf.evaluation.metrics import frechet_distance


@pytest.fixture(scope="module")
def model():
    """Random weights: the same code path as ImageNet's, without the 87 MB download."""
    import keras

    keras.utils.set_random_seed(0)
    return inception_model(weights=None, input_size=MIN_INPUT_SIZE)


@pytest.fixture(scope="module")
def grey():
    """8 uint8 16x16 grey images, noise so every pixel value matters."""
    return np.random.default_rng(0).integers(0, 256, (8, 16, 16, 1), dtype=np.uint8)


@pytest.fixture(scope="module")
def grey_features(model, grey):
    return inception_features(model, grey)


def test_features_of_grey_images_are_finite_2048_vectors(grey_features):
    assert grey_features.shape == (8, FEATURE_DIM)
    assert grey_features.dtype == np.float64
    assert np.all(np.isfinite(grey_features))
    # Average-pooled ReLU outputs; and not all zero, or every comparison below is vacuous.
    assert grey_features.min() >= 0 and grey_features.max() > 0


def test_grey_images_are_repeated_to_rgb(model, grey, grey_features):
    rgb = np.repeat(grey, 3, axis=-1)
    np.testing.assert_allclose(inception_features(model, rgb), grey_features, rtol=1e-6)


def test_rgb_images_give_distinct_features_per_image(model):
    rgb = np.random.default_rng(1).integers(0, 256, (8, 16, 16, 3), dtype=np.uint8)
    features = inception_features(model, rgb)
    assert features.shape == (8, FEATURE_DIM) and np.all(np.isfinite(features))
    assert not np.allclose(features[0], features[1])


def test_uint8_and_float_images_agree_in_any_batch_size(model, grey, grey_features):
    scaled = (grey / 127.5 - 1.0).astype(np.float32)  # what the generator's tanh gives
    features = inception_features(model, scaled, batch_size=3)  # batches of 3, 3, 2
    # Float32 round-off in the scaling, against features of size ~1e-3.
    np.testing.assert_allclose(features, grey_features, rtol=1e-5, atol=1e-8)


def test_progress_bar_counts_images_and_leaves_features_alone(model, grey, grey_features, capsys):
    pytest.importorskip("tqdm", reason="the progress bar is tqdm's; gan_tf runs without it")
    features = inception_features(model, grey, batch_size=5, progress=True)
    err = capsys.readouterr().err
    assert "Inception features" in err and "8/8" in err
    # Other batch sizes take other oneDNN kernels: equal to float32 round-off.
    np.testing.assert_allclose(features, grey_features, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(
    ("images", "match"),
    [
        (np.zeros((8, 16, 16), np.uint8), r"\(N, H, W, C\).*images\[\.\.\., None\]"),
        (np.zeros((8, 16, 16, 2), np.uint8), "C 1 .* or 3"),
        (np.zeros((8, 16, 16, 4), np.uint8), "C 1 .* or 3"),
        (np.zeros((0, 16, 16, 1), np.uint8), "at least one"),
        (np.zeros((8, 16, 16, 1), np.int64), "dtype int64"),
        (np.zeros((8, 16, 16, 1), bool), "dtype bool"),
        (np.full((8, 16, 16, 1), 255.0, np.float32), r"\[-1, 1\].*\[255, 255\]"),
        (np.full((8, 16, 16, 1), np.nan, np.float32), "NaN"),
    ],
    ids=[
        "no-channel-axis",
        "2-channels",
        "4-channels",
        "empty",
        "int64",
        "bool",
        "0-255-float",
        "nan",
    ],
)
def test_bad_images_raise_value_error(model, images, match):
    with pytest.raises(ValueError, match=match):
        inception_features(model, images)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_bad_batch_size_raises_value_error(model, grey, batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        inception_features(model, grey, batch_size=batch_size)


@pytest.mark.parametrize("input_size", [MIN_INPUT_SIZE - 1, 75.0, None])
def test_bad_input_size_raises_value_error(input_size):
    with pytest.raises(ValueError, match="input_size"):
        inception_model(weights=None, input_size=input_size)


def test_saved_weights_load_back_to_identical_features(model, grey, grey_features, tmp_path):
    path = tmp_path / "inception.weights.h5"
    model.save_weights(path)
    loaded = inception_model(weights=path, input_size=MIN_INPUT_SIZE)
    np.testing.assert_array_equal(inception_features(loaded, grey), grey_features)


def test_offline_imagenet_weights_name_the_remedy(monkeypatch, tmp_path):
    import keras

    cache = tmp_path / "keras"
    cache.mkdir()
    calls = []

    def offline_get_file(fname, origin, **kwargs):
        calls.append((fname, kwargs.get("cache_dir")))
        # What Keras raises when the name cannot be resolved.
        raise Exception(
            f"URL fetch failure on {origin}: None -- [Errno -3] Temporary failure in name "
            "resolution"
        )

    # inception_model downloads through this public name (InceptionV3 itself would call a
    # private module's copy, which patching here would not reach).
    monkeypatch.setattr(keras.utils, "get_file", offline_get_file)
    with pytest.raises(EvaluationError) as caught:
        inception_model(weights="imagenet", input_size=MIN_INPUT_SIZE, cache_dir=cache)
    assert calls == [(WEIGHTS_FILE, str(cache))]
    message = str(caught.value)
    assert "\n" not in message
    assert "could not download the InceptionV3 ImageNet weights" in message
    assert "Temporary failure in name resolution" in message
    assert [remedy.settings for remedy in caught.value.remedies] == [("fid_weights",)]
    assert "point fid_weights at a local copy" in message
    assert "point --fid-weights at a local copy" in caught.value.render(flag)
    assert list(cache.iterdir()) == []


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _small_weights_file(path):
    """A valid Keras weights file of some other network."""
    import keras

    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    other.save_weights(path)
    return path


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda tmp: tmp / "absent.weights.h5", "absent.weights.h5: no such file"),
        (lambda tmp: tmp, "is a folder, not a weights file"),
        (
            lambda tmp: _write(tmp / "weights.npz", b"x"),
            r"weights.npz: not a Keras weights file \(expected a name ending in .h5",
        ),
        (
            lambda tmp: _write(tmp / "junk.weights.h5", b"not hdf5" * 64),
            "junk.weights.h5: not an HDF5 file",
        ),
        (
            lambda tmp: _write(tmp / "junk.h5", b"not hdf5" * 64),
            "junk.h5: not an HDF5 file",
        ),
        (
            lambda tmp: _write(tmp / "junk.keras", b"not a zip" * 64),
            "junk.keras: not a zip archive",
        ),
        (
            lambda tmp: _small_weights_file(tmp / "dense.weights.h5"),
            "dense.weights.h5: not a readable InceptionV3 weights file .*could not be loaded",
        ),
    ],
    ids=[
        "missing",
        "folder",
        "wrong-suffix",
        "corrupt-weights-h5",
        "corrupt-h5",
        "corrupt-keras",
        "other-model",
    ],
)
def test_bad_local_weights_raise_one_line_naming_the_file(tmp_path, recwarn, make, match):
    path = make(tmp_path)
    with pytest.raises(EvaluationError, match=match) as caught:
        inception_model(weights=path, input_size=MIN_INPUT_SIZE)
    # Keras' warning per unloaded layer would bury the one line above it.
    assert not [w for w in recwarn if "container" in str(w.message)]
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    assert caught.value.setting == "fid_weights"
    assert caught.value.render(flag).startswith(f"--fid-weights {path}")


def _direct_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3, pair by pair in plain Python."""
    x, y = x.tolist(), y.tolist()
    d = len(x[0])

    def k(a, b):
        return (sum(ai * bi for ai, bi in zip(a, b, strict=True)) / d + 1) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i, j in itertools.product(range(m), repeat=2) if i != j)
    yy = sum(k(y[i], y[j]) for i, j in itertools.product(range(n), repeat=2) if i != j)
    xy = sum(k(a, b) for a in x for b in y)
    return xx / (m * (m - 1)) + yy / (n * (n - 1)) - 2 * xy / (m * n)


@pytest.mark.parametrize("subset_size", [7, 1000])  # 1000: capped at N, still no sampling
def test_kid_matches_the_formula_pair_by_pair(subset_size):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 5))
    y = rng.normal(0.3, 1.2, size=(7, 5))
    mean, std = kid(x, y, subsets=1, subset_size=subset_size)
    assert mean == pytest.approx(_direct_mmd2(x, y), rel=1e-12)
    assert mean > 0 and std == 0.0


def test_kid_is_near_zero_for_one_distribution_and_positive_for_shifted():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 1000, 16))
    same, same_std = kid(x, y, subsets=20, subset_size=200)
    shifted, _ = kid(x, y + 0.5, subsets=20, subset_size=200)
    assert shifted > 0.5
    assert abs(same) < 0.05 * shifted
    assert 0 < same_std < shifted


def test_kid_is_seeded():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 300, 8))
    first = kid(x, y, subsets=5, subset_size=50, seed=0)
    assert kid(x, y, subsets=5, subset_size=50, seed=0) == first
    assert kid(x, y, subsets=5, subset_size=50, seed=1) != first


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"subsets": 0}, "subsets must be an int of at least 1"),
        ({"subset_size": 1}, "subset_size must be an int of at least 2"),
        ({"subsets": 2.0}, "subsets"),
    ],
)
def test_kid_rejects_bad_settings(kwargs, match):
    x = np.random.default_rng(0).normal(size=(10, 4))
    with pytest.raises(ValueError, match=match):
        kid(x, x, **kwargs)


def test_kid_rejects_mismatched_features():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="same feature dimension"):
        kid(rng.normal(size=(10, 4)), rng.normal(size=(10, 5)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        kid(rng.normal(size=(1, 4)), rng.normal(size=(10, 4)))


def test_fid_is_the_frechet_distance():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8))
    y = rng.normal(1.0, 1.0, size=(200, 8))
    assert fid(x, x) == pytest.approx(0.0, abs=1e-9)
    assert fid(x, y) == frechet_distance(x, y)
    assert fid(x, y) > 1.0
