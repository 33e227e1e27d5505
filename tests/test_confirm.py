"""Study v3's confirmatory analysis on synthetic runs: the late-FD endpoint, the primary family
against scipy, the power against the plan's table and a simulation, every branch of the
decision rule, the missing-data rule, the pre-registration check, and the command end to end
(the report rebuilt byte for byte)."""

from __future__ import annotations

import dataclasses
import math
import re
import shutil
import subprocess

import numpy as np
import pytest
from scipy import stats

from gan_tf.config import Config, Variant
from gan_tf.errors import UserError
from gan_tf.rundir import write_metrics
from gan_tf.study import confirm as c
from gan_tf.study import confirm_explore as e
from gan_tf.study.confirm_runs import (
    PLAN_BUDGET,
    LogEntry,
    Plan,
    V3Run,
    check_preregistration,
    load_runs,
    logged_hours,
    plan_commit,
    read_log,
    run_name,
)
from gan_tf.study.confirm_runs import Arm as ArmOf

from conftest import REPO

SEEDS = (10, 11, 12, 13, 14, 15)
# Late FD per seed (10..15) of the three primary arms: a synthetic table with spread.
RELU = [35.2, 30.1, 41.0, 33.3, 38.7, 29.9]
A02 = [38.0, 36.5, 40.2, 41.9, 44.1, 31.0]
A03 = [49.5, 44.0, 52.3, 47.7, 50.2, 46.1]
ALPHA = 0.05 / 3  # Holm's strictest level over the family of three
LATE_OFFSETS = (-3.0, 1.0, -1.0, 3.0)  # epochs 13..16 around the late FD: mean 0


def metric_rows(late: float, epochs: int = 16, score: float = 8.0) -> list[dict]:
    """metrics.csv rows whose last four FDs average `late`; earlier epochs far from it, so
    that averaging any of them would show."""
    rows = []
    for epoch in range(1, epochs + 1):
        fd = late + LATE_OFFSETS[epoch - 13] if epoch >= 13 else 90.0 + epoch
        rows.append(
            {
                "epoch": epoch,
                "fd": fd,
                "score": score,
                "recall": 0.5,
                "precision": 0.6,
                "covered": 10,
                "dead_channels_1": 0.0,
                "dead_channels_2": 0.1 if epoch == 1 else 0.25,
                "gen_image_grad_norm": 0.01 * epoch,
            }
        )
    return rows


def arm(alpha: float, dropout: float = 0.3, lr: float = 2e-4) -> ArmOf:
    variant = Variant("relu") if alpha == 0 else Variant("leaky_relu", alpha)
    return ArmOf(variant, dropout, lr)


def v3run(alpha, seed, late, epochs=16, diverged=False, **setting) -> V3Run:
    a = arm(alpha, **setting)
    return V3Run(f"{a.label}-{seed}", a, seed, tuple(metric_rows(late, epochs)), diverged)


def runs_of(relu=RELU, a02=A02, a03=A03, seeds=SEEDS) -> list[V3Run]:
    return [
        v3run(alpha, seed, values[i])
        for i, seed in enumerate(seeds)
        for alpha, values in ((0.0, relu), (0.2, a02), (0.3, a03))
    ]


def holm3(p: list[float]) -> list[float]:
    """Holm's adjusted p for three p-values, written out step by step."""
    order = sorted(range(3), key=lambda i: p[i])
    adjusted, running = [0.0] * 3, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (3 - rank) * p[i]))
        adjusted[i] = running
    return adjusted


# --- The endpoint -----------------------------------------------------------------------------


def test_late_fd_is_the_mean_of_the_last_four_of_sixteen():
    assert c.late_fd(metric_rows(40.0)) == pytest.approx(40.0)
    rows = metric_rows(40.0)
    rows[11]["fd"] = 1000.0  # epoch 12 is not late
    assert c.late_fd(rows) == pytest.approx(40.0)
    rows[12]["fd"] = 1000.0  # epoch 13 is
    assert c.late_fd(rows) == pytest.approx((1000 + 41 + 39 + 43) / 4)


