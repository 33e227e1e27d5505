"""`python -m gan_tf.confirm`: the command is `gan_tf.cli.confirm`."""

import sys

from gan_tf.cli.confirm import main

if __name__ == "__main__":
    sys.exit(main())
