"""`python -m gan_tf`: the `gan-tf` command, `gan_tf.cli.main`."""

import sys

from gan_tf.cli.main import main

if __name__ == "__main__":
    sys.exit(main(invoked_as="python -m gan_tf"))
