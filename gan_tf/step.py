"""The training step: pure math, one `tf.function` that updates both networks."""

from __future__ import annotations

import tensorflow as tf

from gan_tf.losses import discriminator_loss, generator_loss
from gan_tf.models import IMAGE_SHAPE


def make_train_step(
    generator,
    discriminator,
    generator_optimizer,
    discriminator_optimizer,
    noise_dim: int,
    rng: tf.random.Generator,
):
    """Builds the tutorial's `train_step` as a compiled function of one image batch.

    The batch size comes from the images, so a smaller last batch is paired
    with as many fakes as it has real images, and the signature's unknown
    batch dimension means that batch does not retrace the function.

    Args:
        generator, discriminator: the two Keras models.
        generator_optimizer, discriminator_optimizer: their (built) optimizers.
        noise_dim: length of the generator's noise vector.
        rng: the noise source; its state lives in the checkpoint, so a resumed
            run draws the same noise as one that never stopped.

    Returns:
        `train_step(images) -> {"gen_loss": scalar, "disc_loss": scalar}`.
    """

    @tf.function(input_signature=[tf.TensorSpec((None, *IMAGE_SHAPE), tf.float32)])
    def train_step(images):
        batch_size = tf.shape(images)[0]
        noise = rng.normal([batch_size, noise_dim])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            # One discriminator call on (2B, 28, 28, 1): D has no BatchNorm, so
            # this is the tutorial's two calls in one pass over the weights.
            output = discriminator(tf.concat([images, generated_images], 0), training=True)
            real_output, fake_output = output[:batch_size], output[batch_size:]
            gen_loss = generator_loss(fake_output)
            disc_loss = discriminator_loss(real_output, fake_output)
        gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(
            disc_loss, discriminator.trainable_variables
        )
        generator_optimizer.apply_gradients(
            zip(gradients_of_generator, generator.trainable_variables, strict=True)
        )
        discriminator_optimizer.apply_gradients(
            zip(gradients_of_discriminator, discriminator.trainable_variables, strict=True)
        )
        return {"gen_loss": gen_loss, "disc_loss": disc_loss}

    return train_step
