"""Study v3's report.md, worded from `confirm`'s numbers: the runs against the plan's commit,
the primary family with its readings, the power for the seeds used, and the exploratory
summaries, labelled as such.

States no finding of its own: every reading comes from `confirm.decide` and
`confirm.decide_trend`. The text depends only on its inputs (no time of the rebuild, a fixed
order and fixed decimals), so rebuilding from the same runs and log gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gan_tf.study.confirm import (
    DELTA,
    FAMILY_SIZE,
    PLANNING_SD,
    POWER_TARGET,
    QUARTER,
    Confirmation,
    power,
    seeds_needed,
)
from gan_tf.study.confirm_cells import interval, seeds_used, signed, status
from gan_tf.study.confirm_explore import finished, training_hours
from gan_tf.study.confirm_figures import CURVES_FROM_EPOCH
from gan_tf.study.confirm_report_explore import exploratory_section
from gan_tf.study.confirm_runs import (
    BUDGET_HOURS,
    EPOCHS,
    PLAN_SEEDS,
    Plan,
    Registration,
    V3Run,
)
from gan_tf.study.formatting import fmt, fmt_p, table
from gan_tf.study.stats import SIGNIFICANCE

PLAN_PATH = "docs/study/v3/plan.md"


def runs_section(
    runs: Sequence[V3Run], registrations: Sequence[Registration], missing: Sequence[str]
) -> list[str]:
    by_run = {r.run: r for r in registrations}
    header = ["run", "arm", "seed", "status", "plan committed", "first start", "after the plan"]
    header += ["steps (min)", "logged (min)"]
    rows = []
    for run in runs:
        registration = by_run[run.name]
        rows.append(
            [
                f"`{run.name}`",
                run.arm.label,
                str(run.seed),
                status(run),
                registration.plan_committed,
                registration.first_start,
                "yes" if registration.after_plan else "no",
                fmt(training_hours(run.rows), 0, 60),
                fmt(registration.logged_hours, 0, 60),
            ]
        )
    lines = ["## Runs", ""]
    if rows:
        lines += [
            "Steps: the minutes a run spent in training steps (metrics.csv's per-epoch "
            "seconds; evaluations, probes and start-up left out). Logged: from its first start "
            "to its finish in the log, pauses and restarts included.",
            "",
            *table(header, rows),
        ]
    else:
        lines.append("No run folder yet.")
    if missing:
        names = ", ".join(f"`{name}`" for name in missing)
        lines += ["", f"The log names runs with no folder here: {names}."]
    return [*lines, ""]


def budget_section(
    runs: Sequence[V3Run], registrations: Sequence[Registration], interim: bool
) -> list[str]:
    """The study's time against the plan's budget, and what that means for stage 2. The plan
    counts the time "as logged in log.csv": from each run's first start to its finish."""
    if not finished(runs):
        return []
    logged = sum(r.logged_hours for r in registrations if math.isfinite(r.logged_hours))
    steps = sum(training_hours(run.rows) for run in runs)
    text = (
        f"As the plan counts it (log.csv, from each run's first start to its finish, pauses "
        f"and restarts included), the {len(runs)} runs here took {logged:.1f} hours; "
        f"{steps:.1f} of them were training steps (metrics.csv's per-epoch seconds, which "
        "leave out evaluations and any attempt lost with a machine). The plan gives the study "
        f"about {BUDGET_HOURS:g} hours of CPU and trains a stage-2 arm (every seed of it) "
        "only while the total stays within that."
    )
    stage2 = sorted({run.arm.label for run in runs if not run.arm.primary})
    if stage2:
        text += f" Stage-2 arms here: {', '.join(stage2)}."
    elif logged > BUDGET_HOURS:
        stage = "stage 1 alone took" if not interim else "stage 1 has already taken"
        text += (
            f" No stage-2 arm is trained: {stage} more than that, {logged:.1f} hours as "
            "logged, so the plan's exploratory arms (dropout 0, the learning-rate stress, "
            "α = 0.01) are left out."
        )
    elif interim:
        text += " Stage 2 waits for stage 1 to be complete."
    else:
        text += " No stage-2 arm has been trained yet."
    return ["### Time and the budget", "", text, ""]


