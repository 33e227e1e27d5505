"""gan_tf: the TensorFlow DCGAN tutorial as a package, and why its discriminator uses LeakyReLU.

Importing the package is cheap; TensorFlow loads with the modules that need it:
`gan_tf.models`, `gan_tf.losses`, `gan_tf.step`, `gan_tf.training.loop`.
"""

__version__ = "0.1.0"
