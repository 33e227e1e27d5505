"""tf.distribute on two logical CPU devices: the same training as one device."""

import json
import subprocess
import sys

import pytest

from conftest import REPO

# Logical devices must be set before TensorFlow starts, so this runs in its own process.
SCRIPT = r"""
import dataclasses, json, shutil, sys
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras
from gan_tf.config import Config
from gan_tf.training.loop import train

data, out = sys.argv[1], sys.argv[2]
# Dropout off: its masks are drawn per replica, so only then is the math identical.
# 43 of the images at batch 10: four batches split 5 + 5, and a last one of 3, split 2 + 1.
base = Config(data=data, epochs=1, batch_size=10, noise_dim=8, dropout=0.0, train_limit=43,
              probe_size=8, checkpoint_every=1)
histories = {}
# "one": two epochs on one device; "two": the same on two. "mixed": "two"'s first epoch,
# then a second on one device (resuming across strategies).
histories["one"] = train(dataclasses.replace(base, epochs=2, out_dir=f"{out}/one"), verbose=0)
two = dataclasses.replace(base, strategy="mirrored", out_dir=f"{out}/two")
train(two, verbose=0)
shutil.copytree(f"{out}/two", f"{out}/mixed")
histories["two"] = train(dataclasses.replace(two, epochs=2), verbose=0)
mixed = dataclasses.replace(two, strategy="default", epochs=2, out_dir=f"{out}/mixed")
histories["mixed"] = train(mixed, verbose=0)

weights = {name: keras.models.load_model(f"{out}/{name}/generator.keras").get_weights()
           for name in histories}
diff = {name: max(float(np.max(np.abs(a - b))) for a, b in zip(weights["one"], weights[name]))
        for name in ("two", "mixed")}
from gan_tf.data import steps_per_epoch
# A last batch of 1 cannot be split over 2 replicas: left out there, kept on one device.
assert steps_per_epoch(41, base, replicas=2) == 4 and steps_per_epoch(41, base) == 5
print(json.dumps({"replicas": len(tf.config.list_logical_devices("CPU")),
                  "histories": histories, "max_weight_diff": diff}))
"""


@pytest.mark.slow
def test_mirrored_on_two_cpus_matches_one_device(tmp_path, npz_path):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(npz_path), str(tmp_path)],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    one = report["histories"]["one"]
    for name in ("two", "mixed"):
        for a, b in zip(one, report["histories"][name], strict=True):
            assert abs(a["gen_loss"] - b["gen_loss"]) < 1e-4 * max(1, abs(a["gen_loss"]))
            assert abs(a["disc_loss"] - b["disc_loss"]) < 1e-4 * max(1, abs(a["disc_loss"]))
        # Float sums in another order: equal within a small tolerance, not bit-for-bit.
        assert report["max_weight_diff"][name] < 1e-4


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
def test_multi_worker_on_two_local_processes_matches_one_device(tmp_path, npz_path):
    """--strategy multi_worker, for real: two worker processes on 127.0.0.1 that get their
    TF_CONFIG here, against the same training on one device."""
    import os

    import keras
    import numpy as np

    from gan_tf.rundir import read_metrics

    flags = [
        "--data", str(npz_path), "--epochs", "2", "--batch-size", "10", "--noise-dim", "8",
        "--dropout", "0", "--train-limit", "40", "--probe-size", "8", "--quiet",
    ]  # fmt: skip
    from gan_tf.cli.train import main

    one = tmp_path / "one"
    assert main([*flags, "--out-dir", str(one)]) == 0  # one device, in this process
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
    for a, b in zip(
        read_metrics(one / "metrics.csv"), read_metrics(out / "metrics.csv"), strict=True
    ):
        assert abs(a["gen_loss"] - b["gen_loss"]) < 1e-4 * max(1, abs(a["gen_loss"]))
        assert abs(a["disc_loss"] - b["disc_loss"]) < 1e-4 * max(1, abs(a["disc_loss"]))
    expected = keras.models.load_model(one / "generator.keras").get_weights()
    for path in (out / "generator.keras", out / "worker-1" / "generator.keras"):
        weights = keras.models.load_model(path).get_weights()
        diffs = [float(np.max(np.abs(a - b))) for a, b in zip(expected, weights, strict=True)]
        assert max(diffs) < 1e-4
