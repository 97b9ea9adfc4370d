"""Transformer layers: shapes, masks (padding never changes real positions), configs, save/load in safe mode."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from memnet.layers import MemoryTransformer, PositionalMaskEncoder, SentenceTransformer, TransformerBlock

VOCAB, DIM = 30, 8


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _sentences(batch=3, slots=5, words=6, seed=0):
    """Word ids with 1..words-2 real words per sentence, padding after them, some empty slots at the end."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((batch, slots, words), "int32")
    for b in range(batch):
        for s in range(slots - b % 2 - 1):
            length = int(rng.integers(1, words - 1))
            ids[b, s, :length] = rng.integers(1, VOCAB, size=length)
    return ids


def _pad(array, axis, extra, fill=0):
    widths = [(0, 0)] * array.ndim
    widths[axis] = (0, extra)
    return np.pad(array, widths, constant_values=fill)


def _round_trip(layer_factory, inputs, tmp_path):
    """A functional model around the layer: save to .keras, load in safe mode, same outputs."""
    symbolic = [keras.Input(x.shape[1:], dtype=str(x.dtype)) for x in inputs]
    model = keras.Model(symbolic, layer_factory(*symbolic))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(_np(loaded(inputs)), _np(model(inputs)), rtol=1e-6, atol=1e-6)
    return model, loaded


# --------------------------------------------------------------------------- TransformerBlock


def test_block_shapes_and_attention():
    block = TransformerBlock(num_heads=2, ffn_dim=16)
    x = np.random.default_rng(0).normal(size=(3, 5, DIM)).astype("float32")
    out, scores = block(x, return_attention=True)
    assert out.shape == (3, 5, DIM) and scores.shape == (3, 2, 5, 5)
    np.testing.assert_allclose(_np(scores).sum(-1), 1.0, rtol=1e-5)
    context = np.ones((3, 7, DIM), "float32")
    out, scores = block(x[:, :1], context=context, return_attention=True)
    assert out.shape == (3, 1, DIM) and scores.shape == (3, 2, 1, 7)


def test_block_padding_does_not_change_real_positions_and_gets_no_attention():
    block = TransformerBlock(num_heads=2)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 4, DIM)).astype("float32")
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], bool)
    x_padded = np.concatenate([x, rng.normal(size=(2, 3, DIM)).astype("float32") * 100], axis=1)  # garbage padding
    mask_padded = _pad(mask, 1, 3, False)
    out, scores = block(x, mask=mask, return_attention=True)
    out_padded, scores_padded = block(x_padded, mask=mask_padded, return_attention=True)
    for b, n in enumerate(mask.sum(1)):
        np.testing.assert_allclose(_np(out_padded)[b, :n], _np(out)[b, :n], rtol=1e-5, atol=1e-5)
        assert not _np(scores_padded)[b, :, :, n:].any()  # padding receives exactly zero attention
    # the input mask travels on
    assert np.array_equal(_np(block.compute_mask(x, mask=mask)), mask)


def test_block_cross_attention_respects_the_context_mask():
    block = TransformerBlock(num_heads=2)
    rng = np.random.default_rng(2)
    query = rng.normal(size=(2, 1, DIM)).astype("float32")
    context = rng.normal(size=(2, 5, DIM)).astype("float32")
    context_mask = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], bool)
    changed = context.copy()
    changed[~context_mask] = 55.0
    a = block(query, context=context, context_mask=context_mask)
    b = block(query, context=changed, context_mask=context_mask)
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-6, atol=1e-6)


def test_block_config_round_trip_and_save_load(tmp_path):
    block = TransformerBlock(num_heads=2, key_dim=3, ffn_dim=12, dropout=0.1, activation="gelu", seed=3, name="b")
    clone = TransformerBlock.from_config(block.get_config())
    assert clone.get_config() == block.get_config()
    x = np.random.default_rng(3).normal(size=(2, 4, DIM)).astype("float32")
    _round_trip(lambda t: TransformerBlock(num_heads=2, ffn_dim=12)(t), [x], tmp_path)


