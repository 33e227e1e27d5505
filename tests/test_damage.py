"""Damaged run folders: each case damages a copy of a small real run, runs a command on it
as a user would, and checks the exit code, that stderr is one line without a traceback,
and that every file the command did not announce writing is byte-identical afterwards."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from gan_tf.cli import evaluate, generate, gif, train
from gan_tf.cli.common import run_command
from gan_tf.images import make_gif
from gan_tf.rundir import read_metrics

from conftest import labelled, labelled_data, made_once, refused, snapshot, tiny_args

PROG = "python -m gan_tf.train"


@pytest.fixture
def made(tiny_run):
    """conftest's `tiny_run`: a 2-epoch run folder (checkpoint every epoch) and its data, made
    once per session; each test damages a copy."""
    return tiny_run


def corrupt(path, keep: int = 40) -> None:
    """Truncates a file and appends junk, as a half-copied or re-saved file looks."""
    path.write_bytes(path.read_bytes()[:keep] + b"\x00garbage")


def _checkpoints_deleted(run):
    shutil.rmtree(run / "checkpoints")


def _checkpoints_a_file(run):
    shutil.rmtree(run / "checkpoints")
    (run / "checkpoints").write_text("not a folder")


def _metrics_garbage(run):
    (run / "metrics.csv").write_bytes(b"\x00\xff garbage\n1,2\n")


def _metrics_header_lost(run):
    lines = (run / "metrics.csv").read_text().splitlines(keepends=True)
    (run / "metrics.csv").write_text("".join(lines[1:]))


def _metrics_deleted(run):
    (run / "metrics.csv").unlink()


def _metrics_ahead(run):
    lines = (run / "metrics.csv").read_text().splitlines(keepends=True)
    extra = [line.replace("2,", f"{epoch},", 1) for epoch in (3, 4) for line in lines[-1:]]
    (run / "metrics.csv").write_text("".join(lines + extra))


def _shard_truncated(run):
    shard = max((run / "checkpoints").glob("ckpt-*.data-*"))  # the newest: ckpt-4
    shard.write_bytes(shard.read_bytes()[:1000])


def _config_garbage(run):
    (run / "config.json").write_text("{not json")


def _config_deleted(run):
    (run / "config.json").unlink()


def _checkpoint_list_garbage(run):
    (run / "checkpoints" / "checkpoint").write_text('model_checkpoint_path: "ckpt-99"')


def _checkpoint_list_junk(run):
    (run / "checkpoints" / "checkpoint").write_bytes(b"\x00\x01\x02 {{{")


# id: (damage(run), extra flags, the refusal's expected words)
REFUSED = {
    "checkpoints deleted": (_checkpoints_deleted, [], "holds no checkpoint"),
    "checkpoints is a file": (_checkpoints_a_file, [], "checkpoints is not a folder"),
    "huge seed": (None, ["--seed", str(2**40)], "seed must be an integer in [0, 2**32)"),
    "metrics garbage": (_metrics_garbage, [], "metrics.csv: not a readable metrics table"),
    "metrics header lost": (_metrics_header_lost, [], "metrics.csv: not a readable metrics"),
    "metrics deleted": (_metrics_deleted, [], "records 0 epoch(s) but the newest checkpoint"),
    "metrics ahead": (_metrics_ahead, [], "records 4 epoch(s) but the newest checkpoint holds 2"),
    "checkpoint shard truncated": (_shard_truncated, [], "is damaged"),
    "config garbage": (_config_garbage, [], "unreadable run config"),
    "config deleted": (_config_deleted, [], "config.json is missing"),
    "checkpoint list garbage": (_checkpoint_list_garbage, [], "names ckpt-99, which is missing"),
    "checkpoint list junk": (_checkpoint_list_junk, [], "checkpoint: unreadable"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_damaged_run_is_refused_untouched(made, tmp_path, capsys, case):
    damage, argv, expected = REFUSED[case]
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    if damage:
        damage(run)
    before = snapshot(run)
    line = refused(capsys, train.main, [*tiny_args(made["data"], run, 3), *argv], expected)
    assert line.startswith(f"{PROG}: error:")
    assert snapshot(run) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing beside it either


def test_restart_moves_the_old_run_aside(made, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    shutil.rmtree(run / "checkpoints")
    before = snapshot(run)
    assert train.main([*tiny_args(made["data"], run, 1), "--restart"]) == 0
    (aside,) = tmp_path.glob("run.replaced-*")
    assert f"moved the earlier run's files to {aside}" in capsys.readouterr().out
    assert snapshot(aside) == {k: v for k, v in before.items() if k != ".lock"}
    assert [r["epoch"] for r in read_metrics(run / "metrics.csv")] == [1]


# Damage a resume must get past, all in one copy of the run, resumed once to epoch 3 (each
# test below checks one of them): frame 1 corrupt, files named almost like frames, a killed
# save's checkpoint debris, and keys in config.json that are not settings.
STRAYS = ["image_at_epoch_0002 copy.png", "image_at_epoch_abc.png"]
NOTE = {"note": "baseline for the paper", "future_setting": [1, 2]}


@pytest.fixture(scope="session")
def resumed(tiny_run, tmp_path_factory):
    """{"run": the damaged copy after the resume, "err": what the resume wrote on stderr,
    "code": its exit code}; made once per session, read by the tests."""

    def build(folder):
        import contextlib
        import io

        run = folder / "run"
        shutil.copytree(tiny_run["run"], run)
        for stray in STRAYS:  # copies of a good frame
            shutil.copy(run / "image_at_epoch_0001.png", run / stray)
        corrupt(run / "image_at_epoch_0001.png")
        debris = run / "checkpoints" / "ckpt-9_temp"
        debris.mkdir()
        (debris / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"half")
        saved = json.loads((run / "config.json").read_text())
        (run / "config.json").write_text(json.dumps({**saved, **NOTE}))
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = train.main([*tiny_args(tiny_run["data"], run, 3), "--quiet"])
        (folder / "stderr.txt").write_text(err.getvalue())
        (folder / "code.txt").write_text(str(code))

    folder = made_once(tmp_path_factory, "damage_resumed", build)
    return {
        "run": folder / "run",
        "err": (folder / "stderr.txt").read_text(),
        "code": int((folder / "code.txt").read_text()),
    }


def test_corrupt_frame_still_finishes_the_epoch(made, resumed):
    run, err = resumed["run"], resumed["err"]
    assert resumed["code"] == 0, err
    assert "warning:" in err and "image_at_epoch_0001.png" in err and "Traceback" not in err
    assert [r["epoch"] for r in read_metrics(run / "metrics.csv")] == [1, 2, 3]
    # epoch 3's generator
    assert (run / "generator.keras").read_bytes() != (made["run"] / "generator.keras").read_bytes()
    assert iio.imread(run / "dcgan.gif", index=None).shape[0] == 2  # frames 2 and 3
    assert (run / "checkpoints" / "ckpt-6.index").is_file()


@pytest.mark.parametrize("stray", STRAYS)
def test_stray_files_are_not_frames(made, resumed, tmp_path, stray):
    run = resumed["run"]
    assert resumed["code"] == 0, resumed["err"]
    assert (run / stray).read_bytes() == (made["run"] / "image_at_epoch_0001.png").read_bytes()
    # Frames 2 and 3 (frame 1 is the corrupt one): no stray among them.
    assert iio.imread(run / "dcgan.gif", index=None).shape[0] == 2
    remade = tmp_path / "dcgan.gif"
    assert gif.main([str(run), "--out", str(remade)]) == 0
    assert iio.imread(remade, index=None).shape[0] == 2


def test_checkpoint_debris_is_cleaned(resumed):
    assert resumed["code"] == 0, resumed["err"]
    assert not (resumed["run"] / "checkpoints" / "ckpt-9_temp").exists()


@pytest.mark.slow
def test_corrupt_cached_classifier_is_rebuilt(trained_classifier, tmp_path, capsys):
    from gan_tf.data import Data
    from gan_tf.evaluation.classifier import CLASSIFIER_EPOCHS, fingerprint

    # Small labelled data, so that training its classifier again takes seconds.
    x_train, y_train = labelled(240, 0)
    x_test, y_test = labelled(60, 1)
    data = tmp_path / "data.npz"
    np.savez(data, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    key = fingerprint(Data(x_train, y_train, x_test, y_test), CLASSIFIER_EPOCHS)
    # Its cached classifier, where this run looks for it (the session's, recorded as this
    # data's), then damaged.
    cache = tmp_path / "cache"
    cache.mkdir()
    cached = cache / f"classifier-{key[:16]}.keras"
    source = Path(trained_classifier[1]["path"])
    shutil.copy(source, cached)
    info = json.loads(source.with_suffix(".json").read_text())
    cached.with_suffix(".json").write_text(json.dumps({**info, "fingerprint": key}))
    corrupt(cached, keep=100)
    run = tmp_path / "run"
    args = [*tiny_args(data, run, 1), "--eval-every", "1", "--eval-n", "20"]
    assert train.main([*args, "--cache-dir", str(cache)]) == 0
    assert "damaged: training it again" in capsys.readouterr().out
    assert np.isfinite(read_metrics(run / "metrics.csv")[-1]["fd"])
    assert [p.name for p in cache.glob("classifier-*.keras")] == [cached.name]  # replaced
    assert json.loads(cached.with_suffix(".json").read_text())["fingerprint"] == key


@pytest.mark.parametrize("command", [generate.main, evaluate.main], ids=["generate", "evaluate"])
def test_corrupt_generator_file(made, tmp_path, capsys, command):
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    corrupt(run / "generator.keras", keep=200)
    before = snapshot(run)
    argv = [str(run), "--out", str(tmp_path / "g.png")] if command is generate.main else [str(run)]
    refused(capsys, command, argv, "generator.keras: not a valid Keras file")
    assert snapshot(run) == before


def test_generate_names_a_bad_seed_before_loading(tmp_path, capsys):
    missing = tmp_path / "nowhere"  # not even loaded: the flag is refused first
    line = refused(capsys, generate.main, [str(missing), "--seed", "-1"], "--seed")
    assert "2**32" in line


def test_path_limits_and_dangling_links(made, tmp_path, capsys):
    long_name = tmp_path / ("x" * 300) / "run"
    refused(capsys, train.main, tiny_args(made["data"], long_name, 1), "File name too long")
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "gone")
    refused(capsys, train.main, tiny_args(made["data"], link, 1), "dangling symbolic link")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link"]


def test_gif_into_an_unwritable_folder_is_one_line(made, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    os.chmod(run, 0o500)
    try:
        if os.access(run, os.W_OK):  # root ignores permissions: use a path that cannot exist
            out = run / "image_at_epoch_0001.png" / "dcgan.gif"
        else:
            out = run / "dcgan.gif"
        refused(capsys, gif.main, [str(run), "--out", str(out)], "dcgan.gif")
    finally:
        os.chmod(run, 0o700)


def test_second_interrupt_does_not_claim_a_checkpoint(capsys):
    def body():
        raise KeyboardInterrupt

    assert run_command(PROG, body) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "checkpoint" not in err


# --- Data loss and silently wrong results -------------------------------------------------
# Cases an adversarial pass found that the damage matrix above did not cover.


@pytest.mark.slow
def test_relative_data_is_stored_absolute_and_resumes_from_anywhere(made, tmp_path, monkeypatch):
    """A relative --data resumed from another folder must not read what that path means there
    (here: all-zero images of the same name)."""
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    here.mkdir(), elsewhere.mkdir()
    shutil.copy(made["data"], here / "data.npz")
    np.savez(elsewhere / "data.npz", x_train=np.zeros((64, 28, 28), np.uint8))
    run = tmp_path / "run"
    monkeypatch.chdir(here)
    args = tiny_args("data.npz", run, 1)
    assert train.main([*args, "--quiet"]) == 0
    monkeypatch.chdir(elsewhere)
    assert train.main(["--out-dir", str(run), "--epochs", "2", "--quiet"]) == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["data"] == str(here / "data.npz")
    # The images of epoch 2 come from the real data: a generator fed zeros draws no digit
    # strokes, so compare with a run that never moved (`made`: the same flags and data).
    rows, expected = read_metrics(run / "metrics.csv"), read_metrics(made["run"] / "metrics.csv")
    assert rows[1]["gen_loss"] == pytest.approx(expected[1]["gen_loss"], rel=1e-5)


def test_empty_data_path_is_refused(made, tmp_path, capsys):
    run = tmp_path / "run"
    args = tiny_args(made["data"], run, 1)
    args[args.index("--data") + 1] = ""
    refused(capsys, train.main, args, "--data must not be empty")
    assert not run.exists()


def test_one_odd_sized_frame_does_not_set_the_gif_size(made, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    frame = iio.imread(run / "image_at_epoch_0001.png")
    iio.imwrite(run / "image_at_epoch_0003.png", frame[:-8, :-8])  # the last frame, smaller
    with pytest.warns(UserWarning, match="image_at_epoch_0003.png"):
        make_gif(run)
    assert iio.imread(run / "dcgan.gif", index=None).shape[0] == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [("false", "deterministic must be true or false, got 'false'"), (1, "must be true or false")],
)
def test_config_json_fields_are_type_checked(made, tmp_path, capsys, value, expected):
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    saved = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**saved, "deterministic": value}))
    before = snapshot(run)
    line = refused(capsys, train.main, tiny_args(made["data"], run, 3), expected)
    assert "config.json" in line
    assert snapshot(run) == before


def test_unknown_config_keys_survive_a_resume(resumed):
    assert resumed["code"] == 0, resumed["err"]
    saved = json.loads((resumed["run"] / "config.json").read_text())
    assert saved["epochs"] == 3 and {k: saved[k] for k in NOTE} == NOTE


def test_a_classifier_of_other_data_is_refused(tmp_path):
    from gan_tf.errors import EvaluationError
    from gan_tf.evaluation.classifier import (
        CLASSIFIER_EPOCHS,
        fingerprint,
        load_or_train_classifier,
        make_classifier_model,
    )

    data = labelled_data()
    key = fingerprint(data, CLASSIFIER_EPOCHS)
    path = tmp_path / f"classifier-{key[:16]}.keras"
    make_classifier_model().save(path)  # untrained: what another dataset's would score
    path.with_suffix(".json").write_text(json.dumps({"fingerprint": "0" * 64}))
    before = snapshot(tmp_path)
    with pytest.raises(EvaluationError, match="was trained on other data"):
        load_or_train_classifier(data, tmp_path, verbose=0)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        ("metrics.csv", "must end in .gif"),
        ("grid.png", "must end in .gif"),
        ("other.gif", "is not a GIF"),
    ],
)
def test_gif_never_writes_over_what_is_not_a_gif(made, tmp_path, capsys, out, expected):
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    (run / "other.gif").write_text("my notes")
    before = snapshot(run)
    refused(capsys, gif.main, [str(run), "--out", str(run / out)], expected)
    assert snapshot(run) == before


@pytest.mark.parametrize("fps", ["1e-300", "0", "-1", "1e9", "nan"])
def test_gif_frame_rate_out_of_range_is_one_line(made, tmp_path, capsys, fps):
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    before = snapshot(run)
    refused(capsys, gif.main, [str(run), "--fps", fps], "--fps must be from 0.01 to 100")
    assert snapshot(run) == before


def test_compare_never_writes_into_a_folder_of_runs(made, tmp_path, capsys):
    """Comparing two runs into a folder that holds a run of the same name would replace that
    run's metrics.csv and config.json."""
    from gan_tf.cli.compare import main as compare

    theirs = tmp_path / "theirs"
    shutil.copytree(made["run"], theirs / "run")
    mine = tmp_path / "mine"
    shutil.copytree(made["run"], mine / "run")
    (mine / "run" / "metrics.csv").write_text("epoch,gen_loss\n1,0.5\n")  # my own, other run
    before = snapshot(mine)
    refused(capsys, compare, [str(theirs / "run"), "--out-dir", str(mine)], "compare did not")
    assert snapshot(mine) == before
    # Its own earlier output it may rewrite.
    out = tmp_path / "comparison"
    assert compare([str(theirs / "run"), "--out-dir", str(out)]) == 0
    assert compare([str(theirs / "run"), "--out-dir", str(out)]) == 0