def test_an_unfinished_run_has_no_late_fd():
    assert math.isnan(c.late_fd(metric_rows(40.0, epochs=15)))
    assert math.isnan(c.late_fd([r for r in metric_rows(40.0) if r["epoch"] != 7]))
    rows = metric_rows(40.0)
    rows[-1]["fd"] = float("nan")  # the last epoch was not evaluated
    assert math.isnan(c.late_fd(rows))


def test_late_fd_takes_the_last_quarter_of_the_evaluations():
    rows = metric_rows(40.0)
    for row in rows:
        if row["epoch"] % 2:  # evaluated every other epoch: 8 evaluations, the last 2 count
            row["fd"] = float("nan")
    assert c.late_fd(rows) == pytest.approx((41.0 + 43.0) / 2)


# --- The primary family against scipy ---------------------------------------------------------


def test_primary_family_matches_scipy():
    h1, h2, h3 = c.primary_family(runs_of())
    relu, a02, a03 = map(np.asarray, (RELU, A02, A03))
    for test, leaky in ((h1, a02), (h2, a03)):
        ref = stats.ttest_rel(leaky, relu)
        ci = ref.confidence_interval(0.95)
        d = leaky - relu
        assert test.seeds == SEEDS and test.n == 6
        assert test.estimate == pytest.approx(d.mean())
        assert test.p == pytest.approx(ref.pvalue, rel=1e-9)
        assert test.t == pytest.approx(ref.statistic)
        assert (test.low, test.high) == pytest.approx((ci.low, ci.high))
        assert test.dz == pytest.approx(d.mean() / d.std(ddof=1))
    arms = zip(relu, a02, a03, strict=True)
    slopes = [stats.linregress([0, 0.2, 0.3], [r, b, e]).slope for r, b, e in arms]
    ref = stats.ttest_1samp(slopes, 0.0)
    ci = ref.confidence_interval(0.95)
    assert h3.estimate == pytest.approx(np.mean(slopes))
    assert h3.p == pytest.approx(ref.pvalue, rel=1e-9)
    assert (h3.low, h3.high) == pytest.approx((ci.low, ci.high))
    assert math.isnan(h3.dz)
    expected = holm3([h1.p, h2.p, h3.p])
    assert [h1.p_holm, h2.p_holm, h3.p_holm] == pytest.approx(expected)


def test_holm_counts_the_whole_family_when_a_test_has_no_p():
    adjusted = c.holm_family([0.01, float("nan"), 0.02])
    assert adjusted[0] == pytest.approx(0.03) and adjusted[2] == pytest.approx(0.04)
    assert math.isnan(adjusted[1])


# --- The power of the design ------------------------------------------------------------------


def test_power_reproduces_the_plan():
    assert c.power(6, 14, 6.57, ALPHA) == pytest.approx(0.893, abs=5e-4)
    assert c.power(6, 12, 6.57, ALPHA) == pytest.approx(0.777, abs=5e-4)
    assert c.power(5, 14, 6.57, ALPHA) == pytest.approx(0.739, abs=5e-4)
    assert c.seeds_needed(14, 6.57, ALPHA) == 6
    # The plan's table. It was computed with the unrounded sd (about 6.567): at 6.57 the cell
    # (8, n = 5) is 0.2847, which rounds to 0.28 where the plan prints 0.29.
    table = {
        8: [0.17, 0.29, 0.41, 0.53, 0.63],
        10: [0.26, 0.44, 0.61, 0.74, 0.84],
        12: [0.37, 0.60, 0.78, 0.89, 0.95],
        14: [0.48, 0.74, 0.89, 0.96, 0.99],
    }
    for delta, row in table.items():
        for n, planned in zip(range(4, 9), row, strict=True):
            assert c.power(n, delta, 6.57, ALPHA) == pytest.approx(planned, abs=0.006)


