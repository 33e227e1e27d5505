"""Never lose a run: signals, kill -9, divergence, locks, disk full, and every bad flag."""

import errno
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import tensorflow as tf

from gan_tf import rundir
from gan_tf.cli import generate as generate_cli
from gan_tf.cli import train as train_cli
from gan_tf.cli.train import main
from gan_tf.config import Config
from gan_tf.errors import DivergenceError
from gan_tf.files import folder_lock
from gan_tf.rundir import latest_checkpoint, read_metrics
from gan_tf.training import preflight, signals
from gan_tf.training.loop import train

from conftest import (
    BAD_DATA_CASES,
    REPO,
    bad_data_cases,
    labelled,
    made_once,
    make_images,
    refused,
    snapshot,
    tiny_args,
)


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, x_train=make_images(240, seed=1))
    return path


def cli_args(data, out, epochs=3, steps=30):
    return [
        "--data", str(data), "--out-dir", str(out), "--epochs", str(epochs),
        "--batch-size", "8", "--noise-dim", "8", "--max-steps-per-epoch", str(steps),
        "--checkpoint-every", "1", "--probe-size", "8",
    ]  # fmt: skip


STEPS = 4  # an epoch's steps in the runs that are stopped and resumed below


@pytest.fixture(scope="session")
def straight(tmp_path_factory):
    """The metrics rows of a 3-epoch run of `cli_args(data, ..., steps=STEPS)` never stopped,
    made once per session: what every stopped and resumed run must end with (its first two
    rows, for a 2-epoch run)."""

    def build(folder):
        np.savez(folder / "data.npz", x_train=make_images(240, seed=1))
        args = cli_args(folder / "data.npz", folder / "run", epochs=3, steps=STEPS)
        assert main([*args, "--quiet"]) == 0

    return read_metrics(made_once(tmp_path_factory, "straight", build) / "run" / "metrics.csv")


def assert_same_losses(rows, straight):
    """Every resumption replays the same data, noise and dropout: the losses of a run never
    stopped."""
    for a, b in zip(rows, straight[: len(rows)], strict=True):
        assert a["gen_loss"] == pytest.approx(b["gen_loss"], rel=1e-5)
        assert a["disc_loss"] == pytest.approx(b["disc_loss"], rel=1e-5)


# Training processes that stop for good at a given moment, printing "paused PID" there, so
# that a kill -9 lands at exactly that moment. `python -c PAUSING_TRAIN` imports TensorFlow and
# the train command once, runs nothing with them, then forks one such process for each line
# it reads (JSON: [moment, ARGS]), which runs the train command on ARGS as `python -m
# gan_tf.train ARGS` does, and prints "ended" once that process is gone. Forking spares each
# training process the seconds of TensorFlow's import; it is still a process of its own,
# started before TensorFlow ran anything, and killed with SIGKILL. The moments:
#   write:NAME  a file's atomic write is done but for renaming its temporary onto NAME
#   save:K      the process's K-th checkpoint save is about to start
#   step:K      the process's K-th training step is about to start (one step a call)
PAUSING_TRAIN = """
import itertools, json, os, sys, time, traceback
from pathlib import Path

import tensorflow as tf

from gan_tf.cli.train import main


def pause_before(function, now):
    def paused(*args, **kwargs):
        if now(*args):
            print(f"paused {os.getpid()}", flush=True)
            time.sleep(600)
        return function(*args, **kwargs)

    return paused


def train(moment, args):
    kind, _, what = moment.partition(":")
    calls = itertools.count(1)
    nth = lambda *_: next(calls) == int(what)
    hooks = {}
    if kind == "write":
        os.replace = pause_before(os.replace, lambda src, dst, *_: Path(dst).name == what)
    elif kind == "save":
        tf.train.CheckpointManager.save = pause_before(tf.train.CheckpointManager.save, nth)
    else:
        hooks["wrap_train_steps"] = lambda steps: pause_before(steps, nth)
    return main(args, **hooks)


while line := sys.stdin.readline():
    pid = os.fork()
    if pid == 0:  # the training process
        code = 1
        try:
            code = train(*json.loads(line))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.waitpid(pid, 0)
    print("ended", flush=True)
"""


