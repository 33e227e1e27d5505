"""`python -m gan_tf.study`: the command is `gan_tf.cli.study`."""

import sys

from gan_tf.cli.study import main

if __name__ == "__main__":
    sys.exit(main())