def test_power_agrees_with_a_simulation_and_with_the_null():
    rng = np.random.default_rng(0)
    d = rng.normal(14, 6.57, size=(40_000, 6))
    t = d.mean(axis=1) / (d.std(axis=1, ddof=1) / math.sqrt(6))
    simulated = np.mean(2 * stats.t.sf(np.abs(t), 5) < ALPHA)  # standard error about 0.0015
    assert c.power(6, 14, 6.57, ALPHA) == pytest.approx(simulated, abs=0.01)
    assert c.power(6, 0, 6.57, ALPHA) == pytest.approx(ALPHA)  # no effect: the test's level
    assert math.isnan(c.power(1, 14, 6.57, ALPHA))
    with pytest.raises(ValueError):
        c.seeds_needed(0, 6.57, ALPHA, most=50)


# --- The decision rule ------------------------------------------------------------------------

BASE = [30.0, 32.0, 34.0, 36.0, 38.0, 40.0]


def family(d02, d03):
    """H1, H2, H3 of a table whose LeakyReLU arms differ from ReLU by `d02` and `d03`."""
    a02 = [b + d for b, d in zip(BASE, d02, strict=True)]
    a03 = [b + d for b, d in zip(BASE, d03, strict=True)]
    return c.primary_family(runs_of(BASE, a02, a03))


@pytest.mark.parametrize(
    ("differences", "reading"),
    [
        ([20, 22, 18, 21, 19, 20], c.RELU_BETTER),
        ([-20, -22, -18, -21, -19, -20], c.LEAKY_BETTER),
        ([0.5, -0.4, 0.2, -0.1, 0.3, -0.2], c.NO_DIFFERENCE),
        ([10, -8, 25, -15, 30, 2], c.UNDECIDED),
    ],
)
def test_each_reading_of_h1_and_h2(differences, reading):
    h1, h2, _ = family(differences, differences)
    assert h1.reading == h2.reading == reading


def test_holm_decides_not_the_raw_p():
    # H1 alone would pass at 0.05; Holm over three does not let it, and its interval lies
    # inside (-14, 14).
    d02 = [5.0, 1.0, 9.0, 3.0, 8.0, 0.0]
    h1, _, _ = family(d02, [0.5, -0.4, 0.2, -0.1, 0.3, -0.2])
    assert h1.p < 0.05 <= h1.p_holm and h1.low > 0
    assert h1.reading == c.NO_DIFFERENCE


def test_the_rule_at_its_edges():
    test = c.Test("H1", "", SEEDS, estimate=5, low=1, high=9, p=0.01, p_holm=0.049)
    assert c.decide(test) == c.RELU_BETTER
    assert c.decide(dataclasses.replace(test, p_holm=0.05)) == c.NO_DIFFERENCE
    assert c.decide(dataclasses.replace(test, p_holm=0.05, high=14.0)) == c.UNDECIDED
    assert c.decide(dataclasses.replace(test, p_holm=float("nan"), low=-13.9)) == c.NO_DIFFERENCE
    assert c.decide(c.Test("H1", "", ())) == c.UNDECIDED  # nothing to test


def test_each_reading_of_h3():
    rises = family([10, 11, 9, 10, 12, 10], [15, 16, 14, 15, 17, 15])[2]
    falls = family([-10, -11, -9, -10, -12, -10], [-15, -16, -14, -15, -17, -15])[2]
    flat = family([10, -8, 25, -15, 30, 2], [-5, 12, -20, 8, -3, 1])[2]
    assert rises.reading == f"{c.CHANGES} (late FD rises with α)" and rises.estimate > 0
    assert falls.reading == f"{c.CHANGES} (late FD falls with α)" and falls.estimate < 0
    assert flat.reading == c.NOT_SHOWN


# --- Missing data -----------------------------------------------------------------------------


def test_a_diverged_run_leaves_its_seed_out_of_the_tests_needing_its_arm():
    runs = [r for r in runs_of() if not (r.seed == 12 and r.arm.variant.alpha == 0.2)]
    runs.append(v3run(0.2, 12, 0.0, epochs=7, diverged=True))
    result = c.confirm(runs)
    h1, h2, h3 = result.primary
    kept = [i for i, s in enumerate(SEEDS) if s != 12]
    assert h1.seeds == (10, 11, 13, 14, 15) and h2.n == 6 and h3.n == 5
    ref = stats.ttest_rel(np.take(A02, kept), np.take(RELU, kept))
    assert h1.p == pytest.approx(ref.pvalue, rel=1e-9)
    assert result.complete == list(SEEDS) and not result.interim  # a diverged run has ended


