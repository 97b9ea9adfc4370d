"""TransformerMemory: shapes, attention maps, padding, save/load, its training hook, and a real bAbI task-1 run."""

from __future__ import annotations

import dataclasses
import json
import time
import zipfile

import keras
import numpy as np
import pytest

from conftest import babi_dir
from memnet.experiment import default_settings
from memnet.models import MODELS, TransformerMemory
from memnet.training import PaperSchedule, TrainingConfig, WarmupSchedule, error_rate, model_training_config, train_best_of

VOCAB, MEMORY, WORDS = 40, 8, 6
SMALL = dict(embedding_dim=16, num_heads=2, memory_layers=2, hops=2)


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _model(open_gates=True, **kwargs):
    """A small model; its ReZero gates set to 0.5, so that the gated blocks are not the identity."""
    keras.utils.set_random_seed(0)
    model = TransformerMemory(**{"vocabulary_size": VOCAB, "memory_size": MEMORY, "seed": 0, **SMALL, **kwargs})
    model.build()
    gates = [w for w in model.weights if w.path.endswith("_gate")]
    gated_blocks = (len(model.memory_encoder.blocks) if model.memory_rezero else 0) + model.attention_reads
    assert len(gates) == 2 * gated_blocks
    for gate in gates if open_gates else ():
        gate.assign(0.5)
    return model


def _inputs(batch=4, slots=MEMORY, words=WORDS, seed=0):
    """Stories of 1..6 sentences (left-aligned) of 1..words-1 words, and 3-word questions."""
    rng = np.random.default_rng(seed)
    story = np.zeros((batch, slots, words), "int32")
    question = np.zeros((batch, words), "int32")
    for b in range(batch):
        for s in range(int(rng.integers(1, 7))):
            length = int(rng.integers(1, words))
            story[b, s, :length] = rng.integers(1, VOCAB, size=length)
        question[b, :3] = rng.integers(1, VOCAB, size=3)
    return {"story": story, "question": question}


VARIANTS = [{}, {"sentence_encoding": "transformer"}, {"shared": True}, {"halting": True}, {"question_in_memory": False}]
VARIANT_IDS = ["mask", "sentence_transformer", "shared", "act", "question_outside_memory"]


def test_transformer_is_registered():
    assert MODELS["transformer"] is TransformerMemory


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_logits_and_one_attention_map_per_layer_and_read(variant):
    model = _model(**variant)
    inputs = _inputs()
    logits, attention = model(inputs, return_attention=True)
    assert logits.shape == (4, VOCAB) and keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert attention.shape == (4, 2 + 2, MEMORY)  # 2 memory layers + 2 question reads
    attention = _np(attention)
    slots = (inputs["story"] != 0).any(-1)
    assert not attention[~np.repeat(slots[:, None, :], 4, axis=1)].any()  # empty slots: no weight
    np.testing.assert_allclose(attention[:, 2:].sum(-1), 1.0, rtol=1e-5)  # reads: all on the memory
    if model.question_in_memory:  # memory layers: the question slot took some attention
        assert (attention[:, :2].sum(-1) < 1.0).all()
    else:
        np.testing.assert_allclose(attention[:, :2].sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(_np(model(inputs)), _np(logits), rtol=1e-6)
    assert len(model.attention_names) == 4 and model.attention_names[-1] == "read 2"


def test_without_memory_layers_the_maps_are_the_reads(tmp_path):
    model = _model(memory_layers=0)
    inputs = _inputs()
    logits, attention = model(inputs, return_attention=True)
    assert attention.shape == (4, 2, MEMORY) and model.attention_names == ["read 1", "read 2"]
    np.testing.assert_allclose(_np(attention).sum(-1), 1.0, rtol=1e-5)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True, compile=False)
    assert loaded.memory_layers == 0
    np.testing.assert_allclose(_np(loaded(inputs)), _np(logits), rtol=1e-5, atol=1e-6)


