"""Sample-quality metrics computed from arrays: Frechet distance, classifier score and mode
coverage (the k-NN ones, precision/recall and density/coverage, are in `knn`).

Everything here is pure numpy/scipy on features, probabilities or labels that some classifier
has already produced, so the module never imports TensorFlow and the tests run in milliseconds.
Definitions follow TF-GAN (`frechet_classifier_distance`, `classifier_score`), so numbers can
be compared with published ones.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special

# Softmax outputs in float32 sum to 1 only within a few ulps per class.
_ROW_SUM_ATOL = 1e-4


def check_features(features: np.ndarray, name: str) -> np.ndarray:
    """Returns `features` as float64 after checking it is a finite (N >= 2, D) array."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, D) array, got shape {features.shape}")
    if features.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 rows (samples), got {features.shape[0]}")
    if features.shape[1] < 1:
        raise ValueError(f"{name} needs at least 1 feature column, got shape {features.shape}")
    if not np.all(np.isfinite(features)):
        raise ValueError(f"{name} contains NaN or inf")
    return features


def check_same_dim(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raises ValueError unless two feature sets have the same number of columns."""
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{name_a} and {name_b} must have the same feature dimension, "
            f"got {a.shape[1]} and {b.shape[1]}"
        )


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fits a Gaussian to a feature set, as TF-GAN does before its Frechet distance.

    Cache the result for the real data and pass it to `frechet_distance_from_stats`.

    Args:
        features: (N, D) finite features, N >= 2.

    Returns:
        (mu, sigma): the (D,) float64 mean and the (D, D) float64 unbiased (N - 1) covariance.

    Raises:
        ValueError: if `features` is not a finite 2-D array with at least 2 rows.
    """
    features = check_features(features, "features")
    mu = features.mean(axis=0)
    # atleast_2d: np.cov returns a 0-d array when D == 1.
    sigma = np.atleast_2d(np.cov(features, rowvar=False, ddof=1))
    return mu, sigma


def _trace_sqrt_product(sigma_a: np.ndarray, sigma_b: np.ndarray) -> float:
    """Tr((sigma_a sigma_b)^{1/2}) of two covariance matrices, from eigenvalues.

    sigma_a sigma_b is similar to the symmetric PSD matrix M = sigma_a^{1/2} sigma_b
    sigma_a^{1/2}, so the eigenvalues of its square root are the square roots of M's, and
    the trace is their sum. Two symmetric eigendecompositions replace a general matrix square
    root (scipy's sqrtm): the same value up to round-off, about 20x faster at D = 2048
    (InceptionV3 features), and never complex. Eigenvalues a little below 0 from round-off
    (singular covariances: dead features of a poor generator) count as 0.
    """
    w, v = np.linalg.eigh(sigma_a)
    root_a = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    m = root_a @ sigma_b @ root_a
    eigenvalues = np.linalg.eigvalsh((m + m.T) / 2)  # symmetric up to round-off; made exact
    return float(np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))))


