"""Score a trained generator: FD, classifier score, coverage and precision/recall.

    python -m gan_tf.evaluate RUN_DIR_OR_GENERATOR [--n 10000] [--data PATH]

A small classifier trained once on the real data (and cached) judges N generated
images against N real test images; the same figures for N real training images
are printed beside them as the reference. Writes evaluation.json beside the generator.
The first evaluation of a dataset trains that classifier first (on MNIST about
7 minutes on a 2-core CPU, with a progress line per epoch); later ones reuse it.
Labelled data of any size (MNIST, Fashion-MNIST, CIFAR-10, a folder of class subfolders,
of which a seeded seventh is held out as its test split) gets its own classifier. A folder
without classes is scored instead on InceptionV3 features: FID, KID, precision/recall and
density/coverage, with Keras' ImageNet weights (downloaded once) or --fid-weights PATH.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gan_tf.cli.common import (
    DEFAULT_CACHE_DIR,
    ArgumentParser,
    command_name,
    given_config_values,
    positive_int,
    seed_int,
)
from gan_tf.cli.quiet import quiet_tensorflow
from gan_tf.evaluation.sampling import DEFAULT_SEED


def build_parser() -> ArgumentParser:
    from gan_tf.evaluation.classifier import FINAL_N

    title, _usage, details = __doc__.split("\n\n", 2)
    parser = ArgumentParser(
        prog=command_name("evaluate"),
        description=f"{title}\n\n{details}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", type=Path, help="a run folder, or a generator .keras file")
    parser.add_argument(
        "--n",
        type=positive_int,
        default=FINAL_N,
        help=f"images per set, at least 10 (default: {FINAL_N})",
    )
    parser.add_config_flags(parser, ("data", "dataset", "fid_weights"), keep_absent=True)
    parser.add_cache_dir_flag(
        parser,
        "the folder the run's config.json names, such as a study's classifier/, if it is "
        f"there; else {DEFAULT_CACHE_DIR}",
        keep_absent=True,
    )
    parser.add_argument(
        "--seed",
        type=seed_int,
        default=DEFAULT_SEED,
        help=f"sampling seed (default: {DEFAULT_SEED})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """The `python -m gan_tf.evaluate` command; bad input exits 2 with one line."""
    quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    given = given_config_values(args)

    def body():
        from gan_tf.evaluation.quality import evaluate, format_table

        result = evaluate(
            args.target,
            args.n,
            given.get("data"),
            given.get("dataset"),
            given.get("cache_dir"),
            args.seed,
            fid_weights=given.get("fid_weights"),
        )
        print(format_table(result))
        print(f"wrote {result['path']}")

    return parser.run(body)


if __name__ == "__main__":
    sys.exit(main())
