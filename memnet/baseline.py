"""A plain Keras MemN2N, written the way a Keras user would, as the speed baseline of ``memnet bench speed``.

Same model as :class:`memnet.models.MemN2N` (3 hops, adjacent tying, position and temporal
encoding, summed loss, SGD with per-matrix clipping) built from stock layers, with a memory of
``memory_size`` slots always padded to full size, trained by ``model.fit`` on NumPy arrays with
default settings (no XLA, one step per call). It exists only to be timed against memnet.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops


def plain_memn2n(vocabulary_size: int, memory_size: int, sentence_size: int, embedding_dim=20, hops=3) -> keras.Model:
    story = keras.Input((memory_size, sentence_size), dtype="int32", name="story")
    question = keras.Input((sentence_size,), dtype="int32", name="question")
    init = keras.initializers.RandomNormal(stddev=0.1)
    embeddings = [layers.Embedding(vocabulary_size, embedding_dim, embeddings_initializer=init) for _ in range(hops + 1)]
    times = [layers.Embedding(memory_size, embedding_dim, embeddings_initializer=init) for _ in range(hops + 1)]
    # fixed position-encoding weights for full-length sentences, as most ports do
    j = np.arange(1, sentence_size + 1)[:, None] / sentence_size
    k = np.arange(1, embedding_dim + 1)[None, :] / embedding_dim
    encoding = ops.convert_to_tensor((1 - j) - k * (1 - 2 * j), "float32")
    slot_ids = ops.arange(memory_size)[None, :]

    def memory(index):
        words = embeddings[index](story) * ops.cast(ops.not_equal(story, 0), "float32")[..., None]
        return ops.sum(words * encoding, axis=-2) + times[index](slot_ids)

    memories = [memory(i) for i in range(hops + 1)]
    u = ops.sum(embeddings[0](question) * encoding, axis=-2)
    for hop in range(hops):
        weights = ops.softmax(ops.einsum("bsd,bd->bs", memories[hop], u), axis=-1)
        u = u + ops.einsum("bs,bsd->bd", weights, memories[hop + 1])
    logits = layers.Dense(vocabulary_size, use_bias=False, kernel_initializer=init)(u)
    return keras.Model({"story": story, "question": question}, logits)


def compile_plain(model: keras.Model) -> None:
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, clipnorm=40.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"),
        metrics=["accuracy"],
        jit_compile=False,
    )
