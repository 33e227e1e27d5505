"""Tests for gan_tf.evaluation.metrics on synthetic arrays with known answers; numpy/scipy only."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from scipy.spatial.distance import cdist

from gan_tf.evaluation.knn import density_coverage, knn_scores, precision_recall
from gan_tf.evaluation.metrics import (
    classifier_score,
    frechet_distance,
    frechet_distance_from_stats,
    gaussian_stats,
    mode_coverage,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


# --- Frechet distance -------------------------------------------------------------------


def test_fd_of_a_set_with_itself_is_zero(rng):
    features = rng.normal(scale=3.0, size=(200, 8))
    scale = np.trace(np.cov(features, rowvar=False))
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6 * scale)


def test_fd_matches_independent_scipy_computation(rng):
    # Two correlated Gaussians with different means and covariances.
    dim = 5
    mix_a, mix_b = rng.normal(size=(dim, dim)), rng.normal(size=(dim, dim))
    a = rng.normal(size=(400, dim)) @ mix_a + 1.0
    b = rng.normal(size=(300, dim)) @ mix_b - 0.5
    mu_a, mu_b = np.mean(a, axis=0), np.mean(b, axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)  # np.cov is N - 1
    covmean = scipy.linalg.sqrtm(cov_a @ cov_b).real
    expected = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * covmean)

    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_fd_uses_unbiased_covariance():
    # Two points +-1 on one axis: unbiased variance 2, biased 1. Against a set with
    # variance 0 (two equal points, same mean) the FD is the variance itself.
    spread = np.array([[-1.0], [1.0]])
    collapsed = np.array([[0.0], [0.0]])
    assert frechet_distance(spread, collapsed) == pytest.approx(2.0)


def test_fd_approaches_analytic_value_for_isotropic_gaussians(rng):
    # S_a = a^2 I, S_b = b^2 I  =>  FD = ||mu_a - mu_b||^2 + D (a - b)^2.
    dim, a_std, b_std = 4, 1.0, 2.0
    mu_a, mu_b = np.zeros(dim), np.array([1.0, -1.0, 0.5, 0.0])
    a = mu_a + a_std * rng.normal(size=(200_000, dim))
    b = mu_b + b_std * rng.normal(size=(200_000, dim))
    analytic = np.sum((mu_a - mu_b) ** 2) + dim * (a_std - b_std) ** 2  # 2.25 + 4

    # Sampling error at this N is about 0.03 (one sigma); 0.19 is about six sigma, while
    # e.g. D (a^2 - b^2)-style mistakes would be off by several units.
    assert frechet_distance(a, b) == pytest.approx(analytic, rel=0.03)


def test_fd_of_pure_shift_is_squared_shift_and_grows_monotonically(rng):
    features = rng.normal(size=(300, 6))
    direction = rng.normal(size=6)
    direction /= np.linalg.norm(direction)
    shifts = [0.0, 0.25, 0.5, 1.0, 2.0, 4.0]
    distances = [frechet_distance(features, features + s * direction) for s in shifts]

    # Shifting leaves the covariance unchanged, so only the mean term moves.
    np.testing.assert_allclose(distances, np.square(shifts), atol=1e-6)
    assert all(np.diff(distances) > 0)


def test_fd_grows_monotonically_with_added_noise(rng):
    features = rng.normal(size=(500, 6))
    noise = rng.normal(size=features.shape)
    levels = [0.1, 0.3, 1.0, 3.0]
    distances = [frechet_distance(features, features + s * noise) for s in levels]
    assert all(np.diff(distances) > 0), distances


def test_fd_from_cached_stats_equals_fd_and_is_symmetric(rng):
    a = rng.normal(size=(100, 3))
    b = rng.normal(loc=0.5, scale=1.5, size=(120, 3))
    stats_a, stats_b = gaussian_stats(a), gaussian_stats(b)

    assert stats_a[0].shape == (3,) and stats_a[1].shape == (3, 3)
    assert frechet_distance_from_stats(*stats_a, *stats_b) == frechet_distance(a, b)
    assert frechet_distance(b, a) == pytest.approx(frechet_distance(a, b), rel=1e-9)


def test_fd_is_finite_for_rank_deficient_covariances(rng):
    # N < D makes both covariances singular, as with few samples of wide features.
    a, b = rng.normal(size=(5, 10)), rng.normal(size=(6, 10))
    distance = frechet_distance(a, b)
    assert math.isfinite(distance) and distance > 0


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        (np.zeros(10), np.zeros((10, 2)), "2-D"),
        (np.zeros((1, 2)), np.zeros((10, 2)), "at least 2 rows"),
        (np.zeros((10, 2)), np.zeros((10, 3)), "same feature dimension"),
        (np.full((10, 2), np.nan), np.zeros((10, 2)), "NaN or inf"),
    ],
)
def test_fd_rejects_bad_features(a, b, match):
    with pytest.raises(ValueError, match=match):
        frechet_distance(a, b)


def test_fd_from_stats_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="sigma_a and sigma_b"):
        frechet_distance_from_stats(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))


# --- classifier score -------------------------------------------------------------------


def test_classifier_score_is_one_for_constant_predictions(rng):
    row = rng.dirichlet(np.ones(10))
    probs = np.tile(row, (50, 1))
    assert classifier_score(probs) == pytest.approx(1.0, abs=1e-9)


def test_classifier_score_is_num_classes_for_confident_uniform_predictions():
    probs = np.tile(np.eye(10), (7, 1))  # one-hot, every class 7 times
    assert classifier_score(probs) == pytest.approx(10.0, rel=1e-12)


def test_classifier_score_lies_between_for_mixed_predictions(rng):
    # Confident but only over 5 of 10 classes: exactly 5.
    assert classifier_score(np.tile(np.eye(10)[:5], (4, 1))) == pytest.approx(5.0)
    # Soft predictions: strictly inside (1, C).
    score = classifier_score(rng.dirichlet(np.ones(10), size=200))
    assert 1.0 < score < 10.0


def test_classifier_score_handles_float32_softmax_rounding(rng):
    logits = rng.normal(size=(64, 10)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert 1.0 < classifier_score(probs) < 10.0


@pytest.mark.parametrize(
    ("probs", "match"),
    [
        (np.full((4, 10), 0.2), "sum to 1"),
        (np.array([[1.5, -0.5], [0.5, 0.5]]), "non-negative"),
        (np.ones(10) / 10, "2-D"),
        (np.array([[np.nan, 1.0]]), "NaN or inf"),
    ],
)
def test_classifier_score_rejects_bad_probs(probs, match):
    with pytest.raises(ValueError, match=match):
        classifier_score(probs)


# --- mode coverage ----------------------------------------------------------------------


def test_mode_coverage_counts_and_covered_with_min_count():
    labels = np.array([0, 0, 0, 1, 1, 3] + [7] * 5)
    result = mode_coverage(labels, num_classes=10)

    assert result["histogram"] == [3, 2, 0, 1, 0, 0, 0, 5, 0, 0]
    assert result["covered"] == 4
    assert mode_coverage(labels, 10, min_count=2)["covered"] == 3
    assert mode_coverage(labels, 10, min_count=4)["covered"] == 1


def test_mode_coverage_kl_is_zero_when_generated_matches_reference():
    assert mode_coverage(np.repeat(np.arange(10), 6), 10)["kl"] == pytest.approx(0.0, abs=1e-12)
    # Reference as counts with the same proportions as the generated histogram.
    labels = np.array([0, 1, 1, 2, 2, 2])
    assert mode_coverage(labels, 3, reference=[10, 20, 30])["kl"] == pytest.approx(0.0, abs=1e-12)


def test_mode_coverage_kl_is_log_c_for_a_collapsed_generator():
    result = mode_coverage(np.full(100, 4), 10)
    assert result["kl"] == pytest.approx(math.log(10))
    assert result["covered"] == 1


def test_mode_coverage_kl_against_non_uniform_reference():
    # p = (1/2, 1/2, 0), q = (1/4, 1/4, 1/2): KL = 2 * 1/2 * log 2 = log 2.
    result = mode_coverage(np.array([0, 1]), 3, reference=np.array([0.25, 0.25, 0.5]))
    assert result["kl"] == pytest.approx(math.log(2))


def test_mode_coverage_kl_is_inf_where_reference_has_no_mass():
    assert mode_coverage(np.array([0, 1]), 2, reference=[1.0, 0.0])["kl"] == math.inf


@pytest.mark.parametrize(
    ("labels", "num_classes", "kwargs", "match"),
    [
        (np.array([0, 10]), 10, {}, r"\[0, 10\)"),
        (np.array([-1, 2]), 10, {}, r"\[0, 10\)"),
        (np.array([0.0, 1.0]), 10, {}, "integer dtype"),
        (np.array([], dtype=int), 10, {}, "non-empty"),
        (np.array([0, 1]), 0, {}, "num_classes"),
        (np.array([0, 1]), 3, {"min_count": 0}, "min_count"),
        (np.array([0, 1]), 3, {"reference": [1.0, 1.0]}, r"shape \(3,\)"),
        (np.array([0, 1]), 3, {"reference": [1.0, -1.0, 1.0]}, "non-negative"),
    ],
)
def test_mode_coverage_rejects_bad_input(labels, num_classes, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mode_coverage(labels, num_classes, **kwargs)


# --- precision / recall -----------------------------------------------------------------


def _brute_force_precision_recall(real, fake, k):
    """Straight from the paper's definition, with scipy's cdist and a full sort."""
    real_radii = np.sort(cdist(real, real), axis=1)[:, k]  # column 0 is the point itself
    fake_radii = np.sort(cdist(fake, fake), axis=1)[:, k]
    precision = np.mean(np.any(cdist(fake, real) <= real_radii[None, :], axis=1))
    recall = np.mean(np.any(cdist(real, fake) <= fake_radii[None, :], axis=1))
    return precision, recall


def test_precision_recall_hand_computed_example():
    # k=1: real radii are all 1; 0.5 is inside, 5 is not -> precision 1/2.
    # Fake radii are both 4.5 (each other's distance), covering every real point -> recall 1.
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[0.5], [5.0]])
    assert precision_recall(real, fake, k=1) == (0.5, 1.0)


def test_precision_recall_balls_are_closed():
    # The paper counts a point exactly on a ball's surface as inside. Integer coordinates
    # keep the distances exact: fake 4 is at distance 1 (= real 3's radius) from real 3,
    # and real 3 is at distance 1 (= fake 4's radius) from fake 4.
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[4.0], [5.0]])
    assert precision_recall(real, fake, k=1) == (0.5, 0.25)


def test_precision_recall_of_identical_sets_is_one(rng):
    features = rng.normal(size=(200, 5))
    assert precision_recall(features, features.copy()) == (1.0, 1.0)


def test_precision_recall_of_far_apart_clusters_is_zero(rng):
    real = rng.normal(size=(150, 4))
    fake = rng.normal(size=(150, 4)) + 100.0
    assert precision_recall(real, fake) == (0.0, 0.0)


def test_precision_recall_of_a_tight_core_has_high_precision_low_recall(rng):
    real = rng.normal(size=(500, 2))
    fake = 0.1 * rng.normal(size=(300, 2))  # all in the densest part of the real cloud
    precision, recall = precision_recall(real, fake)
    assert precision >= 0.95
    assert recall < 0.5


def test_precision_recall_matches_brute_force(rng):
    real = rng.normal(size=(120, 3))
    fake = rng.normal(loc=0.7, scale=1.3, size=(90, 3))
    for k in (1, 3, 5):
        got = precision_recall(real, fake, k=k)
        assert got == pytest.approx(_brute_force_precision_recall(real, fake, k))


def test_precision_recall_chunked_equals_unchunked(rng):
    real = rng.normal(size=(257, 4))
    fake = rng.normal(loc=0.3, size=(190, 4))
    whole = precision_recall(real, fake, batch_size=10_000)
    assert 0.0 < whole[0] < 1.0 and 0.0 < whole[1] < 1.0
    assert precision_recall(real, fake, batch_size=7) == whole
    assert precision_recall(real, fake, batch_size=1) == whole


@pytest.mark.parametrize(
    ("real", "fake", "kwargs", "match"),
    [
        (np.zeros((10, 2)), np.zeros((10, 3)), {}, "same feature dimension"),
        (np.zeros(10), np.zeros((10, 2)), {}, "2-D"),
        (np.zeros((10, 2)), np.zeros((10, 2)), {"k": 0}, "k must be"),
        (np.zeros((10, 2)), np.zeros((3, 2)), {"k": 3}, "smaller than both set sizes"),
        (np.zeros((10, 2)), np.zeros((10, 2)), {"batch_size": 0}, "batch_size"),
        (np.zeros((10, 2)), np.full((10, 2), np.inf), {}, "NaN or inf"),
    ],
)
def test_precision_recall_rejects_bad_input(real, fake, kwargs, match):
    with pytest.raises(ValueError, match=match):
        precision_recall(real, fake, **kwargs)


# --- density / coverage -----------------------------------------------------------------


def _brute_force_density_coverage(real, fake, k):
    """Naeem et al. 2020's definitions with scipy's cdist, a full sort and closed balls."""
    real_radii = np.sort(cdist(real, real), axis=1)[:, k]  # column 0 is the point itself
    inside = cdist(fake, real) <= real_radii[None, :]  # (M, N): fake j in real i's ball
    return inside.sum() / (k * len(fake)), np.mean(inside.any(axis=0))


def test_density_coverage_hand_computed_example():
    # k=1 in 2-D. Reals A=(0,0), B=(1,0), C=(5,0), D=(5,2); each one's nearest other real
    # sets its radius: r_A = r_B = 1 (each other), r_C = r_D = 2 (each other).
    # Fakes and the real balls that hold them (distances in brackets):
    #   F1=(0.5, 0):     A (0.5), B (0.5)              -> 2 balls
    #   F2=(0, 0.5):     A (0.5); B is 1.118 away > 1  -> 1 ball
    #   F3=(-3, 0):      none (A is 3 away)            -> 0 balls
    #   F4=(0.5, -0.25): A (0.559), B (0.559)          -> 2 balls
    # density = (2 + 1 + 0 + 2) / (k * M) = 5 / 4 = 1.25.
    # coverage: A's and B's balls hold a fake, C's and D's do not -> 2 / 4 = 0.5.
    # precision: F1, F2, F4 lie in some real ball -> 3 / 4 = 0.75.
    # recall: fake radii are F1: 0.25 (F4), F2: 0.707 (F1), F3: 3.041 (F2), F4: 0.25 (F1).
    #   A is 0.5 from F2 (<= 0.707): inside. B is 0.5 from F1 and 0.559 from F4 (> 0.25),
    #   1.118 from F2 (> 0.707), 4 from F3 (> 3.041): outside. C and D are far from all.
    #   -> 1 / 4 = 0.25.
    real = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [5.0, 2.0]])
    fake = np.array([[0.5, 0.0], [0.0, 0.5], [-3.0, 0.0], [0.5, -0.25]])
    assert density_coverage(real, fake, k=1) == (1.25, 0.5)
    assert knn_scores(real, fake, k=1) == {
        "precision": 0.75,
        "recall": 0.25,
        "density": 1.25,
        "coverage": 0.5,
    }


def test_density_coverage_of_a_set_with_its_copy(rng):
    # Every real ball holds its own point's copy, so coverage is exactly 1. Without ties
    # each ball holds exactly k + 1 copies (its centre and the k nearest others), so
    # density is exactly (k + 1) / k, not 1: the copy is not an independent sample.
    features = rng.normal(size=(200, 5))
    for k in (1, 3, 5):
        density, coverage = density_coverage(features, features.copy(), k=k)
        assert coverage == 1.0
        assert density == pytest.approx((k + 1) / k, rel=1e-12)


def test_density_coverage_of_two_samples_of_one_distribution(rng):
    # Naeem et al.'s Lemmas 1 and 2: for independent samples of one distribution, density
    # has expectation 1, and coverage 1 - prod_{i=1..k} (N - i) / (N + M - i) (0.8754 here).
    # Over 100 seeds of this configuration the standard deviations were 0.026 (density) and
    # 0.011 (coverage); the tolerances are about 5.5 of them. The copy's density (4/3) and
    # coverage (1), which an off-by-one in the radii would give, are well outside.
    n, k = 1000, 3
    real = rng.normal(size=(n, 4))
    fake = rng.normal(size=(n, 4))
    density, coverage = density_coverage(real, fake, k=k)
    expected_coverage = 1.0 - math.prod((n - i) / (2 * n - i) for i in range(1, k + 1))
    assert density == pytest.approx(1.0, abs=0.15)
    assert coverage == pytest.approx(expected_coverage, abs=0.06)


def test_a_collapsed_cloud_has_precision_one_but_coverage_near_zero(rng):
    # The failure that precision alone hides: every fake sits on one real point.
    n, k = 1000, 3
    real = rng.normal(size=(n, 2))
    fake = np.repeat(real[:1], 500, axis=0)
    scores = knn_scores(real, fake, k=k)
    assert scores["precision"] == 1.0
    assert scores["recall"] < 0.01
    # Covered are real 0 itself and the reals with real 0 among their k nearest: about
    # 1 + k of them on average, so coverage is a few / N.
    assert 1 / n <= scores["coverage"] <= 10 / n
    # Each fake lies in exactly the balls that are covered, so density = coverage * N / k.
    assert scores["density"] == pytest.approx(scores["coverage"] * n / k)
    assert (scores["density"], scores["coverage"]) == pytest.approx(
        _brute_force_density_coverage(real, fake, k)
    )


def test_a_tight_core_has_precision_near_one_and_low_coverage(rng):
    # A generator that puts all its samples in the densest part of the data (an untrained
    # one often does, in feature space): precision near 1, coverage low.
    real = rng.normal(size=(1000, 2))
    fake = 0.05 * rng.normal(size=(500, 2))
    scores = knn_scores(real, fake)
    assert scores["precision"] >= 0.95
    assert scores["coverage"] < 0.1


def test_density_coverage_of_far_apart_clusters_is_zero(rng):
    real = rng.normal(size=(150, 4))
    fake = rng.normal(size=(150, 4)) + 100.0
    assert density_coverage(real, fake) == (0.0, 0.0)


def test_density_coverage_matches_brute_force(rng):
    real = rng.normal(size=(120, 3))
    fake = rng.normal(loc=0.7, scale=1.3, size=(90, 3))
    for k in (1, 3, 5):
        assert density_coverage(real, fake, k=k) == pytest.approx(
            _brute_force_density_coverage(real, fake, k)
        )


def test_density_coverage_balls_are_closed():
    # Integer coordinates keep distances exact. k=1: real radii are all 1. Fake 4 lies on
    # real 3's surface (distance 1), so it counts: one ball, real 3 covered.
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[4.0], [5.0]])
    assert density_coverage(real, fake, k=1) == (0.5, 0.25)


def test_knn_scores_chunked_equals_unchunked_and_agree_with_the_pairs(rng):
    real = rng.normal(size=(257, 4))
    fake = rng.normal(loc=0.3, size=(190, 4))
    whole = knn_scores(real, fake, batch_size=10_000)
    assert all(0.0 < v < 1.0 for v in whole.values()), whole
    assert knn_scores(real, fake, batch_size=7) == whole
    assert knn_scores(real, fake, batch_size=1) == whole
    assert precision_recall(real, fake) == (whole["precision"], whole["recall"])
    assert density_coverage(real, fake, batch_size=3) == (whole["density"], whole["coverage"])


def test_density_coverage_need_only_the_real_set_larger_than_k(rng):
    # No k-NN radii are taken in the fake set, so it may be smaller than k.
    real = rng.normal(size=(50, 2))
    got = density_coverage(real, real[:2], k=5)
    assert got == pytest.approx(_brute_force_density_coverage(real, real[:2], 5))
    assert got[1] >= 2 / 50  # each fake is a real point, inside its own ball at least
    with pytest.raises(ValueError, match="smaller than both set sizes"):
        knn_scores(real, real[:2], k=5)


@pytest.mark.parametrize(
    ("real", "fake", "kwargs", "match"),
    [
        (np.zeros((10, 2)), np.zeros((10, 3)), {}, "same feature dimension"),
        (np.zeros((10, 2)), np.zeros(10), {}, "2-D"),
        (np.zeros((10, 2)), np.zeros((10, 2)), {"k": 1.5}, "k must be"),
        (np.zeros((3, 2)), np.zeros((10, 2)), {"k": 3}, "number of real samples"),
        (np.zeros((10, 2)), np.zeros((10, 2)), {"batch_size": True}, "batch_size"),
        (np.full((10, 2), np.nan), np.zeros((10, 2)), {}, "NaN or inf"),
    ],
)
def test_density_coverage_rejects_bad_input(real, fake, kwargs, match):
    with pytest.raises(ValueError, match=match):
        density_coverage(real, fake, **kwargs)


def test_fd_with_fewer_images_than_features_matches_scipy(rng):
    """Below D images the distance is computed from the images' cross products, not from
    D x D covariances: the same value as scipy's matrix square root of the covariances."""
    a = rng.standard_normal((40, 64))
    b = 1.5 * rng.standard_normal((30, 64)) + 0.2
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(cov_a @ cov_b).real
    diff = a.mean(0) - b.mean(0)
    expected = diff @ diff + np.trace(cov_a + cov_b - 2 * covmean)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    from_stats = frechet_distance_from_stats(*gaussian_stats(a), *gaussian_stats(b))
    # The covariances are singular here (rank 39 and 29 of 64): the square roots of their
    # zero eigenvalues' round-off cost the covariance route a few digits.
    assert frechet_distance(a, b) == pytest.approx(from_stats, rel=1e-7)
