"""Tests for gan_tf.study's report on synthetic runs: the statistics against scipy and hand-worked
numbers, collapse handling, the reading's claims, and that the report, plots and GIF are
written and readable (an unreadable frame included). No TensorFlow."""

from __future__ import annotations

import dataclasses
import math
import re
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from scipy import stats as scipy_stats

from gan_tf.config import Config, Variant
from gan_tf.images import GRID_SCALE, image_grid, save_image_grid
from gan_tf.rundir import frame_name
from gan_tf.study.analysis import analyse, group_runs
from gan_tf.study.description import (
    dead_cost_bullet,
    dying_bullet,
    gradient_bullet,
    gradient_direction_bullet,
    quality_bullet,
    reach_bullets,
    relapse_bullet,
    snapshot_bullet,
)
from gan_tf.study.figures import CURVE_COLUMNS, PLOT_NAMES, kept_panels, panels, plain_tick
from gan_tf.study.formatting import RHO
from gan_tf.study.frames import GIF_LEVELS, GIF_SCALE, PROGRESS_GIF_NAME, readable_frames
from gan_tf.study.measures import (
    Reached,
    collapse_flags,
    course,
    fd_over_run,
    flagged_at_start,
    is_collapsed,
    relapses,
    speed,
    time_to_score,
)
from gan_tf.study.method import limits, mechanism_line, power_line
from gan_tf.study.notes import (
    best_fd_note,
    class_balance,
    pilot_classifier_note,
    reference,
    relapse_section,
    speed_note,
)
from gan_tf.study.reading import DECIDES_NOTHING, mechanism_bullet, reading, settings_bullet
from gan_tf.study.records import RunResult, load_run
from gan_tf.study.report import REPORT_NAME, pilot_section, write_report
from gan_tf.study.stats import Correlation, correlate, holm, mean_sd, welch
from gan_tf.study.tables import (
    HOLDS,
    NOT_REACHED,
    NOT_TESTABLE,
    collapse_table,
    pilot_summary,
    results_table,
    time_table,
)

from conftest import make_images

NAN = float("nan")
ALPHA = "\u03b1"
EPOCHS = 6
BATCH = 8


def rows(
    epochs: int = EPOCHS, dead: float = 0.1, grad: float = 0.5, fd: float = 50.0, score=8.0
) -> list[dict]:
    """Rows shaped like metrics.csv: 10 steps of 2 s per epoch, quality every 2nd epoch."""
    out = []
    for epoch in range(1, epochs + 1):
        evaluated = epoch % 2 == 0
        quality = {"fd": fd * (1 + 1 / epoch), "score": score, "recall": 0.5}
        out.append(
            {
                "epoch": epoch,
                "seconds": 2.0,
                "steps": 10,
                "gen_loss": 1.0 + epoch / epochs,
                "disc_loss": 1.2 - 0.5 * epoch / epochs,
                "dead_channels_1": dead / 2,
                "dead_channels_2": dead,
                "gen_image_grad_norm": grad,
                "d_real": 0.6,
                "d_fake": 0.4,
                **{k: v if evaluated else NAN for k, v in quality.items()},
            }
        )
    return out


def final(fd: float = 40.0, score: float = 8.0, recall: float = 0.6) -> dict:
    figures = {"covered": 10, "mode_kl": 0.01, "precision": 0.7}
    return {
        "n": 2000,
        "generator": {"fd": fd, "score": score, "recall": recall, **figures},
        "reference": {"fd": 1.0, "score": 9.5, "recall": 0.9, **figures},
    }


def run(
    activation="relu",
    alpha=0.0,
    setting="tutorial",
    seed=0,
    metrics=None,
    fin=None,
    run_dir=Path("."),
    diverged=False,
    eval_n=NAN,
) -> RunResult:
    lr = {"tutorial": 1e-4, "stressed": 1e-3}.get(setting, 2e-4)
    return RunResult(
        variant=Variant(activation, alpha),
        setting=setting,
        lr=lr,
        beta1=0.9,
        seed=seed,
        run_dir=run_dir,
        metrics=metrics if metrics is not None else [],
        final=fin if fin is not None else {},
        wall_time=12.0,
        batch_size=BATCH,
        diverged=diverged,
        eval_n=eval_n,
    )


# --- RunResult and grouping -------------------------------------------------------------


def test_variant_key_label_and_group_order():
    leaky = run("leaky_relu", 0.2)
    assert leaky.label == f"leaky_relu {ALPHA}=0.2" and leaky.variant == Variant("leaky_relu", 0.2)
    assert run("relu", 0.3).variant == Variant("relu")  # the slope means nothing to relu
    runs = [
        run("leaky_relu", 0.3, "stressed"),
        run("leaky_relu", 0.01, "stressed", seed=1),
        run("relu", 0.0, "stressed", seed=2),
        run("leaky_relu", 0.2, "tutorial"),
        run("relu", 0.0, "stressed", seed=0),
    ]
    groups = group_runs(runs)
    assert [(g.setting, g.label) for g in groups] == [
        ("stressed", "relu"),  # settings as they first appear, relu first, then by alpha
        ("stressed", f"leaky_relu {ALPHA}=0.01"),
        ("stressed", f"leaky_relu {ALPHA}=0.3"),
        ("tutorial", f"leaky_relu {ALPHA}=0.2"),
    ]
    assert [r.seed for r in groups[0].runs] == [0, 2]


# --- Welch, Holm, correlation -----------------------------------------------------------


def test_welch_interval_p_and_hedges_g_match_scipy():
    relu, leaky = [1.0, 2.0, 3.5, 4.0], [2.0, 4.5, 6.0, 7.0, 9.0, NAN]  # NaN is ignored
    test = welch(relu, leaky)
    reference = scipy_stats.ttest_ind(leaky[:5], relu, equal_var=False)
    low, high = reference.confidence_interval(0.95)
    assert (test.n_a, test.n_b) == (4, 5)
    assert test.diff == pytest.approx(5.7 - 2.625)
    assert (test.low, test.high) == (pytest.approx(low), pytest.approx(high))
    assert test.p == pytest.approx(reference.pvalue)
    pooled = math.sqrt((3 * np.var(relu, ddof=1) + 4 * np.var(leaky[:5], ddof=1)) / 7)
    assert test.g == pytest.approx(3.075 / pooled * (1 - 3 / (4 * 9 - 9)))


def test_welch_is_not_testable_below_two_values_or_without_spread():
    for a, b in (([1.0], [2.0, 3.0]), ([1.0, NAN], [2.0, 3.0]), ([], [])):
        test = welch(a, b)
        assert math.isnan(test.p) and NOT_TESTABLE in test.note
    flat = welch([1.0, 1.0], [2.0, 2.0])
    assert flat.diff == 1.0 and math.isnan(flat.p) and "no spread" in flat.note


