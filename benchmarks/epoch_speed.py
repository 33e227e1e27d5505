"""Whole epochs: gan_tf's real training loop against the tutorial's epoch loop, on MNIST.

    python -m benchmarks.epoch_speed --quick   # cut-short epochs only, about 3 minutes
    python -m benchmarks.epoch_speed           # about 35 minutes on a 2-core CPU
    python -m benchmarks.epoch_speed --full-epochs 0 --epochs 3 --max-steps-per-epoch 2

For each batch size (--batch-sizes, default 64 and 256) and each of two modes,
epochs cut short at --max-steps-per-epoch steps (--epochs of them) and full
epochs (--full-epochs of them, over --train-limit images if given, else all
60,000), it runs in turn:

- tutorial-style: `benchmarks.tutorial`'s models, optimizers, step and dataset, and
  per epoch the tutorial's body: `for image_batch in dataset.take(steps):
  train_step(image_batch)` (the dataset itself for full epochs), the 16-image
  progress grid drawn with matplotlib to a PNG, and a checkpoint every 15 epochs.
  Its dataset keeps tf.data's defaults, autotuner on, as the tutorial's does;
- gan_tf: `gan_tf.training.loop.train(config, on_epoch_end=...)`, the real loop, writing
  its progress grid, diagnostics, TensorBoard, metrics.csv and checkpoints.

Each epoch is timed as the wall time between consecutive epoch ends (gan_tf: at
`on_epoch_end`, called after the epoch's files are written; tutorial-style: after
its epoch body), so it holds everything an epoch costs, and is reported as
ms/step. Per side: the median and the worst epoch, leaving out the first (it
traces the step and, for gan_tf, counts from the start of `train`). Ratios:
median ratio = tutorial median / gan_tf median (target >= 1.00), worst ratio =
tutorial median / gan_tf's worst epoch (target >= 0.97).

Why: cut-short epochs used to run 1.6x slower than full ones, because tf.data's
autotuner thread made releasing an epoch's iterator before its end wait (fixed by
`gan_tf.data.pipeline_options`). The tutorial-style side keeps the autotuner, as
the tutorial does, so its cut-short epochs may still pay that wait.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import itertools
import statistics
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from benchmarks.common import (
    TIMES,
    add_data_flag,
    batch_sizes,
    command_line,
    load_average,
    machine_lines,
    ratio,
)
from benchmarks.tutorial import (
    BUFFER_SIZE,
    NOISE_DIM,
    NUM_EXAMPLES_TO_GENERATE,
    make_tutorial_checkpoint,
    make_tutorial_dataset,
    make_tutorial_models,
    make_tutorial_train_step,
    tutorial_epoch,
)
from gan_tf.cli.common import positive_int
from gan_tf.config import Config
from gan_tf.data import load_data, steps_per_epoch, training_images
from gan_tf.training.loop import train

MEDIAN_TARGET = 1.00
WORST_TARGET = 0.97
DEFAULTS = {"epochs": 6, "max_steps_per_epoch": 40, "full_epochs": 3}
QUICK = {"epochs": 3, "max_steps_per_epoch": 20, "full_epochs": 0}


@dataclasses.dataclass
class Mode:
    """One way of running epochs: cut short at `max_steps`, or full (`max_steps` None)."""

    epochs: int
    max_steps: int | None
    train_limit: int | None

    def describe(self, steps: int, n_images: int) -> str:
        if self.max_steps:
            return f"{self.epochs} {TIMES} {steps} steps (cut short)"
        return f"{self.epochs} full of {steps} steps ({n_images:,} images)"


def run_tutorial(images: np.ndarray, batch_size: int, mode: Mode, steps: int) -> list[float]:
    """Seconds of each epoch of the tutorial's loop (the first from before its models exist)."""
    ends = [time.perf_counter()]
    models = make_tutorial_models(NOISE_DIM)
    generator = models[0]
    train_step = make_tutorial_train_step(*models, batch_size, NOISE_DIM)
    dataset = make_tutorial_dataset(images, batch_size, BUFFER_SIZE)
    # The tutorial's `seed`: the fixed noise of the progress grid.
    seed = tf.random.normal([NUM_EXAMPLES_TO_GENERATE, NOISE_DIM])
    checkpoint = make_tutorial_checkpoint(*models)
    with tempfile.TemporaryDirectory() as out:
        for epoch in range(1, mode.epochs + 1):
            batches = dataset.take(steps) if mode.max_steps else dataset
            tutorial_epoch(epoch, batches, train_step, generator, seed, checkpoint, out)
            ends.append(time.perf_counter())
    return [b - a for a, b in itertools.pairwise(ends)]


def run_gan_tf(data: str, batch_size: int, mode: Mode) -> tuple[list[float], int]:
    """Seconds of each epoch of `gan_tf.training.loop.train` (the first from the call), and its
    steps."""
    ends = []
    with tempfile.TemporaryDirectory() as out:
        config = Config(
            data=data,
            out_dir=out,
            epochs=mode.epochs,
            batch_size=batch_size,
            max_steps_per_epoch=mode.max_steps,
            train_limit=mode.train_limit,
        )
        ends.append(time.perf_counter())
        history = train(config, verbose=0, on_epoch_end=lambda *_: ends.append(time.perf_counter()))
    return [b - a for a, b in itertools.pairwise(ends)], int(history[-1]["steps"])


