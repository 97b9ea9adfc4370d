"""ReadWriteMemory: shapes, attention maps, save/load, training under ParallelRuns + XLA, streaming QA."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import memnet
from memnet.data import Vocabulary, load_task
from memnet.errors import BabiFormatError, UnknownWordError
from memnet.experiment import build_model, default_settings, train_experiment
from memnet.inference import QuestionAnswerer, StreamingSession
from memnet.models import MODELS, MemN2N, ReadWriteMemory
from memnet.models.readwrite import retention, sentence_attention
from memnet.training import TrainingConfig, model_training_config

from conftest import babi_dir

VOCAB = 30


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _inputs(batch=3, sentences=7, words=5, seed=0):
    rng = np.random.default_rng(seed)
    story = rng.integers(1, VOCAB, size=(batch, sentences, words)).astype("int32")
    story[:, :, 3:] = 0
    story[1, 4:] = 0  # a shorter story: padding sentences
    question = rng.integers(1, VOCAB, size=(batch, words)).astype("int32")
    return {"story": story, "question": question}


def test_registered_and_built_like_every_memnet_model():
    assert MODELS["readwrite"] is ReadWriteMemory
    settings, _ = default_settings([1])
    model = build_model("readwrite", VOCAB, 50, {**settings, "slots": 6}, seed=3)
    assert (model.embedding_dim, model.hops, model.slots) == (settings["embedding_dim"], settings["hops"], 6)
    model.build()
    assert model.built and len(model.trainable_weights) > 0  # weights exist before any call (for backups)


def test_shapes_attention_maps_and_memory_attention():
    model = ReadWriteMemory(VOCAB, slots=6, embedding_dim=8, hops=2, write="interpolate")
    inputs = _inputs()
    logits, attention = model(inputs, return_attention=True)
    assert logits.shape == (3, VOCAB) and logits.dtype == "float32"
    assert attention.shape == (3, 3, 7) and model.attention_names == ["read 1", "read 2", "stored"]
    np.testing.assert_allclose(_np(model(inputs)), _np(logits), rtol=1e-6)
    maps = model.memory_attention(inputs)
    write, read, shares = (_np(maps[k]) for k in ("write", "read", "retention"))
    assert write.shape == shares.shape == (3, 7, 6) and read.shape == (3, 2, 6)
    assert not write[1, 4:].any() and not _np(attention)[1, :, 4:].any()  # padding sentences: no write, no attention
    np.testing.assert_allclose(read.sum(-1), 1.0, rtol=1e-5)
    # c_ti = g_i(t) prod_{t'>t} (1 - g_i(t')): with what is left of the (zero) initial memory, shares sum to 1
    by_hand = np.stack([write[:, t] * np.prod(1 - write[:, t + 1 :], axis=1) for t in range(7)], axis=1)
    np.testing.assert_allclose(shares, by_hand, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(shares.sum(1) + np.prod(1 - write, axis=1), 1.0, rtol=1e-5)
    expected = np.concatenate([np.einsum("bhs,bts->bht", read, shares), shares.mean(-1)[:, None]], axis=1)
    np.testing.assert_allclose(_np(attention), expected, rtol=1e-5, atol=1e-7)


def test_retention_is_exact_for_interpolating_writes():
    """The final memory is sum_t c_ti a_i(t): check against a memory written with constant candidates."""
    write = np.random.default_rng(1).random((2, 5, 3)).astype("float32")
    candidates = np.random.default_rng(2).normal(size=(5,)).astype("float32")  # a_i(t) = candidates[t]
    memory = np.zeros((2, 3))
    for t in range(5):
        memory = (1 - write[:, t]) * memory + write[:, t] * candidates[t]
    np.testing.assert_allclose(np.einsum("bts,t->bs", _np(retention(write, write="interpolate")), candidates), memory, rtol=1e-5, atol=1e-6)
    assert _np(sentence_attention(write, np.full((2, 1, 3), 1 / 3, "float32"), write="interpolate")).shape == (2, 2, 5)


def test_retention_with_push_follows_each_slot_as_it_moves_down():
    """Simulate pushing memory (padding in the middle, more sentences than slots); c must be exact."""
    rng = np.random.default_rng(3)
    slots, real = 3, np.array([True, True, False, True, True, True])
    write = rng.random((1, 6, slots)).astype("float32")
    write[0, real, 0] = 1.0
    write[0, ~real] = 0.0  # padding: no push, no write
    candidates = rng.normal(size=(6,)).astype("float32")
    memory = np.zeros(slots)
    for t in np.flatnonzero(real):
        memory = np.concatenate([[0.0], memory[:-1]])
        memory = (1 - write[0, t]) * memory + write[0, t] * candidates[t]
    shares = _np(retention(write, write="interpolate", push=True))
    np.testing.assert_allclose(np.einsum("bts,t->bs", shares, candidates)[0], memory, rtol=1e-5, atol=1e-6)
    assert not shares[0, :2].any()  # the first two sentences were pushed out of the 3 slots


def test_push_model_keeps_one_slot_per_sentence_and_reads_empty_slots_as_zero():
    model = ReadWriteMemory(VOCAB, memory_size=6, embedding_dim=8, hops=2, push=True)
    assert model.slots == 6 and model.cell.push
    inputs = _inputs()
    logits, attention = model(inputs, return_attention=True)
    assert attention.shape == (3, 3, 7) and not _np(attention)[1, :, 4:].any()
    maps = model.memory_attention(inputs)
    shares, read = _np(maps["retention"]), _np(maps["read"])
    assert not shares[0, 0].any() and shares[0, 1:, 5].sum() > 0  # 7 sentences, 6 slots: the first fell out
    # story 1 has 4 sentences: slots 4 and 5 stay empty, zero vectors to the read (equal scores)
    memory, _ = model.write_story(inputs["story"][1:2])
    assert not _np(memory)[0, 4:].any() and _np(memory)[0, :4].any(axis=-1).all()
    np.testing.assert_allclose(read[1, :, 4], read[1, :, 5], rtol=1e-6)
    whole, _ = model.write_story(inputs["story"])
    memory, _ = model.write_story(inputs["story"][:, :3])
    memory, _ = model.write_story(inputs["story"][:, 3:], memory=memory)
    np.testing.assert_allclose(_np(memory), _np(whole), rtol=1e-5, atol=1e-6)


def test_additive_write_is_entnets_and_attributes_slots_by_write_weight():
    model = ReadWriteMemory(VOCAB, slots=5, embedding_dim=8, hops=2)
    assert model.write == "additive" and (model.cell.erase, model.cell.normalize) == ("none", True)  # the default
    inputs = _inputs()
    memory, _ = model.write_story(inputs["story"])
    np.testing.assert_allclose(np.linalg.norm(_np(memory), axis=-1), 1.0, rtol=1e-4)  # unit-norm slots
    maps = model.memory_attention(inputs)
    write, shares = _np(maps["write"]), _np(maps["retention"])
    np.testing.assert_allclose(shares, write / write.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=1e-5)  # every slot fully attributed
    first, _ = model.write_story(inputs["story"][:, :3])
    pieces, _ = model.write_story(inputs["story"][:, 3:], memory=first)
    np.testing.assert_allclose(_np(pieces), _np(memory), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="write must be one of"):
        ReadWriteMemory(VOCAB, write="overwrite")
    with pytest.raises(ValueError, match="encoding must be one of .*'mask'"):
        ReadWriteMemory(VOCAB, encoding="masked")


def test_answer_is_entnets_output_module_r_prelu_u():
    """logits = R PReLU(u): with the PReLU's slopes at 1 the answer is linear in u again."""
    model = ReadWriteMemory(VOCAB, slots=5, embedding_dim=8, hops=1)
    model.build()
    inputs = _inputs()
    memory, _ = model.write_story(inputs["story"])
    u = model.encoder(inputs["question"])
    u = u + model.hop_transform(model.read(model.read_address(u, memory + model.cell.keys[None]), memory))
    kernel = _np(model.answer_projection.kernel)
    expected = np.maximum(_np(u), 0) @ kernel  # PReLU starts as ReLU (slopes 0)
    np.testing.assert_allclose(_np(model(inputs)), expected, rtol=1e-5, atol=1e-6)
    model.answer_activation.alpha.assign(np.ones(8, "float32"))
    np.testing.assert_allclose(_np(model(inputs)), _np(u) @ kernel, rtol=1e-5, atol=1e-6)