def test_holm_step_down():
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    # NaN (not testable) stays NaN and does not count; adjusted p is capped at 1.
    np.testing.assert_allclose(holm([0.01, NAN, 0.04]), [0.02, NAN, 0.04])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])


def test_correlation_of_a_monotone_set_is_one_with_an_interval():
    x = np.arange(1.0, 9.0)
    pearson, spearman = correlate(x, np.exp(x))
    assert spearman.r == pytest.approx(1.0)
    assert (spearman.low, spearman.high) == (pytest.approx(1.0), pytest.approx(1.0))
    assert spearman.p < 0.001 and spearman.n == 8
    assert 0.5 < pearson.low <= pearson.r < 1.0 and pearson.high <= 1.0
    assert pearson.r == pytest.approx(scipy_stats.pearsonr(x, np.exp(x)).statistic)
    # p from permuting the pairs, exact for few points: of the 5! orderings of 5 points,
    # only the identity and its reverse are as extreme as a perfect correlation.
    five = correlate(np.arange(5.0), np.arange(5.0) ** 3)[1]
    assert five.r == pytest.approx(1.0) and five.p == pytest.approx(2 / 120)
    assert correlate(x, -x)[0].r == pytest.approx(-1.0)
    too_few = correlate([1.0, 2.0], [3.0, 4.0])
    assert all(math.isnan(c.r) and math.isnan(c.p) for c in too_few)


# --- Per-run figures --------------------------------------------------------------------


def test_best_fd_epoch_and_mean_over_training():
    metrics = [
        {"epoch": e, "steps": 10, "seconds": 1.0, "fd": fd}
        for e, fd in zip((1, 2, 3, 4), (40.0, 20.0, 25.0, NAN), strict=True)
    ]
    best, epoch, auc = fd_over_run(run(metrics=metrics))
    assert (best, epoch) == (20.0, 2.0)
    # Trapezoids over images seen 80, 160, 240: (80 * 30 + 80 * 22.5) / 160.
    assert auc == pytest.approx(26.25)
    assert fd_over_run(run(metrics=metrics[:1])) == (40.0, 1.0, 40.0)
    assert all(math.isnan(v) for v in fd_over_run(run(metrics=rows(fd=NAN))))


def test_time_to_quality_in_images_and_seconds():
    metrics = [
        {"epoch": e, "steps": steps, "seconds": s, "score": score}
        for e, steps, s, score in ((1, 10, 2, NAN), (2, 10, 3, 4), (3, 20, 4, 6), (4, 20, 5, 8))
    ]
    fast = run(metrics=metrics)
    # Steps, and images (steps x batch), counted once in the run's record.
    assert time_to_score(fast, 5) == Reached(40, 40 * BATCH, 9.0)
    assert time_to_score(fast, 7) == Reached(60, 60 * BATCH, 14.0)
    assert list(fast.steps) == [10, 20, 40, 60] and list(fast.images) == [80, 160, 320, 480]
    assert time_to_score(fast, 9) is None
    (group,) = group_runs([fast, run(seed=1, metrics=rows(score=3.0))])
    assert group.time_to(5) == (1, 2, 40 * BATCH, 9.0)
    table = "\n".join(time_table([group]))
    assert "1 of 2 reached: median 320 images, 9.00 s" in table
    (slow,) = group_runs([run(metrics=rows(score=3.0))])
    assert f"{NOT_REACHED} (0 of 1)" in "\n".join(time_table([slow]))


def test_training_speed_per_variant_and_a_note_when_machines_differ():
    same = [run(seed=s, metrics=rows()) for s in range(2)]  # 10 steps x 8 images per 2 s
    assert speed(same[0]) == 40.0
    assert "| 40 (40 to 40) |" in "\n".join(time_table(group_runs(same)))
    assert speed_note(same) == ""
    slower = [{**row, "seconds": 6.5} for row in rows()]
    mixed = [*same, run(seed=2, metrics=slower)]
    note = speed_note(mixed)
    assert "differed 3.2-fold" in note and "12 to 40 images/s" in note
    assert math.isnan(speed(run(metrics=[])))


def test_collapse_flag():
    assert is_collapsed(run(fin=final(score=1.5))) is True
    assert is_collapsed(run(fin=final(recall=0.005))) is True
    assert is_collapsed(run(fin=final())) is False
    # Without a final evaluation, the last evaluated epoch decides.
    assert is_collapsed(run(metrics=rows(score=1.0))) is True
    assert is_collapsed(run(metrics=rows(score=8.0))) is False
    assert is_collapsed(run(metrics=rows(score=NAN)[:1])) is None


def test_collapsed_run_is_left_out_of_fd_figures_and_comparisons():
    relu = [run(seed=s, metrics=rows(fd=fd), fin=final(fd)) for s, fd in enumerate((20, 22))]
    relu.append(run(seed=2, metrics=rows(fd=400.0), fin=final(400.0, score=1.0)))
    leaky = [
        run("leaky_relu", 0.2, seed=s, metrics=rows(fd=fd), fin=final(fd))
        for s, fd in enumerate((30, 31, 33))
    ]
    analysis = analyse(relu + leaky)
    group = analysis.groups[0]
    assert group.collapsed == [False, False, True]
    assert group.stat("fd")[:2] == (pytest.approx(21.0), pytest.approx(math.sqrt(2)))
    assert math.isnan(group.values("fd_auc")[2]) and math.isnan(group.values("fd_best")[2])
    assert group.stat("score")[2] == 3  # the score keeps every run
    table = "\n".join(results_table(analysis.groups))
    assert "| relu | 3 | n=2 of 3, 1 collapsed | 21.0 ± 1.4 | 24.5 ± 1.6 (epoch 6, 6) |" in table
    tests = {c.measure.key: c.test for c in analysis.comparisons}
    assert (tests["fd"].n_a, tests["fd"].n_b, tests["score"].n_a) == (2, 3, 3)
    assert tests["fd"].diff == pytest.approx(31.333 - 21.0, abs=1e-3)  # not 147.3 - 31.3


# --- Reading ----------------------------------------------------------------------------


def study_runs(relu_dead, leaky_dead, relu_fd, leaky_fd, score=8.0) -> list[RunResult]:
    return [
        run(a, alpha, seed=s, metrics=rows(dead=dead, fd=fd), fin=final(fd, score))
        for a, alpha, deads, fds in (
            ("relu", 0.0, relu_dead, relu_fd),
            ("leaky_relu", 0.2, leaky_dead, leaky_fd),
        )
        for s, (dead, fd) in enumerate(zip(deads, fds, strict=True))
    ]


