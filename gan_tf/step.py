"""The training step: pure math, compiled functions that update both networks.

`make_train_step` gives the tutorial's step for one (images, noise) batch;
`make_train_steps` runs several steps per call from an input iterator, under
any `tf.distribute` strategy. Neither prints, saves nor reads a value back.
"""

from __future__ import annotations

import tensorflow as tf

from gan_tf.losses import discriminator_loss, generator_loss


def make_replica_step(
    generator, discriminator, generator_optimizer, discriminator_optimizer, fused: bool = False
):
    """The tutorial's `train_step` on one replica's share of a batch.

    With `fused`, D sees real and fake images in one call on the concatenated
    batch: the same function for the tutorial's D (it has no BatchNorm), one pass over D's
    weights, but G's gradient then flows back through D on all 2B images, not just the
    B fakes; it measured slower on CPU (see benchmarks/README.md), faster where
    per-call overhead dominates.

    The batch size comes from the images, so a smaller last batch is paired
    with as many fakes as it has real images. Under a strategy with several
    replicas, each replica's mean loss is weighted by its share of the global
    batch, so the summed gradients equal one device's on the whole batch.

    Returns:
        `replica_step(images, noise) -> {"gen_loss", "disc_loss"}`, the losses
        as this replica's contribution to the global batch mean (float32).
    """

    def replica_step(images, noise):
        batch_size = tf.shape(images)[0]
        context = tf.distribute.get_replica_context()
        global_size = context.all_reduce("sum", batch_size) if context else batch_size
        share = tf.cast(batch_size, tf.float32) / tf.cast(global_size, tf.float32)
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            if fused:
                # (2B, H, W, C) -> (2B, 1), split back into real and fake.
                output = discriminator(tf.concat([images, generated_images], 0), training=True)
                real_output, fake_output = output[:batch_size], output[batch_size:]
            else:
                real_output = discriminator(images, training=True)
                fake_output = discriminator(generated_images, training=True)
            # A replica can get no images of an uneven last batch: its mean would be NaN.
            has_images = batch_size > 0
            gen_loss = tf.where(has_images, generator_loss(fake_output) * share, 0.0)
            disc_loss = tf.where(
                has_images, discriminator_loss(real_output, fake_output) * share, 0.0
            )
            # Loss scaling (float16 only; a no-op otherwise) keeps small gradients finite.
            scaled_gen_loss = generator_optimizer.scale_loss(gen_loss)
            scaled_disc_loss = discriminator_optimizer.scale_loss(disc_loss)
        gradients_of_generator = gen_tape.gradient(scaled_gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(
            scaled_disc_loss, discriminator.trainable_variables
        )
        for optimizer, gradients, model in (
            (generator_optimizer, gradients_of_generator, generator),
            (discriminator_optimizer, gradients_of_discriminator, discriminator),
        ):
            optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return {"gen_loss": gen_loss, "disc_loss": disc_loss}

    return replica_step


def make_train_step(
    generator,
    discriminator,
    generator_optimizer,
    discriminator_optimizer,
    noise_dim: int,
    fused: bool = False,
):
    """The tutorial's `train_step` as one compiled function of an (images, noise) batch.

    The signature's unknown batch dimension means an epoch's smaller last batch
    does not retrace it.

    Returns:
        `train_step(images, noise) -> {"gen_loss": scalar, "disc_loss": scalar}`.
    """
    replica_step = make_replica_step(
        generator, discriminator, generator_optimizer, discriminator_optimizer, fused
    )
    return tf.function(
        replica_step,
        input_signature=[
            tf.TensorSpec((None, *generator.output_shape[1:]), tf.float32),
            tf.TensorSpec((None, noise_dim), tf.float32),
        ],
    )


def make_train_steps(
    generator,
    discriminator,
    generator_optimizer,
    discriminator_optimizer,
    strategy: tf.distribute.Strategy | None = None,
    jit_compile: bool = False,
    fused: bool = False,
):
    """Several training steps per call, reading (images, noise) batches from an iterator.

    Fewer Python round trips per step, and the losses stay on the device:
    the caller reads them back when it chooses.

    Args:
        generator, discriminator, generator_optimizer, discriminator_optimizer:
            the models and their built optimizers, created under `strategy`'s scope.
        strategy: a `tf.distribute` strategy (default: the current one).
        jit_compile: compile the step with XLA.
        fused: one discriminator call on real and fake images together.

    Returns:
        `train_steps(iterator, n) -> {"gen_loss", "disc_loss"}`: runs n steps
        (n a scalar int32 tensor, so changing it does not retrace) and returns
        the sums of each step's global batch-mean losses.
    """
    strategy = strategy or tf.distribute.get_strategy()
    replica_step = tf.function(
        make_replica_step(
            generator, discriminator, generator_optimizer, discriminator_optimizer, fused
        ),
        jit_compile=jit_compile,
    )

    @tf.function
    def train_steps(iterator, n):
        sums = {"gen_loss": tf.constant(0.0), "disc_loss": tf.constant(0.0)}
        for _ in tf.range(n):
            images, noise = next(iterator)
            losses = strategy.run(replica_step, args=(images, noise))
            sums = {k: sums[k] + strategy.reduce("sum", losses[k], axis=None) for k in sums}
        return sums

    return train_steps
