"""What every gan_tf command shares: flags derived from `Config`, one-line errors and their
exit codes.

Each `Config` field's flag has its help text here, once; its type, choices and
default come from the dataclass, so `train`, `study` and `evaluate` cannot disagree.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterable

from gan_tf.config import CHOICES, PATH_FIELDS, Config, check_seed
from gan_tf.errors import (
    ConfigError,
    DivergenceError,
    TrainingInterrupted,
    UserError,
    file_error,
    one_line,
)

EXIT_USER_ERROR = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130

FLAG_HELP = {
    # model
    "architecture": "the networks: the tutorial's (28x28 images) or the DCGAN paper's "
    "(32, 64 or 128 pixels); dcgan changes the defaults of image size, batch size, learning "
    "rates, beta1, alpha and dropout to the paper's (64, 128, 2e-4, 0.5, 0.2, 0)",
    "image_size": "image side in pixels: 28 for the tutorial's networks; 32, 64 or 128 for dcgan's",
    "channels": "image channels, 1 (grey) or 3 (colour); images are converted (none: as the "
    "data has them)",
    "gen_width": "dcgan only: channels of the generator's last hidden layer (each earlier "
    "layer has twice as many)",
    "disc_width": "dcgan only: channels of the discriminator's first layer (each later layer "
    "has twice as many)",
    "activation": "the discriminator's hidden activation",
    "alpha": "LeakyReLU's negative slope (tutorial: Keras' 0.3; DCGAN paper: 0.2); "
    "ignored for relu",
    "dropout": "dropout rate after each of the discriminator's activations",
    "noise_dim": "length of the generator's input noise vector",
    # training
    "epochs": "passes over the training set",
    "batch_size": "images per training step (an epoch's last step may have fewer)",
    "gen_lr": "generator's Adam learning rate",
    "disc_lr": "discriminator's Adam learning rate",
    "beta1": "Adam's beta_1 for both optimizers (DCGAN paper: 0.5)",
    "seed": "seeds weights, data order, noise and the fixed 16-sample progress grid; below 2**32",
    "max_steps_per_epoch": "end each epoch after N steps, for short runs",
    "deterministic": "TensorFlow op determinism: bit-identical reruns on the same machine "
    "and versions, somewhat slower",
    # speed and scale
    "steps_per_call": "training steps per compiled call (fewer Python round trips)",
    "jit_compile": "compile the training step with XLA",
    "fused_discriminator": "one discriminator call on real and fake images together "
    "(same math; slower on CPU, see benchmarks/README.md)",
    "mixed_precision": "float16 (with loss scaling) or bfloat16 compute, float32 "
    "weights and losses",
    "strategy": "tf.distribute strategy: mirrored uses every local GPU; multi_worker "
    "the machines in $TF_CONFIG",
    # measurement
    "probe_size": "real and generated images in the fixed batch that the per-epoch "
    "dying-ReLU diagnostics probe the discriminator with",
    "eval_every": "every N epochs (and after the last) score eval_n samples: FD, "
    "classifier score, coverage, precision/recall (trains a small classifier once)",
    "eval_n": "samples per evaluation during training (FD depends on it)",
    "cache_dir": "folder of the evaluation classifier (trained once for the data, then "
    "read from there) and of decoded image folders",
    "fid_weights": "InceptionV3 weights file for FID/KID, the scores of images other than "
    "28x28 digits (none: Keras' ImageNet weights, downloaded once)",
    # data
    "dataset": "dataset Keras downloads (and caches) when --data is not given; folder: "
    "--data is a folder of your own images",
    "data": "local data instead of a download: a Keras-format .npz, a folder of IDX files "
    "(.gz or raw, e.g. ../shared/data/mnist), a folder of your own images (PNG, JPEG, BMP, "
    "GIF, WebP; class subfolders are labels), or CIFAR-10's python folder or .tar.gz (none: "
    "$GAN_TF_DATA for mnist, $GAN_TF_DATA_FASHION_MNIST or $GAN_TF_DATA_CIFAR10 for those "
    "datasets, else a download)",
    "crop": "centre-crop N x N pixels before resizing to the image size (none: the largest "
    "centred square)",
    "buffer_size": "shuffle buffer, in images",
    "train_limit": "train on a seeded subset of N images (none: all)",
    # output
    "out_dir": "run folder: progress images, GIF, metrics, config, checkpoints, generator",
    "checkpoint_every": "save a checkpoint every N epochs (and always after the last)",
    "max_checkpoints": "checkpoints to keep",
}
_METAVARS = {"int": "N", "float": "X", "str": "PATH"}
_FIELDS = {field.name: field for field in dataclasses.fields(Config)}
# Where the evaluation classifier is kept when no --cache-dir is given, outside a study.
DEFAULT_CACHE_DIR = "$GAN_TF_CACHE_DIR, else $XDG_CACHE_HOME/gan_tf or ~/.cache/gan_tf"


# How the user started gan_tf, so that usage lines, hints and recorded commands repeat it:
# "python -m gan_tf." before a command name, or "gan-tf " (the `gan-tf` command), or
# "python -m gan_tf " (`python -m gan_tf train ...`), which `gan_tf.cli.main` sets.
INVOKED_AS = {"prefix": "python -m gan_tf."}


def command_name(command: str) -> str:
    """A command as the user typed it: "python -m gan_tf.train" or "gan-tf train"."""
    return INVOKED_AS["prefix"] + command


def flag(name: str) -> str:
    """The flag of a `Config` field or `train()` switch: batch_size -> --batch-size."""
    return "--" + name.replace("_", "-")


class Terminated(KeyboardInterrupt):
    """SIGTERM asked a command to stop."""


def run_command(
    prog: str,
    body: Callable[[], int | None],
    resume_hint: str | Callable[[str], str] = "",
) -> int:
    """Runs a command's body and turns gan_tf's errors into one line and an exit code.

    Library errors name settings by their `Config` field; here they are spelled as flags.

    Args:
        prog: the command's name, e.g. "python -m gan_tf.train".
        body: does the work; returns an exit code or None for 0.
        resume_hint: appended to the message of an interruption ("; run the same command
            to resume"), or a function of the stopped run's folder (None if unknown) that
            returns it.

    Returns:
        The exit code: 0, or 2 (`UserError`, or a file-system `OSError`), 3 (divergence),
        130 (interrupted).
    """

    def say(message: str) -> None:
        print(f"{prog}: {message}", file=sys.stderr, flush=True)

    def terminated(signum, frame):
        raise Terminated

    def hint(error: BaseException | None = None) -> str:
        resumes = getattr(error, "resumes", None)
        return resume_hint(resumes) if callable(resume_hint) else resume_hint

    def show_warning(message, category, filename, lineno, file=None, line=None):
        say(f"warning: {one_line(message)}")

    # SIGTERM stops a command as Ctrl-C does (training installs its own, gentler handler).
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, terminated) if in_main_thread else None
    try:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning  # one line each, like the errors
            return body() or 0
    except UserError as e:
        say(f"error: {one_line(e.render(flag))}{hint(e) if e.resumes else ''}")
        return EXIT_USER_ERROR
    except OSError as e:
        say(f"error: {one_line(file_error(e))}")
        return EXIT_USER_ERROR
    except DivergenceError as e:
        say(f"diverged: {one_line(e)}")
        return EXIT_DIVERGED
    except TrainingInterrupted as e:
        print(file=sys.stderr)
        say(one_line(e) + hint(e))
        return EXIT_INTERRUPTED
    except Terminated:
        say("SIGTERM: stopped; every file written so far is complete" + hint())
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        # A second Ctrl-C: files are written atomically, so the last good ones stay.
        print(file=sys.stderr)
        say("interrupted; every file written so far is complete" + hint())
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2."""

    def __init__(self, *args, **kwargs):
        # No abbreviations: `--epoch` for `--epochs` would change meaning the day a new
        # flag shares the prefix.
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")

    def add_config_flags(
        self, group, names: Iterable[str], defaults: Config | None = None, keep_absent=False
    ) -> None:
        """Adds a flag for each named `Config` field to `group`.

        Args:
            group: the parser or an argument group.
            names: `Config` field names.
            defaults: the defaults shown in --help (default: `Config()`).
            keep_absent: leave a flag that is not given out of the parsed namespace
                (so saved settings can fill it), instead of setting its default.
        """
        defaults = defaults or Config()
        for name in names:
            default = getattr(defaults, name)
            # field.type is a string such as "int" or "int | None" (PEP 563).
            type_name = _FIELDS[name].type.split(" ")[0]
            value = argparse.SUPPRESS if keep_absent else default
            if type_name == "bool":
                group.add_argument(
                    flag(name),
                    dest=name,
                    action=argparse.BooleanOptionalAction,
                    default=value,
                    help=f"{FLAG_HELP[name]} (default: {'on' if default else 'off'})",
                )
                continue
            group.add_argument(
                flag(name),
                dest=name,
                type={"int": int, "float": float}.get(type_name, str),
                choices=CHOICES.get(name),
                default=value,
                metavar=None if name in CHOICES else _METAVARS[type_name],
                help=f"{FLAG_HELP[name]} (default: {'none' if default is None else default})",
            )

    def add_cache_dir_flag(self, group, default: str, keep_absent: bool = False) -> None:
        """The one --cache-dir: every command means the folder of the evaluation classifier;
        only where it looks by default differs (`default`, said in the help)."""
        group.add_argument(
            flag("cache_dir"),
            dest="cache_dir",
            metavar="PATH",
            default=argparse.SUPPRESS if keep_absent else None,
            help=f"{FLAG_HELP['cache_dir']} (default: {default})",
        )

    def run(
        self, body: Callable[[], int | None], resume_hint: str | Callable[[str], str] = ""
    ) -> int:
        """Runs a command's body with gan_tf's one mapping from errors to exit codes.

        Returns 0 on success; any other code leaves by SystemExit, as argparse's own
        errors do, after the one-line message.
        """
        code = run_command(self.prog, body, resume_hint)
        if code:
            self.exit(code)
        return code


def config_flags(
    config: Config, defaults: Config | None = None, names: Iterable[str] | None = None
) -> list[str]:
    """The flags that set `config`'s fields where they differ from `defaults`.

    Args:
        config: the settings to spell out.
        defaults: what the command would use without flags (default: `Config()`).
        names: the fields to consider (default: every field with a flag), in order.

    Returns:
        Command-line words, e.g. ["--batch-size", "64", "--no-deterministic"]; floats as
        Python spells them (0.0001, 1e-05), which reads back exactly. A field set to None
        where `defaults` has a value has no flag and is left out.
    """
    defaults = defaults or Config()
    words = []
    for name in names or FLAG_HELP:
        value = getattr(config, name)
        if value == getattr(defaults, name) or value is None:
            continue
        if isinstance(value, bool):
            words.append(flag(name) if value else "--no-" + flag(name)[2:])
        else:
            words += [flag(name), repr(value) if isinstance(value, float) else str(value)]
    return words


def shown_path(path: str) -> str:
    """A stored path as a command written into a report shows it: relative to the current
    folder when it lies inside that folder or beside it ("../shared/data/mnist"), else as
    stored. A run stores its paths absolute, which would print this machine's folders."""
    if not os.path.isabs(path):
        return path
    relative = os.path.relpath(path)
    climbs = relative.split(os.sep).count("..")
    return relative if climbs <= 1 else path


def shown_out_dir(out_dir: str) -> str:
    """A run folder as a report's command shows it: as `shown_path` does, and a folder far
    from the current one as runs/NAME, where a reader's checkout would put it."""
    shown = shown_path(out_dir)
    if os.path.isabs(shown):
        return os.path.join("runs", os.path.basename(os.path.normpath(out_dir)))
    return shown


def train_command(config: Config) -> str:
    """The `gan_tf.train` command that trains (or resumes) a run with these settings, as a
    report shows it to a reader: paths by `shown_path` and `shown_out_dir`, so that
    committed reports carry the commands a reader would type, not this machine's folders.

    Args:
        config: the run's settings.

    Returns:
        One shell-quoted line: python -m gan_tf.train with the flags of every field that
        differs from the tutorial's defaults.
    """
    paths = {
        name: shown_path(getattr(config, name)) for name in PATH_FIELDS if getattr(config, name)
    }
    shown = dataclasses.replace(config, **paths, out_dir=shown_out_dir(config.out_dir))
    return shlex.join([*shlex.split(command_name("train")), *config_flags(shown)])


def given_config_values(args: argparse.Namespace) -> dict:
    """The `Config` fields present in parsed flags."""
    return {name: getattr(args, name) for name in _FIELDS if name in args}


def with_guessed_dataset(given: dict) -> dict:
    """Flag values where --data comes without --dataset: the dataset the path holds, where
    it tells (a folder of images, CIFAR-10), else the default (`gan_tf.data.guess_dataset`),
    so that `--data ~/photos` needs no `--dataset folder`."""
    if "data" not in given or "dataset" in given:
        return given
    from gan_tf.data import guess_dataset

    return {**given, "dataset": guess_dataset(given["data"]) or Config.dataset}


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


def seed_int(text: str) -> int:
    """argparse type: a seed, an integer in [0, 2**32) (`check_seed`'s rule)."""
    try:
        value = int(text)
        check_seed(value)
    except (ValueError, ConfigError):
        raise argparse.ArgumentTypeError(
            f"expected an integer in [0, 2**32), got {text!r}"
        ) from None
    return value
