"""GPU and multi-device plumbing: mixed precision, ``tf.distribute`` strategies, and where to build models.

memnet trains with TensorFlow's Keras backend, so one GPU, several GPUs and several machines
use TensorFlow's own machinery. Typical use (what ``--mixed-precision``, ``--xla`` and
``--strategy`` do)::

    from memnet import distribute

    distribute.set_precision(mixed=True)              # before any model is built
    strategy = distribute.make_strategy("mirrored")   # all local GPUs (or the CPU)
    with distribute.scope(strategy):                  # build *and* compile under the strategy
        model = TransformerMemory(vocabulary_size=V, memory_size=M)
        model.compile(optimizer=distribute.loss_scaled(keras.optimizers.Adam()), ...)
    model.fit(dataset)                                 # each global batch is split over the replicas

Two things to know:

* Gradient clipping (``clipnorm``) under a multi-replica strategy: Keras clips each replica's
  own gradient *before* the all-reduce, so with clipping active, N replicas do not compute
  exactly what one device would (without clipping they do, to float tolerance; see
  ``tests/test_distribute.py``). With memnet's summed loss each replica's gradient is that of its
  share of the batch, so the limit effectively applies per replica.
* XLA across *logical* CPU devices (:func:`split_cpu`) fails in TensorFlow (a replica's variables
  live on another CPU device than XLA's); train split-CPU strategies with ``jit_compile=False``.
  GPUs are separate XLA devices.

XLA is not a function here: it is :attr:`memnet.training.TrainingConfig.jit_compile` (on by
default), which becomes ``model.compile(jit_compile=...)``.
"""

from __future__ import annotations

import contextlib
import json
import os

import keras

from memnet.errors import MemnetError

STRATEGIES = ("default", "mirrored", "multiworker")


def set_precision(mixed: bool) -> str:
    """Set Keras's global dtype policy: ``"mixed_float16"`` if ``mixed`` else ``"float32"``; return its name.

    Call it before building models: layers take the policy in force when they are created.
    Under ``mixed_float16`` layers compute in float16 and keep float32 weights; memnet's models
    cast their logits to float32, and ``model.compile`` wraps the optimizer in a
    :class:`keras.optimizers.LossScaleOptimizer` (dynamic loss scaling) by itself. Mixed
    precision pays off on GPUs with tensor cores (compute capability 7.0+); on a CPU it is slower.
    """
    policy = "mixed_float16" if mixed else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def loss_scaled(optimizer: keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """``optimizer`` wrapped in a dynamic :class:`keras.optimizers.LossScaleOptimizer` under ``mixed_float16``.

    ``model.compile`` does this itself (``auto_scale_loss=True``); use this for a custom training
    loop, or to make the wrapping explicit. Under any other policy (or if already wrapped) the
    optimizer is returned unchanged.
    """
    if keras.mixed_precision.global_policy().name != "mixed_float16":
        return optimizer
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)


def make_strategy(name: str = "default", devices=None):
    """A ``tf.distribute`` strategy by name.

    Args:
        name: ``"default"``: no distribution (TensorFlow's default strategy: one device, the GPU if
            there is one). ``"mirrored"``: :class:`tf.distribute.MirroredStrategy`, one replica per
            local GPU (or per device in ``devices``), gradients all-reduced every step.
            ``"multiworker"``: :class:`tf.distribute.MultiWorkerMirroredStrategy`, the same across
            machines; the cluster and this machine's role come from the ``TF_CONFIG`` environment
            variable (see :func:`cluster_spec`), which must be set on every worker before start.
        devices: for ``"mirrored"``, the devices to use (e.g. ``["/gpu:0", "/gpu:1"]`` or logical
            CPUs ``["/cpu:0", "/cpu:1"]``); default all local GPUs, else the CPU.

    Raises:
        MemnetError: an unknown name, or ``"multiworker"`` with a malformed ``TF_CONFIG``.
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise MemnetError(f"unknown strategy {name!r}: choose one of {', '.join(STRATEGIES)}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=devices)
    cluster_spec()  # validate TF_CONFIG before TensorFlow reads it
    return tf.distribute.MultiWorkerMirroredStrategy()


def cluster_spec() -> dict:
    """The parsed ``TF_CONFIG`` of a multi-worker run: ``{"cluster": {"worker": [...]}, "task": {...}}``.

    Without ``TF_CONFIG`` this is a single-worker cluster (``{}``), which MultiWorkerMirroredStrategy
    treats as one machine. Raises :class:`MemnetError` if it is set but not valid.
    """
    text = os.environ.get("TF_CONFIG", "")
    if not text.strip():
        return {}
    try:
        config = json.loads(text)
    except ValueError as error:
        raise MemnetError(f"TF_CONFIG is not valid JSON ({error})") from None
    workers = config.get("cluster", {}).get("worker") if isinstance(config, dict) else None
    task = config.get("task", {}) if isinstance(config, dict) else {}
    if not workers or task.get("type") != "worker" or not 0 <= int(task.get("index", -1)) < len(workers):
        raise MemnetError(
            'TF_CONFIG must look like {"cluster": {"worker": ["host1:port", ...]}, "task": {"type": "worker", "index": i}}'
        )
    return config


@contextlib.contextmanager
def scope(strategy=None):
    """Build and compile models inside this block so their variables live on the strategy's devices.

    ``strategy`` may be a strategy, a name for :func:`make_strategy`, or ``None`` (the default
    strategy). Yields the strategy. ``fit`` may be called inside or outside the block.
    """
    if strategy is None or isinstance(strategy, str):
        strategy = make_strategy(strategy or "default")
    with strategy.scope():
        yield strategy


def replicas(strategy=None) -> int:
    """Replicas that a global batch is split over (1 without distribution).

    Keep the per-replica batch fixed and scale the global one: ``batch_size * replicas(strategy)``.
    """
    import tensorflow as tf

    return (strategy or tf.distribute.get_strategy()).num_replicas_in_sync


def split_cpu(count: int) -> list[str]:
    """Split the first physical CPU into ``count`` logical devices (for trying a strategy without GPUs).

    Must run before TensorFlow initializes its devices (before any tensor is created), i.e. at
    the very start of a process. Returns the logical device names, e.g. ``["/cpu:0", "/cpu:1"]``.
    Raises :class:`MemnetError` if TensorFlow's devices are already initialized.
    """
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError as error:
        raise MemnetError(f"cannot split the CPU into {count} devices: {error}") from None
    return [f"/cpu:{k}" for k in range(count)]
