"""Ctrl-C and SIGTERM as requests to stop training at the next step boundary."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def stop_requests() -> Iterator[dict]:
    """Turns the first Ctrl-C or SIGTERM into a request to stop at the next step boundary.

    A second Ctrl-C raises KeyboardInterrupt at once. Every file is written
    atomically, so even that leaves the last good one of each in place.
    Outside the main thread (where handlers cannot be set) nothing changes.

    Yields:
        A dict whose "signal" becomes the signal's name when a stop is requested.
    """
    state = {"signal": None}
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def request_stop(signum, frame):
        if state["signal"] is not None:
            raise KeyboardInterrupt
        state["signal"] = signal.Signals(signum).name

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield state
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
