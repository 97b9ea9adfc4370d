"""Training memory networks the way the MemN2N paper did, with Keras's own ``fit``.

The protocol (``../shared/REFERENCE.md``, checked against the authors' Matlab code):

* plain SGD, batch 32, cross-entropy **summed** over the batch, each weight matrix's gradient
  clipped to norm 40 (Keras's ``clipnorm`` clips per variable);
* linear start: 20 epochs without the memory softmax (30 for joint training), then the softmax
  goes back in and training starts again for 100 epochs (60 joint) with the learning rate halved
  every 25 epochs (15 joint). With linear start the authors' code uses lr 0.005 in both phases;
  without it, 0.01;
* random noise on the memory times during training (a property of the model, see ``MemoryAge``);
* 10 runs, keeping the one with the lowest training error (see :func:`train_best_of`).
"""

from __future__ import annotations

import dataclasses
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

    @classmethod
    def joint(cls, **overrides) -> "TrainingConfig":
        """The paper's settings for training one model on all tasks at once."""
        return cls(**{"epochs": 60, "decay_every": 15, "linear_start_epochs": 30, **overrides})

    @property
    def initial_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return 0.005 if self.linear_start_epochs > 0 else 0.01


def halving_schedule(initial: float, steps_per_epoch: int, epochs: int, every: int):
    """The learning rate halves at the start of epochs ``every, 2*every, ...`` (1-based), as in the paper's code."""
    halvings = range(every, epochs + 1, every)
    boundaries = [(epoch - 1) * steps_per_epoch - 1 for epoch in halvings]
    if not boundaries:
        return initial
    values = [initial * 0.5**i for i in range(len(boundaries) + 1)]
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)


def compile_for_training(model: keras.Model, config: TrainingConfig, learning_rate, steps_per_epoch: int) -> None:
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate, clipnorm=config.clipnorm),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        jit_compile=config.jit_compile,
        steps_per_execution=max(1, min(config.steps_per_execution, steps_per_epoch)),
    )


def make_dataset(data: EncodedExamples, batch_size: int, *, shuffle: bool, seed: int | None = None, drop_remainder=False):
    """A ``tf.data`` pipeline over in-memory arrays: reshuffled every epoch, prefetched."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((data.inputs, data.answer))
    if shuffle:
        dataset = dataset.shuffle(len(data), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


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
    """Train ``model`` with the paper's protocol; return the per-epoch history of both phases.

    Each epoch is ``floor(n / batch_size)`` batches of a fresh shuffle, as in the authors' code.
    The history has one entry per epoch (linear-start epochs first) and a ``phase`` list saying
    which phase each epoch belongs to.
    """
    config = config or TrainingConfig()
    if len(train_data) < config.batch_size:
        raise ValueError(f"need at least one batch of training data ({config.batch_size}), got {len(train_data)}")
    dataset = make_dataset(train_data, config.batch_size, shuffle=True, seed=seed, drop_remainder=True)
    steps_per_epoch = len(train_data) // config.batch_size
    validation = None
    if valid_data is not None and len(valid_data) and config.validation_freq:
        validation = make_dataset(valid_data, 256, shuffle=False)

    history: dict[str, list] = {"phase": []}
    phases = []
    if config.linear_start_epochs > 0 and hasattr(model, "linear_start"):
        phases.append(("linear_start", config.linear_start_epochs, config.initial_learning_rate))
    phases.append(
        ("main", config.epochs, halving_schedule(config.initial_learning_rate, steps_per_epoch, config.epochs, config.decay_every))
    )
    for phase, epochs, learning_rate in phases:
        if hasattr(model, "linear_start"):
            model.linear_start = phase == "linear_start"
        compile_for_training(model, config, learning_rate, steps_per_epoch)
        result = model.fit(
            dataset,
            epochs=epochs,
            validation_data=validation,
            validation_freq=config.validation_freq or 1,
            callbacks=list(callbacks),
            verbose=verbose,
        )
        for key, values in result.history.items():
            history.setdefault(key, []).extend(float(v) for v in values)
        history["phase"].extend([phase] * epochs)
    return history


def predict_logits(model: keras.Model, data: EncodedExamples, batch_size: int = 512) -> np.ndarray:
    return np.asarray(model.predict(data.inputs, batch_size=batch_size, verbose=0))


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
    """One of the repeated runs: its model, training history and clean training error."""

    model: keras.Model
    history: dict
    train_error: float
    seed: int


def train_best_of(
    build_model: Callable[[int], keras.Model],
    train_data: EncodedExamples,
    valid_data: EncodedExamples | None,
    config: TrainingConfig,
    *,
    runs: int = 1,
    seed: int = 0,
    callbacks_for_run: Callable[[int], Sequence[keras.callbacks.Callback]] = lambda run: (),
    on_run_end: Callable[[int, RunResult], None] | None = None,
    verbose: int | str = 0,
) -> tuple[RunResult, list[RunResult]]:
    """Train ``runs`` models (seeds ``seed, seed+1, ...``) and keep the lowest training error, as the paper did.

    Returns ``(best, all_runs)``; the losing runs' models are dropped from ``all_runs`` to free memory.
    """
    results = []
    best = None
    for run in range(runs):
        run_seed = seed + run
        keras.utils.set_random_seed(run_seed)
        model = build_model(run_seed)
        history = train(
            model, train_data, valid_data, config, seed=run_seed, callbacks=callbacks_for_run(run), verbose=verbose
        )
        result = RunResult(model, history, error_rate(model, train_data), run_seed)
        if on_run_end is not None:
            on_run_end(run, result)
        if best is None or result.train_error < best.train_error:
            if best is not None:
                best.model = None
            best = result
        else:
            result.model = None
        results.append(result)
    return best, results