def primary_section(confirmation: Confirmation) -> list[str]:
    h1, h2, h3 = confirmation.primary
    level = f"{SIGNIFICANCE:g}"
    first_late = EPOCHS - math.ceil(EPOCHS * QUARTER) + 1
    lines = [
        "## The primary family (confirmatory)",
        "",
        "Endpoint: the late FD, the mean FD over the last quarter of a run's evaluations "
        f"(epochs {first_late} to {EPOCHS}); lower is better. H1 and H2 test the mean paired "
        "difference LeakyReLU minus ReLU over seeds (paired t-test, two-sided, 95% t "
        "interval, Cohen's d_z). H3 tests the mean of the seeds' least-squares slopes of late "
        "FD on α, with ReLU as α = 0 (FD units per unit of α). Holm's correction runs over "
        f"exactly these {FAMILY_SIZE} p-values at family-wise {level}; "
        f"δ = {DELTA:g} FD units.",
        "",
    ]
    header = ["test", "what", "seeds used", "estimate", "95% CI", "d_z", "p", "Holm p", "reading"]
    rows = []
    for test in confirmation.primary:
        reading = test.reading
        if confirmation.interim:
            if test.n < 2:
                reading = "interim (too few seeds to test)"
            else:
                reading = f"interim (the rule would read: {reading})"
        dz = f"{test.dz:.2f}" if math.isfinite(test.dz) else "n/a"
        rows.append(
            [
                test.name,
                test.what,
                seeds_used(test),
                signed(test.estimate),
                interval(test),
                dz,
                fmt_p(test.p),
                fmt_p(test.p_holm),
                reading,
            ]
        )
    lines += [*table(header, rows), ""]
    if confirmation.interim:
        lines.append(
            "No answer yet: the readings above are what the rule would say of the seeds in so "
            "far, not a decision. The plan has no interim look: every seed is trained whatever "
            "these show, and an interim p-value tests nothing."
        )
    else:
        lines.append(
            f"The answer: H1 (α = 0.2) reads *{h1.reading}*; H2 (α = 0.3) reads "
            f"*{h2.reading}*; H3 reads *{h3.reading}*."
        )
        if h1.reading != h2.reading:
            lines.append(
                "H1 and H2 read differently; the plan keeps the two readings apart, so this "
                "report does not merge them into one answer."
            )
    return [*lines, ""]


def power_section(confirmation: Confirmation) -> list[str]:
    strictest = SIGNIFICANCE / FAMILY_SIZE
    planned = len(PLAN_SEEDS)
    needed = seeds_needed(DELTA, PLANNING_SD, strictest)
    lines = [
        "### Power",
        "",
        f"The plan sized the study for a true difference of δ = {DELTA:g} with the planning sd "
        f"{PLANNING_SD:g} of a paired difference, at Holm's strictest level "
        f"{SIGNIFICANCE:g}/{FAMILY_SIZE}: {planned} seeds give power "
        f"{power(planned, DELTA, PLANNING_SD, strictest):.2f}, and {needed} is the fewest with "
        f"at least {POWER_TARGET:.2f}. With the seeds each test used:",
        "",
    ]
    for test in confirmation.primary[:2]:
        value = power(test.n, DELTA, PLANNING_SD, strictest)
        said = f"{value:.2f}" if math.isfinite(value) else "n/a (fewer than 2 seeds)"
        lines.append(f"- {test.name}, n = {test.n}: power {said} at δ = {DELTA:g}.")
    lines += [
        "",
        "A smaller true difference is missed more often: a reading of no difference as large "
        "as δ rests on its interval, not on the test.",
        "",
    ]
    return lines


def confirm_report(
    runs: Sequence[V3Run],
    confirmation: Confirmation,
    registrations: Sequence[Registration],
    plan: Plan,
    command: str = "",
    missing: Sequence[str] = (),
    figure: str = "",
) -> str:
    """The text of report.md.

    Args:
        runs: the analysed runs, in their order.
        confirmation: `confirm.confirm(runs)`.
        registrations: `confirm_runs.check_preregistration` of the same runs.
        plan: the plan's commit and its time.
        command: the command that rebuilds the report, as the caller spells it ("": none).
        missing: runs the log names that have no folder (`confirm_runs.unlisted`).
        figure: the file name of `confirm_figures.plot_late_fd`'s picture beside the report
            ("": none drawn).
    """
    lines = ["# Study v3: the confirmatory analysis", ""]
    if command:
        files = f" and {figure}" if figure else ""
        lines += [
            f"Made by `{command}` from the run folders and the study's log; run again on the "
            f"same files, it writes this file{files} byte for byte.",
            "",
        ]
    lines += [
        f"The plan ({PLAN_PATH}) was fixed by commit `{plan.commit}`, committed "
        f"{plan.committed}. Every run below first started after that time, logged under that "
        "commit; the table gives both times. Deviations from the plan, with their dates and "
        "reasons, are listed at the end of plan.md.",
        "",
    ]
    if confirmation.interim:
        k, total = len(confirmation.complete), len(PLAN_SEEDS)
        lines += [
            f"**Interim: {k} of {total} seeds complete; the decision rule applies only when "
            "all are in.**",
            "",
        ]
    lines += runs_section(runs, registrations, missing)
    lines += budget_section(runs, registrations, confirmation.interim)
    lines += primary_section(confirmation)
    if figure:
        lines += [
            f"![Late FD per seed and arm, and every run's FD per epoch]({figure})",
            "",
            f"*{figure}*: left, each seed's late FD in each primary arm, its arms joined by a "
            "line, with each arm's mean; middle, the paired differences that H1 and H2 test, "
            "each seed's and their mean with its 95% t interval, against 0 and ±δ; right, "
            "every finished primary run's FD at each epoch, the late window shaded, collapse "
            "flags marked with a cross (the axis stops a little above the highest FD from "
            f"epoch {CURVES_FROM_EPOCH} on, and the title names the epochs of flags above it).",
            "",
        ]
    lines += power_section(confirmation)
    lines += exploratory_section(confirmation)
    return "\n".join(lines).rstrip("\n") + "\n"
