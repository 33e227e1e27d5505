"""`python -m gan_tf.evaluate`: the command is `gan_tf.cli.evaluate`."""

import sys

from gan_tf.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
