"""End-to-end training on tiny synthetic data: artifacts, resume, reproducibility."""

import dataclasses
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from gan_tf.config import Config
from gan_tf.errors import RunDirError
from gan_tf.rundir import read_metrics
from gan_tf.training.loop import train

from conftest import REAL_MNIST, REQUIRE_REAL_MNIST, made_once, trained_once


def tiny(out_dir, data, **changes) -> Config:
    """A run that takes seconds: 48 images, batch 16, 2 steps an epoch, a 16-image probe."""
    values = dict(
        epochs=2,
        batch_size=16,
        noise_dim=8,
        probe_size=16,
        data=str(data),
        out_dir=str(out_dir),
        max_steps_per_epoch=2,
        checkpoint_every=1,
    )
    values.update(changes)
    return Config(**values)


def _weights(out_dir):
    import keras

    return [w for w in keras.models.load_model(out_dir / "generator.keras").get_weights()]


@pytest.fixture(scope="session")
def two_epochs(tmp_path_factory):
    """`tiny` trained for 2 epochs, once per session: {"data": its .npz (48 images), "run":
    the run folder, "history": what train returned}. Tests copy the folder before training
    on in it."""
    return trained_once(tmp_path_factory, "train_two_epochs", lambda data, out: tiny(out, data))


@pytest.fixture(scope="session")
def four_epochs(two_epochs, tmp_path_factory):
    """`tiny` trained straight for 4 epochs on the same data, once per session: {"run",
    "history"}."""

    def build(folder):
        history = train(tiny(folder / "run", two_epochs["data"], epochs=4), verbose=0)
        (folder / "history.json").write_text(json.dumps(history))

    folder = made_once(tmp_path_factory, "train_four_epochs", build)
    return {"run": folder / "run", "history": json.loads((folder / "history.json").read_text())}


def copy_run(two_epochs, to):
    """A copy of the 2-epoch run at `to`, and its `tiny` config (out_dir: the copy)."""
    shutil.copytree(two_epochs["run"], to)
    return tiny(to, two_epochs["data"])


