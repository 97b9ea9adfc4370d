"""MemN2N: the end-to-end memory network of Sukhbaatar et al. (2015), faithful to the paper.

Reading order: ``__init__`` creates the embeddings and hops, ``call`` runs K hops over the story
and answers; ``linear_start`` switches the paper's linear-start phase on and off.
"""

import keras
from keras import ops

from memnet.layers import MemoryAge, MemoryHop, SentenceEncoder, TemporalEncoding

WEIGHT_TYING = ("adjacent", "layerwise")


@keras.saving.register_keras_serializable(package="memnet")
class MemN2N(keras.Model):
    """End-to-end memory network answering a question about a story.

    Inputs are a dict with ``"story"``, int ``[batch, memory_size, words]`` (sentences oldest
    first, left-aligned, 0-padded; see :func:`memnet.data.vectorize`) and ``"question"``, int
    ``[batch, words]``. The output is the logits over the vocabulary (answers are words).

    Each hop k embeds the story twice, as keys ``m_i = A^k x_i + T_A^k(i)`` and values
    ``c_i = C^k x_i + T_C^k(i)``, reads ``o = sum_i softmax(m_i . u)_i c_i`` and updates the
    controller ``u <- u + o``. The answer is ``softmax(W (u + o))``.

    Weight tying:
        ``"adjacent"``: ``B = A^1``, ``A^{k+1} = C^k``, ``W^T = C^K`` (K+1 embedding matrices).
        ``"layerwise"``: ``A^k = A^1``, ``C^k = C^1``, a separate ``B`` and ``W``, and a linear map
        ``H`` between hops, ``u <- H u + o``.

    Args:
        vocabulary_size: number of word ids (0 is padding); also the number of answer classes.
        memory_size: number of memory slots (the paper: 50).
        embedding_dim: d (the paper: 20 per task, 50 joint).
        hops: K (the paper: 3).
        encoding: ``"position"`` or ``"bow"`` sentence encoding.
        temporal: add temporal encoding (T_A, T_C).
        time_noise: the paper's random noise on memory times during training (0.1; 0 disables).
        weight_tying: ``"adjacent"`` or ``"layerwise"``.
        hop_activation: optional activation applied to ``u`` after each hop (the paper's best 10k
            variant uses ReLU); ``None`` is the plain model.
        seed: seed of the time noise.
        linear_start: start with the hops' softmax removed (see :attr:`linear_start`).
        mask_empty_slots: ``False`` (the authors' code, default): the memory always has
            ``memory_size`` slots, and empty ones are zero vectors that still take part in each
            hop's softmax, so a hop can put weight on "nowhere" (reading nothing). ``True``: empty
            slots get zero weight. The difference is large on some tasks: task 10 (1k) trained to
            16-17% test error with empty slots attended and 30-33% with them masked.

    Example:

    >>> model = MemN2N(vocabulary_size=40, memory_size=10)
    >>> inputs = {"story": np.ones((2, 10, 6), "int32"), "question": np.ones((2, 6), "int32")}
    >>> logits, attention = model(inputs, return_attention=True)
    >>> logits.shape, attention.shape   # attention: [batch, hops, slots]
    ((2, 40), (2, 3, 10))
    """

    def __init__(
        self,
        vocabulary_size,
        memory_size=50,
        embedding_dim=20,
        hops=3,
        encoding="position",
        temporal=True,
        time_noise=0.1,
        weight_tying="adjacent",
        hop_activation=None,
        seed=None,
        linear_start=False,
        mask_empty_slots=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if weight_tying not in WEIGHT_TYING:
            raise ValueError(f"weight_tying must be one of {WEIGHT_TYING}, got {weight_tying!r}")
        if hops < 1:
            raise ValueError(f"hops must be at least 1, got {hops}")
        self.vocabulary_size = int(vocabulary_size)
        self.memory_size = int(memory_size)
        self.embedding_dim = int(embedding_dim)
        self.hops = int(hops)
        self.encoding = encoding
        self.temporal = bool(temporal)
        self.time_noise = float(time_noise)
        self.weight_tying = weight_tying
        self.hop_activation = keras.activations.get(hop_activation) if hop_activation else None
        self.seed = seed
        self.mask_empty_slots = bool(mask_empty_slots)

        def encoder(name):
            return SentenceEncoder(vocabulary_size, embedding_dim, encoding=encoding, name=name)

        def time_table(name):
            return TemporalEncoding(memory_size, embedding_dim, name=name) if temporal else None

        if weight_tying == "adjacent":
            # embeddings[k] serves as C^k and as A^{k+1}; embeddings[0] is A^1 = B; embeddings[K] is W^T.
            self.embeddings = [encoder(f"embedding_{k}") for k in range(hops + 1)]
            self.time_tables = [time_table(f"temporal_{k}") for k in range(hops + 1)]
            self.question_encoder = self.embeddings[0]
            self.answer_projection = None
            self.hop_transform = None
        else:
            self.embeddings = [encoder("embedding_a"), encoder("embedding_c")]
            self.time_tables = [time_table("temporal_a"), time_table("temporal_c")]
            self.question_encoder = encoder("embedding_b")
            self.answer_projection = keras.layers.Dense(
                vocabulary_size, use_bias=False, name="answer", kernel_initializer=keras.initializers.RandomNormal(stddev=0.1)
            )
            self.hop_transform = keras.layers.Dense(
                embedding_dim, use_bias=False, name="hop_transform", kernel_initializer=keras.initializers.RandomNormal(stddev=0.1)
            )
        self.memory_age = MemoryAge(memory_size, noise=time_noise, seed=seed, name="memory_age")
        self.memory_hops = [MemoryHop(linear=linear_start, name=f"hop_{k + 1}") for k in range(hops)]

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            memory_size=self.memory_size,
            embedding_dim=self.embedding_dim,
            hops=self.hops,
            encoding=self.encoding,
            temporal=self.temporal,
            time_noise=self.time_noise,
            weight_tying=self.weight_tying,
            hop_activation=keras.activations.serialize(self.hop_activation) if self.hop_activation else None,
            seed=self.seed,
            linear_start=self.linear_start,
            mask_empty_slots=self.mask_empty_slots,
        )
        return config

    def build(self, input_shape=None):
        # Weights depend only on the vocabulary and sizes, never on the story length.
        for layer in self.embeddings + [self.question_encoder]:
            if not layer.built:
                layer.build()
        for table in self.time_tables:
            if table is not None and not table.built:
                table.build()
        if self.answer_projection is not None:
            self.answer_projection.build((None, self.embedding_dim))
            self.hop_transform.build((None, self.embedding_dim))
        self.built = True

    @property
    def linear_start(self) -> bool:
        """Whether the hops run without softmax (the paper's linear start phase)."""
        return self.memory_hops[0].linear

    @linear_start.setter
    def linear_start(self, value: bool):
        for hop in self.memory_hops:
            hop.linear = bool(value)
        # compiled train/predict functions captured the old behaviour
        self.train_function = self.test_function = self.predict_function = None

    def pad_to_memory_size(self, story):
        """Add empty slots up to ``memory_size``: the number of empty slots is part of the model when they are attended."""
        shape = ops.shape(story)
        missing = self.memory_size - shape[1]  # a tensor when traced for any story size
        if isinstance(missing, int) and missing <= 0:
            return story
        empty = ops.zeros((shape[0], ops.maximum(missing, 0), shape[2]), dtype=story.dtype)
        return ops.concatenate([story, empty], axis=1)

    def call(self, inputs, training=False, return_attention=False, linear_start=None):
        """Logits over the vocabulary (and, with ``return_attention``, attention ``[batch, hops, slots]``).

        Unless ``mask_empty_slots``, the story is padded to ``memory_size`` slots first, so the
        attention covers ``max(slots, memory_size)`` slots.

        ``linear_start`` overrides :attr:`linear_start` for this call (a boolean tensor is allowed).
        """
        story, question = inputs["story"], inputs["question"]
        if not self.mask_empty_slots:
            story = self.pad_to_memory_size(story)
        slot_mask = ops.any(ops.not_equal(story, 0), axis=-1)
        ages = self.memory_age(slot_mask, training=training) if self.temporal else None
        # which slots each hop's softmax covers: all of them (empty ones are zero vectors), or the filled ones
        attended = slot_mask if self.mask_empty_slots else ops.ones_like(slot_mask)

        # memories[i] = embeddings[i](story) + time_tables[i](ages), computed once for all hops;
        # an empty slot is the zero vector (no temporal vector either)
        memories = []
        for embedding, table in zip(self.embeddings, self.time_tables):
            vectors = embedding(story)
            vectors = vectors if table is None else table(vectors, ages)
            memories.append(ops.where(slot_mask[..., None], vectors, ops.zeros_like(vectors)))

        u = self.question_encoder(question)
        attention = []
        for k, hop in enumerate(self.memory_hops):
            keys, values = (memories[k], memories[k + 1]) if self.weight_tying == "adjacent" else memories
            output, weights = hop(u, keys, values, memory_mask=attended, linear=linear_start)
            u = (u if self.hop_transform is None else self.hop_transform(u)) + output
            if self.hop_activation is not None:
                u = self.hop_activation(u)
            attention.append(weights)

        if self.answer_projection is None:
            logits = ops.matmul(u, ops.transpose(ops.cast(self.embeddings[-1].embeddings, u.dtype)))
        else:
            logits = self.answer_projection(u)
        logits = ops.cast(logits, "float32")  # stable softmax under mixed precision
        if return_attention:
            return logits, ops.stack(attention, axis=1)
        return logits
