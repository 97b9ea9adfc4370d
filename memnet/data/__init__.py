"""bAbI data: parsing, finding, vectorizing."""

from memnet.data.babi import QAExample, parse_babi, parse_story_text, tokenize
from memnet.data.datasets import (
    DEFAULT_MEMORY_SIZE,
    EncodedExamples,
    TaskSplits,
    load_task,
    load_tasks,
    memory_slots_of,
    sentence_size_of,
    split_by_story,
    vectorize,
)
from memnet.data.sources import download_babi, find_data_dir, find_task_file
from memnet.data.vocabulary import Vocabulary

__all__ = [
    "DEFAULT_MEMORY_SIZE",
    "EncodedExamples",
    "QAExample",
    "TaskSplits",
    "Vocabulary",
    "download_babi",
    "find_data_dir",
    "find_task_file",
    "load_task",
    "load_tasks",
    "memory_slots_of",
    "parse_babi",
    "parse_story_text",
    "sentence_size_of",
    "split_by_story",
    "tokenize",
    "vectorize",
]
