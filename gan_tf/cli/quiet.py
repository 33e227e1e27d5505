"""Keeps TensorFlow's start-up lines out of a command's output.

`quiet_tensorflow()` is the first line of every command that may import TensorFlow; it
imports nothing itself, so `--help` and flag errors stay instant.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator


def quiet_tensorflow() -> None:
    """Keeps TensorFlow's start-up chatter (CUDA probing on CPU machines) out of a command's
    output. The first line of every command that may import TensorFlow.

    Sets TF_CPP_MIN_LOG_LEVEL=3 (an explicit value wins). Unless that level shows INFO
    lines ("0"), the first `import tensorflow` after this, wherever it happens, then runs
    inside `without_tensorflow_startup_lines`, for the lines the import writes before any
    level applies. Imports nothing itself, so --help and flag errors stay instant; sets
    nothing GPU-related, so a GPU is never hidden.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if os.environ["TF_CPP_MIN_LOG_LEVEL"].strip() == "0" or "tensorflow" in sys.modules:
        return
    if not any(isinstance(finder, _QuietTensorFlowImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())


# The lines that `import tensorflow` (seen with 2.21) writes straight to file descriptor 2
# whatever TF_CPP_MIN_LOG_LEVEL says: absl writes every message logged before
# absl::InitializeLog() to stderr, and the CUDA stub and the oneDNN notice log from C++
# while the libraries load, before TensorFlow applies its level. They come twice because
# two libraries each hold their own absl and CUDA stub: libtensorflow_framework.so.2 (loaded
# by tensorflow.python.platform._pywrap_cpu_feature_guard) and, later in the same import,
# tensorflow/python/profiler/internal/_pywrap_profiler_plugin.so. Whole lines only, all of
# them INFO (and absl's note about them); a TensorFlow error such as a failed cuInit comes
# after the import, when TF_CPP_MIN_LOG_LEVEL applies.
_TF_STARTUP_LINE = re.compile(
    rb"(?:WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
    rb"STDERR"
    # absl's prefix ("I0000 00:00:1796610235.209309   20169 ") or TF's own
    # ("2024-06-28 00:03:52.491725: I tensorflow/tsl/cuda/"), then the file and the message.
    rb"|(?:I\d{4} \d\d:\d\d:[\d.]+ +\d+ |\d{4}-\d\d-\d\d \d\d:\d\d:[\d.]+: I )(?:\S+/)?"
    rb"(?:cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine, GPU will not "
    rb"be used\."
    rb"|port\.cc:\d+\] oneDNN custom operations are on\. You may see slightly different "
    rb"numerical results due to floating-point round-off errors from different computation "
    rb"orders\. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`\.))"
    rb"\r?\n?"
)


@contextlib.contextmanager
def without_tensorflow_startup_lines() -> Iterator[None]:
    """Sends the process's stderr (file descriptor 2, which C++ writes to) to a temporary
    file for the duration, then writes back every line but TensorFlow's known start-up
    lines (`_TF_STARTUP_LINE`), in order; everything, unfiltered, if the body raised (an
    import error's context). A line it does not know always reaches the user.
    """
    if sys.stderr is not None:
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to keep clean
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            try:
                if sys.stderr is not None:
                    sys.stderr.flush()  # Python's own writes land in order with C++'s
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            captured.seek(0)
            lines = captured.read().splitlines(keepends=True)
            kept = [line for line in lines if failed or not _TF_STARTUP_LINE.fullmatch(line)]
            if kept:
                with open(2, "wb", closefd=False) as stderr:
                    stderr.write(b"".join(kept))


class _QuietTensorFlowImport:
    """An import hook for one import: `import tensorflow` (or any import that imports it
    first, `import keras` say) runs inside `without_tensorflow_startup_lines`."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once; the import below is TensorFlow's own
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader:
    """Runs a module's loader inside `without_tensorflow_startup_lines`."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        # The module keeps its own loader (for its resources and reloads), not this one.
        module.__loader__ = module.__spec__.loader = self.loader
        with without_tensorflow_startup_lines():
            self.loader.exec_module(module)
