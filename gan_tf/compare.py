"""`python -m gan_tf.compare`: the command is `gan_tf.cli.compare`."""

import sys

from gan_tf.cli.compare import main

if __name__ == "__main__":
    sys.exit(main())
