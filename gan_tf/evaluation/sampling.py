"""A trained generator on disk: saving it, loading it, and drawing images from it."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from gan_tf.errors import UserError
from gan_tf.files import atomic_path
from gan_tf.images import MEMORY_SHARE, gib, memory_budget
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
            a valid Keras file, or its model does not take noise vectors to square images.
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
    if not _is_generator(model):
        raise UserError(
            f"{path}: expected a generator (B, noise_dim) -> (B, S, S, 1 or 3), got "
            f"{model.input_shape} -> {model.output_shape}"
        )
    return model


def _is_generator(model) -> bool:
    """Noise vectors in, square grey or colour images out."""
    output = tuple(model.output_shape[1:])
    return (
        len(model.input_shape) == 2
        and len(output) == 3
        and output[0] == output[1]
        and output[2] in (1, 3)
    )


def sample_bytes(n: int, noise_dim: int, image_shape=(28, 28, 1)) -> int:
    """The memory `generate` takes for `n` samples: the noise, and the images twice (Keras
    concatenates its batches' outputs into a new array)."""
    return n * (noise_dim + 2 * math.prod(image_shape)) * 4


def check_sample_size(n, noise_dim: int, image_shape=(28, 28, 1)) -> None:
    """Refuses a number of samples that is not a positive integer or does not fit in memory.

    Raises:
        UserError: naming `n`, with the most that fits on this machine.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise UserError(f"must be a positive integer, got {n!r}", setting="n")
    need, budget = sample_bytes(n, noise_dim, image_shape), memory_budget()
    if need > budget:
        most = budget // sample_bytes(1, noise_dim, image_shape)
        raise UserError(
            f"must be at most {most} on this machine, got {n}: the samples would take about "
            f"{gib(need)}, more than the {gib(budget)} allowed ({MEMORY_SHARE:.0%} of its memory)",
            setting="n",
        )


def generate(generator, n: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Draws images from a generator.

    Args:
        generator: a Keras model (B, noise_dim) -> (B, H, W, C).
        n: how many.
        seed: seeds the noise.

    Returns:
        float32 (n, H, W, C) images in [-1, 1].

    Raises:
        UserError: `n` is not a positive integer, or its noise and images would take more
            than `gan_tf.images.memory_budget()`.
    """
    noise_dim = generator.input_shape[-1]
    check_sample_size(n, noise_dim, generator.output_shape[1:])
    noise = np.random.default_rng(seed).standard_normal((n, noise_dim), dtype=np.float32)
    return generator.predict(noise, batch_size=256, verbose=0)