def test_rezero_block_starts_as_the_identity_and_opens_with_its_gates(tmp_path):
    x = np.random.default_rng(4).normal(size=(2, 5, DIM)).astype("float32")
    block = TransformerBlock(num_heads=2, ffn_dim=12, rezero=True)
    np.testing.assert_allclose(_np(block(x)), x, rtol=1e-6, atol=1e-6)  # both gates start at 0
    plain = TransformerBlock(num_heads=2, ffn_dim=12)
    plain(x)
    plain.set_weights([_np(w) for w in block.weights if "gate" not in w.path])
    block.attention_gate.assign(1.0)
    block.ffn_gate.assign(1.0)
    np.testing.assert_allclose(_np(block(x)), _np(plain(x)), rtol=1e-5, atol=1e-6)  # gates at 1 = plain block
    block.ffn_gate.assign(0.5)
    attention_only = x + _np(block.attention(block.attention_norm(x), block.attention_norm(x)))
    ffn = _np(block.ffn_out(block.ffn_in(block.ffn_norm(attention_only))))
    np.testing.assert_allclose(_np(block(x)), attention_only + 0.5 * ffn, rtol=1e-5, atol=1e-5)
    assert TransformerBlock.from_config(block.get_config()).rezero
    model, _ = _round_trip(lambda t: TransformerBlock(num_heads=2, ffn_dim=12, rezero=True)(t), [x], tmp_path)
    for gate, value in zip((w for w in model.weights if w.path.endswith("_gate")), (0.7, -0.3)):
        gate.assign(value)
    loaded = _round_trip(lambda t: model(t), [x], tmp_path)[1]  # trained gates survive save/load
    assert sorted(round(float(_np(w)), 4) for w in loaded.weights if w.path.endswith("_gate")) == [-0.3, 0.7]


# --------------------------------------------------------------------------- sentence encoders


@pytest.mark.parametrize(
    "make",
    [
        lambda: PositionalMaskEncoder(VOCAB, DIM, max_length=4),
        lambda: SentenceTransformer(VOCAB, DIM, num_layers=2, num_heads=2, max_length=4),
    ],
    ids=["positional_mask", "sentence_transformer"],
)
def test_sentence_encoders_shapes_masks_and_padding(make):
    encoder = make()
    ids = _sentences()
    vectors = encoder(ids)
    assert vectors.shape == (3, 5, DIM)
    assert encoder(ids[:, 0]).shape == (3, DIM)  # questions: [batch, words]
    np.testing.assert_array_equal(_np(encoder.compute_mask(ids)), (ids != 0).any(-1))
    assert not _np(vectors)[~(ids != 0).any(-1)].any()  # empty sentences encode to zero
    # more padding words (also beyond max_length) and more empty slots change nothing real
    padded = _pad(_pad(ids, 2, 3), 1, 2)
    np.testing.assert_allclose(_np(encoder(padded))[:, :5], _np(vectors), rtol=1e-5, atol=1e-6)
    # word order matters (positional parameters), unlike a bag of words, once they are not uniform
    if isinstance(encoder, PositionalMaskEncoder):
        encoder.position_mask.assign(np.arange(1, 5, dtype="float32")[:, None] * np.ones((1, DIM), "float32"))
    swapped = np.array([[7, 9, 0, 0, 0, 0]], "int32")
    assert not np.allclose(_np(encoder(swapped)), _np(encoder(swapped[:, [1, 0, 2, 3, 4, 5]])))


def test_positional_mask_starts_as_a_bag_of_words():
    encoder = PositionalMaskEncoder(VOCAB, DIM)
    ids = np.array([[3, 5, 0]], "int32")
    vectors = _np(encoder(ids))
    expected = _np(encoder.embeddings)[3] + _np(encoder.embeddings)[5]
    np.testing.assert_allclose(vectors[0], expected, rtol=1e-6)


def test_a_random_positional_mask_sees_word_order_from_the_start():
    encoder = PositionalMaskEncoder(VOCAB, 64, mask_stddev=0.5, seed=3)
    swapped = np.array([[7, 9, 0]], "int32")
    assert not np.allclose(_np(encoder(swapped)), _np(encoder(swapped[:, [1, 0, 2]])))
    mask = _np(encoder.position_mask)
    assert abs(mask.mean() - 1.0) < 0.1 and 0.4 < mask.std() < 0.6
    same_seed = PositionalMaskEncoder(VOCAB, 64, mask_stddev=0.5, seed=3)
    same_seed.build()
    np.testing.assert_array_equal(_np(same_seed.position_mask), mask)
    with pytest.raises(ValueError, match="mask_stddev"):
        PositionalMaskEncoder(VOCAB, DIM, mask_stddev=-1)