def test_a_killed_writers_temporary_is_cleared_by_the_next_write(made, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    dead = run / ".dcgan.tmp-999999999.gif"  # no process has this pid
    live = run / f".dcgan.tmp-{os.getppid()}.gif"  # a running writer's: left alone
    dead.write_bytes(b""), live.write_bytes(b"")
    assert gif.main([str(run)]) == 0
    assert not dead.exists() and live.exists()


def test_sigterm_stops_a_command_with_one_line(capsys):
    import signal

    def body():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts this

    assert run_command("python -m gan_tf.gif", body) == 130
    err = capsys.readouterr().err.strip()
    assert err == "python -m gan_tf.gif: SIGTERM: stopped; every file written so far is complete"


def test_a_restart_cut_off_midway_is_finished_by_the_next_run(made, tmp_path, capsys):
    """kill -9 while --restart moved the earlier run aside: the next plain run says so and
    moves the rest into the same folder, not a second one."""
    from gan_tf.training.preflight import RESTART_JOURNAL

    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    target = tmp_path / "run.replaced-20260101-000000"
    target.mkdir()
    shutil.move(run / "metrics.csv", target / "metrics.csv")  # the part moved before the kill
    (run / RESTART_JOURNAL).write_text(json.dumps({"target": str(target)}))
    before = {p.name for p in made["run"].iterdir()} - {".lock"}  # the lock stays
    assert train.main(tiny_args(made["data"], run, 1)) == 0
    assert "finishing a restart that was cut off" in capsys.readouterr().out
    assert {p.name for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", target.name]
    assert not (run / RESTART_JOURNAL).exists()
    assert [r["epoch"] for r in read_metrics(run / "metrics.csv")] == [1]


def test_a_checkpoint_of_other_models_is_refused_before_config_json_is_written(
    made, tmp_path, capsys
):
    """config.json edited to claim another noise size than its checkpoint was made with."""
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    saved = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**saved, "noise_dim": 12}))
    before = snapshot(run)
    args = tiny_args(made["data"], run, 3)
    args[args.index("--noise-dim") + 1] = "12"
    refused(capsys, train.main, args, "cannot restore")
    assert snapshot(run) == before


def test_a_rerun_that_trains_nothing_writes_nothing(made, tmp_path, capsys):
    """--epochs 1 on a 2-epoch run: it says so, and config.json (still "epochs": 2), the GIF
    and the generator stay as they were."""
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    before = snapshot(run)
    assert train.main(tiny_args(made["data"], run, 1)) == 0
    assert "already holds 2 epochs; nothing to train" in capsys.readouterr().out
    assert snapshot(run) == before
