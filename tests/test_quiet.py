"""No TensorFlow noise in a command's output: --help of every command and a tiny training run
print nothing on stderr, and the filter that makes them quiet lets through every line it
does not know and everything an import that failed wrote."""

from __future__ import annotations

import logging
import re
import subprocess
import sys

import pytest

from gan_tf.study.grid import without_predict_retracing_warnings

from conftest import REPO, user_env

COMMANDS = ("train", "generate", "gif", "evaluate", "study", "compare", "confirm")
# stderr lines a quiet command may print. None: anything TensorFlow says fails the test.
ALLOWED = ()
NOISE = re.compile(r"cuda|absl|onednn|retracing|cpu_feature_guard", re.IGNORECASE)
BANNER = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
CUDART = (
    "I0000 00:00:1796610235.209309   20169 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used."
)
UNKNOWN = "E0000 00:00:1796610235.209400   20169 cuda_dnn.cc:8] an error nobody has seen yet"


def run(*args, env=None):
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env or user_env(),
        timeout=300,
    )


def unexpected(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line not in ALLOWED]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_prints_only_usage(command):
    result = run("-m", f"gan_tf.{command}", "--help")
    assert result.returncode == 0, result.stderr
    assert unexpected(result.stderr) == []
    assert result.stdout.startswith("usage:") and not NOISE.search(result.stdout)


def test_tiny_training_run_prints_nothing_from_tensorflow(tiny_run):
    """A CPU machine without CUDA drivers: the import's CUDA probing, twice, was on stderr.
    conftest's `tiny_run` is trained from scratch by `python -m gan_tf.train --quiet` in a
    process of its own, in a user's environment; this reads what it printed."""
    assert unexpected(tiny_run["stderr"]) == []
    assert not NOISE.search(tiny_run["stdout"]), tiny_run["stdout"]
    assert (tiny_run["run"] / "generator.keras").is_file()


@pytest.fixture
def fake_tensorflow(tmp_path):
    """A `tensorflow` package that writes, as the real one does from C++, absl's note and the
    CUDA probe's line to file descriptor 2, then a line nobody knows, and raises ImportError
    when $FAKE_TF_FAIL is set."""
    package = tmp_path / "fake" / "tensorflow"
    package.mkdir(parents=True)
    lines = "".join(f"{line}\n" for line in (BANNER, CUDART, UNKNOWN))
    (package / "__init__.py").write_text(
        "import os\n"
        f"os.write(2, {lines.encode()!r})\n"
        "if os.environ.get('FAKE_TF_FAIL'):\n"
        "    raise ImportError('libcudnn.so.9: cannot open shared object file')\n"
    )
    return package.parent


IMPORT = (
    "from gan_tf.cli.quiet import quiet_tensorflow\n"
    "quiet_tensorflow()\n"
    "import tensorflow\n"
    "print(type(tensorflow.__loader__).__name__)\n"
)


def test_import_filter_drops_known_lines_only(fake_tensorflow):
    result = run("-c", IMPORT, env=user_env(PYTHONPATH=str(fake_tensorflow)))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [UNKNOWN]
    # The module keeps its own loader, not the filter's.
    assert result.stdout.strip() == "SourceFileLoader"


def test_failed_import_shows_everything_it_wrote(fake_tensorflow):
    env = user_env(PYTHONPATH=str(fake_tensorflow), FAKE_TF_FAIL="1")
    result = run("-c", IMPORT, env=env)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:3] == [BANNER, CUDART, UNKNOWN]
    assert "ImportError: libcudnn.so.9: cannot open shared object file" in result.stderr


def test_explicit_log_level_zero_shows_every_line(fake_tensorflow):
    env = user_env(PYTHONPATH=str(fake_tensorflow), TF_CPP_MIN_LOG_LEVEL="0")
    result = run("-c", IMPORT, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [BANNER, CUDART, UNKNOWN]


def test_study_runs_drop_only_the_predict_retracing_warning():
    logger = logging.getLogger("tensorflow")
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    predict = (
        "5 out of the last 10 calls to <function TensorFlowTrainer.make_predict_function."
        "<locals>.one_step_on_data_distributed at 0x7f8b556065c0> triggered tf.function "
        "retracing. Tracing is expensive"
    )
    step = "6 out of the last 11 calls to <function step at 0x7f> triggered tf.function retracing."
    logger.addHandler(handler)
    try:
        with without_predict_retracing_warnings():
            for message in (predict, step, "something else"):
                logger.warning(message)
        logger.warning(predict)
    finally:
        logger.removeHandler(handler)
    assert seen == [step, "something else", predict]
