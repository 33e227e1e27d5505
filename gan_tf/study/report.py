"""The study report, assembled: report.md from the tables, notes and reading, beside the
plots and the progress GIF.

`write_report` is the one entry: runs in, a report folder out. What report.md prints of the
command line (the command that rebuilds the study, each pilot's training command, the
spelling of a setting) is handed in by the caller; the library spells settings by their
`Config` field.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gan_tf.files import write_text
from gan_tf.study.analysis import Analysis, analyse
from gan_tf.study.description import reach_bullets
from gan_tf.study.figures import PLOT_NAMES, write_figures
from gan_tf.study.formatting import setting_title, setting_values
from gan_tf.study.frames import PROGRESS_GIF_NAME
from gan_tf.study.measures import SCORE_THRESHOLDS
from gan_tf.study.method import (
    RULES,
    descriptive_line,
    limits,
    mechanism_line,
    power_line,
    slope_line,
)
from gan_tf.study.notes import (
    best_fd_note,
    class_balance,
    pilot_classifier_note,
    reference,
    relapse_section,
    speed_note,
)
from gan_tf.study.reading import reading
from gan_tf.study.records import RunResult
from gan_tf.study.tables import (
    collapse_table,
    epoch_columns_note,
    evaluated_epochs_table,
    pilot_summary,
    results_table,
    statistics_table,
    time_table,
    time_to_text,
)
from gan_tf.study.wording import PLAIN, Wording

REPORT_NAME = "report.md"
# What report.md shows of the figures, in PLOT_NAMES' order: (file name, caption).
CAPTIONS = (
    "FD vs epoch",
    "Dead channels vs epoch",
    "Gradient reaching the generator vs epoch",
    "Losses vs epoch",
    "Dead channels against the gradient reaching the generator, per run",
    "Final samples",
)
PLOTS = tuple(zip(PLOT_NAMES, CAPTIONS, strict=True))


def _missing(runs: Sequence[RunResult]) -> list[str]:
    notes = []
    for r in runs:
        name = f"{r.label}, {r.setting}, seed {r.seed}"
        if not r.metrics:
            notes.append(f"{name}: no metrics rows; left out of curves and per-epoch columns.")
        if not (r.final and r.final.get("generator")) and not r.diverged:
            notes.append(f"{name}: no final evaluation; left out of the final figures.")
    return notes


def write_report(
    runs: Sequence[RunResult],
    report_dir: str | Path,
    budget: str,
    pilots: Sequence[RunResult] = (),
    wording: Wording = PLAIN,
) -> Path:
    """Writes the study's report: report.md, the plots (PLOT_NAMES) and the progress GIF.

    Runs without metrics, final evaluation or progress images are left out of what needs
    them, and report.md says so; an unreadable progress image is skipped with a warning.

    Args:
        runs: the study's runs (at least one).
        report_dir: folder to write into; created if absent.
        budget: one sentence on the training budget (epochs, steps, batch, data, seeds).
        pilots: runs outside the grid (the pilot that chose the budget, longer reference
            runs), shown with their scores over training and their time to quality.
        wording: the command that rebuilds the study (shown at the top) and how the text
            names a setting the reader can change (default: its `Config` field; the
            command layer passes its flag spelling).

    Returns:
        The path of report.md.

    Raises:
        ValueError: `runs` is empty.
    """
    if not runs:
        raise ValueError("no runs to report")
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    analysis = analyse(runs)
    notes, has_gif = write_figures(analysis, report_dir)
    plots = (
        [*PLOTS, (PROGRESS_GIF_NAME, "Progress, all variants side by side")] if has_gif else PLOTS
    )
    lines = markdown(analysis, runs, budget, plots, pilots, wording)
    missing = _missing(runs) + notes
    if missing:
        lines += ["## Missing data", "", *(f"- {note}" for note in missing), ""]
    path = report_dir / REPORT_NAME
    write_text(path, "\n".join(lines))
    return path


def pilot_section(
    pilots: Sequence[RunResult], runs: Sequence[RunResult] = (), wording: Wording = PLAIN
) -> list[str]:
    """The pilots in one table against the grid's budget, then each one's command, its
    evaluated epochs and when its score first reached each threshold."""
    lines = [
        "## Pilot and reference runs",
        "",
        "Ordinary `gan_tf.train` runs outside the grid: the pilot that chose the budget above "
        "and any longer run shown for comparison. The score at the grid's budget is that of "
        "the last evaluated epoch within it, for runs at the grid's batch size; steps at which "
        "a score was reached are to within the evaluation interval.",
        "",
        *pilot_summary(pilots, runs),
        "",
        "Each run's evaluated epochs follow. " + epoch_columns_note(wording.spell),
        "",
    ]
    for run in pilots:
        title = f"{run.label}, {setting_values(run.setting, run.lr, run.beta1)}"
        lines += [f"### {title}, batch {run.batch_size}, seed {run.seed}", ""]
        if run.command:
            lines += [f"    {run.command}", ""]
        lines += evaluated_epochs_table(run) or ["No evaluated epoch."]
        lines += ["", "; ".join(time_to_text(run, t) for t in SCORE_THRESHOLDS) + ".", ""]
        if balance := class_balance(run):
            lines += [balance, ""]
    if note := pilot_classifier_note(pilots, runs):
        lines += [note, ""]
    return lines


def markdown(
    analysis: Analysis,
    runs: Sequence[RunResult],
    budget: str,
    plots: Sequence[tuple[str, str]],
    pilots: Sequence[RunResult] = (),
    wording: Wording = PLAIN,
) -> list[str]:
    """report.md's lines up to its notes: `plots` are (file name, caption) to show; the
    other arguments as `write_report`'s."""
    labels = ", ".join(dict.fromkeys(g.label for g in analysis.groups))
    seeds = ", ".join(map(str, sorted({r.seed for r in runs})))
    settings = ", ".join(analysis.settings)
    trained = [g for g in analysis.groups if g.runs]
    lines = ["# ReLU vs LeakyReLU in the DCGAN discriminator", ""]
    if wording.study_command:
        lines += [
            "Made by the command below. Run again from the same folder, it trains only what "
            "is unfinished and rewrites this report from the run folders.",
            "",
            f"    {wording.study_command}",
            "",
        ]
    lines += [budget.strip(), ""]
    lines += [f"{len(runs)} runs: variants {labels}; settings {settings}; seeds {seeds}.", ""]
    if pilots:
        lines += pilot_section(pilots, runs, wording)
    lines += ["## Real-data reference", "", reference(runs, wording.spell), "", "## Results", ""]
    lines += [
        "Each cell is mean ± sd (ddof=1) over the runs of a variant at a setting (a single "
        "value where only one run has it; n/a where none does). Final FD, score, classes, "
        "precision and recall are the final evaluation; FD figures leave collapsed runs out "
        "(FD runs says how many remain). Dead channels and grad → G are means over the "
        "probed epochs; D(x) and D(G(z)) the last epoch's; time is training wall time.",
        "",
    ]
    for setting in analysis.settings:
        if groups := analysis.trained(setting):
            lines += [f"### {setting_title(groups[0])}", "", *results_table(groups), ""]
    if note := best_fd_note(trained):
        lines += [note, ""]
    lines += ["## Collapse", "", *collapse_table(analysis.groups), ""]
    lines += relapse_section(trained)
    lines += [
        "## Time to quality",
        "",
        "Images seen (cumulative steps x batch size) and wall seconds until the first evaluated "
        "epoch whose classifier score reaches each threshold (so to within the evaluation "
        "interval); the median is over the runs that reached it, k of n counts them.",
        "",
        *time_table(trained),
        "",
    ]
    if note := speed_note(runs):
        lines += [note, ""]
    lines += ["## Statistics", "", *(f"- {rule}" for rule in RULES), ""]
    lines += [f"{analysis.family} p-values were corrected together.", ""]
    lines += [power, ""] if (power := power_line(analysis)) else []
    lines += [*statistics_table(analysis.comparisons), "", mechanism_line(analysis), ""]
    lines += [slope_line(analysis), ""] if analysis.slopes else []
    lines += [descriptive, ""] if (descriptive := descriptive_line(analysis)) else []
    lines += ["## Plots", ""]
    for name, caption in plots:
        lines += [f"![{caption}]({name})", ""]
    bullets = [*reach_bullets(analysis, pilots), *reading(analysis)]
    lines += ["## What the numbers show", "", *(f"- {b}" for b in bullets), ""]
    lines += ["## What they do not show", "", *(f"- {limit}" for limit in limits(analysis)), ""]
    diverged = [r for g in analysis.groups for r in g.diverged]
    if diverged:
        lines += ["## Diverged runs", "", "Left out of every statistic above.", ""]
        lines += [f"- {r.label}, {r.setting}, seed {r.seed}" for r in diverged] + [""]
    return lines
