"""The run folder: the one place where the name of every file a run reads or writes is spelled.

    RUN_DIR/
      config.json              the run's settings (and the changes accepted on the way)
      metrics.csv              one row per finished epoch
      image_at_epoch_NNNN.png  the progress grid after each epoch (the tutorial's name)
      dcgan.gif                the progress grids as an animation
      generator.keras          the generator, loadable with keras.models.load_model
      evaluation.json          the evaluate command's figures
      diverged.json            a study run that diverged
      checkpoints/             kept checkpoints; checkpoints/latest/ the newest one
      tensorboard/             scalars, histograms and the grid per epoch
      .lock                    held while a process trains into the folder

Everything here is plain file I/O (TensorFlow is imported only to find checkpoints),
so a study report or a notebook can read run folders cheaply.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from pathlib import Path

from gan_tf.config import Config
from gan_tf.errors import RESTART, Remedy, RunDirError
from gan_tf.files import write_text

CONFIG_NAME = "config.json"
METRICS_NAME = "metrics.csv"
GIF_NAME = "dcgan.gif"
GENERATOR_NAME = "generator.keras"
EVALUATION_NAME = "evaluation.json"
DIVERGED_NAME = "diverged.json"
CHECKPOINTS_NAME = "checkpoints"
LATEST_NAME = "latest"
TENSORBOARD_NAME = "tensorboard"
LOCK_NAME = ".lock"
FRAME_GLOB = "image_at_epoch_*.png"

# metrics.csv's columns. Every module that writes, reads or plots a measurement takes its
# name from here.
LOSS_COLUMNS = ("gen_loss", "disc_loss")
# D's mean probability of "real" on the probe's real and generated images.
D_REAL, D_FAKE = "d_real", "d_fake"
# The gradient that reaches the generator: per image, and over G's weights.
GRAD_TO_G = "gen_image_grad_norm"
GEN_WEIGHT_GRAD = "gen_weight_grad_norm"
# Measured for each hidden layer L of D, as MEASURE_L (see `layer_column`).
LAYER_MEASURES = ("dead_channels", "dead_units", "negative", "act_grad_disc", "act_grad_gen")
# Sample quality, in the epochs that are evaluated (and evaluation.json).
QUALITY_COLUMNS = ("fd", "score", "covered", "mode_kl", "precision", "recall")
# The same for images the MNIST classifier cannot judge, on InceptionV3 features.
INCEPTION_COLUMNS = ("fid", "kid", "precision", "recall", "density", "coverage")


# The way out of a misplaced entry: it alone, or the whole earlier run.
_MOVE_IT = Remedy("move it away", ())


def layer_column(measure: str, layer: int) -> str:
    """The column of a per-layer measure: ("dead_channels", 2) -> "dead_channels_2"."""
    return f"{measure}_{layer}"


DEAD_CHANNELS_1 = layer_column("dead_channels", 1)
DEAD_CHANNELS_2 = layer_column("dead_channels", 2)
# Only exact names count as frames: "image_at_epoch_0002 copy.png" is not one.
_FRAME = re.compile(r"image_at_epoch_(\d{4,})\.png")


def frame_name(epoch: int) -> str:
    """The progress image's file name for `epoch`, as the tutorial names it."""
    return f"image_at_epoch_{epoch:04d}.png"


def frame_epoch(path: str | Path) -> int | None:
    """The epoch of a progress image from its name (image_at_epoch_0012.png -> 12), or
    None if the name is not exactly a frame's."""
    match = _FRAME.fullmatch(Path(path).name)
    return int(match.group(1)) if match else None


