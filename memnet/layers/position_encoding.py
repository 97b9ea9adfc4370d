"""Position encoding of the words of a sentence (Sukhbaatar et al. 2015, section 4.1)."""

from keras import ops


def position_encoding(word_mask, dim: int, dtype="float32"):
    """Weights ``l_kj = 1 + 4 (k - (d+1)/2) (j - (J+1)/2) / (d J)`` for word position j and dimension k.

    This is the form the authors' code uses, and the one that produced the paper's results. The
    paper prints ``(1 - j/J) - (k/d)(1 - 2j/J)``, which has the same shape but about half the
    size (mean 0.5 instead of 1 over k). The size matters with the paper's plain SGD: with the
    printed form, memnet failed task 16 (1k) in every run; with this one it solves it (see the
    README's notes on reproducing the paper).

    ``J`` is each sentence's own number of words (from ``word_mask``), so the encoding of a
    sentence does not depend on how much padding follows it. (The authors' code uses the padded
    width plus one for every sentence; each sentence's own length works as well and does not
    change with the longest sentence of a dataset.)

    Args:
        word_mask: boolean ``[..., sentence_size]``, True at real words (padding must come last).
        dim: the embedding size ``d``.

    Returns:
        A tensor ``[..., sentence_size, dim]``; rows at padding positions are meaningless (mask them).
    """
    sentence_size = ops.shape(word_mask)[-1]
    length = ops.maximum(ops.sum(ops.cast(word_mask, dtype), axis=-1, keepdims=True), 1.0)[..., None]  # J
    j = ops.cast(ops.arange(1, sentence_size + 1), dtype)[:, None]  # [S, 1]
    k = ops.cast(ops.arange(1, dim + 1), dtype)  # [d]
    return 1.0 + 4.0 * (k - (dim + 1) / 2.0) * (j - (length + 1.0) / 2.0) / (dim * length)