def test_a_new_model_starts_with_unmixed_memory_slots():
    memories = np.random.default_rng(1).normal(size=(2, MEMORY, SMALL["embedding_dim"])).astype("float32")
    changed = memories.copy()
    changed[:, 1] = np.random.default_rng(2).normal(size=changed[:, 1].shape)
    for rezero, mixed in ((True, False), (False, True)):
        model = _model(open_gates=False, memory_rezero=rezero)
        model(_inputs())
        before, after = _np(model.memory_encoder(memories)), _np(model.memory_encoder(changed))
        assert np.allclose(before[:, [0, 2]], after[:, [0, 2]], atol=1e-6) != mixed  # other slots see slot 1 only if mixed
    assert TransformerMemory(vocabulary_size=VOCAB).get_config()["memory_rezero"]


def test_hop_reads_weight_the_slots_by_a_softmax_or_by_raw_scores_in_linear_start():
    model = _model(read="hop")
    inputs = _inputs()
    slots = (inputs["story"] != 0).any(-1)
    logits, attention = model(inputs, return_attention=True)
    reads = _np(attention)[:, 2:]
    assert logits.shape == (4, VOCAB) and attention.shape == (4, 2 + 2, MEMORY)
    np.testing.assert_allclose(reads.sum(-1), 1.0, rtol=1e-5)
    assert not reads[~np.repeat(slots[:, None, :], 2, axis=1)].any()  # empty slots: no weight
    assert model.linear_start is False
    model.linear_start = True
    linear_logits, linear_attention = model(inputs, return_attention=True)
    raw = _np(linear_attention)[:, 2:]
    assert not np.allclose(raw.sum(-1), 1.0) and not raw[~np.repeat(slots[:, None, :], 2, axis=1)].any()
    # in linear start the memory blocks are left out: the slots are their own sentences
    np.testing.assert_allclose(_np(model(inputs, linear_start=True)), _np(linear_logits), rtol=1e-6)
    model.linear_start = False
    np.testing.assert_allclose(_np(model(inputs, linear_start=keras.Variable(False, dtype="bool"))), _np(logits), rtol=1e-5)
    np.testing.assert_allclose(_np(model(inputs)), _np(logits), rtol=1e-6)


def test_linear_hop_reads_keep_their_raw_scores_after_linear_start():
    model = _model(read="linear_hop")
    inputs = _inputs()
    _, attention = model(inputs, return_attention=True)
    assert not np.allclose(_np(attention)[:, 2:].sum(-1), 1.0)  # no softmax, also outside linear start
    _, in_linear_start = model(inputs, return_attention=True, linear_start=True)
    assert not np.allclose(_np(in_linear_start)[:, 2:], _np(attention)[:, 2:])  # there the memory blocks are left out
    assert model_training_config(model, TrainingConfig()).linear_start_epochs == 20


def test_attention_reads_beside_the_hops_read_from_the_question_also_in_linear_start():
    inputs = _inputs()
    slots = (inputs["story"] != 0).any(-1)
    model = _model(read="linear_hop", hops=2, attention_reads=2)
    logits, attention = model(inputs, return_attention=True)
    assert attention.shape == (4, 2 + 2 + 2, MEMORY) and model.attention_names[-1] == "read 4"
    branch = _np(attention)[:, 4:]
    np.testing.assert_allclose(branch.sum(-1), 1.0, rtol=1e-5)  # attention reads: a softmax over the real slots
    assert not branch[~np.repeat(slots[:, None, :], 2, axis=1)].any()
    assert not np.allclose(_np(attention)[:, 2:4].sum(-1), 1.0)  # the hops: raw scores
    in_linear_start = _np(model(inputs, linear_start=True))
    # the attention reads take part in the answer in and out of linear start
    for block in model.attention_branch:
        for weight in block.weights:
            weight.assign(weight + 0.3)
    assert not np.allclose(_np(model(inputs)), _np(logits), atol=1e-4)
    assert not np.allclose(_np(model(inputs, linear_start=True)), in_linear_start, atol=1e-4)
    with pytest.raises(ValueError, match="attention_reads"):
        _model(attention_reads=1)  # beside hop reads only