def test_writing_a_story_in_pieces_equals_writing_it_whole():
    model = ReadWriteMemory(VOCAB, slots=5, embedding_dim=8)
    story = _inputs(sentences=9)["story"]
    whole, whole_weights = model.write_story(story)
    memory, first = model.write_story(story[:, :4])
    memory, second = model.write_story(story[:, 4:], memory=memory)
    np.testing.assert_allclose(_np(memory), _np(whole), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.concatenate([_np(first), _np(second)], 1), _np(whole_weights), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "push, write, encoding", [(False, "interpolate", "bow"), (True, "interpolate", "bow"), (False, "additive", "mask")]
)
def test_save_and_load_in_safe_mode_give_the_same_outputs(tmp_path, push, write, encoding):
    model = ReadWriteMemory(VOCAB, slots=5, embedding_dim=8, hops=2, encoding=encoding, addressing="softmax", push=push,
                            write=write, seed=2)
    inputs = _inputs()
    model.build()
    model.answer_activation.alpha.assign(np.random.default_rng(4).normal(size=(8,)).astype("float32"))  # not its zero init
    logits, attention = model(inputs, return_attention=True)
    model.save(tmp_path / "rw.keras")
    loaded = keras.saving.load_model(tmp_path / "rw.keras", safe_mode=True, compile=False)
    assert isinstance(loaded, ReadWriteMemory) and loaded.get_config() == model.get_config()
    np.testing.assert_allclose(_np(loaded.answer_activation.alpha), _np(model.answer_activation.alpha))
    loaded_logits, loaded_attention = loaded(inputs, return_attention=True)
    np.testing.assert_allclose(_np(loaded_logits), _np(logits), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_np(loaded_attention), _np(attention), rtol=1e-6, atol=1e-7)


