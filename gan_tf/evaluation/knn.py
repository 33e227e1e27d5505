"""k-nearest-neighbour sample-quality metrics on classifier features: improved precision and
recall (Kynkaanniemi et al. 2019, "Improved Precision and Recall Metric for Assessing
Generative Models", https://arxiv.org/abs/1904.06991) and density and coverage (Naeem et al.
2020, "Reliable Fidelity and Diversity Metrics for Generative Models",
https://arxiv.org/abs/2002.09797). Pure numpy, batched so memory stays bounded.
"""

from __future__ import annotations

import numpy as np

from gan_tf.evaluation.metrics import check_features, check_same_dim


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
    real = check_features(real_features, "real_features")
    fake = check_features(fake_features, "fake_features")
    check_same_dim(real, fake, "real_features", "fake_features")
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

    Takes the arguments of `precision_recall` and raises what it raises.

    Returns:
        {"precision", "recall", "density", "coverage"}: Python floats; density lies in
        [0, N_real / k], the others in [0, 1].
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
