"""`python -m gan_tf.train`: the command is `gan_tf.cli.train`."""

import sys

from gan_tf.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
