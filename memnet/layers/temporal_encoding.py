"""Temporal encoding: where a sentence sits in time, as learned vectors, and the paper's random noise."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="memnet")
class MemoryAge(keras.layers.Layer):
    """The age of each memory slot: 0 for the most recent sentence, 1 for the one before, ...

    Memories are stored oldest first and left-aligned, so the age of a slot is the number of
    non-empty slots after it. During training, ``noise > 0`` applies the paper's *random noise*
    (RN): as if up to ``ceil(noise * n)`` empty memories were inserted at random times among the
    ``n`` sentences, the ages become a sorted random subset of ``0 .. n + blanks - 1``. This
    regularizes the temporal encoding.

    Args:
        max_age: ages are clipped to ``max_age - 1`` (the size of the temporal table).
        noise: fraction of empty memories inserted during training (the paper: 0.1).
        seed: seed of the noise.

    Call arguments:
        slot_mask: boolean ``[batch, slots]``, True at non-empty slots (left-aligned).
        training: whether to apply the noise.

    Returns:
        int32 ages ``[batch, slots]`` (0 at empty slots).
    """

    def __init__(self, max_age, noise=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.max_age = int(max_age)
        self.noise = float(noise)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(max_age=self.max_age, noise=self.noise, seed=self.seed)
        return config

    # The noise generator's state is saved with the weights, so that training resumed from a
    # checkpoint draws the same noise as an uninterrupted run (Keras does not save it by default).
    def save_own_variables(self, store):
        store["seed_state"] = keras.ops.convert_to_numpy(self.seed_generator.state.value)

    def load_own_variables(self, store):
        if "seed_state" in store:
            self.seed_generator.state.assign(store["seed_state"])

    def call(self, slot_mask, training=False):
        valid = ops.cast(slot_mask, "int32")
        count = ops.sum(valid, axis=-1, keepdims=True)  # n
        position = ops.arange(ops.shape(valid)[-1], dtype="int32")[None, :]
        ages = count - 1 - position  # exact, since valid slots are the first n
        if training and self.noise > 0:
            ages = self._noisy_ages(count, position)
        return ops.where(ops.cast(valid, "bool"), ops.clip(ages, 0, self.max_age - 1), 0)

    def _noisy_ages(self, count, position):
        # Draw a uniformly random n-subset of the ages 0 .. n+blanks-1 and give the smallest to the
        # most recent sentence. Done with dense comparisons instead of a sort: much faster under XLA.
        slots = ops.shape(position)[-1]
        span = slots + int(-(-slots * self.noise // 1))  # slots + ceil(noise * slots)
        batch = ops.shape(count)[0]
        # blanks ~ U{0 .. ceil(noise * n)}, per example
        max_blanks = ops.ceil(ops.cast(count, "float32") * self.noise)
        blanks = ops.floor(keras.random.uniform((batch, 1), seed=self.seed_generator) * (max_blanks + 1))
        limit = count + ops.cast(blanks, "int32")
        candidate = ops.arange(span, dtype="int32")[None, :]  # [1, span]
        keys = keras.random.uniform((batch, span), seed=self.seed_generator)
        keys = ops.where(candidate < limit, keys, 2.0)  # ages past the limit are never drawn
        # rank of each candidate among all candidates; the n lowest-ranked ones are drawn
        rank = ops.sum(ops.cast(keys[:, None, :] < keys[:, :, None], "int32"), axis=-1)
        drawn = ops.cast(rank < count, "int32")  # [batch, span]
        order = ops.cumsum(drawn, axis=-1) - 1  # order among drawn ages, ascending
        recency = count - 1 - position  # [batch, slots]: 0 for the most recent sentence
        match = ops.logical_and(ops.cast(drawn, "bool")[:, None, :], order[:, None, :] == recency[:, :, None])
        return ops.sum(ops.where(match, candidate[:, None, :], 0), axis=-1)


@keras.saving.register_keras_serializable(package="memnet")
class TemporalEncoding(keras.layers.Layer):
    """Adds a learned vector per memory age to each memory vector (the paper's T_A, T_C).

    Args:
        max_age: number of ages with their own vector (the memory size).
        embedding_dim: size of the memory vectors.
        embeddings_initializer: initializer of the table (the paper: N(0, 0.1)).

    Call arguments:
        memories: ``[batch, slots, embedding_dim]``.
        ages: int ``[batch, slots]``, e.g. from :class:`MemoryAge`.

    Example:

    >>> encoding = TemporalEncoding(max_age=50, embedding_dim=20)
    >>> encoding(np.zeros((2, 50, 20)), np.zeros((2, 50), "int32")).shape
    (2, 50, 20)
    """

    def __init__(self, max_age, embedding_dim, embeddings_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.max_age = int(max_age)
        self.embedding_dim = int(embedding_dim)
        self.embeddings_initializer = keras.initializers.get(
            embeddings_initializer or keras.initializers.RandomNormal(stddev=0.1)
        )
        self.supports_masking = True  # the memories' slot mask passes through unchanged

    def get_config(self):
        config = super().get_config()
        config.update(
            max_age=self.max_age,
            embedding_dim=self.embedding_dim,
            embeddings_initializer=keras.initializers.serialize(self.embeddings_initializer),
        )
        return config

    def build(self, memories_shape=None, ages_shape=None):
        self.embeddings = self.add_weight(
            shape=(self.max_age, self.embedding_dim),
            initializer=self.embeddings_initializer,
            name="embeddings",
        )
        self.built = True

    def call(self, memories, ages):
        return memories + ops.take(self.embeddings, ops.cast(ages, "int32"), axis=0)

    def compute_output_shape(self, memories_shape, ages_shape=None):
        return memories_shape