def test_an_unfinished_run_makes_the_analysis_interim():
    runs = [r for r in runs_of() if not (r.seed == 15 and r.arm.variant.alpha == 0.3)]
    runs.append(v3run(0.3, 15, 40.0, epochs=10))
    result = c.confirm(runs)
    assert result.complete == [10, 11, 12, 13, 14] and result.interim
    assert result.primary[1].n == 5 and result.primary[0].n == 6


# --- The mechanism (exploratory) --------------------------------------------------------------


def with_dead_and_grad(run: V3Run, dead: float, grad: float) -> V3Run:
    """`run` with D's dead layer-2 share varying from epoch to epoch around `dead` (0 stays 0)
    and the gradient reaching G at `grad`."""
    rows = []
    for row in run.rows:
        wobble = 1 + 0.1 * ((row["epoch"] % 3) - 1)
        rows.append(row | {"dead_channels_2": dead * wobble, "gen_image_grad_norm": grad})
    return dataclasses.replace(run, rows=tuple(rows))


def test_the_mechanism_correlations_match_scipy():
    rng = np.random.default_rng(3)
    runs = [with_dead_and_grad(r, *rng.uniform(0.05, 0.5, 2)) for r in runs_of()]
    runs.append(with_dead_and_grad(v3run(0.0, 16, 30.0, epochs=8), 0.9, 9.0))  # unfinished
    m = e.mechanism(runs)
    finished = runs[:-1]

    def per_run(run):
        return (
            np.mean([r["dead_channels_2"] for r in run.rows]),
            np.mean([r["gen_image_grad_norm"] for r in run.rows]),
        )

    points = {}
    for run in finished:
        points.setdefault(run.arm.variant.alpha, []).append(per_run(run))
    assert [arm.variant.alpha for arm, _ in m.within] == [0.0, 0.2, 0.3]
    for arm, correlation in m.within:
        x, y = np.array(points[arm.variant.alpha]).T
        assert correlation.n == 6
        assert correlation.r == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
        assert correlation.low <= correlation.r <= correlation.high and 0 < correlation.p <= 1
    centred = [np.array(v) - np.mean(v, axis=0) for v in points.values()]
    x, y = np.concatenate(centred).T
    assert m.centred.n == 18
    assert m.centred.r == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    x, y = np.array([np.mean(v, axis=0) for v in points.values()]).T
    assert m.between.n == 3
    assert m.between.r == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    # The unfinished run's 0.9 is left out; the largest share is a finished run's, layer by layer.
    assert m.most_dead[0] == 0.0
    most = max(r["dead_channels_2"] for run in finished for r in run.rows)
    assert m.most_dead[1] == most < 0.9


def test_dead_units_are_each_runs_mean_over_its_epochs():
    runs = []
    for i, run in enumerate(runs_of(seeds=SEEDS[:2])):
        rows = tuple(r | {"dead_units_2": (i + 1) * r["epoch"] / 100} for r in run.rows)
        runs.append(dataclasses.replace(run, rows=rows))
    relu = e.summarise(runs)[0]  # the runs of seeds 10 and 11 are the 1st and 4th: i 0 and 3
    mean, sd = relu.figures["dead units L2"]
    assert mean == pytest.approx(np.mean([1 * 8.5, 4 * 8.5]) / 100)
    assert sd == pytest.approx(np.std([0.085, 0.34], ddof=1))


def test_other_figures_are_paired_by_seed_as_scipy_pairs_them():
    tests = {t.what: t for t in e.paired_figures(runs_of())}
    final = tests["final FD: leaky_relu α=0.2 minus relu"]  # each final FD is its late FD + 3
    ci = stats.ttest_rel(A02, RELU).confidence_interval(0.95)
    assert final.n == 6 and (final.low, final.high) == pytest.approx((ci.low, ci.high))
    assert final.p == pytest.approx(stats.ttest_rel(A02, RELU).pvalue)
    score = tests["score: leaky_relu α=0.3 minus relu"]  # every score 8: no spread, no test
    assert score.estimate == 0 and math.isnan(score.p)
    assert len(tests) == 2 * len(e.PAIRED_FIGURES)


