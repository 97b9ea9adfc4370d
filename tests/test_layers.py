"""The reusable memory layers: SentenceEncoder, position_encoding, MemoryAge, TemporalEncoding, MemoryHop."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from memnet.layers import MemoryAge, MemoryHop, SentenceEncoder, TemporalEncoding, masked_softmax, position_encoding

VOCAB, DIM = 30, 8


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _authors_position_weights(length: int, sentence_size: int, dim: int) -> np.ndarray:
    """l_kj = 1 + 4 (k - (d+1)/2)(j - (J+1)/2) / (d J), j = 1..J words, k = 1..d; the authors' code, by hand."""
    weights = np.zeros((sentence_size, dim))
    for j in range(1, length + 1):
        for k in range(1, dim + 1):
            weights[j - 1, k - 1] = 1 + 4 * (k - (dim + 1) / 2) * (j - (length + 1) / 2) / (dim * length)
    return weights


# --------------------------------------------------------------------------- position encoding


def test_position_encoding_matches_the_authors_formula():
    mask = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0]], bool)
    weights = _np(position_encoding(mask, dim=5))
    assert weights.shape == (3, 6, 5)
    for row, length in enumerate((3, 6, 1)):
        expected = _authors_position_weights(length, 6, 5)
        np.testing.assert_allclose(weights[row, :length], expected[:length], rtol=1e-6, atol=1e-6)


def test_position_encoding_is_twice_the_printed_formula_on_average():
    # The paper prints l_kj = (1 - j/J) - (k/d)(1 - 2j/J); the authors' code (which we follow) is
    # about twice that: mean 1 over the dimensions instead of about 0.5.
    weights = _np(position_encoding(np.ones((1, 7), bool), dim=20))[0]
    np.testing.assert_allclose(weights.mean(axis=-1), 1.0, rtol=1e-6)
    j, k, length, dim = np.arange(1, 8)[:, None], np.arange(1, 21)[None], 7, 20
    printed = (1 - j / length) - (k / dim) * (1 - 2 * j / length)
    assert 0.4 < printed.mean() < 0.6


# --------------------------------------------------------------------------- SentenceEncoder


@pytest.mark.parametrize("encoding", ["bow", "position"])
def test_sentence_encoder_shapes_and_slot_mask(encoding):
    encoder = SentenceEncoder(VOCAB, DIM, encoding=encoding)
    questions = np.array([[3, 5, 0, 0], [7, 0, 0, 0]])
    assert encoder(questions).shape == (2, DIM)
    story = np.zeros((2, 5, 4), "int32")
    story[:, :2, :2] = [[4, 6], [9, 1]]
    assert encoder(story).shape == (2, 5, DIM)
    mask = _np(encoder.compute_mask(story))
    assert mask.tolist() == [[True, True, False, False, False]] * 2
    assert encoder.compute_output_shape((None, 5, 4)) == (None, 5, DIM)


@pytest.mark.parametrize("encoding", ["bow", "position"])
def test_padding_words_do_not_change_a_sentence_encoding(encoding):
    encoder = SentenceEncoder(VOCAB, DIM, encoding=encoding)
    short = _np(encoder(np.array([[3, 5, 9]])))
    padded = _np(encoder(np.array([[3, 5, 9, 0, 0, 0, 0]])))
    np.testing.assert_allclose(short, padded, rtol=1e-6, atol=1e-6)
    empty = _np(encoder(np.zeros((1, 4), "int32")))
    assert not empty.any()  # the nil word never contributes


def test_bag_of_words_is_the_sum_of_word_embeddings():
    encoder = SentenceEncoder(VOCAB, DIM, encoding="bow")
    out = _np(encoder(np.array([[3, 5, 5, 0]])))
    table = _np(encoder.embeddings)
    np.testing.assert_allclose(out[0], table[3] + 2 * table[5], rtol=1e-5, atol=1e-6)


def test_position_encoding_sentence_matches_the_formula_by_hand():
    encoder = SentenceEncoder(VOCAB, DIM, encoding="position")
    ids = [4, 7, 2, 0, 0]
    out = _np(encoder(np.array([ids])))[0]
    table = _np(encoder.embeddings)
    weights = _authors_position_weights(3, 5, DIM)
    expected = sum(weights[j] * table[ids[j]] for j in range(3))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    # word order matters with position encoding (and not with a bag of words)
    swapped = _np(encoder(np.array([[7, 4, 2, 0, 0]])))[0]
    assert not np.allclose(out, swapped)


@pytest.mark.parametrize("encoding", ["bow", "position"])
def test_nil_embedding_gets_zero_gradient(encoding):
    encoder = SentenceEncoder(VOCAB, DIM, encoding=encoding)
    story = np.array([[[3, 5, 0, 0], [6, 0, 0, 0], [0, 0, 0, 0]]])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(encoder(story)))
    gradient = tf.convert_to_tensor(tape.gradient(loss, encoder.embeddings)).numpy()
    assert not gradient[0].any()
    assert gradient[3].any() and gradient[5].any() and gradient[6].any()
    assert not gradient[[1, 2, 4, 7]].any()


