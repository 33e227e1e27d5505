"""Tests for gan_tf.report on synthetic run folders: summary arithmetic, the reading's
verdicts, and that the report, plots and GIF are written and readable. No TensorFlow."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from gan_tf.gif import frame_name
from gan_tf.images import save_image_grid
from gan_tf.report import (
    BUDGET_CANNOT,
    GIF_NAME,
    NO_SPREAD,
    NOT_SEPARATED,
    PLOT_NAMES,
    SEPARATED,
    RunResult,
    reading,
    separation,
    summarize,
    write_report,
)

from conftest import make_images

NAN = float("nan")
ALPHA = "\u03b1"  # the study labels its variants with a Greek alpha
VARIANTS = ["relu", *(f"leaky_relu {ALPHA}={a}" for a in (0.01, 0.1, 0.2, 0.3))]
LRS = [1e-4, 1e-3]
EPOCHS = 10


def metric_rows(epochs: int, dead_2: float = 0.1, grad: float = 0.5, fd: float = 50.0) -> list:
    """Rows shaped like metrics.csv; fd measured every third epoch and at the end."""
    rows = []
    for epoch in range(1, epochs + 1):
        t = epoch / epochs
        measured = epoch % 3 == 0 or epoch == epochs
        rows.append(
            {
                "epoch": epoch,
                "gen_loss": 1.0 + t,
                "disc_loss": 1.2 - 0.5 * t,
                "seconds": 2.0,
                "steps": 10 * epoch,
                "d_real": 0.6,
                "d_fake": 0.4,
                "dead_channels_1": dead_2 / 2 * t,
                "dead_channels_2": dead_2 * t,
                "gen_image_grad_norm": grad * (1.5 - t),
                "fd": fd * (2 - t) if measured else NAN,
            }
        )
    return rows


def final(fd: float, score: float = 8.0) -> dict:
    keys = {"score": score, "covered": 10, "mode_kl": 0.01, "precision": 0.7, "recall": 0.6}
    return {
        "n": 2000,
        "generator": {"fd": fd, **keys},
        "reference": {"fd": 1.0, **keys, "score": 9.5},
    }


def run(variant="relu", lr=1e-4, seed=0, metrics=None, fin=None, wall=20.0, run_dir=Path(".")):
    return RunResult(variant, lr, seed, run_dir, metrics or [], fin or {}, wall)


def runs_with(values: dict[str, list[tuple[float, float]]], lr: float = 1e-4) -> list:
    """One run per (dead_2, fd) pair, per variant; seeds 0, 1, ..."""
    return [
        run(v, lr, seed, metric_rows(3, dead_2=dead), final(fd))
        for v, pairs in values.items()
        for seed, (dead, fd) in enumerate(pairs)
    ]


# --- summarize --------------------------------------------------------------------------


def test_summarize_means_stds_over_seeds_ignoring_nan():
    last_dead_nan = metric_rows(4, dead_2=0.6)
    last_dead_nan[-1]["dead_channels_2"] = NAN  # not probed that epoch: use epoch 3's
    runs = [
        run("relu", 1e-3, 0, metric_rows(4, dead_2=0.2), final(10.0), wall=10.0),
        run("relu", 1e-3, 1, metric_rows(4, dead_2=0.4), final(20.0), wall=30.0),
        run("relu", 1e-3, 2, last_dead_nan, {}, wall=20.0),  # not evaluated: fd NaN
        run("leaky", 1e-3, 0, metric_rows(4), final(NAN)),
        run("leaky", 1e-4, 0, [], final(5.0)),  # no metrics at all
    ]
    rows = summarize(runs)
    # lr ascending, then variants in first-seen order ("relu" came first).
    assert [(r["variant"], r["lr"]) for r in rows] == [
        ("leaky", 1e-4),
        ("relu", 1e-3),
        ("leaky", 1e-3),
    ]
    relu = rows[1]
    assert relu["n_seeds"] == 3
    assert relu["fd_mean"] == pytest.approx(15.0)
    assert relu["fd_std"] == pytest.approx(5.0)  # ddof=0
    assert relu["fd_n"] == 2
    # Last measured dead fraction: 0.2, 0.4 and 0.6 * 3/4 (epoch 3; epoch 4 is NaN).
    dead = np.array([0.2, 0.4, 0.45])
    assert relu["dead_channels_2_mean"] == pytest.approx(dead.mean())
    assert relu["dead_channels_2_std"] == pytest.approx(dead.std())
    assert relu["max_dead_channels_2_mean"] == pytest.approx(np.mean([0.2, 0.4, 0.45]))
    assert relu["wall_time_mean"] == pytest.approx(20.0)
    assert relu["wall_time_std"] == pytest.approx(math.sqrt(200 / 3))
    leaky_1e3 = rows[2]
    assert math.isnan(leaky_1e3["fd_mean"]) and math.isnan(leaky_1e3["fd_std"])
    assert leaky_1e3["fd_n"] == 0
    leaky_1e4 = rows[0]
    assert leaky_1e4["fd_mean"] == 5.0 and leaky_1e4["fd_std"] == 0.0
    assert math.isnan(leaky_1e4["dead_channels_2_mean"])


# --- separation and reading -------------------------------------------------------------


def test_separation_rule():
    (relu, same, far, alone) = summarize(
        runs_with({"relu": [(0.0, 10), (0.0, 12)], "b": [(0.0, 11), (0.0, 13)]})
        + runs_with({"c": [(0.0, 30), (0.0, 31)], "d": [(0.0, 30)]})
    )
    assert separation(relu, same, "fd") == "not separated"  # |11 - 12| <= 1 + 1
    assert separation(relu, far, "fd") == "separated"  # |11 - 30.5| > 1 + 0.5
    assert separation(relu, alone, "fd") == "no spread"  # one seed
    assert separation(relu, far, "recall") == "not separated"  # equal values
    no_fd = summarize([run("e", seed=s, fin={}) for s in (0, 1)])[0]
    assert separation(relu, no_fd, "fd") == "missing"


def test_reading_with_one_seed_claims_no_separation():
    text = " ".join(
        reading(
            summarize(runs_with({"relu": [(0.9, 200.0)], f"leaky_relu {ALPHA}=0.2": [(0.0, 5.0)]}))
        )
    )
    assert NO_SPREAD in text
    assert BUDGET_CANNOT in text
    assert SEPARATED not in text


def test_reading_flags_a_clear_dying_relu_separation():
    relu = [(0.38, 20.0), (0.40, 25.0), (0.42, 30.0)]  # dead 0.4 ± 0.016
    leaky = [(0.0, 21.0), (0.0, 24.0), (0.0, 29.0)]  # dead 0 ± 0; FD overlaps relu's
    bullets = reading(summarize(runs_with({"relu": relu, f"leaky_relu {ALPHA}=0.2": leaky})))
    dead = next(b for b in bullets if "dead layer-2 channels" in b)
    assert f"relu is {SEPARATED} from the leaky variant" in dead
    assert "40.0% ± 1.6%" in dead
    assert any(BUDGET_CANNOT in b and "FD" in b for b in bullets)
    fd = next(b for b in bullets if "final FD" in b)
    assert NOT_SEPARATED in fd


def test_reading_says_budget_cannot_separate_only_where_fd_overlaps():
    overlap = runs_with({"relu": [(0.1, 20), (0.1, 30)], "leaky_relu": [(0, 22), (0, 28)]}, 1e-4)
    apart = runs_with({"relu": [(0.1, 90), (0.1, 91)], "leaky_relu": [(0, 20), (0, 21)]}, 1e-3)
    bullets = reading(summarize(overlap + apart))
    cannot = [b for b in bullets if BUDGET_CANNOT in b]
    assert cannot and all("lr=0.0001" in b for b in cannot)
    fd_apart = next(b for b in bullets if "lr=0.001," in b and "final FD" in b)
    assert SEPARATED in fd_apart and NOT_SEPARATED not in fd_apart


def test_reading_without_relu_says_no_comparison():
    bullets = reading(summarize(runs_with({"leaky_relu": [(0.0, 20), (0.0, 21)]})))
    assert any("no relu run" in b for b in bullets)


# --- write_report -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> tuple[Path, list[RunResult]]:
    """5 variants x 2 lrs x 2 seeds, 10 epochs; frames for seed 0 (4x scale, as train writes).

    relu at lr=1e-3 has no frames after epoch 5; leaky alpha=0.3 at lr=1e-3 has none at all;
    one seed has no metrics and no final evaluation.
    """
    root = tmp_path_factory.mktemp("study")
    pool = root / "pool"
    pool.mkdir()
    # One grid per epoch, copied into every run: encoding 100 PNGs would be slower.
    for epoch in range(1, EPOCHS + 1):
        save_image_grid(make_images(16, seed=epoch), pool / frame_name(epoch))
    runs = []
    for lr in LRS:
        for i, variant in enumerate(VARIANTS):
            for seed in (0, 1):
                run_dir = root / f"{variant}_{lr:g}_{seed}"
                run_dir.mkdir()
                if seed == 0 and not (variant.endswith("0.3") and lr == 1e-3):
                    last = 5 if variant == "relu" and lr == 1e-3 else EPOCHS
                    for epoch in range(1, last + 1):
                        shutil.copyfile(pool / frame_name(epoch), run_dir / frame_name(epoch))
                empty = variant.endswith("0.1") and lr == 1e-4 and seed == 1
                dead = 0.4 if variant == "relu" else 0.01 * i
                rows = [] if empty else metric_rows(EPOCHS, dead_2=dead, fd=40 + i + seed)
                fin = {} if empty else final(40 + i + seed)
                runs.append(RunResult(variant, lr, seed, run_dir, rows, fin, 20.0))
    report = write_report(runs, root / "report", "10 epochs of 10 steps, batch 8, 2 seeds.")
    return report, runs


def test_report_has_a_row_per_variant_per_lr(study):
    report, _ = study
    text = report.read_text()
    assert report.name == "report.md"
    assert "10 epochs of 10 steps, batch 8, 2 seeds." in text
    sections = re.split(r"^### ", text, flags=re.M)
    for lr in LRS:
        section = next(s for s in sections if s.startswith(f"lr={lr:g}\n"))
        table = [line for line in section.splitlines() if line.startswith("| ")]
        assert [line.split(" | ")[0][2:] for line in table[1:]] == VARIANTS
        assert all(line.count("|") == 14 for line in table)  # 13 columns
    assert "Real training images against real test images (n = 2000 images)" in text
    assert "## What the numbers show" in text and "## What they do not show" in text
    for name in (*PLOT_NAMES, GIF_NAME):
        assert f"]({name})" in text


def test_report_says_what_is_missing(study):
    text = study[0].read_text()
    missing = text.split("## Missing data", 1)[1]
    assert f"{VARIANTS[2]}, lr=0.0001, seed 1: no metrics rows" in missing
    assert f"{VARIANTS[4]}, lr=0.001: no progress images" in missing
    assert "relu, lr=0.001 (seed 0): no progress image for epoch(s) 6, 7, 8, 9, 10" in missing


def test_reading_of_the_study_keeps_single_seed_variants_apart(study):
    text = study[0].read_text()
    dead = next(line for line in text.splitlines() if line.startswith("- lr=0.0001, dead"))
    # relu (40% dead) against leaky (1-4%, std 0): separated, except alpha=0.1, one seed left.
    assert f"relu is {SEPARATED} from {VARIANTS[1]}, {VARIANTS[3]}, {VARIANTS[4]}" in dead
    assert f"for {VARIANTS[2]} (fewer than 2 seeds) {NO_SPREAD}" in dead


def test_plots_are_small_readable_pngs(study):
    report, _ = study
    for name in PLOT_NAMES:
        path = report.parent / name
        image = iio.imread(path)
        assert image.ndim == 3 and min(image.shape[:2]) > 200, name
        assert path.stat().st_size < 500_000, name
        assert image.std() > 5, f"{name} is blank"


def test_progress_gif_has_a_frame_per_epoch_and_stays_small(study):
    report, _ = study
    path = report.parent / GIF_NAME
    frames = iio.imread(path, index=None)
    assert frames.shape[0] == EPOCHS
    # 2 lr rows and 5 variant columns of 122-px grids (the 488-px frames downscaled 4x).
    assert 2 * 122 < frames.shape[1] < 2 * 122 + 120
    assert 5 * 122 < frames.shape[2] < 5 * 122 + 80
    assert path.stat().st_size < 2_000_000


def test_report_without_metrics_or_frames(tmp_path):
    runs = [run(v, lr, 0, run_dir=tmp_path) for v in ("relu", "leaky_relu") for lr in LRS]
    report = write_report(runs, tmp_path / "out", "nothing trained.")
    text = report.read_text()
    assert "no final evaluation" in text and "no metrics rows" in text
    assert "No run has progress images, so there is no progress.gif." in text
    assert not (report.parent / GIF_NAME).exists()
    for name in PLOT_NAMES:
        assert iio.imread(report.parent / name).ndim == 3


def test_write_report_rejects_no_runs(tmp_path):
    with pytest.raises(ValueError, match="no runs"):
        write_report([], tmp_path, "")


def test_report_module_does_not_load_tensorflow():
    code = (
        "import sys, gan_tf.report; sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
