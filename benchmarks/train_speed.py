"""Training speed: the tutorial's step against gan_tf's, interleaved in one process.

    python -m benchmarks.train_speed --quick                    # batch 256, about 1 minute
    python -m benchmarks.train_speed                            # batches 64-512, about 6 minutes
    python -m benchmarks.train_speed --quick --fused-discriminator --rss-steps 0

(a) tutorial-style: `benchmarks.tutorial`'s step (two discriminator calls, noise of the
global BATCH_SIZE) over its `from_tensor_slices().shuffle().batch()` dataset, one
Python call per batch, no prefetch; (b) gan_tf: `gan_tf.data.make_dataset`
(prefetch, per-batch noise) and `gan_tf.step.make_train_steps`, with the options
given on the command line (steps per call, XLA, fused discriminator, mixed
precision; the tutorial side has none of them). Blocks of steps of (a) and (b)
alternate after a warm-up, so the machine's drift hits both; the medians of the
per-step times are compared. Also printed: gan_tf's GFLOP/s from a FLOP count of
the layers, this machine's float32 matmul rate as the ceiling, and the peak RSS of
`gan_tf.training.loop.train` on all of MNIST in a fresh process. Each table row names the
options that produced it; the command line is printed under the table.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from benchmarks.common import (
    REPO,
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
    make_tutorial_dataset,
    make_tutorial_models,
    make_tutorial_train_step,
)
from gan_tf.cli.common import positive_int
from gan_tf.config import MIXED_PRECISION, Config
from gan_tf.data import load_data, make_dataset
from gan_tf.models import make_discriminator_model, make_generator_model
from gan_tf.step import make_train_steps
from gan_tf.training.build import build_models

# (blocks, steps per block) per side and batch size.
BLOCKS_FULL = (7, 5)
BLOCKS_QUICK = (5, 4)
SWEEP = [64, 128, 256, 512]
QUICK_SWEEP = [256]
QUICK_RSS_STEPS = 20


def layer_flops(model: keras.Model) -> int:
    """Forward multiply-adds x 2 of one example through the conv and dense layers."""
    flops = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2DTranspose):
            _, h, w, c_in = layer.input.shape
            k = layer.kernel_size[0] * layer.kernel_size[1]
            flops += 2 * h * w * c_in * k * layer.filters  # each input pixel scatters a kernel
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            k = layer.kernel_size[0] * layer.kernel_size[1]
            flops += 2 * h * w * c_out * k * layer.input.shape[-1]
        elif isinstance(layer, keras.layers.Dense):
            flops += 2 * layer.input.shape[-1] * layer.units
    return flops


def step_flops(batch_size: int) -> int:
    """FLOPs of one training step at `batch_size`, counted from the layers.

    Forward: G on B, D on 2B. Backward, about twice a forward for the layers
    whose weights get gradients: D on 2B (disc_loss), G on B (gen_loss), plus
    the activation gradients of gen_loss back through D on the B fakes (one
    forward's worth). Total: 3 F_G(B) + 3 F_D(2B) + F_D(B) = 3 F_G + 7 F_D per
    example. (BatchNorm, activations and Adam are left out: they are small.) The
    fused discriminator does one F_D more per example (gen_loss flows back through
    D on all 2B images); GFLOP/s count the unfused work, so they compare across options.
    """
    f_g = layer_flops(make_generator_model(NOISE_DIM))
    f_d = layer_flops(make_discriminator_model())
    return batch_size * (3 * f_g + 7 * f_d)


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    """This machine's float32 matmul rate with TensorFlow's threads: the ceiling."""
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    matmul = tf.function(lambda a, b: tf.reduce_sum(tf.linalg.matmul(a, b)))
    matmul(a, b).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


class TutorialStyle:
    """The tutorial's step and dataset (`benchmarks.tutorial`), one Python call per batch.

    Args:
        train_images: uint8 images.
        batch_size: images per step.
        models: (generator, discriminator, their two optimizers) for the tutorial's step to
            train (default: the tutorial's own networks); `noise_dim` must fit them.
    """

    def __init__(self, train_images: np.ndarray, batch_size: int, models=None, noise_dim=NOISE_DIM):
        models = models or make_tutorial_models(noise_dim)
        self.train_step = make_tutorial_train_step(*models, batch_size, noise_dim)
        dataset = make_tutorial_dataset(train_images, batch_size, BUFFER_SIZE)
        # Repeated so that a block may run past an epoch's end; no block here does.
        self.iterator = iter(dataset.repeat())

    def run(self, steps: int) -> None:
        for _ in range(steps):
            losses = self.train_step(next(self.iterator))
        float(losses["gen_loss"])  # wait for the device (a no-op wait on a CPU)


class GanTf:
    """gan_tf's input pipeline and compiled steps, as `gan_tf.training.loop` drives them."""

    def __init__(self, train_images: np.ndarray, config: Config):
        models = build_models(config)
        self.train_steps = make_train_steps(
            *models, jit_compile=config.jit_compile, fused=config.fused_discriminator
        )
        dataset = make_dataset(
            train_images, config.batch_size, config.seed, 1, config.buffer_size, config.noise_dim
        )
        self.iterator = iter(dataset.repeat())
        self.steps_per_call = config.steps_per_call

    def run(self, steps: int) -> None:
        done = 0
        while done < steps:
            n = min(self.steps_per_call, steps - done)
            losses = self.train_steps(self.iterator, tf.constant(n))
            done += n
        float(losses["gen_loss"])  # wait for the device, as the loop does at its checks


def compare(
    train_images, config: Config, blocks: int, block_steps: int, same_models: bool = False
) -> dict:
    """Median seconds per step of (a) and (b), blocks interleaved after one warm-up block each.

    The side that goes first swaps from block to block, so neither always follows the other.
    With `same_models`, the tutorial's step trains networks of `config`'s architecture (a
    second copy, built alike) instead of the tutorial's: the step and pipeline compared alone.
    """
    tutorial_models = build_models(config) if same_models else None
    runners = [
        (
            "tutorial",
            TutorialStyle(train_images, config.batch_size, tutorial_models, config.noise_dim),
        ),
        ("gan_tf", GanTf(train_images, config)),
    ]
    for _, runner in runners:
        runner.run(max(2, config.steps_per_call))  # trace, compile, fill the shuffle buffer
    times = {name: [] for name, _ in runners}
    for block in range(blocks):
        for name, runner in runners if block % 2 == 0 else runners[::-1]:
            start = time.perf_counter()
            runner.run(block_steps)
            times[name].append((time.perf_counter() - start) / block_steps)
    return {name: statistics.median(t) for name, t in times.items()}


def option_flags(args: argparse.Namespace) -> str:
    """gan_tf's options as the flags that set them, for a table row ("default" if none)."""
    flags = []
    if args.steps_per_call != 1:
        flags.append(f"--steps-per-call {args.steps_per_call}")
    if args.jit_compile:
        flags.append("--jit-compile")
    if args.fused_discriminator:
        flags.append("--fused-discriminator")
    if args.mixed_precision != "off":
        flags.append(f"--mixed-precision {args.mixed_precision}")
    return " ".join(f"`{f}`" for f in flags) or "default"


RSS_SCRIPT = """
import json, sys
from gan_tf.cli.quiet import quiet_tensorflow
quiet_tensorflow()
from gan_tf.config import Config
from gan_tf.training.loop import train
steps = None if sys.argv[3] == "full" else int(sys.argv[3])
train(Config(data=sys.argv[1], out_dir=sys.argv[2], epochs=1, max_steps_per_epoch=steps),
      verbose=0)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
with open("/proc/self/status") as f:
    hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
print(json.dumps({"peak_rss_mib": hwm / 1024}))
"""


def peak_rss(data: str, steps: str) -> float:
    """Peak RSS (MiB) of a fresh process training on all 60,000 images of MNIST.

    Args:
        data: MNIST's path.
        steps: "full" for one whole epoch at the tutorial's defaults, else a step count.
    """
    with tempfile.TemporaryDirectory() as out:
        # Run from the repository root, so that `import gan_tf` finds the package.
        result = subprocess.run(
            [sys.executable, "-c", RSS_SCRIPT, data, out, steps],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_rss_mib"]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.train_speed", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{BLOCKS_QUICK[0]} blocks of {BLOCKS_QUICK[1]} steps at batch 256 and the peak "
        f"RSS of {QUICK_RSS_STEPS} steps (default: {BLOCKS_FULL[0]} blocks of "
        f"{BLOCKS_FULL[1]} steps at batches {','.join(map(str, SWEEP))}, RSS of a full epoch)",
    )
    add_data_flag(parser)
    parser.add_argument(
        "--batch-sizes",
        type=batch_sizes,
        metavar="LIST",
        help="comma-separated batch sizes to compare at (default: "
        f"{','.join(map(str, SWEEP))}; with --quick {','.join(map(str, QUICK_SWEEP))})",
    )
    parser.add_argument("--blocks", type=positive_int, metavar="N", help="timed blocks per side")
    parser.add_argument(
        "--block-steps", type=positive_int, metavar="N", help="steps per timed block"
    )
    parser.add_argument(
        "--rss-steps",
        type=int,
        metavar="N",
        help="steps of the peak-RSS run; 0 skips it (default: a full epoch at batch 256; "
        f"with --quick {QUICK_RSS_STEPS})",
    )
    options = parser.add_argument_group("gan_tf's options (the tutorial side has none)")
    options.add_argument(
        "--steps-per-call",
        type=positive_int,
        metavar="N",
        default=1,
        help="steps per compiled call",
    )
    options.add_argument("--jit-compile", action="store_true", help="compile the step with XLA")
    options.add_argument(
        "--fused-discriminator",
        action="store_true",
        help="one discriminator call on real and fake images together",
    )
    options.add_argument(
        "--mixed-precision", choices=MIXED_PRECISION, default="off", help="(default: off)"
    )
    args = parser.parse_args(argv)
    if args.rss_steps is not None and args.rss_steps < 0:
        parser.error(f"--rss-steps must be 0 (skip) or a positive step count, not {args.rss_steps}")
    blocks, block_steps = BLOCKS_QUICK if args.quick else BLOCKS_FULL
    args.blocks = args.blocks or blocks
    args.block_steps = args.block_steps or block_steps
    args.batch_sizes = args.batch_sizes or (QUICK_SWEEP if args.quick else SWEEP)
    if args.rss_steps is None:
        args.rss_steps = QUICK_RSS_STEPS if args.quick else "full"
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    train_images = load_data(data=args.data).x_train
    print("## gan_tf train_speed")
    print(*machine_lines(), sep="\n")
    ceiling = matmul_gflops()
    print(f"float32 matmul ceiling: {ceiling:.1f} GFLOP/s (2048x2048, TensorFlow's threads)")
    print(
        f"{args.blocks} blocks of {args.block_steps} steps per side and batch size, "
        "medians of the blocks' ms/step\n"
    )
    print(
        "| batch | gan_tf options | tutorial ms/step | gan_tf ms/step | tutorial img/s "
        "| gan_tf img/s | ratio | gan_tf GFLOP/s | of ceiling |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    flags = option_flags(args)
    for batch_size in args.batch_sizes:
        config = Config(
            batch_size=batch_size,
            steps_per_call=args.steps_per_call,
            jit_compile=args.jit_compile,
            fused_discriminator=args.fused_discriminator,
            mixed_precision=args.mixed_precision,
        )
        t = compare(train_images, config, args.blocks, args.block_steps)
        gflops = step_flops(batch_size) / t["gan_tf"] / 1e9
        print(
            f"| {batch_size} | {flags} | {t['tutorial'] * 1e3:.1f} | {t['gan_tf'] * 1e3:.1f} "
            f"| {batch_size / t['tutorial']:.1f} | {batch_size / t['gan_tf']:.1f} "
            f"| {ratio(t['tutorial'] / t['gan_tf'])} | {gflops:.1f} | {gflops / ceiling:.0%} |",
            flush=True,
        )
        keras.backend.clear_session()  # free this batch size's models and datasets
    print(f"\ncommand: {command_line('benchmarks.train_speed')}")
    print("ratio = tutorial ms/step / gan_tf ms/step (above 1: gan_tf is faster)")
    print(f"FLOPs per training step at batch 256: {step_flops(256) / 1e9:.1f} GFLOP")
    if args.rss_steps:
        rss = peak_rss(args.data, str(args.rss_steps))
        what = "one full epoch" if args.rss_steps == "full" else f"{args.rss_steps} steps"
        print(
            f"peak RSS (VmHWM) of gan_tf.training.loop.train, {what} at batch 256 over all "
            f"60,000 MNIST images, in a fresh process: {rss:.0f} MiB (target <= 2048 MiB); "
            f"this benchmark process: "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
        )
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