@dataclasses.dataclass(frozen=True)
class RunDir:
    """The paths of one run folder, and the reading and writing of its small files."""

    path: Path

    def __init__(self, path: str | Path):
        object.__setattr__(self, "path", Path(path))

    def __str__(self) -> str:
        return str(self.path)

    config = property(lambda self: self.path / CONFIG_NAME)
    metrics = property(lambda self: self.path / METRICS_NAME)
    gif = property(lambda self: self.path / GIF_NAME)
    generator = property(lambda self: self.path / GENERATOR_NAME)
    evaluation = property(lambda self: self.path / EVALUATION_NAME)
    diverged = property(lambda self: self.path / DIVERGED_NAME)
    checkpoints = property(lambda self: self.path / CHECKPOINTS_NAME)
    latest_checkpoints = property(lambda self: self.path / CHECKPOINTS_NAME / LATEST_NAME)
    tensorboard = property(lambda self: self.path / TENSORBOARD_NAME)
    lock = property(lambda self: self.path / LOCK_NAME)

    def frame(self, epoch: int) -> Path:
        """The progress image of `epoch`."""
        return self.path / frame_name(epoch)

    def frames(self) -> dict[int, Path]:
        """{epoch: progress image}, in epoch order; files not named exactly like a frame
        are left out."""
        found = {frame_epoch(p): p for p in self.path.glob(FRAME_GLOB)}
        return {epoch: found[epoch] for epoch in sorted(e for e in found if e is not None)}

    # --- the layout ---------------------------------------------------------------
    def check_layout(self) -> None:
        """Refuses a folder where a path the run writes has the wrong kind: a file where a
        folder must be (tensorboard/, checkpoints/), a folder where a file must be
        (config.json, metrics.csv, a progress image, ...), or a dangling symbolic link. Reads
        only; call it before writing anything (`restart` moves such entries aside instead).

        Raises:
            RunDirError: naming the path and what it must be.
        """
        if not self.path.is_dir():
            return  # the folder itself is the preflight's to judge
        folders = {
            self.checkpoints: "its checkpoints",
            self.latest_checkpoints: "its newest checkpoint",
            self.tensorboard: "its TensorBoard logs",
        }
        files = {
            self.config: "its settings",
            self.metrics: "its metrics",
            self.gif: "its progress GIF",
            self.generator: "its generator",
            self.lock: "its lock",
        }
        # A progress image is redrawn or deleted when a run resumes, and read into its GIF.
        frames = (path for path in self.path.glob(FRAME_GLOB) if frame_epoch(path) is not None)
        files.update((path, "a progress image") for path in frames)
        for path, holds in [*folders.items(), *files.items()]:
            if path.is_symlink() and not path.exists():
                problem = "is a dangling symbolic link"
            elif path in folders and path.exists() and not path.is_dir():
                problem = "is not a folder"
            elif path in files and path.exists() and not path.is_file():
                problem = "is a folder, not a file" if path.is_dir() else "is not a regular file"
            else:
                continue
            raise RunDirError(
                f"{path} {problem}: the run keeps {holds} there", remedies=[_MOVE_IT, RESTART]
            )

    # --- config.json --------------------------------------------------------------
    def read_config(self) -> Config | None:
        """The saved config, or None if there is none.

        Raises:
            RunDirError: the file exists but cannot be read or parsed.
        """
        if not self.config.is_file():
            return None
        try:
            return Config.from_json(self.config.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError, TypeError) as e:
            raise RunDirError(f"{self.config}: unreadable run config ({e})") from None

    def read_changes(self) -> list[dict]:
        """The setting changes accepted so far: [{"epoch", "changes": {name: [old, new]}}]."""
        if not self.config.is_file():
            return []
        try:
            changes = json.loads(self.config.read_text(encoding="utf-8-sig")).get("changes", [])
        except (OSError, ValueError, AttributeError):
            return []
        return changes if isinstance(changes, list) else []

    def write_config(self, config: Config, changes: list[dict] | None = None) -> None:
        """Saves `config` (atomically), with the record of accepted changes if any. Keys of
        the saved config.json that are not settings (a newer version's, a user's note) stay."""
        values = {**self._extra_config_keys(), **json.loads(config.to_json())}
        if changes:
            values["changes"] = changes
        write_text(self.config, json.dumps(values, indent=2, sort_keys=True) + "\n")

    def _extra_config_keys(self) -> dict:
        try:
            saved = json.loads(self.config.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError):
            return {}
        settings = {field.name for field in dataclasses.fields(Config)}
        if not isinstance(saved, dict):
            return {}
        return {k: v for k, v in saved.items() if k not in settings and k != "changes"}

    # --- metrics.csv --------------------------------------------------------------
    def read_metrics(self) -> list[dict]:
        """Rows of metrics.csv: floats (NaN where empty), "epoch" as int; [] if there is none.

        Raises:
            RunDirError: the file is not a metrics table (garbage, or its header is gone).
        """
        return read_metrics(self.metrics)

    def write_metrics(self, rows: list[dict]) -> None:
        """Writes all rows atomically (a few KB: rewriting beats appending to a torn file)."""
        write_metrics(self.metrics, rows)

    # --- evaluation.json ----------------------------------------------------------
    def read_evaluation(self) -> dict | None:
        """`evaluate`'s saved result, or None if there is none or it is unreadable."""
        try:
            result = json.loads(self.evaluation.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError):
            return None
        return result if isinstance(result, dict) else None

    def write_evaluation(self, result: dict) -> Path:
        """Saves an evaluation result as evaluation.json (atomically)."""
        write_text(self.evaluation, json.dumps(result, indent=2) + "\n")
        return self.evaluation

    # --- checkpoints --------------------------------------------------------------
    def checkpoint_folders(self) -> tuple[Path, Path]:
        """checkpoints/ (the kept ones) and checkpoints/latest/ (the newest, written after
        every epoch and on interruption)."""
        return self.checkpoints, self.latest_checkpoints

    def latest_checkpoint(self) -> str | None:
        """The newest checkpoint of the run, from either of `checkpoint_folders`; None if
        there is none."""
        import tensorflow as tf

        folders = [f for f in self.checkpoint_folders() if f.is_dir()]
        return newest_checkpoint(tf.train.latest_checkpoint(str(f)) for f in folders)


