"""MemN2N: shapes, weight tying, linear start, masking, padding independence, saving."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from memnet.layers import SentenceEncoder
from memnet.models import MODELS, MemN2N

VOCAB, MEMORY, WORDS, DIM, HOPS = 40, 10, 6, 12, 3


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _model(**kwargs):
    keras.utils.set_random_seed(0)
    settings = dict(vocabulary_size=VOCAB, memory_size=MEMORY, embedding_dim=DIM, hops=HOPS, seed=0)
    settings.update(kwargs)
    return MemN2N(**settings)


def _inputs(batch=4, slots=MEMORY, words=WORDS, seed=0):
    """Stories with 1..slots sentences (left-aligned) of 1..words-1 words each, and questions."""
    rng = np.random.default_rng(seed)
    story = np.zeros((batch, slots, words), "int32")
    question = np.zeros((batch, words), "int32")
    for b in range(batch):
        n = int(rng.integers(1, min(slots, 7) + 1))
        for s in range(n):
            length = int(rng.integers(1, words))
            story[b, s, :length] = rng.integers(1, VOCAB, size=length)
        question[b, :3] = rng.integers(1, VOCAB, size=3)
    return {"story": story, "question": question}


def _slot_counts(inputs):
    return (inputs["story"] != 0).any(-1).sum(-1)


def test_memn2n_is_the_registered_model():
    assert MODELS["memn2n"] is MemN2N


@pytest.mark.parametrize("tying", ["adjacent", "layerwise"])
@pytest.mark.parametrize("mask_empty_slots", [False, True])
def test_output_and_attention_shapes(tying, mask_empty_slots):
    model = _model(weight_tying=tying, mask_empty_slots=mask_empty_slots)
    inputs = _inputs()
    logits, attention = model(inputs, return_attention=True)
    assert logits.shape == (4, VOCAB) and attention.shape == (4, HOPS, MEMORY)
    assert model(inputs).shape == (4, VOCAB)
    attention = _np(attention)
    for b, n in enumerate(_slot_counts(inputs)):
        np.testing.assert_allclose(attention[b].sum(-1), np.ones(HOPS), rtol=1e-5)
        if mask_empty_slots:
            assert not attention[b, :, n:].any()  # masked (empty) slots get zero attention
        else:  # empty slots are zero vectors in the softmax: score 0, all the same weight
            assert (attention[b, :, n:] > 0).all()
            np.testing.assert_allclose(attention[b, :, n:], attention[b, :, n:n + 1] * np.ones(MEMORY - n), rtol=1e-5)


def test_empty_slots_are_a_place_to_read_nothing():
    # The authors' design: with empty slots attended, the read vector is the weighted sum over the
    # filled slots only, and weight on empty slots lowers it (as if reading "nowhere").
    model = _model(hops=1, temporal=False)
    inputs = _inputs(batch=2)
    full = dict(inputs, story=inputs["story"][:, :3])  # fewer array slots: the model pads to its memory size
    logits, attention = (_np(x) for x in model(full, return_attention=True))
    assert attention.shape == (2, 1, MEMORY)
    masked = _model(hops=1, temporal=False, mask_empty_slots=True)
    masked(full)
    masked.set_weights(model.get_weights())
    _, masked_attention = (_np(x) for x in masked(full, return_attention=True))
    n = _slot_counts(full)
    for b in range(2):
        # the masked model spreads all weight over the filled slots, the unmasked one keeps some for empty slots
        assert attention[b, 0, n[b]:].sum() > 0
        np.testing.assert_allclose(
            attention[b, 0, : n[b]] / attention[b, 0, : n[b]].sum(), masked_attention[b, 0, : n[b]], rtol=1e-5
        )


def _word_embedding_matrices(model):
    """The distinct word-embedding matrices (weights of the model's SentenceEncoders)."""
    encoders = {id(layer): layer for layer in model.layers if isinstance(layer, SentenceEncoder)}
    return {id(layer.embeddings): layer.embeddings for layer in encoders.values()}.values()


def test_adjacent_tying_has_k_plus_1_embedding_matrices_and_answers_with_the_last():
    model = _model(weight_tying="adjacent")
    inputs = _inputs()
    model(inputs)
    assert len(_word_embedding_matrices(model)) == HOPS + 1
    assert model.question_encoder is model.embeddings[0]  # B = A^1
    assert not [w for w in model.weights if "answer" in w.path or "hop_transform" in w.path]
    # W^T = C^K: with the last embedding zeroed the logits are all zero
    model.embeddings[-1].embeddings.assign(np.zeros((VOCAB, DIM), "float32"))
    assert not _np(model(inputs)).any()


def test_layerwise_tying_shares_a_and_c_across_hops_with_separate_b_w_and_h():
    model = _model(weight_tying="layerwise")
    inputs = _inputs()
    logits = _np(model(inputs))
    assert len(_word_embedding_matrices(model)) == 3  # A, C and B
    assert model.question_encoder is not model.embeddings[0]
    assert model.answer_projection is not None and model.hop_transform is not None
    assert model.answer_projection.kernel.shape == (DIM, VOCAB) and model.hop_transform.kernel.shape == (DIM, DIM)
    assert logits.any()
    model.answer_projection.kernel.assign(np.zeros((DIM, VOCAB), "float32"))
    assert not _np(model(inputs)).any()


def test_weight_counts_differ_between_tyings():
    counts = {}
    for tying in ("adjacent", "layerwise"):
        model = _model(weight_tying=tying)
        model(_inputs())
        counts[tying] = model.count_params()
    embedding, temporal = VOCAB * DIM, MEMORY * DIM
    assert counts["adjacent"] == (HOPS + 1) * (embedding + temporal)
    assert counts["layerwise"] == 3 * embedding + 2 * temporal + DIM * VOCAB + DIM * DIM


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError, match="weight_tying"):
        _model(weight_tying="none")
    with pytest.raises(ValueError, match="hops"):
        _model(hops=0)


