"""The study on a tiny grid: every run, the report, and a rerun that trains nothing."""

import subprocess
import sys

import numpy as np
import pytest

from gan_tf.config import Config
from gan_tf.study import StudyConfig, Variant, run_study

from conftest import REPO, labelled_data


def test_variant_parsing():
    assert Variant.parse("relu") == Variant("relu", 0.0)
    assert Variant.parse("leaky_relu") == Variant("leaky_relu", 0.3)
    assert Variant.parse("leaky_relu:0.01").label == "leaky_relu α=0.01"
    for bad in ("tanh", "relu:0.2", "leaky_relu:-1", "leaky_relu:x"):
        with pytest.raises(ValueError, match="use relu, leaky_relu"):
            Variant.parse(bad)


def test_same_seed_same_start_across_variants():
    study = StudyConfig(variants=(Variant("relu"), Variant("leaky_relu", 0.2)), seeds=(3,))
    a, b = (study.run_config(v, 1e-3, 3) for v in study.variants)
    assert a.seed == b.seed and a.gen_lr == b.gen_lr == 1e-3 and a.disc_lr == 1e-3
    assert a.out_dir != b.out_dir


def test_tiny_study_and_rerun(tmp_path, capsys):
    npz = tmp_path / "data.npz"
    np.savez(npz, **labelled_data()._asdict())
    study = StudyConfig(
        variants=(Variant("relu"), Variant("leaky_relu", 0.2)),
        lrs=(1e-4, 1e-3),
        seeds=(0,),
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
    report = run_study(study)
    text = report.read_text()
    for label in ("relu", "leaky_relu α=0.2"):
        assert text.count(f"| {label} |") == 2, text  # one row per learning rate
    for name in ("fd.png", "dead.png", "grad.png", "losses.png", "samples.png", "progress.gif"):
        assert (report.parent / name).is_file(), name
    runs = sorted(p.name for p in (tmp_path / "study" / "runs").iterdir())
    assert runs == [
        "leaky_relu_0.2_lr0.0001_seed0",
        "leaky_relu_0.2_lr0.001_seed0",
        "relu_lr0.0001_seed0",
        "relu_lr0.001_seed0",
    ]
    metrics = (tmp_path / "study" / "runs" / runs[0] / "metrics.csv").read_text()
    assert "dead_channels_2" in metrics and "gen_image_grad_norm" in metrics and "fd" in metrics

    capsys.readouterr()
    run_study(study)
    out = capsys.readouterr().out
    assert out.count("finished, skipped") == 4
    assert "training" not in out


def test_bad_variant_cli():
    result = subprocess.run(
        [sys.executable, "-m", "gan_tf.study", "--variants", "tanh"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 2
    assert "bad variant 'tanh'" in result.stderr and "Traceback" not in result.stderr