def test_reading_claims_only_what_holds_after_holm():
    analysis = analyse(
        study_runs([0.40, 0.41, 0.42], [0.01, 0.02, 0.03], [20.0, 25.0, 30.0], [21.0, 24.0, 29.0])
    )
    dead = next(c for c in analysis.comparisons if c.measure.key == "dead_channels_2")
    fd = next(c for c in analysis.comparisons if c.measure.key == "fd")
    assert dead.holds and dead.p_holm == pytest.approx(dead.test.p * analysis.family)
    assert not fd.holds and fd.p_holm >= fd.test.p
    text = " ".join(reading(analysis))
    assert "lower dead channels L2 (mean over epochs) than relu by 39.0 pp" in text
    assert "final FD than relu" not in text
    assert "comparisons do not hold after correction" in text


def test_mechanism_within_each_setting_as_well_as_pooled():
    # Simpson's paradox: the stressed setting has more dead channels *and* more gradient
    # than the tutorial's, but within each setting more dead channels mean less gradient.
    runs = [
        run("leaky_relu", 0.1 * (i + 1), setting, seed=0, metrics=rows(dead=dead, grad=grad))
        for setting, base_dead, base_grad in (("tutorial", 0.0, 0.3), ("stressed", 0.2, 3.0))
        for i, (dead, grad) in enumerate(
            (base_dead + 0.01 * k, base_grad - 0.02 * k) for k in range(8)
        )
    ]
    analysis = analyse(runs)
    spearman = analysis.correlations[1]
    assert spearman.n == 16 and spearman.r > 0.5
    assert set(analysis.within) == {"tutorial", "stressed"}
    for within_pearson, within_spearman in analysis.within.values():
        assert within_spearman.n == 8 and within_spearman.r == pytest.approx(-1.0)
        assert within_pearson.r == pytest.approx(-1.0)
        assert within_spearman.p_holm >= within_spearman.p
    # Holm ran over the pooled and the within-setting correlations (no comparisons here).
    assert analysis.family == 6
    text = " ".join(reading(analysis))
    within = "Mechanism, within stressed: runs whose D had more dead layer-2 channels passed less"
    assert within in text
    assert "Mechanism, all settings pooled:" in text
    assert "Within tutorial alone (8 runs): Pearson r = -1.00" in mechanism_line(analysis)
    assert "Pooled over settings it mixes" in limits(analysis)[4]
    # One setting: no separate within-setting figures, and nothing pooled.
    assert analyse(runs[:8]).within == {}
    assert "Pooled" not in limits(analyse(runs[:8]))[4]
    # The scatter's log axis reads 0.3, 0.5, 1, 2, not powers of ten.
    ticks = [plain_tick(v) for v in (0.3, 0.4, 0.5, 1.0, 20.0)]
    assert ticks == ["0.3", "", "0.5", "1", "20"]


def test_mechanism_reading_names_the_correlation_that_holds():
    # Pearson holds and Spearman does not: the reading says which, with both Holm p-values.
    pearson = Correlation("Pearson", 15, r=-0.77, low=-0.89, high=-0.66, p=0.0004, p_holm=0.016)
    spearman = Correlation("Spearman", 15, r=-0.75, low=-0.9, high=-0.37, p=0.002, p_holm=0.091)
    text = mechanism_bullet((pearson, spearman), "within stressed")
    assert "passed less gradient to G (Pearson r = -0.77, Holm p 0.016 holds" in text
    assert f"Spearman {RHO} = -0.75, Holm p 0.091 does not" in text
    both = mechanism_bullet((pearson, dataclasses.replace(spearman, p_holm=0.03)))
    assert f"Pearson r = -0.77, Holm p 0.016 and Spearman {RHO} = -0.75, Holm p 0.030 hold" in both
    assert "does not" not in both


def test_slope_of_final_fd_against_alpha_per_setting():
    variants = [("relu", 0.0), *(("leaky_relu", a) for a in (0.01, 0.1, 0.2, 0.3))]
    runs = [
        run(activation, alpha, setting, seed=s, fin=final(fd=30 + 100 * alpha + s + sign * s))
        for setting, sign in (("tutorial", 1), ("stressed", -1))
        for activation, alpha in variants
        for s in range(3)
    ]
    collapsed = run("leaky_relu", 0.3, "stressed", seed=3, fin=final(fd=1.0, score=1.0))
    analysis = analyse([*runs, collapsed])
    tutorial, stressed = analysis.slopes["tutorial"], analysis.slopes["stressed"]
    assert tutorial.n == 15 and stressed.n == 15  # the collapsed run has no FD
    assert tutorial.r > 0.9 and tutorial.holds and tutorial.p_holm >= tutorial.p
    text = " ".join(reading(analysis))
    assert "tutorial: the larger alpha, the higher (worse) the final FD" in text
    # One alpha only: no slope to speak of.
    flat = analyse([r for r in runs if r.variant == Variant("relu")])
    assert math.isnan(flat.slopes["tutorial"].r)
    assert "the trend of final FD with alpha cannot be assessed" in " ".join(reading(flat))


def test_reading_says_the_budget_decides_nothing():
    overlap = study_runs([0.1, 0.3, 0.2], [0.2, 0.1, 0.3], [20, 30, 25], [22, 28, 26])
    bullets = reading(analyse(overlap))
    assert any(f"no difference between a LeakyReLU variant and relu {HOLDS}" in b for b in bullets)
    assert f"Nothing {HOLDS}: {DECIDES_NOTHING} in this study." in bullets
    collapsed = study_runs([0.1, 0.3, 0.2], [0.2, 0.1, 0.3], [20, 30, 25], [22, 28, 26], 1.0)
    text = " ".join(reading(analyse(collapsed)))
    assert f"every evaluated run collapsed (6 of 6), so {DECIDES_NOTHING}" in text
    one_seed = reading(analyse(study_runs([0.4], [0.0], [20.0], [21.0])))
    assert any(f"5 {NOT_TESTABLE}" in b for b in one_seed)


# --- The descriptive reading: dying, gradient, quality, snapshots, relapses ------------------


def course_runs(setting, activation, alpha, per_seed, key="dead_channels_2", **kw):
    """Runs of one variant whose `key` follows, epoch by epoch, each seed's list."""
    out = []
    for seed, values in enumerate(per_seed):
        metrics = rows(epochs=len(values), **kw)
        for row, value in zip(metrics, values, strict=True):
            row[key] = value
        out.append(run(activation, alpha, setting, seed, metrics=metrics, fin=final()))
    return out


def test_dead_channels_that_fall_away_read_as_early_and_transient():
    relu = course_runs(
        "stressed",
        "relu",
        0.0,
        [[0.10, 0.08, 0.05, 0.03, 0.02, 0.01], [0.14, 0.10, 0.06, 0.04, 0.03, 0.03]],
    )
    leaky = course_runs("stressed", "leaky_relu", 0.2, [[0.0] * 6, [0.0] * 6])
    text = dying_bullet("stressed", group_runs([*relu, *leaky]))
    assert "relu 12.0% at epoch 1, 2.0% at epoch 6" in text
    assert "Run by run, relu had 10.0%, 14.0% at epoch 1 and 1.0%, 3.0% at epoch 6" in text
    assert "an early, passing phase, not a lasting loss" in text and "(dead.png)" in text
    assert f"None at any probe: leaky_relu {ALPHA}=0.2." in text
    # Dead channels that stay: said so, and no word of a passing phase.
    lasting = course_runs("stressed", "relu", 0.0, [[0.02, 0.05, 0.08, 0.1, 0.1, 0.1]])
    text = dying_bullet("stressed", group_runs(lasting))
    assert "they lasted" in text and "passing" not in text
    quiet = dying_bullet("paper", group_runs(leaky))
    assert quiet.startswith("paper: no D had a dead layer-2 channel at any probe (dead.png")