class PausingTrain:
    """A `PAUSING_TRAIN` process, started when first needed, and again after a failure left
    it in doubt."""

    def __init__(self):
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-c", PAUSING_TRAIN],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, which its forks join
            # No thread of OpenBLAS's (numpy's) running when it forks: only the forking one.
            env=dict(os.environ, OPENBLAS_NUM_THREADS="1"),
        )
        self.lines = queue.Queue()  # read on a thread, so that waiting for a line can time out

        def pump(process, lines):
            for line in process.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, args=(self.process, self.lines), daemon=True).start()

    def stop(self):
        """Kills it, and any training process it forked."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def kill_9_at(self, pause_at, args):
        """Trains in a process of its own until it pauses at `pause_at`, then kills it with
        SIGKILL there, and waits until it is gone."""
        if self.process is None:
            self.start()
        output = []

        def next_line(timeout):
            line = self.lines.get(timeout=timeout)
            assert line is not None, f"PAUSING_TRAIN ended:\n{''.join(output[-20:])}"
            output.append(line)
            return line

        try:
            self.process.stdin.write(json.dumps([pause_at, args]) + "\n")
            self.process.stdin.flush()
            while not (line := next_line(120)).startswith("paused "):
                assert line != "ended\n", f"ended before {pause_at}:\n{''.join(output[-20:])}"
            os.kill(int(line.split()[1]), signal.SIGKILL)
            while next_line(60) != "ended\n":
                pass
        except BaseException:
            self.stop()  # nothing left running, and the next test starts a new one
            raise


@pytest.fixture(scope="module")
def pausing_train():
    """The `PAUSING_TRAIN` process of this module's tests (one TensorFlow import for all)."""
    trainer = PausingTrain()
    try:
        yield trainer
    finally:
        trainer.stop()


def assert_run_intact(out, epochs):
    rows = read_metrics(out / "metrics.csv")
    assert [r["epoch"] for r in rows] == list(range(1, epochs + 1))
    for epoch in range(1, epochs + 1):
        assert iio.imread(out / f"image_at_epoch_{epoch:04d}.png").ndim == 2
    assert iio.imread(out / "dcgan.gif", index=None).shape[0] == epochs
    assert Config.from_json((out / "config.json").read_text()).epochs == epochs
    assert not list(out.glob(".*.tmp-*")), "a temporary file was left behind"
    return rows


def signal_after_calls(calls, signals=(signal.SIGINT,)):
    """A `wrap_train_steps` hook: training sends itself `signals` right after its
    `calls`-th compiled call."""
    count = {"n": 0}

    def wrap(steps):
        def train_steps(iterator, n):
            losses = steps(iterator, n)
            count["n"] += 1
            if count["n"] == calls:
                for sig in signals:
                    os.kill(os.getpid(), sig)
            return losses

        return train_steps

    return wrap


@pytest.fixture(scope="session")
def interrupted(tmp_path_factory):
    """A 2-epoch run of `cli_args(data, ..., steps=STEPS)` stopped by SIGINT at epoch 2,
    step 2, made once per session: {"data", "run", "code": the command's exit code, "err":
    its stderr}. Tests resume a copy of the run."""

    def build(folder):
        import contextlib
        import io

        np.savez(folder / "data.npz", x_train=make_images(240, seed=1))
        args = cli_args(folder / "data.npz", folder / "run", epochs=2, steps=STEPS)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            try:
                code = main([*args, "--quiet"], wrap_train_steps=signal_after_calls(STEPS + 2))
            except SystemExit as e:
                code = e.code
        (folder / "stderr.txt").write_text(err.getvalue())
        (folder / "code.txt").write_text(str(code))

    folder = made_once(tmp_path_factory, "interrupted", build)
    return {
        "data": folder / "data.npz",
        "run": folder / "run",
        "code": int((folder / "code.txt").read_text()),
        "err": (folder / "stderr.txt").read_text(),
    }


