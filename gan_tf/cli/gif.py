"""Builds a run's progress GIF from its per-epoch frames.

python -m gan_tf.gif RUN_DIR [--fps 4] [--out RUN_DIR/dcgan.gif] [--every N] [--size PX]
"""

from __future__ import annotations

import sys
from pathlib import Path

from gan_tf.cli.common import ArgumentParser, command_name, positive_int
from gan_tf.errors import UserError


def main(argv: list[str] | None = None) -> int:
    """The `python -m gan_tf.gif` command; bad input exits 2 with one line."""
    parser = ArgumentParser(prog=command_name("gif"), description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", type=Path, help="a run folder holding image_at_epoch_*.png")
    parser.add_argument(
        "--fps", type=float, default=4, help="frames per second, 0.01 to 100 (default: 4)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="output file, a .gif (default: RUN_DIR/dcgan.gif); an existing file that is "
        "not a GIF is never replaced",
    )
    parser.add_argument(
        "--every",
        type=positive_int,
        default=1,
        metavar="N",
        help="one frame every N epochs, the first and last always (default: 1, every frame)",
    )
    parser.add_argument(
        "--size",
        type=positive_int,
        metavar="PX",
        help="shrink each frame to at most PX pixels on its longer side (default: as drawn); "
        "with --every, a GIF small enough for a web page",
    )
    args = parser.parse_args(argv)

    def body():
        from gan_tf.images import make_gif

        try:
            path = make_gif(args.run_dir, args.out, args.fps, args.every, args.size)
        except FileNotFoundError as e:
            raise UserError(str(e)) from None
        print(f"wrote {path}")

    return parser.run(body)


if __name__ == "__main__":
    sys.exit(main())
