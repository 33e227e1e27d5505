"""Sample quality without downloads: a small classifier trained on the real data judges the fakes.

The classifier (a small CNN, >= 99% test accuracy on MNIST) trains once per
dataset and is cached on disk under a fingerprint of the data. Its
penultimate-layer features and class probabilities give, for N generated images
against the N real test images: the Fréchet distance (TF-GAN's
`frechet_classifier_distance`), the classifier score (TF-GAN's
`classifier_score`, at most 10), mode coverage, and k-NN precision/recall
(Kynkäänniemi et al. 2019). The same figures for N real training images are
the reference to read them against. FD is biased by N: compare figures of one N.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

from gan_tf.config import MIN_SAMPLES, check_sample_count
from gan_tf.data import Data, load_data
from gan_tf.data import scale_images as scale
from gan_tf.errors import EvaluationError, Remedy
from gan_tf.evaluation import metrics
from gan_tf.evaluation.sampling import DEFAULT_SEED, generate, load_generator
from gan_tf.files import atomic_path, waiting_lock, write_text
from gan_tf.rundir import QUALITY_COLUMNS, RunDir

NUM_CLASSES = 10
# Bump when the classifier's architecture or training changes, to retire cached ones.
CLASSIFIER_VERSION = 1
# Per-epoch sample-quality columns of metrics.csv.
# Images per set of a final evaluation (FD depends on it: compare figures of one N).
FINAL_N = 10000
CLASSIFIER_EPOCHS = 5


def default_cache_dir() -> Path:
    """$GAN_TF_CACHE_DIR, else $XDG_CACHE_HOME/gan_tf, else ~/.cache/gan_tf."""
    if os.environ.get("GAN_TF_CACHE_DIR"):
        return Path(os.environ["GAN_TF_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gan_tf"


def make_classifier_model():
    """The evaluation CNN: images in [-1, 1] -> 10 class probabilities; 128 features before."""
    import keras
    from keras import layers

    image = keras.Input(shape=(28, 28, 1), name="image")
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(image)
    x = layers.MaxPooling2D()(x)
    # state size. (B, 14, 14, 32)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    # state size. (B, 7, 7, 64)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    features = layers.Dense(128, activation="relu", name="features")(x)
    x = layers.Dropout(0.3)(features)
    probs = layers.Dense(NUM_CLASSES, activation="softmax", name="probs")(x)
    return keras.Model(image, probs, name="classifier")


def fingerprint(data: Data, epochs: int) -> str:
    """A hash of the labelled data and the classifier recipe: the classifier's cache key."""
    digest = hashlib.sha256(f"gan_tf-classifier-v{CLASSIFIER_VERSION}-e{epochs}".encode())
    for array in data:
        digest.update(b"|" if array is None else np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def weights_digest(model) -> str:
    """A hash of a model's weights: which copy of the classifier judged a run (copies
    trained from one seed on different machines differ, and so do their figures)."""
    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    return digest.hexdigest()


def check_labelled(data: Data, eval_n: int | None = None) -> None:
    """Refuses data that the evaluation cannot learn from or judge against, before any of it
    is used: the classifier learns `NUM_CLASSES` classes from the training split, and the
    figures compare samples with distinct images of the test split.

    Args:
        data: the real data.
        eval_n: the samples of an in-training evaluation, which the test split must hold
            (each compares `eval_n` generated images with as many real ones, so that
            figures of one `eval_n` compare: FD depends on N). None: at least `MIN_SAMPLES`.

    Raises:
        EvaluationError: naming the data's source: a split or its labels are missing, a
            label is outside 0 to NUM_CLASSES - 1, or a split holds too few images.
    """
    where = data.source or "the data"
    missing = [name for name, array in data._asdict().items() if array is None]
    if missing:
        raise EvaluationError(
            f"{where}: evaluation needs labelled train and test splits; it has no "
            f"{', '.join(missing)}"
        )
    for key in ("y_train", "y_test"):
        labels = np.asarray(getattr(data, key))
        outside = (labels < 0) | (labels >= NUM_CLASSES)
        if outside.any():
            values = np.unique(labels[outside])
            shown = ", ".join(str(v) for v in values[:5]) + (", ..." if len(values) > 5 else "")
            raise EvaluationError(
                f"{where}: {key} holds labels outside 0-{NUM_CLASSES - 1} ({shown}; "
                f"{int(outside.sum())} of {len(labels)}): the evaluation classifier has "
                f"{NUM_CLASSES} classes"
            )
    count = len(data.x_test)
    if eval_n is not None and count < eval_n:
        if count >= MIN_SAMPLES:
            remedy = Remedy(f"choose an {{}} of at most {count}", ("eval_n",))
        else:
            remedy = Remedy(
                f"point {{}} at data with at least {MIN_SAMPLES} test images", ("data",)
            )
        raise EvaluationError(
            f"is {eval_n}, more than the {count} test image(s) in {where} (x_test): each "
            f"evaluation compares {eval_n} generated images with as many distinct real ones",
            setting="eval_n",
            remedies=[remedy],
        )
    for key in ("x_train", "x_test"):
        if len(getattr(data, key)) < MIN_SAMPLES:
            raise EvaluationError(
                f"{where}: {key} holds {len(getattr(data, key))} image(s); an evaluation needs "
                f"at least {MIN_SAMPLES}"
            )


def _load_cached(path: Path, info_path: Path):
    """(classifier, info) from the cache, or None if either file is damaged."""
    import keras

    try:
        info = json.loads(info_path.read_text())
        if not isinstance(info, dict) or not zipfile.is_zipfile(path):
            return None
        model = keras.models.load_model(path)
        return model, {**info, "weights_sha256": weights_digest(model)}
    except Exception:  # a damaged cache is rebuilt, whatever the error
        return None


def load_or_train_classifier(
    data: Data,
    cache_dir: str | Path | None = None,
    epochs: int = CLASSIFIER_EPOCHS,
    verbose: int = 1,
):
    """The dataset's evaluation classifier: from the cache, or trained once and cached.

    Args:
        data: labelled train and test splits.
        cache_dir: where classifiers are kept (default: `default_cache_dir()`).
        epochs: training epochs if it must be trained.
        verbose: 0 silent, 1 Keras' progress bar while training.

    Returns:
        (the Keras classifier, info dict with `test_accuracy`, `fingerprint`, `path`).

    Raises:
        EvaluationError: the data lacks labels or a test split, or holds labels outside
            the classifier's classes (`check_labelled`).
    """
    check_labelled(data)
    key = fingerprint(data, epochs)
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    path = cache_dir / f"classifier-{key[:16]}.keras"
    info_path = path.with_suffix(".json")
    cached = _cached_classifier(path, info_path, key, verbose)
    if cached:
        return cached
    # Processes that need it at once (a study's shards, say): one trains, the others wait.
    cache_dir.mkdir(parents=True, exist_ok=True)
    waiting = "Waiting for another process to train the evaluation classifier..."
    with waiting_lock(path.with_suffix(".lock"), (lambda: print(waiting)) if verbose else None):
        return _cached_classifier(path, info_path, key, verbose=0) or _train_classifier(
            data, epochs, path, info_path, key, verbose
        )


def _cached_classifier(path: Path, info_path: Path, key: str, verbose: int):
    """(classifier, info) from the cache, or None if absent or damaged (said if verbose).

    Raises:
        EvaluationError: the cached classifier records that it was trained on other data
            (a copied or renamed file): scoring with it would give meaningless figures, and
            it is not ours to replace.
    """
    if not (path.is_file() and info_path.is_file()):
        return None
    cached = _load_cached(path, info_path)
    if not cached and verbose:
        print(f"The cached classifier {path} is damaged: training it again.")
    if cached and cached[1].get("fingerprint") != key:
        raise EvaluationError(
            f"{path} was trained on other data (its {info_path.name} records fingerprint "
            f"{str(cached[1].get('fingerprint'))[:16]}, this data is {key[:16]})",
            remedies=[Remedy("move it away, or choose another {}", ("cache_dir",))],
        )
    return cached


def _train_classifier(data: Data, epochs: int, path: Path, info_path: Path, key: str, verbose):
    """Trains the classifier and caches it at `path`, with its info at `info_path`."""
    import keras

    if verbose:
        print(f"Training the evaluation classifier once for this data ({epochs} epochs)...")
    keras.utils.set_random_seed(CLASSIFIER_VERSION)
    model = make_classifier_model()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        scale(data.x_train),
        data.y_train.astype(np.int64),
        batch_size=128,
        epochs=epochs,
        verbose=1 if verbose and sys.stdout.isatty() else 2 if verbose else 0,
    )
    _, accuracy = model.evaluate(
        scale(data.x_test), data.y_test.astype(np.int64), batch_size=1000, verbose=0
    )
    judge = make_classifier_model()  # the weights alone: Adam's state would triple the file
    judge.set_weights(model.get_weights())
    info = {
        "test_accuracy": float(accuracy),
        "fingerprint": key,
        "weights_sha256": weights_digest(judge),
        "path": str(path),
    }
    with atomic_path(path) as tmp:
        judge.save(tmp)
    write_text(info_path, json.dumps(info, indent=2) + "\n")
    if verbose:
        print(f"Classifier test accuracy {accuracy:.2%}, cached at {path}")
    return judge, info


