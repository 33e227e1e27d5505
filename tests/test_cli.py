"""The command line as a user meets it: --help, a tiny run, and one-line refusals."""

import dataclasses
import gzip
import subprocess
import sys

import numpy as np
import pytest

from gan_tf import __version__
from gan_tf.cli.common import flag as spell_flag
from gan_tf.cli.train import build_parser
from gan_tf.config import Config
from gan_tf.errors import ConfigError

from conftest import REPO, idx_bytes, make_images


def run(*args, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_help_documents_every_flag_with_its_default():
    text = build_parser().format_help()
    for flag, default in [
        ("--epochs", Config.epochs),
        ("--batch-size", Config.batch_size),
        ("--noise-dim", Config.noise_dim),
        ("--alpha", Config.alpha),
        ("--gen-lr", Config.gen_lr),
        ("--disc-lr", Config.disc_lr),
        ("--beta1", Config.beta1),
        ("--seed", Config.seed),
        ("--checkpoint-every", Config.checkpoint_every),
        ("--out-dir", Config.out_dir),
    ]:
        assert flag in text
        assert f"(default: {default})" in " ".join(text.split())
    for flag in ("--activation", "--dataset", "--data", "--max-steps-per-epoch", "--resume"):
        assert flag in text
    assert "{relu,leaky_relu}" in text


def test_help_subprocess():
    result = run("gan_tf.train", "--help")
    assert result.returncode == 0
    assert "usage: python -m gan_tf.train" in result.stdout


@pytest.mark.slow
def test_tiny_cli_run_then_resume_then_generate(tmp_path, tiny_run, capsys):
    """conftest's `tiny_run` (2 epochs, trained from scratch by `python -m gan_tf.train`),
    resumed by `python -m gan_tf.train` in a process of its own, then drawn from and made a
    GIF of."""
    import shutil

    import imageio.v3 as iio

    from gan_tf.cli import generate

    out = tmp_path / "run"
    shutil.copytree(tiny_run["run"], out)
    # Flags left out come from the run's config.json; only --epochs changes.
    second = run("gan_tf.train", "--out-dir", str(out), "--epochs", "3")
    assert second.returncode == 0, second.stderr
    assert "Resuming from" in second.stdout and "(epoch 2)" in second.stdout
    assert "Time for epoch 3" in second.stdout
    assert "Epoch 1/" not in second.stdout and "Epoch 2/" not in second.stdout
    assert sorted(p.name for p in out.glob("image_at_epoch_*.png")) == [
        "image_at_epoch_0001.png",
        "image_at_epoch_0002.png",
        "image_at_epoch_0003.png",
    ]
    grid = tmp_path / "grid.png"
    assert generate.main([str(out), "--n", "9", "--out", str(grid)]) == 0
    assert str(grid) in capsys.readouterr().out
    assert iio.imread(grid).shape == (4 * (3 * 30 + 2),) * 2  # 3x3 grid, 2px gaps, 4x scale
    (out / "dcgan.gif").unlink()
    remade = run("gan_tf.gif", str(out))
    assert remade.returncode == 0 and (out / "dcgan.gif").is_file()


def _truncated_gz(tmp_path):
    folder = tmp_path / "trunc"
    folder.mkdir()
    data = gzip.compress(idx_bytes(make_images(40)))
    (folder / "train-images-idx3-ubyte.gz").write_bytes(data[: len(data) // 2])
    return folder


def refused(capsys, main, argv) -> str:
    """Runs a command's main in-process (the subprocess path is covered above); it must
    exit 2 with one error line and no traceback. Returns that line."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    return errors[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--alpha", "-1"], "--alpha must be a number in [0, 1], got -1.0"),
        (["--activation", "tanh"], "invalid choice: 'tanh'"),
        (["--epochs", "0"], "--epochs must be a positive integer"),
        (["--batch-size", "many"], "invalid int value: 'many'"),
        (["--gen-lr", "nan"], "--gen-lr must be a number in (0, 1]"),
        (["--data", "/nonexistent"], "/nonexistent: no such file or folder"),
        ("truncated", "corrupt or truncated gzip"),
        (["--resume"], "--resume: no checkpoint in"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path, capsys, args, expected):
    from gan_tf.cli.train import main

    out = tmp_path / "out"
    if args == "truncated":
        args = ["--data", str(_truncated_gz(tmp_path))]
    assert expected in refused(capsys, main, [*args, "--out-dir", str(out)])
    assert not out.exists()  # refused before anything was written


def test_out_dir_that_is_a_file(tmp_path, npz_path, capsys):
    from gan_tf.cli.train import main

    target = tmp_path / "file"
    target.write_text("precious")
    line = refused(capsys, main, ["--data", str(npz_path), "--out-dir", str(target)])
    assert "is a file, not a folder" in line
    assert target.read_text() == "precious"


def test_generate_refuses_missing_model(tmp_path, capsys):
    from gan_tf.cli.generate import main

    assert "no such file" in refused(capsys, main, [str(tmp_path / "nothing")])


def test_stray_arrays_are_not_images(tmp_path, capsys):
    from gan_tf.cli.train import main

    # A user points --data at some other .npz: refused with the keys it has.
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.ones(3))
    line = refused(capsys, main, ["--data", str(path), "--out-dir", str(tmp_path / "o")])
    assert "no 'x_train' array (found: weights)" in line


def test_config_flags_spell_a_config_that_the_cli_reads_back(tmp_path):
    """The command a report prints for a run trains that run's settings."""
    from gan_tf.cli.common import config_flags
    from gan_tf.cli.train import build_parser, config_from_args

    config = Config(
        activation="relu", batch_size=64, gen_lr=2e-4, disc_lr=2e-4, beta1=0.5, seed=7,
        max_steps_per_epoch=250, eval_every=1, deterministic=True, data="/data/mnist",
        out_dir=str(tmp_path / "run"),
    )  # fmt: skip
    words = config_flags(config)
    assert "--deterministic" in words and "--alpha" not in words  # only what differs
    assert config_from_args(build_parser().parse_args(words)) == config
    assert config_flags(Config()) == []


def test_report_commands_show_paths_a_reader_would_type(tmp_path, monkeypatch):
    """A run stores absolute paths; a report's command shows them relative to the current
    folder where they lie inside it or beside it, and a far-away run folder as runs/NAME."""
    from gan_tf.cli.common import train_command

    checkout = tmp_path / "work" / "main"
    checkout.mkdir(parents=True)
    monkeypatch.chdir(checkout)
    config = Config(
        activation="relu",
        data=str(tmp_path / "work" / "shared" / "data" / "mnist"),
        cache_dir=str(checkout / "runs" / "classifier"),
        out_dir="/root/runs/tutorial_relu",
    )
    assert train_command(config) == (
        "python -m gan_tf.train --activation relu --cache-dir runs/classifier "
        "--data ../shared/data/mnist --out-dir runs/tutorial_relu"
    )
    far = dataclasses.replace(config, data="/srv/datasets/mnist", out_dir=str(checkout / "a"))
    assert train_command(far).endswith("--data /srv/datasets/mnist --out-dir a")


def test_library_errors_name_fields_and_commands_name_flags(tmp_path, capsys):
    """One rule for the command line: a library error names the setting by its field and the
    way out by its keyword; the command spells both as flags."""
    from gan_tf.cli.evaluate import main as evaluate_main
    from gan_tf.errors import RESTART, RunDirError
    from gan_tf.evaluation.quality import evaluate

    with pytest.raises(ConfigError) as info:
        evaluate(tmp_path, n=5)
    assert str(info.value) == "n must be an integer of at least 10, got 5"
    with pytest.raises(SystemExit) as exit_info:
        evaluate_main([str(tmp_path), "--n", "5"])
    assert exit_info.value.code == 2
    assert "error: --n must be an integer of at least 10, got 5" in capsys.readouterr().err

    error = RunDirError("runs/x is damaged", remedies=[RESTART])
    assert str(error) == (
        "runs/x is damaged; pass restart=True to move the earlier run aside and start over"
    )
    assert error.render(spell_flag).endswith(
        "pass --restart to move the earlier run aside and start over"
    )


def test_gan_tf_without_a_command_prints_usage_and_exits_2(capsys):
    from gan_tf.cli.main import main as gan_tf

    assert gan_tf([]) == 2  # never a 2-hour training run by surprise
    assert "usage: gan-tf COMMAND" in capsys.readouterr().err
    assert gan_tf(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"gan-tf {__version__}"


def test_messages_use_the_name_the_user_typed(tmp_path, capsys):
    from gan_tf.cli.common import INVOKED_AS
    from gan_tf.cli.main import main as gan_tf

    try:
        with pytest.raises(SystemExit) as info:
            gan_tf(["gif", str(tmp_path)])
        assert info.value.code == 2
        assert capsys.readouterr().err.startswith("gan-tf gif: error:")
        with pytest.raises(SystemExit):
            gan_tf(["train", "--epochs", "0"], invoked_as="python -m gan_tf")
        assert capsys.readouterr().err.startswith("python -m gan_tf train: error: --epochs")
    finally:
        INVOKED_AS["prefix"] = "python -m gan_tf."


def test_abbreviated_flags_are_refused(capsys):
    from gan_tf.cli.train import main

    with pytest.raises(SystemExit) as info:
        main(["--epoch", "3"])
    assert info.value.code == 2
    assert "unrecognized arguments: --epoch 3" in capsys.readouterr().err


def test_gif_every_nth_epoch_and_shrunk(tmp_path, capsys):
    """`gif --every 4 --size 20` of ten 30 x 40 frames: epochs 1, 4, 8 and 10 (the first and
    the last always), each shrunk to 15 x 20; the run's own dcgan.gif is left alone."""
    import imageio.v3 as iio

    from gan_tf.cli import gif
    from gan_tf.images import every_nth

    assert every_nth(list(range(1, 101)), 5) == [1, *range(5, 101, 5)]
    assert (
        every_nth([3, 4, 5], 10) == [3, 5] and every_nth([7], 3) == [7] and every_nth([], 2) == []
    )
    run = tmp_path / "run"
    run.mkdir()
    for epoch in range(1, 11):
        frame = np.full((30, 40, 3), 20 * epoch, np.uint8)
        iio.imwrite(run / f"image_at_epoch_{epoch:04d}.png", frame)
    out = tmp_path / "small.gif"
    assert gif.main([str(run), "--out", str(out), "--every", "4", "--size", "20"]) == 0
    frames = iio.imread(out, index=None)
    assert frames.shape[:3] == (4, 15, 20)
    # The frames are epochs 1, 4, 8, 10 in order: grey levels 20, 80, 160, 200.
    assert [int(np.median(f[..., 0])) for f in frames] == [20, 80, 160, 200]
    assert not (run / "dcgan.gif").exists() and str(out) in capsys.readouterr().out
    # Without the flags: every frame, as drawn.
    assert gif.main([str(run)]) == 0
    assert iio.imread(run / "dcgan.gif", index=None).shape[:3] == (10, 30, 40)