@pytest.mark.slow
def test_sigint_mid_epoch_saves_and_resumes_exactly(tmp_path, interrupted, straight, capsys):
    stopped = interrupted["run"]  # stopped at epoch 2, step 2 of 4
    assert interrupted["code"] == 130, interrupted["err"]
    err = interrupted["err"]
    assert "SIGINT: stopped at epoch 2, step 2/4; checkpoint saved; resume with:" in err
    assert [r["epoch"] for r in read_metrics(stopped / "metrics.csv")] == [1]
    assert (stopped / "generator.keras").is_file() and (stopped / "dcgan.gif").is_file()
    # The newest checkpoint is the mid-epoch one in checkpoints/latest/, not epoch 1's.
    assert latest_checkpoint(stopped) == str(
        stopped / "checkpoints" / "latest" / f"ckpt-{STEPS + 2}"
    )

    out = tmp_path / "interrupted"
    shutil.copytree(stopped, out)
    assert main(cli_args(interrupted["data"], out, epochs=2, steps=STEPS)) == 0
    assert "Epoch 2/2 from step 3" in capsys.readouterr().out
    assert_same_losses(assert_run_intact(out, 2), straight)


def test_sigterm_after_the_last_step_of_an_epoch(tmp_path, data, capsys):
    out = tmp_path / "run"
    at_epoch_end = signal_after_calls(STEPS, (signal.SIGTERM,))  # the end of epoch 1
    with pytest.raises(SystemExit) as info:
        main(
            [*cli_args(data, out, epochs=3, steps=STEPS), "--quiet"],
            wrap_train_steps=at_epoch_end,
        )
    assert info.value.code == 130
    assert "SIGTERM: stopped after epoch 1" in capsys.readouterr().err
    assert [r["epoch"] for r in read_metrics(out / "metrics.csv")] == [1]


def test_interrupted_epoch_needs_the_same_batches(tmp_path, interrupted, capsys):
    out = tmp_path / "run"
    shutil.copytree(interrupted["run"], out)  # stopped mid-epoch
    with pytest.raises(SystemExit) as info:
        main(["--out-dir", str(out), "--batch-size", "16", "--allow-changes"])
    assert info.value.code == 2
    assert "finish it with the same --batch-size" in capsys.readouterr().err


def _wait_for_stop(stop):
    for _ in range(100):  # the handler runs between bytecodes, soon after
        if stop["signal"]:
            return
        time.sleep(0.01)


def test_second_ctrl_c_interrupts_at_once():
    # Python's own handler, or what a pytest-xdist worker runs under (SIG_IGN).
    before = signal.getsignal(signal.SIGINT)
    with signals.stop_requests() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        _wait_for_stop(stop)
        assert stop["signal"] == "SIGINT"  # the first only asks to stop
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs here, between bytecodes
    assert signal.getsignal(signal.SIGINT) is before  # put back as it was


def test_more_sigterms_leave_the_stop_to_finish():
    """A study worker whose parent dies gets a SIGTERM per thread of that parent: the first
    asks to stop, the others must not cut its checkpoint short."""
    with signals.stop_requests() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        _wait_for_stop(stop)
        assert stop["signal"] == "SIGTERM"
        for _ in range(3):
            os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.5)  # no KeyboardInterrupt here
        assert stop["signal"] == "SIGTERM"


