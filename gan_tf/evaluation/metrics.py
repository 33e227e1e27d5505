"""Sample-quality metrics computed from arrays: Frechet distance, classifier score, mode
coverage, improved precision/recall, and density/coverage.

Everything here is pure numpy/scipy on features, probabilities or labels that some classifier
has already produced, so the module never imports TensorFlow and the tests run in milliseconds.
Definitions follow TF-GAN (`frechet_classifier_distance`, `classifier_score`) and
Kynkaanniemi et al. 2019 ("Improved Precision and Recall Metric for Assessing Generative
Models", https://arxiv.org/abs/1904.06991) and Naeem et al. 2020 ("Reliable Fidelity and
Diversity Metrics for Generative Models", https://arxiv.org/abs/2002.09797) so numbers can be
compared with published ones.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.linalg
import scipy.special

# Added to both covariance diagonals when sqrtm of their product fails (pytorch-fid's value);
# near-singular covariances are common when N is not much larger than D.
_SQRTM_EPS = 1e-6
# sqrtm of a product of two PSD matrices has real eigenvalues in exact arithmetic, so any
# imaginary part is round-off; above this (relative) size we no longer trust the result.
_IMAG_RTOL = 1e-3
# Softmax outputs in float32 sum to 1 only within a few ulps per class.
_ROW_SUM_ATOL = 1e-4


def _check_features(features: np.ndarray, name: str) -> np.ndarray:
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


def _check_same_dim(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
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
    features = _check_features(features, "features")
    mu = features.mean(axis=0)
    # atleast_2d: np.cov returns a 0-d array when D == 1.
    sigma = np.atleast_2d(np.cov(features, rowvar=False, ddof=1))
    return mu, sigma


def _trace_sqrt_product(sigma_a: np.ndarray, sigma_b: np.ndarray) -> float:
    """Tr((sigma_a sigma_b)^{1/2}) via scipy's sqrtm, retrying with a jitter if it fails."""
    for eps in (0.0, _SQRTM_EPS):
        offset = eps * np.eye(sigma_a.shape[0])
        with warnings.catch_warnings():
            # Singular covariances (dead features of a poor generator) are expected; the
            # result is checked below and retried with a jitter, so the warning adds nothing.
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            covmean = scipy.linalg.sqrtm((sigma_a + offset) @ (sigma_b + offset))
        if not np.all(np.isfinite(covmean)):
            continue
        diag = np.diagonal(covmean)
        if np.iscomplexobj(covmean):
            # Relative to the diagonal's scale so the check is unit-free, floored at 1 so
            # all-zero covariances do not make the tolerance zero.
            scale = max(1.0, float(np.max(np.abs(diag.real))))
            if np.max(np.abs(diag.imag)) > _IMAG_RTOL * scale:
                continue
        return float(np.sum(diag.real))
    raise ValueError(
        "sqrtm(sigma_a @ sigma_b) stayed non-finite or complex even with "
        f"{_SQRTM_EPS} added to the covariance diagonals; are the covariances PSD?"
    )


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
        ValueError: on mismatched shapes, non-finite values, or a matrix square root that
            cannot be made finite and real.
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
    a = _check_features(features_a, "features_a")
    b = _check_features(features_b, "features_b")
    _check_same_dim(a, b, "features_a", "features_b")
    return frechet_distance_from_stats(*gaussian_stats(a), *gaussian_stats(b))


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