def checkpoint_step(path: str) -> int:
    """The number of a checkpoint path ("…/ckpt-470" -> 470): gan_tf numbers them by step."""
    return int(str(path).rsplit("-", 1)[1])


def newest_checkpoint(paths) -> str | None:
    """The highest-numbered of some checkpoint paths (None entries ignored), or None."""
    return max(filter(None, paths), key=checkpoint_step, default=None)


def latest_checkpoint(run_dir: str | Path) -> str | None:
    """The newest checkpoint of a run folder (see `RunDir.latest_checkpoint`): pass it to
    `tf.train.Checkpoint.restore`."""
    return RunDir(run_dir).latest_checkpoint()


def read_metrics(path: str | Path) -> list[dict]:
    """Rows of a metrics.csv (see `RunDir.read_metrics`)."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    try:
        # utf-8-sig: a spreadsheet's re-save starts with a byte-order mark; newline="" lets
        # csv read its CRLF line ends.
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or "epoch" not in reader.fieldnames:
                raise ValueError("no header line with an 'epoch' column")
            for row in reader:
                if None in row or None in row.values():
                    raise ValueError(f"line {reader.line_num} has the wrong number of fields")
                # Columns measured only some epochs (fd, score, ...) are empty elsewhere: NaN.
                rows.append(
                    {k: int(v) if k == "epoch" else float(v or "nan") for k, v in row.items()}
                )
    except (OSError, ValueError, csv.Error, UnicodeDecodeError) as e:
        raise RunDirError(f"{path}: not a readable metrics table ({e})") from None
    return rows


def write_metrics(path: str | Path, rows: list[dict]) -> None:
    """Writes metrics rows as CSV, atomically; a column missing from a row is left empty."""
    buffer = io.StringIO()
    fields = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(buffer, fieldnames=fields, restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in row.items()})
    write_text(path, buffer.getvalue())
