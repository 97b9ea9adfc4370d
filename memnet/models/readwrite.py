"""ReadWriteMemory: a network that writes the story into an external memory, then reads it to answer.

MemN2N only reads: its memory is the story, embedded once. This model *writes* its memory as it
reads the story, one sentence at a time, in the style of EntNet (Henaff et al. 2017): a few dozen
slots, each with a learned key, updated by gated writes addressed by content
(:class:`memnet.layers.MemoryCell` in ``keras.layers.RNN``). The question then reads that memory
in several hops (:class:`memnet.layers.ContentAddressing` + :class:`memnet.layers.MemoryRead`).
Because everything the model knows about the story is in the fixed-size memory, a story can be
told one sentence at a time at constant cost per sentence (:meth:`ReadWriteMemory.write_story`
with a ``memory``; :class:`memnet.inference.StreamingSession`).

Reading order: ``__init__`` creates the layers, ``call`` = ``write_story`` + ``answer``;
``sentence_attention`` turns the memory's read and write weights into per-sentence maps.
"""

import dataclasses

import keras
from keras import ops

from memnet.layers import ContentAddressing, MemoryCell, MemoryRead, PositionalMaskEncoder, SentenceEncoder
from memnet.layers.memory_cell import filled_slots


WRITES = ("interpolate", "additive")
ENCODINGS = ("position", "bow", "mask")


