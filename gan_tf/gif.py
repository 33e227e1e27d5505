"""`python -m gan_tf.gif`: the command is `gan_tf.cli.gif`."""

import sys

from gan_tf.cli.gif import main

if __name__ == "__main__":
    sys.exit(main())