def test_the_variant_with_most_dead_channels_is_ranked_on_final_fd_not_assumed_worse():
    def variant(activation, alpha, dead, fd):
        return [
            run(activation, alpha, "stressed", s, metrics=rows(dead=dead), fin=final(fd + s))
            for s in range(3)
        ]

    groups = group_runs([*variant("relu", 0, 0.05, 60), *variant("leaky_relu", 0.3, 0.0, 100)])
    text = dead_cost_bullet("stressed", groups)
    assert "relu, the variant with the most dead layer-2 channels (5.0% ± 0.0% mean" in text
    assert "ended 1st of 2 on mean final FD (61.0; the others 101; results table)" in text
    assert "show no cost in sample quality from its dead channels" in text
    worse = group_runs([*variant("relu", 0, 0.05, 120), *variant("leaky_relu", 0.3, 0.0, 100)])
    assert "the worst; whether its dead channels caused that is not tested" in dead_cost_bullet(
        "stressed", worse
    )
    level = group_runs([*variant("relu", 0, 0.05, 100), *variant("leaky_relu", 0.3, 0.0, 100)])
    assert f"level with leaky_relu {ALPHA}=0.3: these runs show no cost" in dead_cost_bullet(
        "stressed", level
    )
    # No variant with more than almost no dead channels: nothing to rank.
    assert dead_cost_bullet("stressed", group_runs(variant("relu", 0, 0.001, 60))) is None


def gradient_runs(setting, grads_by_alpha, dead_by_alpha):
    return [
        run(
            "relu" if alpha == 0 else "leaky_relu",
            alpha,
            setting,
            seed,
            metrics=rows(dead=dead_by_alpha[alpha], grad=grad + 0.01 * seed),
            fin=final(),
        )
        for alpha, grad in grads_by_alpha.items()
        for seed in range(3)
    ]


def test_gradient_reading_follows_the_data_in_each_setting():
    # paper: no dead channel anywhere, less gradient as alpha grows; stressed: relu has dead
    # channels, and among the variants with none the gradient still rises with alpha.
    paper = gradient_runs(
        "paper", {0: 0.34, 0.1: 0.32, 0.2: 0.30, 0.3: 0.28}, dict.fromkeys((0, 0.1, 0.2, 0.3), 0.0)
    )
    stressed = gradient_runs(
        "stressed",
        {0: 2.1, 0.1: 2.9, 0.2: 3.5, 0.3: 3.9},
        {0: 0.05, 0.1: 0.002, 0.2: 0.0, 0.3: 0.0},
    )
    analysis = analyse([*paper, *stressed])
    groups = {s: [g for g in analysis.groups if g.setting == s] for s in analysis.settings}
    text = gradient_bullet(
        "paper", groups["paper"], analysis.trends["paper", "gen_image_grad_norm"]
    )
    assert "(grad.png; results table): relu 0.350" in text
    assert f"leaky_relu {ALPHA}=0.3 passed 0.83 times relu's" in text
    assert "a larger alpha went with less gradient here" in text
    assert "No D at this setting had a dead layer-2 channel at any probe (dead.png)" in text
    text = gradient_bullet(
        "stressed", groups["stressed"], analysis.trends["stressed", "gen_image_grad_norm"]
    )
    assert "a larger alpha went with more gradient here" in text
    assert f"almost no dead channels (at most 0.5% mean over epochs: leaky_relu {ALPHA}=0.1" in text
    assert "still rose from 2.91 to 3.91 as alpha grew: dead channels do not account" in text
    direction = gradient_direction_bullet(analysis)
    assert "it fell as alpha grew at paper" in direction and "rose at stressed" in direction
    bullets = reading(analysis)
    assert direction in bullets and text in bullets
    assert settings_bullet(analysis) is None  # the two differ in the learning rate only


def test_settings_that_differ_in_two_optimiser_values_are_named():
    base = study_runs([0.1] * 2, [0.1] * 2, [20, 21], [22, 23])
    paper = [dataclasses.replace(r, setting="paper", lr=2e-4, beta1=0.5) for r in base]
    stressed = [dataclasses.replace(r, setting="stressed", lr=1e-3) for r in base]  # β1 0.9
    assert settings_bullet(analyse([*paper, *stressed])) == (
        "The settings paper and stressed differ in both the learning rate (0.0002 against "
        "0.001) and β1 (0.5 against 0.9): a difference between such settings cannot be put "
        "down to either value alone."
    )
    # Only the learning rate differs, or one setting: nothing to say.
    same_beta = [dataclasses.replace(r, beta1=0.9) for r in paper]
    assert settings_bullet(analyse([*same_beta, *stressed])) is None
    assert settings_bullet(analyse(paper)) is None


def test_mechanism_centred_within_variants_tells_between_from_within():
    rng = np.random.default_rng(0)
    # Variants differ in both measures (more dead, less gradient), but within a variant the
    # two are unrelated: the association is between variants only.
    runs = []
    for i, alpha in enumerate((0.0, 0.1, 0.2, 0.3)):
        for seed in range(4):
            dead = 0.08 - 0.02 * i + 0.005 * rng.standard_normal()
            grad = 2.0 + 0.5 * i + 0.05 * rng.standard_normal()
            act = "relu" if alpha == 0 else "leaky_relu"
            runs.append(run(act, alpha, "stressed", seed, metrics=rows(dead=dead, grad=grad)))
    analysis = analyse(runs)
    pearson, _ = analysis.centred["stressed"]
    assert pearson.n == 16 and math.isnan(pearson.p_holm)  # outside the Holm family
    assert analysis.correlations[0].r < -0.9 and abs(pearson.r) < 0.6
    text = mechanism_bullet(analysis.correlations, "", analysis.centred["stressed"])
    assert "the association is between variants, not between runs (mechanism.png" in text
    # The centred correlations stay out of Holm's family.
    tested = sum(math.isfinite(c.test.p) for c in analysis.comparisons)
    assert analysis.family == tested + sum(math.isfinite(c.p) for c in analysis.correlation_tests)
    assert all(math.isnan(c.p_holm) for c in analysis.centred["stressed"])
    # Within each variant too: then the reading says so.
    linked = [
        dataclasses.replace(
            r, metrics=rows(dead=0.08 - 0.02 * i + 0.01 * s, grad=2.0 + 0.5 * i - 0.1 * s)
        )
        for r, (i, s) in zip(runs, [(i, s) for i in range(4) for s in range(4)], strict=True)
    ]
    both = analyse(linked)
    assert both.centred["stressed"][0].r == pytest.approx(-1.0)
    text = mechanism_bullet(both.correlations, "", both.centred["stressed"])
    assert "runs of one variant with more dead channels also passed less gradient" in text
    # No spread within any variant in the dead channels: cannot be assessed.
    flat = analyse(study_runs([0.0] * 3, [0.0] * 3, [20, 21, 22], [23, 24, 25]))
    assert math.isnan(flat.centred["tutorial"][0].r)


