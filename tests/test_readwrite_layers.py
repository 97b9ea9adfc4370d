"""The read/write memory layers: ContentAddressing, MemoryRead, MemoryWrite, MemoryCell."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from memnet.layers import ContentAddressing, MemoryCell, MemoryRead, MemoryWrite, SentenceEncoder

rng = np.random.default_rng(0)


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _random(*shape):
    return rng.normal(size=shape).astype("float32")


# --------------------------------------------------------------------------- ContentAddressing


@pytest.mark.parametrize("similarity", ["cosine", "dot"])
def test_content_addressing_matches_the_formula(similarity):
    key, memory = _random(2, 5), _random(2, 4, 5)
    weights = _np(ContentAddressing(similarity=similarity, initial_strength=3.0)(key, memory))
    scores = np.einsum("bw,bsw->bs", key, memory)
    if similarity == "cosine":
        scores /= np.linalg.norm(key, axis=-1)[:, None] * np.linalg.norm(memory, axis=-1)
    expected = np.exp(3.0 * scores) / np.exp(3.0 * scores).sum(-1, keepdims=True)
    assert weights.shape == (2, 4)
    np.testing.assert_allclose(weights, expected, rtol=1e-4, atol=1e-6)


def test_content_addressing_finds_the_matching_slot_and_strength_sharpens():
    memory = np.eye(4, dtype="float32")[None].repeat(2, axis=0)
    key = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0]], "float32")
    address = ContentAddressing(similarity="cosine")
    soft = _np(address(key, memory))
    sharp = _np(address(key, memory, strength=np.array([20.0, 20.0])))
    assert soft.argmax(-1).tolist() == sharp.argmax(-1).tolist() == [1, 3]
    assert (sharp.max(-1) > 0.99).all() and (soft.max(-1) < 0.5).all()


def test_content_addressing_masks_slots_and_supports_several_heads():
    key, memory = _random(2, 3, 5), _random(2, 4, 5)  # three keys (heads) at once
    mask = np.array([[True, True, False, False], [True, True, True, False]])
    for normalization in ("softmax", "sigmoid"):
        weights = _np(ContentAddressing(normalization=normalization)(key, memory, memory_mask=mask))
        assert weights.shape == (2, 3, 4)
        assert (weights[:, :, ~mask[0]][0] == 0).all() and (weights[1, :, 3] == 0).all()
        if normalization == "softmax":
            np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
        else:
            assert ((weights[:, :, :2] > 0) & (weights[:, :, :2] < 1)).all()


def test_content_addressing_uses_the_keras_mask_of_an_encoded_memory():
    encoder = SentenceEncoder(20, 6)
    story = np.zeros((1, 4, 3), "int32")
    story[0, :2] = [[3, 4, 0], [5, 6, 7]]
    memory = encoder(story)  # carries a mask: slots 2, 3 are empty
    weights = _np(ContentAddressing(similarity="dot")(encoder(np.array([[3, 4, 0]])), memory))
    assert weights[0, 2:].tolist() == [0.0, 0.0]
    np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-5)


def test_learned_strength_is_a_positive_trainable_weight():
    address = ContentAddressing(learn_strength=True, initial_strength=2.5)
    address(_random(1, 3), _random(1, 2, 3))
    assert len(address.trainable_weights) == 1
    np.testing.assert_allclose(_np(keras.ops.softplus(address.raw_strength)), 2.5, rtol=1e-5)
    with pytest.raises(ValueError):
        ContentAddressing(similarity="euclidean")


# --------------------------------------------------------------------------- MemoryRead


def test_memory_read_is_the_weighted_sum_with_optional_values_and_mask():
    weights, memory, values = rng.random((2, 4)).astype("float32"), _random(2, 4, 5), _random(2, 4, 3)
    read = MemoryRead()
    np.testing.assert_allclose(_np(read(weights, memory)), np.einsum("bs,bsw->bw", weights, memory), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        _np(read(weights, memory, values=values)), np.einsum("bs,bsw->bw", weights, values), rtol=1e-5, atol=1e-6
    )
    mask = np.array([[True, False, True, True]] * 2)
    masked = np.where(mask, weights, 0.0)
    np.testing.assert_allclose(
        _np(read(weights, memory, memory_mask=mask)), np.einsum("bs,bsw->bw", masked, memory), rtol=1e-5, atol=1e-6
    )
    heads = rng.random((2, 3, 4)).astype("float32")
    assert _np(read(heads, memory)).shape == (2, 3, 5)
    assert read.compute_output_shape((None, 4), (None, 4, 5), (None, 4, 3)) == (None, 3)


# --------------------------------------------------------------------------- MemoryWrite


def test_memory_write_is_erase_then_add():
    memory, weights = _random(2, 4, 5), rng.random((2, 4)).astype("float32")
    erase, add = rng.random((2, 5)).astype("float32"), _random(2, 5)
    new = _np(MemoryWrite()(memory, weights, add, erase=erase))
    expected = memory * (1 - weights[:, :, None] * erase[:, None, :]) + weights[:, :, None] * add[:, None, :]
    np.testing.assert_allclose(new, expected, rtol=1e-5, atol=1e-6)
    per_slot_add = _random(2, 4, 5)  # one candidate per slot (EntNet)
    new = _np(MemoryWrite()(memory, weights, per_slot_add))
    np.testing.assert_allclose(new, memory + weights[:, :, None] * per_slot_add, rtol=1e-5, atol=1e-6)


def test_memory_write_gate_step_mask_and_slot_mask_leave_memory_alone():
    memory, weights, add = _random(3, 4, 5), np.ones((3, 4), "float32"), _random(3, 5)
    gated = MemoryWrite(gated=True)
    new = _np(gated(memory, weights, add, erase=np.ones((3, 5)), gate=np.array([0.0, 1.0, 0.5])))
    np.testing.assert_allclose(new[0], memory[0])
    np.testing.assert_allclose(new[1], np.broadcast_to(add[1], (4, 5)), rtol=1e-6)
    np.testing.assert_allclose(new[2], 0.5 * memory[2] + 0.5 * add[2], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError):
        gated(memory, weights, add)
    new = _np(MemoryWrite()(memory, weights, add, step_mask=np.array([False, True, False])))
    np.testing.assert_array_equal(new[[0, 2]], memory[[0, 2]])
    assert not np.allclose(new[1], memory[1])
    slot_mask = np.array([[True, False, True, False]] * 3)
    new = _np(MemoryWrite()(memory, weights, add, memory_mask=slot_mask))
    np.testing.assert_array_equal(new[:, [1, 3]], memory[:, [1, 3]])


def test_a_write_followed_by_a_read_returns_what_was_written():
    """Write a vector where a key points, then address by that key and read it back."""
    slots, width = 6, 8
    keys = np.eye(slots, width, dtype="float32")[None] * 5.0  # a distinct key per slot
    address = ContentAddressing(similarity="cosine", initial_strength=50.0)
    write, read = MemoryWrite(), MemoryRead()
    memory = _random(1, slots, width)
    value = _random(1, width)
    where = address(keys[:, 2], keys)  # points at slot 2
    memory = write(memory, where, value, erase=np.ones((1, width)))
    recalled = _np(read(address(keys[:, 2], keys), keys, values=memory))  # key-value read
    np.testing.assert_allclose(recalled, value, rtol=1e-3, atol=1e-3)


# --------------------------------------------------------------------------- MemoryCell


def test_memory_cell_in_an_rnn_shapes_and_one_step_by_hand():
    cell = MemoryCell(slots=4, width=6)
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    inputs = _random(2, 5, 6)
    weights, state = rnn(inputs)
    assert weights.shape == (2, 5, 4) and state.shape == (2, 24) and cell.unflatten(state).shape == (2, 4, 6)
    # the first step, from the zero memory, by hand
    keys = _np(cell.keys)
    s = inputs[:, 0]
    g = 1 / (1 + np.exp(-np.einsum("bw,sw->bs", s, keys)))
    candidate = np.tanh(keys @ _np(cell.key_kernel) + (s @ _np(cell.input_kernel) + _np(cell.bias))[:, None])
    np.testing.assert_allclose(_np(weights)[:, 0], g, rtol=1e-5, atol=1e-6)
    memory, _ = cell.step(s, np.zeros((2, 4, 6), "float32"))
    np.testing.assert_allclose(_np(memory), g[:, :, None] * candidate, rtol=1e-5, atol=1e-6)


def test_memory_cell_masked_steps_leave_the_memory_unchanged():
    cell = MemoryCell(slots=3, width=4, erase="learned", normalize=True)
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True, zero_output_for_mask=True)
    inputs = _random(2, 5, 4)
    mask = np.array([[True, True, True, False, False], [True, False, True, True, False]])
    weights, state = rnn(inputs, mask=mask)
    # the same as feeding only the unmasked steps
    for b in range(2):
        _, expected = rnn(inputs[b : b + 1, mask[b]])
        np.testing.assert_allclose(_np(state)[b], _np(expected)[0], rtol=1e-5, atol=1e-6)
    assert not _np(weights)[~mask].any()  # padding steps write nothing
    # called directly, a False step_mask keeps the memory
    memory = _random(2, 3, 4)
    new, written = cell.step(inputs[:, 0], memory, step_mask=np.array([False, True]))
    np.testing.assert_array_equal(_np(new)[0], memory[0])
    assert not _np(written)[0].any() and not np.allclose(_np(new)[1], memory[1])


def test_memory_cell_push_keeps_the_latest_inputs_newest_first():
    cell = MemoryCell(slots=3, width=4, push=True)
    cell.build((None, 4))
    memory = _random(2, 3, 4)
    s = _random(2, 4)
    new, weights = cell.step(s, memory)
    w = _np(weights)
    assert np.allclose(w[:, 0], 1.0)  # the input always gets the first slot, in full
    keys, shifted = _np(cell.keys), np.concatenate([np.zeros((2, 1, 4), "float32"), memory[:, :-1]], axis=1)
    g = 1 / (1 + np.exp(-np.einsum("bw,bsw->bs", s, shifted + keys)))  # content gates on the shifted memory
    np.testing.assert_allclose(w[:, 1:], g[:, 1:], rtol=1e-5, atol=1e-6)
    candidate = np.tanh(shifted @ _np(cell.memory_kernel) + keys @ _np(cell.key_kernel)
                        + (s @ _np(cell.input_kernel) + _np(cell.bias))[:, None])
    expected = (1 - w[:, :, None]) * shifted + w[:, :, None] * candidate  # the oldest slot fell off
    np.testing.assert_allclose(_np(new), expected, rtol=1e-5, atol=1e-6)
    kept, kept_weights = cell.step(s, memory, step_mask=np.array([False, True]))
    np.testing.assert_array_equal(_np(kept)[0], memory[0])  # a masked step does not push
    assert not _np(kept_weights)[0].any()  # and writes nothing (retention(push=True) counts on it)
    # from an empty memory only the new first slot is written: empty slots are never revised
    w = _np(keras.layers.RNN(cell, return_sequences=True)(_random(2, 3, 4)))
    assert np.allclose(w[:, :, 0], 1.0) and all(not w[:, t, t + 1:].any() for t in range(3))


def test_memory_cell_can_read_as_it_writes_and_address_by_softmax():
    cell = MemoryCell(slots=5, width=4, addressing="softmax", similarity="cosine", output_mode="read")
    reads = keras.layers.RNN(cell, return_sequences=True)(_random(2, 3, 7))  # input size 7 != width
    assert reads.shape == (2, 3, 4)
    with pytest.raises(ValueError):
        MemoryCell(slots=2, width=2, erase="sometimes")


# --------------------------------------------------------------------------- serialization, user models


@pytest.mark.parametrize(
    "layer",
    [
        ContentAddressing(similarity="dot", normalization="sigmoid", learn_strength=True, initial_strength=2.0),
        MemoryRead(),
        MemoryWrite(gated=True),
        MemoryCell(slots=3, width=4, addressing="softmax", erase="none", normalize=True, output_mode="read"),
        MemoryCell(slots=3, width=4, push=True),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer), safe_mode=True)
    assert type(restored) is type(layer) and restored.get_config() == config


def _user_model(vocab=25, dim=8, slots=5):
    """A user's own Keras model: write the story into memory with MemoryCell, read it for the question."""
    story = keras.Input((None, None), dtype="int32", name="story")
    question = keras.Input((None,), dtype="int32", name="question")
    encode = SentenceEncoder(vocab, dim)
    sentences = encode(story)  # masks empty sentences: the RNN skips them
    writes, state = keras.layers.RNN(MemoryCell(slots, dim), return_sequences=True, return_state=True)(sentences)
    memory = keras.layers.Reshape((slots, dim))(state)
    query = encode(question)
    read_address = ContentAddressing(similarity="dot", learn_strength=True)(query, memory)
    recalled = MemoryRead()(read_address, memory)
    # one more write: store the question in the addressed slots, then read it back
    memory = MemoryWrite(gated=True)(
        memory, read_address, query, erase=keras.ops.ones_like(query), gate=keras.layers.Dense(1, activation="sigmoid")(query)
    )
    again = MemoryRead()(read_address, memory)
    answer = keras.layers.Dense(vocab)(keras.layers.Concatenate()([query, recalled, again]))
    return keras.Model([story, question], [answer, read_address])


def test_layers_in_a_user_keras_model_train_save_and_load_in_safe_mode(tmp_path):
    model = _user_model()
    story = rng.integers(1, 25, size=(64, 4, 3)).astype("int32")
    story[:, 3] = 0  # an empty last sentence in every story
    question = rng.integers(1, 25, size=(64, 3)).astype("int32")
    answer = story[:, 0, 0]  # learnable: the first word of the story
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=[keras.losses.SparseCategoricalCrossentropy(from_logits=True), None])
    history = model.fit([story, question], answer, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    logits, attention = model.predict([story, question], verbose=0)
    assert logits.shape == (64, 25) and attention.shape == (64, 5)
    model.save(tmp_path / "user.keras")
    loaded = keras.saving.load_model(tmp_path / "user.keras", safe_mode=True)
    reloaded_logits, reloaded_attention = loaded.predict([story, question], verbose=0)
    np.testing.assert_allclose(reloaded_logits, logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(reloaded_attention, attention, rtol=1e-5, atol=1e-6)