@pytest.mark.slow
def test_kill_9_at_fixed_points_then_resume(tmp_path, data, straight, pausing_train):
    """Kills a real training process, each time at a fixed moment of a run: at start-up, in
    an epoch's steps, between an epoch's files and its checkpoint, between a checkpoint and
    the next epoch. Each resumption must lose nothing but the epoch it was in."""
    steps = STEPS
    out = tmp_path / "killed"
    args = cli_args(data, out, epochs=3, steps=steps)

    def epochs_done():
        return [r["epoch"] for r in read_metrics(out / "metrics.csv")]

    def checkpoint_epoch():  # checkpoints are numbered by step: ".../ckpt-8" is epoch 2's
        return int(latest_checkpoint(out).rsplit("-", 1)[1]) // steps

    # Start-up: the lock taken, config.json half written, no model built yet.
    pausing_train.kill_9_at("write:config.json", args)
    assert not (out / "config.json").exists() and list(out.glob(".config.tmp-*"))
    # Epoch 2, 2 steps done of 4: no file written since epoch 1's checkpoint.
    pausing_train.kill_9_at(f"step:{steps + 3}", args)
    assert epochs_done() == [1] and checkpoint_epoch() == 1
    # Resumed at epoch 2; its image and metrics row written, its checkpoint not.
    pausing_train.kill_9_at("save:1", args)
    assert epochs_done() == [1, 2] and checkpoint_epoch() == 1
    assert (out / "image_at_epoch_0002.png").is_file()
    # Resumed at epoch 2 again; killed after its checkpoint, before epoch 3's first step.
    pausing_train.kill_9_at(f"step:{steps + 1}", args)
    assert epochs_done() == [1, 2] and checkpoint_epoch() == 2

    assert main([*args, "--quiet"]) == 0
    # Every resumption replays the same data, noise and dropout: same losses as no kills.
    assert_same_losses(assert_run_intact(out, 3), straight)


@pytest.mark.slow
def test_kill_9_before_the_first_checkpoint_resumes_with_the_same_command(
    tmp_path, data, straight, pausing_train
):
    """Epoch 1's metrics row and image are written, its checkpoint not: the run must start
    over at epoch 1 (not refuse), and end as if it had never been killed."""
    out = tmp_path / "killed"
    args = cli_args(data, out, epochs=2, steps=STEPS)
    pausing_train.kill_9_at("save:1", args)
    assert [r["epoch"] for r in read_metrics(out / "metrics.csv")] == [1]
    assert latest_checkpoint(out) is None
    assert main([*args, "--quiet"]) == 0
    assert_same_losses(assert_run_intact(out, 2), straight)


def test_frames_of_lost_epochs_leave_the_gif(tiny_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(tiny_run["run"], out)  # 2 epochs, each checkpointed
    # As if a killed run had drawn epochs 3-9 without a checkpoint.
    for epoch in range(3, 10):
        shutil.copy(out / "image_at_epoch_0001.png", out / f"image_at_epoch_{epoch:04d}.png")
    assert main([*tiny_args(tiny_run["data"], out, 3), "--quiet"]) == 0
    assert sorted(p.name for p in out.glob("image_at_epoch_*.png")) == [
        "image_at_epoch_0001.png",
        "image_at_epoch_0002.png",
        "image_at_epoch_0003.png",
    ]
    assert iio.imread(out / "dcgan.gif", index=None).shape[0] == 3


def test_divergence_names_epoch_and_step_and_keeps_checkpoint(tmp_path, data):
    calls = {"n": 0}

    def poisoned(steps):
        def train_steps(iterator, n):
            losses = steps(iterator, n)
            calls["n"] += 1
            if calls["n"] == 5:  # epoch 2, step 2 at 3 steps an epoch
                losses = {**losses, "gen_loss": losses["gen_loss"] * float("nan")}
            return losses

        return train_steps

    out = tmp_path / "run"
    config = Config(
        data=str(data), out_dir=str(out), epochs=3, batch_size=8, noise_dim=8,
        max_steps_per_epoch=3, checkpoint_every=1, probe_size=8,
    )  # fmt: skip
    with pytest.raises(DivergenceError, match="gen_loss became nan at epoch 2, step 2") as info:
        train(config, verbose=0, wrap_train_steps=poisoned)
    # The checkpoint of epoch 1 was written by this very run: it is the one kept.
    assert f"checkpoint kept: {out / 'checkpoints' / 'ckpt-3'}" in str(info.value)
    checkpoints = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert "ckpt-3.index" in checkpoints and not any("ckpt-6" in c for c in checkpoints)
    assert [r["epoch"] for r in read_metrics(out / "metrics.csv")] == [1]


def test_second_run_into_a_busy_out_dir_is_refused(tmp_path, data, capsys):
    out = tmp_path / "run"
    out.mkdir()
    with folder_lock(out), pytest.raises(SystemExit) as info:
        main(cli_args(data, out))
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert f"in use by another run (pid {os.getpid()})" in err and "\n" not in err


def test_stale_lock_of_a_killed_run_is_taken_over(tmp_path, data, capsys):
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from gan_tf.files import folder_lock\n"
         f"with folder_lock({str(out)!r}):\n    print('locked', flush=True); time.sleep(60)"],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "locked"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert main(cli_args(data, out, epochs=1, steps=2)) == 0
    assert f"took over the stale lock of pid {holder.pid}" in capsys.readouterr().out


