"""MemoryRead: the weighted sum of memory slots that a read head returns."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="memnet")
class MemoryRead(keras.layers.Layer):
    """Reads ``r = sum_i w_i M_i``: the slots weighted by an address (e.g. :class:`ContentAddressing`).

    With ``values``, the memory is a key-value memory: the weights were computed against the
    keys, and the read returns the weighted sum of the values (the two may differ in width).
    Masked slots never contribute, whatever weight they were given. The layer has no weights.

    Call arguments:
        weights: ``[batch, slots]``, or ``[batch, heads, slots]`` for several read heads.
        memory: ``[batch, slots, width]``: what is read when ``values`` is not given.
        values: optional ``[batch, slots, value_width]``, read instead of ``memory``.
        memory_mask: optional boolean ``[batch, slots]``, True at usable slots. Defaults to the
            Keras mask carried by ``memory``, if any.

    Returns:
        ``[batch, width]`` (or ``[batch, heads, width]``).

    Example:

    >>> read = MemoryRead()
    >>> memory = np.array([[[1.0, 0.0], [0.0, 2.0], [5.0, 5.0]]])
    >>> keras.ops.convert_to_numpy(read(np.array([[0.5, 0.5, 0.0]]), memory)).tolist()
    [[0.5, 1.0]]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, weights, memory, values=None, memory_mask=None):
        mask = getattr(memory, "_keras_mask", None) if memory_mask is None else memory_mask
        values = memory if values is None else values
        weights = ops.cast(weights, values.dtype)
        several = len(weights.shape) == 3
        if mask is not None:
            mask = ops.cast(mask, "bool")
            mask = ops.broadcast_to(mask[:, None, :] if several else mask, ops.shape(weights))
            weights = ops.where(mask, weights, ops.zeros_like(weights))
        return ops.einsum("bhs,bsw->bhw" if several else "bs,bsw->bw", weights, values)

    def compute_mask(self, weights, memory, values=None, memory_mask=None):
        return None

    def compute_output_shape(self, weights_shape, memory_shape=None, values_shape=None, memory_mask_shape=None):
        width = (values_shape or memory_shape)[-1]
        return tuple(weights_shape[:-1]) + (width,)
