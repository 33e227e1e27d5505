"""The one frozen configuration of a gan_tf run, with the tutorial's defaults.

Every default is written here once: the CLI, the notebook and the tests read
them from `Config`, and derive variants with `dataclasses.replace`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os

from gan_tf.errors import ConfigError

ACTIVATIONS = ("relu", "leaky_relu")
DATASETS = ("mnist", "fashion_mnist")
MIXED_PRECISION = ("off", "float16", "bfloat16")
STRATEGIES = ("default", "mirrored", "multi_worker")
# The fields whose value is one of a fixed set (the command line offers them as choices).
CHOICES = {
    "activation": ACTIVATIONS,
    "dataset": DATASETS,
    "mixed_precision": MIXED_PRECISION,
    "strategy": STRATEGIES,
}

# Fields that fix the networks, or the layout of their checkpoint (float16
# wraps the optimizers in loss scaling): a run folder holding a checkpoint
# made with other values cannot be resumed with these.
ARCHITECTURE_FIELDS = ("noise_dim", "activation", "alpha", "dropout", "mixed_precision")


@dataclasses.dataclass(frozen=True)
class Variant:
    """The discriminator's hidden activation: relu, or leaky_relu with negative slope alpha.

    ReLU has no slope: its `alpha` is 0, whatever a run's `Config.alpha` says (the tutorial's
    default stays in config.json, and means nothing there).
    """

    activation: str
    alpha: float = 0.0

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ConfigError(
                f"must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}",
                setting="activation",
            )
        if self.activation == "relu":
            object.__setattr__(self, "alpha", 0.0)
        _in_range(self, "alpha", "[0, 1]")

    @classmethod
    def parse(cls, text: str) -> Variant:
        """Parses "relu", "leaky_relu" (the tutorial's alpha) or "leaky_relu:0.2".

        Raises:
            ConfigError: anything else, listing the valid forms.
        """
        name, _, alpha = text.partition(":")
        try:
            if name == "relu" and not alpha:
                return cls("relu")
            if name == "leaky_relu":
                return cls("leaky_relu", float(alpha) if alpha else Config.alpha)
        except (ValueError, ConfigError):
            pass
        raise ConfigError(
            f"bad variant {text!r}: use relu, leaky_relu, or leaky_relu:ALPHA with 0 <= ALPHA <= 1"
        )

    @property
    def name(self) -> str:
        """The spelling `parse` reads: "relu" or "leaky_relu:0.2"."""
        return "relu" if self.activation == "relu" else f"leaky_relu:{self.alpha!r}"

    @property
    def label(self) -> str:
        """For people: "relu" or "leaky_relu α=0.2"."""
        return "relu" if self.activation == "relu" else f"leaky_relu α={self.alpha:g}"

    @property
    def slug(self) -> str:
        """For file names: "relu" or "leaky_relu_0.2"."""
        return "relu" if self.activation == "relu" else f"leaky_relu_{self.alpha:g}"


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings of one training run.

    The defaults reproduce tensorflow.org/tutorials/generative/dcgan.
    """

    epochs: int = 50
    batch_size: int = 256
    noise_dim: int = 100
    # The discriminator's hidden activation; the tutorial uses LeakyReLU with
    # Keras' default negative slope 0.3 (the DCGAN paper: 0.2).
    activation: str = "leaky_relu"
    alpha: float = 0.3
    dropout: float = 0.3
    gen_lr: float = 1e-4
    disc_lr: float = 1e-4
    beta1: float = 0.9
    seed: int = 0
    dataset: str = "mnist"
    data: str | None = None
    out_dir: str = "runs/dcgan"
    checkpoint_every: int = 15
    max_steps_per_epoch: int | None = None
    buffer_size: int = 60000
    num_examples_to_generate: int = 16
    max_checkpoints: int = 3
    # Use a seeded subset of this many training images (for quick studies).
    train_limit: int | None = None
    # Real and generated images in the fixed batch the diagnostics probe D with.
    probe_size: int = 256
    # Every N epochs (and after the last), score N=eval_n samples: FD, score, coverage.
    eval_every: int | None = None
    eval_n: int = 2000
    # Where the evaluation classifier is cached (default: ~/.cache/gan_tf).
    cache_dir: str | None = None
    # TensorFlow's op determinism: bit-identical reruns on one machine, a little slower.
    deterministic: bool = False
    # Speed and scale; none changes what is computed beyond float rounding.
    steps_per_call: int = 1
    jit_compile: bool = False
    # One discriminator call on real and fakes together (slower on CPU: benchmarks/).
    fused_discriminator: bool = False
    mixed_precision: str = "off"
    strategy: str = "default"

    def __post_init__(self):
        validate(self)

    @property
    def variant(self) -> Variant:
        """The discriminator's activation and its slope (0 for relu)."""
        return Variant(self.activation, self.alpha)

    def with_absolute_paths(self) -> Config:
        """This config with its data and classifier paths made absolute against the current
        folder: what a run stores, so that resuming it from another folder reads the same
        files."""
        given = {name: getattr(self, name) for name in PATH_FIELDS}
        return dataclasses.replace(
            self, **{name: os.path.abspath(path) for name, path in given.items() if path}
        )

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Config:
        """Parses `to_json` output; unknown keys (from newer versions) are ignored."""
        values = json.loads(text)
        if not isinstance(values, dict):
            raise ValueError("config is not a JSON object")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def _positive_int(config: Config, name: str, allow_none: bool = False) -> None:
    value = getattr(config, name)
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"must be a positive integer, got {value!r}", setting=name)


