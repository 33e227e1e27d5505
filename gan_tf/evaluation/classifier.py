"""The evaluation classifier: a small CNN trained once on the real data, that judges the fakes.

It (>= 99% test accuracy on MNIST) trains once per dataset and is cached on disk under a
fingerprint of the data; its penultimate-layer features and class probabilities are what
`gan_tf.evaluation.quality` scores samples with. It takes the data's own image shape (28x28
grey for MNIST, 32x32 colour for CIFAR-10, a class folder at the run's size) and as many
classes as the data has. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

from gan_tf.config import MIN_SAMPLES
from gan_tf.data import Data
from gan_tf.data import scale_images as scale
from gan_tf.errors import EvaluationError, Remedy
from gan_tf.files import atomic_path, default_cache_dir, waiting_lock, write_text

NUM_CLASSES = 10
# Bump when the classifier's architecture or training changes, to retire cached ones.
CLASSIFIER_VERSION = 1
# Per-epoch sample-quality columns of metrics.csv.
# Images per set of a final evaluation (FD depends on it: compare figures of one N).
FINAL_N = 10000
CLASSIFIER_EPOCHS = 5


# The classifier pools until its feature map is at most this many pixels a side.
_SMALLEST_SIDE = 8


def make_classifier_model(image_shape=(28, 28, 1), num_classes: int = NUM_CLASSES):
    """The evaluation CNN: images in [-1, 1] -> class probabilities; 128 features before.

    Blocks of a 3x3 convolution and 2x2 max pooling (32, 64, then 128 filters) shrink the
    image until its side is at most 8: two blocks for MNIST's 28 pixels and CIFAR-10's 32,
    three for 64, four for 128.

    Args:
        image_shape: (size, size, channels) of the images it judges.
        num_classes: the classes it tells apart.
    """
    import keras
    from keras import layers

    image = keras.Input(shape=tuple(image_shape), name="image")
    x, side = image, image_shape[0]
    for filters in (32, 64, 128, 128, 128):
        if side <= _SMALLEST_SIDE:
            break
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
        side //= 2
    # state size. (B, 7, 7, 64) for MNIST
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    features = layers.Dense(128, activation="relu", name="features")(x)
    x = layers.Dropout(0.3)(features)
    probs = layers.Dense(num_classes, activation="softmax", name="probs")(x)
    return keras.Model(image, probs, name="classifier")


def class_count(dataset: str, data: Data) -> int:
    """The classes the evaluation classifier tells apart: MNIST's, Fashion-MNIST's and
    CIFAR-10's 10, or a folder's class subfolders (its labels are 0 to count - 1)."""
    if dataset != "folder" or data.y_train is None:
        return NUM_CLASSES
    return int(np.max(data.y_train)) + 1


# A class folder has no test split: this share of its images, drawn with a fixed seed, is
# held out for the classifier's test accuracy and as the real images that samples are
# compared with (1/7, as MNIST holds out 10,000 of its 70,000).
HELD_OUT = 1 / 7


def with_test_split(data: Data) -> Data:
    """`data` with a test split: its own, or for labelled data without one (a class folder),
    a seeded `HELD_OUT` share of each class's training images (at least one of each class
    with two or more), so that the classes are in both splits. The same images always give
    the same split."""
    if data.x_test is not None or data.y_train is None:
        return data
    rng = np.random.default_rng(0)
    test = []
    for label in np.unique(data.y_train):
        members = np.flatnonzero(data.y_train == label)
        count = max(1, round(len(members) * HELD_OUT)) if len(members) > 1 else 0
        test.extend(rng.choice(members, count, replace=False))
    is_test = np.zeros(len(data.y_train), bool)
    is_test[np.asarray(test, dtype=np.int64)] = True
    return Data(
        data.x_train[~is_test],
        data.y_train[~is_test],
        data.x_train[is_test],
        data.y_train[is_test],
        source=data.source,
    )


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


def check_labelled(data: Data, eval_n: int | None = None, num_classes: int = NUM_CLASSES) -> None:
    """Refuses data that the evaluation cannot learn from or judge against, before any of it
    is used: the classifier learns `num_classes` classes from the training split, and the
    figures compare samples with distinct images of the test split.

    Args:
        data: the real data.
        num_classes: the classes the classifier tells apart (`class_count`).
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
        outside = (labels < 0) | (labels >= num_classes)
        if outside.any():
            values = np.unique(labels[outside])
            shown = ", ".join(str(v) for v in values[:5]) + (", ..." if len(values) > 5 else "")
            raise EvaluationError(
                f"{where}: {key} holds labels outside 0-{num_classes - 1} ({shown}; "
                f"{int(outside.sum())} of {len(labels)}): the evaluation classifier has "
                f"{num_classes} classes"
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
    num_classes: int = NUM_CLASSES,
):
    """The dataset's evaluation classifier: from the cache, or trained once and cached.

    Args:
        data: labelled train and test splits.
        num_classes: the classes it tells apart (`class_count`).
        cache_dir: where classifiers are kept (default: `default_cache_dir()`).
        epochs: training epochs if it must be trained.
        verbose: 0 silent, 1 Keras' progress bar while training.

    Returns:
        (the Keras classifier, info dict with `test_accuracy`, `fingerprint`, `path`).

    Raises:
        EvaluationError: the data lacks labels or a test split, or holds labels outside
            the classifier's classes (`check_labelled`).
    """
    check_labelled(data, num_classes=num_classes)
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
            data, epochs, path, info_path, key, verbose, num_classes
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


def _train_classifier(
    data: Data, epochs: int, path: Path, info_path: Path, key: str, verbose, num_classes: int
):
    """Trains the classifier and caches it at `path`, with its info at `info_path`."""
    import keras

    if verbose:
        print(
            f"Training the evaluation classifier once for this data ({epochs} epochs over "
            f"{len(data.x_train):,} images; on MNIST about 7 minutes on a 2-core CPU, under "
            f"a minute on a GPU). It is kept in {path.parent} and reused from then on."
        )
    keras.utils.set_random_seed(CLASSIFIER_VERSION)
    shape = scale(data.x_train[:1]).shape[1:]
    model = make_classifier_model(shape, num_classes)
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
    # The weights alone: Adam's state would triple the file.
    judge = make_classifier_model(shape, num_classes)
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