def test_two_epochs_write_every_artifact(two_epochs):
    out, history = two_epochs["run"], two_epochs["history"]
    assert [row["epoch"] for row in history] == [1, 2]
    assert all(np.isfinite(row["gen_loss"]) and np.isfinite(row["disc_loss"]) for row in history)
    assert (out / "image_at_epoch_0001.png").is_file()
    assert (out / "image_at_epoch_0002.png").is_file()
    assert (out / "dcgan.gif").is_file()
    assert (out / "checkpoints" / "checkpoint").is_file()
    assert Config.from_json((out / "config.json").read_text()) == tiny(out, two_epochs["data"])
    rows = read_metrics(out / "metrics.csv")
    assert [r["epoch"] for r in rows] == [1, 2]
    assert {"gen_loss", "disc_loss", "seconds"} <= set(rows[0])

    import imageio.v3 as iio

    gif = iio.imread(out / "dcgan.gif", index=None)
    assert gif.shape[0] == 2  # one frame per epoch

    # generator.keras loads in a process that never imports gan_tf.
    code = (
        "import keras, numpy as np;"
        f"g = keras.models.load_model({str(out / 'generator.keras')!r});"
        "print(g(np.zeros((2, 8)), training=False).shape)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "(2, 28, 28, 1)" in result.stdout
    assert "gan_tf" not in result.stderr


@pytest.mark.slow
def test_resume_equals_straight_run(tmp_path, two_epochs, four_epochs):
    straight = four_epochs["run"]
    halves = tmp_path / "halves"  # the first 2 epochs: the 2-epoch run's
    copy_run(two_epochs, halves)
    history = train(tiny(halves, two_epochs["data"], epochs=4), verbose=0)
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]
    assert [r["epoch"] for r in read_metrics(halves / "metrics.csv")] == [1, 2, 3, 4]
    a, b = read_metrics(straight / "metrics.csv"), read_metrics(halves / "metrics.csv")
    for row_a, row_b in zip(a, b, strict=True):
        assert row_a["gen_loss"] == pytest.approx(row_b["gen_loss"], rel=1e-5)
        assert row_a["disc_loss"] == pytest.approx(row_b["disc_loss"], rel=1e-5)
    for wa, wb in zip(_weights(straight), _weights(halves), strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


def test_same_seed_same_losses_other_seed_differs(tmp_path, two_epochs, four_epochs):
    # Both shared runs are seed 0 (the default), trained separately: the same first epoch.
    other = train(tiny(tmp_path / "other", two_epochs["data"], seed=8, epochs=1), verbose=0)
    first, again = two_epochs["history"][0], four_epochs["history"][0]
    assert again["gen_loss"] == first["gen_loss"]
    assert again["disc_loss"] == first["disc_loss"]
    assert again["gen_loss"] != other[0]["gen_loss"]


def test_other_architecture_in_out_dir_is_refused(tmp_path, two_epochs):
    out = tmp_path / "run"
    copy_run(two_epochs, out)
    before = (out / "config.json").read_text()
    with pytest.raises(RunDirError, match="activation='leaky_relu' \\(this run: 'relu'\\)"):
        train(tiny(out, two_epochs["data"], epochs=3, activation="relu"), verbose=0)
    assert (out / "config.json").read_text() == before  # nothing overwritten


@pytest.mark.slow
def test_float16_xla_and_several_steps_per_call(tmp_path, npz_path):
    out = tmp_path / "fast"
    config = tiny(
        out, npz_path, mixed_precision="float16", jit_compile=True, steps_per_call=2,
        max_steps_per_epoch=3,
    )  # fmt: skip
    history = train(config, verbose=0)
    assert [r["steps"] for r in history] == [3, 3]  # calls of 2 + 1 steps
    assert all(np.isfinite(r["gen_loss"]) and np.isfinite(r["disc_loss"]) for r in history)
    assert (out / "image_at_epoch_0002.png").is_file()
    import keras

    assert keras.models.load_model(out / "generator.keras").output.dtype == "float32"


def test_finished_run_trains_nothing(tmp_path, two_epochs):
    out = tmp_path / "run"
    config = copy_run(two_epochs, out)  # epochs=2, as trained
    frame = (out / "image_at_epoch_0002.png").stat().st_mtime_ns
    assert [r["epoch"] for r in train(config, verbose=0)] == [1, 2]
    assert (out / "image_at_epoch_0002.png").stat().st_mtime_ns == frame


@pytest.mark.slow
@pytest.mark.skipif(
    not REAL_MNIST.exists() and not REQUIRE_REAL_MNIST,
    reason=f"real MNIST not found at {REAL_MNIST} (set GAN_TF_MNIST to a folder of IDX files)",
)
def test_real_mnist_short_run(tmp_path):
    config = dataclasses.replace(
        Config(),
        data=str(REAL_MNIST),
        out_dir=str(tmp_path / "mnist"),
        epochs=1,
        max_steps_per_epoch=3,
    )
    history = train(config, verbose=0)
    assert history[0]["steps"] == 3
    # Untrained D against an untrained G: the losses start near log 2 and 2 log 2.
    assert 0.3 < history[0]["gen_loss"] < 1.5
    assert 0.8 < history[0]["disc_loss"] < 2.0


def test_changed_training_settings_are_refused_then_recorded(tmp_path, two_epochs, capsys):
    from gan_tf.cli.train import main

    out = tmp_path / "run"
    copy_run(two_epochs, out)  # `tiny`'s settings, 2 epochs: what these flags spell
    args = ["--data", str(two_epochs["data"]), "--out-dir", str(out), "--batch-size", "16",
            "--noise-dim", "8", "--max-steps-per-epoch", "2", "--probe-size", "16",
            "--checkpoint-every", "1", "--quiet"]  # fmt: skip
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(SystemExit) as info:
        main([*args, "--epochs", "3", "--gen-lr", "2e-4", "--seed", "5"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "gen_lr 0.0001 -> 0.0002" in err and "seed 0 -> 5" in err, err
    assert "--allow-changes" in err and "\n" not in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before

    # A moved data file is only noted; --epochs is how a run is extended.
    moved = tmp_path / "moved.npz"
    moved.write_bytes(two_epochs["data"].read_bytes())
    args[1] = str(moved)
    assert main([*args[:-1], "--epochs", "3", "--gen-lr", "2e-4", "--allow-changes"]) == 0
    output = capsys.readouterr().out
    assert "the data path changed" in output and "continuing from epoch 3" in output
    saved = json.loads((out / "config.json").read_text())
    assert saved["gen_lr"] == 2e-4 and saved["epochs"] == 3
    assert saved["changes"] == [{"epoch": 3, "changes": {"gen_lr": [1e-4, 2e-4]}}]
    assert [r["epoch"] for r in read_metrics(out / "metrics.csv")] == [1, 2, 3]


def test_local_data_variable_is_per_dataset(monkeypatch, npz_path):
    """$GAN_TF_DATA is MNIST: it must not stand in for --dataset fashion_mnist."""
    from gan_tf import data as data_module

    asked = []
    monkeypatch.setattr(data_module, "download", lambda name: asked.append(name) or "download")
    monkeypatch.setenv("GAN_TF_DATA", str(npz_path))
    assert data_module.load_data("fashion_mnist") == "download" and asked == ["fashion_mnist"]
    assert data_module.load_data("mnist").x_train.shape[1:] == (28, 28)
    monkeypatch.setenv("GAN_TF_DATA_FASHION_MNIST", str(npz_path))
    assert data_module.load_data("fashion_mnist").x_train.shape[1:] == (28, 28)
