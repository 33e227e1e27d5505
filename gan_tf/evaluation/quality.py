"""Sample quality for a generator: FD, classifier score, mode coverage, precision/recall and
density/coverage, judged by the evaluation classifier (`gan_tf.evaluation.classifier`) against
N real test images.

For N generated images against the N real test images: the Fréchet distance (TF-GAN's
`frechet_classifier_distance`), the classifier score (TF-GAN's `classifier_score`, at most
10), mode coverage, k-NN precision/recall (Kynkäänniemi et al. 2019) and, with the same k
and the same real balls, density/coverage (Naeem et al. 2020,
https://arxiv.org/abs/2002.09797). The same figures for N real training images are the
reference to read them against. FD is biased by N: compare figures of one N.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gan_tf.config import check_sample_count
from gan_tf.data import Data, load_data
from gan_tf.data import scale_images as scale
from gan_tf.evaluation import knn, metrics
from gan_tf.evaluation.classifier import (
    FINAL_N,
    check_labelled,
    class_count,
    load_or_train_classifier,
    with_test_split,
)
from gan_tf.evaluation.sampling import DEFAULT_SEED, load_generator
from gan_tf.evaluation.scorer import Scorer
from gan_tf.evaluation.unlabelled import KID_SUBSETS, make_inception_evaluator
from gan_tf.rundir import QUALITY_COLUMNS, RunDir

# The neighbour whose distance sets each k-NN ball, for all four k-NN figures.
KNN_K = 3
# Printed under every table that shows k-NN precision, which alone flatters a collapsed
# generator (Naeem et al. 2020, https://arxiv.org/abs/2002.09797).
PRECISION_CAVEAT = (
    "Note: k-NN precision is near 1 for a generator whose samples all sit in one dense part "
    "of the real data (an untrained or collapsed one, say); read it with recall, density "
    "and coverage."
)


class Evaluator(Scorer):
    """Scores image sets against a fixed sample of N real test images.

    Args:
        classifier: from `load_or_train_classifier`.
        data: the labelled data it was trained on.
        n: images per set (capped at the test split's size).
        seed: picks the real samples.
        info: the classifier's info from `load_or_train_classifier`, kept in reports.
    """

    columns = QUALITY_COLUMNS
    info_key = "classifier"

    def __init__(
        self,
        classifier,
        data: Data,
        n: int = FINAL_N,
        seed: int = DEFAULT_SEED,
        info: dict | None = None,
    ):
        import keras

        self.num_classes = int(classifier.output_shape[-1])
        check_labelled(data, num_classes=self.num_classes)
        self.n = min(n, len(data.x_test))
        self.info = {k: v for k, v in (info or {}).items() if k != "path"}
        self._reference = None
        self._model = keras.Model(
            classifier.input, [classifier.get_layer("features").output, classifier.output]
        )
        self._data = data
        rng = np.random.default_rng([seed, 5])
        test = rng.choice(len(data.x_test), self.n, replace=False)
        self._test_features, _ = self.classify(scale(data.x_test[test]))
        self._test_stats = metrics.gaussian_stats(self._test_features)
        self._class_counts = np.bincount(data.y_test[test], minlength=self.num_classes)
        self._train_sample = rng.choice(len(data.x_train), min(self.n, len(data.x_train)), False)

    def classify(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(features (N, 128), probabilities (N, classes)) for float images in [-1, 1]."""
        features, probs = self._model.predict(images, batch_size=500, verbose=0)
        return features.astype(np.float64), probs.astype(np.float64)

    def score(self, images: np.ndarray) -> dict:
        """FD, classifier score, mode coverage ("covered", "mode_kl", "histogram"), and the
        k-NN "precision", "recall", "density" and "coverage" of `images` vs the test sample.
        """
        features, probs = self.classify(images)
        mu, sigma = metrics.gaussian_stats(features)
        modes = metrics.mode_coverage(
            probs.argmax(axis=1), self.num_classes, reference=self._class_counts
        )
        neighbours = knn.knn_scores(self._test_features, features, k=KNN_K)
        return {
            "n": len(images),
            "fd": metrics.frechet_distance_from_stats(mu, sigma, *self._test_stats),
            "score": metrics.classifier_score(probs),
            "covered": int(modes["covered"]),
            "mode_kl": float(modes["kl"]),
            "histogram": [int(c) for c in modes["histogram"]],
            "precision": neighbours["precision"],
            "recall": neighbours["recall"],
            # Not "covered" (classes) but the fraction of real test images with a fake among
            # their k nearest neighbours.
            "density": neighbours["density"],
            "coverage": neighbours["coverage"],
        }

    def reference_images(self) -> np.ndarray:
        """N real training images: the reference for figures against the test sample."""
        return scale(self._data.x_train[self._train_sample])


def evaluate(
    target: str | Path,
    n: int = FINAL_N,
    data: str | Path | None = None,
    dataset: str | None = None,
    cache_dir: str | Path | None = None,
    seed: int = DEFAULT_SEED,
    verbose: int = 1,
    fid_weights: str | Path | None = None,
) -> dict:
    """Evaluates a run folder's (or a `.keras` file's) generator; writes evaluation.json.

    Args:
        target: a run folder (its config.json names the data) or a generator `.keras` file.
        n: images per set.
        data, dataset: the real data; default: the run's own.
        cache_dir: classifier folder (default: the one the run's config.json names, such as
            a study's, if it is there; else `default_cache_dir()`).
        seed: seeds the generated and the real samples.
        verbose: 0 silent, 1 progress messages.
        fid_weights: a local InceptionV3 weights file, for data the classifier cannot judge
            (default: the run's, else Keras' ImageNet download).

    Returns:
        {"n", "generator": {...}, "reference": {...}, "classifier": {...}, "path"}; with
        "features" in place of "classifier" for data scored on InceptionV3 features.

    Raises:
        UserError: the generator, the data or the classifier cache cannot serve.
    """
    check_sample_count(n, "n")
    target = Path(target)
    run = RunDir(target if target.is_dir() else target.parent)
    saved = run.read_config() if target.is_dir() else None
    if data is None and dataset is None and saved is not None:
        data, dataset = saved.data, saved.dataset
    if cache_dir is None and saved is not None and saved.cache_dir:
        # The classifier that scored the run in training (a study's own, say), if it is here.
        cache_dir = saved.cache_dir if Path(saved.cache_dir).is_dir() else None
    generator = load_generator(target)
    # The images as the run trained on them (size, crop, channels); the generator's size
    # where there is no config.json.
    size, _, channels = generator.output_shape[1:]
    crop = saved.crop if saved is not None else None
    dataset = dataset or "mnist"
    real = load_data(dataset, data, size, crop, channels, cache_dir)
    if uses_classifier(dataset, real):
        real = with_test_split(real)
        classifier, info = load_or_train_classifier(
            real, cache_dir, verbose=verbose, num_classes=class_count(dataset, real)
        )
        evaluator = Evaluator(classifier, real, n=n, seed=seed, info=info)
    else:
        weights = fid_weights or (saved.fid_weights if saved is not None else None)
        evaluator = make_inception_evaluator(real, n, seed, weights, verbose)
    result = evaluator.report(generator, seed=seed)
    result["path"] = str(run.write_evaluation(result))
    return result


def format_table(result: dict) -> str:
    """A readable console table of `evaluate`'s result."""
    gen, ref = result["generator"], result["reference"]
    if "fid" in gen:
        return _inception_table(result)

    classes = len(gen["histogram"])

    def covered(figures):
        return f"{figures['covered']}/{classes}"

    lines = [
        f"Evaluation on N={result['n']} images per set "
        f"(classifier test accuracy {result['classifier']['test_accuracy']:.2%})",
        f"{'metric':<28}{'generator':>12}{'real data':>12}",
        f"{'FD (lower is better)':<28}{gen['fd']:>12.3f}{ref['fd']:>12.3f}",
        f"{f'classifier score (max {classes})':<28}{gen['score']:>12.3f}{ref['score']:>12.3f}",
        f"{'classes covered':<28}{covered(gen):>12}{covered(ref):>12}",
        f"{'class KL to real (nats)':<28}{gen['mode_kl']:>12.4f}{ref['mode_kl']:>12.4f}",
        f"{'precision':<28}{gen['precision']:>12.3f}{ref['precision']:>12.3f}",
        f"{'recall':<28}{gen['recall']:>12.3f}{ref['recall']:>12.3f}",
        f"{'density':<28}{gen['density']:>12.3f}{ref['density']:>12.3f}",
        f"{'coverage':<28}{gen['coverage']:>12.3f}{ref['coverage']:>12.3f}",
        f"generated class histogram: {gen['histogram']}",
        PRECISION_CAVEAT,
    ]
    return "\n".join(lines)


def uses_classifier(dataset: str, data: Data) -> bool:
    """Whether the evaluation classifier judges this data: labelled data, that is MNIST,
    Fashion-MNIST and CIFAR-10 (or a local copy of any) at any size, and a folder whose
    images lie in two or more class subfolders. Anything else (a folder without classes) is
    scored on InceptionV3 features (`gan_tf.evaluation.unlabelled`)."""
    if dataset != "folder":
        return True
    return data.y_train is not None and class_count(dataset, data) >= 2


def make_evaluator(data: Data, config, verbose: int = 1):
    """The in-training evaluator of a run: `config.eval_n` samples, the run's seed and cache;
    an `InceptionEvaluator` (with `config.fid_weights`) for data the classifier cannot judge.

    Raises:
        EvaluationError: the data lacks labels or a test split, holds labels outside the
            classifier's classes, or fewer test images than `config.eval_n`; or the
            InceptionV3 weights cannot be had.
    """
    if not uses_classifier(config.dataset, data):
        return make_inception_evaluator(
            data, config.eval_n, config.seed, config.fid_weights, verbose
        )
    data = with_test_split(data)
    num_classes = class_count(config.dataset, data)
    check_labelled(data, config.eval_n, num_classes)
    classifier, info = load_or_train_classifier(
        data, config.cache_dir, verbose=verbose, num_classes=num_classes
    )
    return Evaluator(classifier, data, n=config.eval_n, seed=config.seed, info=info)


def _inception_table(result: dict) -> str:
    gen, ref = result["generator"], result["reference"]
    rows = [("FID (lower is better)", "fid"), ("KID (lower is better)", "kid")]
    rows += [(name, name) for name in ("precision", "recall", "density", "coverage")]
    lines = [
        f"Evaluation on N={result['n']} images per set, InceptionV3 features "
        f"({result['features'].get('weights') or 'Keras ImageNet weights'})",
        f"{'metric':<28}{'generator':>12}{'real data':>12}",
        *(f"{label:<28}{gen[key]:>12.4f}{ref[key]:>12.4f}" for label, key in rows),
        f"KID's spread over {KID_SUBSETS} subsets: {gen['kid_std']:.4f} (generator), "
        f"{ref['kid_std']:.4f} (real data)",
        PRECISION_CAVEAT,
    ]
    return "\n".join(lines)
