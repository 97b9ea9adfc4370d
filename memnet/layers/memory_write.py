"""MemoryWrite: the Neural Turing Machine's erase/add write at addressed slots."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="memnet")
class MemoryWrite(keras.layers.Layer):
    """Writes ``M <- M * (1 - w e^T) + w a^T``: erase, then add, where the address ``w`` points.

    ``w`` (``[batch, slots]``) says how strongly each slot is written, from an addressing layer
    such as :class:`ContentAddressing`. The erase vector ``e`` (values in ``[0, 1]``) says what
    fraction of each component is wiped first; the add vector ``a`` is what is written. Both are
    one vector per example (``[batch, width]``, the NTM) or one per slot (``[batch, slots,
    width]``: each slot gets its own candidate, as in EntNet). Without ``erase`` the write only
    adds. With ``erase = 1`` and ``a`` a candidate per slot the write is the gated interpolation
    ``M_i <- (1 - w_i) M_i + w_i a_i`` of a GRU.

    With ``gated=True`` a scalar gate per example scales the whole write (``w <- g w``): ``g = 0``
    leaves the memory untouched, so a controller can decide whether to write at all. Examples
    whose ``step_mask`` is False (padding steps) keep their memory exactly; masked slots (the
    Keras mask carried by ``memory``, or ``memory_mask``) are never written. The layer has no
    weights.

    Args:
        gated: expect a ``gate`` at every call.

    Call arguments:
        memory: ``[batch, slots, width]``.
        weights: ``[batch, slots]``, the write address.
        add: ``[batch, width]`` or ``[batch, slots, width]``.
        erase: optional, same shapes as ``add``, in ``[0, 1]``.
        gate: ``[batch]`` or ``[batch, 1]`` in ``[0, 1]`` (required when ``gated``).
        step_mask: optional boolean ``[batch]``: False leaves that example's memory unchanged.
        memory_mask: optional boolean ``[batch, slots]``: slots that may be written.

    Returns:
        The new memory, ``[batch, slots, width]``.

    Example:

    >>> write = MemoryWrite()
    >>> memory = np.zeros((1, 3, 2), "float32")
    >>> new = write(memory, np.array([[0.0, 1.0, 0.0]]), add=np.array([[4.0, 2.0]]), erase=np.ones((1, 2)))
    >>> keras.ops.convert_to_numpy(new)[0].tolist()
    [[0.0, 0.0], [4.0, 2.0], [0.0, 0.0]]
    """

    def __init__(self, gated=False, **kwargs):
        super().__init__(**kwargs)
        self.gated = bool(gated)
        self.supports_masking = True
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(gated=self.gated)
        return config

    def call(self, memory, weights, add, erase=None, gate=None, step_mask=None, memory_mask=None):
        dtype = memory.dtype
        mask = getattr(memory, "_keras_mask", None) if memory_mask is None else memory_mask
        weights = ops.cast(weights, dtype)
        if self.gated:
            if gate is None:
                raise ValueError("MemoryWrite(gated=True) needs a `gate` at every call")
            weights = weights * ops.reshape(ops.cast(gate, dtype), (-1, 1))
        elif gate is not None:
            raise ValueError("got a `gate` but the layer was made with gated=False")
        if mask is not None:
            weights = ops.where(ops.cast(mask, "bool"), weights, ops.zeros_like(weights))
        w = weights[:, :, None]  # [batch, slots, 1]

        def per_slot(vector):
            vector = ops.cast(vector, dtype)
            return vector[:, None, :] if len(vector.shape) == 2 else vector

        new = memory if erase is None else memory * (1.0 - w * per_slot(erase))
        new = new + w * per_slot(add)
        if step_mask is not None:
            new = ops.where(ops.reshape(ops.cast(step_mask, "bool"), (-1, 1, 1)), new, memory)
        return new

    def compute_mask(self, memory, *args, **kwargs):
        return getattr(memory, "_keras_mask", None)

    def compute_output_shape(self, memory_shape, *args, **kwargs):
        return memory_shape