def test_collapse_flags_name_their_epochs():
    runs = runs_of(seeds=SEEDS[:2])
    first = runs[0]
    rows = tuple(r | {"recall": 0.001} if r["epoch"] in (1, 2) else r for r in first.rows)
    runs[0] = dataclasses.replace(first, rows=rows)
    relu = e.summarise(runs)[0]
    assert (relu.flags, relu.flagged_runs, relu.flagged_epochs) == (2, 1, (1, 2))
    assert e.flagged_epochs(rows) == [1, 2] and e.collapse_flags(rows) == 2


def test_the_report_words_the_mechanism_or_says_why_it_has_none():
    from gan_tf.study.confirm_report import confirm_report

    def report(runs):
        registered = check_preregistration(
            runs, [entry(r.name, "start", "2026-12-07T02:00:00Z") for r in runs], PLAN
        )
        return confirm_report(runs, c.confirm(runs), registered, PLAN)

    rng = np.random.default_rng(4)
    text = report([with_dead_and_grad(r, *rng.uniform(0.05, 0.5, 2)) for r in runs_of()])
    assert "### Dead channels and the gradient reaching G" in text
    assert "| pooled, centred by arm | 18 |" in text
    # Three arm means: r, but no bootstrap interval or permutation p from three points.
    assert re.search(r"\| between arms \(their means\) \| 3 \| [+-]\d\.\d\d \| n/a \| n/a \|", text)
    assert "18 of the 18 finished runs had a dead channel" in text
    # Dead channels in two runs only: too rare to correlate, and the report says so.
    runs = runs_of()
    rare = [with_dead_and_grad(r, 0.1 if i < 2 else 0.0, 0.3) for i, r in enumerate(runs)]
    text = report(rare)
    assert "2 of the 18 finished runs had a dead channel" in text and "gives no r" in text
    assert "Pearson r" not in text
    # No channel ever dead: no spread, so no r, and the report says why rather than printing n/a.
    text = report([with_dead_and_grad(r, 0.0, 0.3) for r in runs_of(seeds=SEEDS[:3])])
    assert "No channel of D's first or second layer was dead" in text
    assert "undefined" in text and "Pearson r" not in text
    assert math.isnan(e.mechanism(runs_of()).within[0][1].r)  # a constant share: no r either


# --- Runs, the log and the pre-registration check ---------------------------------------------

PLAN = Plan("abc1234", "2026-12-07T01:07:23+00:00")


def entry(run, event, utc, commit=PLAN.commit):
    return LogEntry(run, event, utc, commit, "cpu")


def test_preregistration_gives_both_times_per_run():
    runs = runs_of()[:2]
    log = [entry(r.name, "start", "2026-12-07T03:00:00Z") for r in runs]
    log.insert(0, entry(runs[0].name, "start", "2026-12-07T02:00:00Z"))  # resumed later
    registered = check_preregistration(runs, log, PLAN)
    assert [r.first_start for r in registered] == ["2026-12-07T02:00:00Z", "2026-12-07T03:00:00Z"]
    assert all(r.after_plan and r.plan_committed == PLAN.committed for r in registered)


@pytest.mark.parametrize(
    ("start", "commit", "words"),
    [
        ("2026-12-07T01:00:00Z", PLAN.commit, "not after the plan"),
        ("2026-12-07T01:07:23Z", PLAN.commit, "not after the plan"),  # the same second
        ("2026-12-07T03:00:00Z", "fedcba9", "under plan commit fedcba9"),
    ],
)
def test_preregistration_refuses_a_run_before_or_outside_the_plan(start, commit, words):
    runs = runs_of()[:2]
    log = [
        entry(runs[0].name, "start", "2026-12-07T03:00:00Z"),
        entry(runs[1].name, "start", start, commit),
    ]
    with pytest.raises(UserError, match="pre-registration check failed") as info:
        check_preregistration(runs, log, PLAN)
    assert words in str(info.value) and runs[1].name in str(info.value)
    with pytest.raises(UserError, match="no start in the log"):
        check_preregistration(runs, log[:1], PLAN)


