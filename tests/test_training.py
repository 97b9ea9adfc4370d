"""The paper's training protocol: learning-rate schedule, SGD with per-matrix clipping, summed loss,
and a real short training run on bAbI task 1."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import babi_dir
from memnet.models import MemN2N
from memnet.training import SGD, PaperSchedule, TrainingConfig, compile_for_training, error_rate, per_task_errors, train


def _lr(schedule, step):
    return float(schedule(step))


# --------------------------------------------------------------------------- schedule and settings


def test_learning_rate_halves_at_the_start_of_epochs_25_50_75_100():
    steps = 28  # steps per epoch (900 training questions // 32)
    schedule = PaperSchedule(0.01, steps, decay_every=25)

    def lr_in_epoch(epoch, step_in_epoch=0):  # 1-based epoch; the optimizer's step counter starts at 0
        return _lr(schedule, (epoch - 1) * steps + step_in_epoch)

    assert lr_in_epoch(1) == pytest.approx(0.01)
    assert lr_in_epoch(24, steps - 1) == pytest.approx(0.01)  # last step of epoch 24
    assert lr_in_epoch(25) == pytest.approx(0.005)  # first step of epoch 25
    assert lr_in_epoch(49, steps - 1) == pytest.approx(0.005)
    assert lr_in_epoch(50) == pytest.approx(0.0025)
    assert lr_in_epoch(75) == pytest.approx(0.00125)
    assert lr_in_epoch(99, steps - 1) == pytest.approx(0.00125)
    assert lr_in_epoch(100) == pytest.approx(0.000625)
    assert lr_in_epoch(100, steps - 1) == pytest.approx(0.000625)
    expected = [0.01 * 0.5 ** (epoch // 25) for epoch in range(1, 101)]
    assert [lr_in_epoch(e) for e in range(1, 101)] == pytest.approx(expected)


def test_linear_start_epochs_come_first_and_main_epochs_count_from_their_end():
    steps, linear_epochs = 10, 20
    schedule = PaperSchedule(0.005, steps, decay_every=25, linear_start_steps=linear_epochs * steps, linear_start_lr=0.005)
    main = lambda epoch: _lr(schedule, (linear_epochs + epoch - 1) * steps)  # noqa: E731  (1-based main epoch)
    assert _lr(schedule, 0) == pytest.approx(0.005)
    assert _lr(schedule, linear_epochs * steps - 1) == pytest.approx(0.005)  # never halved during linear start
    assert [main(e) for e in (1, 24, 25, 50, 100)] == pytest.approx([0.005, 0.005, 0.0025, 0.00125, 0.0003125])
    other = PaperSchedule(0.01, steps, decay_every=25, linear_start_steps=30, linear_start_lr=0.002)
    assert (_lr(other, 29), _lr(other, 30)) == pytest.approx((0.002, 0.01))


def test_joint_schedule_halves_every_15_epochs():
    schedule = PaperSchedule(0.005, 10, decay_every=15)
    assert [_lr(schedule, (e - 1) * 10) for e in (14, 15, 30, 45, 60)] == pytest.approx(
        [0.005, 0.0025, 0.00125, 0.000625, 0.0003125]
    )


def test_schedule_config_round_trip():
    schedule = PaperSchedule(0.005, 28, 25, linear_start_steps=560, linear_start_lr=0.004)
    clone = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert isinstance(clone, PaperSchedule) and clone.get_config() == schedule.get_config()
    assert [_lr(clone, s) for s in (0, 560, 560 + 24 * 28)] == pytest.approx([0.004, 0.005, 0.0025])


def test_training_config_defaults_follow_the_paper():
    config = TrainingConfig()
    assert (config.epochs, config.decay_every, config.linear_start_epochs) == (100, 25, 20)
    assert (config.batch_size, config.clipnorm) == (32, 40.0)
    assert config.initial_learning_rate == 0.005  # with linear start, as in the authors' code
    assert TrainingConfig(linear_start_epochs=0).initial_learning_rate == 0.01
    assert TrainingConfig(learning_rate=0.1).initial_learning_rate == 0.1
    joint = TrainingConfig.joint()
    assert (joint.epochs, joint.decay_every, joint.linear_start_epochs) == (60, 15, 30)


def _small_model():
    keras.utils.set_random_seed(0)
    model = MemN2N(vocabulary_size=20, memory_size=5, embedding_dim=6, hops=2, seed=0)
    model({"story": np.ones((2, 5, 4), "int32"), "question": np.ones((2, 4), "int32")})
    return model


def test_compile_uses_sgd_with_per_variable_clipping_and_summed_loss():
    model = _small_model()
    compile_for_training(model, TrainingConfig(), 0.005, steps_per_epoch=31)
    optimizer = model.optimizer
    assert isinstance(optimizer, SGD) and isinstance(optimizer, keras.optimizers.SGD)
    assert optimizer.clipnorm == 40 and optimizer.global_clipnorm is None
    assert model.loss.reduction == "sum"

    # the loss of a batch is the SUM of the per-example cross-entropies
    logits = np.random.default_rng(0).normal(size=(4, 20)).astype("float32")
    labels = np.array([1, 5, 7, 19])
    per_example = -np.log(np.exp(logits[np.arange(4), labels]) / np.exp(logits).sum(-1))
    assert float(model.loss(labels, logits)) == pytest.approx(per_example.sum(), rel=1e-5)


def test_clipping_applies_to_each_matrix_separately():
    model = _small_model()
    compile_for_training(model, TrainingConfig(), 1.0, steps_per_epoch=10)
    big, small = model.trainable_variables[:2]
    before = [np.array(big.numpy()), np.array(small.numpy())]
    big_gradient = np.full(big.shape, 1.0, "float32")
    big_gradient *= 400.0 / np.linalg.norm(big_gradient)  # norm 400: clipped to 40
    small_gradient = np.full(small.shape, 1.0, "float32")
    small_gradient *= 4.0 / np.linalg.norm(small_gradient)  # norm 4: untouched
    model.optimizer.apply_gradients([(big_gradient, big), (small_gradient, small)])
    assert np.linalg.norm(before[0] - big.numpy()) == pytest.approx(40.0, rel=1e-4)
    assert np.linalg.norm(before[1] - small.numpy()) == pytest.approx(4.0, rel=1e-4)


def test_clipping_uses_the_norm_of_the_dense_embedding_gradient():
    # An embedding gradient arrives as tf.IndexedSlices, one row per lookup (here word 1 twice,
    # with opposite signs, and word 2 once). The dense gradient has norm 30 (< 40, no clipping);
    # the unsummed rows have norm 52 (> 40), which is what keras.optimizers.SGD clips by.
    rows = tf.IndexedSlices(
        values=tf.constant([[30.0, 0.0], [-30.0, 0.0], [30.0, 0.0]]),
        indices=tf.constant([1, 1, 2]),
        dense_shape=tf.constant([4, 2]),
    )
    ours, plain = keras.Variable(np.zeros((4, 2), "float32")), keras.Variable(np.zeros((4, 2), "float32"))
    SGD(learning_rate=1.0, clipnorm=40.0).apply_gradients([(rows, ours)])
    keras.optimizers.SGD(learning_rate=1.0, clipnorm=40.0).apply_gradients([(rows, plain)])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours), [[0, 0], [0, 0], [-30, 0], [0, 0]], atol=1e-5)
    assert keras.ops.convert_to_numpy(plain)[2, 0] == pytest.approx(-30 * 40 / np.sqrt(3 * 30**2), rel=1e-4)


def test_best_run_is_the_lowest_training_error_with_ties_broken_by_validation():
    from memnet.training import RunResult

    runs = [RunResult(None, {}, 0.0, 0, 9.0), RunResult(None, {}, 0.0, 1, 4.0), RunResult(None, {}, 0.5, 2, 1.0)]
    assert min(runs, key=RunResult.selection_key).seed == 1  # 0% training error twice: lower validation wins
    assert RunResult(None, {}, 0.0, 3).selection_key() > runs[1].selection_key()  # no validation set: loses ties
    diverged = RunResult(None, {"loss": [2.0, float("nan")]}, 0.0, 4, 0.0, diverged=True)
    assert diverged.selection_key() > RunResult(None, {}, 100.0, 5, 100.0).selection_key()  # its NaN answers never win
    assert "in epoch 2" in diverged.divergence()


def test_training_needs_at_least_one_batch():
    model = _small_model()
    from memnet.data import EncodedExamples

    tiny = EncodedExamples(
        story=np.ones((3, 5, 4), "int32"),
        question=np.ones((3, 4), "int32"),
        answer=np.ones(3, "int32"),
        supporting=np.zeros((3, 5), bool),
        task=np.ones(3, "int32"),
    )
    with pytest.raises(ValueError, match="at least one batch"):
        train(model, tiny, config=TrainingConfig(epochs=1))


# --------------------------------------------------------------------------- a real training run


def test_short_training_on_task_1_reaches_low_test_error():
    """20 linear-start epochs + 10 epochs: about 20 s on 2 cores; the test error is ~0-1%."""
    from memnet.experiment import prepare_data

    data = prepare_data(babi_dir("en"), [1], memory_size=50, seed=0)
    keras.utils.set_random_seed(0)
    model = MemN2N(vocabulary_size=len(data.vocab), memory_size=50, embedding_dim=20, hops=3, seed=0)
    history = train(model, data.train, data.valid, TrainingConfig(epochs=10), seed=0)

    assert history["phase"] == ["linear_start"] * 20 + ["main"] * 10
    assert len(history["loss"]) == 30
    assert history["loss"][-1] < history["loss"][0]
    # back in softmax mode for use: each hop's attention over the story sums to 1
    _, attention = model(data.test.select(np.arange(8)).inputs, return_attention=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(attention).sum(-1), 1.0, rtol=1e-4)

    test_error = error_rate(model, data.test)
    assert test_error <= 5.0, f"task 1 test error {test_error:.1f}% after a short training"
    assert error_rate(model, data.train) <= 5.0
    assert per_task_errors(model, data.test) == {1: pytest.approx(test_error)}
