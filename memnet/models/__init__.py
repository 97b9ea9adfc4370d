"""memnet models: complete question-answering networks built from :mod:`memnet.layers`."""

from memnet.models.memn2n import MemN2N

MODELS = {"memn2n": MemN2N}

__all__ = ["MODELS", "MemN2N"]
