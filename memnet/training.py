"""Training memory networks the way the MemN2N paper did, with Keras's own ``fit``.

The protocol (``../shared/REFERENCE.md``, checked against the authors' Matlab code):

* plain SGD, batch 32, cross-entropy **summed** over the batch, each weight matrix's gradient
  clipped to norm 40 (per variable, on the dense gradient: see :class:`DenseClipping`);
* linear start: 20 epochs without the memory softmax (30 for joint training), then the softmax
  goes back in and training starts again for 100 epochs (60 joint) with the learning rate halved
  every 25 epochs (15 joint). With linear start the authors' code uses lr 0.005 in both phases;
  without it, 0.01;
* random noise on the memory times during training (a property of the model, see ``MemoryAge``);
* 10 runs, keeping the one with the lowest training error (see :func:`train_best_of`; on 1k tasks
  several runs often reach 0%, and memnet breaks such ties by validation error).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Callable, Sequence

import keras
import numpy as np

from memnet.data import EncodedExamples


@dataclasses.dataclass
class TrainingConfig:
    """How to train. The defaults are the paper's per-task protocol; :meth:`joint` gives the joint one.

    Attributes:
        epochs: epochs after linear start (the paper: 100 per task, 60 joint).
        decay_every: halve the learning rate every this many epochs (25; 15 joint).
        learning_rate: initial rate; ``None`` picks the authors' choice (0.005 with linear start, else 0.01).
        linear_start_epochs: epochs of linear start (20; 30 joint); 0 disables it.
        batch_size: 32.
        clipnorm: per-matrix gradient norm limit (40).
        jit_compile: compile the train step with XLA.
        steps_per_execution: train steps per call into the compiled function.
        validation_freq: evaluate the validation set every this many epochs (0: never during training).
        optimizer: ``"sgd"`` (the paper's) or ``"adam"``; a model may choose (see :func:`model_training_config`).
        warmup_epochs: raise the learning rate linearly from ~0 over this many epochs (transformers; 0: none).
    """

    epochs: int = 100
    decay_every: int = 25
    learning_rate: float | None = None
    linear_start_epochs: int = 20
    batch_size: int = 32
    clipnorm: float = 40.0
    jit_compile: bool = True
    steps_per_execution: int = 32
    validation_freq: int = 1
    optimizer: str = "sgd"
    warmup_epochs: int = 0

    @classmethod
    def joint(cls, **overrides) -> "TrainingConfig":
        """The paper's settings for training one model on all tasks at once."""
        return cls(**{"epochs": 60, "decay_every": 15, "linear_start_epochs": 30, **overrides})

    @property
    def initial_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return 0.005 if self.linear_start_epochs > 0 else 0.01


@keras.saving.register_keras_serializable(package="memnet")
class PaperSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The paper's learning rate over both phases, as a function of the step.

    ``linear_start_lr`` for the linear-start steps; then ``initial_lr``, halved at the start of
    main-phase epochs ``decay_every, 2*decay_every, ...`` (1-based), as in the authors' code.
    """

    def __init__(self, initial_lr, steps_per_epoch, decay_every, linear_start_steps=0, linear_start_lr=None):
        self.initial_lr = float(initial_lr)
        self.steps_per_epoch = int(steps_per_epoch)
        self.decay_every = int(decay_every)
        self.linear_start_steps = int(linear_start_steps)
        self.linear_start_lr = float(initial_lr if linear_start_lr is None else linear_start_lr)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        main_epoch = keras.ops.floor((step - self.linear_start_steps) / self.steps_per_epoch) + 1.0
        halvings = keras.ops.floor(keras.ops.maximum(main_epoch, 0.0) / self.decay_every)
        main_lr = self.initial_lr * keras.ops.power(0.5, halvings)
        return keras.ops.where(step < self.linear_start_steps, self.linear_start_lr, main_lr)

    def get_config(self):
        return {
            "initial_lr": self.initial_lr,
            "steps_per_epoch": self.steps_per_epoch,
            "decay_every": self.decay_every,
            "linear_start_steps": self.linear_start_steps,
            "linear_start_lr": self.linear_start_lr,
        }


@keras.saving.register_keras_serializable(package="memnet")
class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Another schedule scaled by ``min(1, (step + 1) / warmup_steps)``: a linear warm-up (for transformers)."""

    def __init__(self, schedule, warmup_steps):
        if isinstance(schedule, dict):  # from get_config
            schedule = keras.optimizers.schedules.deserialize(schedule)
        self.schedule = schedule
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        ramp = keras.ops.minimum(1.0, (step + 1.0) / float(max(1, self.warmup_steps)))
        return self.schedule(step) * ramp

    def get_config(self):
        return {"schedule": keras.optimizers.schedules.serialize(self.schedule), "warmup_steps": self.warmup_steps}


def model_training_config(model: keras.Model, config: TrainingConfig) -> TrainingConfig:
    """The config adapted by the model's own ``training_config(config)`` hook, if it has one.

    The per-model hook: e.g. :class:`memnet.models.ReadWriteMemory` trains with Adam. It returns a
    new config and must leave what the user chose (epochs, batch size, ...) alone.
    """
    hook = getattr(model, "training_config", None)
    return hook(config) if callable(hook) else config


class DenseClipping:
    """Optimizer mixin: ``clipnorm`` clips each variable by the norm of its *dense* gradient.

    TensorFlow returns the gradient of an embedding lookup as ``tf.IndexedSlices``, one row per
    looked-up word with repeated words not summed, and Keras's ``clipnorm`` clips those rows by
    their own norm, which is not the gradient's norm. The authors' code clips the summed matrix.
    The difference is not cosmetic: with Keras's clipping memnet failed bAbI task 16 in every run
    (52-55% test error); with dense clipping it solves it.
    """

    def apply(self, grads, trainable_variables=None):
        import tensorflow as tf

        grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
        return super().apply(grads, trainable_variables)


@keras.saving.register_keras_serializable(package="memnet")
class SGD(DenseClipping, keras.optimizers.SGD):
    """``keras.optimizers.SGD`` with :class:`DenseClipping`."""


@keras.saving.register_keras_serializable(package="memnet")
class Adam(DenseClipping, keras.optimizers.Adam):
    """``keras.optimizers.Adam`` with :class:`DenseClipping`."""


def compile_for_training(model: keras.Model, config: TrainingConfig, learning_rate, steps_per_epoch: int) -> None:
    if config.optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {config.optimizer!r}")
    optimizer_class = Adam if config.optimizer == "adam" else SGD
    model.compile(
        optimizer=optimizer_class(learning_rate=learning_rate, clipnorm=config.clipnorm),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        jit_compile=config.jit_compile,
        steps_per_execution=max(1, min(config.steps_per_execution, steps_per_epoch)),
    )


class ParallelRuns(keras.Model):
    """Several independent copies of a model, trained together: one step updates every copy.

    The paper trains each task 10 times and keeps the best run. Run one after the other, a tiny
    model like MemN2N spends most of its time in per-step overhead; stacked into one compiled
    step, the copies share that overhead. Nothing is shared between copies: each has its own
    weights, initialization, batches and noise, and since the loss is a sum over copies each one
    gets exactly the gradient it would get alone (and its own per-matrix clipping).

    Inputs and targets carry a leading run axis: ``story [runs, batch, slots, words]`` etc.
    With ``run_axis=1`` the batch axis comes first (``[batch, runs, ...]``): what a
    ``tf.distribute`` strategy needs, since it splits every batch along axis 0 over its replicas.

    Args:
        members: the models to train, all taking the same inputs.
        run_axis: 0 (run axis first) or 1 (batch axis first, for distribution strategies).
    """

    def __init__(self, members, run_axis=0, **kwargs):
        super().__init__(**kwargs)
        self.members = list(members)
        self.run_axis = int(run_axis)
        self.uses_linear_start = all(hasattr(m, "linear_start") for m in self.members)
        # A variable, not a Python flag: switching linear start off must not recompile the step.
        self.linear_start = keras.Variable(False, dtype="bool", trainable=False, name="linear_start")

    def build(self, input_shape=None):
        for member in self.members:
            if not member.built:
                member.build(input_shape)
        self.built = True

    def call(self, inputs, training=False):
        extra = {"linear_start": self.linear_start} if self.uses_linear_start else {}
        pick = (lambda value, run: value[run]) if self.run_axis == 0 else (lambda value, run: value[:, run])  # noqa: E731
        outputs = [
            member({key: pick(value, run) for key, value in inputs.items()}, training=training, **extra)
            for run, member in enumerate(self.members)
        ]
        return keras.ops.stack(outputs, axis=self.run_axis)


class LinearStartSwitch(keras.callbacks.Callback):
    """Runs the first ``epochs`` epochs in linear start (no memory softmax), then re-inserts the softmax."""

    def __init__(self, flag, epochs: int):
        super().__init__()
        self.flag = flag
        self.epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.flag.assign(epoch < self.epochs)

    def on_train_end(self, logs=None):
        self.flag.assign(False)


def make_run_batches(data: EncodedExamples, runs: int, batch_size: int, seeds: Sequence[int], epoch, run_axis: int = 0):
    """Training batches for ``runs`` parallel runs: each run reshuffles the data its own way every epoch.

    Each epoch is ``floor(n / batch_size)`` batches, as in the authors' code. The order of an
    epoch is a function of (run seed, epoch number) only, read from the variable ``epoch`` when
    the epoch starts: a run resumed from a checkpoint sees exactly the batches it would have seen.
    Yields ``(inputs, answers)`` with a leading run axis (``run_axis=1``: batch axis first).
    """
    import tensorflow as tf

    n = len(data)
    arrays = {key: tf.constant(value) for key, value in data.inputs.items()}
    answers = tf.constant(data.answer)

    def epoch_order(_):
        orders = [
            tf.random.experimental.stateless_shuffle(
                tf.range(n, dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
            )
            for seed in seeds
        ]
        steps = n // batch_size
        index = tf.reshape(tf.stack(orders)[:, : steps * batch_size], (runs, steps, batch_size))
        return tf.data.Dataset.from_tensor_slices(tf.transpose(index, (1, 0, 2)))  # [steps][runs, batch]

    def gather(index):
        if run_axis == 1:
            index = tf.transpose(index)  # [batch, runs]
        return {key: tf.gather(value, index) for key, value in arrays.items()}, tf.gather(answers, index)

    dataset = tf.data.Dataset.range(1).flat_map(epoch_order)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(n // batch_size))  # Keras knows the epoch length
    return dataset.map(gather).prefetch(tf.data.AUTOTUNE)


class EpochCounter(keras.callbacks.Callback):
    """Publishes the current epoch in a variable (read by the data pipeline and the linear-start switch)."""

    def __init__(self, variable):
        super().__init__()
        self.variable = variable

    def on_epoch_begin(self, epoch, logs=None):
        self.variable.assign(epoch)


def make_replicated_batches(data: EncodedExamples, runs: int, batch_size: int = 256, run_axis: int = 0):
    """Evaluation batches in order, the same for every run (a run axis of size ``runs``, leading unless ``run_axis=1``)."""
    import tensorflow as tf

    arrays = {key: tf.constant(value) for key, value in data.inputs.items()}
    answers = tf.constant(data.answer)

    def gather(index):
        tile = lambda value: tf.repeat(tf.expand_dims(tf.gather(value, index), run_axis), runs, axis=run_axis)  # noqa: E731
        return {key: tile(value) for key, value in arrays.items()}, tile(answers)

    return tf.data.Dataset.range(len(data)).batch(batch_size).map(gather).prefetch(tf.data.AUTOTUNE)


def train(
    model: keras.Model,
    train_data: EncodedExamples,
    valid_data: EncodedExamples | None = None,
    config: TrainingConfig | None = None,
    *,
    seed: int = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = 0,
) -> dict[str, list[float]]:
    """Train one model with the paper's protocol; see :func:`train_runs`."""
    return train_runs([model], train_data, valid_data, config, seeds=[seed], callbacks=callbacks, verbose=verbose)


def train_runs(
    models: Sequence[keras.Model],
    train_data: EncodedExamples,
    valid_data: EncodedExamples | None = None,
    config: TrainingConfig | None = None,
    *,
    seeds: Sequence[int] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    backup_dir=None,
    verbose: int | str = 0,
) -> dict[str, list[float]]:
    """Train independent models side by side (see :class:`ParallelRuns`) with the paper's protocol.

    Both phases run in one ``fit`` (one compiled step): a callback switches linear start off and
    :class:`PaperSchedule` changes the learning rate. Returns the per-epoch history (metrics over
    all runs together) with a ``phase`` list naming each epoch's phase.

    With ``backup_dir``, the weights, optimizer state and epoch are saved there after every epoch
    (:class:`keras.callbacks.BackupAndRestore`); calling again with the same models, data, seeds
    and folder continues from the last complete epoch and ends exactly where an uninterrupted
    run would (epoch orders and noise are functions of the seeds and the epoch).
    """
    config = model_training_config(models[0], config or TrainingConfig())
    seeds = list(seeds) if seeds is not None else list(range(len(models)))
    if len(train_data) < config.batch_size:
        raise ValueError(f"need at least one batch of training data ({config.batch_size}), got {len(train_data)}")
    import tensorflow as tf

    run_axis = 1 if tf.distribute.has_strategy() else 0  # a strategy splits batches along axis 0
    if run_axis:  # Keras's multi-step loop fails under tf.distribute (placeholder / collective errors)
        config = dataclasses.replace(config, steps_per_execution=1)
    runs = ParallelRuns(models, run_axis=run_axis)
    runs.build()  # weights exist before fit, so that a backup can be restored into them

    epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
    dataset = make_run_batches(train_data, len(models), config.batch_size, seeds, epoch, run_axis)
    steps_per_epoch = len(train_data) // config.batch_size
    validation = None
    if valid_data is not None and len(valid_data) and config.validation_freq:
        validation = make_replicated_batches(valid_data, len(models), run_axis=run_axis)

    linear_epochs = config.linear_start_epochs if runs.uses_linear_start else 0
    schedule = PaperSchedule(
        config.initial_learning_rate, steps_per_epoch, config.decay_every, linear_epochs * steps_per_epoch
    )
    if config.warmup_epochs > 0:
        schedule = WarmupSchedule(schedule, config.warmup_epochs * steps_per_epoch)
    compile_for_training(runs, config, schedule, steps_per_epoch)
    result = runs.fit(
        dataset,
        epochs=linear_epochs + config.epochs,
        shuffle=False,  # the dataset shuffles itself, per run and per epoch
        validation_data=validation,
        validation_freq=config.validation_freq or 1,
        callbacks=[
            EpochCounter(epoch),
            LinearStartSwitch(runs.linear_start, linear_epochs),
            *([keras.callbacks.BackupAndRestore(str(backup_dir))] if backup_dir else []),
            *callbacks,
        ],
        verbose=verbose,
    )
    history = {key: [float(v) for v in values] for key, values in result.history.items()}
    history["phase"] = ["linear_start"] * linear_epochs + ["main"] * config.epochs
    return history


def predict_logits(model: keras.Model, data: EncodedExamples, batch_size: int = 1024) -> np.ndarray:
    """Logits in inference mode, batch by batch (a direct call: no per-model ``predict`` function to trace)."""
    inputs = data.inputs
    batches = [
        np.asarray(model({key: value[i : i + batch_size] for key, value in inputs.items()}, training=False))
        for i in range(0, len(data), batch_size)
    ]
    return np.concatenate(batches) if batches else np.zeros((0,))


def error_rate(model: keras.Model, data: EncodedExamples) -> float:
    """Percent of questions answered wrongly (no noise: inference mode)."""
    if len(data) == 0:
        return float("nan")
    predictions = predict_logits(model, data).argmax(axis=-1)
    return float(100.0 * np.mean(predictions != data.answer))


def per_task_errors(model: keras.Model, data: EncodedExamples) -> dict[int, float]:
    """Error (percent) per task number present in ``data``."""
    if len(data) == 0:
        return {}
    wrong = predict_logits(model, data).argmax(axis=-1) != data.answer
    return {int(t): float(100.0 * wrong[data.task == t].mean()) for t in np.unique(data.task)}


@dataclasses.dataclass
class RunResult:
    """One of the repeated runs: its model, training history (shared by runs trained together), clean errors and seed."""

    model: keras.Model
    history: dict
    train_error: float
    seed: int
    valid_error: float = float("nan")
    diverged: bool = False  # its weights became NaN or infinite

    def selection_key(self) -> tuple[bool, float, float]:
        """Lowest training error first (the paper's rule); ties, common on 1k tasks, go to the lower validation error.

        A run that diverged comes after every run that did not.
        """
        no_validation = math.isnan(self.valid_error)
        return (self.diverged, self.train_error, float("inf") if no_validation else self.valid_error)

    def divergence(self) -> str:
        """What went wrong, for a run that diverged (e.g. "the loss became NaN or infinite in epoch 40")."""
        bad = [epoch for epoch, loss in enumerate(self.history.get("loss", []), start=1) if not math.isfinite(loss)]
        return "the loss became NaN or infinite" + (f" in epoch {bad[0]}" if bad else "") + " and the weights with it"


def train_best_of(
    build_model: Callable[[int], keras.Model],
    train_data: EncodedExamples,
    valid_data: EncodedExamples | None,
    config: TrainingConfig,
    *,
    runs: int = 1,
    seed: int = 0,
    parallel: int = 10,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    backup_dir=None,
    on_run_end: Callable[[int, RunResult], None] | None = None,
    verbose: int | str = 0,
) -> tuple[RunResult, list[RunResult]]:
    """Train ``runs`` models (seeds ``seed, seed+1, ...``) and keep the lowest training error, as the paper did.

    Ties in training error (several runs at 0% is common on 1k tasks) are broken by the
    validation error, never by the test set (:meth:`RunResult.selection_key`).

    Up to ``parallel`` runs train side by side in one compiled step (:class:`ParallelRuns`).
    ``backup_dir`` makes each group of runs resumable (see :func:`train_runs`).
    Returns ``(best, all_runs)``; the losing runs' models are dropped to free memory. A run whose
    weights became NaN or infinite is the best only if every run did (``best.diverged``).
    """
    results: list[RunResult] = []
    best = None
    for first in range(0, runs, parallel):
        seeds = [seed + run for run in range(first, min(runs, first + parallel))]
        models = []
        for run_seed in seeds:
            keras.utils.set_random_seed(run_seed)  # each run's initialization depends on its seed only
            models.append(build_model(run_seed))
        history = train_runs(
            models, train_data, valid_data, config, seeds=seeds, callbacks=callbacks, verbose=verbose,
            backup_dir=None if backup_dir is None else Path(backup_dir) / f"runs-{seeds[0]}-{seeds[-1]}",
        )
        for run_seed, model in zip(seeds, models):
            valid_error = error_rate(model, valid_data) if valid_data is not None and len(valid_data) else float("nan")
            result = RunResult(model, history, error_rate(model, train_data), run_seed, valid_error, not _finite_weights(model))
            if on_run_end is not None:
                on_run_end(run_seed - seed, result)
            if best is None or result.selection_key() < best.selection_key():
                if best is not None:
                    best.model = None
                best = result
            else:
                result.model = None
            results.append(result)
    return best, results


def _finite_weights(model: keras.Model) -> bool:
    return all(np.isfinite(keras.ops.convert_to_numpy(weight)).all() for weight in model.weights)
