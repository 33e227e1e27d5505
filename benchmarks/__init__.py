"""gan_tf's benchmarks: speed and memory, measured here and never in the tests.

Run each from the repository root as a module, which puts the repository on the
import path (no installation, no sys.path edits):

    python -m benchmarks.train_speed --quick
    python -m benchmarks.epoch_speed --quick
    python -m benchmarks.epoch_overhead --quick

See benchmarks/README.md for what each measures and the figures so far.
"""

from gan_tf.cli.quiet import quiet_tensorflow

# Importing a benchmark imports this package first: TensorFlow's C++ start-up
# chatter is silenced before any benchmark module imports TensorFlow.
quiet_tensorflow()
