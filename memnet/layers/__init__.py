"""Reusable, serializable memory layers. Import them into any Keras model."""

from memnet.layers.content_addressing import ContentAddressing
from memnet.layers.memory_cell import MemoryCell
from memnet.layers.memory_hop import MemoryHop, masked_softmax
from memnet.layers.memory_read import MemoryRead
from memnet.layers.memory_transformer import MemoryTransformer
from memnet.layers.memory_write import MemoryWrite
from memnet.layers.position_encoding import position_encoding
from memnet.layers.positional_mask_encoder import PositionalMaskEncoder
from memnet.layers.sentence_encoder import SentenceEncoder
from memnet.layers.sentence_transformer import SentenceTransformer
from memnet.layers.temporal_encoding import MemoryAge, TemporalEncoding
from memnet.layers.transformer_block import TransformerBlock

__all__ = [
    "ContentAddressing",
    "MemoryAge",
    "MemoryCell",
    "MemoryHop",
    "MemoryRead",
    "MemoryTransformer",
    "MemoryWrite",
    "PositionalMaskEncoder",
    "SentenceEncoder",
    "SentenceTransformer",
    "TemporalEncoding",
    "TransformerBlock",
    "masked_softmax",
    "position_encoding",
]
