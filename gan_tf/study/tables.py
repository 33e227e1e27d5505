"""The report's tables, computed from run records and the analysis: results per variant,
the tests, collapse, relapses, time to quality, the pilots against the grid's budget, and a
run's figures epoch by epoch (which `compare` shows too).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from gan_tf.errors import keyword
from gan_tf.rundir import D_FAKE, D_REAL, DEAD_CHANNELS_1, DEAD_CHANNELS_2, GRAD_TO_G
from gan_tf.study.analysis import Comparison, Group
from gan_tf.study.formatting import fmt, fmt_p, pct, pm, setting_values, share, table
from gan_tf.study.measures import (
    SCORE_THRESHOLDS,
    budget_steps,
    relapses,
    sample_size,
    speeds,
    steps_done,
    time_to_score,
    was_evaluated,
)
from gan_tf.study.records import RunResult, column, epochs
from gan_tf.study.stats import SIGNIFICANCE

# Key phrases; the tests pin them, so change them together.
HOLDS = f"holds at {SIGNIFICANCE:g} after Holm"
NOT_TESTABLE = "not testable"
NOT_REACHED = "not reached"


# --- Results ----------------------------------------------------------------------------


def _fd_runs(group: Group) -> str:
    collapsed = sum(bool(c) for c in group.collapsed)
    text = f"n={group.stat('fd')[2]} of {len(group.runs)}"
    return text + (f", {collapsed} collapsed" if collapsed else "")


def _best_fd(group: Group) -> str:
    at = [f"{e:g}" for e in group.values("fd_best_epoch") if math.isfinite(e)]
    where = f" (epoch {', '.join(at)})" if at else ""
    return pm(group, "fd_best") + (where if group.stat("fd_best")[2] else "")


def _max_dead(group: Group) -> str:
    probes = sorted({int(n) for n in group.values("probes") if n > 0})
    if not probes:
        return "n/a"
    count = f"{probes[0]}" if len(probes) == 1 else f"{probes[0]} to {probes[-1]}"
    return f"{pct(group, 'max_dead_channels_2')} (max over {count} per-epoch probes)"


# The results table: header, how to render a group.
RESULT_COLUMNS: tuple[tuple[str, Callable[[Group], str]], ...] = (
    ("variant", lambda g: g.label),
    ("runs", lambda g: str(len(g.runs))),
    ("FD runs", _fd_runs),
    ("final FD", lambda g: pm(g, "fd")),
    ("best FD (epoch)", _best_fd),
    ("mean FD over training", lambda g: pm(g, "fd_auc")),
    ("score", lambda g: pm(g, "score", 2)),
    ("classes", lambda g: pm(g, "covered", 1)),
    ("precision", lambda g: pm(g, "precision", 2)),
    ("recall", lambda g: pm(g, "recall", 2)),
    ("dead ch. L1", lambda g: pct(g, DEAD_CHANNELS_1)),
    ("dead ch. L2", lambda g: pct(g, DEAD_CHANNELS_2)),
    ("max dead ch. L2", _max_dead),
    ("grad → G", lambda g: pm(g, GRAD_TO_G)),
    ("D(x)", lambda g: pm(g, D_REAL, 2)),
    ("D(G(z))", lambda g: pm(g, D_FAKE, 2)),
    ("time", lambda g: pm(g, "wall_time", unit=" s")),
)


def _n(size: float) -> str:
    """', N = 2,000' for a known sample size, '' otherwise."""
    return f", N = {size:,.0f}" if math.isfinite(size) else ""


def results_table(groups: Sequence[Group]) -> list[str]:
    """The results table; the FD headers say how many samples each FD was measured on."""
    runs = [r for g in groups for r in g.runs]
    names = {
        "final FD": f"final FD{_n(sample_size(runs, final=True))}",
        "best FD (epoch)": f"best FD during training{_n(sample_size(runs))} (epoch)",
    }
    header = [names.get(h, h) for h, _ in RESULT_COLUMNS]
    return table(header, [[render(g) for _, render in RESULT_COLUMNS] for g in groups])


# --- Tests ------------------------------------------------------------------------------


def _comparison_row(c: Comparison) -> list[str]:
    t, m = c.test, c.measure
    diff = fmt(t.diff, scale=m.scale, unit=m.unit)
    if math.isfinite(t.low):
        diff += f" ({fmt(t.low, scale=m.scale)} to {fmt(t.high, scale=m.scale)})"
    tested = math.isfinite(t.p)
    return [
        c.setting,
        c.measure.title,
        f"{c.label} vs relu",
        f"{t.n_a}, {t.n_b}",
        diff,
        fmt(t.g, 2),
        fmt_p(t.p) if tested else t.note,
        fmt_p(c.p_holm) if tested else "—",
        ("yes" if c.holds else "no") if tested else NOT_TESTABLE,
    ]


def statistics_table(comparisons: Sequence[Comparison]) -> list[str]:
    """Every comparison: its difference with interval, Hedges' g, p, Holm p, verdict."""
    header = ["setting", "measure", "comparison", "n (relu, variant)"]
    header += ["difference variant - relu (95% CI)", "Hedges' g", "p", "Holm p", HOLDS]
    return table(header, [_comparison_row(c) for c in comparisons])


