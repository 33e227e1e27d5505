"""Training speed: the tutorial's step and loop against gan_tf's, interleaved in one process.

    python benchmarks/train_speed.py [--quick] [--data ../shared/data/mnist]

(a) tutorial-style: the tutorial's `train_step` written out here — two
discriminator calls, noise of the global BATCH_SIZE — over a
`from_tensor_slices().shuffle().batch()` dataset in a Python loop, no prefetch;
(b) gan_tf: `make_dataset` (prefetch, per-batch noise) and `make_train_steps`.
Blocks of steps of (a) and (b) alternate, so the machine's drift hits both; the
medians of the per-step times are compared. Also printed: achieved GFLOP/s from
a FLOP count of the layers, this machine's float32 matmul GFLOP/s as the
ceiling, a batch-size sweep, and the peak RSS of training on all of MNIST.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_tf.cli import positive_int  # noqa: E402
from gan_tf.config import MIXED_PRECISION, Config  # noqa: E402
from gan_tf.data import load_data, make_dataset  # noqa: E402
from gan_tf.loop import dtype_policy, make_optimizers  # noqa: E402
from gan_tf.models import make_discriminator_model, make_generator_model  # noqa: E402
from gan_tf.step import make_train_steps  # noqa: E402

NOISE_DIM = 100


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
    example. (BatchNorm, activations and Adam are left out: they are small.)
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
    """The tutorial's training loop, as it is written there."""

    def __init__(self, train_images: np.ndarray, batch_size: int):
        # The tutorial's preprocessing and pipeline: float32 in [-1, 1], no prefetch.
        images = (train_images.reshape(-1, 28, 28, 1).astype("float32") - 127.5) / 127.5
        self.dataset = (
            tf.data.Dataset.from_tensor_slices(images).shuffle(len(images)).batch(batch_size)
        )
        generator = make_generator_model(NOISE_DIM)
        discriminator = make_discriminator_model()
        cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
        generator_optimizer = keras.optimizers.Adam(1e-4)
        discriminator_optimizer = keras.optimizers.Adam(1e-4)

        @tf.function
        def train_step(images):
            noise = tf.random.normal([batch_size, NOISE_DIM])
            with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
                generated_images = generator(noise, training=True)
                real_output = discriminator(images, training=True)
                fake_output = discriminator(generated_images, training=True)
                gen_loss = cross_entropy(tf.ones_like(fake_output), fake_output)
                disc_loss = cross_entropy(tf.ones_like(real_output), real_output) + cross_entropy(
                    tf.zeros_like(fake_output), fake_output
                )
            g = gen_tape.gradient(gen_loss, generator.trainable_variables)
            d = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
            generator_optimizer.apply_gradients(zip(g, generator.trainable_variables, strict=True))
            discriminator_optimizer.apply_gradients(
                zip(d, discriminator.trainable_variables, strict=True)
            )

        self.train_step = train_step
        self.iterator = iter(self.dataset.repeat())

    def run(self, steps: int) -> None:
        for _ in range(steps):
            self.train_step(next(self.iterator))  # each call returns when its work is done


class GanTf:
    """gan_tf's input pipeline and compiled steps, as `gan_tf.loop` drives them."""

    def __init__(
        self, train_images, batch_size, steps_per_call, jit_compile=False, mixed_precision="off"
    ):
        config = Config(batch_size=batch_size, mixed_precision=mixed_precision)
        with dtype_policy(mixed_precision):
            generator = make_generator_model(NOISE_DIM)
            discriminator = make_discriminator_model()
            optimizers = make_optimizers(config, generator, discriminator)
        self.train_steps = make_train_steps(
            generator, discriminator, *optimizers, jit_compile=jit_compile
        )
        dataset = make_dataset(train_images, batch_size, 0, 1, 60000, NOISE_DIM)
        self.iterator = iter(dataset.repeat())
        self.steps_per_call = steps_per_call

    def run(self, steps: int) -> None:
        done = 0
        while done < steps:
            n = min(self.steps_per_call, steps - done)
            losses = self.train_steps(self.iterator, tf.constant(n))
            done += n
        float(losses["gen_loss"])  # wait for the device, as the loop does at its checks


