"""MemoryCell: a recurrent cell whose state is an external memory, written one input at a time."""

import keras
from keras import ops

from memnet.layers.content_addressing import ContentAddressing
from memnet.layers.memory_read import MemoryRead
from memnet.layers.memory_write import MemoryWrite

ERASE_MODES = ("full", "learned", "none")
OUTPUT_MODES = ("write_weights", "read")


@keras.saving.register_keras_serializable(package="memnet")
class MemoryCell(keras.layers.Layer):
    """An RNN cell with an external memory of ``slots x width`` that writes each input into it.

    At every step the input ``s`` (e.g. an encoded sentence) is written at the slots it addresses
    (a dynamic memory in the style of EntNet, Henaff et al. 2017):

    * address: ``w = ContentAddressing(s, M + K)`` where ``K`` holds a learned key per slot
      (``slot_keys=True``): a slot is written when the input matches its content or its key;
      ``addressing="sigmoid"`` gives each slot its own gate, ``"softmax"`` one distribution;
    * candidate per slot: ``a_i = activation(M_i U + K_i V + s W + b)``;
    * write (:class:`MemoryWrite`): ``M <- M * (1 - w e^T) + w a^T`` with ``e = 1``
      (``erase="full"``: ``M_i <- (1 - w_i) M_i + w_i a_i``, every slot a gated interpolation),
      ``e = sigmoid(s E + c)`` (``"learned"``) or no erase (``"none"``, EntNet's additive write;
      pair it with ``normalize=True``, which rescales each slot to unit norm after the write).

    The state is the memory, flattened to ``[batch, slots * width]`` (what ``keras.layers.RNN``
    expects; :meth:`unflatten` reshapes it). The initial memory is zero. Under
    ``keras.layers.RNN`` masked (padding) steps leave the memory unchanged; called directly, the
    cell does the same for examples whose ``step_mask`` is False.

    What the cell outputs at each step (``output_mode``):

    * ``"write_weights"``: the write address ``w``, ``[batch, slots]``;
    * ``"read"``: a read of the new memory addressed by the input (softmax over dot products),
      ``[batch, width]``: the cell both writes and reads at every step.

    With ``push=True`` each step first shifts the memory down by one slot (the last slot falls
    off) and writes the input in full into the freed first slot (``w_0 = 1``; its old content is
    zero), while the content-addressed gates update the other filled slots: the memory holds the latest
    ``slots`` inputs in order, newest first, as MemN2N's memory does, and can still revise them
    (the slot keys then say how recent a slot is, like MemN2N's temporal encoding).

    With ``erase="full"`` a slot keeps the fraction ``1 - w_i`` of its old content at each write,
    so the write weights of all steps say exactly how much of the final memory each input wrote
    (``ReadWriteMemory`` turns that into per-sentence attention).

    Args:
        slots: number of memory slots.
        width: size of each slot. The input size may differ (a ``[input, width]`` matrix maps it).
        addressing: ``"sigmoid"`` (default, gated writes) or ``"softmax"``.
        similarity: ``"dot"`` (default) or ``"cosine"``, for the write address.
        slot_keys: learn a key per slot, added to the memory when addressing (default True).
        erase: ``"full"`` (default), ``"learned"`` or ``"none"``.
        normalize: rescale each slot to unit norm after every write.
        activation: of the candidate content (default ``"tanh"``).
        output_mode: ``"write_weights"`` (default) or ``"read"``.
        push: write every input into a new first slot, shifting the others down (see above).
        kernel_initializer: of the matrices (default N(0, 0.1)).

    Example:

    >>> cell = MemoryCell(slots=4, width=8)
    >>> rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    >>> weights, memory = rnn(np.random.rand(2, 5, 8).astype("float32"))
    >>> tuple(weights.shape), tuple(cell.unflatten(memory).shape)   # write weights per step, final memory
    ((2, 5, 4), (2, 4, 8))
    """

    def __init__(
        self,
        slots,
        width,
        addressing="sigmoid",
        similarity="dot",
        slot_keys=True,
        erase="full",
        normalize=False,
        activation="tanh",
        output_mode="write_weights",
        push=False,
        kernel_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if erase not in ERASE_MODES:
            raise ValueError(f"erase must be one of {ERASE_MODES}, got {erase!r}")
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"output_mode must be one of {OUTPUT_MODES}, got {output_mode!r}")
        self.slots = int(slots)
        self.width = int(width)
        self.addressing = addressing
        self.similarity = similarity
        self.slot_keys = bool(slot_keys)
        self.erase = erase
        self.normalize = bool(normalize)
        self.activation = keras.activations.get(activation)
        self.output_mode = output_mode
        self.push = bool(push)
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or keras.initializers.RandomNormal(stddev=0.1)
        )
        self.state_size = self.slots * self.width
        self.output_size = self.width if output_mode == "read" else self.slots
        self.address = ContentAddressing(similarity=similarity, normalization=addressing, name="address")
        self.reader = ContentAddressing(similarity="dot", normalization="softmax", name="read_address")
        self.read = MemoryRead(name="read")
        self.write = MemoryWrite(name="write")

    def get_config(self):
        config = super().get_config()
        config.update(
            slots=self.slots,
            width=self.width,
            addressing=self.addressing,
            similarity=self.similarity,
            slot_keys=self.slot_keys,
            erase=self.erase,
            normalize=self.normalize,
            activation=keras.activations.serialize(self.activation),
            output_mode=self.output_mode,
            push=self.push,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config

    def build(self, input_shape):
        input_dim = int(input_shape[-1])

        def matrix(name, shape):
            return self.add_weight(shape=shape, initializer=self.kernel_initializer, name=name)

        self.keys = matrix("keys", (self.slots, self.width)) if self.slot_keys else None
        self.input_key = matrix("input_key", (input_dim, self.width)) if input_dim != self.width else None
        self.memory_kernel = matrix("memory_kernel", (self.width, self.width))  # U
        self.key_kernel = matrix("key_kernel", (self.width, self.width)) if self.slot_keys else None  # V
        self.input_kernel = matrix("input_kernel", (input_dim, self.width))  # W
        self.bias = self.add_weight(shape=(self.width,), initializer="zeros", name="bias")
        if self.erase == "learned":
            self.erase_kernel = matrix("erase_kernel", (input_dim, self.width))
            self.erase_bias = self.add_weight(shape=(self.width,), initializer="zeros", name="erase_bias")
        self.built = True

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.state_size), dtype=self.compute_dtype)]

    def unflatten(self, state):
        """The memory ``[batch, slots, width]`` from a flat state ``[batch, slots * width]``."""
        return ops.reshape(state, (-1, self.slots, self.width))

    def step(self, inputs, memory, step_mask=None):
        """One write on a memory ``[batch, slots, width]``: ``(new_memory, write_weights)``.

        Examples whose ``step_mask`` is False keep their memory and get zero write weights.
        """
        old_memory = memory
        revisable = None
        if self.push:  # make room: every slot moves down one, the first is empty
            memory = ops.concatenate([ops.zeros_like(memory[:, :1]), memory[:, :-1]], axis=1)
            revisable = filled_slots(memory)  # only slots holding an earlier input are revised
        key = inputs if self.input_key is None else ops.matmul(inputs, self.input_key)
        addressed = memory if self.keys is None else memory + self.keys[None]
        weights = self.address(key, addressed, memory_mask=revisable)  # [batch, slots]
        if self.push:  # the input always goes into the first slot, in full
            weights = ops.concatenate([ops.ones_like(weights[:, :1]), weights[:, 1:]], axis=1)
        candidate = ops.matmul(memory, self.memory_kernel) + (ops.matmul(inputs, self.input_kernel) + self.bias)[:, None, :]
        if self.keys is not None:
            candidate = candidate + ops.matmul(self.keys, self.key_kernel)[None]
        candidate = self.activation(candidate)
        if self.erase == "full":
            erase = ops.ones_like(key)
        elif self.erase == "learned":
            erase = ops.sigmoid(ops.matmul(inputs, self.erase_kernel) + self.erase_bias)
        else:
            erase = None
        new = self.write(memory, weights, candidate, erase=erase)
        if self.normalize:
            new = new / ops.sqrt(ops.sum(ops.square(new), axis=-1, keepdims=True) + 1e-6)
        if step_mask is not None:
            step_mask = ops.cast(step_mask, "bool")
            new = ops.where(step_mask[:, None, None], new, old_memory)
            weights = ops.where(step_mask[:, None], weights, ops.zeros_like(weights))
        return new, weights

    def call(self, inputs, states, training=False):
        memory = self.unflatten(states[0])
        new, weights = self.step(inputs, memory)
        if self.output_mode == "write_weights":
            output = weights
        else:
            query = inputs if self.input_key is None else ops.matmul(inputs, self.input_key)
            output = self.read(self.reader(query, new), new)
        return output, [ops.reshape(new, (-1, self.state_size))]


def filled_slots(memory):
    """``[batch, slots]``: True where a slot holds something (a never-written slot is exactly zero)."""
    return ops.any(ops.not_equal(memory, 0), axis=-1)