# --- Collapse ---------------------------------------------------------------------------


def _relapse_cell(group: Group) -> str:
    """How many of the group's runs relapsed during training, and where."""
    evaluated = [r for r in group.runs if was_evaluated(r)]
    if not evaluated:
        return "n/a"
    where = [
        f"seed {r.seed}: epoch {', '.join(f'{x.epoch:g}' for x in relapses(r))}"
        for r in evaluated
        if relapses(r)
    ]
    return f"{len(where)} of {len(evaluated)}" + (f" ({'; '.join(where)})" if where else "")


def collapse_table(groups: Sequence[Group]) -> list[str]:
    """Per group: runs, diverged, evaluated, collapsed at the end, relapsed on the way."""
    rows = []
    for g in groups:
        judged = [c for c in g.collapsed if c is not None]
        rate = f"{sum(judged)} of {len(judged)}" if judged else "n/a"
        if judged:
            rate += f" ({100 * sum(judged) / len(judged):.0f}%)"
        runs = len(g.runs) + len(g.diverged)
        rows.append(
            [
                g.setting,
                g.label,
                str(runs),
                str(len(g.diverged)),
                str(len(judged)),
                rate,
                _relapse_cell(g),
            ]
        )
    header = ["setting", "variant", "runs", "diverged", "evaluated", "collapsed"]
    return table([*header, "relapsed during training"], rows)


def relapse_table(groups: Sequence[Group]) -> list[str]:
    """Every epoch that met the collapse rule after its run had passed it ([] if none)."""
    rows = [
        [
            g.setting,
            g.label,
            str(r.seed),
            f"{x.epoch:g}",
            fmt(x.score, 2),
            fmt(x.recall, 3),
            fmt(x.fd),
            f"epoch {x.back:g}" if math.isfinite(x.back) else "no",
        ]
        for g in groups
        for r in g.runs
        for x in relapses(r)
    ]
    if not rows:
        return []
    header = ["setting", "variant", "seed", "epoch", "score", "recall", "FD", "passed again at"]
    return table(header, rows)


# --- Time to quality --------------------------------------------------------------------


def _time_cell(group: Group, threshold: float) -> str:
    reached, n, images, seconds = group.time_to(threshold)
    if not reached:
        return f"{NOT_REACHED} (0 of {n})"
    return f"{reached} of {n} reached: median {images:,.0f} images, {fmt(seconds, unit=' s')}"


def _speed_cell(group: Group) -> str:
    measured = speeds(group.runs)
    if not measured.size:
        return "n/a"
    cell = f"{np.median(measured):,.0f}"
    return cell + (
        f" ({measured.min():,.0f} to {measured.max():,.0f})" if measured.size > 1 else ""
    )


def time_table(groups: Sequence[Group]) -> list[str]:
    """Per group: images and seconds to each score threshold, and images per second."""
    header = ["setting", "variant", *(f"score ≥ {t:g}" for t in SCORE_THRESHOLDS)]
    rows = [
        [g.setting, g.label, *(_time_cell(g, t) for t in SCORE_THRESHOLDS), _speed_cell(g)]
        for g in groups
    ]
    return table([*header, "images/s: median (range)"], rows)


def time_to_text(run: RunResult, threshold: float) -> str:
    """When the run's score first reached `threshold`: steps, images and training seconds."""
    hit = time_to_score(run, threshold)
    if hit is None:
        return f"score ≥ {threshold:g} {NOT_REACHED} in {steps_done(run):,.0f} steps"
    return (
        f"score ≥ {threshold:g} first at {hit.steps:,.0f} steps "
        f"({hit.images:,.0f} images, {fmt(hit.seconds, unit=' s')} of training)"
    )


