"""The readers of image data on disk, and the `Data` every one of them returns.

- `idx`: MNIST-style data, IDX files (gzip-compressed or raw) or a Keras-format .npz.
- `folder`: a folder of the user's own image files (`load_image_folder`).
- `prepare`: crop, resize and channel rules, for a folder's files and for arrays in
  memory (`prepare_images`).
- `cache`: the decoded-folder cache, an .npz kept outside the folder.
- `cifar`: CIFAR-10's pickled python batches, from their folder or the .tar.gz.

`Data` lives here, below all of them, so each reader imports it without an import cycle;
`gan_tf.data` chooses the reader. Pure numpy and Pillow: nothing here imports TensorFlow.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from gan_tf.errors import DataError


class _Splits(NamedTuple):
    x_train: np.ndarray
    y_train: np.ndarray | None
    x_test: np.ndarray | None
    y_test: np.ndarray | None


class Data(_Splits):
    """Uint8 images (N, 28, 28) and labels (N,); the test split may be absent.

    A tuple of the four arrays, to unpack or read by name. `source` says where they came
    from (the file or folder, or Keras' download), for messages about them; it is no part
    of the tuple, so equal arrays make equal `Data` and the classifier's cache key (a hash
    of the arrays) does not depend on where they were read.
    """

    source: str | None = None  # the instance's own, when given

    def __new__(cls, x_train, y_train, x_test, y_test, source: str | None = None):
        data = super().__new__(cls, x_train, y_train, x_test, y_test)
        data.source = source
        return data

    def _replace(self, **changes) -> Data:
        return Data(**{**self._asdict(), **changes}, source=self.source)


def empty_folder(folder: Path) -> DataError:
    """The error for a folder with no file in it or any subfolder, whichever reader it was
    given to."""
    return DataError(f"{folder}: empty folder (no files in it or its subfolders)")
