"""Study v3's confirmatory analysis, as docs/study/v3/plan.md fixes it.

    python -m gan_tf.confirm RUNS_DIR [--log docs/study/v3/log.csv]
                             [--out docs/study/v3/report.md]

Reads every run folder in RUNS_DIR and the study's log, checks that each run
first started after the commit that fixed the plan (dated by the git repository of
the current folder, so run it from the repository root), and writes the report:
the runs with both times, H1 to H3 with Holm's correction and the plan's readings,
the power for the seeds used, and the exploratory summaries; beside it, late_fd.png
shows each seed's late FD per arm and every run's FD per epoch. Rebuilt from the same
runs and log, both are the same files byte for byte.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path

from gan_tf.cli.common import ArgumentParser, command_name
from gan_tf.errors import UserError

DEFAULT_LOG = Path("docs/study/v3/log.csv")
DEFAULT_OUT = Path("docs/study/v3/report.md")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=command_name("confirm"),
        description=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("runs_dir", type=Path, metavar="RUNS_DIR", help="the v3 run folders")
    parser.add_argument(
        "--log",
        type=Path,
        default=DEFAULT_LOG,
        metavar="PATH",
        help=f"the study's log (default: {DEFAULT_LOG})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="PATH",
        help=f"report to write (default: {DEFAULT_OUT})",
    )
    return parser


def commit_time(commit: str) -> str:
    """The commit time (ISO 8601) of `commit` in the git repository of the current folder
    (the repository root, where the default paths point).

    Raises:
        UserError: git is missing, or the commit is not in that repository's history.
    """
    if not re.fullmatch(r"[0-9a-f]{7,40}", commit):
        raise UserError(f"names plan commit {commit!r}, which is not a commit hash", setting="log")
    try:
        done = subprocess.run(
            ["git", "log", "-1", "--format=%cI", commit, "--"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as e:
        raise UserError(f"cannot run git to date the plan's commit ({e.strerror})") from None
    committed = done.stdout.strip()
    if done.returncode or not committed:
        raise UserError(
            f"names plan commit {commit}, which the git history here lacks", setting="log"
        )
    return committed


def rebuild_command(args: argparse.Namespace) -> str:
    """The command that rebuilds this report, as the report prints it."""
    words = [
        *shlex.split(command_name("confirm")),
        str(args.runs_dir),
        "--log",
        str(args.log),
        "--out",
        str(args.out),
    ]
    return shlex.join(words)


def main(argv: list[str] | None = None) -> int:
    """The `python -m gan_tf.confirm` command; bad input exits 2 with one line."""
    parser = build_parser()
    args = parser.parse_args(argv)

    def body():
        from gan_tf.files import write_text
        from gan_tf.study.confirm import confirm
        from gan_tf.study.confirm_figures import LATE_FD_NAME, plot_late_fd
        from gan_tf.study.confirm_report import confirm_report
        from gan_tf.study.confirm_runs import (
            PLAN_SEEDS,
            Plan,
            check_preregistration,
            load_runs,
            plan_commit,
            read_log,
            unlisted,
        )

        entries = read_log(args.log)
        commit = plan_commit(entries)
        plan = Plan(commit, commit_time(commit))
        runs = load_runs(args.runs_dir)
        registrations = check_preregistration(runs, entries, plan)
        result = confirm(runs)
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure = path.with_name(LATE_FD_NAME)
        drawn = plot_late_fd(runs, figure, result.primary)
        if not drawn:
            figure.unlink(missing_ok=True)  # no finished run: an older picture would mislead
        text = confirm_report(
            runs,
            result,
            registrations,
            plan,
            command=rebuild_command(args),
            missing=unlisted(runs, entries),
            figure=LATE_FD_NAME if drawn else "",
        )
        write_text(path, text)
        state = "interim" if result.interim else "final"
        complete = f"{len(result.complete)} of {len(PLAN_SEEDS)} seeds complete"
        print(f"wrote {path} ({state}: {complete})")

    return parser.run(body)


if __name__ == "__main__":
    sys.exit(main())
