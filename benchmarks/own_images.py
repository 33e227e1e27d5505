"""Own images: decoding a folder (first time and from the cache), and a training step of the
DCGAN paper's networks at each image size, next to the tutorial's step.

    python -m benchmarks.own_images --quick      # 32 and 64 pixels at batch 32, a few minutes
    python -m benchmarks.own_images              # 32, 64 and 128 pixels at batch 128, longer

A 64-pixel image costs the paper's networks at width 64 about ten times the multiply-adds of a
28-pixel one in the tutorial's (about 0.97 G against 0.10 G in the forward passes of G and
of D on a real and a fake image): expect seconds a step on a 2-core CPU.

Everything goes through public interfaces: `gan_tf.data.load_data` for the folder (default:
../shared/data/emoji64, 1,406 colour images, beside the checkout), and for the steps
`gan_tf.training.build.build_models` with `gan_tf.step.make_train_steps` over
`gan_tf.data.make_dataset`, as the training loop runs them. After one warm-up call, the
median of --repeats calls of --steps steps each is taken; images a second is batch / step.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import tensorflow as tf

from benchmarks.common import REPO, TIMES, command_line, load_average, machine_lines
from gan_tf.cli.common import positive_int
from gan_tf.config import make_config
from gan_tf.data import load_data, make_dataset
from gan_tf.step import make_train_steps
from gan_tf.training.build import build_models

DEFAULT_FOLDER = str(REPO.parent / "shared" / "data" / "emoji64")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", default=DEFAULT_FOLDER, help="a folder of images")
    parser.add_argument(
        "--quick", action="store_true", help="32 and 64 pixels, batch 32, 2 steps twice"
    )
    parser.add_argument("--batch-size", type=positive_int, default=128)
    parser.add_argument("--steps", type=positive_int, default=5, help="steps per timed call")
    parser.add_argument("--repeats", type=positive_int, default=3)
    args = parser.parse_args(argv)
    if args.quick:
        args.batch_size, args.steps, args.repeats = 32, 2, 2
    return args


def seconds_per_step(config, models, images, steps: int, repeats: int) -> float:
    """The median time of one step of `models` on `images`."""
    train_steps = make_train_steps(*models)
    dataset = make_dataset(images, config.batch_size, 0, 1, len(images), config.noise_dim)
    iterator = iter(dataset.repeat())
    train_steps(iterator, tf.constant(steps))  # traces
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        losses = train_steps(iterator, tf.constant(steps))
        float(losses["gen_loss"])  # waits for the steps
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def main(argv=None) -> None:
    args = parse_args(argv)
    print("## gan_tf own_images")
    print(*machine_lines(), sep="\n")
    print(f"command: {command_line('benchmarks.own_images')}\n", flush=True)

    sizes = (32, 64) if args.quick else (32, 64, 128)
    print("### Decoding the folder\n")
    print("| image size | first load s | from the cache s | images |")
    print("|---|---|---|---|")
    loaded = {}
    with tempfile.TemporaryDirectory() as cache:
        for size in sizes:
            start = time.perf_counter()
            load_data("folder", args.folder, size, cache_dir=cache)
            first = time.perf_counter() - start
            start = time.perf_counter()
            loaded[size] = load_data("folder", args.folder, size, cache_dir=cache)
            cached = time.perf_counter() - start
            print(f"| {size} | {first:.2f} | {cached:.2f} | {len(loaded[size].x_train):,} |")

    print(f"\n### One training step at batch {args.batch_size}\n")
    print("| networks | image | G params | D params | s/step | images/s |")
    print("|---|---|---|---|---|---|")
    rows = [("tutorial", 28, load_data("folder", args.folder, 28).x_train)]
    rows += [("dcgan", size, loaded[size].x_train) for size in sizes]
    for architecture, size, images in rows:
        config = make_config(
            architecture=architecture,
            image_size=size,
            batch_size=args.batch_size,
            dataset="folder",
            data=args.folder,
        )
        models = build_models(config)
        step = seconds_per_step(config, models, images, args.steps, args.repeats)
        shape = f"{size}{TIMES}{size}{TIMES}3"
        g, d = models.generator.count_params(), models.discriminator.count_params()
        rate = args.batch_size / step
        cells = f"{architecture} | {shape} | {g:,} | {d:,} | {step:.3f} | {rate:,.0f}"
        print(f"| {cells} |", flush=True)
    print(f"\nload average at the end: {load_average()}")


if __name__ == "__main__":
    main()
