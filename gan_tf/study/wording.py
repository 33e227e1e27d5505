"""How a report words what its reader can run or change, as the caller hands it in.

The library names a setting by its `Config` field and knows no command line; the command
layer (`gan_tf.cli.study`) passes the command that rebuilds a study, the command that trains
one of its runs and its flag spelling of a setting, so that report.md prints what a reader
of the command line would type.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from gan_tf.config import Config
from gan_tf.errors import keyword


@dataclasses.dataclass(frozen=True)
class Wording:
    """What a report prints of the way its runs were made.

    Attributes:
        study_command: the command that rebuilds the study, printed at the top ("": none).
        run_command: spells the command that trains a run of given settings, printed for
            each pilot (None: none).
        spell: names a setting the reader can change (default: its `Config` field).
    """

    study_command: str = ""
    run_command: Callable[[Config], str] | None = None
    spell: Callable[[str], str] = keyword


# The library's own wording: no commands, and settings by their `Config` field.
PLAIN = Wording()
