"""Per-epoch overhead: what a whole epoch of gan_tf costs beyond its training steps.

    python -m benchmarks.epoch_overhead --quick   # 3 epochs of 40 steps, about 1.5 minutes
    python -m benchmarks.epoch_overhead           # 3 full MNIST epochs, about 6-7 minutes

Two measurements, both through public interfaces only:

1. The real loop. `gan_tf.training.loop.train` runs --epochs epochs on MNIST with a
   checkpoint every epoch (the worst case; the tutorial's default is every 15).
   Each epoch's wall time is taken between consecutive `on_epoch_end` calls (made
   after the epoch's files are written); the time of its steps is metrics.csv's
   `seconds` column. Their difference is the work between the steps: progress
   grid, diagnostics, TensorBoard, metrics.csv, checkpoint. The first epoch is
   left out (it counts from the start of `train` and traces the step). Target:
   at most 3% of the step time. The time from the last epoch's end to `train`'s
   return is the work done once, at the end (GIF, generator.keras).
2. The pieces, timed directly on the trained models (passed to `train(models=...)`),
   the median of --repeats calls after a warm-up call: `EpochMonitor.on_epoch_end`
   (grid, diagnostics, TensorBoard), `RunDir.write_metrics` (50 rows, the tutorial's
   50 epochs), `Checkpoints.save`, `gan_tf.images.make_gif` (50 frames) and
   `gan_tf.evaluation.sampling.save_generator`.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import add_data_flag, command_line, load_average, machine_lines
from gan_tf.cli.common import positive_int
from gan_tf.config import Config
from gan_tf.data import load_data, steps_per_epoch, training_images
from gan_tf.evaluation.sampling import save_generator
from gan_tf.images import make_gif
from gan_tf.rundir import RunDir
from gan_tf.training.build import build_models
from gan_tf.training.checkpoint import Checkpoints, EpochProgress, make_checkpoint
from gan_tf.training.loop import train
from gan_tf.training.monitor import EpochMonitor

TARGET = 0.03
TUTORIAL_EPOCHS = 50  # the GIF's frames and metrics.csv's rows at the end of a tutorial run
QUICK_STEPS = 40


def median_seconds(function, repeats: int) -> float:
    """The median wall time of `repeats` calls of `function()`, after one warm-up call."""
    function()  # traces (diagnostics), opens files, fills caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_pieces(config: Config, models, images, history: list[dict], frame: Path, repeats: int):
    """Median seconds per call of each public piece of between-epoch work, in a scratch folder.

    Returns:
        {what: seconds}.
    """
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        config = dataclasses.replace(config, out_dir=str(scratch / "monitor"))
        Path(config.out_dir).mkdir()
        monitor = EpochMonitor(config, models.generator, models.discriminator, images)
        row = {k: history[-1][k] for k in ("epoch", "gen_loss", "disc_loss", "seconds", "steps")}
        epochs = itertools.count(1)
        rows = [{**history[-1], "epoch": e} for e in range(1, TUTORIAL_EPOCHS + 1)]
        run = RunDir(scratch / "run")
        run.path.mkdir()
        checkpoints = Checkpoints(
            make_checkpoint(*models, EpochProgress()), run, config.max_checkpoints
        )
        numbers = itertools.count(1)
        frames = scratch / "frames"
        frames.mkdir()
        for epoch in range(1, TUTORIAL_EPOCHS + 1):
            shutil.copyfile(frame, RunDir(frames).frame(epoch))
        try:
            return {
                "progress grid + diagnostics + TensorBoard (EpochMonitor.on_epoch_end)": (
                    median_seconds(lambda: monitor.on_epoch_end(next(epochs), dict(row)), repeats)
                ),
                f"metrics.csv of {TUTORIAL_EPOCHS} rows (RunDir.write_metrics)": median_seconds(
                    lambda: run.write_metrics(rows), repeats
                ),
                "checkpoint (Checkpoints.save)": median_seconds(
                    lambda: checkpoints.save(next(numbers), keep=True), repeats
                ),
                f"GIF of {TUTORIAL_EPOCHS} frames (make_gif), once": median_seconds(
                    lambda: make_gif(frames), repeats
                ),
                "generator.keras (save_generator), once": median_seconds(
                    lambda: save_generator(models.generator, scratch / "generator.keras"), repeats
                ),
            }
        finally:
            monitor.close()


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.epoch_overhead", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"epochs of {QUICK_STEPS} steps (default: full epochs)",
    )
    add_data_flag(parser)
    parser.add_argument(
        "--epochs", type=positive_int, metavar="N", default=3, help="at least 2 (default: 3)"
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="N",
        default=Config.batch_size,
        help="(default: 256)",
    )
    parser.add_argument(
        "--max-steps-per-epoch",
        type=positive_int,
        metavar="N",
        help=f"cut epochs short (default: none; with --quick {QUICK_STEPS})",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        metavar="N",
        default=5,
        help="timed calls per piece (default: 5)",
    )
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error(f"--epochs must be at least 2 (the first is left out), not {args.epochs}")
    if args.quick and args.max_steps_per_epoch is None:
        args.max_steps_per_epoch = QUICK_STEPS
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    print("## gan_tf epoch_overhead")
    print(*machine_lines(), sep="\n")
    print(f"command: {command_line('benchmarks.epoch_overhead')}\n", flush=True)
    with tempfile.TemporaryDirectory() as out:
        config = Config(
            data=args.data,
            out_dir=out,
            epochs=args.epochs,
            batch_size=args.batch_size,
            checkpoint_every=1,
            max_steps_per_epoch=args.max_steps_per_epoch,
        )
        images = training_images(load_data(config.dataset, config.data), config)
        models = build_models(config)
        ends = [time.perf_counter()]
        history = train(
            config,
            verbose=0,
            models=models,
            on_epoch_end=lambda *_: ends.append(time.perf_counter()),
        )
        at_the_end = time.perf_counter() - ends[-1]
        frame = RunDir(out).frame(args.epochs)
        pieces = time_pieces(config, models, images, history, frame, args.repeats)

    steps = int(history[0]["steps"])
    print(
        f"### The real loop: {args.epochs} epochs of {steps} steps at batch {args.batch_size}, "
        "a checkpoint every epoch\n"
    )
    print("| epoch | whole epoch s | steps s (metrics.csv) | beyond the steps s | share |")
    print("|---|---|---|---|---|")
    walls = [b - a for a, b in itertools.pairwise(ends)]
    for row, wall in zip(history, walls, strict=True):
        beyond = wall - row["seconds"]
        cells = f"{wall:.2f} | {row['seconds']:.2f} | {beyond:.2f} | {beyond / row['seconds']:.2%}"
        if row["epoch"] == 1:
            cells = f"({wall:.2f}) | {row['seconds']:.2f} | (start-up, tracing) | —"
        print(f"| {row['epoch']} | {cells} |")
    measured = list(zip(history[1:], walls[1:], strict=True))
    step_time = sum(row["seconds"] for row, _ in measured)
    beyond = sum(wall - row["seconds"] for row, wall in measured)
    print(
        f"| **epochs 2-{args.epochs}** | {beyond + step_time:.2f} | {step_time:.2f} "
        f"| {beyond:.2f} | **{beyond / step_time:.2%}** (target ≤ {TARGET:.0%}) |"
    )
    print(
        f"\nonce, after the last epoch (GIF, generator.keras, closing TensorBoard): "
        f"{at_the_end:.2f} s"
    )
    if args.max_steps_per_epoch:
        full_steps = steps_per_epoch(len(images), Config(batch_size=args.batch_size))
        per_epoch = beyond / len(measured)
        full_step_time = step_time / len(measured) / steps * full_steps
        print(
            f"a full epoch ({full_steps} steps) at this step time: {per_epoch:.2f} s beyond "
            f"{full_step_time:.1f} s of steps = {per_epoch / full_step_time:.2%}"
        )

    epoch_steps = statistics.median(row["seconds"] for row, _ in measured)
    print(f"\n### The pieces, median of {args.repeats} calls on the trained models\n")
    print("| work between steps | ms per call | share of one epoch's steps |")
    print("|---|---|---|")
    for name, seconds in pieces.items():
        print(f"| {name} | {seconds * 1e3:.1f} | {seconds / epoch_steps:.2%} |")
    print(f"\none epoch's steps: {epoch_steps:.2f} s (median of epochs 2-{args.epochs})")
    print(f"command: {command_line('benchmarks.epoch_overhead')}")
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