def _squared_distances(a: np.ndarray, b: np.ndarray, b_sq: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) squared Euclidean distances; `b_sq` is ||b||^2 per row, precomputed."""
    d2 = np.sum(a * a, axis=1)[:, None] + b_sq[None, :] - 2.0 * (a @ b.T)
    # The expansion cancels catastrophically for near-identical points and can dip below 0.
    return np.maximum(d2, 0.0)


def _knn_radii_sq(features: np.ndarray, k: int, batch_size: int) -> np.ndarray:
    """(N,) squared distance from each point to its k-th nearest other point in the set."""
    sq = np.sum(features * features, axis=1)
    radii = np.empty(features.shape[0])
    for start in range(0, features.shape[0], batch_size):
        d2 = _squared_distances(features[start : start + batch_size], features, sq)
        # Column k of the partition, not k - 1: each row's smallest entry is the point's
        # (zero) distance to itself, which the manifold definition excludes.
        radii[start : start + batch_size] = np.partition(d2, k, axis=1)[:, k]
    return radii


def _ball_hits(
    queries: np.ndarray, support: np.ndarray, radii_sq: np.ndarray, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """How queries fall into the closed balls around support points, batched over queries.

    Returns:
        (counts, hit): (len(queries),) int, how many balls hold each query; and
        (len(support),) bool, whether each ball holds at least one query.
    """
    sq = np.sum(support * support, axis=1)
    counts = np.empty(queries.shape[0], dtype=np.int64)
    hit = np.zeros(support.shape[0], dtype=bool)
    for start in range(0, queries.shape[0], batch_size):
        d2 = _squared_distances(queries[start : start + batch_size], support, sq)
        inside = d2 <= radii_sq[None, :]  # (batch, len(support))
        counts[start : start + batch_size] = inside.sum(axis=1)
        hit |= inside.any(axis=0)
    return counts, hit


def _check_knn_inputs(
    real_features: np.ndarray,
    fake_features: np.ndarray,
    k: int,
    batch_size: int,
    *,
    fake_radii: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Validated float64 (real, fake) for the k-NN metrics.

    k must be below the size of every set whose k-NN radii are taken: the real set always,
    the fake set too when `fake_radii` (recall needs them; density and coverage do not).
    """
    real = _check_features(real_features, "real_features")
    fake = _check_features(fake_features, "fake_features")
    _check_same_dim(real, fake, "real_features", "fake_features")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    if fake_radii and k >= min(real.shape[0], fake.shape[0]):
        raise ValueError(
            f"k must be smaller than both set sizes ({real.shape[0]} real, "
            f"{fake.shape[0]} fake), got k={k}"
        )
    if k >= real.shape[0]:
        raise ValueError(
            f"k must be smaller than the number of real samples ({real.shape[0]}), got k={k}"
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return real, fake


def _real_manifold_scores(
    real: np.ndarray, fake: np.ndarray, k: int, batch_size: int
) -> tuple[float, float, float]:
    """(precision, density, coverage): everything measured with the real set's k-NN balls.

    One batched pass over the fakes serves all three, so the (N_fake, N_real) distances are
    computed once and never held whole.
    """
    real_radii = _knn_radii_sq(real, k, batch_size)
    counts, hit = _ball_hits(fake, real, real_radii, batch_size)
    precision = float(np.mean(counts > 0))
    density = float(np.sum(counts)) / (k * fake.shape[0])
    coverage = float(np.mean(hit))
    return precision, density, coverage


def _recall(real: np.ndarray, fake: np.ndarray, k: int, batch_size: int) -> float:
    """The fraction of reals inside the fake set's k-NN balls."""
    counts, _ = _ball_hits(real, fake, _knn_radii_sq(fake, k, batch_size), batch_size)
    return float(np.mean(counts > 0))


def knn_scores(
    real_features: np.ndarray,
    fake_features: np.ndarray,
    k: int = 3,
    batch_size: int = 1000,
) -> dict[str, float]:
    """Precision, recall, density and coverage of fakes against reals, with one k.

    The four figures of `precision_recall` and `density_coverage` (see them for the
    definitions), with the real set's radii and the fake-to-real distances computed once.

    Args:
        real_features: (N_real, D) finite features of real images, N_real > k.
        fake_features: (N_fake, D) finite features of generated images, N_fake > k.
        k: which neighbour sets the ball radius, >= 1.
        batch_size: rows of pairwise distances computed at once, >= 1.

    Returns:
        {"precision", "recall", "density", "coverage"}: Python floats; density lies in
        [0, N_real / k], the others in [0, 1].

    Raises:
        ValueError: as `precision_recall`.
    """
    real, fake = _check_knn_inputs(real_features, fake_features, k, batch_size, fake_radii=True)
    precision, density, coverage = _real_manifold_scores(real, fake, k, batch_size)
    return {
        "precision": precision,
        "recall": _recall(real, fake, k, batch_size),
        "density": density,
        "coverage": coverage,
    }


def precision_recall(
    real_features: np.ndarray,
    fake_features: np.ndarray,
    k: int = 3,
    batch_size: int = 1000,
) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of fakes against reals.

    Each set's manifold is the union of closed balls around its points whose radius is the
    distance to that point's k-th nearest neighbour in the same set (the point itself
    excluded). Distances are compared squared, which gives the same answers without sqrt.

    Precision alone can mislead: fakes packed into one dense part of the real data all land
    in some real ball, so a collapsed generator can score 1. Read it with recall, or with
    `density_coverage`.

    Args:
        real_features: (N_real, D) finite features of real images, N_real > k.
        fake_features: (N_fake, D) finite features of generated images, N_fake > k.
        k: which neighbour sets the ball radius, >= 1 (the paper uses 3).
        batch_size: rows of pairwise distances computed at once, >= 1; memory is about
            batch_size * max(N_real, N_fake) float64 values, never N_real * N_fake.

    Returns:
        (precision, recall): the fraction of fakes inside the real manifold, and the fraction
        of reals inside the fake manifold, each a Python float in [0, 1].

    Raises:
        ValueError: on non-finite or non-2-D features, mismatched D, k outside
            [1, min(N_real, N_fake)), or batch_size < 1.
    """
    scores = knn_scores(real_features, fake_features, k=k, batch_size=batch_size)
    return scores["precision"], scores["recall"]


def density_coverage(
    real_features: np.ndarray,
    fake_features: np.ndarray,
    k: int = 3,
    batch_size: int = 1000,
) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020, https://arxiv.org/abs/2002.09797).

    Both use only the real set's balls, those of `precision_recall`: around each real point
    i, the closed ball of radius r_i, its distance to its k-th nearest other real point.
    With M fakes and N reals,

        density  = 1/(k M) * sum_j sum_i [fake_j in ball_i]
        coverage = 1/N * sum_i [some fake lies in ball_i]

    Density counts how many real balls hold each fake rather than whether any does, so the
    wide ball of one real outlier adds little to it; fakes crowded where many real balls
    overlap push it above 1. Coverage asks how many real points have a fake nearby, so a
    collapsed generator scores near 0 on it even when its precision is 1.

    For two independent samples of one distribution the expected density is 1 and the
    expected coverage is 1 - prod_{i=1..k} (N - i) / (N + M - i), about 1 - 2^-k for M = N
    (the paper's Lemmas 1 and 2). The authors' code counts only points strictly inside a
    ball; closed balls are used here, as in `precision_recall`, which differs only on exact
    ties.

    Args:
        real_features: (N_real, D) finite features of real images, N_real > k.
        fake_features: (N_fake, D) finite features of generated images, N_fake >= 2.
        k: which neighbour sets the ball radius, >= 1 (the paper uses 5; pass the k of
            precision/recall to read the four together).
        batch_size: fakes whose distances to all reals are computed at once, >= 1; memory is
            about batch_size * N_real float64 values.

    Returns:
        (density, coverage): Python floats; density in [0, N_real / k] (above 1 when fakes
        crowd where real balls overlap), coverage in [0, 1].

    Raises:
        ValueError: on non-finite or non-2-D features, mismatched D, k outside
            [1, N_real), or batch_size < 1.
    """
    real, fake = _check_knn_inputs(real_features, fake_features, k, batch_size, fake_radii=False)
    _, density, coverage = _real_manifold_scores(real, fake, k, batch_size)
    return density, coverage
