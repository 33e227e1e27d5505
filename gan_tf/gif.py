"""Builds a run's progress GIF from its per-epoch frames.

python -m gan_tf.gif RUN_DIR [--fps 4] [--out RUN_DIR/dcgan.gif]
"""

from __future__ import annotations

import sys
from pathlib import Path

from gan_tf.images import save_gif

FRAME_GLOB = "image_at_epoch_*.png"
GIF_NAME = "dcgan.gif"


def frame_name(epoch: int) -> str:
    """The progress image's file name for `epoch`, as the tutorial names it."""
    return f"image_at_epoch_{epoch:04d}.png"


def frame_epoch(path: str | Path) -> int:
    """The epoch of a progress image, from its name (image_at_epoch_0012.png -> 12)."""
    return int(Path(path).stem.rsplit("_", 1)[1])


def make_gif(run_dir: str | Path, out: str | Path | None = None, fps: float = 4) -> Path:
    """Writes `dcgan.gif` from the run folder's `image_at_epoch_*.png`, in epoch order.

    Args:
        run_dir: a run folder.
        out: where to write (default: RUN_DIR/dcgan.gif).
        fps: frames per second.

    Returns:
        The GIF's path.

    Raises:
        FileNotFoundError: the folder holds no progress images.
    """
    run_dir = Path(run_dir)
    frames = sorted(run_dir.glob(FRAME_GLOB), key=frame_epoch)  # 10000 after 9999
    if not frames:
        raise FileNotFoundError(f"{run_dir}: no {FRAME_GLOB} to make a GIF from")
    return save_gif(frames, out or run_dir / GIF_NAME, fps=fps)


def main(argv: list[str] | None = None) -> int:
    """The `python -m gan_tf.gif` command; bad input exits 2 with one line."""
    from gan_tf.cli import ArgumentParser

    parser = ArgumentParser(prog="python -m gan_tf.gif", description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", type=Path, help="a run folder holding image_at_epoch_*.png")
    parser.add_argument("--fps", type=float, default=4, help="frames per second (default: 4)")
    parser.add_argument("--out", type=Path, help="output file (default: RUN_DIR/dcgan.gif)")
    args = parser.parse_args(argv)
    if not args.fps > 0:
        parser.error(f"--fps must be positive, got {args.fps}")
    try:
        path = make_gif(args.run_dir, args.out, args.fps)
    except (OSError, ValueError) as e:
        parser.fail(e)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