def test_sentence_encoder_rejects_an_unknown_encoding():
    with pytest.raises(ValueError, match="encoding"):
        SentenceEncoder(VOCAB, DIM, encoding="lstm")


@pytest.mark.parametrize("encoding", ["bow", "position"])
def test_sentence_encoder_config_round_trip(encoding):
    encoder = SentenceEncoder(VOCAB, DIM, encoding=encoding, name="enc")
    ids = np.array([[3, 5, 9, 0]])
    out = _np(encoder(ids))
    clone = SentenceEncoder.from_config(encoder.get_config())
    assert clone.get_config() == encoder.get_config()
    clone.build()
    clone.set_weights(encoder.get_weights())
    np.testing.assert_allclose(_np(clone(ids)), out, rtol=1e-6)


# --------------------------------------------------------------------------- MemoryAge / TemporalEncoding


def test_memory_age_without_noise_is_exact():
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]], bool)
    layer = MemoryAge(max_age=5, noise=0.1, seed=0)
    expected = [[2, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [4, 3, 2, 1, 0]]
    assert _np(layer(mask)).tolist() == expected  # inference: no noise even with noise > 0
    assert _np(MemoryAge(max_age=5)(mask, training=True)).tolist() == expected  # noise = 0
    assert _np(MemoryAge(max_age=2)(mask)).tolist() == [[1, 1, 0, 0, 0], [0] * 5, [0] * 5, [1, 1, 1, 1, 0]]


def test_memory_age_noise_in_training():
    """Ages sorted descending over the valid slots, distinct, within 0 .. n + ceil(0.1 n) - 1."""
    rng = np.random.default_rng(0)
    slots, batch = 30, 400
    counts = rng.integers(0, slots + 1, size=batch)
    counts[:4] = [0, 1, slots, 10]
    mask = np.arange(slots)[None, :] < counts[:, None]
    layer = MemoryAge(max_age=100, noise=0.1, seed=7)  # a table large enough that nothing is clipped
    ages = _np(layer(mask, training=True))
    assert ages.shape == (batch, slots)
    noisy = 0
    for row, n in zip(ages, counts):
        valid = row[:n]
        assert not row[n:].any()
        assert (np.diff(valid) < 0).all(), valid  # strictly descending: sorted and distinct
        if n:
            assert valid.min() >= 0 and valid.max() <= n + int(np.ceil(0.1 * n)) - 1, (n, valid)
            noisy += not np.array_equal(valid, np.arange(n)[::-1])
    assert noisy > batch // 10  # the noise actually moves ages


def test_memory_age_config_round_trip():
    layer = MemoryAge(max_age=50, noise=0.1, seed=3, name="age")
    clone = MemoryAge.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert (clone.max_age, clone.noise, clone.seed) == (50, 0.1, 3)


def test_temporal_encoding_adds_one_vector_per_age():
    layer = TemporalEncoding(max_age=6, embedding_dim=DIM)
    memories = np.random.default_rng(0).normal(size=(2, 4, DIM)).astype("float32")
    ages = np.array([[3, 2, 1, 0], [1, 0, 0, 0]], "int32")
    out = _np(layer(memories, ages))
    table = _np(layer.embeddings)
    assert out.shape == (2, 4, DIM) and table.shape == (6, DIM)
    np.testing.assert_allclose(out, memories + table[ages], rtol=1e-6)
    clone = TemporalEncoding.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone.build()
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(clone(memories, ages)), out, rtol=1e-6)


# --------------------------------------------------------------------------- MemoryHop


def _hop_inputs(seed=0):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(3, DIM)).astype("float32")
    keys = rng.normal(size=(3, 5, DIM)).astype("float32")
    values = rng.normal(size=(3, 5, DIM)).astype("float32")
    mask = np.arange(5)[None, :] < np.array([[5], [2], [0]])
    return query, keys, values, mask


