"""memnet models: complete question-answering networks built from :mod:`memnet.layers`."""

from memnet.models.memn2n import MemN2N
from memnet.models.readwrite import ReadWriteMemory

MODELS = {"memn2n": MemN2N, "readwrite": ReadWriteMemory}

__all__ = ["MODELS", "MemN2N", "ReadWriteMemory"]
