"""gan_tf's error vocabulary, and the one mapping from errors to exit codes.

- `UserError` and its family (bad settings, data, run folder, evaluation): the
  user can fix it; one line on stderr, exit code 2.
- `DivergenceError`: a loss became NaN or infinite; exit code 3.
- `TrainingInterrupted` (and a second Ctrl-C): exit code 130, the shell's code for SIGINT.

Every command runs its body through `run_command`, so the mapping is written once.
An exception outside this vocabulary is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable

EXIT_USER_ERROR = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130


class UserError(ValueError):
    """Something the user can fix; the message names the flag or file and what is wrong."""


class ConfigError(UserError):
    """A setting (a flag) is out of range or inconsistent."""


class DataError(UserError):
    """A data file is missing, unreadable or not MNIST-shaped; the message names it."""


class RunDirError(UserError):
    """The run folder cannot hold this run; the message says why."""


class EvaluationError(DataError):
    """The data or the files cannot serve an evaluation; the message says why."""


class DivergenceError(RuntimeError):
    """A loss became NaN or infinite; nothing of that epoch was saved."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped training after saving a checkpoint; says how to resume."""


def one_line(error: BaseException | str) -> str:
    """The message of `error` on one line (its type's name if it has none)."""
    text = " ".join(str(error).split())
    return text or type(error).__name__


def file_error(error: OSError, what: str = "") -> UserError:
    """An `OSError` of the file system (disk full, no permission, name too long, ...) as a
    `UserError` naming the file."""
    name = error.filename or what or "a file"
    reason = error.strerror or one_line(error)
    return UserError(f"{name}: {reason}")


def run_command(prog: str, body: Callable[[], int | None], resume_hint: str = "") -> int:
    """Runs a command's body and turns gan_tf's errors into one line and an exit code.

    Args:
        prog: the command's name, e.g. "python -m gan_tf.train".
        body: does the work; returns an exit code or None for 0.
        resume_hint: appended to the message of a second Ctrl-C.

    Returns:
        The exit code: 0, or 2 (`UserError`, or a file-system `OSError`), 3 (divergence),
        130 (interrupted).
    """

    def say(message: str) -> None:
        print(f"{prog}: {message}", file=sys.stderr, flush=True)

    def show_warning(message, category, filename, lineno, file=None, line=None):
        say(f"warning: {one_line(message)}")

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning  # one line each, like the errors
            return body() or 0
    except UserError as e:
        say(f"error: {one_line(e)}")
        return EXIT_USER_ERROR
    except OSError as e:
        say(f"error: {one_line(file_error(e))}")
        return EXIT_USER_ERROR
    except DivergenceError as e:
        say(f"diverged: {one_line(e)}")
        return EXIT_DIVERGED
    except TrainingInterrupted as e:
        print(file=sys.stderr)
        say(one_line(e))
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        # A second Ctrl-C: files are written atomically, so the last good ones stay.
        print(file=sys.stderr)
        say("interrupted; every file written so far is complete" + resume_hint)
        return EXIT_INTERRUPTED
