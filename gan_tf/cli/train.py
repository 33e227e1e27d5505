"""Train the TensorFlow tutorial's DCGAN on MNIST from the command line.

    python -m gan_tf.train [--epochs 50] [--activation {relu,leaky_relu}] ...

Every default reproduces tensorflow.org/tutorials/generative/dcgan. Outputs go
to --out-dir: image_at_epoch_NNNN.png per epoch, dcgan.gif, metrics.csv,
config.json, checkpoints/ and generator.keras. Running again into the same
--out-dir resumes from its last checkpoint; flags you leave out are then taken
from the run's saved config.json, and a run is extended by raising --epochs.
Ctrl-C saves a checkpoint and says how to resume.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys

from gan_tf.cli.common import (
    DEFAULT_CACHE_DIR,
    ArgumentParser,
    command_name,
    given_config_values,
    with_guessed_dataset,
)
from gan_tf.cli.quiet import quiet_tensorflow
from gan_tf.config import Config, make_config
from gan_tf.errors import ConfigError, RunDirError
from gan_tf.rundir import RunDir

FLAG_GROUPS = {
    "model": (
        "architecture",
        "image_size",
        "channels",
        "gen_width",
        "disc_width",
        "activation",
        "alpha",
        "dropout",
        "noise_dim",
    ),
    "training": (
        "epochs",
        "batch_size",
        "gen_lr",
        "disc_lr",
        "beta1",
        "seed",
        "max_steps_per_epoch",
        "deterministic",
    ),
    "speed and scale": (
        "steps_per_call",
        "jit_compile",
        "fused_discriminator",
        "mixed_precision",
        "strategy",
    ),
    "measurement": ("probe_size", "eval_every", "eval_n", "fid_weights"),
    "data": ("dataset", "data", "crop", "buffer_size", "train_limit"),
    "output": ("out_dir", "checkpoint_every", "max_checkpoints"),
}


def build_parser() -> ArgumentParser:
    """The CLI: a flag per `Config` field (but the grid size), defaults read from Config."""
    parser = ArgumentParser(
        prog=command_name("train"),
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for title, names in FLAG_GROUPS.items():
        group = parser.add_argument_group(title)
        parser.add_config_flags(group, names, keep_absent=True)
        if title == "measurement":
            parser.add_cache_dir_flag(group, DEFAULT_CACHE_DIR, keep_absent=True)
        if title == "output":
            group.add_argument(
                "--resume",
                action="store_true",
                help="fail unless --out-dir holds a checkpoint (default: resume if one exists)",
            )
            group.add_argument(
                "--allow-changes",
                action="store_true",
                help="continue a run folder with other training settings (batch size, "
                "learning rates, beta1, seed, data); recorded in its config.json",
            )
            group.add_argument(
                "--restart",
                action="store_true",
                help="start over in a folder that holds an earlier (or damaged) run: its files "
                "are moved to OUT_DIR.replaced-TIME, never deleted",
            )
            group.add_argument("--quiet", action="store_true", help="no progress bars or summaries")
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    """The run's Config: flags given win, then the out-dir's saved config, then the defaults.

    Raises:
        UserError: a flag value is out of range, or the saved config is unreadable.
    """
    given = given_config_values(args)
    given.setdefault("out_dir", Config.out_dir)
    # --restart starts over: the earlier run's settings (its config may be damaged) are not used.
    restart = getattr(args, "restart", False)
    saved = None if restart else RunDir(given["out_dir"]).read_config()
    if saved is None:  # a new run: the defaults of its architecture
        return make_config(**with_guessed_dataset(given))
    return dataclasses.replace(saved, **given)


def main(argv: list[str] | None = None, **train_options) -> int:
    """Parses flags and trains; every expected failure is one line and an exit code.

    Args:
        argv: the flags (default: the command line's).
        **train_options: passed on to `train()` (the tests give `wrap_train_steps`).
    """
    quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)

    def body():
        config = config_from_args(args)
        if args.resume and args.restart:
            raise ConfigError("--resume and --restart contradict each other")
        if args.resume and not RunDir(config.out_dir).latest_checkpoint():
            raise RunDirError(f"--resume: no checkpoint in {RunDir(config.out_dir).checkpoints}")
        from gan_tf.training.loop import train

        train(
            config,
            verbose=0 if args.quiet else 1,
            allow_changes=args.allow_changes,
            restart=args.restart,
            **train_options,
        )

    def resume_hint(out_dir: str | None) -> str:
        if out_dir is None or "\n" in out_dir:  # a quoted newline would break the line
            return "; run the same command to resume"
        return f"; resume with: {shlex.join([*parser.prog.split(), '--out-dir', out_dir])}"

    return parser.run(body, resume_hint=resume_hint)


if __name__ == "__main__":
    sys.exit(main())
