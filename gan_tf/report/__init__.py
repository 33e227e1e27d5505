"""The report of a ReLU vs LeakyReLU study: tables, statistics, plots, a GIF and a reading.

A study is a grid of DCGAN runs that differ only in the discriminator's hidden activation
(the variant), the optimiser setting and the seed. Each run is handed in as a `RunResult`;
`write_report` turns a list of them into report.md, the PNG plots and progress.gif.

    stats    per-run figures, collapse, Welch tests, Holm, the mechanism's correlation
    text     number formatting, the tables, the plain-language reading, report.md
    figures  the curves, the mechanism scatter, the samples and the progress GIF

numpy, scipy, matplotlib and imageio only, no TensorFlow: a report can be rebuilt from
run folders on any machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gan_tf.files import write_text
from gan_tf.report.figures import GIF_NAME, PLOT_NAMES, write_figures
from gan_tf.report.stats import Analysis, RunResult, analyse, correlate, holm, welch
from gan_tf.report.text import markdown

REPORT_NAME = "report.md"
# What report.md shows of the figures, in order: (file name, caption).
PLOTS = (
    ("fd.png", "FD vs epoch"),
    ("dead.png", "Dead channels vs epoch"),
    ("grad.png", "Gradient reaching the generator vs epoch"),
    ("losses.png", "Losses vs epoch"),
    ("mechanism.png", "Dead channels against the gradient reaching the generator, per run"),
    ("samples.png", "Final samples"),
)

__all__ = [
    "GIF_NAME",
    "PLOT_NAMES",
    "REPORT_NAME",
    "Analysis",
    "RunResult",
    "analyse",
    "correlate",
    "holm",
    "welch",
    "write_report",
]


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
    command: str = "",
    pilots: Sequence[RunResult] = (),
) -> Path:
    """Writes the study's report: report.md, the plots (PLOT_NAMES) and progress.gif.

    Runs without metrics, final evaluation or progress images are left out of what needs
    them, and report.md says so; an unreadable progress image is skipped with a warning.

    Args:
        runs: the study's runs (at least one).
        report_dir: folder to write into; created if absent.
        budget: one sentence on the training budget (epochs, steps, batch, data, seeds).
        command: the command that rebuilds the study and this report, shown at the top.
        pilots: runs outside the grid (the pilot that chose the budget, longer reference
            runs), shown with their scores over training and their time to quality.

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
    plots = [*PLOTS, (GIF_NAME, "Progress, all variants side by side")] if has_gif else PLOTS
    lines = markdown(analysis, runs, budget, plots, command, pilots)
    missing = _missing(runs) + notes
    if missing:
        lines += ["## Missing data", "", *(f"- {note}" for note in missing), ""]
    path = report_dir / REPORT_NAME
    write_text(path, "\n".join(lines))
    return path