def test_sentence_encoders_config_and_save_load(tmp_path):
    ids = _sentences()
    for layer in (PositionalMaskEncoder(VOCAB, DIM, max_length=5, mask_stddev=0.5, seed=2), SentenceTransformer(VOCAB, DIM, num_heads=2, seed=1)):
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
    _round_trip(lambda t: PositionalMaskEncoder(VOCAB, DIM)(t), [ids], tmp_path)
    _round_trip(lambda t: SentenceTransformer(VOCAB, DIM, num_heads=2)(t), [ids], tmp_path)


# --------------------------------------------------------------------------- MemoryTransformer


@pytest.mark.parametrize("variant", [{}, {"shared": True}, {"halting": True}], ids=["stacked", "shared", "act"])
def test_memory_transformer_shapes_padding_and_attention(variant):
    encoder = MemoryTransformer(num_layers=3, num_heads=2, max_age=10, **variant)
    rng = np.random.default_rng(4)
    memories = rng.normal(size=(2, 5, DIM)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    out, maps = encoder(memories, mask=mask, return_attention=True)
    assert out.shape == (2, 5, DIM) and maps.shape == (2, 3, 5)
    maps = _np(maps)
    assert not maps[1, :, 3:].any()  # empty slots receive no attention
    np.testing.assert_allclose(maps.sum(-1), 1.0, rtol=1e-5)
    padded_memories = np.concatenate([memories, rng.normal(size=(2, 4, DIM)).astype("float32")], axis=1)
    padded_out = encoder(padded_memories, mask=_pad(mask, 1, 4, False))
    for b, n in enumerate(mask.sum(1)):
        np.testing.assert_allclose(_np(padded_out)[b, :n], _np(out)[b, :n], rtol=1e-5, atol=1e-5)


def test_memory_transformer_temporal_position_tells_slots_apart():
    encoder = MemoryTransformer(num_layers=1, num_heads=2, max_age=10)
    same = np.ones((1, 4, DIM), "float32")
    out = _np(encoder(same))
    assert not np.allclose(out[0, 0], out[0, 3])  # identical sentences at different ages
    without_time = MemoryTransformer(num_layers=1, num_heads=2, max_age=0)
    out = _np(without_time(same))
    np.testing.assert_allclose(out[0, 0], out[0, 3], rtol=1e-5, atol=1e-6)


def test_memory_transformer_without_layers_keeps_each_slot_its_own_sentence():
    encoder = MemoryTransformer(num_layers=0, max_age=10)
    memories = np.random.default_rng(7).normal(size=(2, 5, DIM)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    out, maps = encoder(memories, mask=mask, return_attention=True)
    assert not encoder.blocks and maps.shape == (2, 0, 5)
    ages = _np(encoder.memory_age(mask))
    expected = _np(encoder.final_norm(encoder.temporal(memories, ages)))  # temporal vector, then the norm; no mixing
    np.testing.assert_allclose(_np(out), expected, rtol=1e-5, atol=1e-6)
    changed = memories.copy()
    changed[:, 1] += 1.0
    np.testing.assert_allclose(_np(encoder(changed, mask=mask))[:, [0, 2]], _np(out)[:, [0, 2]], rtol=1e-6)  # slots independent
    for bad in ({"num_layers": -1}, {"num_layers": 0, "shared": True}, {"num_layers": 0, "halting": True}):
        with pytest.raises(ValueError, match="num_layers"):
            MemoryTransformer(**bad)


def test_rezero_memory_transformer_starts_with_each_slot_its_own_sentence():
    memories = np.random.default_rng(8).normal(size=(2, 5, DIM)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    gated = MemoryTransformer(num_layers=2, num_heads=2, max_age=10, rezero=True)
    unmixed = MemoryTransformer(num_layers=0, max_age=10)
    out, maps = gated(memories, mask=mask, return_attention=True)
    unmixed(memories, mask=mask)
    shared_weights = {w.path.split("/", 1)[1]: w for w in gated.weights if "block" not in w.path}
    for weight in unmixed.weights:  # the same temporal vectors and final norm
        weight.assign(shared_weights[weight.path.split("/", 1)[1]])
    np.testing.assert_allclose(_np(out), _np(unmixed(memories, mask=mask)), rtol=1e-5, atol=1e-6)
    assert maps.shape == (2, 2, 5) and all(block.rezero for block in gated.blocks)
    assert MemoryTransformer.from_config(gated.get_config()).rezero


def test_bypassed_blocks_leave_each_slot_its_own_sentence():
    memories = np.random.default_rng(9).normal(size=(2, 5, DIM)).astype("float32")
    query = np.random.default_rng(10).normal(size=(2, 1, DIM)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    encoder = MemoryTransformer(num_layers=2, num_heads=2, max_age=10)  # plain blocks: they mix the slots
    mixed, mixed_query = encoder(memories, mask=mask, query=query)
    out, out_query = encoder(memories, mask=mask, query=query, bypass_blocks=keras.Variable(True, dtype="bool"))
    ages = _np(encoder.memory_age(mask))
    np.testing.assert_allclose(_np(out), _np(encoder.final_norm(encoder.temporal(memories, ages))), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(out_query), _np(encoder.final_norm(query)), rtol=1e-5, atol=1e-6)
    assert not np.allclose(_np(mixed), _np(out), atol=1e-3)
    not_bypassed = encoder(memories, mask=mask, query=query, bypass_blocks=False)
    np.testing.assert_allclose(_np(not_bypassed[0]), _np(mixed), rtol=1e-6)


@pytest.mark.parametrize("variant", [{}, {"halting": True}], ids=["stacked", "act"])
def test_query_slots_join_the_self_attention_but_are_not_memory(variant):
    encoder = MemoryTransformer(num_layers=2, num_heads=2, max_age=10, **variant)
    rng = np.random.default_rng(9)
    memories = rng.normal(size=(2, 5, DIM)).astype("float32")
    query = rng.normal(size=(2, 1, DIM)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    out, query_out, maps = encoder(memories, mask=mask, query=query, return_attention=True)
    assert out.shape == (2, 5, DIM) and query_out.shape == (2, 1, DIM) and maps.shape == (2, 2, 5)
    maps = _np(maps)
    assert not maps[1, :, 3:].any() and (maps.sum(-1) < 1.0).all()  # the rest of the attention went to the query
    # the memory is read knowing the query, and the query sees the memory
    assert not np.allclose(_np(out), _np(encoder(memories, mask=mask)), atol=1e-4)
    other_query = _np(encoder(memories, mask=mask, query=-query)[0])
    assert not np.allclose(other_query, _np(out), atol=1e-4)
    changed = memories.copy()
    changed[:, 0] = rng.normal(size=changed[:, 0].shape)
    assert not np.allclose(_np(encoder(changed, mask=mask, query=query)[1]), _np(query_out), atol=1e-4)
    # padding slots between the memory and the query change nothing
    padded = np.concatenate([memories, rng.normal(size=(2, 3, DIM)).astype("float32")], axis=1)
    padded_out, padded_query = encoder(padded, mask=_pad(mask, 1, 3, False), query=query)
    np.testing.assert_allclose(_np(padded_query), _np(query_out), rtol=1e-5, atol=1e-5)
    for b, n in enumerate(mask.sum(1)):
        np.testing.assert_allclose(_np(padded_out)[b, :n], _np(out)[b, :n], rtol=1e-5, atol=1e-5)


def test_shared_depth_reuses_one_block_and_halting_adds_a_ponder_cost():
    memories = np.random.default_rng(5).normal(size=(2, 5, DIM)).astype("float32")
    stacked, shared, act = (MemoryTransformer(num_layers=4, num_heads=2, max_age=10, **kw) for kw in ({}, {"shared": True}, {"halting": True}))
    for layer in (stacked, shared, act):
        layer(memories)
    block_weights = len(stacked.blocks[0].weights)
    assert len(stacked.weights) - len(shared.weights) == 3 * block_weights - 1  # 3 blocks fewer, one step table more
    assert len(shared.blocks) == 1 and act.shared
    act(memories, training=True)
    assert len(act.losses) == 1 and 0 < float(act.losses[0]) <= act.ponder_cost * 4
    act(memories, training=False)
    assert not act.losses


def test_memory_transformer_config_and_save_load(tmp_path):
    layer = MemoryTransformer(num_layers=2, num_heads=2, max_age=7, time_noise=0.1, halting=True, seed=2)
    config = layer.get_config()
    assert MemoryTransformer.from_config(config).get_config() == config and config["shared"]
    memories = np.random.default_rng(6).normal(size=(2, 5, DIM)).astype("float32")
    for variant in ({}, {"halting": True}):
        _round_trip(lambda t: MemoryTransformer(num_layers=2, num_heads=2, max_age=7, **variant)(t), [memories], tmp_path)