def test_memory_hop_reads_by_softmax_attention():
    query, keys, values, _ = _hop_inputs()
    output, attention = MemoryHop()(query, keys, values)
    scores = np.einsum("bsd,bd->bs", keys, query)
    expected = np.exp(scores - scores.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(_np(attention), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(output), np.einsum("bs,bsd->bd", expected, values), rtol=1e-5, atol=1e-5)
    assert MemoryHop().compute_output_shape((None, DIM), (None, 5, DIM)) == ((None, DIM), (None, 5))


def test_memory_hop_masked_slots_get_zero_attention():
    query, keys, values, mask = _hop_inputs()
    output, attention = MemoryHop()(query, keys, values, memory_mask=mask)
    attention = _np(attention)
    assert not attention[~mask].any()
    np.testing.assert_allclose(attention[:2].sum(-1), [1.0, 1.0], rtol=1e-5)
    assert not attention[2].any() and not _np(output)[2].any()  # an empty memory reads nothing
    # the masked slots' contents do not matter
    keys2, values2 = keys.copy(), values.copy()
    keys2[~mask], values2[~mask] = 99.0, -99.0
    output2, attention2 = MemoryHop()(query, keys2, values2, memory_mask=mask)
    np.testing.assert_allclose(_np(attention2), attention, rtol=1e-6)
    np.testing.assert_allclose(_np(output2), _np(output), rtol=1e-5, atol=1e-6)


def test_memory_hop_takes_the_mask_carried_by_encoded_memories():
    encoder = SentenceEncoder(VOCAB, DIM)
    story = np.zeros((2, 4, 3), "int32")
    story[0, :3, 0] = [3, 4, 5]
    story[1, :1, :2] = [6, 7]
    memories = encoder(story)
    _, attention = MemoryHop()(encoder(np.array([[3, 0, 0], [6, 7, 0]])), memories)
    attention = _np(attention)
    assert not attention[0, 3:].any() and not attention[1, 1:].any()
    np.testing.assert_allclose(attention.sum(-1), [1.0, 1.0], rtol=1e-5)


def test_memory_hop_linear_mode_uses_raw_scores():
    query, keys, values, mask = _hop_inputs()
    hop = MemoryHop(linear=True)
    output, attention = hop(query, keys, values, memory_mask=mask)
    expected = np.where(mask, np.einsum("bsd,bd->bs", keys, query), 0.0)
    np.testing.assert_allclose(_np(attention), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_np(output), np.einsum("bs,bsd->bd", expected, values), rtol=1e-4, atol=1e-4)
    assert not np.allclose(_np(attention)[0].sum(), 1.0)
    clone = MemoryHop.from_config(hop.get_config())
    assert clone.linear is True and clone.get_config() == hop.get_config()


@pytest.mark.parametrize("as_tensor", [False, True])
def test_memory_hop_linear_can_be_switched_per_call(as_tensor):
    query, keys, values, mask = _hop_inputs()
    on, off = (keras.ops.convert_to_tensor(v) for v in (True, False)) if as_tensor else (True, False)
    linear_output, linear_attention = MemoryHop(linear=True)(query, keys, values, memory_mask=mask)
    soft_output, soft_attention = MemoryHop()(query, keys, values, memory_mask=mask)
    hop = MemoryHop()
    np.testing.assert_allclose(_np(hop(query, keys, values, memory_mask=mask, linear=on)[1]), _np(linear_attention), rtol=1e-6)
    np.testing.assert_allclose(_np(hop(query, keys, values, memory_mask=mask, linear=off)[1]), _np(soft_attention), rtol=1e-6)
    linear_hop = MemoryHop(linear=True)
    np.testing.assert_allclose(_np(linear_hop(query, keys, values, memory_mask=mask, linear=off)[0]), _np(soft_output), rtol=1e-5)


def test_masked_softmax_all_masked_row_is_zero():
    weights = _np(masked_softmax(np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], "float32"), np.array([[1, 1, 0], [0, 0, 0]], bool)))
    np.testing.assert_allclose(weights[0], [np.exp(1) / (np.exp(1) + np.exp(2)), np.exp(2) / (np.exp(1) + np.exp(2)), 0], rtol=1e-5)
    assert not weights[1].any()


# --------------------------------------------------------------------------- inside a user's model


def _user_model(encoding="position"):
    """A small one-hop memory network built by hand from memnet's layers, as a user would."""
    story = keras.Input((6, 5), dtype="int32", name="story")
    question = keras.Input((5,), dtype="int32", name="question")
    memories = SentenceEncoder(VOCAB, DIM, encoding=encoding, name="memory_encoder")(story)
    query = SentenceEncoder(VOCAB, DIM, encoding="bow", name="question_encoder")(question)
    slot_mask = keras.ops.any(keras.ops.not_equal(story, 0), axis=-1)
    ages = MemoryAge(6, noise=0.1, seed=1, name="age")(slot_mask)
    memories = TemporalEncoding(6, DIM, name="time")(memories, ages)
    read, attention = MemoryHop(name="hop")(query, memories)
    logits = keras.layers.Dense(VOCAB, name="answer")(keras.layers.Add()([read, query]))
    return keras.Model({"story": story, "question": question}, [logits, attention])


def _user_inputs():
    rng = np.random.default_rng(1)
    story = rng.integers(1, VOCAB, size=(3, 6, 5)).astype("int32")
    story[:, :, 3:] = 0
    story[0, 4:] = 0
    story[1, 1:] = 0
    question = rng.integers(1, VOCAB, size=(3, 5)).astype("int32")
    question[:, 2:] = 0
    return {"story": story, "question": question}


@pytest.mark.parametrize("encoding", ["bow", "position"])
def test_layers_in_a_user_model_save_and_reload_in_safe_mode(tmp_path, encoding):
    model = _user_model(encoding)
    inputs = _user_inputs()
    logits, attention = (_np(x) for x in model(inputs))
    assert logits.shape == (3, VOCAB) and attention.shape == (3, 6)
    assert not attention[0, 4:].any() and not attention[1, 1:].any()  # the mask flowed to the hop
    path = tmp_path / "user_model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    logits2, attention2 = (_np(x) for x in loaded(inputs))
    np.testing.assert_array_equal(logits2, logits)
    np.testing.assert_array_equal(attention2, attention)
