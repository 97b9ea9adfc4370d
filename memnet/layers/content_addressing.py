"""ContentAddressing: attention weights over the slots of a memory, from a key (NTM/DNC/EntNet)."""

import math

import keras
from keras import ops

from memnet.layers.memory_hop import masked_softmax

SIMILARITIES = ("cosine", "dot")
NORMALIZATIONS = ("softmax", "sigmoid")


@keras.saving.register_keras_serializable(package="memnet")
class ContentAddressing(keras.layers.Layer):
    """Addresses memory by content: ``w_i = normalize(beta * K(k, M_i))``.

    ``K`` is cosine similarity (the Neural Turing Machine's choice: only the direction of a slot
    counts) or the dot product. The strength ``beta`` sharpens (``beta > 1``) or flattens the
    weights; it is given per example at call time (an NTM controller emits one per step), or
    learned as one positive scalar (``learn_strength=True``), or 1.

    ``normalization="softmax"`` makes the weights a distribution over slots (read/write heads of
    an NTM); ``"sigmoid"`` gives every slot its own independent gate in ``(0, 1)`` (the gated
    writes of EntNet, Henaff et al. 2017). Masked slots always get weight exactly 0.

    Args:
        similarity: ``"cosine"`` (default) or ``"dot"``.
        normalization: ``"softmax"`` (default) or ``"sigmoid"``.
        learn_strength: learn ``beta`` (one scalar, kept positive by a softplus).
        initial_strength: ``beta`` before training (or always, if not learned and not given).
        epsilon: keeps the cosine finite for all-zero keys or slots.

    Call arguments:
        key: ``[batch, width]``, or ``[batch, heads, width]`` for several keys at once.
        memory: ``[batch, slots, width]``.
        strength: optional ``beta`` per example, ``[batch]`` or ``[batch, 1]`` (``[batch, heads]``
            with several keys); overrides the learned or initial strength.
        memory_mask: optional boolean ``[batch, slots]``, True at usable slots. Defaults to the
            Keras mask carried by ``memory``, if any.

    Returns:
        The weights, ``[batch, slots]`` (or ``[batch, heads, slots]``).

    Example:

    >>> address = ContentAddressing(similarity="cosine", initial_strength=10.0)
    >>> memory = np.eye(4, dtype="float32")[None]           # 4 slots, each a unit vector
    >>> weights = address(np.array([[0.0, 1.0, 0.0, 0.0]]), memory)
    >>> int(np.argmax(weights[0]))
    1
    """

    def __init__(
        self,
        similarity="cosine",
        normalization="softmax",
        learn_strength=False,
        initial_strength=1.0,
        epsilon=1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
        if initial_strength <= 0:
            raise ValueError(f"initial_strength must be positive, got {initial_strength}")
        self.similarity = similarity
        self.normalization = normalization
        self.learn_strength = bool(learn_strength)
        self.initial_strength = float(initial_strength)
        self.epsilon = float(epsilon)
        self.supports_masking = True
        if not self.learn_strength:
            self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(
            similarity=self.similarity,
            normalization=self.normalization,
            learn_strength=self.learn_strength,
            initial_strength=self.initial_strength,
            epsilon=self.epsilon,
        )
        return config

    def build(self, key_shape=None, memory_shape=None, strength_shape=None, memory_mask_shape=None):
        if self.learn_strength:
            raw = math.log(math.expm1(self.initial_strength))  # softplus(raw) = initial_strength
            self.raw_strength = self.add_weight(
                shape=(), initializer=keras.initializers.Constant(raw), name="raw_strength"
            )
        self.built = True

    def call(self, key, memory, strength=None, memory_mask=None):
        mask = getattr(memory, "_keras_mask", None) if memory_mask is None else memory_mask
        several = len(key.shape) == 3
        scores = ops.einsum("bhw,bsw->bhs" if several else "bw,bsw->bs", key, memory)
        if self.similarity == "cosine":
            key_norm = ops.sqrt(ops.sum(ops.square(key), axis=-1) + self.epsilon)  # [b(, h)]
            slot_norm = ops.sqrt(ops.sum(ops.square(memory), axis=-1) + self.epsilon)  # [b, s]
            if several:
                scores = scores / (key_norm[:, :, None] * slot_norm[:, None, :])
            else:
                scores = scores / (key_norm[:, None] * slot_norm)
        scores = scores * self._strength(strength, scores)
        if mask is not None:
            mask = ops.cast(mask, "bool")
            mask = mask[:, None, :] if several else mask
            mask = ops.broadcast_to(mask, ops.shape(scores))
        if self.normalization == "softmax":
            return ops.softmax(scores, axis=-1) if mask is None else masked_softmax(scores, mask)
        weights = ops.sigmoid(scores)
        return weights if mask is None else ops.where(mask, weights, ops.zeros_like(weights))

    def _strength(self, strength, scores):
        if strength is not None:
            strength = ops.cast(strength, scores.dtype)
            while len(strength.shape) < len(scores.shape):
                strength = ops.expand_dims(strength, -1)
            return strength
        if self.learn_strength:
            return ops.cast(ops.softplus(self.raw_strength), scores.dtype)
        return ops.cast(self.initial_strength, scores.dtype)

    def compute_mask(self, key, memory, strength=None, memory_mask=None):
        return None

    def compute_output_shape(self, key_shape, memory_shape=None, strength_shape=None, memory_mask_shape=None):
        return tuple(key_shape[:-1]) + (memory_shape[1],)
