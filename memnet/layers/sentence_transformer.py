"""SentenceTransformer: a transformer encoder over the words of a sentence, pooled to one vector."""

import keras
from keras import ops

from memnet.layers.transformer_block import TransformerBlock


@keras.saving.register_keras_serializable(package="memnet")
class SentenceTransformer(keras.layers.Layer):
    """Word ids -> word vectors + learned positions -> ``num_layers`` transformer blocks -> masked mean.

    Every sentence is encoded on its own (the words of one sentence attend to each other, never
    to another sentence's), so the layer works on any leading shape: ``[batch, words]`` for
    questions, ``[batch, slots, words]`` for a memory of sentences. Id 0 is padding: padding
    words receive no attention and are left out of the mean, so a sentence's vector does not
    depend on how much padding follows it. The output mask is True where a sentence has a word;
    an empty sentence encodes to zeros.

    Args:
        vocabulary_size: number of word ids (id 0 is padding).
        embedding_dim: model dimension and size of the sentence vectors.
        num_layers: transformer blocks over the words.
        num_heads: attention heads per block.
        ffn_dim: feed-forward hidden size (default 4 x ``embedding_dim``).
        dropout: dropout rate inside the blocks.
        max_length: word positions with their own position vector (longer sentences reuse the last).
        embeddings_initializer: initializer of the word embeddings (default N(0, 0.1)).
        seed: seed of the dropout.

    Example:

    >>> encoder = SentenceTransformer(vocabulary_size=30, embedding_dim=8, num_heads=2)
    >>> encoder(np.array([[[3, 5, 0], [0, 0, 0]]])).shape
    (1, 2, 8)
    """

    def __init__(
        self,
        vocabulary_size,
        embedding_dim,
        num_layers=1,
        num_heads=2,
        ffn_dim=None,
        dropout=0.0,
        max_length=32,
        embeddings_initializer=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = int(vocabulary_size)
        self.embedding_dim = int(embedding_dim)
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.ffn_dim = None if ffn_dim is None else int(ffn_dim)
        self.dropout = float(dropout)
        self.max_length = int(max_length)
        self.embeddings_initializer = keras.initializers.get(
            embeddings_initializer or keras.initializers.RandomNormal(stddev=0.1)
        )
        self.seed = seed
        self.blocks = [
            TransformerBlock(
                num_heads, ffn_dim=ffn_dim, dropout=dropout, seed=None if seed is None else seed + 10 * k,
                name=f"block_{k}", dtype=self.dtype_policy,
            )
            for k in range(self.num_layers)
        ]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm", dtype=self.dtype_policy)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            embedding_dim=self.embedding_dim,
            num_layers=self.num_layers,
            num_heads=self.num_heads,
            ffn_dim=self.ffn_dim,
            dropout=self.dropout,
            max_length=self.max_length,
            embeddings_initializer=keras.initializers.serialize(self.embeddings_initializer),
            seed=self.seed,
        )
        return config

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            shape=(self.vocabulary_size, self.embedding_dim), initializer=self.embeddings_initializer, name="embeddings"
        )
        self.position_embeddings = self.add_weight(
            shape=(self.max_length, self.embedding_dim),
            initializer=keras.initializers.RandomNormal(stddev=0.1),
            name="position_embeddings",
        )
        for block in self.blocks:
            block.build((None, None, self.embedding_dim))
        self.final_norm.build((None, None, self.embedding_dim))
        self.built = True

    def call(self, token_ids, training=None):
        token_ids = ops.cast(token_ids, "int32")
        leading = ops.shape(token_ids)[:-1]
        words = ops.shape(token_ids)[-1]
        flat = ops.reshape(token_ids, (-1, words))  # one row per sentence
        word_mask = ops.not_equal(flat, 0)
        positions = ops.minimum(ops.arange(words), self.max_length - 1)
        x = ops.take(self.embeddings, flat, axis=0) + ops.take(self.position_embeddings, positions, axis=0)[None]
        for block in self.blocks:
            x = block(x, mask=word_mask, training=training)
        x = self.final_norm(x)
        weights = ops.cast(word_mask, x.dtype)[..., None]
        pooled = ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
        return ops.reshape(pooled, (*leading, self.embedding_dim))

    def compute_mask(self, token_ids, mask=None):
        return ops.any(ops.not_equal(token_ids, 0), axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.embedding_dim,)
