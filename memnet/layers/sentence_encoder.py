"""SentenceEncoder: word ids of a sentence -> one vector (bag of words or position encoding)."""

import keras
from keras import ops

from memnet.layers.position_encoding import position_encoding

ENCODINGS = ("bow", "position")


@keras.saving.register_keras_serializable(package="memnet")
class SentenceEncoder(keras.layers.Layer):
    """Embeds each word of a sentence and sums them into one vector.

    With ``encoding="bow"`` the sum is a plain bag of words; with ``encoding="position"`` each word
    vector is first scaled by :func:`position_encoding`, so that word order matters. Id 0 is the
    nil (padding) word: its embedding never contributes and never receives a gradient, which is
    what the paper's "reset the nil embedding to zero after every update" achieves.

    The layer works on any leading shape: ``[batch, words]`` for questions,
    ``[batch, slots, words]`` for a memory of sentences. Its output mask is True where a sentence
    has at least one word, so empty memory slots can be ignored downstream.

    Args:
        vocabulary_size: number of word ids (id 0 is padding).
        embedding_dim: size of the sentence vectors.
        encoding: ``"position"`` (default) or ``"bow"``.
        embeddings_initializer: initializer of the embedding matrix (the paper: N(0, 0.1)).

    Example:

    >>> encoder = SentenceEncoder(vocabulary_size=30, embedding_dim=8)
    >>> encoder(np.array([[3, 5, 0, 0]])).shape
    (1, 8)
    """

    def __init__(
        self,
        vocabulary_size,
        embedding_dim,
        encoding="position",
        embeddings_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
        self.vocabulary_size = int(vocabulary_size)
        self.embedding_dim = int(embedding_dim)
        self.encoding = encoding
        self.embeddings_initializer = keras.initializers.get(
            embeddings_initializer or keras.initializers.RandomNormal(stddev=0.1)
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            embedding_dim=self.embedding_dim,
            encoding=self.encoding,
            embeddings_initializer=keras.initializers.serialize(self.embeddings_initializer),
        )
        return config

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            shape=(self.vocabulary_size, self.embedding_dim),
            initializer=self.embeddings_initializer,
            name="embeddings",
        )
        self.built = True

    def call(self, token_ids):
        token_ids = ops.cast(token_ids, "int32")
        word_mask = ops.not_equal(token_ids, 0)
        vectors = ops.take(self.embeddings, token_ids, axis=0)
        weights = ops.cast(word_mask, self.compute_dtype)[..., None]
        if self.encoding == "position":
            weights = weights * position_encoding(word_mask, self.embedding_dim, self.compute_dtype)
        return ops.sum(vectors * weights, axis=-2)

    def compute_mask(self, token_ids, mask=None):
        return ops.any(ops.not_equal(token_ids, 0), axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.embedding_dim,)
