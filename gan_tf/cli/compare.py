"""Puts runs side by side: their grids at one epoch, a GIF, and a table every few epochs.

    python -m gan_tf.compare RUN_DIR RUN_DIR [...] [--out-dir runs/compare] [--every 5]

Writes side_by_side.png (each run's progress grid at --epoch, by default the last
epoch every run has one of), side_by_side.gif (every epoch), comparison.md (each
run's command, time to classifier score 5 and 7, and a table of FD, score, recall,
dead channels, the gradient reaching G and D's outputs every --every epochs) and,
per run, a folder with its metrics.csv, config.json and that epoch's grid: small
files to commit or share, while the run folders stay where they are.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gan_tf.cli.common import ArgumentParser, command_name, flag, positive_int, train_command
from gan_tf.errors import UserError


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=command_name("compare"),
        description=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="run folders")
    parser.add_argument(
        "--out-dir", type=Path, default=Path("runs/compare"), help="(default: runs/compare)"
    )
    parser.add_argument(
        "--every", type=positive_int, default=5, help="table rows every N epochs (default: 5)"
    )
    parser.add_argument(
        "--epoch",
        type=positive_int,
        help="epoch of side_by_side.png (default: the last epoch every run has a grid of)",
    )
    parser.add_argument("--fps", type=float, default=4, help="GIF frames per second (default: 4)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """The `python -m gan_tf.compare` command; bad input exits 2 with one line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.fps > 0:
        parser.error(f"--fps must be positive, got {args.fps}")

    def body():
        from gan_tf.study.compare import write_comparison
        from gan_tf.study.records import load_run

        for run_dir in args.run_dirs:
            if not run_dir.is_dir():
                raise UserError(f"{run_dir}: no such run folder")
        unique = {run_dir.resolve(): run_dir for run_dir in args.run_dirs}.values()
        runs = [load_run(run_dir, command=train_command) for run_dir in unique]
        path = write_comparison(runs, args.out_dir, args.every, args.epoch, args.fps, spell=flag)
        print(f"wrote {path} and its pictures")

    return parser.run(body)


if __name__ == "__main__":
    sys.exit(main())