def test_training_config_hook_picks_adam_and_leaves_user_choices_alone():
    config = model_training_config(ReadWriteMemory(VOCAB), TrainingConfig(epochs=7, batch_size=16))
    assert (config.optimizer, config.initial_learning_rate, config.linear_start_epochs) == ("adam", 0.01, 0)
    assert (config.epochs, config.batch_size) == (7, 16)
    assert model_training_config(ReadWriteMemory(VOCAB), TrainingConfig(learning_rate=0.003)).learning_rate == 0.003
    assert model_training_config(MemN2N(VOCAB), TrainingConfig()) == TrainingConfig()  # MemN2N: the paper's SGD


# --------------------------------------------------------------------------- trained on task 1


@pytest.fixture(scope="module")
def task1_run(tmp_path_factory):
    """Two runs of task 1 trained side by side (ParallelRuns, XLA) through train_experiment: ~20-40 s."""
    out = tmp_path_factory.mktemp("rw") / "qa1"
    metrics = train_experiment(tasks=[1], data_dir=babi_dir("en"), out_dir=out, model="readwrite", runs=2, epochs=20)
    return out, metrics


def test_task1_learns_under_parallel_runs_and_xla(task1_run):
    out, metrics = task1_run
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "readwrite" and config["training"]["optimizer"] == "adam"
    assert config["training"]["jit_compile"] is True and len(metrics["run_train_errors"]) == 2
    assert metrics["per_task"]["1"]["test_error"] < 10.0, metrics


def test_streaming_answers_equal_whole_story_answers(task1_run):
    qa = memnet.load(task1_run[0])
    story = [e for e in load_task(babi_dir("en"), 1).test if len(e.story) == 10][0].story
    session = qa.stream()
    assert isinstance(session, StreamingSession) and session.incremental
    for count, sentence in enumerate(story, start=1):
        assert session.tell(" ".join(sentence) + ".") == 1 and len(session) == count
        for question in ("Where is Mary?", "Where is Daniel?"):
            streamed, whole = session.ask(question), qa.ask([" ".join(s) for s in story[:count]], question)
            assert streamed.answer == whole.answer and streamed.sentences == whole.sentences
            assert streamed.probability == pytest.approx(whole.probability, abs=1e-4)
            np.testing.assert_allclose(streamed.attention, whole.attention, atol=1e-4)
    assert len(streamed.attention) == qa.model.hops + 1 and len(streamed.attention[0]) == 10


def test_streaming_keeps_the_whole_story_beyond_memory_size(task1_run):
    """60 sentences told one by one leave the memory that writing all 60 at once does."""
    qa = memnet.load(task1_run[0])
    sentences = [s for e in load_task(babi_dir("en"), 1).test[:40] for s in e.story][:60]
    session = qa.stream()
    session.tell([" ".join(s) for s in sentences])
    vocab: Vocabulary = qa.vocab
    story = np.zeros((1, 60, 8), "int32")
    for t, sentence in enumerate(sentences):
        ids = vocab.encode(sentence)
        story[0, t, : len(ids)] = ids
    memory, _ = qa.model.write_story(story)
    np.testing.assert_allclose(_np(session.memory), _np(memory), rtol=1e-4, atol=1e-5)
    assert len(session.ask("Where is John?").attention[0]) == 60
    session.reset()
    assert len(session) == 0
    with pytest.raises(BabiFormatError):
        session.ask("Where is John?")
    with pytest.raises(UnknownWordError):
        session.tell("Mary went to the moon.")
    assert len(session) == 0  # nothing added


def test_streaming_a_push_memory_equals_answering_the_whole_story():
    examples = [e for e in load_task(babi_dir("en"), 1).train[:40] if len(e.story) >= 6]
    vocab = Vocabulary.from_examples(examples)
    qa = QuestionAnswerer(ReadWriteMemory(len(vocab), memory_size=50, embedding_dim=8, push=True, seed=1), vocab,
                          {"memory_size": 50})
    session = qa.stream()
    assert session.incremental
    story = examples[0].story
    for count, sentence in enumerate(story, start=1):
        session.tell(" ".join(sentence) + ".")
        streamed, whole = session.ask("Where is Mary?"), qa.ask([" ".join(s) for s in story[:count]], "Where is Mary?")
        assert streamed.answer == whole.answer
        assert streamed.probability == pytest.approx(whole.probability, abs=1e-5)
        np.testing.assert_allclose(streamed.attention, whole.attention, atol=1e-5)


def test_streaming_with_memn2n_rereads_the_story():
    examples = load_task(babi_dir("en"), 1).train[:20]
    vocab = Vocabulary.from_examples(examples)
    model = MemN2N(len(vocab), memory_size=50)
    qa = QuestionAnswerer(model, vocab, {"memory_size": 50})
    session = qa.stream()
    assert not session.incremental
    session.tell("\n".join(" ".join(s) for s in examples[0].story))
    streamed, whole = session.ask(" ".join(examples[0].question)), qa.answer_examples([examples[0]])[0]
    assert streamed.answer == whole.answer and streamed.attention == whole.attention