def summary(seconds: list[float], steps: int) -> dict:
    """ms/step of each epoch, and the median and worst of all but the first."""
    ms = [s / steps * 1e3 for s in seconds]
    return {"ms": ms, "median": statistics.median(ms[1:]), "worst": max(ms[1:])}


def epochs_cell(ms: list[float]) -> str:
    return ", ".join([f"({ms[0]:.0f})", *(f"{x:.1f}" for x in ms[1:])])


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.epoch_speed", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="defaults of --epochs {epochs}, --max-steps-per-epoch {max_steps_per_epoch}, "
        "--full-epochs {full_epochs}".format(**QUICK),
    )
    add_data_flag(parser)
    parser.add_argument(
        "--batch-sizes",
        type=batch_sizes,
        metavar="LIST",
        default=[64, 256],
        help="comma-separated batch sizes (default: 64,256)",
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        metavar="N",
        help=f"cut-short epochs per side, at least 2 (default: {DEFAULTS['epochs']})",
    )
    parser.add_argument(
        "--max-steps-per-epoch",
        type=positive_int,
        metavar="N",
        help=f"steps of a cut-short epoch (default: {DEFAULTS['max_steps_per_epoch']})",
    )
    parser.add_argument(
        "--full-epochs",
        type=int,
        metavar="N",
        help=f"full epochs per side, 0 (skip) or at least 2 (default: {DEFAULTS['full_epochs']})",
    )
    parser.add_argument(
        "--train-limit",
        type=positive_int,
        metavar="N",
        help="full epochs over a seeded subset of N images (default: all 60,000)",
    )
    args = parser.parse_args(argv)
    for name, default in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    if args.epochs < 2:
        parser.error(f"--epochs must be at least 2 (the first is left out), not {args.epochs}")
    if args.full_epochs < 0 or args.full_epochs == 1:
        parser.error(f"--full-epochs must be 0 (skip) or at least 2, not {args.full_epochs}")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    data = load_data(data=args.data)
    modes = [Mode(args.epochs, args.max_steps_per_epoch, None)]
    if args.full_epochs:
        modes.append(Mode(args.full_epochs, None, args.train_limit))
    print("## gan_tf epoch_speed")
    print(*machine_lines(), sep="\n")
    print(f"command: {command_line('benchmarks.epoch_speed')}\n", flush=True)
    rows = []
    for mode in modes:
        for batch_size in args.batch_sizes:
            config = Config(
                batch_size=batch_size,
                max_steps_per_epoch=mode.max_steps,
                train_limit=mode.train_limit,
            )
            images = training_images(data, config)
            steps = steps_per_epoch(len(images), config)
            tutorial = summary(run_tutorial(images, batch_size, mode, steps), steps)
            keras.backend.clear_session()
            gc.collect()
            seconds, gan_tf_steps = run_gan_tf(args.data, batch_size, mode)
            if gan_tf_steps != steps:  # the two sides must run epochs of the same length
                raise RuntimeError(f"gan_tf ran {gan_tf_steps} steps an epoch, tutorial {steps}")
            gan_tf = summary(seconds, steps)
            keras.backend.clear_session()
            gc.collect()
            what = mode.describe(steps, len(images))
            rows.append((what, batch_size, tutorial, gan_tf))
            for side, result in (("tutorial", tutorial), ("gan_tf", gan_tf)):
                print(f"{what}, batch {batch_size}, {side}: ms/step {epochs_cell(result['ms'])}")
            print(flush=True)

    print("| epochs | batch | side | ms/step per epoch (first: start-up, tracing) |")
    print("|---|---|---|---|")
    for what, batch_size, tutorial, gan_tf in rows:
        for side, result in (("tutorial", tutorial), ("gan_tf", gan_tf)):
            print(f"| {what} | {batch_size} | {side} | {epochs_cell(result['ms'])} |")
    print()
    print(
        "| epochs | batch | tutorial median ms/step | tutorial worst | gan_tf median ms/step "
        f"| gan_tf worst | median ratio (≥ {MEDIAN_TARGET:.2f}) "
        f"| worst ratio (≥ {WORST_TARGET:.2f}) | targets met |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for what, batch_size, tutorial, gan_tf in rows:
        median_ratio = tutorial["median"] / gan_tf["median"]
        worst_ratio = tutorial["median"] / gan_tf["worst"]
        met = median_ratio >= MEDIAN_TARGET and worst_ratio >= WORST_TARGET
        print(
            f"| {what} | {batch_size} | {tutorial['median']:.1f} | {tutorial['worst']:.1f} "
            f"| {gan_tf['median']:.1f} | {gan_tf['worst']:.1f} | {ratio(median_ratio)} "
            f"| {ratio(worst_ratio)} | {'yes' if met else 'no'} |"
        )
    print(
        "\nmedian and worst of every epoch but the first; median ratio = tutorial median / "
        "gan_tf median, worst ratio = tutorial median / gan_tf worst"
    )
    print(f"command: {command_line('benchmarks.epoch_speed')}")
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
