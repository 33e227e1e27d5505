"""The record of one run that the study report and `compare` read, and reading a run folder
into one.

A `RunResult` holds what a run was (variant, optimiser setting, seed, batch size), its
metrics.csv rows and its final evaluation. What the rows add up to over training (steps
done, images seen, wall seconds) is computed here, once per record, so every table and
sentence counts steps and images alike.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gan_tf.config import Config, Variant
from gan_tf.errors import RunDirError
from gan_tf.rundir import RunDir
from gan_tf.study.settings import lr_setting

NAN = float("nan")


@dataclasses.dataclass(frozen=True)
class RunResult:
    """One finished (or diverged) run.

    Attributes:
        variant: D's hidden activation and its slope (0 for relu).
        setting: the optimiser setting's name, e.g. "tutorial", "stressed", "paper".
        lr: Adam's learning rate, of G and D alike.
        beta1: Adam's beta_1.
        seed: the run's seed.
        run_dir: the run folder (holds image_at_epoch_NNNN.png).
        metrics: rows of metrics.csv, one per epoch, in order (quality columns NaN on
            epochs that were not evaluated).
        final: the final evaluation, {"n", "generator": {...}, "reference": {...}}, or {}.
        wall_time: seconds of training.
        batch_size: images per step, to count the images seen.
        diverged: the run stopped on a non-finite loss.
        command: the command that trains it, where known.
        eval_n: samples per evaluation during training (NaN where unknown).
    """

    variant: Variant
    setting: str
    lr: float
    beta1: float
    seed: int
    run_dir: Path
    metrics: list[dict]
    final: dict
    wall_time: float
    batch_size: int
    diverged: bool = False
    command: str = ""
    eval_n: float = NAN

    @property
    def label(self) -> str:
        """The variant for people: "relu" or "leaky_relu α=0.2"."""
        return self.variant.label

    @functools.cached_property
    def steps(self) -> np.ndarray:
        """Training steps done by the end of each metrics row."""
        return np.cumsum(column(self, "steps"))

    @functools.cached_property
    def images(self) -> np.ndarray:
        """Training images seen by the end of each metrics row (steps x batch size)."""
        return self.steps * self.batch_size

    @functools.cached_property
    def seconds(self) -> np.ndarray:
        """Wall seconds of training by the end of each metrics row."""
        return np.cumsum(column(self, "seconds"))


def variant_order(variant: Variant) -> tuple:
    """Sort key: relu first, then by activation and slope."""
    return (variant.activation != "relu", variant.activation, variant.alpha)


def as_float(value) -> float:
    """`value` as a float; NaN where it is none."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return NAN


def column(run: RunResult, key: str) -> np.ndarray:
    """The run's per-epoch values of metrics.csv column `key` (NaN where a row has none)."""
    return np.asarray([as_float(row.get(key)) for row in run.metrics], dtype=float)


def epochs(run: RunResult) -> np.ndarray:
    """The run's epoch numbers (row numbers where a row has none)."""
    return np.asarray([as_float(r.get("epoch", i + 1)) for i, r in enumerate(run.metrics)])


def _saved_eval_n(run: RunDir) -> float:
    """eval_n as the run folder's config.json saved it (NaN where it does not say): the
    sample size its evaluations during training used, whatever the caller's config says."""
    try:
        saved = json.loads(run.config.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return NAN
    value = as_float(saved.get("eval_n")) if isinstance(saved, dict) else NAN
    return value if math.isfinite(value) else NAN


def load_run(
    run_dir: str | Path,
    config: Config | None = None,
    command: Callable[[Config], str] | None = None,
) -> RunResult:
    """The record of any run folder: its metrics.csv, evaluation.json and config.

    Args:
        run_dir: a run folder.
        config: the run's settings (default: the folder's config.json).
        command: spells the command that trains a run of these settings (the command
            layer's); without it the record has no command.

    Returns:
        The record, its setting named after a known one where the learning rates agree.

    Raises:
        RunDirError: no `config` and the folder has no config.json.
    """
    run = RunDir(run_dir)
    config = config or run.read_config()
    if config is None:
        raise RunDirError(f"{run.config}: missing; not a gan_tf run folder")
    rows = run.read_metrics()
    if config.gen_lr == config.disc_lr:
        setting = lr_setting(config.gen_lr, config.beta1).name
    else:
        setting = f"G lr {config.gen_lr:g}, D lr {config.disc_lr:g}"
    return RunResult(
        variant=config.variant,
        setting=setting,
        lr=config.gen_lr,
        beta1=config.beta1,
        seed=config.seed,
        run_dir=run.path,
        metrics=rows,
        final=run.read_evaluation() or {},
        wall_time=sum(row["seconds"] for row in rows),
        batch_size=config.batch_size,
        diverged=run.diverged.is_file(),
        command=command(config) if command else "",
        eval_n=_saved_eval_n(run),
    )