def frechet_distance_from_stats(
    mu_a: np.ndarray, sigma_a: np.ndarray, mu_b: np.ndarray, sigma_b: np.ndarray
) -> float:
    """Frechet distance between N(mu_a, sigma_a) and N(mu_b, sigma_b).

    ||mu_a - mu_b||^2 + Tr(sigma_a + sigma_b - 2 (sigma_a sigma_b)^{1/2}), in float64.

    Args:
        mu_a: (D,) mean of the first Gaussian.
        sigma_a: (D, D) covariance of the first Gaussian.
        mu_b: (D,) mean of the second Gaussian.
        sigma_b: (D, D) covariance of the second Gaussian.

    Returns:
        The distance as a Python float, >= 0 (round-off below 0 is clipped to 0).

    Raises:
        ValueError: on mismatched shapes or non-finite values.
    """
    mu_a, mu_b = (np.asarray(m, dtype=np.float64) for m in (mu_a, mu_b))
    sigma_a, sigma_b = (np.asarray(s, dtype=np.float64) for s in (sigma_a, sigma_b))
    dim = mu_a.shape[0] if mu_a.ndim == 1 else -1
    if mu_a.ndim != 1 or mu_b.shape != (dim,):
        raise ValueError(
            f"mu_a and mu_b must be 1-D of equal length, got {mu_a.shape}, {mu_b.shape}"
        )
    if sigma_a.shape != (dim, dim) or sigma_b.shape != (dim, dim):
        raise ValueError(
            f"sigma_a and sigma_b must be ({dim}, {dim}) to match the means, "
            f"got {sigma_a.shape} and {sigma_b.shape}"
        )
    if not all(np.all(np.isfinite(x)) for x in (mu_a, sigma_a, mu_b, sigma_b)):
        raise ValueError("means and covariances must be finite")

    diff = mu_a - mu_b
    tr_covmean = _trace_sqrt_product(sigma_a, sigma_b)
    distance = float(diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2.0 * tr_covmean)
    # Identical distributions give ~-1e-12 from round-off; a distance is never negative.
    return max(distance, 0.0)


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (TF-GAN's FCD/FID).

    Args:
        features_a: (N_a, D) finite features, N_a >= 2, e.g. classifier activations on real
            images.
        features_b: (N_b, D) finite features, N_b >= 2, e.g. on generated images.

    Returns:
        The distance as a Python float, >= 0; 0 for a set compared with itself.

    Raises:
        ValueError: if either set is not a finite 2-D array with at least 2 rows, or the
            feature dimensions differ.
    """
    a = check_features(features_a, "features_a")
    b = check_features(features_b, "features_b")
    check_same_dim(a, b, "features_a", "features_b")
    if max(len(a), len(b)) >= a.shape[1]:
        return frechet_distance_from_stats(*gaussian_stats(a), *gaussian_stats(b))
    # Fewer images than features (a folder's few hundred on InceptionV3's 2048): with
    # centred X_a, X_b, sigma_a sigma_b = X_a' X_a X_b' X_b / ((n_a - 1)(n_b - 1)) has the
    # nonzero eigenvalues of K K' for K = X_a X_b', so the trace of its square root is the
    # sum of K's singular values: an n_a x n_b problem instead of a D x D one.
    x_a, x_b = a - a.mean(axis=0), b - b.mean(axis=0)
    scale = math.sqrt((len(a) - 1) * (len(b) - 1))
    tr_covmean = float(np.linalg.svd(x_a @ x_b.T, compute_uv=False).sum()) / scale
    diff = a.mean(axis=0) - b.mean(axis=0)
    traces = np.sum(x_a * x_a) / (len(a) - 1) + np.sum(x_b * x_b) / (len(b) - 1)
    return max(float(diff @ diff + traces - 2.0 * tr_covmean), 0.0)


def classifier_score(probs: np.ndarray) -> float:
    """TF-GAN's classifier score (the Inception score with any classifier).

    exp(E_x[KL(p(y|x) || p(y))]) with p(y) the mean of `probs` over samples. Uses
    xlogy-style terms, so zero probabilities contribute 0 instead of NaN: where p(y|x) > 0
    the marginal p(y) is > 0 too, and no epsilon is needed.

    Args:
        probs: (N, C) class probabilities, N >= 1, non-negative, rows summing to 1 within
            1e-4 (rows are renormalised in float64 after this check).

    Returns:
        The score as a Python float in [1, C]: 1 when every row is the same distribution,
        C when predictions are confident and spread evenly over C classes.

    Raises:
        ValueError: if `probs` is not a finite, non-negative 2-D array whose rows sum to 1.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] < 1 or probs.shape[1] < 1:
        raise ValueError(f"probs must be a non-empty 2-D (N, C) array, got shape {probs.shape}")
    if not np.all(np.isfinite(probs)):
        raise ValueError("probs contains NaN or inf")
    if np.any(probs < 0):
        raise ValueError("probs must be non-negative (pass softmax outputs, not logits)")
    row_sums = probs.sum(axis=1)
    bad = np.flatnonzero(np.abs(row_sums - 1.0) > _ROW_SUM_ATOL)
    if bad.size:
        raise ValueError(
            f"every row of probs must sum to 1 (within {_ROW_SUM_ATOL}); "
            f"row {bad[0]} sums to {row_sums[bad[0]]}"
        )
    probs = probs / row_sums[:, None]
    marginal = probs.mean(axis=0)  # (C,) p(y)
    kl = scipy.special.rel_entr(probs, marginal[None, :]).sum(axis=1)  # (N,)
    # The mean KL is the mutual information I(x; y), in [0, log C]; clip round-off below 0.
    return math.exp(max(float(kl.mean()), 0.0))


def mode_coverage(
    labels: np.ndarray,
    num_classes: int,
    reference: np.ndarray | None = None,
    *,
    min_count: int = 1,
) -> dict:
    """How the generator's samples spread over classes, as a classifier sees them.

    Args:
        labels: (N,) integer class ids in [0, num_classes) predicted for generated images.
        num_classes: number of classes C, >= 1.
        reference: (C,) non-negative counts or probabilities of the target class distribution
            (normalised here); None means uniform.
        min_count: a class counts as covered when it has at least this many samples (>= 1).

    Returns:
        A dict with "histogram" (list of C int counts), "covered" (int, classes with at least
        `min_count` samples) and "kl" (float, KL(generated || reference) in nats). Classes the
        generator never produces contribute exactly 0 to the KL, so no epsilon is used; a
        class the generator produces but the reference gives zero mass makes the KL `inf`,
        which is the true value.

    Raises:
        ValueError: on non-integer or out-of-range labels, an empty `labels`, a bad
            `num_classes` or `min_count`, or a reference of the wrong shape, with negative
            or non-finite entries, or summing to 0.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise ValueError(f"num_classes must be an int >= 1, got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)):
        raise ValueError(f"min_count must be an int >= 1, got {min_count!r}")
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must have an integer dtype, got {labels.dtype}")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"labels must lie in [0, {num_classes}), got values in [{labels.min()}, {labels.max()}]"
        )

    if reference is None:
        ref = np.full(num_classes, 1.0 / num_classes)
    else:
        ref = np.asarray(reference, dtype=np.float64)
        if ref.shape != (num_classes,):
            raise ValueError(f"reference must have shape ({num_classes},), got {ref.shape}")
        if not np.all(np.isfinite(ref)) or np.any(ref < 0) or ref.sum() <= 0:
            raise ValueError("reference must be finite, non-negative and sum to more than 0")
        ref = ref / ref.sum()

    histogram = np.bincount(labels, minlength=num_classes)  # (C,)
    generated = histogram / histogram.sum()
    # rel_entr(0, q) = 0 and rel_entr(p > 0, 0) = inf: exactly KL's conventions.
    kl = float(scipy.special.rel_entr(generated, ref).sum())
    return {
        "histogram": [int(c) for c in histogram],
        "covered": int(np.sum(histogram >= min_count)),
        "kl": max(kl, 0.0),
    }
