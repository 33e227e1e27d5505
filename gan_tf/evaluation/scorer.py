"""What every sample-quality evaluator shares: N generated images scored as the real ones
are, the per-epoch columns of metrics.csv, the real-data reference and the report.

`gan_tf.evaluation.quality.Evaluator` (the MNIST classifier's figures) and
`gan_tf.evaluation.unlabelled.InceptionEvaluator` (InceptionV3's) each say how to score a
set of images and which real images are the reference; the rest is here, once.
"""

from __future__ import annotations

import numpy as np

from gan_tf.evaluation.sampling import DEFAULT_SEED, generate


class Scorer:
    """The shared half of an evaluator; a subclass sets `n`, `info` and `_reference = None`
    and defines `score` and `reference_images`.

    Attributes:
        columns: the figures it adds to metrics.csv during training.
        info_key: the report's key for what judged the images (`info`).
    """

    columns: tuple[str, ...] = ()
    info_key = "judge"
    n: int
    info: dict
    _reference: dict | None

    def score(self, images: np.ndarray) -> dict:
        """The figures of a set of images (float in [-1, 1] or uint8)."""
        raise NotImplementedError

    def reference_images(self) -> np.ndarray:
        """N real images other than those the figures compare with."""
        raise NotImplementedError

    def score_generator(self, generator, seed: int = DEFAULT_SEED) -> dict:
        """Scores N images drawn from `generator` with noise seeded by `seed`."""
        return self.score(generate(generator, self.n, seed=seed))

    def metrics_row(self, generator, seed: int = DEFAULT_SEED) -> dict[str, float]:
        """The per-epoch columns of metrics.csv (`columns`) for `generator`."""
        scores = self.score_generator(generator, seed=seed)
        return {name: float(scores[name]) for name in self.columns}

    def reference(self) -> dict:
        """The same figures for N real images: what a perfect generator would get."""
        if self._reference is None:
            self._reference = self.score(self.reference_images())
        return self._reference

    def report(self, generator, seed: int = DEFAULT_SEED) -> dict:
        """{"n", "generator": figures, "reference": real-data figures, info_key: info}."""
        return {
            "n": self.n,
            "generator": self.score_generator(generator, seed=seed),
            "reference": self.reference(),
            self.info_key: self.info,
        }
