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
    ArmSummary,
    Confirmation,
    Mechanism,
    Test,
    late_fd,
    power,
    seeds_needed,
    training_hours,
)
from gan_tf.study.confirm_runs import (
    BUDGET_HOURS,
    EPOCHS,
    PLAN_SEEDS,
    Plan,
    Registration,
    V3Run,
)
from gan_tf.study.formatting import fmt, fmt_p, table
from gan_tf.study.stats import SIGNIFICANCE, Correlation

PLAN_PATH = "docs/study/v3/plan.md"


def signed(x: float) -> str:
    """A difference with its sign and two decimals: "+3.20", "-1.05"; "n/a" for NaN."""
    return f"{x:+.2f}" if math.isfinite(x) else "n/a"


def interval(test: Test) -> str:
    """The 95% interval: "-1.00 to 7.40"."""
    if not math.isfinite(test.low):
        return "n/a"
    return f"{test.low:.2f} to {test.high:.2f}"


def mean_sd(figure: tuple[float, float], decimals: int | None, scale=1.0, unit="") -> str:
    """The mean ± sd with `decimals` places (None: enough for 3 significant figures of the
    mean); the mean alone where there is no sd, "n/a" where there is no mean."""
    mean, sd = figure
    if decimals is None:
        size = abs(mean * scale)
        decimals = max(2 - math.floor(math.log10(size)), 0) if 0 < size < math.inf else 2
    if not math.isfinite(sd):
        return fmt(mean, decimals, scale, unit)
    return f"{fmt(mean, decimals, scale, unit)} ± {fmt(sd, decimals, scale, unit)}"


def seeds_used(test: Test, seeds: Sequence[int] = PLAN_SEEDS) -> str:
    """How many seeds a test used, and which of the plan's it left out."""
    left_out = [str(s) for s in seeds if s not in test.seeds]
    return f"{test.n}" + (f" (left out: {', '.join(left_out)})" if left_out else "")


def status(run: V3Run) -> str:
    if math.isfinite(late_fd(run.rows)):
        return "finished"
    return "diverged" if run.diverged else f"unfinished ({len(run.rows)} of {EPOCHS} epochs)"


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
    """The study's time against the plan's budget, and what that meant for stage 2."""
    finished = [run for run in runs if math.isfinite(late_fd(run.rows))]
    if not finished:
        return []
    steps = sum(training_hours(run.rows) for run in runs)
    logged = sum(r.logged_hours for r in registrations if math.isfinite(r.logged_hours))
    per_run = sum(training_hours(run.rows) for run in finished) / len(finished)
    arm = len(PLAN_SEEDS) * per_run
    lines = [
        "### Time and the budget",
        "",
        f"The {len(runs)} runs here spent {steps:.1f} hours in training steps; the log, from "
        f"each run's first start to its finish, spans {logged:.1f} hours (pauses and restarts "
        "included). The plan gives the study "
        f"about {BUDGET_HOURS:g} hours of CPU and trains a stage-2 arm (every seed of it, "
        f"{len(PLAN_SEEDS)} runs) only while the total stays within that.",
    ]
    stage2 = sorted({run.arm.label for run in runs if not run.arm.primary})
    if stage2:
        lines[-1] += f" Stage-2 arms here: {', '.join(stage2)}."
    elif interim:
        lines[-1] += " Stage 2 waits for stage 1 to be complete."
    elif steps + arm > BUDGET_HOURS:
        lines[-1] += (
            f" No stage-2 arm was trained: an arm would add about {arm:.1f} hours of steps "
            f"({60 * per_run:.0f} minutes a run, this study's mean) to the {steps:.1f} that "
            f"stage 1 took, more than the {BUDGET_HOURS:g} the plan allows."
        )
    else:
        lines[-1] += " No stage-2 arm has been trained yet."
    return [*lines, ""]


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
            "far, not a decision."
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