@keras.saving.register_keras_serializable(package="memnet")
class ReadWriteMemory(keras.Model):
    """Answers a question about a story by writing the story into memory, then reading it.

    Inputs and output are those of :class:`memnet.models.MemN2N`: a dict with ``"story"``, int
    ``[batch, sentences, words]`` (oldest first, left-aligned, 0-padded) and ``"question"``, int
    ``[batch, words]``; the output is the logits over the vocabulary.

    * Encode: each sentence and the question with one :class:`SentenceEncoder` (``s_t``, ``q``).
    * Write: ``keras.layers.RNN(MemoryCell)`` writes ``s_1 .. s_T`` into ``slots`` memory slots of
      width ``embedding_dim``: slot ``i`` is addressed by ``g_i = sigmoid(s . (h_i + k_i))`` (its
      content ``h_i`` and learned key ``k_i``) and updated with the candidate
      ``a_i = tanh(U h_i + V k_i + W s)``: ``h_i <- h_i + g_i a_i``, then rescaled to unit norm
      (EntNet's write; ``write="interpolate"``: ``h_i <- (1 - g_i) h_i + g_i a_i``). Empty
      (padding) sentences change nothing.
    * Read, ``hops`` times, a key-value read addressed like the writes (content plus slot key):
      ``p = softmax(u . (h_i + k_i))``, ``o = sum_i p_i h_i``, ``u <- u + H o``, starting from
      ``u = q``; the answer is ``R PReLU(u)``, EntNet's output module. The nonlinearity is what
      lets the answer compare what the question asks with what was read: without it (``R u``)
      bAbI task 6 (10k, yes/no questions, 20 epochs) did not even fit its training set (27%
      training error), with it 0.0% (``benchmarks/results/readwrite-writes.md`` and its history).

    Attention (``return_attention=True``) is ``[batch, hops + 1, sentences]``, one row per map,
    indexed by story sentence (``attention_names`` names them):

    * rows ``0 .. hops-1`` ("read k"): where read ``k`` looked, per sentence:
      ``sum_i p_i * c_it``, where ``c_it`` is the share of slot ``i``'s final content written by
      sentence ``t``: ``g_i(t) / sum_t' g_i(t')`` for the additive write (an approximation, see
      ``write``), ``g_i(t) * prod_{t' > t} (1 - g_i(t'))`` for the interpolating one (exact);
      with ``push``, ``g_i(t)`` is the weight on the slot that later moved down to ``i`` (see
      :func:`retention`);
    * row ``hops`` ("stored"): ``mean_i c_it``, how much of the final memory each sentence wrote
      (with the interpolating write, sentences overwritten later fade out).

    :meth:`memory_attention` gives the underlying weights over memory slots: the write weights
    per sentence, the read weights per hop, and ``c``.

    Args:
        vocabulary_size: number of word ids (0 is padding); also the number of answer classes.
        memory_size: the most recent sentences the data keeps (the model itself reads any number).
        embedding_dim: size of the word embeddings, sentence vectors and memory slots.
        slots: number of memory slots (default: ``memory_size`` with ``push``, else 20 as in EntNet).
        hops: number of reads (EntNet: 1).
        encoding: the sentence encoding: ``"position"`` (MemN2N's fixed position encoding),
            ``"bow"``, or ``"mask"``: EntNet's own, a learned multiplicative positional mask
            (:class:`PositionalMaskEncoder`, drawn from N(1, 0.5) so word order counts from the start).
        addressing: write addressing, ``"sigmoid"`` (EntNet's independent gates) or ``"softmax"``.
        write: ``"additive"`` (default): EntNet's own write, ``h_i <- h_i + g_i a_i`` and then
            each slot rescaled to unit norm (``MemoryCell(erase="none", normalize=True)``); its
            maps attribute each slot to the sentences that wrote it in proportion to their write
            weights ``g_i(t)``, an approximation (later rescaling and the candidates' sizes are
            not counted). ``"interpolate"``: ``h_i <- (1 - g_i) h_i + g_i a_i``, so the attention
            maps below are exact, but it trains much worse (bAbI 10k, 20 epochs: task 2 61.0% test
            error against 3.9% additive, task 9 22.4% against 0.0%).
        push: every sentence gets a new first slot and the older ones shift down (``MemoryCell(push=True)``):
            the memory keeps the latest ``slots`` sentences, newest first, like MemN2N's, and the
            content-addressed writes revise them. The slot keys then act as MemN2N's temporal
            encoding. Without it (EntNet) sentences are merged into a few slots.
        seed: seed of the initial positional mask (``encoding="mask"``); otherwise unused.

    Example:

    >>> model = ReadWriteMemory(vocabulary_size=40, slots=8)
    >>> inputs = {"story": np.ones((2, 10, 6), "int32"), "question": np.ones((2, 6), "int32")}
    >>> logits, attention = model(inputs, return_attention=True)
    >>> tuple(logits.shape), tuple(attention.shape)   # attention: [batch, hops + 1, sentences]
    ((2, 40), (2, 4, 10))
    """

    def __init__(
        self,
        vocabulary_size,
        memory_size=50,
        embedding_dim=20,
        slots=None,
        hops=3,
        encoding="position",
        addressing="sigmoid",
        write="additive",
        push=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if hops < 1:
            raise ValueError(f"hops must be at least 1, got {hops}")
        if write not in WRITES:
            raise ValueError(f"write must be one of {WRITES}, got {write!r}")
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
        self.vocabulary_size = int(vocabulary_size)
        self.memory_size = int(memory_size)
        self.embedding_dim = int(embedding_dim)
        self.write = write
        self.push = bool(push)
        self.slots = int(slots if slots is not None else (self.memory_size if self.push else 20))
        self.hops = int(hops)
        self.encoding = encoding
        self.addressing = addressing
        self.seed = seed
        init = keras.initializers.RandomNormal(stddev=0.1)

        if encoding == "mask":
            self.encoder = PositionalMaskEncoder(vocabulary_size, embedding_dim, mask_stddev=0.5, seed=seed, name="embedding")
        else:
            self.encoder = SentenceEncoder(vocabulary_size, embedding_dim, encoding=encoding, name="embedding")
        additive = write == "additive"
        self.cell = MemoryCell(
            self.slots, self.embedding_dim, addressing=addressing, erase="none" if additive else "full",
            normalize=additive, push=self.push, name="memory_cell",
        )
        self.writer = keras.layers.RNN(
            self.cell, return_sequences=True, return_state=True, zero_output_for_mask=True, name="writer"
        )
        self.read_address = ContentAddressing(similarity="dot", normalization="softmax", name="read_address")
        self.read = MemoryRead(name="read")
        self.hop_transform = keras.layers.Dense(embedding_dim, use_bias=False, kernel_initializer=init, name="hop_transform")
        self.answer_activation = keras.layers.PReLU(name="answer_activation")
        self.answer_projection = keras.layers.Dense(vocabulary_size, use_bias=False, kernel_initializer=init, name="answer")

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            memory_size=self.memory_size,
            embedding_dim=self.embedding_dim,
            slots=self.slots,
            hops=self.hops,
            encoding=self.encoding,
            addressing=self.addressing,
            write=self.write,
            push=self.push,
            seed=self.seed,
        )
        return config

    def build(self, input_shape=None):
        # Weights depend only on the vocabulary and sizes, never on the story length.
        if not self.encoder.built:
            self.encoder.build()
        if not self.writer.built:
            self.writer.build((None, None, self.embedding_dim))
        for layer in (self.hop_transform, self.answer_activation, self.answer_projection):
            if not layer.built:
                layer.build((None, self.embedding_dim))
        self.built = True

    @property
    def attention_names(self) -> list[str]:
        """What each row of the attention returned by ``call`` shows."""
        return [f"read {k}" for k in range(1, self.hops + 1)] + ["stored"]

    @staticmethod
    def training_config(config):
        """How this model trains (memnet.training's per-model hook): Adam at 0.01, no linear start.

        EntNet's recipe: Adam, learning rate 0.01 halved every 25 epochs, gradients clipped to 40.
        The rest of the protocol (epochs, batches, validation, best of R runs) is unchanged.
        """
        return dataclasses.replace(
            config,
            optimizer="adam",
            learning_rate=0.01 if config.learning_rate is None else config.learning_rate,
            linear_start_epochs=0,
        )

    # ------------------------------------------------------------------ the pieces of `call`

    def initial_memory(self, batch_size):
        """The empty memory, ``[batch, slots, embedding_dim]``."""
        return ops.zeros((batch_size, self.slots, self.embedding_dim), dtype=self.compute_dtype)

    def write_story(self, story, memory=None, training=False):
        """Write sentences into memory, oldest first.

        Args:
            story: int ``[batch, sentences, words]``; empty sentences (all 0) change nothing.
            memory: the memory to write into (default: :meth:`initial_memory`), so that a story can
                be written in pieces: writing ``a`` then ``b`` equals writing ``a + b``.

        Returns:
            ``(memory, write_weights)``: ``[batch, slots, embedding_dim]`` and ``[batch,
            sentences, slots]`` (0 for empty sentences).
        """
        story = ops.cast(story, "int32")
        sentences = self.encoder(story)
        sentence_mask = ops.any(ops.not_equal(story, 0), axis=-1)
        if memory is None:
            memory = self.initial_memory(ops.shape(story)[0])
        flat = ops.reshape(memory, (-1, self.slots * self.embedding_dim))
        write_weights, state = self.writer(sentences, initial_state=[flat], mask=sentence_mask, training=training)
        return self.cell.unflatten(state), write_weights

    def answer(self, memory, question):
        """Read ``memory`` ``hops`` times for ``question``: ``(logits, read_weights [batch, hops, slots])``."""
        u = self.encoder(ops.cast(question, "int32"))
        slot_keys = ops.cast(self.cell.keys, memory.dtype)[None]
        if self.push:  # as in MemN2N, an empty slot is the zero vector (no slot key either)
            slot_keys = ops.where(filled_slots(memory)[:, :, None], slot_keys, ops.zeros_like(memory))
        keys = memory + slot_keys  # address by content and slot key
        reads = []
        for _ in range(self.hops):
            weights = self.read_address(u, keys)
            u = u + self.hop_transform(self.read(weights, keys, values=memory))
            reads.append(weights)
        logits = ops.cast(self.answer_projection(self.answer_activation(u)), "float32")  # stable softmax under mixed precision
        return logits, ops.stack(reads, axis=1)

    def call(self, inputs, training=False, return_attention=False):
        """Logits over the vocabulary (and, with ``return_attention``, ``[batch, hops + 1, sentences]``)."""
        memory, write_weights = self.write_story(inputs["story"], training=training)
        logits, read_weights = self.answer(memory, inputs["question"])
        if return_attention:
            return logits, sentence_attention(write_weights, read_weights, push=self.push, write=self.write)
        return logits

    def memory_attention(self, inputs):
        """The weights over memory slots behind the attention maps, as a dict of tensors.

        ``write``: ``[batch, sentences, slots]``, the write address of each sentence;
        ``read``: ``[batch, hops, slots]``, the address of each read;
        ``retention``: ``[batch, sentences, slots]``, ``c_it``: the share of slot ``i``'s final
        content that sentence ``t`` wrote (see the class docstring).
        """
        memory, write_weights = self.write_story(inputs["story"])
        _, read_weights = self.answer(memory, inputs["question"])
        shares = retention(write_weights, push=self.push, write=self.write)
        return {"write": write_weights, "read": read_weights, "retention": shares}


