"""Shared fixtures: tiny synthetic MNIST-shaped data written the ways users supply it, and the
bad data files every loader and command must refuse with one line naming the file."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Test workers run side by side (pytest-xdist): on a GPU each takes memory as it needs it,
# rather than the first one taking it all.
os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")

REPO = Path(__file__).resolve().parents[1]
# Real MNIST for the end-to-end test: $GAN_TF_MNIST, or shared/ beside the checkout.
REAL_MNIST = Path(os.environ.get("GAN_TF_MNIST", REPO.parent / "shared" / "data" / "mnist"))
# CI sets this so the real-MNIST test fails rather than skips when the data is missing.
REQUIRE_REAL_MNIST = os.environ.get("GAN_TF_REQUIRE_MNIST") == "1"


def pytest_collection_modifyitems(items):
    """The slow tests first, each file's in their order, then the rest: with pytest-xdist
    (`-n auto`) the many short tests then fill the gaps the long ones leave, rather than
    one long test running alone at the end while the other CPUs wait."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def make_images(n: int, seed: int = 0) -> np.ndarray:
    """n uint8 (28, 28) images: a bright blob on black at a random place, digit-like enough."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:28, :28]
    centres = rng.uniform(8, 20, size=(n, 2))
    d2 = (yy - centres[:, 0, None, None]) ** 2 + (xx - centres[:, 1, None, None]) ** 2
    return np.clip(255 * np.exp(-d2 / 18), 0, 255).astype(np.uint8)


# Ten classes for the evaluation classifier: a blob at one of ten fixed places.
CENTRES = [(7 + 4 * (c % 4), 7 + 5 * (c // 4)) for c in range(10)]


def labelled(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n uint8 images of ten easily told classes, and their labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    yy, xx = np.mgrid[:28, :28]
    centres = np.array(CENTRES, float)[labels] + rng.normal(0, 0.7, (n, 2))
    d2 = (yy - centres[:, 0, None, None]) ** 2 + (xx - centres[:, 1, None, None]) ** 2
    return np.clip(255 * np.exp(-d2 / 6), 0, 255).astype(np.uint8), labels


def labelled_data():
    """A tiny labelled dataset with train and test splits."""
    from gan_tf.data import Data

    x_train, y_train = labelled(1200, 0)
    x_test, y_test = labelled(300, 1)
    return Data(x_train, y_train, x_test, y_test)


def idx_bytes(array: np.ndarray) -> bytes:
    """`array` (uint8) in IDX format: magic 0 0 8 ndim, big-endian dims, data."""
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def write_idx_folder(folder: Path, x: np.ndarray, y: np.ndarray, compress: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in (("train-images-idx3-ubyte", x), ("train-labels-idx1-ubyte", y)):
        data = idx_bytes(array)
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


@pytest.fixture
def images() -> np.ndarray:
    return make_images(48)


@pytest.fixture
def npz_path(tmp_path, images) -> Path:
    path = tmp_path / "tiny.npz"
    labels = np.arange(len(images), dtype=np.uint8) % 10
    np.savez(path, x_train=images, y_train=labels, x_test=images[:8], y_test=labels[:8])
    return path


# The ids of `bad_data_cases`: tests parametrize over these.
BAD_DATA_CASES = [
    "missing",
    "truncated gz",
    "bad magic",
    "wrong dims",
    "short data",
    "count mismatch",
    "wrong size",
    "empty file",
    "corrupt npz",
    "npz keys",
    "float images",
    "folder without data",
    "no images",
]


def bad_data_cases(tmp_path: Path, images: np.ndarray) -> dict[str, tuple[Path, str]]:
    """Bad `--data` paths written under `tmp_path`, one per `BAD_DATA_CASES` id.

    Args:
        tmp_path: an empty folder to write them in.
        images: valid uint8 (N, 28, 28) images to spoil, N >= 2.

    Returns:
        {case id: (the path to pass as --data, a phrase its error message must contain)}.
    """
    good = idx_bytes(images)
    labels = np.zeros(len(images), np.uint8)
    good_labels = idx_bytes(labels)
    cases = {}

    def folder(name, image_bytes, label_bytes=good_labels):
        f = tmp_path / name
        f.mkdir()
        (f / "train-images-idx3-ubyte.gz").write_bytes(image_bytes)
        (f / "train-labels-idx1-ubyte.gz").write_bytes(label_bytes)
        return f

    cases["missing"] = (tmp_path / "nope", "no such file")
    cases["truncated gz"] = (
        folder("trunc", gzip.compress(good)[: len(gzip.compress(good)) // 2]),
        "corrupt or truncated gzip",
    )
    cases["bad magic"] = (folder("magic", gzip.compress(b"\x12\x34" + good[2:])), "bad magic")
    cases["wrong dims"] = (
        folder("dims", gzip.compress(idx_bytes(images.reshape(len(images), -1)))),
        "2 dimensions, expected 3",
    )
    cases["short data"] = (folder("short", gzip.compress(good[:-10])), "header promises")
    cases["count mismatch"] = (
        folder("count", gzip.compress(good), gzip.compress(idx_bytes(labels[:-1]))),
        f"{len(images)} train images but {len(images) - 1} train labels",
    )
    cases["wrong size"] = (
        folder("size", gzip.compress(idx_bytes(np.zeros((4, 32, 32), np.uint8)))),
        "expected (N, 28, 28)",
    )
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    cases["empty file"] = (empty, "not a readable .npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    cases["corrupt npz"] = (garbage, "not a readable .npz")
    keys = tmp_path / "keys.npz"
    np.savez(keys, images=images)
    cases["npz keys"] = (keys, "no 'x_train' array (found: images)")
    floats = tmp_path / "floats.npz"
    np.savez(floats, x_train=images.astype(np.float32))
    cases["float images"] = (floats, "dtype float32, expected uint8")
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    (nothing / "readme.txt").write_text("hi")
    cases["folder without data"] = (nothing, "no train-images-idx3-ubyte")
    no_images = tmp_path / "zero.npz"
    np.savez(no_images, x_train=np.zeros((0, 28, 28), np.uint8))
    cases["no images"] = (no_images, "holds no images")
    return cases


def snapshot(folder) -> dict:
    """{relative path: sha256} of every file under `folder`: compared before and after a
    command that must leave it untouched."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def refused(capsys, command, argv, expected: str) -> str:
    """Runs a command that must refuse: exit 2, one line on stderr naming `expected`."""
    with pytest.raises(SystemExit) as info:
        command(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert expected in lines[0], lines[0]
    return lines[0]


# --- Expensive things made once per test session -------------------------------------------
# Trained once, however many tests and pytest-xdist workers use them. Tests read them, or copy
# them (shutil.copytree) before changing anything.


def made_once(tmp_path_factory, name: str, build) -> Path:
    """The folder `name`, filled by `build(folder)` once per test session.

    The first pytest-xdist worker to ask builds it while the others wait on a lock
    (`gan_tf.files.waiting_lock`, the one the library trains its shared classifier under);
    then every worker reads the same folder.
    """
    from gan_tf.files import waiting_lock

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, above each worker's own
    root = root / "made_once"
    root.mkdir(exist_ok=True)
    folder, done = root / name, root / f"{name}.done"
    with waiting_lock(root / f"{name}.lock"):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def trained_once(tmp_path_factory, name: str, config) -> dict:
    """A run on 48 `make_images` blobs, trained once per session (see `made_once`) with the
    `Config` that `config(data, out_dir)` returns.

    Returns:
        {"data": the .npz, "run": the run folder, "history": what train returned}. Tests
        copy the run folder before training on in it.
    """
    from gan_tf.training.loop import train

    def build(folder):
        np.savez(folder / "data.npz", x_train=make_images(48))
        history = train(config(folder / "data.npz", folder / "run"), verbose=0)
        (folder / "history.json").write_text(json.dumps(history))

    folder = made_once(tmp_path_factory, name, build)
    return {
        "data": folder / "data.npz",
        "run": folder / "run",
        "history": json.loads((folder / "history.json").read_text()),
    }


def tiny_args(data, out, epochs) -> list[str]:
    """`python -m gan_tf.train` flags of a run that takes seconds: batch 16, noise 8, 2 steps
    an epoch, a checkpoint each epoch, an 8-image probe. `tiny_run` was made with them."""
    return [
        "--data", str(data), "--out-dir", str(out), "--epochs", str(epochs), "--batch-size",
        "16", "--noise-dim", "8", "--max-steps-per-epoch", "2", "--checkpoint-every", "1",
        "--probe-size", "8",
    ]  # fmt: skip


def user_env(**extra) -> dict:
    """The environment of a user who set no TF_CPP_MIN_LOG_LEVEL (this file sets one)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return {**env, **extra}


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> dict[str, Path]:
    """A 2-epoch run folder trained from scratch with `tiny_args` on `labelled_data()`
    (checkpoints ckpt-2 and ckpt-4) by `python -m gan_tf.train --quiet` in a process of its
    own, as a user runs it (`user_env`): {"data": its .npz, "run": the folder, "stdout",
    "stderr": what the command printed}. Shared by the whole session: copy the folder before
    changing anything in it."""

    def build(folder):
        np.savez(folder / "data.npz", **labelled_data()._asdict())
        args = [*tiny_args(folder / "data.npz", folder / "run", 2), "--quiet"]
        result = subprocess.run(
            [sys.executable, "-m", "gan_tf.train", *args],
            capture_output=True, text=True, cwd=REPO, env=user_env(), timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        (folder / "stdout.txt").write_text(result.stdout)
        (folder / "stderr.txt").write_text(result.stderr)

    folder = made_once(tmp_path_factory, "tiny_run", build)
    return {
        "data": folder / "data.npz",
        "run": folder / "run",
        "stdout": (folder / "stdout.txt").read_text(),
        "stderr": (folder / "stderr.txt").read_text(),
    }


@pytest.fixture(scope="session")
def trained_classifier(tmp_path_factory):
    """The evaluation classifier of `labelled_data()`, trained as a run trains it (the
    library's default epochs), once per session: (model, info, the cache folder holding it).
    `copy_classifier` puts it in a test's own cache folder."""
    from gan_tf.evaluation.classifier import load_or_train_classifier

    folder = made_once(
        tmp_path_factory,
        "classifier",
        lambda cache: load_or_train_classifier(labelled_data(), cache, verbose=0),
    )
    model, info = load_or_train_classifier(labelled_data(), folder, verbose=0)
    return model, info, folder


def copy_classifier(info: dict, cache: Path) -> Path:
    """Copies a cached classifier (its .keras and .json) into the folder `cache`, where a run
    of the same data finds it. Returns the copy's .keras path."""
    cache.mkdir(parents=True, exist_ok=True)
    source = Path(info["path"])
    for path in (source, source.with_suffix(".json")):
        shutil.copy(path, cache / path.name)
    return cache / source.name
