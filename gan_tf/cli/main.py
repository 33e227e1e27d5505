"""The `gan-tf` command: `gan-tf {train,generate,gif,evaluate,study,compare} [flags]`.

`gan-tf train ...` is `python -m gan_tf.train ...`, and so on for each command;
`python -m gan_tf ...` works the same way. Flags without a command name train
(`gan-tf --epochs 5` is `gan-tf train --epochs 5`); no words at all print the usage.
"""

from __future__ import annotations

import importlib
import sys

from gan_tf import __version__
from gan_tf.cli.common import INVOKED_AS

COMMANDS = {
    "train": "train a DCGAN: the tutorial's networks or the paper's (or resume a run)",
    "generate": "draw images from a trained generator",
    "gif": "build a run's progress GIF from its frames",
    "evaluate": "score a generator: FD and classifier score, or FID and KID; precision/recall",
    "study": "the ReLU vs LeakyReLU study: a grid of runs and its report",
    "compare": "runs side by side: grids, a GIF and a table of their figures",
    "confirm": "study v3's confirmatory analysis and its report, as its plan fixes it",
}


def usage() -> str:
    lines = [
        "usage: gan-tf COMMAND [flags]   (COMMAND --help for its flags; --version)",
        "",
        "commands:",
    ]
    lines += [f"  {name:<10} {text}" for name, text in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None, invoked_as: str = "gan-tf") -> int:
    """Runs the named command's `main` with the remaining flags.

    Args:
        argv: the words after the command's name (default: the command line's).
        invoked_as: how the user started it ("gan-tf", or "python -m gan_tf"): usage
            lines, hints and recorded commands repeat it.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:  # never start a 2-hour training run by surprise
        print(usage(), file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv[0] in ("-V", "--version"):
        print(f"gan-tf {__version__}")
        return 0
    name = argv.pop(0) if argv and argv[0] in COMMANDS else "train"
    if argv[:1] and not argv[0].startswith("-") and name == "train":
        print(f"gan-tf: unknown command {argv[0]!r}\n{usage()}", file=sys.stderr)
        return 2
    INVOKED_AS["prefix"] = f"{invoked_as} "
    return importlib.import_module(f"gan_tf.cli.{name}").main(argv)


if __name__ == "__main__":
    sys.exit(main())
