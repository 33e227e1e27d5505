"""What every gan_tf command shares: one-line errors, quiet TensorFlow."""

from __future__ import annotations

import argparse
import os


def quiet_tensorflow() -> None:
    """Hides TensorFlow's C++ start-up chatter (CUDA probing on CPU machines).

    Must run before TensorFlow is imported; an explicit TF_CPP_MIN_LOG_LEVEL wins.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")

    def fail(self, error: BaseException | str):
        """Exits with code 2 and `error` as one line, without a traceback."""
        text = " ".join(str(error).split()) or type(error).__name__
        self.exit(2, f"{self.prog}: error: {text}\n")


def positive_int(text: str) -> int:
    """argparse type: an integer > 0.

    Raises:
        argparse.ArgumentTypeError: anything else, which argparse reports in one line.
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value
