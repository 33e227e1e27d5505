"""gan_tf's error vocabulary.

- `UserError` and its family (bad settings, data, run folder, evaluation): the
  user can fix it.
- `DivergenceError`: a loss became NaN or infinite.
- `TrainingInterrupted`: Ctrl-C or SIGTERM stopped training after a checkpoint.

A library error names the setting at fault and the ways out by their `Config` field
(`out_dir`) or `train()` keyword (`restart=True`), never by a command-line flag: the
command layer (`gan_tf.cli.common.run_command`) spells them as flags and maps each
error to one line and an exit code. An exception outside this vocabulary is a bug and
keeps its traceback.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

# Keywords of `train()` that are switches, not `Config` fields: a library message spells
# them `restart=True`; the command layer spells them as flags.
SWITCHES = ("restart", "allow_changes")


def keyword(setting: str) -> str:
    """How a library message names a setting: its `Config` field or `train()` keyword."""
    return f"{setting}=True" if setting in SWITCHES else setting


@dataclasses.dataclass(frozen=True)
class Remedy:
    """A way out of an error; `text` has a "{}" for each of `settings`, which the caller
    spells (`keyword` in Python, a flag on the command line)."""

    text: str
    settings: tuple[str, ...]

    def render(self, spell: Callable[[str], str] = keyword) -> str:
        return self.text.format(*map(spell, self.settings))


RESTART = Remedy("pass {} to move the earlier run aside and start over", ("restart",))
ALLOW_CHANGES = Remedy("pass {} to continue it with these settings", ("allow_changes",))
OTHER_OUT_DIR = Remedy("choose another {}", ("out_dir",))


class UserError(ValueError):
    """Something the user can fix.

    Args:
        message: what is wrong, naming the file or value.
        setting: the `Config` field at fault, if one is: the message follows its name
            ("out_dir" + " runs/x is a file, not a folder").
        remedies: ways out, in the order to offer them.
        resumes: the run folder of a run this error stopped midway, which the same
            training resumes (the command layer says how).
    """

    def __init__(
        self, message: str, *, setting: str | None = None, remedies=(), resumes: str | None = None
    ):
        super().__init__(message)
        self.message = message
        self.setting = setting
        self.remedies = tuple(remedies)
        self.resumes = resumes

    def render(self, spell: Callable[[str], str] = keyword) -> str:
        """The message with its setting and remedies spelled by `spell`."""
        text = f"{spell(self.setting)} {self.message}" if self.setting else self.message
        return "; ".join([text, *(remedy.render(spell) for remedy in self.remedies)])

    def __str__(self) -> str:
        return self.render()


class ConfigError(UserError):
    """A setting is out of range or inconsistent."""


class DataError(UserError):
    """A data file is missing, unreadable or not MNIST-shaped; the message names it."""


class RunDirError(UserError):
    """The run folder cannot hold this run; the message says why."""


class RunDirBusy(RunDirError):
    """Another live process trains into the run folder."""


class EvaluationError(DataError):
    """The data or the files cannot serve an evaluation; the message says why."""


class DivergenceError(RuntimeError):
    """A loss became NaN or infinite; nothing of that epoch was saved."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped training after saving a checkpoint; running the same
    training again (into `resumes`, the run folder) continues it."""

    def __init__(self, message: str, resumes: str | None = None):
        super().__init__(message)
        self.resumes = resumes


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