def test_the_log_names_one_plan_commit(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(
        "run,event,utc,plan_commit,cpu\n"
        "a,start,2026-12-07T03:00:00Z,abc1234,cpu\na,finish,2026-12-07T03:30:00Z,abc1234,cpu\n"
    )
    assert plan_commit(read_log(path)) == "abc1234"
    with pytest.raises(UserError, match="one plan commit"):
        plan_commit([*read_log(path), entry("b", "start", "2026-12-08T00:00:00Z", "fedcba9")])
    path.write_text("run,event,utc,plan_commit\na,start,yesterday,abc1234\n")
    with pytest.raises(UserError, match="line 2") as info:
        read_log(path)
    assert info.value.setting == "log"


def study_config(alpha, seed, dropout=0.3, lr=2e-4) -> Config:
    activation = "relu" if alpha == 0 else "leaky_relu"
    return Config(
        activation=activation,
        alpha=0.3 if alpha == 0 else alpha,  # run.sh passes 0.3 to relu; ReLU ignores it
        dropout=dropout,
        gen_lr=lr,
        disc_lr=lr,
        beta1=0.5,
        seed=seed,
        **PLAN_BUDGET,
    )


def make_run(runs_dir, config, late, epochs=16, name=None):
    folder = runs_dir / (name or run_name(config))
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(config.to_json())
    write_metrics(folder / "metrics.csv", metric_rows(late, epochs))
    return folder.name


def test_run_names_follow_the_study_script():
    assert run_name(study_config(0, 10)) == "relu_lr0.0002_b0.5_seed10"
    assert run_name(study_config(0.2, 11)) == "leaky_relu_0.2_lr0.0002_b0.5_seed11"
    assert run_name(study_config(0.2, 12, dropout=0.0)) == "leaky_relu_0.2_lr0.0002_b0.5_d0_seed12"
    assert run_name(study_config(0, 13, lr=1e-3)) == "relu_lr0.001_b0.5_seed13"


def test_a_run_outside_the_plan_is_refused(tmp_path):
    make_run(tmp_path / "a", study_config(0.2, 10), 40.0, name="relu_lr0.0002_b0.5_seed10")
    with pytest.raises(UserError, match="name"):
        load_runs(tmp_path / "a")
    config = dataclasses.replace(study_config(0.2, 10), eval_n=2000)
    make_run(tmp_path / "b", config, 40.0)
    with pytest.raises(UserError, match="eval_n 2000"):
        load_runs(tmp_path / "b")


# --- The command end to end -------------------------------------------------------------------


def head_commit() -> tuple[str, str]:
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), "log", "-1", "--format=%H%n%cI", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the command dates the plan's commit with git")
    commit, committed = done.stdout.split()
    return commit, committed


def make_study(tmp_path, seeds=SEEDS, early=None):
    """Run folders of the three primary arms (and a stage-2 pair for two seeds) and their log;
    every run starts in 2099 except `early`, which starts in 2000."""
    commit, _ = head_commit()
    runs_dir = tmp_path / "runs"
    names = []
    for i, seed in enumerate(seeds):
        for alpha, values in ((0.0, RELU), (0.2, A02), (0.3, A03)):
            names.append(make_run(runs_dir, study_config(alpha, seed), values[i]))
    for seed, late in ((10, 30.0), (11, 33.0)):
        names.append(make_run(runs_dir, study_config(0, seed, dropout=0.0), late))
        names.append(make_run(runs_dir, study_config(0.2, seed, dropout=0.0), late + 4))
    lines = ["run,event,utc,plan_commit,cpu"]
    for minute, name in enumerate(names):
        year = 2000 if name == early else 2099
        lines.append(f"{name},start,{year}-01-01T00:{minute:02d}:00Z,{commit},AMD EPYC")
        lines.append(f"{name},finish,{year}-01-01T00:{minute:02d}:30Z,{commit},AMD EPYC")
    log = tmp_path / "log.csv"
    log.write_text("\n".join(lines) + "\n")
    return runs_dir, log