def test_linear_start_removes_the_softmax():
    model = _model()
    inputs = _inputs()
    _, softmax_attention = model(inputs, return_attention=True)
    assert model.linear_start is False
    model.linear_start = True
    assert model.linear_start is True
    _, linear_attention = model(inputs, return_attention=True)
    linear_attention = _np(linear_attention)
    sums = linear_attention.sum(-1)
    assert not np.allclose(sums, 1.0, atol=1e-3), sums
    for b, n in enumerate(_slot_counts(inputs)):
        assert not linear_attention[b, :, n:].any()
    model.linear_start = False
    _, back = model(inputs, return_attention=True)
    np.testing.assert_allclose(_np(back), _np(softmax_attention), rtol=1e-6)


def test_linear_start_can_be_chosen_per_call():
    model = _model()
    inputs = _inputs()
    _, softmax_attention = model(inputs, return_attention=True)
    model.linear_start = True
    _, property_attention = model(inputs, return_attention=True)
    model.linear_start = False
    _, call_attention = model(inputs, return_attention=True, linear_start=True)
    np.testing.assert_allclose(_np(call_attention), _np(property_attention), rtol=1e-6)
    flag = keras.Variable(True, dtype="bool", trainable=False)
    _, variable_attention = model(inputs, return_attention=True, linear_start=flag)
    np.testing.assert_allclose(_np(variable_attention), _np(property_attention), rtol=1e-6)
    flag.assign(False)
    _, variable_attention = model(inputs, return_attention=True, linear_start=flag)
    np.testing.assert_allclose(_np(variable_attention), _np(softmax_attention), rtol=1e-6)


def test_masked_slots_get_zero_attention_with_content_elsewhere():
    model = _model(mask_empty_slots=True)
    inputs = _inputs()
    inputs["story"][:, 3:] = 0
    _, attention = model(inputs, return_attention=True)
    assert not _np(attention)[:, :, 3:].any()


@pytest.mark.parametrize("options", [{}, {"encoding": "bow"}, {"weight_tying": "layerwise"}, {"temporal": False}])
def test_predictions_do_not_depend_on_padding(options):
    model = _model(**options)
    inputs = _inputs(batch=3, slots=8)
    logits, attention = (_np(x) for x in model(inputs, return_attention=True))

    # more word padding in sentences and question
    wider = {k: np.pad(v, [(0, 0)] * (v.ndim - 1) + [(0, 5)]) for k, v in inputs.items()}
    wider_logits, wider_attention = (_np(x) for x in model(wider, return_attention=True))
    np.testing.assert_allclose(wider_logits, logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(wider_attention, attention, rtol=1e-5, atol=1e-6)

    # more empty memory slots (up to the memory size)
    more_slots = dict(inputs, story=np.pad(inputs["story"], [(0, 0), (0, MEMORY - 8), (0, 0)]))
    more_logits, more_attention = (_np(x) for x in model(more_slots, return_attention=True))
    np.testing.assert_allclose(more_logits, logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(more_attention[:, :, :8], attention[:, :, :8], rtol=1e-5, atol=1e-6)

    # the same story inside a larger batch of other stories
    others = _inputs(batch=5, slots=8, seed=9)
    batch = {k: np.concatenate([others[k][:2], inputs[k][1:2], others[k][2:]]) for k in inputs}
    batch_logits = _np(model(batch))
    np.testing.assert_allclose(batch_logits[2], logits[1], rtol=1e-5, atol=1e-5)


def test_inference_is_deterministic_and_training_mode_adds_time_noise():
    model = _model(time_noise=0.5)
    inputs = _inputs(batch=8)
    first, second = _np(model(inputs)), _np(model(inputs))
    np.testing.assert_array_equal(first, second)
    noisy = [_np(model(inputs, training=True)) for _ in range(3)]
    assert any(not np.allclose(n, first) for n in noisy)


@pytest.mark.parametrize("options", [{}, {"weight_tying": "layerwise", "encoding": "bow", "hop_activation": "relu"}])
def test_save_and_load_in_safe_mode_gives_identical_predictions(tmp_path, options):
    model = _model(**options)
    inputs = _inputs()
    logits, attention = (_np(x) for x in model(inputs, return_attention=True))
    path = tmp_path / "memn2n.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert isinstance(loaded, MemN2N)
    assert loaded.get_config() == model.get_config()
    logits2, attention2 = (_np(x) for x in loaded(inputs, return_attention=True))
    np.testing.assert_array_equal(logits2, logits)
    np.testing.assert_array_equal(attention2, attention)


def test_config_round_trip():
    model = _model(encoding="bow", temporal=False, time_noise=0.0, hops=2, hop_activation="relu")
    clone = MemN2N.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert (clone.hops, clone.encoding, clone.temporal) == (2, "bow", False)


def test_a_model_saved_during_linear_start_reloads_in_linear_start(tmp_path):
    model = _model()
    inputs = _inputs()
    model.linear_start = True
    logits = _np(model(inputs))
    model.save(tmp_path / "linear.keras")
    loaded = keras.saving.load_model(tmp_path / "linear.keras", safe_mode=True, compile=False)
    np.testing.assert_allclose(_np(loaded(inputs)), logits, rtol=1e-6)
