"""Sample images from a trained generator.

python -m gan_tf.generate RUN_DIR_OR_GENERATOR.keras [--n 64] [--out grid.png] [--seed 0]
"""

from __future__ import annotations

import sys
from pathlib import Path

from gan_tf.cli.common import ArgumentParser, command_name, positive_int, seed_int
from gan_tf.cli.quiet import quiet_tensorflow
from gan_tf.evaluation.sampling import DEFAULT_SEED


def main(argv: list[str] | None = None) -> int:
    """The `python -m gan_tf.generate` command; bad input exits 2 with one line."""
    quiet_tensorflow()
    parser = ArgumentParser(prog=command_name("generate"), description=__doc__.split("\n")[0])
    parser.add_argument("model", type=Path, help="a run folder, or a generator .keras file")
    parser.add_argument("--n", type=positive_int, default=64, help="images to draw (default: 64)")
    parser.add_argument(
        "--out", type=Path, default=Path("grid.png"), help="PNG to write (default: grid.png)"
    )
    parser.add_argument(
        "--seed", type=seed_int, default=DEFAULT_SEED, help=f"noise seed (default: {DEFAULT_SEED})"
    )
    parser.add_argument("--cols", type=positive_int, help="images per row (default: square)")
    args = parser.parse_args(argv)
    if args.out.suffix.lower() != ".png":
        parser.error(f"--out must end in .png, got {args.out}")

    def body():
        from gan_tf.evaluation.sampling import generate, load_generator
        from gan_tf.images import check_grid, grid_scale, save_image_grid

        generator = load_generator(args.model)
        height, width, channels = generator.output_shape[1:]
        scale = grid_scale(height)
        # Before the generator is run.
        check_grid(args.n, args.cols, scale=scale, size=(height, width), channels=channels)
        images = generate(generator, args.n, args.seed)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        save_image_grid(images, args.out, scale=scale, cols=args.cols)
        print(f"wrote {args.n} samples to {args.out}")

    return parser.run(body)


if __name__ == "__main__":
    sys.exit(main())