def test_recall_and_precision_say_what_a_worse_fd_is_made_of():
    runs = []
    for i, alpha in enumerate((0.0, 0.1, 0.2, 0.3)):
        for seed in range(3):
            fin = final(fd=50 + 20 * i + seed, recall=0.6 - 0.08 * i + 0.01 * seed)
            fin["generator"]["precision"] = 0.55 + 0.03 * ((i + seed) % 3 - 1)
            act = "relu" if alpha == 0 else "leaky_relu"
            runs.append(run(act, alpha, "stressed", seed, metrics=rows(), fin=fin))
    analysis = analyse(runs)
    text = quality_bullet("stressed", analysis)
    assert "(results table; descriptive, not in the Holm family)" in text
    assert "recall fell as alpha grew (Spearman" in text
    assert "precision shows no clear trend with alpha" in text
    assert "less varied samples rather than worse or better drawn ones" in text


def test_snapshot_bullet_gives_the_last_step_of_fd():
    def fds(last):
        metrics = rows(epochs=4)
        for row, fd in zip(metrics, (NAN, 60.0, NAN, last), strict=True):
            row["fd"] = fd
        return metrics

    runs = [
        run("relu", 0, "paper", 0, metrics=fds(80.0), fin=final(fd=79.0)),
        run("relu", 0, "paper", 1, metrics=fds(55.0), fin=final(fd=54.0)),
        run("relu", 0, "paper", 2, metrics=fds(58.0), fin=final(fd=57.0)),
    ]
    text = snapshot_bullet("paper", group_runs(runs))
    assert "the final FD is one snapshot of a moving curve (fd.png)" in text
    assert (
        "FD moved by a median of 5.00, up by as much as 20.0 (relu, seed 0: 60.0 at epoch 2" in text
    )
    assert "down by as much as 5.00 (relu, seed 1: 60.0 at epoch 2, 55.0 at epoch 4)" in text
    assert "sd of final FD over seeds is 13.7 here (results table)" in text
    assert "Mean FD over training spreads less over seeds (sd 6.83)" in text


def test_per_epoch_collapse_flags_find_relapses_not_the_start():
    scores = (1.0, 4.0, 1.5, 6.0, NAN, 7.0)  # flagged at the start, passes, relapses, passes
    metrics = rows(epochs=6)
    for row, score in zip(metrics, scores, strict=True):
        row["score"], row["recall"] = score, NAN if math.isnan(score) else 0.5
        row["fd"] = NAN if math.isnan(score) else 300 / score
    relapsing = run("relu", 0, "paper", 0, metrics=metrics, fin=final())
    np.testing.assert_array_equal(collapse_flags(relapsing), [1, 0, 1, 0, NAN, 0])
    assert flagged_at_start(relapsing) == 1.0
    (relapse,) = relapses(relapsing)
    assert (relapse.epoch, relapse.score, relapse.back) == (3.0, 1.5, 4.0)
    steady = run("relu", 0, "paper", 1, metrics=rows(epochs=6), fin=final())
    assert relapses(steady) == [] and flagged_at_start(steady) == 0.0
    never = [{**row, "score": 1.0} for row in rows(epochs=4)]
    assert math.isnan(flagged_at_start(run(metrics=never))) and relapses(run(metrics=never)) == []
    analysis = analyse([relapsing, steady])
    assert len(analysis.groups) == 1
    assert "| paper | relu | 2 | 0 | 2 | 0 of 2 (0%) | 1 of 2 (seed 0: epoch 3) |" in "\n".join(
        collapse_table(analysis.groups)
    )
    section = "\n".join(relapse_section(analysis.groups))
    assert "At the start, 1 of 2 evaluated runs met the collapse rule" in section
    assert "| paper | relu | 0 | 3 | 1.50 | 0.500 | 200 | epoch 4 |" in section
    text = relapse_bullet(analysis)
    assert "1 of 2 runs met the collapse rule again after having passed it" in text
    assert "paper relu seed 0 at epoch 3 (score 1.50" in text and "crosses in fd.png" in text
    assert "do not show the 1 that had recovered by then" in text
    assert "No run met the collapse rule again" in relapse_bullet(analyse([steady]))


def test_power_line_gives_the_t_that_holm_first_step_needs():
    runs = study_runs([0.1, 0.3, 0.2], [0.2, 0.1, 0.3], [20, 30, 25], [22, 28, 26])
    analysis = analyse(runs)
    bar = analysis.first_step()
    tested = [c.test for c in analysis.comparisons if math.isfinite(c.test.p)]
    assert bar.family == analysis.family and bar.threshold == pytest.approx(0.05 / analysis.family)
    assert bar.df_low == pytest.approx(min(t.df for t in tested))
    expected = scipy_stats.t.isf(0.05 / analysis.family / 2, bar.df_low)
    assert bar.t_high == pytest.approx(expected) and bar.t_high >= bar.t_low > 2
    # A t at the bar gives exactly the first step's p.
    assert 2 * scipy_stats.t.sf(bar.t_high, bar.df_low) == pytest.approx(bar.threshold)
    line = power_line(analysis)
    assert line.startswith("What could hold: with 3 runs on a side, the Welch tests here have")
    assert f"at most 0.05/{analysis.family} = {bar.threshold:.4f}" in line
    assert "it is not evidence that the variants are alike" in line
    bullets = reading(analysis)
    assert any("only a very large difference could have held" in b for b in bullets)
    assert power_line(analyse(study_runs([0.4], [0.0], [20.0], [21.0]))) == ""  # none tested
    assert bar.very_large and limits(analysis)[3].endswith(": few seeds give wide intervals.")
    # 21 runs a side: the bar is a moderate difference, and the text says that instead.
    many = analyse(
        study_runs([0.1, 0.3, 0.2] * 7, [0.2, 0.1, 0.3] * 7, [20, 30, 25] * 7, [22, 28, 26] * 7)
    )
    wide = many.first_step()
    assert wide.n_high == 21 and wide.effect == pytest.approx(wide.t_low * math.sqrt(2 / 21))
    assert not wide.very_large
    line = power_line(many)
    assert f"at least about {wide.effect:.1f} pooled standard deviations" in line
    assert "very large" not in line + " ".join(reading(many))
    assert limits(many)[3] == (
        "A difference that does not hold after correction is not shown to be absent."
    )