def test_hop_reads_train_with_linear_start_and_attention_reads_without():
    hop = model_training_config(_model(read="hop"), TrainingConfig())
    assert (hop.optimizer, hop.linear_start_epochs) == ("adam", 20)
    assert model_training_config(_model(read="hop"), TrainingConfig(linear_start_epochs=0)).linear_start_epochs == 0
    assert model_training_config(_model(), TrainingConfig()).linear_start_epochs == 0
    with pytest.raises(ValueError, match="read"):
        _model(read="lstm")


def test_question_in_memory_and_the_tied_answer():
    model = _model(question_in_memory=True, tied_answer=True)
    inputs = _inputs()
    logits, attention = model(inputs, return_attention=True)
    assert logits.shape == (4, VOCAB) and attention.shape == (4, 2 + 2, MEMORY)
    attention = _np(attention)
    assert (attention[:, :2].sum(-1) < 1.0).all()  # memory layers: the question slot took some attention
    np.testing.assert_allclose(attention[:, 2:].sum(-1), 1.0, rtol=1e-5)  # reads: all on the memory
    # the question takes part in the memory's self-attention: it changes the memory maps
    other = {**inputs, "question": np.roll(inputs["question"], 1, axis=0)}
    assert not np.allclose(_np(model(other, return_attention=True)[1])[:, :2], attention[:, :2], atol=1e-5)
    # the answer scores words by their embeddings: no separate answer matrix
    assert not hasattr(model, "answer") and model.answer_bias.shape == (VOCAB,)
    plain = _model()
    assert plain.count_params() - model.count_params() == VOCAB * SMALL["embedding_dim"]


@pytest.mark.parametrize(
    "variant",
    VARIANTS + [{"question_in_memory": True, "tied_answer": True}, {"read": "hop"}, {"read": "linear_hop", "attention_reads": 2}],
    ids=VARIANT_IDS + ["question_in_memory", "hop_reads", "hop_and_attention_reads"],
)
def test_padding_slots_and_words_do_not_change_the_answer(variant):
    model = _model(**variant)
    inputs = _inputs()
    padded = {
        "story": np.pad(inputs["story"], ((0, 0), (0, 5), (0, 3))),
        "question": np.pad(inputs["question"], ((0, 0), (0, 3))),
    }
    logits, attention = model(inputs, return_attention=True)
    padded_logits, padded_attention = model(padded, return_attention=True)
    np.testing.assert_allclose(_np(padded_logits), _np(logits), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(_np(padded_attention)[:, :, :MEMORY], _np(attention), rtol=1e-4, atol=1e-5)


def test_training_mode_uses_dropout_and_inference_is_deterministic():
    model = _model(dropout=0.5)
    inputs = _inputs()
    assert not np.allclose(_np(model(inputs, training=True)), _np(model(inputs, training=True)))
    np.testing.assert_array_equal(_np(model(inputs)), _np(model(inputs)))


@pytest.mark.parametrize(
    "variant",
    [
        {}, {"sentence_encoding": "transformer", "halting": True}, {"question_in_memory": True, "tied_answer": True},
        {"read": "hop", "question_in_memory": True}, {"read": "linear_hop", "attention_reads": 1},
    ],
    ids=["default", "act", "question_in_memory", "hop_reads", "linear_hop_and_attention_reads"],
)
def test_save_and_load_in_safe_mode_gives_identical_predictions(tmp_path, variant):
    model = _model(**variant)
    inputs = _inputs()
    logits, attention = model(inputs, return_attention=True)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, TransformerMemory) and loaded.get_config() == model.get_config()
    loaded_logits, loaded_attention = loaded(inputs, return_attention=True)
    np.testing.assert_array_equal(_np(loaded_logits), _np(logits))
    np.testing.assert_array_equal(_np(loaded_attention), _np(attention))


