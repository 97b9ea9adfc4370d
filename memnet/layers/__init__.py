"""Reusable, serializable memory layers. Import them into any Keras model."""

from memnet.layers.memory_hop import MemoryHop, masked_softmax
from memnet.layers.position_encoding import position_encoding
from memnet.layers.sentence_encoder import SentenceEncoder
from memnet.layers.temporal_encoding import MemoryAge, TemporalEncoding

__all__ = [
    "MemoryAge",
    "MemoryHop",
    "SentenceEncoder",
    "TemporalEncoding",
    "masked_softmax",
    "position_encoding",
]
