"""Small file helpers: writes that never leave a half-written file in place."""

from __future__ import annotations

import contextlib
import glob
import os
import time
from collections.abc import Iterator
from pathlib import Path


def default_cache_dir() -> Path:
    """Where gan_tf keeps what it can rebuild (the evaluation classifier, decoded image
    folders): $GAN_TF_CACHE_DIR, else $XDG_CACHE_HOME/gan_tf, else ~/.cache/gan_tf."""
    if os.environ.get("GAN_TF_CACHE_DIR"):
        return Path(os.environ["GAN_TF_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gan_tf"


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yields a temporary path beside `path`; renames it onto `path` on success.

    The temporary name keeps the suffix, so writers that pick a format from
    the extension (imageio, Keras) still work. On error it is removed and the
    old file, if any, is untouched.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    _remove_leftovers_of_dead_writers(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        if e.filename and Path(e.filename) == tmp:  # name the file the user knows
            raise OSError(e.errno, e.strerror, str(path)) from None
        raise
    finally:
        with contextlib.suppress(OSError):  # an unwritable folder may not let it go
            tmp.unlink(missing_ok=True)


def _remove_leftovers_of_dead_writers(path: Path) -> None:
    """Deletes the temporaries of `path` that a killed writer left (kill -9 between its write
    and its rename), so that rewriting a file cleans up after an earlier attempt. A
    temporary whose process still runs is another writer's, and stays."""
    if os.name != "posix":  # os.kill(pid, 0) probes a process only on POSIX
        return
    prefix = f".{path.stem}.tmp-"
    for leftover in path.parent.glob(f"{glob.escape(prefix)}*{glob.escape(path.suffix)}"):
        pid = leftover.name[len(prefix) : len(leftover.name) - len(path.suffix)]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, and belongs to someone else
        return True
    return True


def write_text(path: str | Path, text: str) -> None:
    """Writes `text` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


class LockedError(RuntimeError):
    """Another live process holds the run folder's lock."""


if os.name == "nt":
    import msvcrt

    # Windows locks byte ranges: lock one byte far past the pid, which stays readable.
    _LOCK_OFFSET = 1 << 20

    def _try_lock(f) -> bool:
        f.seek(_LOCK_OFFSET)
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(f) -> None:
        f.seek(_LOCK_OFFSET)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(f) -> bool:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(f) -> None:
        fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def folder_lock(folder: str | Path) -> Iterator[str | None]:
    """Holds an exclusive lock on `folder` (file FOLDER/.lock) while the block runs.

    The operating system drops the lock when its process dies, even by kill -9
    (`flock` on Linux and macOS, `msvcrt.locking` on Windows), so a lock file left
    by a dead run is stale by construction and simply taken over.

    Yields:
        None, or a note naming the dead process whose stale lock was taken over.

    Raises:
        LockedError: a live process holds the lock; the message gives its pid.
    """
    path = Path(folder) / ".lock"
    with open(path, "a+") as f:
        if not _try_lock(f):
            f.seek(0)
            holder = f.read(32).strip() or "unknown"
            raise LockedError(f"{folder} is in use by another run (pid {holder})") from None
        f.seek(0)
        previous = f.read(32).strip()
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield f"took over the stale lock of pid {previous}" if previous else None
        finally:
            f.seek(0)
            f.truncate()
            f.flush()
            _unlock(f)


@contextlib.contextmanager
def waiting_lock(path: str | Path, on_wait=None, poll: float = 0.2) -> Iterator[None]:
    """Holds an exclusive lock on the file `path`, first waiting while another process holds it.

    For work that many processes may want at once but one should do, such as training a
    shared cache entry: the others wait, then find it done. `on_wait()` is called once if
    the lock is busy. Like `folder_lock`, the lock dies with its process.
    """
    with open(path, "a+") as f:
        if not _try_lock(f):
            if on_wait:
                on_wait()
            while not _try_lock(f):
                time.sleep(poll)
        try:
            yield
        finally:
            _unlock(f)


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Deletes `atomic_path` leftovers of a killed process; call it holding the folder's lock."""
    removed = [p for p in Path(folder).glob(".*.tmp-*") if p.is_file()]
    for p in removed:
        p.unlink()
    return removed