def _in_range(config: Config, name: str, interval: str) -> None:
    """Checks that a float field lies in `interval`, written like "[0, 1)"."""
    value = getattr(config, name)
    low, high = (float(x) for x in interval[1:-1].split(","))
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value >= low if interval[0] == "[" else value > low) and (
            value <= high if interval[-1] == "]" else value < high
        )
    if not ok:
        raise ConfigError(f"must be a number in {interval}, got {value!r}", setting=name)


# Fixed caps, not this machine's memory: a config.json must read the same on every machine.
# The generator's first Dense layer holds noise_dim x 12544 float32 weights (7*7*256 units):
# 65536 makes it 3.3 GB, and 13 GB with its gradient and Adam's two moments, which one
# large GPU still holds; the tutorial uses 100. A larger value could not be allocated on
# common machines and failed deep inside Keras, after the run folder was written.
MAX_NOISE_DIM = 65536
# The dying-ReLU probe runs G and D on probe_size images each at once, keeping every
# activation for its gradients: about 1.5 MB a probe image, so 4096 takes about 6 GB (the
# tutorial's batch is 256).
MAX_PROBE_SIZE = 4096


def _at_most(config: Config, name: str, limit: int) -> None:
    value = getattr(config, name)
    if value > limit:
        raise ConfigError(f"must be at most {limit}, got {value!r}", setting=name)


# The fewest images a sample-quality evaluation takes (FD's covariances, k-NN precision/recall).
MIN_SAMPLES = 10


def check_sample_count(value, setting: str) -> None:
    """Refuses an evaluation size below `MIN_SAMPLES`.

    Raises:
        ConfigError: naming `setting`.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < MIN_SAMPLES:
        raise ConfigError(
            f"must be an integer of at least {MIN_SAMPLES}, got {value!r}", setting=setting
        )


def check_seed(value, setting: str = "seed") -> None:
    """Refuses a seed outside [0, 2**32), the range NumPy and TensorFlow seeds share.

    Raises:
        ConfigError: naming `setting`.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
        raise ConfigError(f"must be an integer in [0, 2**32), got {value!r}", setting=setting)


# Each field's annotation (a string, PEP 563) names its type: what a value read from
# config.json must be. A bool is no number here, and a number no bool.
_KINDS = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}
_KIND_NAMES = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false"}
# Fields that hold paths: a run stores them absolute (see `Config.with_absolute_paths`).
PATH_FIELDS = ("data", "cache_dir")


def _check_types(config: Config) -> None:
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        kind, *rest = field.type.split(" | ")
        if value is None and rest == ["None"]:
            continue
        if not isinstance(value, _KINDS[kind]) or (kind != "bool" and isinstance(value, bool)):
            allowed = _KIND_NAMES[kind] + (" or none" if rest else "")
            raise ConfigError(f"must be {allowed}, got {value!r}", setting=field.name)


def validate(config: Config) -> None:
    """Checks every user-facing choice once, the type of every field first (a config.json
    edited by hand may hold "false" for false).

    Raises:
        ConfigError: naming the field, the bad value and what is valid.
    """
    _check_types(config)
    for name in (*PATH_FIELDS, "out_dir"):
        value = getattr(config, name)
        if value is not None and not value.strip():
            raise ConfigError("must not be empty", setting=name)
    for name, valid in CHOICES.items():
        if getattr(config, name) not in valid:
            raise ConfigError(
                f"must be one of {', '.join(valid)}, got {getattr(config, name)!r}", setting=name
            )
    for name in ("epochs", "batch_size", "noise_dim", "checkpoint_every", "buffer_size"):
        _positive_int(config, name)
    _positive_int(config, "num_examples_to_generate")
    _positive_int(config, "max_checkpoints")
    _positive_int(config, "max_steps_per_epoch", allow_none=True)
    _positive_int(config, "train_limit", allow_none=True)
    _positive_int(config, "eval_every", allow_none=True)
    _positive_int(config, "probe_size")
    _at_most(config, "noise_dim", MAX_NOISE_DIM)
    _at_most(config, "probe_size", MAX_PROBE_SIZE)
    _positive_int(config, "steps_per_call")
    check_sample_count(config.eval_n, "eval_n")
    check_seed(config.seed)
    _in_range(config, "alpha", "[0, 1]")
    _in_range(config, "dropout", "[0, 1)")
    _in_range(config, "gen_lr", "(0, 1]")
    _in_range(config, "disc_lr", "(0, 1]")
    _in_range(config, "beta1", "[0, 1)")
