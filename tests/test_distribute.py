"""memnet.distribute: strategies (one vs two logical CPU devices give the same training), mixed precision."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from memnet import distribute
from memnet.errors import MemnetError
from memnet.models import MemN2N, TransformerMemory

# Runs in a fresh interpreter: the CPU can only be split before TensorFlow initializes its devices.
EQUALITY_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    from memnet import distribute
    devices = distribute.split_cpu(2)
    import keras, numpy as np
    from memnet.models import TransformerMemory

    rng = np.random.default_rng(0)
    story = rng.integers(1, 30, size=(64, 6, 5)).astype("int32")
    story[:, 4:] = 0                                           # padding slots
    story[:, :, 4] = 0                                         # padding words
    question = rng.integers(1, 30, size=(64, 5)).astype("int32")
    answer = rng.integers(1, 30, size=(64,)).astype("int32")

    def train(strategy, jit_compile):
        keras.utils.set_random_seed(0)
        with distribute.scope(strategy):
            model = TransformerMemory(vocabulary_size=30, memory_size=6, embedding_dim=16, num_heads=2,
                                      memory_layers=1, hops=1, dropout=0.0, time_noise=0.0, seed=0)
            model.build()
            # no clipnorm: Keras clips each replica's gradient *before* the all-reduce (see memnet.distribute)
            model.compile(optimizer=keras.optimizers.SGD(0.01),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"),
                          jit_compile=jit_compile)
        history = model.fit({"story": story, "question": question}, answer, batch_size=16, epochs=3,
                            shuffle=False, verbose=0)
        weights = [np.asarray(w).tolist() for w in model.get_weights()]
        return {"replicas": distribute.replicas(strategy), "loss": history.history["loss"], "weights": weights}

    def train_parallel_runs(strategy):
        # memnet's own path: train_best_of with 2 MemN2N runs side by side (ParallelRuns, batch axis first)
        from memnet.data import EncodedExamples
        from memnet.models import MemN2N
        from memnet.training import TrainingConfig, train_best_of
        data = EncodedExamples(story, question, answer, np.zeros(story.shape[:2], bool), np.ones(64, "int32"))
        config = TrainingConfig(epochs=2, linear_start_epochs=1, jit_compile=False, clipnorm=1e9, validation_freq=0)
        with distribute.scope(strategy):
            best, runs = train_best_of(lambda seed: MemN2N(30, 6, embedding_dim=8, time_noise=0.0, seed=seed),
                                       data, None, config, runs=2, parallel=2)
        return {"loss": best.history["loss"], "weights": [np.asarray(w).tolist() for w in best.model.get_weights()]}

    jit = sys.argv[1] == "jit"
    one, two = distribute.make_strategy("mirrored", devices=devices[:1]), distribute.make_strategy("mirrored", devices=devices)
    result = {"one": train(one, jit), "two": train(two, jit),
              "runs_one": train_parallel_runs(one), "runs_two": train_parallel_runs(two)}
    print("RESULT " + json.dumps(result))
    """
)


def _run_equality(tmp_path, mode):
    script = tmp_path / "strategy_equality.py"
    script.write_text(EQUALITY_SCRIPT, encoding="utf-8")
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    process = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True, timeout=300, env=env)
    assert process.returncode == 0, process.stderr[-3000:]
    line = next(line for line in process.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_two_logical_devices_train_like_one(tmp_path):
    """MirroredStrategy over two CPU devices (each gets half of every batch) = one device, same data and seed.

    Without XLA: XLA cannot run a replica on a *logical* CPU device other than the first
    (TensorFlow's "tf.Variable on a different device" known issue); GPUs are separate XLA devices.
    """
    result = _run_equality(tmp_path, "nojit")
    one, two = result["one"], result["two"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    assert one["loss"][-1] < one["loss"][0]  # it did train
    np.testing.assert_allclose(two["loss"], one["loss"], rtol=1e-4)
    assert len(one["weights"]) == len(two["weights"])
    moved = 0.0
    for a, b in zip(one["weights"], two["weights"]):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-3, atol=1e-5)
        moved = max(moved, float(np.abs(np.asarray(a)).max()))
    assert moved > 0
    # train_best_of's parallel runs (memnet's training path) under the strategy, too
    one, two = result["runs_one"], result["runs_two"]
    assert one["loss"][-1] < one["loss"][0]
    np.testing.assert_allclose(two["loss"], one["loss"], rtol=1e-4)
    for a, b in zip(one["weights"], two["weights"]):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-3, atol=1e-5)


@pytest.fixture
def mixed_precision():
    previous = keras.mixed_precision.global_policy().name
    assert distribute.set_precision(True) == "mixed_float16"
    yield
    keras.mixed_precision.set_global_policy(previous)


def _inputs(batch=4, slots=6, words=5, vocab=30):
    rng = np.random.default_rng(1)
    story = rng.integers(1, vocab, size=(batch, slots, words)).astype("int32")
    story[:, 4:] = 0
    return {"story": story, "question": rng.integers(1, vocab, size=(batch, words)).astype("int32")}


@pytest.mark.parametrize("model_class", [TransformerMemory, MemN2N])
def test_mixed_precision_computes_in_float16_and_keeps_float32_logits(mixed_precision, model_class):
    model = model_class(vocabulary_size=30, memory_size=6, embedding_dim=16, seed=0)
    logits, attention = model(_inputs(), return_attention=True)
    assert model.compute_dtype == "float16" and model.variable_dtype == "float32"
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert np.isfinite(keras.ops.convert_to_numpy(logits)).all()
    assert np.isfinite(keras.ops.convert_to_numpy(attention)).all()


def test_mixed_precision_training_scales_the_loss_and_learns(mixed_precision):
    inputs = _inputs(batch=32)
    answers = np.arange(32) % 5 + 1
    keras.utils.set_random_seed(0)
    model = TransformerMemory(vocabulary_size=30, memory_size=6, embedding_dim=16, num_heads=2, dropout=0.0, seed=0)
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=False,
    )
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    history = model.fit(inputs, answers, batch_size=32, epochs=15, verbose=0).history["loss"]
    assert np.isfinite(history).all() and history[-1] < 0.5 * history[0]
    assert all(w.dtype == "float32" for w in model.trainable_weights)


def test_loss_scaled_wraps_only_under_mixed_precision(mixed_precision):
    wrapped = distribute.loss_scaled(keras.optimizers.Adam())
    assert isinstance(wrapped, keras.optimizers.LossScaleOptimizer)
    assert distribute.loss_scaled(wrapped) is wrapped
    distribute.set_precision(False)
    plain = keras.optimizers.Adam()
    assert distribute.loss_scaled(plain) is plain


def test_default_strategy_and_scope():
    strategy = distribute.make_strategy("default")
    assert distribute.replicas(strategy) == 1
    with distribute.scope("default") as active:
        assert distribute.replicas(active) == 1
    with pytest.raises(MemnetError, match="unknown strategy"):
        distribute.make_strategy("ring")


def test_multiworker_rejects_a_malformed_tf_config(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(MemnetError, match="not valid JSON"):
        distribute.make_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 5}}))
    with pytest.raises(MemnetError, match="TF_CONFIG must look like"):
        distribute.cluster_spec()
    good = {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(good))
    assert distribute.cluster_spec() == good
    monkeypatch.delenv("TF_CONFIG")
    assert distribute.cluster_spec() == {}
