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
from gan_tf.config import (
    ACTIVATIONS,
    DATASETS,
    MIXED_PRECISION,
    STRATEGIES,
    Config,
    read_config,
)

# Each flag's group and help; the default is appended from Config, so it is written once.
_FLAGS = {
    "model": {
        "activation": "the discriminator's hidden activation",
        "alpha": "LeakyReLU's negative slope (tutorial: Keras' 0.3; DCGAN paper: 0.2); "
        "ignored for relu",
        "dropout": "dropout rate after each of the discriminator's activations",
        "noise_dim": "length of the generator's input noise vector",
    },
    "training": {
        "epochs": "passes over the training set",
        "batch_size": "images per training step (an epoch's last step may have fewer)",
        "gen_lr": "generator's Adam learning rate",
        "disc_lr": "discriminator's Adam learning rate",
        "beta1": "Adam's beta_1 for both optimizers (DCGAN paper: 0.5)",
        "seed": "seeds weights, data order, noise and the fixed 16-sample progress grid",
        "max_steps_per_epoch": "end each epoch after N steps, for short runs",
        "deterministic": "TensorFlow op determinism: bit-identical reruns on the same machine "
        "and versions, somewhat slower",
    },
    "speed and scale": {
        "steps_per_call": "training steps per compiled call (fewer Python round trips)",
        "jit_compile": "compile the training step with XLA",
        "fused_discriminator": "one discriminator call on real and fake images together "
        "(same math; slower on CPU, see benchmarks/README.md)",
        "mixed_precision": "float16 (with loss scaling) or bfloat16 compute, float32 "
        "weights and losses",
        "strategy": "tf.distribute strategy: mirrored uses every local GPU; multi_worker "
        "the machines in $TF_CONFIG",
    },
    "measurement": {
        "probe_size": "real and generated images in the fixed batch that the per-epoch "
        "dying-ReLU diagnostics probe the discriminator with",
        "eval_every": "every N epochs (and after the last) score eval_n samples: FD, "
        "classifier score, coverage, precision/recall (trains a small classifier once)",
        "eval_n": "samples per evaluation during training (FD depends on it)",
        "cache_dir": "where the evaluation classifier is cached (none: ~/.cache/gan_tf)",
    },
    "data": {
        "dataset": "dataset Keras downloads (and caches) when --data is not given",
        "data": "local data instead of a download: a Keras-format .npz, or a folder of "
        "IDX files (.gz or raw), e.g. ../shared/data/mnist",
        "buffer_size": "shuffle buffer, in images",
        "train_limit": "train on a seeded subset of N images (none: all)",
    },
    "output": {
        "out_dir": "run folder: progress images, GIF, metrics, config, checkpoints, generator",
        "checkpoint_every": "save a checkpoint every N epochs (and always after the last)",
        "max_checkpoints": "checkpoints to keep",
    },
}
_CHOICES = {
    "activation": ACTIVATIONS,
    "dataset": DATASETS,
    "mixed_precision": MIXED_PRECISION,
    "strategy": STRATEGIES,
}
_METAVARS = {"int": "N", "float": "X", "str": "PATH"}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_parser() -> ArgumentParser:
    """The CLI: a flag per `Config` field (but the grid size), defaults read from Config."""
    parser = ArgumentParser(
        prog="python -m gan_tf.train",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = Config()
    fields = {field.name: field for field in dataclasses.fields(Config)}
    for title, flags in _FLAGS.items():
        group = parser.add_argument_group(title)
        for name, help_text in flags.items():
            default = getattr(defaults, name)
            # field.type is a string such as "int" or "int | None" (PEP 563).
            type_name = fields[name].type.split(" ")[0]
            if type_name == "bool":
                group.add_argument(
                    _flag(name),
                    dest=name,
                    action=argparse.BooleanOptionalAction,
                    default=argparse.SUPPRESS,
                    help=f"{help_text} (default: {'on' if default else 'off'})",
                )
                continue
            group.add_argument(
                _flag(name),
                dest=name,
                type={"int": int, "float": float}.get(type_name, str),
                choices=_CHOICES.get(name),
                default=argparse.SUPPRESS,
                metavar=None if name in _CHOICES else _METAVARS[type_name],
                help=f"{help_text} (default: {'none' if default is None else default})",
            )
        if title == "output":
            group.add_argument(
                "--resume",
                action="store_true",
                help="fail unless --out-dir holds a checkpoint (default: resume if one exists)",
            )
            group.add_argument("--quiet", action="store_true", help="no progress bars or summaries")
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
    from gan_tf.loop import DivergenceError, RunDirError, TrainingInterrupted, train

    if args.resume and not any(config.checkpoint_dir.glob("**/checkpoint")):
        parser.fail(f"--resume: no checkpoint in {config.checkpoint_dir}")
    try:
        train(config, verbose=0 if args.quiet else 1)
    except (DataError, RunDirError) as e:
        parser.fail(e)
    except DivergenceError as e:
        parser.exit(3, f"{parser.prog}: diverged: {e}\n")
    except TrainingInterrupted as e:
        parser.exit(130, f"\n{parser.prog}: {e}\n")
    except KeyboardInterrupt:
        # A second Ctrl-C: files are written atomically, so the last good ones stay.
        parser.exit(130, f"\n{parser.prog}: interrupted; the last complete checkpoint is kept\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