def compare(train_images, batch_size, blocks, block_steps, steps_per_call, jit, mixed) -> dict:
    """Median seconds per step of (a) and (b), blocks interleaved after one warm-up block each."""
    runners = {
        "tutorial": TutorialStyle(train_images, batch_size),
        "gan_tf": GanTf(train_images, batch_size, steps_per_call, jit, mixed),
    }
    for runner in runners.values():
        runner.run(max(2, steps_per_call))  # trace, compile, fill buffers
    times = {name: [] for name in runners}
    for _ in range(blocks):
        for name, runner in runners.items():
            start = time.perf_counter()
            runner.run(block_steps)
            times[name].append((time.perf_counter() - start) / block_steps)
    return {name: statistics.median(t) for name, t in times.items()}


RSS_SCRIPT = """
import os, resource, sys, json
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, sys.argv[1])
from gan_tf.config import Config
from gan_tf.loop import train
steps = None if sys.argv[4] == "full" else int(sys.argv[4])
train(Config(data=sys.argv[2], out_dir=sys.argv[3], epochs=1, max_steps_per_epoch=steps),
      verbose=0)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
with open("/proc/self/status") as f:
    hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
print(json.dumps({"peak_rss_mib": hwm / 1024}))
"""


def peak_rss(data: str, steps: str) -> float:
    """Peak RSS (MiB) of a fresh process training on all 60,000 images of MNIST."""
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        result = subprocess.run(
            [sys.executable, "-c", RSS_SCRIPT, str(REPO), data, out, steps],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_rss_mib"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few minutes: fewer blocks")
    parser.add_argument(
        "--data",
        default=os.environ.get("GAN_TF_DATA", str(REPO.parent / "shared" / "data" / "mnist")),
        help="MNIST .npz or IDX folder (default: $GAN_TF_DATA or ../shared/data/mnist)",
    )
    parser.add_argument(
        "--steps-per-call", type=positive_int, default=1, help="gan_tf's (default: 1)"
    )
    parser.add_argument("--jit-compile", action="store_true", help="gan_tf with XLA")
    parser.add_argument(
        "--mixed-precision", choices=MIXED_PRECISION, default="off", help="gan_tf's (default: off)"
    )
    args = parser.parse_args()

    blocks, block_steps = (3, 3) if args.quick else (7, 5)
    sweep = [] if args.quick else [64, 128, 512]
    train_images = load_data(data=args.data).x_train
    print(f"gan_tf train_speed, {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}")
    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs, "
        f"devices: {[d.name for d in tf.config.list_logical_devices()]}"
    )
    ceiling = matmul_gflops()
    print(f"float32 matmul ceiling: {ceiling:.1f} GFLOP/s (2048x2048, TensorFlow threads)")
    print(
        f"{'batch':>6} {'tutorial ms/step':>17} {'gan_tf ms/step':>15} {'tutorial img/s':>15}"
        f" {'gan_tf img/s':>13} {'ratio':>6} {'gan_tf GFLOP/s':>15} {'of ceiling':>11}"
    )
    for batch_size in [256, *sweep]:
        t = compare(
            train_images,
            batch_size,
            blocks,
            block_steps,
            args.steps_per_call,
            args.jit_compile,
            args.mixed_precision,
        )
        gflops = step_flops(batch_size) / t["gan_tf"] / 1e9
        print(
            f"{batch_size:>6} {t['tutorial'] * 1e3:>17.1f} {t['gan_tf'] * 1e3:>15.1f}"
            f" {batch_size / t['tutorial']:>15.1f} {batch_size / t['gan_tf']:>13.1f}"
            f" {t['tutorial'] / t['gan_tf']:>5.2f}x {gflops:>15.1f} {gflops / ceiling:>10.0%}",
            flush=True,
        )
    print(f"FLOPs per training step at batch 256: {step_flops(256) / 1e9:.1f} GFLOP")
    steps = "20" if args.quick else "full"
    rss = peak_rss(args.data, steps)
    what = "20 steps over" if args.quick else "one full epoch of"
    print(
        f"peak RSS (VmHWM), {what} all 60,000 MNIST images in a fresh process: {rss:.0f} MiB "
        f"(target <= 2048 MiB); this benchmark process: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