class Evaluator:
    """Scores image sets against a fixed sample of N real test images.

    Args:
        classifier: from `load_or_train_classifier`.
        data: the labelled data it was trained on.
        n: images per set (capped at the test split's size).
        seed: picks the real samples.
        info: the classifier's info from `load_or_train_classifier`, kept in reports.
    """

    def __init__(
        self,
        classifier,
        data: Data,
        n: int = FINAL_N,
        seed: int = DEFAULT_SEED,
        info: dict | None = None,
    ):
        import keras

        check_labelled(data)
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
        self._class_counts = np.bincount(data.y_test[test], minlength=NUM_CLASSES)
        self._train_sample = rng.choice(len(data.x_train), min(self.n, len(data.x_train)), False)

    def classify(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(features (N, 128), probabilities (N, 10)) for float images in [-1, 1]."""
        features, probs = self._model.predict(images, batch_size=500, verbose=0)
        return features.astype(np.float64), probs.astype(np.float64)

    def score(self, images: np.ndarray) -> dict:
        """FD, classifier score, coverage and precision/recall of `images` vs the test sample."""
        features, probs = self.classify(images)
        mu, sigma = metrics.gaussian_stats(features)
        coverage = metrics.mode_coverage(
            probs.argmax(axis=1), NUM_CLASSES, reference=self._class_counts
        )
        precision, recall = metrics.precision_recall(self._test_features, features, k=3)
        return {
            "n": len(images),
            "fd": metrics.frechet_distance_from_stats(mu, sigma, *self._test_stats),
            "score": metrics.classifier_score(probs),
            "covered": int(coverage["covered"]),
            "mode_kl": float(coverage["kl"]),
            "histogram": [int(c) for c in coverage["histogram"]],
            "precision": float(precision),
            "recall": float(recall),
        }

    def score_generator(self, generator, seed: int = DEFAULT_SEED) -> dict:
        """Scores N images drawn from `generator` with noise seeded by `seed`."""
        return self.score(generate(generator, self.n, seed=seed))

    def metrics_row(self, generator, seed: int = DEFAULT_SEED) -> dict[str, float]:
        """The per-epoch columns of metrics.csv (`QUALITY_COLUMNS`) for `generator`."""
        scores = self.score_generator(generator, seed=seed)
        return {name: float(scores[name]) for name in QUALITY_COLUMNS}

    def reference(self) -> dict:
        """The same figures for N real training images: what a perfect generator would get."""
        if self._reference is None:
            self._reference = self.score(scale(self._data.x_train[self._train_sample]))
        return self._reference

    def report(self, generator, seed: int = DEFAULT_SEED) -> dict:
        """{"n", "generator": figures, "reference": real-data figures, "classifier": info}."""
        return {
            "n": self.n,
            "generator": self.score_generator(generator, seed=seed),
            "reference": self.reference(),
            "classifier": self.info,
        }


def evaluate(
    target: str | Path,
    n: int = FINAL_N,
    data: str | Path | None = None,
    dataset: str | None = None,
    cache_dir: str | Path | None = None,
    seed: int = DEFAULT_SEED,
    verbose: int = 1,
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

    Returns:
        {"n", "generator": {...}, "reference": {...}, "classifier": {...}, "path"}.

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
    real = load_data(dataset or "mnist", data)
    classifier, info = load_or_train_classifier(real, cache_dir, verbose=verbose)
    result = Evaluator(classifier, real, n=n, seed=seed, info=info).report(generator, seed=seed)
    result["path"] = str(run.write_evaluation(result))
    return result


def format_table(result: dict) -> str:
    """A readable console table of `evaluate`'s result."""
    gen, ref = result["generator"], result["reference"]

    def covered(figures):
        return f"{figures['covered']}/{NUM_CLASSES}"

    lines = [
        f"Evaluation on N={result['n']} images per set "
        f"(classifier test accuracy {result['classifier']['test_accuracy']:.2%})",
        f"{'metric':<28}{'generator':>12}{'real data':>12}",
        f"{'FD (lower is better)':<28}{gen['fd']:>12.3f}{ref['fd']:>12.3f}",
        f"{'classifier score (max 10)':<28}{gen['score']:>12.3f}{ref['score']:>12.3f}",
        f"{'classes covered':<28}{covered(gen):>12}{covered(ref):>12}",
        f"{'class KL to real (nats)':<28}{gen['mode_kl']:>12.4f}{ref['mode_kl']:>12.4f}",
        f"{'precision':<28}{gen['precision']:>12.3f}{ref['precision']:>12.3f}",
        f"{'recall':<28}{gen['recall']:>12.3f}{ref['recall']:>12.3f}",
        f"generated class histogram: {gen['histogram']}",
    ]
    return "\n".join(lines)


def make_evaluator(data: Data, config, verbose: int = 1) -> Evaluator:
    """The in-training evaluator of a run: `config.eval_n` samples, the run's seed and cache.

    Raises:
        EvaluationError: the data lacks labels or a test split, holds labels outside the
            classifier's classes, or fewer test images than `config.eval_n`.
    """
    check_labelled(data, config.eval_n)
    classifier, info = load_or_train_classifier(data, config.cache_dir, verbose=verbose)
    return Evaluator(classifier, data, n=config.eval_n, seed=config.seed, info=info)
