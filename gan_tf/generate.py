"""Sample images from a trained generator.

python -m gan_tf.generate RUN_DIR_OR_GENERATOR.keras [--n 64] [--out grid.png] [--seed 0]
"""

from __future__ import annotations

import sys
from pathlib import Path

from gan_tf.cli import ArgumentParser, positive_int, quiet_tensorflow

GENERATOR_NAME = "generator.keras"


def load_generator(path: str | Path):
    """Loads `generator.keras`, given the file or the run folder holding it.

    Raises:
        FileNotFoundError: neither the file nor RUN_DIR/generator.keras exists.
        ValueError: the file is not a Keras model taking noise vectors to 28x28 images.
    """
    import keras

    path = Path(path)
    if path.is_dir():
        path = path / GENERATOR_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (train a run first, or pass a .keras file)")
    try:
        model = keras.models.load_model(path)
    except Exception as e:
        raise ValueError(f"{path}: not a loadable Keras model ({str(e).splitlines()[0]})") from None
    if len(model.input_shape) != 2 or tuple(model.output_shape[1:]) != (28, 28, 1):
        raise ValueError(
            f"{path}: expected a generator (B, noise_dim) -> (B, 28, 28, 1), got "
            f"{model.input_shape} -> {model.output_shape}"
        )
    return model


def generate(generator, n: int, seed: int = 0):
    """Draws images from a generator.

    Args:
        generator: a Keras model (B, noise_dim) -> (B, 28, 28, 1).
        n: how many.
        seed: seeds the noise.

    Returns:
        float32 (n, 28, 28, 1) images in [-1, 1].
    """
    import numpy as np

    noise_dim = generator.input_shape[-1]
    noise = np.random.default_rng(seed).standard_normal((n, noise_dim), dtype=np.float32)
    return generator.predict(noise, batch_size=256, verbose=0)


def main(argv: list[str] | None = None) -> int:
    """The `python -m gan_tf.generate` command; bad input exits 2 with one line."""
    quiet_tensorflow()
    parser = ArgumentParser(prog="python -m gan_tf.generate", description=__doc__.split("\n")[0])
    parser.add_argument("model", type=Path, help="a run folder, or a generator .keras file")
    parser.add_argument("--n", type=positive_int, default=64, help="images to draw (default: 64)")
    parser.add_argument(
        "--out", type=Path, default=Path("grid.png"), help="PNG to write (default: grid.png)"
    )
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    parser.add_argument("--cols", type=positive_int, help="images per row (default: square)")
    args = parser.parse_args(argv)
    if args.out.suffix.lower() != ".png":
        parser.error(f"--out must end in .png, got {args.out}")
    from gan_tf.images import save_image_grid

    try:
        images = generate(load_generator(args.model), args.n, args.seed)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        save_image_grid(images, args.out, cols=args.cols)
    except (OSError, ValueError) as e:
        parser.fail(e)
    print(f"wrote {args.n} samples to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
