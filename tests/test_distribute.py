"""tf.distribute on two logical CPU devices: the same training as one device."""

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, trained_once

# The runs of this file. Dropout off: its masks are drawn per replica, so only then is the math
# identical. 43 of the images at batch 10: four batches split 5 + 5, and a last one of 3, split
# 2 + 1.
SETTINGS = dict(
    batch_size=10, noise_dim=8, dropout=0.0, train_limit=43, probe_size=8, checkpoint_every=1
)


@pytest.fixture(scope="session")
def one_device(tmp_path_factory):
    """Two epochs of `SETTINGS` on one device (the default strategy), trained once per session
    in this process: what every distributed run must match. {"data": the .npz all the runs
    train on, "run": the run folder, "history": what train returned}."""
    from gan_tf.config import Config

    def config(data, out_dir):
        return Config(data=str(data), out_dir=str(out_dir), epochs=2, **SETTINGS)

    return trained_once(tmp_path_factory, "one_device", config)


def assert_same_losses(one_device, history):
    """The losses of every epoch as on one device: float sums in another order, equal within
    a small tolerance, not bit for bit."""
    for a, b in zip(one_device["history"], history, strict=True):
        assert abs(a["gen_loss"] - b["gen_loss"]) < 1e-4 * max(1, abs(a["gen_loss"]))
        assert abs(a["disc_loss"] - b["disc_loss"]) < 1e-4 * max(1, abs(a["disc_loss"]))


def assert_same_generator(one_device, path):
    """The generator saved at `path` has the weights of the one trained on one device."""
    import keras

    expected = keras.models.load_model(one_device["run"] / "generator.keras").get_weights()
    weights = keras.models.load_model(path).get_weights()
    diffs = [float(np.max(np.abs(a - b))) for a, b in zip(expected, weights, strict=True)]
    assert max(diffs) < 1e-4


# Logical devices must be set before TensorFlow starts, so this runs in its own process.
SCRIPT = r"""
import dataclasses, json, shutil, sys
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from gan_tf.config import Config
from gan_tf.training.loop import train

data, out, settings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
base = Config(data=data, epochs=1, **settings)
histories = {}
# "two": two epochs on two devices, the second resuming the first; "mixed": "two"'s first
# epoch, then a second on one device (resuming across strategies).
two = dataclasses.replace(base, strategy="mirrored", out_dir=f"{out}/two")
train(two, verbose=0)
shutil.copytree(f"{out}/two", f"{out}/mixed")
histories["two"] = train(dataclasses.replace(two, epochs=2), verbose=0)
mixed = dataclasses.replace(two, strategy="default", epochs=2, out_dir=f"{out}/mixed")
histories["mixed"] = train(mixed, verbose=0)

from gan_tf.data import steps_per_epoch
# A last batch of 1 cannot be split over 2 replicas: left out there, kept on one device.
assert steps_per_epoch(41, base, replicas=2) == 4 and steps_per_epoch(41, base) == 5
print(json.dumps({"replicas": len(tf.config.list_logical_devices("CPU")),
                  "histories": histories}))
"""


@pytest.mark.slow
def test_mirrored_on_two_cpus_matches_one_device(tmp_path, one_device):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(one_device["data"]), str(tmp_path),
         json.dumps(SETTINGS)],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    for name in ("two", "mixed"):
        assert_same_losses(one_device, report["histories"][name])
        assert_same_generator(one_device, tmp_path / name / "generator.keras")


def _free_ports(n: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_multi_worker_on_two_local_processes_matches_one_device(tmp_path, one_device):
    """--strategy multi_worker, for real: two worker processes on 127.0.0.1 that get their
    TF_CONFIG here, against the same training on one device (`one_device`)."""
    import os

    from gan_tf.rundir import read_metrics

    settings = [x for k, v in SETTINGS.items() for x in (f"--{k.replace('_', '-')}", str(v))]
    flags = ["--data", str(one_device["data"]), "--epochs", "2", *settings, "--quiet"]
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    out = tmp_path / "multi"
    workers = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}
        ))  # fmt: skip
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "gan_tf.train", *flags, "--strategy", "multi_worker",
             "--out-dir", str(out)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))  # fmt: skip
    for worker in workers:
        _, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err[-3000:]
    # Worker 0 (the chief) writes the run folder; worker 1 its own under it.
    assert (out / "generator.keras").is_file() and (out / "worker-1" / "generator.keras").is_file()
    assert_same_losses(one_device, read_metrics(out / "metrics.csv"))
    for path in (out / "generator.keras", out / "worker-1" / "generator.keras"):
        assert_same_generator(one_device, path)
