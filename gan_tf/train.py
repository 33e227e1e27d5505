"""Train the TensorFlow tutorial's DCGAN on MNIST from the command line.

    python -m gan_tf.train [--epochs 50] [--activation {relu,leaky_relu}] ...

Every default reproduces tensorflow.org/tutorials/generative/dcgan. Outputs go
to --out-dir: image_at_epoch_NNNN.png per epoch, dcgan.gif, metrics.csv,
config.json, checkpoints/ and generator.keras. Running again into the same
--out-dir resumes from its last checkpoint; flags you leave out are then taken
from the run's saved config.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from gan_tf.cli import ArgumentParser, quiet_tensorflow
from gan_tf.config import ACTIVATIONS, DATASETS, Config, read_config

# Each flag's help; the default is appended from Config, so it is written once.
_HELP = {
    "epochs": "passes over the training set",
    "batch_size": "images per training step (the last step of an epoch may have fewer)",
    "noise_dim": "length of the generator's input noise vector",
    "activation": "the discriminator's hidden activation",
    "alpha": "LeakyReLU's negative slope (tutorial: Keras' 0.3; DCGAN paper: 0.2); "
    "ignored for relu",
    "dropout": "dropout rate after each of the discriminator's activations",
    "gen_lr": "generator's Adam learning rate",
    "disc_lr": "discriminator's Adam learning rate",
    "beta1": "Adam's beta_1 for both optimizers (DCGAN paper: 0.5)",
    "seed": "seeds weights, data order, noise and the fixed 16-sample progress grid",
    "dataset": "dataset to download with Keras when --data is not given",
    "data": "local data instead of a download: a Keras-format .npz, or a folder of "
    "IDX files (.gz or raw), e.g. ../shared/data/mnist",
    "out_dir": "run folder for images, GIF, metrics, config, checkpoints and the generator",
    "checkpoint_every": "save a checkpoint every N epochs (and always after the last)",
    "max_steps_per_epoch": "stop each epoch after N steps, for short runs",
    "buffer_size": "shuffle buffer, in images",
    "max_checkpoints": "checkpoints to keep",
}
_CHOICES = {"activation": ACTIVATIONS, "dataset": DATASETS}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_parser() -> ArgumentParser:
    """The CLI: one flag per `Config` field (but the progress-grid size), defaults from Config."""
    parser = ArgumentParser(
        prog="python -m gan_tf.train",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = Config()
    for field in dataclasses.fields(Config):
        if field.name not in _HELP:
            continue
        default = getattr(defaults, field.name)
        # field.type is a string such as "int" or "int | None" (PEP 563).
        kind = {"int": int, "float": float}.get(field.type.split(" ")[0], str)
        parser.add_argument(
            _flag(field.name),
            dest=field.name,
            type=kind,
            choices=_CHOICES.get(field.name),
            default=argparse.SUPPRESS,
            metavar=None if field.name in _CHOICES else field.name.upper(),
            help=f"{_HELP[field.name]} (default: {'none' if default is None else default})",
        )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="require a checkpoint in --out-dir to resume from (default: resume if one exists)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars or summaries")
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    """The run's Config: flags given win, then the out-dir's saved config, then the defaults.

    Raises:
        ValueError: a flag value is out of range, or the saved config is unreadable.
    """
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config) if f.name in args}
    given.setdefault("out_dir", Config.out_dir)
    base = read_config(given["out_dir"]) or Config()
    return dataclasses.replace(base, **given)


def main(argv: list[str] | None = None) -> int:
    """Parses flags, trains, and turns every expected failure into one line and exit code 2."""
    quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as e:
        parser.fail(e)
    from gan_tf.data import DataError
    from gan_tf.loop import RunDirError, train

    if args.resume and not (config.checkpoint_dir / "checkpoint").is_file():
        parser.fail(f"--resume: no checkpoint in {config.checkpoint_dir}")
    try:
        train(config, verbose=0 if args.quiet else 1)
    except (DataError, RunDirError) as e:
        parser.fail(e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