def exploratory_section(confirmation: Confirmation) -> list[str]:
    lines = [
        "## Exploratory (not confirmatory)",
        "",
        "Everything in this section is exploratory: outside the Holm family, with uncorrected "
        "p-values, and never a confirmed finding. Each figure is the mean ± sd over an arm's "
        f"finished runs; final FD, score, recall, precision and classes covered are those of "
        f"epoch {EPOCHS}. "
        "Dead channels are the share of the channels of D's second layer that are dead on the "
        "probe batch; dead units, the share of its units (channel and position) whose "
        "pre-activation is at most 0 for every probe image, averaged over a run's epochs (a "
        "figure the plan does not name; under LeakyReLU such a unit still passes α times its "
        "gradient); grad to G is the gradient norm reaching G's images, averaged over a run's "
        "epochs; a collapse flag is an evaluation with classifier score below 2 or recall "
        "below 0.01.",
        "",
    ]
    rows = []
    for s in confirmation.summaries:
        f = s.figures
        rows.append(
            [
                s.arm.label,
                str(s.runs),
                mean_sd(f["late FD"], 2),
                mean_sd(f["final FD"], 2),
                mean_sd(f["score"], 2),
                mean_sd(f["recall"], 3),
                mean_sd(f["precision"], 3),
                mean_sd(f["coverage"], 2),
            ]
        )
    header = ["arm", "finished runs", "late FD", "final FD", "score", "recall", "precision"]
    header.append("classes covered")
    lines += [*table(header, rows), ""]
    rows = []
    for s in confirmation.summaries:
        f = s.figures
        rows.append(
            [
                s.arm.label,
                mean_sd(f["dead channels L2, epoch 1"], 1, 100, "%"),
                mean_sd(f[f"dead channels L2, epoch {EPOCHS}"], 1, 100, "%"),
                mean_sd(f["dead units L2"], 1, 100, "%"),
                mean_sd(f["grad to G"], None),
                f"{s.flags} ({s.flagged_runs} of {s.runs} runs)",
            ]
        )
    header = ["arm", "dead channels L2, epoch 1", f"epoch {EPOCHS}", "dead units L2"]
    header.append("grad to G")
    header.append("collapse flags (runs with any)")
    lines += [*table(header, rows), ""]
    if confirmation.comparisons:
        lines += [
            "Paired late-FD differences outside the primary family (uncorrected p):",
            "",
        ]
        rows = [
            [t.what, seeds_used(t), signed(t.estimate), interval(t), fmt(t.dz, 2), fmt_p(t.p)]
            for t in confirmation.comparisons
        ]
        header = ["difference", "seeds used", "mean", "95% CI", "d_z", "p (uncorrected)"]
        lines += [*table(header, rows), ""]
    return lines + mechanism_lines(confirmation.mechanism, confirmation.summaries)


def mechanism_lines(m: Mechanism, summaries: Sequence[ArmSummary]) -> list[str]:
    """The plan's exploratory correlation of dead channels with the gradient reaching G."""
    runs = sum(s.runs for s in summaries)
    if not runs:
        return []
    heading = ["### Dead channels and the gradient reaching G", ""]
    first, second = m.most_dead
    if first == 0 and second == 0:
        return [
            *heading,
            "No channel of D's first or second layer was dead on the probe batch (its "
            "pre-activation at most 0 at every position of every probe image, which under ReLU "
            f"means no output and no gradient) at any epoch of the {runs} finished runs. The "
            "plan's correlation of dead channels with the gradient reaching G is therefore "
            "undefined: with no dead channel there is nothing to correlate.",
            "",
        ]
    rows = [[f"within {arm.label}", str(c.n), *_r(c)] for arm, c in m.within]
    rows.append(["all runs, centred by arm", str(m.centred.n), *_r(m.centred)])
    rows.append(["between arms (their means)", str(m.between.n), *_r(m.between)])
    header = ["runs", "n", "Pearson r", "95% bootstrap CI", "p (permutation, uncorrected)"]
    return [
        *heading,
        "Per run, the mean over its epochs of the share of D's dead layer-2 channels and of "
        "the gradient norm reaching G's images. The most channels dead at any epoch of any "
        f"finished run: {100 * first:.1f}% of layer 1, {100 * second:.1f}% of layer 2. Where "
        "the dead share does not vary, r is undefined (n/a).",
        "",
        *table(header, rows),
        "",
    ]


def _r(c: Correlation) -> list[str]:
    if not math.isfinite(c.r):
        return ["n/a", "n/a", "n/a"]
    return [f"{c.r:+.2f}", f"{c.low:+.2f} to {c.high:+.2f}", fmt_p(c.p)]


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
        lines += [
            f"Made by `{command}` from the run folders and the study's log; run again on the "
            "same files, it writes this file byte for byte.",
            "",
        ]
    lines += [
        f"The plan ({PLAN_PATH}) was fixed by commit `{plan.commit}`, committed "
        f"{plan.committed}. Every run below first started after that time, logged under that "
        "commit; the table gives both times.",
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
            "line (the pairing the tests use), with each arm's mean and its 95% t interval over "
            "seeds; right, every finished primary run's FD at each epoch, the late window "
            "shaded, collapse flags marked with a cross.",
            "",
        ]
    lines += power_section(confirmation)
    lines += exploratory_section(confirmation)
    return "\n".join(lines).rstrip("\n") + "\n"
