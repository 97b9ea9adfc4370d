"""Position encoding of the words of a sentence (Sukhbaatar et al. 2015, section 4.1)."""

from keras import ops


def position_encoding(word_mask, dim: int, dtype="float32"):
    """Weights ``l_kj = (1 - j/J) - (k/d)(1 - 2j/J)`` for each word position j and dimension k.

    ``J`` is each sentence's own number of words (from ``word_mask``), so the encoding of a
    sentence does not depend on how much padding follows it.

    Args:
        word_mask: boolean ``[..., sentence_size]``, True at real words (padding must come last).
        dim: the embedding size ``d``.

    Returns:
        A tensor ``[..., sentence_size, dim]``; rows at padding positions are meaningless (mask them).
    """
    sentence_size = ops.shape(word_mask)[-1]
    length = ops.maximum(ops.sum(ops.cast(word_mask, dtype), axis=-1, keepdims=True), 1.0)  # J
    j = ops.cast(ops.arange(1, sentence_size + 1), dtype)  # [S]
    k = ops.cast(ops.arange(1, dim + 1), dtype) / dim  # [d]
    j_over_length = (j / length)[..., None]  # [..., S, 1]
    return (1.0 - j_over_length) - k * (1.0 - 2.0 * j_over_length)
