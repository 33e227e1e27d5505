"""A trained generator on disk: saving it, loading it, and drawing images from it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from gan_tf.errors import UserError
from gan_tf.files import atomic_path
from gan_tf.rundir import RunDir

DEFAULT_SEED = 0


def save_generator(generator, path: str | Path) -> None:
    """Saves the generator as a `.keras` file that plain `keras.models.load_model` reads."""
    with atomic_path(path) as tmp:
        generator.save(tmp)


def load_generator(path: str | Path):
    """Loads `generator.keras`, given the file or the run folder holding it.

    Raises:
        UserError: neither the file nor RUN_DIR/generator.keras exists, the file is not
            a valid Keras file, or its model does not take noise vectors to 28x28 images.
    """
    import keras

    path = Path(path)
    if path.is_dir():
        path = RunDir(path).generator
    if not path.is_file():
        raise UserError(f"{path}: no such file (train a run first, or pass a .keras file)")
    if not zipfile.is_zipfile(path):
        raise UserError(f"{path}: not a valid Keras file (damaged or not a .keras archive)")
    try:
        model = keras.models.load_model(path)
    except Exception as e:  # Keras raises many types on a damaged archive
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise UserError(f"{path}: not a valid Keras file ({reason})") from None
    if len(model.input_shape) != 2 or tuple(model.output_shape[1:]) != (28, 28, 1):
        raise UserError(
            f"{path}: expected a generator (B, noise_dim) -> (B, 28, 28, 1), got "
            f"{model.input_shape} -> {model.output_shape}"
        )
    return model


def generate(generator, n: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Draws images from a generator.

    Args:
        generator: a Keras model (B, noise_dim) -> (B, 28, 28, 1).
        n: how many.
        seed: seeds the noise.

    Returns:
        float32 (n, 28, 28, 1) images in [-1, 1].
    """
    noise_dim = generator.input_shape[-1]
    noise = np.random.default_rng(seed).standard_normal((n, noise_dim), dtype=np.float32)
    return generator.predict(noise, batch_size=256, verbose=0)
