"""TransformerBlock: pre-norm multi-head attention plus a feed-forward network, mask-aware."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="memnet")
class TransformerBlock(keras.layers.Layer):
    """One pre-norm transformer encoder block built on :class:`keras.layers.MultiHeadAttention`.

    ``x <- x + g_a Dropout(MHA(LN(x), context))`` then ``x <- x + g_f Dropout(FFN(LN(x)))``, with
    the gates ``g_a = g_f = 1`` unless ``rezero``. Without ``context`` the block is self-attention
    over ``x``; with it, ``x`` (the queries) attends over ``context`` (cross-attention, e.g. a
    question reading a memory). Padding positions of the
    attended sequence never receive attention, so the outputs at real positions do not depend on
    how much padding there is. Outputs at padding positions are finite but meaningless; the
    input mask is passed on so that downstream layers ignore them.

    With ``rezero=True`` each residual branch is scaled by a learned scalar that starts at 0
    (ReZero, Bachlechner et al. 2020): the block starts as the identity and mixes in attention
    and the feed-forward network only as far as training asks for them. (The gates, the layer's
    own weights, come first in ``weights``, before those of its sublayers.)

    Args:
        num_heads: attention heads.
        key_dim: size of each head (default: model dimension // ``num_heads``).
        ffn_dim: hidden size of the feed-forward network (default: 4 x model dimension).
        dropout: dropout rate on attention weights and on both residual branches.
        activation: activation of the feed-forward network.
        seed: seed of the dropout.
        rezero: scale both residual branches by learned scalars initialized to 0.

    Call arguments:
        inputs: ``[batch, length, dim]``.
        context: optional ``[batch, context_length, dim]`` to attend over (cross-attention).
        mask: boolean ``[batch, length]``, True at real positions of ``inputs`` (defaults to the
            Keras mask of ``inputs``).
        context_mask: boolean ``[batch, context_length]``, True at real positions of ``context``.
        training: whether dropout is active.
        return_attention: also return the attention weights ``[batch, heads, length, context_length]``.

    Example:

    >>> block = TransformerBlock(num_heads=2)
    >>> block(np.zeros((3, 5, 8)), mask=np.array([[True] * 5] * 3)).shape
    (3, 5, 8)
    """

    def __init__(self, num_heads=4, key_dim=None, ffn_dim=None, dropout=0.0, activation="relu", seed=None, rezero=False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.key_dim = None if key_dim is None else int(key_dim)
        self.ffn_dim = None if ffn_dim is None else int(ffn_dim)
        self.dropout = float(dropout)
        self.activation = keras.activations.get(activation)
        self.seed = seed
        self.rezero = bool(rezero)
        self.supports_masking = True

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            key_dim=self.key_dim,
            ffn_dim=self.ffn_dim,
            dropout=self.dropout,
            activation=keras.activations.serialize(self.activation),
            seed=self.seed,
            rezero=self.rezero,
        )
        return config

    def build(self, inputs_shape, context_shape=None, context_mask_shape=None):
        dim = int(inputs_shape[-1])
        key_dim = self.key_dim or max(1, dim // self.num_heads)
        seeds = [None] * 3 if self.seed is None else [self.seed + k for k in range(3)]
        self.attention = keras.layers.MultiHeadAttention(
            self.num_heads, key_dim, dropout=self.dropout, seed=seeds[0], name="attention", dtype=self.dtype_policy
        )
        self.attention_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="attention_norm", dtype=self.dtype_policy)
        self.ffn_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="ffn_norm", dtype=self.dtype_policy)
        self.ffn_in = keras.layers.Dense(
            self.ffn_dim or 4 * dim, activation=self.activation, name="ffn_in", dtype=self.dtype_policy
        )
        self.ffn_out = keras.layers.Dense(dim, name="ffn_out", dtype=self.dtype_policy)
        self.attention_dropout = keras.layers.Dropout(self.dropout, seed=seeds[1], dtype=self.dtype_policy)
        self.ffn_dropout = keras.layers.Dropout(self.dropout, seed=seeds[2], dtype=self.dtype_policy)
        sequence = (None, None, dim)
        self.attention.build(sequence, sequence)
        self.attention_norm.build(sequence)
        self.ffn_norm.build(sequence)
        self.ffn_in.build(sequence)
        self.ffn_out.build((None, None, self.ffn_in.units))
        if self.rezero:
            self.attention_gate = self.add_weight(shape=(), initializer="zeros", name="attention_gate")
            self.ffn_gate = self.add_weight(shape=(), initializer="zeros", name="ffn_gate")
        self.built = True

    def call(self, inputs, context=None, mask=None, context_mask=None, training=None, return_attention=False):
        x = inputs
        if mask is None:
            mask = getattr(inputs, "_keras_mask", None)
        keys_mask = mask if context is None else context_mask
        attention_mask = None
        if keys_mask is not None:
            keys_mask = ops.cast(keys_mask, "bool")
            query_length = ops.shape(x)[1]
            attention_mask = ops.repeat(keys_mask[:, None, :], query_length, axis=1)  # [B, T, S]
        normed = self.attention_norm(x)
        attended = normed if context is None else context
        result = self.attention(
            normed, attended, attention_mask=attention_mask, training=training, return_attention_scores=return_attention
        )
        update, scores = result if return_attention else (result, None)
        x = x + self._gated(self.attention_dropout(update, training=training), "attention_gate")
        x = x + self._gated(self.ffn_dropout(self.ffn_out(self.ffn_in(self.ffn_norm(x))), training=training), "ffn_gate")
        if return_attention:
            return x, scores
        return x

    def _gated(self, branch, gate):
        return ops.cast(getattr(self, gate), branch.dtype) * branch if self.rezero else branch

    def compute_mask(self, inputs, context=None, mask=None, context_mask=None, training=None, return_attention=False):
        if return_attention:
            return None
        return mask if mask is not None else getattr(inputs, "_keras_mask", None)

    def compute_output_shape(self, inputs_shape, context_shape=None, context_mask_shape=None):
        return tuple(inputs_shape)
