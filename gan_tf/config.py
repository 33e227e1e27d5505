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
# The networks: the tutorial's (28x28 images) or the DCGAN paper's (32, 64 or 128 pixels).
ARCHITECTURES = ("tutorial", "dcgan")
# Keras' downloads, and "folder": a folder of the user's own image files (the data setting).
DATASETS = ("mnist", "fashion_mnist", "cifar10", "folder")
MIXED_PRECISION = ("off", "float16", "bfloat16")
STRATEGIES = ("default", "mirrored", "multi_worker")
# The fields whose value is one of a fixed set (the command line offers them as choices).
CHOICES = {
    "architecture": ARCHITECTURES,
    "activation": ACTIVATIONS,
    "dataset": DATASETS,
    "mixed_precision": MIXED_PRECISION,
    "strategy": STRATEGIES,
}

# Fields that fix the networks, or the layout of their checkpoint (float16
# wraps the optimizers in loss scaling): a run folder holding a checkpoint
# made with other values cannot be resumed with these.
ARCHITECTURE_FIELDS = (
    "architecture",
    "image_size",
    "channels",
    "gen_width",
    "disc_width",
    "noise_dim",
    "activation",
    "alpha",
    "dropout",
    "mixed_precision",
)
# The channels of each dataset Keras downloads; a folder's follow its images.
DATASET_CHANNELS = {"mnist": 1, "fashion_mnist": 1, "cifar10": 3}
# The tutorial's networks draw 28x28 images; the DCGAN paper's draw these sizes.
TUTORIAL_IMAGE_SIZE = 28
DCGAN_IMAGE_SIZES = (32, 64, 128)
# What architecture="dcgan" changes in the defaults: the DCGAN paper's image size, batch,
# Adam settings and LeakyReLU slope, and no dropout (the paper's discriminator has none).
PAPER_DEFAULTS = {
    "image_size": 64,
    "batch_size": 128,
    "gen_lr": 2e-4,
    "disc_lr": 2e-4,
    "beta1": 0.5,
    "alpha": 0.2,
    "dropout": 0.0,
}


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
    # The networks; with "dcgan", `make_config` gives the fields left out PAPER_DEFAULTS.
    architecture: str = "tutorial"
    # Images are centre-cropped to a square (first to crop x crop pixels, if given) and
    # resized to image_size; channels: 1 or 3, or None to follow the data.
    image_size: int = TUTORIAL_IMAGE_SIZE
    channels: int | None = None
    crop: int | None = None
    # The DCGAN networks' channels: the last hidden layer of G, the first of D (paper: 128).
    gen_width: int = 64
    disc_width: int = 64
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
    # Where the evaluation classifier and decoded image folders are cached (default:
    # ~/.cache/gan_tf).
    cache_dir: str | None = None
    # A local InceptionV3 weights file for FID/KID (default: Keras' ImageNet download).
    fid_weights: str | None = None
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

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(size, size, channels) of the images the networks draw: `channels`, else the
        dataset's (3 for a folder whose images have not been read yet)."""
        channels = self.channels or DATASET_CHANNELS.get(self.dataset, 3)
        return (self.image_size, self.image_size, channels)

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


def make_config(**given) -> Config:
    """A `Config` of the given values, the others at the defaults of the architecture given:
    the tutorial's, or with architecture="dcgan" the DCGAN paper's (`PAPER_DEFAULTS`).

    Raises:
        ConfigError: as `Config`.
    """
    return Config(**with_architecture_defaults(given))


def with_architecture_defaults(given: dict, base: dict | None = None) -> dict:
    """`given` over the defaults its architecture changes: `PAPER_DEFAULTS` for "dcgan",
    none for the tutorial's; over `base` (field values) beneath both."""
    paper = PAPER_DEFAULTS if given.get("architecture") == "dcgan" else {}
    return {**(base or {}), **paper, **given}


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
# The DCGAN networks' widest layer holds width * 2**(upsamplings - 1) channels of 5x5
# kernels: at 1024 and 128 pixels, G's first transposed convolution alone has 2.7e10 weights.
MAX_WIDTH = 1024


def _at_most(config: Config, name: str, limit: int) -> None:
    value = getattr(config, name)
    if value > limit:
        raise ConfigError(f"must be at most {limit}, got {value!r}", setting=name)


def _check_shape(config: Config) -> None:
    """The image size, channels, crop and widths the architecture can take."""
    for name in ("image_size", "gen_width", "disc_width"):
        _positive_int(config, name)
    _positive_int(config, "crop", allow_none=True)
    if config.channels not in (None, 1, 3):
        raise ConfigError(f"must be 1, 3 or none, got {config.channels!r}", setting="channels")
    if config.architecture == "tutorial" and config.image_size != TUTORIAL_IMAGE_SIZE:
        raise ConfigError(
            f"must be {TUTORIAL_IMAGE_SIZE} for the tutorial's networks, got "
            f"{config.image_size!r} (the dcgan architecture takes "
            f"{', '.join(map(str, DCGAN_IMAGE_SIZES))})",
            setting="image_size",
        )
    if config.architecture == "dcgan" and config.image_size not in DCGAN_IMAGE_SIZES:
        raise ConfigError(
            f"must be one of {', '.join(map(str, DCGAN_IMAGE_SIZES))} for the dcgan "
            f"architecture, got {config.image_size!r}",
            setting="image_size",
        )
    for name in ("gen_width", "disc_width"):
        _at_most(config, name, MAX_WIDTH)
    if config.architecture == "dcgan" and config.fused_discriminator:
        raise ConfigError(
            "must be off for the dcgan architecture: its discriminator's batch norm would "
            "mix real and generated images' statistics in one call",
            setting="fused_discriminator",
        )


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
PATH_FIELDS = ("data", "cache_dir", "fid_weights")


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
    _check_shape(config)
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
