"""Per-epoch overhead: what a whole epoch costs beyond its training steps.

    python benchmarks/epoch_overhead.py [--quick] [--data ../shared/data/mnist]

Runs `gan_tf.loop.train` for a few epochs of MNIST with a checkpoint every
epoch (the worst case; the tutorial's default is every 15) and times, around
the real calls, each piece of work between the steps: the progress grid,
diagnostics and TensorBoard (`EpochMonitor.on_epoch_end`), metrics.csv, the
checkpoint, and the final GIF and generator. Prints each against the time of
the steps themselves (metrics.csv's `seconds`); target: <= 3% in all.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import tensorflow as tf  # noqa: E402

from gan_tf import loop  # noqa: E402
from gan_tf.config import Config  # noqa: E402


def timed(spent: dict, name: str, function):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - start

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs of 40 steps")
    parser.add_argument(
        "--data",
        default=os.environ.get("GAN_TF_DATA", str(REPO.parent / "shared" / "data" / "mnist")),
    )
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    spent = defaultdict(float)
    loop.EpochMonitor.on_epoch_end = timed(
        spent, "grid + diagnostics + TensorBoard", loop.EpochMonitor.on_epoch_end
    )
    loop.write_metrics = timed(spent, "metrics.csv", loop.write_metrics)
    tf.train.CheckpointManager.save = timed(spent, "checkpoint", tf.train.CheckpointManager.save)
    loop._save_final = timed(spent, "GIF + generator.keras (once)", loop._save_final)

    with tempfile.TemporaryDirectory() as out:
        config = Config(
            data=args.data,
            out_dir=out,
            epochs=args.epochs,
            checkpoint_every=1,
            max_steps_per_epoch=40 if args.quick else None,
        )
        start = time.perf_counter()
        history = loop.train(config, verbose=0)
        total = time.perf_counter() - start
    steps_time = sum(row["seconds"] for row in history)
    print(f"gan_tf epoch_overhead, {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}")
    print(
        f"{len(history)} epochs of {history[0]['steps']} steps at batch {config.batch_size}: "
        f"steps {steps_time:.1f} s; whole train() {total:.1f} s (incl. start-up, data loading)"
    )
    per_epoch = ", ".join(f"{row['seconds']:.1f}" for row in history)
    print(f"  step time per epoch: {per_epoch} s (the first includes tracing the step)")
    overhead = 0.0
    for name, seconds in spent.items():
        overhead += seconds
        print(f"  {name:<36} {seconds:7.2f} s  {seconds / steps_time:6.2%} of step time")
    print(
        f"  {'total overhead':<36} {overhead:7.2f} s  {overhead / steps_time:6.2%} (target <= 3%)"
    )


if __name__ == "__main__":
    main()
