"""Sample quality without a classifier: FID, KID and the k-NN figures on InceptionV3 features.

The MNIST classifier of `gan_tf.evaluation.classifier` judges 28x28 grey digits in ten
classes; anything else (a folder of photos, colour images, other sizes) is judged here, on
the 2048 pool features of Keras' ImageNet InceptionV3 (`gan_tf.evaluation.inception`): FID,
KID, and k-NN precision/recall and density/coverage with the same k as the classifier's
evaluation. N generated images are compared with N real images; the same figures for N
other real images are the reference. A folder has no test split, so its images are split in
two, seeded: N to compare with, N for the reference (N at most half the folder).
"""

from __future__ import annotations

import numpy as np

from gan_tf.config import MIN_SAMPLES
from gan_tf.data import Data
from gan_tf.errors import EvaluationError
from gan_tf.evaluation import inception, knn
from gan_tf.evaluation.sampling import DEFAULT_SEED
from gan_tf.evaluation.scorer import Scorer
from gan_tf.rundir import INCEPTION_COLUMNS

KNN_K = 3  # as the classifier's evaluation uses
# KID's subsets: 50 pairs of up to 1000 images each, a tenth of a second of matrix products
# each on 2048 features.
KID_SUBSETS, KID_SUBSET_SIZE = 50, 1000


def with_channels(images: np.ndarray) -> np.ndarray:
    """(N, H, W) grey images as (N, H, W, 1); others unchanged."""
    return images[..., None] if images.ndim == 3 else images


class InceptionEvaluator(Scorer):
    """Scores image sets against N real images on InceptionV3 pool features.

    Args:
        model: from `gan_tf.evaluation.inception.inception_model`.
        data: the real images (labels are not used).
        n: images per set, capped where the data holds fewer (half a folder's images).
        seed: picks the real samples.
        info: what the model is ({"weights": ...}), kept in reports.

    Raises:
        EvaluationError: fewer than 2 * MIN_SAMPLES images without a test split, or fewer
            than MIN_SAMPLES in a test split.
    """

    columns = INCEPTION_COLUMNS
    info_key = "features"

    def __init__(
        self, model, data: Data, n: int, seed: int = DEFAULT_SEED, info: dict | None = None
    ):
        self.model = model
        self.info = dict(info or {})
        rng = np.random.default_rng([seed, 5])
        train = with_channels(data.x_train)
        if data.x_test is not None:
            test = with_channels(data.x_test)
            self.n = min(n, len(test), len(train))
            compare = test[rng.choice(len(test), self.n, replace=False)]
            reference = train[rng.choice(len(train), self.n, replace=False)]
        else:  # one set of images: two disjoint halves
            self.n = min(n, len(train) // 2)
            order = rng.permutation(len(train))
            compare, reference = train[order[: self.n]], train[order[self.n : 2 * self.n]]
        if self.n < MIN_SAMPLES:
            raise EvaluationError(
                f"{data.source or 'the data'}: too few images to evaluate ({len(train)}): it "
                f"needs {MIN_SAMPLES} to compare with and {MIN_SAMPLES} for the reference"
            )
        self._reference_images = reference
        self._reference = None
        self._real_features = self.features(compare)

    def features(self, images: np.ndarray) -> np.ndarray:
        """(N, 2048) features of uint8 or [-1, 1] float images."""
        return inception.inception_features(self.model, with_channels(images))

    def score(self, images: np.ndarray) -> dict:
        """FID, KID (mean and spread over subsets), and the k-NN "precision", "recall",
        "density" and "coverage" of `images` against the real sample."""
        features = self.features(images)
        kid, kid_std = inception.kid(
            self._real_features, features, KID_SUBSETS, KID_SUBSET_SIZE, seed=0
        )
        return {
            "n": len(images),
            "fid": inception.fid(self._real_features, features),
            "kid": kid,
            "kid_std": kid_std,
            **knn.knn_scores(self._real_features, features, k=KNN_K),
        }

    def reference_images(self) -> np.ndarray:
        """N real images other than those the figures compare with."""
        return self._reference_images


def make_inception_evaluator(data: Data, n: int, seed: int, weights=None, verbose: int = 1):
    """An `InceptionEvaluator` with Keras' ImageNet weights, or those of the local file
    `weights`.

    Raises:
        EvaluationError: the weights cannot be downloaded or read (one line, with the way
            out), or the data holds too few images.
    """
    if verbose:
        print(
            "Scoring with InceptionV3 features (FID, KID): about a second per 10 images "
            "on a 2-core CPU",
            flush=True,
        )
    model = inception.inception_model(weights or "imagenet")
    info = {"features": "InceptionV3 pool, Keras' ImageNet weights", "weights": weights}
    return InceptionEvaluator(model, data, n, seed, info)
