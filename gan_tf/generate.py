"""`python -m gan_tf.generate`: the command is `gan_tf.cli.generate`."""

import sys

from gan_tf.cli.generate import main

if __name__ == "__main__":
    sys.exit(main())
