"""Before a run writes into its folder: is the folder usable, and does what it holds agree?

A run folder can be damaged between runs for ordinary reasons: a sync tool, a
half-copied folder, a full disk, a file re-saved by another program. Training on
top of a damaged run could overwrite or mix results, so `check_run_dir` reads the
folder first (config.json, metrics.csv, the newest checkpoint in full) and
refuses, with one line naming the file, when they do not agree on how far the
run got. Nothing is written until it passes. `restart` moves an earlier run
aside, never deleting it; `allow_changes` continues a run with other settings.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from gan_tf.config import ARCHITECTURE_FIELDS, Config
from gan_tf.errors import (
    ALLOW_CHANGES,
    OTHER_OUT_DIR,
    RESTART,
    RunDirBusy,
    RunDirError,
)
from gan_tf.files import LockedError, folder_lock, write_text
from gan_tf.rundir import LOCK_NAME, RunDir, read_metrics
from gan_tf.training.checkpoint import EPOCH_KEY

# Settings a run cannot change silently once it has trained: the batches, the
# optimizers or the data would no longer be those of the epochs before.
TRAINING_FIELDS = (
    "batch_size",
    "gen_lr",
    "disc_lr",
    "beta1",
    "seed",
    "dataset",
    "crop",
    "train_limit",
    "buffer_size",
    "max_steps_per_epoch",
)


@dataclasses.dataclass
class Preflight:
    """What `check_run_dir` found: the record of setting changes to save, notes to
    print, and whether an earlier run must be moved aside (`restart`)."""

    changes: list[dict]
    notes: list[str]
    earlier_run_to_move: bool = False


def _architecture(config: Config) -> dict:
    arch = {name: getattr(config, name) for name in ARCHITECTURE_FIELDS}
    arch["alpha"] = config.variant.alpha  # 0 for ReLU, whatever config.alpha says
    if config.architecture == "tutorial":  # its widths are fixed, whatever the fields say
        del arch["gen_width"], arch["disc_width"]
    return arch


def _architecture_changes(saved: dict, given: dict) -> dict:
    """The fields where `given` differs from `saved`; channels None ("follow the data")
    agrees with any channels a run stored (a run stores the number its data had)."""
    if given.get("channels") is None:
        given = {**given, "channels": saved.get("channels")}
    return {k: v for k, v in given.items() if saved.get(k) != v}


def check_run_dir(
    run: RunDir, config: Config, allow_changes: bool = False, restart: bool = False
) -> Preflight:
    """Checks, without writing anything, that the run folder can hold this run.

    Args:
        run: the run folder.
        config: the settings of the run about to train.
        allow_changes: accept training settings that differ from the folder's run.
        restart: an earlier run in the folder is to be moved aside, not continued.

    Returns:
        A `Preflight`.

    Raises:
        RunDirError: the path is unusable (a file, a dangling link, not writable, a
            name over the file system's limit); an entry of the run folder is of the wrong
            kind (`RunDir.check_layout`); or the folder holds a damaged run, a
            run of another architecture, or (unless `allow_changes`) one trained with
            other settings.
    """
    try:
        _check_path(run.path)
        unfinished = _restart_target(run)
        if unfinished:  # killed while moving an earlier run aside: that move is finished first
            note = f"finishing a restart that was cut off: the earlier run goes to {unfinished}"
            return Preflight([], [note], earlier_run_to_move=True)
        if restart:  # every entry is moved aside, misplaced ones too
            return Preflight([], [], earlier_run_to_move=_holds_files(run))
        run.check_layout()
        return _check_run(run, config, allow_changes)
    except OSError as e:
        reason = e.strerror or e
        raise RunDirError(
            f"{run.path}: {reason} ({e.filename or run.path})", setting="out_dir"
        ) from None


def _check_path(path: Path) -> None:
    if path.is_symlink() and not path.exists():
        raise RunDirError(f"{path} is a dangling symbolic link", setting="out_dir")
    if path.exists() and not path.is_dir():
        raise RunDirError(f"{path} is a file, not a folder", setting="out_dir")
    existing = next(p for p in (path, *path.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise RunDirError(f"{path}: {existing} is a file, not a folder", setting="out_dir")
    if not can_write(existing):
        raise RunDirError(
            f"{path} cannot be written ({existing} is not writable)", setting="out_dir"
        )
    for part in path.absolute().parts:
        if len(os.fsencode(part)) > 255:  # NAME_MAX of every common file system
            raise RunDirError(
                f"{path}: File name too long (a name over 255 bytes)", setting="out_dir"
            )


def can_write(folder: Path) -> bool:
    """Whether this process may create files in `folder`: a function of its own, so a test
    can deny it (root may write anywhere whatever the permissions say)."""
    return os.access(folder, os.W_OK | os.X_OK)


def _holds_files(run: RunDir) -> bool:
    return run.path.is_dir() and any(p.name != LOCK_NAME for p in run.path.iterdir())


def _check_run(run: RunDir, config: Config, allow_changes: bool) -> Preflight:
    saved = run.read_config()
    changes = run.read_changes()
    rows = read_metrics(run.metrics)
    epoch = _checkpoint_epoch(run)
    _check_agreement(run, saved, rows, epoch)
    if saved is None:
        return Preflight(changes, [])
    before = _architecture(saved)
    different = _architecture_changes(before, _architecture(config))
    if different:
        differences = ", ".join(
            f"{k}={before.get(k)!r} (this run: {v!r})" for k, v in different.items()
        )
        raise RunDirError(
            f"{run.path} holds a run with a different architecture: {differences}",
            remedies=(OTHER_OUT_DIR, RESTART),
        )
    trained = bool(rows) or epoch is not None
    notes = []
    if _absolute(saved.data) != _absolute(config.data) and trained:
        notes.append(f"the data path changed: {saved.data} -> {config.data}")
    changed = {
        name: [getattr(saved, name), getattr(config, name)]
        for name in TRAINING_FIELDS
        if getattr(saved, name) != getattr(config, name)
    }
    if not changed or not trained:
        return Preflight(changes, notes)
    listed = ", ".join(f"{name} {old} -> {new}" for name, (old, new) in changed.items())
    if not allow_changes:
        raise RunDirError(
            f"{run.path} was trained with other settings ({listed})",
            remedies=(ALLOW_CHANGES, OTHER_OUT_DIR),
        )
    start = (epoch or 0) + 1
    notes.append(f"continuing from epoch {start} with changed settings: {listed}")
    return Preflight([*changes, {"epoch": start, "changes": changed}], notes)


def _absolute(path: str | None) -> str | None:
    """A stored path as an absolute one (older runs stored them as typed)."""
    return os.path.abspath(path) if path else path


def _checkpoint_epoch(run: RunDir) -> int | None:
    """The finished epochs that the newest checkpoint holds, or None if there is none.

    Reads every tensor of it, so a truncated or damaged file is found now, not mid-restore.

    Raises:
        RunDirError: checkpoints/ is not a folder, or the newest checkpoint is damaged.
    """
    import tensorflow as tf

    for folder in run.checkpoint_folders():
        if folder.exists() and not folder.is_dir():
            raise RunDirError(
                f"{folder} is not a folder (a damaged run folder)", remedies=[RESTART]
            )
        try:
            state = tf.train.get_checkpoint_state(str(folder)) if folder.is_dir() else None
        except Exception as e:  # a damaged text proto: the parser raises its own types
            reason = (str(e).splitlines() or [type(e).__name__])[0]
            raise RunDirError(
                f"{folder / 'checkpoint'}: unreadable ({reason})", remedies=[RESTART]
            ) from None
        listed = state.model_checkpoint_path if state else None
        if (folder / "checkpoint").is_file() and not listed:
            raise RunDirError(
                f"{folder / 'checkpoint'}: unreadable (names no checkpoint)", remedies=[RESTART]
            )
        if listed and not Path(f"{folder / Path(listed).name}.index").is_file():
            raise RunDirError(
                f"{folder / 'checkpoint'} names {Path(listed).name}, which is missing (a damaged "
                "run folder)",
                remedies=[RESTART],
            )
    path = run.latest_checkpoint()
    if path is None:
        return None

    try:
        reader = tf.train.load_checkpoint(path)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
        return int(reader.get_tensor(EPOCH_KEY))
    except (tf.errors.OpError, ValueError, IndexError, KeyError, RuntimeError) as e:
        reason = (str(e).splitlines() or [type(e).__name__])[0]
        raise RunDirError(f"checkpoint {path} is damaged ({reason})", remedies=[RESTART]) from None


def _check_agreement(run: RunDir, saved: Config | None, rows: list[dict], epoch) -> None:
    """Refuses a folder whose config, metrics and checkpoint disagree on how far it got."""
    done = len(rows)
    if [row["epoch"] for row in rows] != list(range(1, done + 1)):
        raise RunDirError(f"{run.metrics}: its rows are not epochs 1 to {done}", remedies=[RESTART])
    if saved is None and (rows or epoch is not None):
        raise RunDirError(
            f"{run.config} is missing from a folder that holds a run", remedies=[RESTART]
        )
    # Each epoch writes its metrics row, then its checkpoint: the row may be one ahead, also
    # of a run killed before its first checkpoint (which then starts over at epoch 1).
    if epoch is None and done > 1:
        raise RunDirError(
            f"{run.metrics} records {done} epoch(s) but {run.checkpoints} holds no checkpoint "
            "to continue them from",
            remedies=[RESTART],
        )
    if epoch is not None and not epoch <= done <= epoch + 1:
        raise RunDirError(
            f"{run.metrics} records {done} epoch(s) but the newest checkpoint holds {epoch}",
            remedies=[RESTART],
        )


# Written before an earlier run is moved aside and removed after: if it is still there, the
# move was cut off (kill -9), and the next start moves the rest into the same folder.
RESTART_JOURNAL = ".restarting.json"


def _restart_target(run: RunDir) -> Path | None:
    """The folder an unfinished move-aside was filling, or None if there is none."""
    try:
        target = json.loads((run.path / RESTART_JOURNAL).read_text())["target"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Path(target) if isinstance(target, str) else None


def move_aside(run: RunDir) -> Path:
    """Moves every file of the run folder (but its lock) into a sibling folder
    RUN_DIR.replaced-YYYYmmdd-HHMMSS, or finishes a move that was cut off into the folder it
    had begun; returns it. Call it holding the folder's lock."""
    target = _restart_target(run)
    if target is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = run.path.with_name(f"{run.path.name}.replaced-{stamp}")
        suffix = 1
        while target.exists():
            suffix += 1
            target = run.path.with_name(f"{run.path.name}.replaced-{stamp}-{suffix}")
        write_text(run.path / RESTART_JOURNAL, json.dumps({"target": str(target)}) + "\n")
    target.mkdir(exist_ok=True)
    for entry in run.path.iterdir():
        if entry.name not in (LOCK_NAME, RESTART_JOURNAL):
            shutil.move(entry, target / entry.name)
    (run.path / RESTART_JOURNAL).unlink()
    return target


def remove_checkpoint_debris(run: RunDir) -> list[Path]:
    """Deletes the temporary folders a failed checkpoint write leaves (ckpt-N_temp/);
    call it holding the folder's lock."""
    debris = [
        p
        for folder in run.checkpoint_folders()
        if folder.is_dir()
        for p in folder.glob("*_temp*")
        if p.is_dir()
    ]
    for path in debris:
        shutil.rmtree(path)
    return debris


@contextlib.contextmanager
def locked_run_dir(run: RunDir) -> Iterator[str | None]:
    """Creates the run folder and holds its lock while the block runs.

    Yields:
        None, or a note that a dead run's stale lock was taken over.

    Raises:
        RunDirError: another live process trains into the folder, or it cannot be created.
    """
    with contextlib.ExitStack() as stack:
        try:
            run.path.mkdir(parents=True, exist_ok=True)
            note = stack.enter_context(folder_lock(run.path))
        except LockedError as e:
            raise RunDirBusy(f"{e}; wait for it to finish", remedies=[OTHER_OUT_DIR]) from None
        except OSError as e:
            reason = e.strerror or e
            where = e.filename or run.path
            raise RunDirError(
                f"{run.path}: cannot create the run folder or its lock ({where}: {reason})",
                setting="out_dir",
            ) from None
        yield note
