"""MemoryTransformer: a transformer encoder over memory slots, with temporal position, optional
Universal-Transformer weight sharing and adaptive computation time (ACT)."""

import keras
from keras import ops

from memnet.layers.temporal_encoding import MemoryAge, TemporalEncoding
from memnet.layers.transformer_block import TransformerBlock


@keras.saving.register_keras_serializable(package="memnet")
class MemoryTransformer(keras.layers.Layer):
    """Contextualizes a memory of sentence vectors: each slot attends over all the others.

    Temporal position first: each slot gets a learned vector for its *age* (0 = most recent
    sentence, as in MemN2N's temporal encoding; optionally with the paper's random noise during
    training), so that "the latest sentence about Mary" is expressible whatever the story length.
    Then ``num_layers`` pre-norm :class:`TransformerBlock` s of self-attention over the slots, and a
    final layer normalization. Empty slots (padding) never receive attention. ``num_layers=0``
    keeps only the temporal vectors and the normalization: each slot stays its own sentence.

    With ``shared=True`` the same block is applied ``num_layers`` times (the Universal Transformer
    of Dehghani et al. 2018), with a learned per-step vector added before each step. With
    ``halting=True`` (which implies sharing) each slot decides when to stop with adaptive
    computation time: a sigmoid unit gives a halting probability per step, a slot halts once the
    sum passes ``1 - halting_epsilon`` (at the last step at the latest) and its output is the
    halting-weighted mean of its states. During training a ponder cost
    ``ponder_cost * mean(steps + remainder)`` over the real slots is added with ``add_loss``.

    Args:
        num_layers: blocks (or steps of the shared block; the maximum number of steps with ACT);
            0: no self-attention (not with ``shared`` or ``halting``).
        num_heads: attention heads.
        ffn_dim: feed-forward hidden size (default 4 x the memory dimension).
        dropout: dropout rate inside the blocks.
        max_age: ages with their own temporal vector (the memory size); 0 disables temporal encoding.
        time_noise: random noise on the ages during training (MemN2N's RN; 0 disables it).
        shared: one block applied ``num_layers`` times (Universal Transformer).
        halting: adaptive computation time over the shared steps.
        halting_epsilon: a slot halts when its cumulated halting probability exceeds ``1 - halting_epsilon``.
        ponder_cost: weight of the ponder cost (ACT's time penalty).
        seed: seed of the dropout and the time noise.
        rezero: every block starts as the identity, its residual branches scaled by learned
            scalars initialized to 0 (see :class:`TransformerBlock`), so the slots start unmixed.

    Call arguments:
        memories: ``[batch, slots, dim]``, left-aligned (oldest first, padding last).
        mask: boolean ``[batch, slots]``, True at real slots (defaults to the Keras mask of ``memories``).
        training: dropout, time noise and the ponder cost are active.
        return_attention: also return one attention map per step, ``[batch, steps, slots]``: the
            attention each slot *receives*, averaged over heads and over the real querying slots
            (the query slots included as askers, left out as receivers).
        query: optional ``[batch, queries, dim]`` appended after the memory for the self-attention
            (the Universal Transformer's bAbI setup, where the question is one more slot, so the
            memory is contextualized knowing the question). No temporal vector is added to it.
            The call then returns ``memories, query`` (and the attention, if asked).
        bypass_blocks: optional boolean (a tensor is allowed): where True the blocks are left out
            and the output is the temporal encoding and final normalization alone, as with
            ``num_layers=0`` (a model's linear-start phase, see :class:`memnet.models.TransformerMemory`).

    Example:

    >>> encoder = MemoryTransformer(num_layers=2, num_heads=2, max_age=10)
    >>> memory, attention = encoder(np.ones((3, 10, 8)), return_attention=True)
    >>> memory.shape, attention.shape
    ((3, 10, 8), (3, 2, 10))
    """

    def __init__(
        self,
        num_layers=2,
        num_heads=4,
        ffn_dim=None,
        dropout=0.0,
        max_age=50,
        time_noise=0.0,
        shared=False,
        halting=False,
        halting_epsilon=0.01,
        ponder_cost=0.001,
        seed=None,
        rezero=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if num_layers < 0 or (num_layers == 0 and (shared or halting)):
            raise ValueError(f"num_layers must be at least 1 (0 without shared or halting), got {num_layers}")
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.ffn_dim = None if ffn_dim is None else int(ffn_dim)
        self.dropout = float(dropout)
        self.max_age = int(max_age)
        self.time_noise = float(time_noise)
        self.halting = bool(halting)
        self.shared = bool(shared) or self.halting
        self.halting_epsilon = float(halting_epsilon)
        self.ponder_cost = float(ponder_cost)
        self.seed = seed
        self.rezero = bool(rezero)
        self.supports_masking = True

        def block(k):
            return TransformerBlock(
                num_heads, ffn_dim=ffn_dim, dropout=dropout, seed=None if seed is None else seed + 10 * k,
                rezero=rezero, name=f"block_{k}", dtype=self.dtype_policy,
            )

        # shared: one block applied at every step; else one block per layer
        self.blocks = [block(0)] if self.shared else [block(k) for k in range(self.num_layers)]
        if self.max_age > 0:
            self.memory_age = MemoryAge(self.max_age, noise=time_noise, seed=seed, name="memory_age")
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm", dtype=self.dtype_policy)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_layers=self.num_layers,
            num_heads=self.num_heads,
            ffn_dim=self.ffn_dim,
            dropout=self.dropout,
            max_age=self.max_age,
            time_noise=self.time_noise,
            shared=self.shared,
            halting=self.halting,
            halting_epsilon=self.halting_epsilon,
            ponder_cost=self.ponder_cost,
            seed=self.seed,
            rezero=self.rezero,
        )
        return config

    def build(self, memories_shape):
        dim = int(memories_shape[-1])
        if self.max_age > 0:
            self.temporal = TemporalEncoding(self.max_age, dim, name="temporal", dtype=self.dtype_policy)
            self.temporal.build()
        for block in self.blocks:
            block.build((None, None, dim))
        if self.shared:
            self.step_embeddings = self.add_weight(
                shape=(self.num_layers, dim), initializer=keras.initializers.RandomNormal(stddev=0.1), name="step_embeddings"
            )
        if self.halting:
            self.halting_unit = keras.layers.Dense(
                1, activation="sigmoid", bias_initializer=keras.initializers.Constant(1.0), name="halting", dtype="float32"
            )
            self.halting_unit.build((None, None, dim))
        self.final_norm.build((None, None, dim))
        self.built = True

    def call(self, memories, mask=None, training=None, return_attention=False, query=None, bypass_blocks=None):
        if mask is None:
            mask = getattr(memories, "_keras_mask", None)
        if mask is None:
            mask = ops.ones(ops.shape(memories)[:2], dtype="bool")
        mask = ops.cast(mask, "bool")
        x = memories
        if self.max_age > 0:
            x = self.temporal(x, self.memory_age(mask, training=training))
        slots = ops.shape(memories)[1]
        if query is not None:  # extra slots after the memory: they attend and are attended to, with no age
            x = ops.concatenate([x, ops.cast(query, x.dtype)], axis=1)
            mask = ops.concatenate([mask, ops.ones(ops.shape(query)[:2], dtype="bool")], axis=1)
        unmixed = x
        maps = []
        if self.halting:
            x = self._adaptive_steps(x, mask, training, maps)
        else:
            for step in range(self.num_layers):
                if self.shared:
                    x = x + ops.cast(self.step_embeddings[step], x.dtype)
                block = self.blocks[0 if self.shared else step]
                x, scores = block(x, mask=mask, training=training, return_attention=True)
                maps.append(self._received_attention(scores, mask))
        if bypass_blocks is not None:
            x = ops.where(bypass_blocks, unmixed, x)
        x = self.final_norm(x)
        outputs = (x,) if query is None else (x[:, :slots], x[:, slots:])
        if not return_attention:
            return outputs[0] if query is None else outputs
        if maps:
            attention = ops.stack(maps, axis=1)[:, :, :slots]
        else:  # num_layers=0
            attention = ops.zeros((ops.shape(x)[0], 0, slots), "float32")
        return (*outputs, attention)

    def _adaptive_steps(self, state, mask, training, maps):
        """ACT (Graves 2016) as in the Universal Transformer, with every slot forced to halt at the last step."""
        shape = ops.shape(state)[:2]
        halting_probability = ops.zeros(shape, "float32")
        remainders = ops.zeros(shape, "float32")
        updates = ops.zeros(shape, "float32")
        output = ops.zeros_like(state)
        threshold = 1.0 - self.halting_epsilon
        block = self.blocks[0]
        for step in range(self.num_layers):
            state = state + ops.cast(self.step_embeddings[step], state.dtype)
            p = self.halting_unit(ops.cast(state, "float32"))[..., 0]
            running = ops.cast(halting_probability < 1.0, "float32")
            if step == self.num_layers - 1:
                new_halted = running
            else:
                new_halted = ops.cast(halting_probability + p * running > threshold, "float32") * running
            running = running - new_halted
            halting_probability = halting_probability + p * running
            remainders = remainders + new_halted * (1.0 - halting_probability)
            halting_probability = halting_probability + new_halted * remainders
            updates = updates + running + new_halted
            weight = ops.cast((p * running + new_halted * remainders)[..., None], state.dtype)
            state, scores = block(state, mask=mask, training=training, return_attention=True)
            output = state * weight + output * (1.0 - weight)
            maps.append(self._received_attention(scores, mask))
        if training and self.ponder_cost > 0:
            real = ops.cast(mask, "float32")
            ponder = ops.sum((updates + remainders) * real) / ops.maximum(ops.sum(real), 1.0)
            self.add_loss(self.ponder_cost * ponder)
        return output

    @staticmethod
    def _received_attention(scores, mask):
        """``[B, heads, S, S]`` -> ``[B, S]``: attention each slot receives, averaged over heads and real queries."""
        weights = ops.mean(ops.cast(scores, "float32"), axis=1)  # [B, S(query), S(key)]
        real = ops.cast(mask, "float32")
        received = ops.sum(weights * real[:, :, None], axis=1) / ops.maximum(ops.sum(real, axis=1, keepdims=True), 1.0)
        return received * real

    def compute_mask(self, memories, mask=None, training=None, return_attention=False, query=None):
        if return_attention or query is not None:
            return None
        return mask if mask is not None else getattr(memories, "_keras_mask", None)

    def compute_output_shape(self, memories_shape):
        return tuple(memories_shape)
