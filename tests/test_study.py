"""The study on a tiny grid: every run, the report, a rerun that trains nothing, jobs, shards."""

import dataclasses
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gan_tf.config import Config, Variant, with_architecture_defaults
from gan_tf.errors import ConfigError
from gan_tf.rundir import RunDir
from gan_tf.study.grid import STUDY_BASE, StudyConfig, run_study
from gan_tf.study.settings import SETTINGS, Setting, lr_setting

from conftest import REPO, copy_classifier, labelled_data, make_images


def test_variant_and_setting_parsing():
    assert Variant.parse("relu") == Variant("relu", 0.0)
    assert Variant.parse("leaky_relu") == Variant("leaky_relu", Config.alpha)
    assert Variant.parse("leaky_relu:0.01").label == "leaky_relu α=0.01"
    for bad in ("tanh", "relu:0.2", "leaky_relu:-1", "leaky_relu:x"):
        with pytest.raises(ConfigError, match="use relu, leaky_relu"):
            Variant.parse(bad)
    assert SETTINGS["tutorial"] == Setting("tutorial", Config.gen_lr, Config.beta1)
    assert (SETTINGS["paper"].lr, SETTINGS["paper"].beta1) == (2e-4, 0.5)
    # Folders of lr-only studies keep their names; another beta1 gets a suffix.
    assert SETTINGS["stressed"].slug == "lr0.001" and SETTINGS["paper"].slug == "lr0.0002_b0.5"


