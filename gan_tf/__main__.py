"""`python -m gan_tf` is `python -m gan_tf.train`."""

import sys

from gan_tf.train import main

sys.exit(main())
