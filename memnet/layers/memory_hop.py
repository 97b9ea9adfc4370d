"""MemoryHop: one attention-addressed read over a memory of vectors."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="memnet")
class MemoryHop(keras.layers.Layer):
    """Reads memory by content: ``p = softmax(m_i . u)``, ``o = sum_i p_i c_i``.

    ``u`` is the query (the controller state), ``m_i`` the input (key) memory and ``c_i`` the output
    (value) memory. Masked (empty) slots get zero weight. The layer has no weights of its own: in
    a memory network the memories' embeddings carry them, and tying them across hops is the
    model's business.

    With ``linear=True`` the softmax is removed and the raw scores weight the memories: the
    paper's *linear start* (LS), used early in training and then switched off.

    Args:
        linear: use raw scores instead of a softmax (linear start).

    Call arguments:
        query: ``[batch, dim]``.
        keys: ``[batch, slots, dim]``, the memories the query is matched against.
        values: ``[batch, slots, dim]``, the memories that are read (defaults to ``keys``).
        memory_mask: boolean ``[batch, slots]``, True at slots that hold a memory. Defaults to
            the Keras mask carried by ``keys`` (e.g. from :class:`SentenceEncoder`), if any.
        linear: overrides the layer's ``linear`` for this call; may be a boolean tensor, so that
            a compiled training step can switch linear start off without being rebuilt.

    Returns:
        ``(output, attention)``: the read vector ``[batch, dim]`` and the weight of each slot
        ``[batch, slots]``.

    Example:

    >>> hop = MemoryHop()
    >>> output, attention = hop(np.ones((2, 4)), np.ones((2, 5, 4)))
    >>> attention.shape
    (2, 5)
    """

    def __init__(self, linear=False, **kwargs):
        super().__init__(**kwargs)
        self.linear = bool(linear)
        self.supports_masking = True
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(linear=self.linear)
        return config

    def call(self, query, keys, values=None, memory_mask=None, linear=None):
        values = keys if values is None else values
        mask = getattr(keys, "_keras_mask", None) if memory_mask is None else memory_mask
        linear = self.linear if linear is None else linear
        scores = ops.einsum("bsd,bd->bs", keys, query)
        raw = scores if mask is None else ops.where(mask, scores, ops.zeros_like(scores))
        normalized = ops.softmax(scores, axis=-1) if mask is None else masked_softmax(scores, mask)
        if isinstance(linear, bool):
            attention = raw if linear else normalized
        else:
            attention = ops.where(linear, raw, normalized)
        output = ops.einsum("bs,bsd->bd", attention, values)
        return output, attention

    def compute_mask(self, query, keys, values=None, memory_mask=None, linear=None):
        return None

    def compute_output_shape(self, query_shape, keys_shape=None, values_shape=None, memory_mask_shape=None, linear_shape=None):
        return query_shape, tuple(keys_shape[:2])


def masked_softmax(scores, mask):
    """Softmax over the last axis where ``mask`` is True; all-masked rows give all zeros."""
    dtype = keras.backend.standardize_dtype(scores.dtype)
    very_negative = ops.cast(-3e4 if dtype in ("float16", "bfloat16") else -1e9, dtype)
    weights = ops.softmax(ops.where(mask, scores, very_negative), axis=-1)
    return ops.where(mask, weights, ops.zeros_like(weights))