def test_the_command_writes_a_report_that_rebuilds_byte_for_byte(tmp_path, monkeypatch, capsys):
    from gan_tf.cli.confirm import main

    monkeypatch.chdir(REPO)  # the plan's commit is dated by this repository's git
    runs_dir, log = make_study(tmp_path)
    out = tmp_path / "report" / "report.md"
    argv = [str(runs_dir), "--log", str(log), "--out", str(out)]
    assert main(argv) == 0
    first, picture = out.read_bytes(), out.with_name("late_fd.png").read_bytes()
    assert main(argv) == 0
    assert out.read_bytes() == first
    assert out.with_name("late_fd.png").read_bytes() == picture
    assert picture.startswith(b"\x89PNG")
    assert "final: 6 of 6 seeds complete" in capsys.readouterr().out
    text = first.decode("utf-8")
    ci = stats.ttest_rel(A02, RELU).confidence_interval(0.95)
    assert f"{ci.low:.2f} to {ci.high:.2f}" in text and "95% CI" in text
    power = c.power(6, c.DELTA, c.PLANNING_SD, ALPHA)
    assert f"H1, n = 6: power {power:.2f}" in text
    assert "## Exploratory (not confirmatory)" in text and "exploratory" in text
    assert "Interim" not in text and "The answer:" in text
    assert f"python -m gan_tf.confirm {runs_dir} --log {log} --out {out}" in text
    assert "leaky_relu α=0.2, dropout 0 minus relu, dropout 0" in text
    assert "![Late FD per seed and arm, and every run's FD per epoch](late_fd.png)" in text
    assert "2099-01-01T00:00:00Z" in text and head_commit()[1] in text