# --- One run, epoch by epoch ------------------------------------------------------------

# The per-epoch columns shown for a single run: (header, metrics.csv column, decimals;
# "%" for a percentage).
EPOCH_COLUMNS = (
    ("FD", "fd", None),
    ("score", "score", 2),
    ("recall", "recall", 2),
    ("dead ch. L1", DEAD_CHANNELS_1, "%"),
    ("dead ch. L2", DEAD_CHANNELS_2, "%"),
    ("grad → G", GRAD_TO_G, None),
    ("D(x)", D_REAL, 2),
    ("D(G(z))", D_FAKE, 2),
)
EPOCH_HEADER = ["steps", "images", *(h for h, _, _ in EPOCH_COLUMNS)]


def epoch_columns_note(spell: Callable[[str], str] = keyword) -> str:
    """What EPOCH_COLUMNS show; `spell` writes the name of the eval_n setting (the command
    layer passes its flag spelling)."""
    return (
        f"FD, score and recall: the evaluation during training (on the run's {spell('eval_n')} "
        "samples; n/a where the epoch was not evaluated). Dead ch.: share of D's channels whose "
        "pre-activation is ≤ 0 on every probe image; grad → G: mean L2 norm of ∂gen_loss/∂image; "
        "D(x), D(G(z)): D's mean probability of 'real' on the probe images."
    )


def epoch_cells(run: RunResult, row: int) -> list[str]:
    """Steps and images by the end of metrics row `row`, then the EPOCH_COLUMNS."""
    cells = [f"{run.steps[row]:,.0f}", f"{run.images[row]:,.0f}"]
    for _, key, decimals in EPOCH_COLUMNS:
        value = column(run, key)[row]
        cells.append(share(value) if decimals == "%" else fmt(value, decimals))
    return cells


def evaluated_epochs_table(run: RunResult) -> list[str]:
    """The run's evaluated epochs, a row each with `epoch_cells` ([] if none)."""
    score = column(run, "score")
    rows = [
        [f"{epoch:g}", *epoch_cells(run, i)]
        for i, epoch in enumerate(epochs(run))
        if math.isfinite(score[i])
    ]
    return table(["epoch", *EPOCH_HEADER], rows) if rows else []


# --- Pilots -----------------------------------------------------------------------------


def _at_budget(run: RunResult, steps: float, batch_size: int) -> str:
    """The run's score at the last evaluated epoch within `steps` steps of `batch_size`."""
    if run.batch_size != batch_size:
        return f"n/a (batch {run.batch_size})"
    score = column(run, "score")
    within = np.flatnonzero((run.steps <= steps) & np.isfinite(score))
    if not within.size:
        return "n/a"
    i = within[-1]
    return f"{fmt(score[i], 2)} (at {run.steps[i]:,.0f} steps)"


def pilot_summary(pilots: Sequence[RunResult], runs: Sequence[RunResult]) -> list[str]:
    """One row per pilot: its setting, whether the grid has it, its score at the grid's
    budget, its best score and its time to each score threshold."""
    in_grid = {(r.lr, r.beta1) for r in runs}
    steps = budget_steps(runs)
    batch_size = runs[0].batch_size if runs else 0
    rows = []
    for run in pilots:
        score = column(run, "score")
        best = ""
        if np.isfinite(score).any():
            i = int(np.nanargmax(score))
            best = f"{fmt(score[i], 2)} (at {run.steps[i]:,.0f} steps)"
        reached = []
        for threshold in SCORE_THRESHOLDS:
            hit = time_to_score(run, threshold)
            reached.append(NOT_REACHED if hit is None else f"{hit.steps:,.0f} steps")
        rows.append(
            [
                run.label,
                setting_values(run.setting, run.lr, run.beta1),
                "yes" if (run.lr, run.beta1) in in_grid else "no",
                str(run.batch_size),
                f"{steps_done(run):,.0f}",
                _at_budget(run, steps, batch_size) if math.isfinite(steps) else "n/a",
                best or "n/a",
                *reached,
            ]
        )
    header = ["run", "setting", "setting in the grid", "batch", "steps"]
    header += [f"score at the grid's {steps:,.0f} steps", "best score"]
    header += [f"score ≥ {t:g} at" for t in SCORE_THRESHOLDS]
    return table(header, rows)