def retention(write_weights, *, write, push=False):
    """``c_ti``, the share of final slot ``i`` written by sentence ``t``, ``[batch, sentences, slots]``.

    From write weights ``[batch, sentences, slots]`` (``MemoryCell(erase="full")``, whose writes
    interpolate): ``c_ti = g_i(t) * prod_{t' > t} (1 - g_i(t'))``, where ``g_i(t)`` is the write
    weight sentence ``t`` gave the slot that ends up as slot ``i``. Without ``push`` that is always
    slot ``i``; with ``push`` it is slot ``i - p`` at a step followed by ``p`` more pushes (each
    real sentence pushes once: its weight on the first slot is 1, on padding 0). Sentences pushed
    out of the memory get 0 everywhere.

    With ``write="additive"`` (EntNet's write) the shares are ``g_i(t) / sum_t' g_i(t')``, the
    write weights normalized per slot: an approximation, see :class:`ReadWriteMemory`.
    """
    if push:
        slots = ops.shape(write_weights)[-1]
        pushes = write_weights[:, :, 0]  # [batch, sentences]: 1 per real sentence
        pushes_after = ops.flip(ops.cumsum(ops.flip(pushes, axis=1), axis=1), axis=1) - pushes
        source = ops.arange(slots, dtype=write_weights.dtype)[None, None, :] - pushes_after[:, :, None]
        source = ops.cast(ops.round(source), "int32")  # [batch, sentences, final slot]
        inside = ops.logical_and(source >= 0, source < slots)
        gathered = ops.take_along_axis(write_weights, ops.clip(source, 0, slots - 1), axis=2)
        write_weights = ops.where(inside, gathered, ops.zeros_like(gathered))
    if write == "additive":
        total = ops.sum(write_weights, axis=1, keepdims=True)
        return ops.where(total > 0, write_weights / ops.maximum(total, 1e-9), ops.zeros_like(write_weights))
    keep = 1.0 - write_weights
    later = ops.concatenate([keep[:, 1:], ops.ones_like(keep[:, :1])], axis=1)  # keep at t + 1
    survives = ops.flip(ops.cumprod(ops.flip(later, axis=1), axis=1), axis=1)  # prod over t' > t
    return write_weights * survives


def sentence_attention(write_weights, read_weights, *, write, push=False):
    """Per-sentence maps ``[batch, hops + 1, sentences]``: each read's share per sentence, then "stored"."""
    shares = retention(write_weights, push=push, write=write)  # [batch, sentences, slots]
    reads = ops.einsum("bhs,bts->bht", read_weights, shares)
    stored = ops.mean(shares, axis=-1)[:, None, :]
    return ops.concatenate([reads, stored], axis=1)