def test_the_report_says_when_it_is_interim(tmp_path, monkeypatch):
    from gan_tf.cli.confirm import main

    monkeypatch.chdir(REPO)
    runs_dir, log = make_study(tmp_path, seeds=SEEDS[:4])
    out = tmp_path / "report.md"
    assert main([str(runs_dir), "--log", str(log), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert (
        "**Interim: 4 of 6 seeds complete; the decision rule applies only when all are in.**"
        in text
    )
    assert "interim (the rule would read:" in text and "The answer:" not in text


def test_a_report_before_any_seed_is_complete():
    from gan_tf.study.confirm_report import confirm_report

    runs = [v3run(0.0, 10, 35.0), v3run(0.2, 10, 40.0, epochs=3)]
    registered = check_preregistration(
        runs, [entry(r.name, "start", "2026-12-07T02:00:00Z") for r in runs], PLAN
    )
    text = confirm_report(runs, c.confirm(runs), registered, PLAN)
    assert "**Interim: 0 of 6 seeds complete;" in text and "too few seeds to test" in text
    assert "unfinished (3 of 16 epochs)" in text and "power n/a" in text
    assert text == confirm_report(runs, c.confirm(runs), registered, PLAN)


def timed(run: V3Run, seconds: float) -> V3Run:
    """`run` with `seconds` of training steps in each epoch."""
    return dataclasses.replace(run, rows=tuple(r | {"seconds": seconds} for r in run.rows))


def test_logged_hours_run_from_the_first_start_to_the_last_finish():
    entries = [
        entry("a", "start", "2026-12-07T02:00:00Z"),
        entry("a", "start", "2026-12-07T05:00:00Z"),  # resumed after a pause
        entry("a", "finish", "2026-12-07T05:30:00Z"),
        entry("b", "start", "2026-12-07T06:00:00Z"),
    ]
    assert logged_hours(entries, "a") == 3.5
    assert math.isnan(logged_hours(entries, "b"))  # not finished
    assert e.training_hours(timed(v3run(0.0, 10, 35.0), 90.0).rows) == 16 * 90 / 3600


@pytest.mark.parametrize(
    "minutes, runs, words",
    [
        # 18 runs logged 45 minutes each: 13.5 hours, more than the plan's 8.
        (45, runs_of(), "No stage-2 arm is trained: stage 1 alone took more than that, 13.5"),
        (45, runs_of(seeds=SEEDS[:4]), "stage 1 has already taken more than that, 9.0 hours"),
        (20, runs_of(), "No stage-2 arm has been trained yet."),
        (20, runs_of(seeds=SEEDS[:2]), "Stage 2 waits for stage 1 to be complete."),
        (20, [*runs_of(), v3run(0.0, 10, 30.0, dropout=0.0)], "Stage-2 arms here: relu, "),
    ],
)
def test_the_report_weighs_the_logged_time_against_the_budget(minutes, runs, words):
    """The plan counts the time as log.csv logs it; metrics.csv's step time comes beside it."""
    from gan_tf.study.confirm_report import confirm_report

    runs = [timed(run, 30.0) for run in runs]  # 8 minutes of steps each
    log = []
    for run in runs:
        log.append(entry(run.name, "start", "2026-12-07T02:00:00Z"))
        log.append(entry(run.name, "finish", f"2026-12-07T02:{minutes:02d}:00Z"))
    text = confirm_report(runs, c.confirm(runs), check_preregistration(runs, log, PLAN), PLAN)
    logged, steps = len(runs) * minutes / 60, len(runs) * 8 / 60
    assert f"the {len(runs)} runs here took {logged:.1f} hours; {steps:.1f} of them" in text
    assert words in text
    assert f"| 8 | {minutes} |" in text  # each run's steps and logged minutes


def test_the_picture_needs_a_finished_primary_run(tmp_path):
    from gan_tf.study.confirm import primary_family
    from gan_tf.study.confirm_figures import plot_late_fd

    path = tmp_path / "late_fd.png"
    unfinished = [v3run(0.0, 10, 35.0, epochs=3), v3run(0.2, 10, 35.0, lr=1e-3)]
    assert plot_late_fd(unfinished, path, primary_family(unfinished)) is False
    assert not path.exists()
    one = [v3run(0.0, 10, 35.0)]
    assert plot_late_fd(one, path, primary_family(one)) is True  # one run: no interval, a mark
    assert path.read_bytes().startswith(b"\x89PNG")


def test_the_command_refuses_a_run_that_started_before_the_plan(tmp_path, monkeypatch, capsys):
    from gan_tf.cli.confirm import main

    monkeypatch.chdir(REPO)
    early = run_name(study_config(0.3, 12))
    runs_dir, log = make_study(tmp_path, early=early)
    out = tmp_path / "report.md"
    with pytest.raises(SystemExit) as info:
        main([str(runs_dir), "--log", str(log), "--out", str(out)])
    err = capsys.readouterr().err
    assert info.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "pre-registration check failed" in err and early in err
    assert not out.exists()


@pytest.mark.skipif(shutil.which("bash") is None, reason="the study's scripts are bash scripts")
def test_the_plan_may_change_below_its_deviations_only(tmp_path):
    """check_plan.sh, which run.sh runs before every start: the commit that added plan.md,
    whatever its Deviations section says since; a refusal (exit 2) when anything above that
    heading changed, or when the plan is not committed as it stands."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the check reads the plan's history")
    plan = tmp_path / "docs" / "study" / "v3" / "plan.md"
    plan.parent.mkdir(parents=True)
    script = REPO / "docs" / "study" / "v3" / "check_plan.sh"

    def git(*args):
        who = ["-c", "user.name=t", "-c", "user.email=t@example.org"]
        done = subprocess.run(
            ["git", *who, *args], cwd=tmp_path, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def check():
        return subprocess.run(["bash", str(script)], cwd=tmp_path, capture_output=True, text=True)

    git("init", "-q")
    plan.write_text("# Plan\n\nH1: ReLU differs.\n\n## Deviations\n\nNone so far.\n")
    git("add", ".")
    git("commit", "-qm", "the plan")
    fixed = git("log", "-1", "--format=%H")
    assert check().stdout.strip() == fixed
    plan.write_text(plan.read_text().replace("None so far.", "- a run trained again"))
    assert check().returncode == 2  # not committed yet
    git("commit", "-qam", "a deviation")
    assert check().stdout.strip() == fixed  # still the commit that fixed the plan
    plan.write_text(plan.read_text().replace("H1: ReLU differs.", "H1: ReLU is better."))
    git("commit", "-qam", "a changed hypothesis")
    done = check()
    assert done.returncode == 2 and "unchanged above its Deviations" in done.stderr
