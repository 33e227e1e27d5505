"""Building a run: the tf.distribute strategy, the precision policy, the models and optimizers."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from typing import NamedTuple

import keras
import tensorflow as tf

from gan_tf.config import Config
from gan_tf.dcgan import make_dcgan_discriminator, make_dcgan_generator
from gan_tf.errors import ConfigError
from gan_tf.models import make_discriminator_model, make_generator_model

POLICIES = {"off": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}
# The environment variable that lists a multi-worker run's machines and this one's place.
TF_CONFIG = "TF_CONFIG"
# The task types a multi-worker training process can be (an "evaluator" trains nothing).
_TASK_TYPES = ("chief", "worker")


class Models(NamedTuple):
    """The tutorial's two networks and their optimizers."""

    generator: keras.Model
    discriminator: keras.Model
    generator_optimizer: keras.optimizers.Optimizer
    discriminator_optimizer: keras.optimizers.Optimizer


@contextlib.contextmanager
def dtype_policy(mixed_precision: str) -> Iterator[None]:
    """Builds layers under Keras' mixed-precision policy for `mixed_precision`, then restores."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(POLICIES[mixed_precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The `tf.distribute` strategy: default (one device), mirrored (all local GPUs, or
    all logical CPUs), or multi_worker (machines listed in $TF_CONFIG)."""
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = gpus or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "multi_worker":
        check_tf_config(os.environ.get(TF_CONFIG))
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def check_tf_config(text: str | None) -> None:
    """Refuses a $TF_CONFIG that TensorFlow would fail on with a traceback.

    Unset or empty, the multi-worker strategy runs this process alone. Otherwise it must be
    a JSON object whose "cluster" lists "worker" (and at most one "chief") as non-empty lists
    of "host:port" strings, and whose "task" is {"type": "worker" or "chief", "index": i}
    with 0 <= i < the number of that type's machines.

    Raises:
        ConfigError: naming the strategy setting, TF_CONFIG and what is wrong with it.
    """
    if not text or not text.strip():
        return

    def refuse(problem: str):
        return ConfigError(f"is 'multi_worker', but ${TF_CONFIG} {problem}", setting="strategy")

    try:
        spec = json.loads(text)
    except ValueError as e:
        raise refuse(f"is not valid JSON ({e})") from None
    if not isinstance(spec, dict):
        raise refuse(f"is not a JSON object, got {text.strip()[:80]!r}")
    cluster, task = spec.get("cluster"), spec.get("task")
    if not isinstance(cluster, dict) or not isinstance(cluster.get("worker"), list):
        raise refuse('has no "cluster": {"worker": ["host:port", ...]}')
    for kind, machines in cluster.items():
        if kind not in _TASK_TYPES:
            continue
        if not isinstance(machines, list) or not machines:
            raise refuse(f'lists no machines under cluster "{kind}"')
        for address in machines:
            host, _, port = address.rpartition(":") if isinstance(address, str) else ("", "", "")
            if not host or not re.fullmatch("[0-9]{1,5}", port) or not 0 < int(port) < 65536:
                raise refuse(f'has {address!r} under cluster "{kind}", not a "host:port"')
    if len(cluster.get("chief", [])) > 1:
        raise refuse('lists more than one machine under cluster "chief"')
    if not isinstance(task, dict):
        raise refuse('has no "task": {"type": "worker", "index": N}')
    kind, index = task.get("type"), task.get("index")
    if kind not in _TASK_TYPES or kind not in cluster:
        listed = " or ".join(repr(k) for k in _TASK_TYPES if k in cluster)
        raise refuse(f"has task type {kind!r}; expected {listed}")
    count = len(cluster[kind])
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise refuse(
            f"has task index {index!r}, outside 0 to {count - 1} (its cluster lists {count} "
            f'"{kind}" machine(s))'
        )


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run folder (always, but for non-chief workers)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker"
        and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict()
    )


def make_optimizers(config: Config, generator, discriminator):
    """The tutorial's two Adam optimizers, built so a checkpoint restores their moments.

    (keras-team/keras#19389: an unbuilt optimizer silently drops restored slots.)

    Args:
        config: learning rates, beta_1 and mixed precision.
        generator, discriminator: the models whose variables the optimizers update.

    Returns:
        (generator_optimizer, discriminator_optimizer), wrapped in loss scaling for float16.
    """
    generator_optimizer = keras.optimizers.Adam(config.gen_lr, beta_1=config.beta1)
    discriminator_optimizer = keras.optimizers.Adam(config.disc_lr, beta_1=config.beta1)
    if config.mixed_precision == "float16":
        # float16 gradients underflow without a dynamic loss scale; bfloat16's
        # float32-sized exponent does not need one.
        generator_optimizer = keras.optimizers.LossScaleOptimizer(generator_optimizer)
        discriminator_optimizer = keras.optimizers.LossScaleOptimizer(discriminator_optimizer)
    generator_optimizer.build(generator.trainable_variables)
    discriminator_optimizer.build(discriminator.trainable_variables)
    return generator_optimizer, discriminator_optimizer


def build_models(config: Config, strategy: tf.distribute.Strategy | None = None) -> Models:
    """The generator and discriminator of `config`'s architecture (with its activation) and
    their Adam optimizers, built under `strategy`'s scope and `config`'s precision policy.

    Seeds Keras with `config.seed` first, so the same seed gives the same initial weights.
    """
    strategy = strategy or tf.distribute.get_strategy()
    keras.utils.set_random_seed(config.seed)
    synchronized = strategy.num_replicas_in_sync > 1
    channels = config.image_shape[-1]
    with strategy.scope(), dtype_policy(config.mixed_precision):
        if config.architecture == "dcgan":
            generator = make_dcgan_generator(
                config.noise_dim, config.image_size, channels, config.gen_width, synchronized
            )
            discriminator = make_dcgan_discriminator(
                config.image_size,
                channels,
                config.disc_width,
                config.activation,
                config.alpha,
                config.dropout,
                synchronized,
            )
        else:
            generator = make_generator_model(config.noise_dim, synchronized, channels)
            discriminator = make_discriminator_model(
                config.activation, config.alpha, config.dropout, channels
            )
        optimizers = make_optimizers(config, generator, discriminator)
    return Models(generator, discriminator, *optimizers)


def distribute(dataset: tf.data.Dataset, strategy: tf.distribute.Strategy):
    """The dataset as `strategy` feeds it to its replicas (unchanged for one device)."""
    if strategy.num_replicas_in_sync == 1:
        return dataset
    options = tf.data.Options()
    # In-memory data: each worker reads its share of every batch.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))
