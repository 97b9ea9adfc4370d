"""memnet models: complete question-answering networks built from :mod:`memnet.layers`."""

from memnet.models.memn2n import MemN2N
from memnet.models.readwrite import ReadWriteMemory
from memnet.models.transformer import TransformerMemory

MODELS = {"memn2n": MemN2N, "readwrite": ReadWriteMemory, "transformer": TransformerMemory}

__all__ = ["MODELS", "MemN2N", "ReadWriteMemory", "TransformerMemory"]
