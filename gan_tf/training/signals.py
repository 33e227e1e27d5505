"""Ctrl-C and SIGTERM as requests to stop training at the next step boundary."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def stop_requests() -> Iterator[dict]:
    """Turns the first Ctrl-C or SIGTERM into a request to stop at the next step boundary.

    A second Ctrl-C raises KeyboardInterrupt at once (a person in a hurry). Every file is
    written atomically, so even that leaves the last good one of each in place. Further
    SIGTERMs change nothing: a supervisor that means "now" sends SIGKILL, and a study worker
    gets a SIGTERM for each thread of its dying parent (Linux's parent-death signal), which
    must not cut short the checkpoint the first one asked for.
    Outside the main thread (where handlers cannot be set) nothing changes.

    Yields:
        A dict whose "signal" becomes the signal's name when a stop is requested.
    """
    state = {"signal": None}
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def request_stop(signum, frame):
        if state["signal"] is None:
            state["signal"] = signal.Signals(signum).name
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield state
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