def test_disk_full_keeps_the_last_good_files(tmp_path, data, monkeypatch, capsys):
    out = tmp_path / "run"
    write_metrics = rundir.write_metrics

    def full_after_first(path, rows):
        if len(rows) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        write_metrics(path, rows)

    monkeypatch.setattr(rundir, "write_metrics", full_after_first)
    with pytest.raises(SystemExit) as info:
        main([*cli_args(data, out, epochs=3, steps=2), "--quiet"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "No space left on device" in err and "resume with:" in err and "\n" not in err
    assert [r["epoch"] for r in read_metrics(out / "metrics.csv")] == [1]
    assert (out / "checkpoints" / "checkpoint").is_file()


def test_checkpoint_write_failure_is_one_line(tmp_path, data, monkeypatch, capsys):
    out = tmp_path / "run"
    save = tf.train.CheckpointManager.save

    def full(self, *args, **kwargs):
        if self.directory.endswith("latest"):
            # What a full disk leaves: the half-written checkpoint's temporary folder.
            (Path(self.directory) / "ckpt-2_temp").mkdir(parents=True)
            raise tf.errors.ResourceExhaustedError(None, None, "No space left on device")
        return save(self, *args, **kwargs)

    monkeypatch.setattr(tf.train.CheckpointManager, "save", full)
    with pytest.raises(SystemExit) as info:
        main([*cli_args(data, out, epochs=3, steps=2), "--checkpoint-every", "2", "--quiet"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "No space left on device" in err and "\n" not in err
    assert [r["epoch"] for r in read_metrics(out / "metrics.csv")] == [1]
    assert not list(out.rglob("*_temp")), "the full disk's debris was left behind"


@pytest.mark.parametrize(
    "target",
    ["file", "under_a_file", "not_writable", "other_config"],
)
def test_bad_out_dir(tmp_path, data, monkeypatch, capsys, target):
    out = tmp_path / "out"
    if target == "file":
        out.write_text("precious")
    elif target == "under_a_file":
        (tmp_path / "f").write_text("precious")
        out = tmp_path / "f" / "run"
    elif target == "not_writable":
        # os.access, not chmod: tests often run as root, who may write anywhere.
        monkeypatch.setattr(preflight, "can_write", lambda folder: False)
    else:
        out.mkdir()
        (out / "config.json").write_text(Config(activation="relu").to_json())
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(SystemExit) as info:
        main(cli_args(data, out))
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "error:" in err and "Traceback" not in err
    expected = {
        "file": "is a file, not a folder",
        "under_a_file": "is a file, not a folder",
        "not_writable": "not writable",
        "other_config": "holds a run with a different architecture",
    }[target]
    assert expected in err
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


BAD_FLAGS = [
    ["--epochs", "0"], ["--epochs", "-3"], ["--epochs", "2.5"], ["--batch-size", "0"],
    ["--noise-dim", "-1"], ["--alpha", "-0.1"], ["--alpha", "1.5"], ["--alpha", "nan"],
    ["--dropout", "1"], ["--dropout", "-0.1"], ["--gen-lr", "0"], ["--gen-lr", "-1e-4"],
    ["--disc-lr", "inf"], ["--beta1", "1"], ["--seed", "-1"], ["--checkpoint-every", "0"],
    ["--max-steps-per-epoch", "0"], ["--buffer-size", "0"], ["--max-checkpoints", "0"],
    ["--probe-size", "0"], ["--eval-every", "0"], ["--eval-n", "5"], ["--train-limit", "0"],
    ["--activation", "tanh"], ["--dataset", "cifar10"], ["--epochs"], ["--bogus"],
]  # fmt: skip


@pytest.mark.parametrize("flags", BAD_FLAGS, ids=" ".join)
def test_nonsense_flag_values(tmp_path, capsys, flags):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        main([*flags, "--out-dir", str(out)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("python -m gan_tf.train: error:")
    assert not out.exists()


@pytest.mark.parametrize("case", BAD_DATA_CASES)
def test_bad_data_through_the_cli(tmp_path, images, capsys, case):
    path, expected = bad_data_cases(tmp_path, images)[case]
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        main(["--data", str(path), "--out-dir", str(out)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and expected in err and "Traceback" not in err
    assert not out.exists()  # nothing written


# Inputs that used to end in a traceback ------------------------------------------------------
# Each is refused in one line on stderr (exit 2), before anything is written.


def labelled_npz(path, n_train=60, n_test=20, **changes):
    """A small labelled .npz (ten classes), with arrays replaced or dropped (None) by name."""
    x_train, y_train = labelled(n_train, 0)
    x_test, y_test = labelled(n_test, 1)
    arrays = {**dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test), **changes}
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def refused_untouched(capsys, command, argv, expected, folder):
    """`refused`, and `folder` is as it was: still absent, or byte-identical."""
    before = snapshot(folder) if folder.exists() else None
    line = refused(capsys, command, argv, expected)
    assert (snapshot(folder) if folder.exists() else None) == before
    return line


def eval_args(data, out, eval_n=10):
    """A 1-epoch run evaluated every epoch, its classifier cached beside the run folder (a
    refusal comes before the classifier is trained: the cache stays absent)."""
    cache = ["--cache-dir", str(out.parent / "cache")]
    return [*cli_args(data, out, epochs=1), "--eval-every", "1", "--eval-n", str(eval_n), *cache]


@pytest.fixture
def made(tiny_run):
    """conftest's `tiny_run`: a 2-epoch run folder (checkpoint every epoch) made with
    `tiny_args`, and its data; made once per session, each test changes a copy."""
    return tiny_run


@pytest.mark.parametrize("split", ["y_train", "y_test"])
def test_eval_labels_outside_the_classifiers_classes(tmp_path, capsys, split):
    labels = labelled(60 if split == "y_train" else 20, 0 if split == "y_train" else 1)[1]
    labels[:3] = [12, 12, 200]
    npz = labelled_npz(tmp_path / "data.npz", **{split: labels})
    out = tmp_path / "run"
    line = refused_untouched(capsys, main, eval_args(npz, out), f"{npz}: {split} holds labels", out)
    assert "outside 0-9 (12, 200; 3 of" in line and "has 10 classes" in line
    assert not (tmp_path / "cache").exists()


def test_eval_with_three_test_images_names_the_file_and_eval_n(tmp_path, capsys):
    npz = labelled_npz(tmp_path / "data.npz", n_test=3)
    out = tmp_path / "run"
    line = refused_untouched(capsys, main, eval_args(npz, out), "--eval-n", out)
    assert f"more than the 3 test image(s) in {npz} (x_test)" in line
    assert "point --data at data with at least 10 test images" in line
    assert not (tmp_path / "cache").exists()


def test_eval_n_larger_than_the_test_split(tmp_path, capsys):
    npz = labelled_npz(tmp_path / "data.npz", n_test=20)
    out = tmp_path / "run"
    line = refused_untouched(
        capsys, main, eval_args(npz, out, 40), "--eval-n is 40, more than the 20", out
    )
    assert line.endswith("choose an --eval-n of at most 20")
    assert not (tmp_path / "cache").exists()


def test_eval_without_labels_names_the_data_file(tmp_path, capsys):
    npz = labelled_npz(tmp_path / "data.npz", y_train=None, x_test=None, y_test=None)
    out = tmp_path / "run"
    line = refused_untouched(capsys, main, eval_args(npz, out), f"{npz}: evaluation needs", out)
    assert "it has no y_train, x_test, y_test" in line
    assert not (tmp_path / "cache").exists()


def test_data_remembers_where_it_came_from(npz_path, tmp_path):
    from gan_tf.data import Data, load_data

    data = load_data(data=npz_path)
    x_train, y_train, x_test, y_test = data  # still four arrays to unpack
    assert data.source == str(npz_path) and len(data) == 4
    assert data == Data(x_train, y_train, x_test, y_test)  # the source is no part of it
    assert data._replace(x_test=None).source == str(npz_path)


def misplace(run, name, kind):
    """Puts a `kind` ("file", "folder" or "dangling link") at RUN/name in place of what is
    there."""
    path = run / name
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    if kind == "file":
        path.write_text("not a folder")
    elif kind == "folder":
        path.mkdir()
        (path / "note.txt").write_text("a folder named like a file")
    else:
        path.symlink_to(run / "gone")


MISPLACED = {
    "tensorboard is a file": ("tensorboard", "file", "is not a folder"),
    "tensorboard is a dangling link": (
        "tensorboard",
        "dangling link",
        "is a dangling symbolic link",
    ),
    "checkpoints/latest is a file": ("checkpoints/latest", "file", "is not a folder"),
    "metrics.csv is a folder": ("metrics.csv", "folder", "is a folder, not a file"),
    "config.json is a folder": ("config.json", "folder", "is a folder, not a file"),
    "dcgan.gif is a folder": ("dcgan.gif", "folder", "is a folder, not a file"),
    "generator.keras is a folder": ("generator.keras", "folder", "is a folder, not a file"),
    "a frame is a folder": ("image_at_epoch_0001.png", "folder", "is a folder, not a file"),
    "a later frame is a folder": ("image_at_epoch_0003.png", "folder", "is a folder, not a file"),
}


@pytest.mark.parametrize("case", MISPLACED)
def test_misplaced_entry_in_the_run_folder(made, tmp_path, capsys, case):
    name, kind, problem = MISPLACED[case]
    run = tmp_path / "run"
    shutil.copytree(made["run"], run, symlinks=True)
    misplace(run, name, kind)
    line = refused_untouched(
        capsys,
        train_cli.main,
        tiny_args(made["data"], run, 3),
        f"{run / name} {problem}",
        run,
    )
    assert line.endswith(
        "move it away; pass --restart to move the earlier run aside and start over"
    )


def test_restart_moves_a_misplaced_entry_aside(data, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "tensorboard").write_text("not a folder")
    assert main([*cli_args(data, out, epochs=1, steps=2), "--restart", "--quiet"]) == 0
    (aside,) = tmp_path.glob("run.replaced-*")
    assert (aside / "tensorboard").read_text() == "not a folder"
    assert (out / "tensorboard").is_dir()


RESOURCES = {
    "noise_dim": (["--noise-dim", "1000000000"], "--noise-dim must be at most 65536"),
    "probe_size": (["--probe-size", "10000000000"], "--probe-size must be at most 4096"),
    "probe beyond the data": (
        ["--probe-size", "241"],
        "--probe-size must be at most the 240 training images of",
    ),
    "probe beyond train_limit": (
        ["--probe-size", "100", "--train-limit", "99"],
        "--probe-size must be at most the 99 training images (train_limit 99)",
    ),
}


@pytest.mark.parametrize("case", RESOURCES)
def test_resource_sizes_are_bounded(data, tmp_path, capsys, case):
    flags, expected = RESOURCES[case]
    out = tmp_path / "run"
    refused_untouched(capsys, main, [*cli_args(data, out, epochs=1), *flags], expected, out)


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--n", "10000000000"], "--n must be at most about"),  # then: "of its memory"
        (["--cols", "1000000000000"], "--cols must be from 1 to the number of images (64)"),
        (["--n", "4", "--cols", "5"], "--cols must be from 1 to the number of images (4)"),
    ],
    ids=["n", "cols", "cols over n"],
)
def test_generate_sizes_are_bounded(made, tmp_path, capsys, flags, expected):
    out = tmp_path / "grid.png"
    line = refused(
        capsys, generate_cli.main, [str(made["run"]), "--out", str(out), *flags], expected
    )
    assert not out.exists()
    assert flags[-1] != "10000000000" or line.endswith("allowed (50% of its memory)")


def test_library_sizes_are_bounded_before_allocating(monkeypatch):
    from types import SimpleNamespace

    from gan_tf import images
    from gan_tf.errors import UserError
    from gan_tf.evaluation import sampling

    monkeypatch.setattr(images, "memory_bytes", lambda: 2**30)  # a 1 GiB machine
    # Never called: refused first.
    generator = SimpleNamespace(input_shape=(None, 100), output_shape=(None, 28, 28, 1))
    # Half of 1 GiB over (100 noise + 2 x 784 pixels) float32 a sample.
    most = 2**29 // ((100 + 2 * 784) * 4)
    with pytest.raises(
        UserError, match=f"^n must be at most {most} on this machine, got 10000000000:"
    ):
        sampling.generate(generator, 10**10)
    with pytest.raises(UserError, match="cols must be from 1 to the number of images"):
        images.image_grid(np.zeros((4, 28, 28), np.uint8), cols=10**12)
    assert images.check_grid(64) is None
    with pytest.raises(UserError, match=r"^n must be at most about"):
        images.check_grid(10**7)


TF_CONFIGS = {
    "not json": ("{", "is not valid JSON"),
    "not an object": ("[1, 2]", "is not a JSON object"),
    "no cluster": ('{"task": {"type": "worker", "index": 0}}', 'has no "cluster"'),
    "no workers": ('{"cluster": {"worker": []}}', 'lists no machines under cluster "worker"'),
    "no port": (
        '{"cluster": {"worker": ["a"]}, "task": {"type": "worker", "index": 0}}',
        'has \'a\' under cluster "worker", not a "host:port"',
    ),
    "no task": ('{"cluster": {"worker": ["a:1"]}}', 'has no "task"'),
    "task type": (
        '{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}',
        "has task type 'ps'; expected 'worker'",
    ),
    "index out of range": (
        '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 5}}',
        "has task index 5, outside 0 to 0",
    ),
    "negative index": (
        '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": -1}}',
        "has task index -1, outside 0 to 1",
    ),
}


@pytest.mark.parametrize("case", TF_CONFIGS)
def test_bad_tf_config_for_multi_worker(data, tmp_path, monkeypatch, capsys, case):
    text, expected = TF_CONFIGS[case]
    monkeypatch.setenv("TF_CONFIG", text)
    out = tmp_path / "run"
    line = refused_untouched(
        capsys, main, [*cli_args(data, out), "--strategy", "multi_worker"], expected, out
    )
    assert "--strategy is 'multi_worker', but $TF_CONFIG " in line


def test_metrics_saved_by_a_spreadsheet_are_read(tmp_path):
    rows = [
        {"epoch": 1, "gen_loss": 0.5, "disc_loss": 1.25, "fd": float("nan")},
        {"epoch": 2, "gen_loss": 0.75, "disc_loss": 1.0, "fd": 3.5},
    ]
    path = tmp_path / "metrics.csv"
    rundir.write_metrics(path, rows)
    text = path.read_text()
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())  # BOM, CRLF
    read = read_metrics(path)
    assert [r["epoch"] for r in read] == [1, 2] and list(read[0]) == list(rows[0])
    assert read[1] == rows[1] and np.isnan(read[0]["fd"])


def test_config_saved_with_a_byte_order_mark_is_read(tmp_path):
    """A config.json re-saved by an editor that writes a UTF-8 byte-order mark and CRLF."""
    (tmp_path / "config.json").write_bytes(
        b"\xef\xbb\xbf" + Config(epochs=7).to_json().replace("\n", "\r\n").encode()
    )
    assert rundir.RunDir(tmp_path).read_config().epochs == 7
