"""What the benchmarks share: the --data default, flag types, and the lines that head a report."""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from pathlib import Path

from gan_tf.cli.common import positive_int
from gan_tf.data import DATA_ENV

REPO = Path(__file__).resolve().parents[1]
# Ratios are written as the README's tables write them: 1.01 and a multiplication sign.
TIMES = "\N{MULTIPLICATION SIGN}"
# $GAN_TF_DATA, else the shared MNIST beside the checkout (IDX .gz files and mnist.npz).
DEFAULT_DATA = os.environ.get(DATA_ENV) or str(REPO.parent / "shared" / "data" / "mnist")


def add_data_flag(parser: argparse.ArgumentParser) -> None:
    """Adds --data, MNIST as a Keras .npz or a folder of IDX files."""
    parser.add_argument(
        "--data",
        default=DEFAULT_DATA,
        metavar="PATH",
        help=f"MNIST .npz or IDX folder (default: ${DATA_ENV}, else ../shared/data/mnist; "
        f"here {DEFAULT_DATA})",
    )


def batch_sizes(text: str) -> list[int]:
    """argparse type: a comma-separated list of positive integers, e.g. "64,256".

    Raises:
        argparse.ArgumentTypeError: an empty list or an entry that is not one.
    """
    sizes = [positive_int(part.strip()) for part in text.split(",") if part.strip()]
    if not sizes:
        raise argparse.ArgumentTypeError(f"expected batch sizes such as 64,256, got {text!r}")
    return sizes


def command_line(module: str) -> str:
    """The command that is running, as it would be typed from the repository root."""
    return shlex.join(["python", "-m", module, *sys.argv[1:]])


def machine_lines() -> list[str]:
    """Date, host, versions and load: the lines that head every benchmark's report.

    The load average is there to show whether the machine was idle: on a busy one
    the figures are not worth pasting.
    """
    import keras
    import tensorflow as tf

    devices = ", ".join(d.name for d in tf.config.list_logical_devices())
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load}",
        f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}; devices: {devices}",
    ]


def load_average() -> str:
    """The 1-minute load average, to print at the end of a run beside the one at its start."""
    return f"{os.getloadavg()[0]:.2f}"


def ratio(value: float) -> str:
    """A ratio as the README's tables write it, two decimals and a multiplication sign."""
    return f"{value:.2f}{TIMES}"