def test_a_model_saved_before_the_newer_settings_loads_as_it_was(tmp_path):
    old = _model(memory_rezero=False, question_in_memory=False)
    inputs = _inputs()
    old.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    for key in ("memory_rezero", "question_in_memory", "tied_answer", "position_mask_stddev"):
        del config["config"][key]  # as written before these settings existed
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "before.keras", "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    loaded = keras.saving.load_model(tmp_path / "before.keras", safe_mode=True, compile=False)
    assert not (loaded.memory_rezero or loaded.question_in_memory or loaded.tied_answer or loaded.position_mask_stddev)
    np.testing.assert_allclose(_np(loaded(inputs)), _np(old(inputs)), rtol=1e-5, atol=1e-6)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="sentence_encoding"):
        _model(sentence_encoding="lstm")
    with pytest.raises(ValueError, match="hops"):
        _model(hops=0)


# --------------------------------------------------------------------------- its training settings


def test_training_hook_adam_with_warmup_and_no_linear_start():
    config = model_training_config(_model(), TrainingConfig())
    assert (config.optimizer, config.learning_rate, config.linear_start_epochs, config.warmup_epochs) == ("adam", 0.003, 0, 5)
    chosen = model_training_config(_model(), TrainingConfig(learning_rate=0.01, warmup_epochs=2, epochs=7))
    assert (chosen.learning_rate, chosen.warmup_epochs, chosen.epochs) == (0.01, 2, 7)  # the user's choice stays
    settings, _ = default_settings([1], "transformer")
    assert settings == {"embedding_dim": 64}
    assert default_settings([1])[0] == {"embedding_dim": 20, "hops": 3}  # MemN2N's path is unchanged
    assert default_settings([1, 2], "transformer")[0]["embedding_dim"] == 128


def test_warmup_ramps_the_rate_linearly_then_follows_the_inner_schedule():
    schedule = WarmupSchedule(PaperSchedule(0.003, steps_per_epoch=10, decay_every=25), warmup_steps=50)
    lr = lambda step: float(schedule(step))  # noqa: E731
    assert lr(0) == pytest.approx(0.003 / 50)
    assert lr(24) == pytest.approx(0.003 * 25 / 50)
    assert lr(49) == lr(100) == pytest.approx(0.003)
    assert lr(240) == pytest.approx(0.0015)  # epoch 25: the inner schedule halves
    restored = WarmupSchedule.from_config(schedule.get_config())
    assert [float(restored(s)) for s in (0, 30, 300)] == pytest.approx([lr(0), lr(30), lr(300)])


# --------------------------------------------------------------------------- real training on bAbI


def test_learns_babi_task_1_in_parallel_runs_under_xla():
    """1k task 1 through train_best_of (ParallelRuns, jit_compile=True): test error <= 1%. About 40-50 s on 2 cores."""
    from memnet.experiment import prepare_data

    data = prepare_data(babi_dir("en"), [1], seed=0)
    config = dataclasses.replace(TrainingConfig(), epochs=40, decay_every=15, validation_freq=0, jit_compile=True)
    start = time.perf_counter()
    best, runs = train_best_of(
        lambda seed: TransformerMemory(
            vocabulary_size=len(data.vocab), memory_size=50, embedding_dim=32, num_heads=2, memory_layers=1, hops=1, seed=seed
        ),
        data.train,
        data.valid,
        config,
        runs=1,
        seed=0,
    )
    assert best.history["accuracy"][-1] > 0.95
    test_error = error_rate(best.model, data.test)
    assert test_error <= 1.0, (test_error, best.train_error, time.perf_counter() - start)
    _, attention = best.model({key: value[:8] for key, value in data.test.inputs.items()}, return_attention=True)
    # the question's read puts its weight on real sentences only
    slots = (data.test.inputs["story"][:8] != 0).any(-1)
    assert not _np(attention)[:, -1][~slots].any()
