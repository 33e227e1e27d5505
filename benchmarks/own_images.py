"""Own images: decoding a folder (first time and from the cache, and a large folder against
an epoch of training), a training step of the DCGAN paper's networks at each image size next
to the tutorial's, gan_tf's step against a plain tutorial-style step on the same networks,
and the peak memory of a training run.

    python -m benchmarks.own_images --quick      # 32 and 64 px, batch 32; 10,000-image folder
    python -m benchmarks.own_images              # 32-128 px, batches 64 and 128; 100,000 images

A 64-pixel image costs the paper's networks at width 64 about ten times the multiply-adds of a
28-pixel one in the tutorial's (about 0.97 G against 0.10 G in the forward passes of G and
of D on a real and a fake image): expect seconds a step on a 2-core CPU.

Everything goes through public interfaces: `gan_tf.data.load_data` for the folder (default:
../shared/data/emoji64, 1,406 colour images, beside the checkout), and for the steps
`gan_tf.training.build.build_models` with `gan_tf.step.make_train_steps` over
`gan_tf.data.make_dataset`, as the training loop runs them. After one warm-up call, the
median of --repeats calls of --steps steps each is taken; images a second is batch / step.

The comparison with a plain step (issue 27's target: ratio >= 0.95) trains two copies of the
same DCGAN networks, one with `benchmarks.tutorial`'s `train_step` (two discriminator calls,
one Python call per batch, a `from_tensor_slices().shuffle().batch()` dataset), one with
gan_tf's, in alternating blocks (`benchmarks.train_speed.compare`). The large folder is the
emoji folder's images resized to 32 pixels and written --large-n times over as PNG files (not
timed); its first load is timed against an epoch over it at batch 128, taken as its steps
times the 32-pixel step time measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from benchmarks.common import REPO, TIMES, command_line, load_average, machine_lines, ratio
from benchmarks.train_speed import compare
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
        "--quick",
        action="store_true",
        help="32 and 64 pixels, batch 32, 2 steps twice; the comparison at 64 px, batch 32; "
        "a 10,000-image folder; 2 steps for the peak memory",
    )
    parser.add_argument(
        "--sizes",
        type=positive_int,
        nargs="+",
        choices=(32, 64, 128),
        help="image sizes of the DCGAN rows (default: 32 64 128; --quick: 32 64); 32 and 64 "
        "are always decoded, for the large folder and the comparison",
    )
    parser.add_argument("--batch-size", type=positive_int, default=128)
    parser.add_argument("--steps", type=positive_int, default=2, help="steps per timed call")
    parser.add_argument("--repeats", type=positive_int, default=3)
    parser.add_argument(
        "--large-n",
        type=int,
        help="images in the large folder (default: 100,000, --quick 10,000; 0: skip)",
    )
    parser.add_argument(
        "--rss-steps",
        type=int,
        help="steps of the 64-pixel run whose peak memory is measured (default: 5, --quick "
        "2; 0: skip)",
    )
    args = parser.parse_args(argv)
    args.compare_batches = [64, 128]
    quick = args.quick
    if quick:
        args.batch_size, args.steps, args.repeats, args.compare_batches = 32, 2, 2, [32]
    if args.large_n is None:
        args.large_n = 10_000 if quick else 100_000
    if args.rss_steps is None:
        args.rss_steps = 2 if quick else 5
    return args


RSS_SCRIPT = """
import json, sys
from gan_tf.cli.quiet import quiet_tensorflow
quiet_tensorflow()
from gan_tf.config import make_config
from gan_tf.training.loop import train
folder, out, steps, cache = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
config = make_config(architecture="dcgan", image_size=64, dataset="folder", data=folder,
                     out_dir=out, cache_dir=cache, epochs=1, max_steps_per_epoch=steps)
train(config, verbose=0)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
with open("/proc/self/status") as f:
    hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
print(json.dumps({"peak_rss_mib": hwm / 1024}))
"""


def peak_rss(folder: str, steps: int) -> float:
    """Peak RSS (MiB) of a fresh process training the 64-pixel DCGAN on `folder` at the
    paper's batch of 128 for `steps` steps, with everything a run writes."""
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [sys.executable, "-c", RSS_SCRIPT, folder, f"{tmp}/run", str(steps), f"{tmp}/c"],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_rss_mib"]


def write_large_folder(images: np.ndarray, folder: Path, n: int) -> None:
    """`n` PNG files cycling through `images` (uint8 (N, H, W, 3)), 1,000 to a subfolder."""
    for i in range(n):
        sub = folder / f"part{i // 1000:03d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True)
        Image.fromarray(images[i % len(images)]).save(sub / f"{i:06d}.png")


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

    sizes = tuple(sorted({32, 64, *(args.sizes or ((32, 64) if args.quick else (128,)))}))
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
    step_times = {}
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
        step_times[architecture, size] = step

    size = 64
    print(f"\n### gan_tf's step against a plain tutorial-style step, {size}-pixel DCGAN\n")
    print("| batch | tutorial-style s/step | gan_tf s/step | ratio | gan_tf images/s |")
    print("|---|---|---|---|---|")
    blocks, block_steps = (3, 2) if args.quick else (5, 2)
    for batch in args.compare_batches:
        config = make_config(
            architecture="dcgan", image_size=size, batch_size=batch, dataset="folder",
            data=args.folder,
        )  # fmt: skip
        times = compare(loaded[size].x_train, config, blocks, block_steps, same_models=True)
        tutorial, ours = times["tutorial"], times["gan_tf"]
        cells = f"{tutorial:.3f} | {ours:.3f} | {ratio(tutorial / ours)} | {batch / ours:,.0f}"
        print(f"| {batch} | {cells} |", flush=True)
    print("\nratio = tutorial-style s/step ÷ gan_tf s/step (above 1: gan_tf is faster).")

    if args.rss_steps > 0:
        mib = peak_rss(args.folder, args.rss_steps)
        print(
            f"\n### Peak memory\n\n{mib:,.0f} MiB peak RSS (VmHWM) of a fresh process "
            f"training the 64-pixel DCGAN at batch 128 for {args.rss_steps} steps on the "
            "folder (gan_tf.training.loop.train, everything a run writes).",
            flush=True,
        )

    if args.large_n > 0:
        step = step_times.get(("dcgan", 32))
        with tempfile.TemporaryDirectory() as tmp:
            write_large_folder(loaded[32].x_train, Path(tmp) / "large", args.large_n)
            start = time.perf_counter()
            large = load_data("folder", Path(tmp) / "large", 32, cache_dir=Path(tmp) / "c")
            decode = time.perf_counter() - start
        steps = math.ceil(len(large.x_train) / 128)
        print(f"\n### A folder of {args.large_n:,} images at 32 pixels\n")
        header = "first load s | images/s | steps an epoch (batch 128) | its training s"
        print(f"| {header} | load ÷ epoch |")
        print("|---|---|---|---|---|")
        if step is None:
            epoch_cell, share = "not measured", "n/a"
        else:
            # The step table's 32-pixel time, at its batch: per image, times 128 a step.
            epoch = steps * step * 128 / args.batch_size
            epoch_cell, share = f"{epoch:,.0f}", f"{decode / epoch:.2f}"
        rate = args.large_n / decode
        print(f"| {decode:,.1f} | {rate:,.0f} | {steps:,} | {epoch_cell} | {share} |", flush=True)
    print(f"\nload average at the end: {load_average()}")


if __name__ == "__main__":
    main()