def test_fd_headers_and_best_fd_note_name_their_sample_sizes():
    runs = []
    for seed, (best, last) in enumerate(((30.0, 35.0), (30.0, 25.0))):
        metrics = [{**row, "fd": best} for row in rows(epochs=2)]
        fin = {**final(fd=last), "n": 10000}
        runs.append(run(seed=seed, metrics=metrics, fin=fin, eval_n=2000))
    groups = group_runs(runs)
    header = results_table(groups)[0]
    assert "| final FD, N = 10,000 | best FD during training, N = 2,000 (epoch) |" in header
    note = best_fd_note(groups)
    assert "on 2,000 samples against 10,000" in note
    assert "in 1 of 2 runs the best FD during training is above the final FD" in note
    # Without an eval_n (a config.json to read it from) or a final sample count, no sample
    # size is claimed.
    bare = results_table(group_runs([run(metrics=rows(), fin={**final(), "n": None})]))[0]
    assert "| final FD | best FD during training (epoch) |" in bare


def test_pilots_say_which_classifier_scored_them_and_how_their_classes_share_out():
    def judged(digest, histogram=None):
        fin = final()
        fin["classifier"] = {"test_accuracy": 0.992 if digest is None else 0.9918}
        if digest:
            fin["classifier"]["weights_sha256"] = digest
        if histogram:
            fin["generator"]["histogram"] = histogram
            fin["reference"]["histogram"] = [100] * 10
        return fin

    grid = [run(seed=s, metrics=rows(), fin=judged("ab" * 32)) for s in range(2)]
    lopsided = [30, 3, 100, 333, 14, 133, 29, 75, 35, 248]
    pilot = run("leaky_relu", 0.3, metrics=rows(), fin=judged(None, lopsided))
    bare = run("relu", 0, metrics=rows())
    note = pilot_classifier_note([pilot, bare], grid)
    assert (
        "the grid's runs were all scored by one copy (test accuracy 99.18%, weights ababab" in note
    )
    assert f"leaky_relu {ALPHA}=0.3 at batch 8: test accuracy 99.20%, no weights digest" in note
    assert "relu at batch 8: not recorded (no final evaluation)" in note
    assert pilot_classifier_note([grid[0]], grid) == ""  # scored by the grid's own copy
    balance = class_balance(pilot)
    assert "from 0.3% of the samples (class 1) to 33.3% (class 3)" in balance
    assert "real test images range from 10.0% to 10.0%" in balance
    assert "does not look at how the samples share out over the classes" in balance
    assert class_balance(bare) == ""
    section = "\n".join(pilot_section([pilot], grid))
    assert balance in section and "no weights digest" in section


def test_curves_use_ddof_1_and_all_zero_panels_are_left_out():
    runs = [run(seed=s, metrics=rows(dead=d)) for s, d in enumerate((0.1, 0.3))]
    epochs_, values = course(runs, "dead_channels_2")
    mean, sd = mean_sd(values)
    assert list(epochs_) == list(range(1, EPOCHS + 1))
    assert mean[0] == pytest.approx(0.2) and sd[0] == pytest.approx(np.std([0.1, 0.3], ddof=1))
    assert math.isnan(mean_sd(course(runs[:1], "dead_channels_2")[1])[1][0])  # one run: no band
    # The figure draws those: a line per variant, in percent, with its band.
    analysis = analyse(runs)
    dead = [c for c in CURVE_COLUMNS if c.plot == "dead.png"]
    ((group, x, drawn, band),) = panels(analysis, dead)["dead_channels_2", "tutorial"]
    assert group.label == "relu" and list(x) == list(epochs_)
    np.testing.assert_allclose(drawn, 100 * mean)
    np.testing.assert_allclose(band, 100 * sd)
    # Layer 1 is all zero at both settings, layer 2 at one: one panel is left to draw.
    quiet = [{**row, "dead_channels_1": 0.0} for row in rows(dead=0.0)]
    loud = [{**row, "dead_channels_1": 0.0} for row in rows(dead=0.2)]
    analysis = analyse([run(setting="paper", metrics=quiet), run(setting="stressed", metrics=loud)])
    rows_, settings, notes = kept_panels(analysis, dead, panels(analysis, dead))
    assert [c.key for c in rows_] == ["dead_channels_2"] and settings == ["stressed"]
    assert notes == ["dead channels, layer 1 (paper, stressed)", "dead channels, layer 2 (paper)"]
    # All zero everywhere: every panel stays, rather than an empty figure.
    flat = analyse([run(setting="paper", metrics=quiet)])
    assert kept_panels(flat, dead, panels(flat, dead))[2] == []


# --- Frames -----------------------------------------------------------------------------


def test_readable_frames_undo_the_grid_scale_and_skip_unreadable(tmp_path):
    images = make_images(4, seed=1)
    save_image_grid(images, tmp_path / frame_name(1))
    (tmp_path / frame_name(2)).write_bytes(b"not a png")
    (tmp_path / "image_at_epoch_0003 copy.png").write_bytes(b"not a frame")
    with pytest.warns(UserWarning, match=f"unreadable progress images skipped: {frame_name(2)}"):
        frames, note = readable_frames(run(run_dir=tmp_path))
    assert list(frames) == [1] and note == f"unreadable {frame_name(2)}"
    np.testing.assert_array_equal(frames[1], image_grid(images))