def test_same_seed_same_start_across_variants():
    """Every variant of a seed starts from the same weights and sees the same batches."""
    from gan_tf.data import make_dataset
    from gan_tf.training.build import build_models

    study = StudyConfig(
        variants=(Variant("relu"), Variant("leaky_relu", 0.2)),
        settings=(SETTINGS["stressed"],),
        seeds=(3,),
        base=Config(noise_dim=8),
    )
    configs = [study.run_config(v, SETTINGS["stressed"], 3) for v in study.variants]
    assert configs[0].out_dir != configs[1].out_dir
    assert configs[0].gen_lr == configs[1].disc_lr == 1e-3
    built = [build_models(c) for c in configs]
    for a, b in zip(built[0].generator.weights, built[1].generator.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(built[0].discriminator.weights, built[1].discriminator.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    images = make_images(64)
    batches = [
        next(iter(make_dataset(images, 16, c.seed, 1, c.buffer_size, c.noise_dim))) for c in configs
    ]
    for a, b in zip(*batches, strict=True):  # images, then noise
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # ... and another seed does not.
    other = build_models(study.run_config(Variant("relu"), SETTINGS["stressed"], 4))
    assert not np.array_equal(other.generator.weights[0], built[0].generator.weights[0])


def test_every_run_of_a_study_is_judged_by_the_study_s_own_classifier(tmp_path):
    """One classifier per study folder (not per machine), unless --cache-dir names one."""
    from gan_tf.cli.study import build_parser, study_from_args

    args = ["--settings", "stressed", "--out-dir", str(tmp_path / "s")]
    study = study_from_args(build_parser().parse_args(args))
    judges = {study.run_config(*run).cache_dir for run in study.grid()}
    assert judges == {study.classifier_dir} == {str(tmp_path / "s" / "classifier")}
    given = study_from_args(build_parser().parse_args([*args, "--cache-dir", "elsewhere"]))
    assert {given.run_config(*run).cache_dir for run in given.grid()} == {"elsewhere"}


def tiny_study(tmp_path, seeds=(0,)) -> StudyConfig:
    npz = tmp_path / "data.npz"
    np.savez(npz, **labelled_data()._asdict())
    return StudyConfig(
        variants=(Variant("relu"), Variant("leaky_relu", 0.2)),
        settings=(SETTINGS["tutorial"], SETTINGS["stressed"]),
        seeds=seeds,
        base=Config(
            epochs=2,
            batch_size=16,
            noise_dim=8,
            max_steps_per_epoch=2,
            data=str(npz),
            eval_every=1,
            eval_n=40,
            probe_size=16,
            checkpoint_every=1,
            max_checkpoints=1,
            cache_dir=str(tmp_path / "cache"),
        ),
        final_n=50,
        out_dir=str(tmp_path / "study"),
    )


RUN_NAMES = [
    "leaky_relu_0.2_lr0.0001_seed0",
    "leaky_relu_0.2_lr0.001_seed0",
    "relu_lr0.0001_seed0",
    "relu_lr0.001_seed0",
]


def _trained_runs(out_dir):
    """{run name: number of times it trained its first epoch} from the runs' metrics."""
    runs = sorted((out_dir / "runs").iterdir())
    return {run.name: len(RunDir(run).read_metrics()) for run in runs}


@pytest.mark.slow
def test_two_shards_share_one_study_folder(tmp_path, capsys):
    """Two processes, --shard 0/2 (with --jobs 2) and 1/2, into one folder: every run
    trained exactly once, and the report holds them all."""
    from gan_tf.cli.study import main as study_main

    study = tiny_study(tmp_path)
    base = study.base
    flags = [
        "--variants", "relu", "leaky_relu:0.2", "--settings", "tutorial", "stressed",
        "--seeds", "0", "--epochs", "2", "--batch-size", "16", "--max-steps-per-epoch", "2",
        "--eval-every", "1", "--eval-n", "40", "--final-n", "50", "--probe-size", "16",
        "--data", base.data, "--out-dir", study.out_dir,
    ]  # fmt: skip
    # noise_dim is not a study flag: the shards train the tutorial's generator.
    # Shard 0 is `python -m gan_tf.study` in a process of its own, which trains its two
    # runs at once (--jobs 2), each in a worker process; shard 1 runs at the same time, in
    # this process. Shard 0's output goes to files: a pipe read only at the end could fill.
    logs = [tmp_path / "shard0.out", tmp_path / "shard0.err"]
    with open(logs[0], "w") as out, open(logs[1], "w") as err:
        shard = subprocess.Popen(
            [sys.executable, "-m", "gan_tf.study", *flags, "--shard", "0/2", "--jobs", "2"],
            cwd=REPO, stdout=out, stderr=err,
        )  # fmt: skip
    try:
        assert study_main([*flags, "--shard", "1/2", "--jobs", "1"]) == 0
        mine = capsys.readouterr()
        shard.wait(timeout=600)
    finally:
        if shard.poll() is None:
            shard.kill()
            shard.wait()
    outputs = [(logs[0].read_text(), logs[1].read_text()), (mine.out, mine.err)]
    assert shard.returncode == 0, outputs[0][1]
    assert "training 2 runs, 2 at a time" in outputs[0][0], outputs[0][0]
    # Both shards need the evaluation classifier at once: one trains it, the other waits.
    assert sum(out.count("Training the evaluation classifier") for out, _ in outputs) == 1
    judge = tmp_path / "study" / "classifier"  # the study's own, which every run names
    assert len(list(judge.glob("classifier-*.keras"))) == 1
    for name in RUN_NAMES:
        assert RunDir(tmp_path / "study" / "runs" / name).read_config().cache_dir == str(judge)
    assert outputs[0][0].count(": trained") == 2 and outputs[1][0].count(": training") == 2
    assert _trained_runs(tmp_path / "study") == dict.fromkeys(RUN_NAMES, 2)
    report = tmp_path / "study" / "report" / "report.md"
    assert "relu" in report.read_text() and "leaky_relu α=0.2" in report.read_text()
    for name in ("fd.png", "dead.png", "grad.png", "losses.png", "mechanism.png", "samples.png",
                 "progress.gif"):  # fmt: skip
        assert (report.parent / name).is_file(), name
    metrics = (tmp_path / "study" / "runs" / RUN_NAMES[0] / "metrics.csv").read_text()
    assert "dead_channels_2" in metrics and "gen_image_grad_norm" in metrics and "fd" in metrics

    # The same study again, in-process, with one of its runs shown as a pilot: every run
    # is finished, nothing trains (not even a classifier for an empty cache), and the
    # report shows the pilot's scores and command.
    # The command layer hands the report its command lines and flag spelling.
    from gan_tf.cli.common import flag, train_command
    from gan_tf.cli.study import study_command
    from gan_tf.study.wording import Wording

    capsys.readouterr()
    pilot = str(tmp_path / "study" / "runs" / RUN_NAMES[2])
    empty = dataclasses.replace(base, cache_dir=str(tmp_path / "empty cache"))
    again = dataclasses.replace(study, pilots=(pilot,), base=empty)
    wording = Wording(study_command(again), train_command, flag)
    assert run_study(again, wording=wording) == report
    out = capsys.readouterr().out
    assert out.count("finished, skipped") == 4 and "training" not in out.lower()
    assert not (tmp_path / "empty cache").exists()
    text = report.read_text()
    assert f"--pilot {pilot}" in text and "## Pilot and reference runs" in text
    assert "python -m gan_tf.train --activation relu --epochs 2 --batch-size 16" in text
    assert "--eval-n 40 --probe-size 16 --cache-dir" in text
    assert "# set in Python, no flag for: noise_dim=8" in text
    assert "| 2 | 4 | 64 |" in text  # epoch 2: 4 steps, 64 images
    assert "score ≥ 7 not reached in 4 steps" in text
    assert "| relu | tutorial (lr 0.0001, β1 0.9) | yes | 16 | 4 |" in text


def test_the_printed_command_rebuilds_the_study(tmp_path):
    """report.md's command, parsed by the study CLI, gives back the same StudyConfig."""
    import shlex

    from gan_tf.cli.study import build_parser, study_command, study_from_args

    pilot = RunDir(tmp_path / "pilot run")
    pilot.path.mkdir()
    pilot.write_config(Config(batch_size=64))
    pilot.write_metrics([{"epoch": 1, "steps": 3, "seconds": 1.0, "score": 2.0}])
    base = Config(
        epochs=8, batch_size=64, max_steps_per_epoch=500, eval_every=1, eval_n=2000,
        data="/data/mnist", checkpoint_every=1, max_checkpoints=1,
    )  # fmt: skip
    studies = [
        StudyConfig(
            variants=(Variant.parse("relu"), Variant.parse("leaky_relu:0.01")),
            settings=(SETTINGS["paper"], SETTINGS["stressed"]),
            seeds=(0, 1, 2, 3),
            base=base,
            final_n=5000,
            out_dir=str(tmp_path / "study"),
            pilots=(str(pilot.path),),
        ),
        StudyConfig(settings=(Setting("lr 0.0003", 3e-4, 0.5),), base=base, out_dir="s"),
        StudyConfig(variants=(Variant.parse("leaky_relu:0.123456789"),), settings=(
            lr_setting(1.234567e-5),), out_dir="s"),
        StudyConfig(),
        # The paper's networks: what --architecture dcgan implies is not spelled out, what
        # differs from it (a batch of 64, 32 pixels) is.
        StudyConfig(base=dataclasses.replace(STUDY_BASE, **with_architecture_defaults(
            {"architecture": "dcgan", "image_size": 32, "batch_size": 64,
             "dataset": "cifar10"}))),
        StudyConfig(base=dataclasses.replace(
            STUDY_BASE, **with_architecture_defaults({"architecture": "dcgan"}))),
    ]  # fmt: skip
    dcgan = study_command(studies[-2])
    assert dcgan.count("--architecture dcgan") == 1
    assert "--image-size 32" in dcgan and "--batch-size 64" in dcgan
    assert "--dropout" not in dcgan and "no flag" not in study_command(studies[-1])
    for study in studies:
        words = shlex.split(study_command(study))
        assert words[:3] == ["python", "-m", "gan_tf.study"] and "#" not in words
        rebuilt = study_from_args(build_parser().parse_args(words[3:]))
        assert rebuilt.grid() == study.grid() and rebuilt.pilots == study.pilots
        assert [rebuilt.run_config(*r) for r in rebuilt.grid()] == [
            study.run_config(*r) for r in study.grid()
        ]
        assert rebuilt.final_n == study.final_n
    # What the study flags cannot say is written out as a comment, not dropped.
    mixed = StudyConfig(settings=(Setting("a", 1e-4, 0.5), Setting("b", 1e-3, 0.9)))
    assert study_command(mixed).endswith(
        "# set in Python, no flag for: settings a (0.0001, 0.5), b (0.001, 0.9)"
    )
    unevaluated = StudyConfig(base=dataclasses.replace(base, eval_every=None))
    assert study_command(unevaluated).endswith("no flag for: eval_every=None")
    with pytest.raises(ConfigError, match=r"no config\.json or metrics\.csv"):
        StudyConfig(pilots=(str(tmp_path),))
    with pytest.raises(ConfigError, match="10-class labelled data") as error:
        StudyConfig(base=dataclasses.replace(base, dataset="folder", data=str(tmp_path)))
    assert error.value.setting == "dataset"


def test_study_errors_name_the_field_and_the_command_spells_the_flag():
    """The library names StudyConfig's field; the study command spells it as its flag."""
    from gan_tf.errors import keyword

    with pytest.raises(ConfigError) as error:
        StudyConfig(final_n=5)
    assert error.value.setting == "final_n"
    assert error.value.render(keyword) == "final_n must be an integer of at least 10, got 5"


def test_a_run_folder_in_use_is_left_to_its_process(monkeypatch, tmp_path):
    """Another process training into a run folder: the study reports it busy, not failed."""
    import gan_tf.training.loop
    from gan_tf.errors import RunDirBusy
    from gan_tf.study.grid import train_and_evaluate

    def busy(config, verbose=1):
        raise RunDirBusy(f"{config.out_dir} is in use by another run (pid 1)")

    monkeypatch.setattr(gan_tf.training.loop, "train", busy)
    assert train_and_evaluate(Config(out_dir=str(tmp_path / "run")), final_n=10) == "busy"


def test_bad_variant_and_shard_cli():
    for args, expected in [
        (["--variants", "tanh"], "bad variant 'tanh'"),
        (["--shard", "2/2"], "expected I/N with 0 <= I < N"),
        (["--settings", "tutorial", "--lrs", "1e-3"], "not both"),
        (["--seeds", "-1"], "seed must be an integer in [0, 2**32)"),
        (["--final-n", "5"], "--final-n must be an integer of at least 10, got 5"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "gan_tf.study", *args, "--out-dir", "/nonexistent/x"],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        assert result.returncode == 2, args
        assert expected in result.stderr and "Traceback" not in result.stderr, result.stderr


def _children(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":  # ppid; a zombie is already dead
            found.append(int(stat.parent.name))
    return found


def _alive(pids) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads the process table from /proc")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "kill -9"])
def test_stopping_a_study_stops_its_workers(tmp_path, trained_classifier, stop):
    """study --jobs 2 stopped by SIGTERM (one line, exit 130) or kill -9: soon no process of
    the study is left, and each worker's run keeps a checkpoint to resume."""
    study = tiny_study(tmp_path)
    # The study's own classifier, trained already (the session's `trained_classifier`): the
    # workers start training at once.
    copy_classifier(trained_classifier[1], Path(study.out_dir) / "classifier")
    args = [
        sys.executable, "-m", "gan_tf.study", "--variants", "relu", "leaky_relu:0.2",
        "--settings", "tutorial", "--seeds", "0", "--epochs", "400", "--batch-size", "16",
        "--max-steps-per-epoch", "2", "--eval-n", "40", "--final-n", "50", "--probe-size", "16",
        "--data", study.base.data, "--out-dir", study.out_dir, "--jobs", "2",
    ]  # fmt: skip
    # Output to a file: a pipe nobody reads fills up and blocks the workers' writes.
    log = tmp_path / "stderr.txt"
    with open(log, "w") as stderr:
        study_process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr)
    runs = [
        Path(study.out_dir) / "runs" / name
        for name in ("relu_lr0.0001_seed0", "leaky_relu_0.2_lr0.0001_seed0")
    ]
    deadline = time.monotonic() + 300
    # Both workers past their first epoch: each has traced its steps and is training.
    while not all(run.is_dir() and RunDir(run).read_metrics() for run in runs):
        assert study_process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the workers never trained"
        time.sleep(0.5)
    workers = _children(study_process.pid)
    assert len(workers) >= 2
    study_process.send_signal(stop)
    study_process.wait(timeout=60)
    # Each worker saves a checkpoint before it ends: seconds, more on 2 cores shared with
    # other tests. What must not happen is a worker left training on its own.
    deadline = time.monotonic() + 30
    while _alive(workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(workers), "workers outlived the study"
    if stop == signal.SIGTERM:
        lines = [line for line in log.read_text().splitlines() if "gan_tf.study:" in line]
        assert study_process.returncode == 130, log.read_text()
        assert len(lines) == 1 and "SIGTERM: stopped" in lines[0]
        assert "Traceback" not in log.read_text()
    for run in runs:
        assert RunDir(run).latest_checkpoint(), run


def test_a_damaged_pilot_is_refused_before_anything_trains(tmp_path):
    from gan_tf.errors import UserError

    pilot = tmp_path / "pilot"
    pilot.mkdir()
    (pilot / "config.json").write_text(Config().to_json())
    (pilot / "metrics.csv").write_bytes(b"\x00\xff garbage\n1,2\n")
    study = dataclasses.replace(tiny_study(tmp_path), pilots=(str(pilot),))
    with pytest.raises(UserError, match=r"pilot run folder .*pilot: .*metrics\.csv"):
        run_study(study, verbose=0)
    assert not (tmp_path / "study").exists()