# --- write_report -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """2 settings x (relu, leaky 0.1, leaky 0.2) x 3 seeds, 6 epochs; frames for seed 0.

    At "stressed", relu seed 1 collapsed and leaky 0.2 seed 2 diverged; leaky 0.1 seed 2 at
    "tutorial" has no metrics; relu seed 0 at "tutorial" has an unreadable epoch-3 frame.
    """
    root = tmp_path_factory.mktemp("study")
    pool = [make_images(4, seed=e) for e in range(1, EPOCHS + 1)]
    runs = []
    for setting in ("tutorial", "stressed"):
        for i, (activation, alpha) in enumerate(
            (("relu", 0), ("leaky_relu", 0.1), ("leaky_relu", 0.2))
        ):
            for seed in (0, 1, 2):
                run_dir = root / f"{setting}_{activation}_{alpha}_{seed}"
                run_dir.mkdir()
                if seed == 0:
                    for epoch, images in enumerate(pool, start=1):
                        save_image_grid(images, run_dir / frame_name(epoch))
                dead, fd = 0.4 - 0.15 * i + 0.01 * seed, 30.0 + i + seed
                collapsed = (setting, activation, seed) == ("stressed", "relu", 1)
                score = 1.0 if collapsed else 6.0 if alpha == 0.1 else 7.5
                metrics = rows(dead=dead, grad=1.0 - dead, fd=fd, score=score)
                diverged = (setting, alpha, seed) == ("stressed", 0.2, 2)
                empty = (setting, alpha, seed) == ("tutorial", 0.1, 2)
                runs.append(
                    run(
                        activation,
                        alpha,
                        setting,
                        seed,
                        metrics=[] if empty else metrics[: 3 if diverged else EPOCHS],
                        fin={} if diverged else final(fd, score),
                        run_dir=run_dir,
                        diverged=diverged,
                    )
                )
    (root / "tutorial_relu_0_0" / frame_name(3)).write_bytes(b"\x89PNG broken")
    with pytest.warns(UserWarning, match=f"unreadable progress images skipped: {frame_name(3)}"):
        report = write_report(runs, root / "report", "6 epochs of 10 steps, batch 8, 3 seeds.")
    return report, runs


def test_report_writes_every_file(study):
    report, _ = study
    assert report.name == REPORT_NAME
    assert set(PLOT_NAMES) == {
        "fd.png", "dead.png", "grad.png", "losses.png", "mechanism.png", "samples.png"
    }  # fmt: skip
    text = report.read_text()
    for name in (*PLOT_NAMES, PROGRESS_GIF_NAME):
        assert (report.parent / name).stat().st_size > 0
        assert f"]({name})" in text
    for name in PLOT_NAMES:
        image = iio.imread(report.parent / name)
        channels = 2 if name == "samples.png" else 3  # the samples' sheet is stored grey
        assert image.ndim == channels and min(image.shape[:2]) > 200 and image.std() > 5, name


def test_report_has_the_statistics_table(study):
    text = study[0].read_text()
    assert "6 epochs of 10 steps, batch 8, 3 seeds." in text
    assert "Welch" in text and "Holm" in text and "score < 2 or its final recall < 0.01" in text
    table = [line for line in text.split("## Statistics")[1].splitlines() if line.startswith("|")]
    assert table[0].startswith("| setting | measure | comparison | n (relu, variant) |")
    assert table[0].rstrip(" |").endswith(HOLDS)
    assert len(table) == 2 + 2 * 2 * 5  # 2 settings x 2 leaky variants x 5 measures
    # The collapsed relu run is out of stressed FD (n=2), the diverged leaky one of all.
    assert f"| stressed | final FD | leaky_relu {ALPHA}=0.2 vs relu | 2, 2 |" in text
    assert f"| stressed | final score | leaky_relu {ALPHA}=0.2 vs relu | 3, 2 |" in text
    dead = next(line for line in table if "tutorial | dead channels" in line and "0.2 vs" in line)
    assert dead.endswith("| yes |")  # 0.40-0.42 against 0.10-0.12, tight
    assert "Mechanism: across 16 runs" in text and "Spearman \u03c1 = -1.00" in text


def test_report_tables_say_what_is_collapsed_diverged_and_missing(study):
    text = study[0].read_text()
    assert "| stressed | relu | 3 | 0 | 3 | 1 of 3 (33%) |" in text
    assert f"| stressed | leaky_relu {ALPHA}=0.2 | 3 | 1 | 2 | 0 of 2 (0%) |" in text
    assert "n=2 of 3, 1 collapsed" in text
    assert "(max over 6 per-epoch probes)" in text
    assert f"| stressed | relu | 2 of 3 reached: median {2 * 10 * BATCH} images, 4.00 s |" in text
    slow = f"| stressed | leaky_relu {ALPHA}=0.1 | 3 of 3 reached: median 160 images, 4.00 s |"
    assert f"{slow} {NOT_REACHED} (0 of 3) |" in text  # scores 6: reaches 5, not 7
    assert f"- leaky_relu {ALPHA}=0.2, stressed, seed 2" in text.split("## Diverged runs")[1]
    missing = text.split("## Missing data")[1]
    assert f"leaky_relu {ALPHA}=0.1, tutorial, seed 2: no metrics rows" in missing
    assert f"relu, tutorial, seed 0: unreadable {frame_name(3)}." in missing
    assert "Real training images against real test images (n = 2000 images)" in text


def test_reference_says_when_runs_were_judged_by_different_classifiers():
    def judged(accuracy, ref_fd, digest=None):
        fin = final()
        fin["classifier"] = {"test_accuracy": accuracy, "fingerprint": "same data"}
        if digest:
            fin["classifier"]["weights_sha256"] = digest
        fin["reference"] = {**fin["reference"], "fd": ref_fd}
        return fin

    one = [run(seed=s, fin=judged(0.992, 0.9)) for s in range(3)]
    assert "classifier" not in reference(one)  # one classifier: nothing to say
    note = reference([*one, run(seed=3, fin=judged(0.9918, 1.1))])
    assert "judged by 2 separately trained copies of the classifier" in note
    assert "test accuracy 99.20% (3 run(s), real-data FD 0.900)" in note
    assert "test accuracy 99.18% (1 run(s), real-data FD 1.10)" in note
    # Two copies can score the same test accuracy: their weights tell them apart.
    same = [run(seed=s, fin=judged(0.992, 0.9, "ab" * 32)) for s in range(2)]
    assert "classifier" not in reference(same)
    twins = reference([*same, run(seed=2, fin=judged(0.992, 0.95, "cd" * 32))])
    assert "test accuracy 99.20%, weights abababab (2 run(s)" in twins
    assert "test accuracy 99.20%, weights cdcdcdcd (1 run(s), real-data FD 0.950)" in twins


def test_progress_gif_has_a_frame_per_epoch_at_twice_the_native_size(study):
    frames = iio.imread(study[0].parent / PROGRESS_GIF_NAME, index=None)
    assert frames.shape[0] == EPOCHS
    cell = image_grid(make_images(4)).shape  # the saved grid, GRID_SCALE undone
    assert GRID_SCALE > 1 and cell == (62, 62) and GIF_SCALE == 2
    side = [GIF_SCALE * c for c in cell]  # each grid pixel drawn 2 x 2
    assert 2 * side[0] < frames.shape[1] < 2 * side[0] + 60  # a row per setting
    assert 3 * side[1] < frames.shape[2] < 3 * side[1] + 40  # a column per variant
    # In GIF_LEVELS greys, black and white kept.
    assert len(np.unique(frames[..., 0])) <= GIF_LEVELS
    assert frames.min() == 0 and frames.max() == 255


def test_report_without_metrics_or_frames(tmp_path):
    runs = [run(a, 0.2, s, run_dir=tmp_path) for a in ("relu", "leaky_relu") for s in ("x", "y")]
    report = write_report(runs, tmp_path / "out", "nothing trained.")
    text = report.read_text()
    assert "no final evaluation" in text and "no metrics rows" in text
    assert "No run has progress images, so there is no progress.gif." in text
    assert "cannot be assessed" in text and f"Nothing {HOLDS}" in text
    assert not (report.parent / PROGRESS_GIF_NAME).exists()
    for name in PLOT_NAMES:  # readable, the samples' sheet grey and every other in colour
        assert iio.imread(report.parent / name).ndim == (2 if name == "samples.png" else 3)


def test_write_report_rejects_no_runs(tmp_path):
    with pytest.raises(ValueError, match="no runs"):
        write_report([], tmp_path, "")


def test_study_package_does_not_load_tensorflow():
    """The report, compare and the grid's definition load without TensorFlow: a report can
    be rebuilt from run folders on any machine."""
    code = (
        "import sys, gan_tf.study.report, gan_tf.study.compare, gan_tf.study.grid, "
        "gan_tf.cli.study, gan_tf.cli.compare; "
        "sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- Runs side by side ------------------------------------------------------------------


def test_comparison_of_two_runs(study, tmp_path):
    from gan_tf.study.compare import SIDE_BY_SIDE_GIF_NAME, SIDE_BY_SIDE_NAME, write_comparison

    _, runs = study
    pair = [
        r for r in runs if r.setting == "tutorial" and r.seed == 0 and r.variant.alpha in (0, 0.2)
    ]
    with pytest.warns(UserWarning, match="unreadable"):  # relu's epoch-3 frame
        path = write_comparison(pair, tmp_path / "cmp", every=2)
    out = path.parent
    cell = image_grid(make_images(4)).shape[1] * GRID_SCALE
    sheet = iio.imread(out / SIDE_BY_SIDE_NAME)
    assert 2 * cell < sheet.shape[1] < 2 * cell + 40 and sheet.shape[0] > cell
    gif = iio.imread(out / SIDE_BY_SIDE_GIF_NAME, index=None)
    assert gif.shape[0] == EPOCHS  # relu repeats epoch 2
    text = path.read_text()
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 3 * 2  # header, epochs 2, 4 and 6 for both runs
    # FD 32 x (1 + 1/6), dead 0.1 (L2) and 0.05 (L1), grad 1 - 0.1: the fixture's numbers
    leaky = f"| 6 | leaky_relu {ALPHA}=0.2 | 60 | {60 * BATCH} | 37.3 | 7.50 | 0.50 | 5.0% |"
    assert f"{leaky} 10.0% | 0.900 | 0.60 | 0.40 |" in text
    assert "- relu: unreadable image_at_epoch_0003.png; left out of the pictures." in text
    assert "score ≥ 5 first at 20 steps (160 images, 4.00 s of training)" in text
    # The library names settings by field; only the command layer spells flags.
    assert "on the run's eval_n samples" in text and not re.search(r"--[a-z]", text)
    for r in pair:  # the epoch's grid copied beside each run's files
        assert (out / r.run_dir.name / frame_name(EPOCHS)).is_file()
    with (
        pytest.raises(ValueError, match=r"no readable progress image of epoch 3 in: relu$"),
        pytest.warns(UserWarning, match="unreadable"),
    ):
        write_comparison(pair, tmp_path / "cmp3", epoch=3)


def test_compare_command_on_run_folders(tmp_path, capsys):
    from gan_tf.cli.compare import main
    from gan_tf.rundir import RunDir

    for activation in ("relu", "leaky_relu"):
        folder = RunDir(tmp_path / activation)
        folder.path.mkdir()
        folder.write_config(Config(activation=activation, batch_size=BATCH))
        folder.write_metrics(rows(epochs=2))
        for epoch in (1, 2):
            save_image_grid(make_images(4, seed=epoch), folder.frame(epoch))
    assert main([str(tmp_path / "relu"), str(tmp_path / "leaky_relu"), "--out-dir",
                 str(tmp_path / "out"), "--every", "1"]) == 0  # fmt: skip
    text = (tmp_path / "out" / "comparison.md").read_text()
    # The command layer hands in the run's command and its flag for a setting.
    assert "python -m gan_tf.train --activation relu --batch-size 8" in text
    assert "on the run's --eval-n samples" in text
    assert load_run(tmp_path / "relu").eval_n == Config().eval_n  # read from config.json
    assert (tmp_path / "out" / "relu" / "metrics.csv").read_text() == folder.metrics.read_text()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path / "relu"), str(tmp_path / "nope")])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().endswith("nope: no such run folder")


def test_pilot_summary_against_the_grid_budget():
    grid = [run("relu", setting="paper", metrics=rows(epochs=3))]  # 30 steps at batch 8
    rising = rows(epochs=6)
    for i, row in enumerate(rising):
        row["score"] = float(i) if row["epoch"] % 2 == 0 else NAN  # 1, 3, 5 at epochs 2, 4, 6
    pilots = [run("leaky_relu", 0.3, "tutorial", metrics=rising), run(metrics=rows())]
    pilots[1] = dataclasses.replace(pilots[1], batch_size=2 * BATCH)
    lines = pilot_summary(pilots, grid)
    assert lines[0].startswith("| run | setting | setting in the grid | batch | steps |")
    assert "score at the grid's 30 steps" in lines[0]
    assert lines[2] == (
        f"| leaky_relu {ALPHA}=0.3 | tutorial (lr 0.0001, β1 0.9) | no | 8 | 60 | "
        f"1.00 (at 20 steps) | 5.00 (at 60 steps) | 60 steps | {NOT_REACHED} |"
    )
    assert lines[3].startswith(
        "| relu | tutorial (lr 0.0001, β1 0.9) | no | 16 | 60 | n/a (batch 16) |"
    )


def test_reach_bullets_say_whether_digits_appear():
    def scored(score, epochs=EPOCHS):
        return rows(epochs=epochs, score=score)

    grid = [
        run("relu", setting="paper", seed=s, metrics=scored(8.0), fin=final(score=8.0))
        for s in (0, 1)
    ]
    grid += [run("leaky_relu", 0.2, "paper", seed=0, metrics=scored(6.0), fin=final(score=6.5))]
    pilots = [run("leaky_relu", 0.3, "tutorial", metrics=scored(6.0, epochs=8))]
    reached = dataclasses.replace(pilots[0], batch_size=2 * BATCH, metrics=scored(7.5))
    bullets = reach_bullets(analyse(grid), [*pilots, reached, grid[0]])
    assert bullets[0].startswith("paper (lr 0.0002, β1 0.9): the best variant by mean final")
    assert (
        "is relu (8.00 ± 0.00); 2 of its 2 runs reached score ≥ 7 during training, 2 of 3 "
        in (bullets[0])
    )
    assert bullets[1] == (
        "tutorial (lr 0.0001, β1 0.9) is not in the grid, whose runs stop at 60 steps; its "
        f"pilot and reference runs: leaky_relu {ALPHA}=0.3 at batch 8 did not reach score ≥ 7 "
        f"in its 80 steps; leaky_relu {ALPHA}=0.3 at batch 16 reached score ≥ 7 at 20 steps."
    )
    assert len(bullets) == 2  # a pilot of a setting in the grid adds nothing here
