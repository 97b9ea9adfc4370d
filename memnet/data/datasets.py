"""From bAbI files to arrays: task splits, validation, vectorization with a fixed-size memory."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np

from memnet.data.babi import QAExample, parse_babi
from memnet.data.sources import find_task_file
from memnet.data.vocabulary import Vocabulary
from memnet.errors import DataNotFoundError

DEFAULT_MEMORY_SIZE = 50


@dataclasses.dataclass
class TaskSplits:
    """Train, validation and test examples of one or more tasks."""

    train: list[QAExample]
    valid: list[QAExample]
    test: list[QAExample]
    valid_source: str  # "official" (an en-valid file) or "split" (seeded 10% of train)

    def __add__(self, other: "TaskSplits") -> "TaskSplits":
        source = self.valid_source if self.valid_source == other.valid_source else "mixed"
        return TaskSplits(self.train + other.train, self.valid + other.valid, self.test + other.test, source)


def split_by_story(examples: Sequence[QAExample], fraction: float, seed: int):
    """Split examples into (train, valid) with about ``fraction`` of the *stories* in valid.

    Splitting by story keeps the questions of one story on one side, as the official en-valid split does.
    """
    story_ids = sorted({e.story_id for e in examples})
    rng = np.random.default_rng(seed)
    n_valid = max(1, round(fraction * len(story_ids))) if len(story_ids) > 1 else 0
    valid_ids = set(rng.choice(story_ids, size=n_valid, replace=False).tolist()) if n_valid else set()
    train = [e for e in examples if e.story_id not in valid_ids]
    valid = [e for e in examples if e.story_id in valid_ids]
    return train, valid


def load_task(data_dir, task: int, *, valid_fraction: float = 0.1, seed: int = 0) -> TaskSplits:
    """Load one task's train/valid/test examples from a bAbI folder.

    The validation set is the folder's ``qaN_valid.txt`` where there is one (the official en-valid
    split), else a seeded ``valid_fraction`` of the training stories.
    """
    data_dir = Path(data_dir)
    paths = {split: find_task_file(data_dir, task, split) for split in ("train", "valid", "test")}
    for split in ("train", "test"):
        if paths[split] is None:
            raise DataNotFoundError(f"{data_dir}: no {split} file for task {task} (qa{task}_*_{split}.txt)")
    train = parse_babi(paths["train"], task=task)
    test = parse_babi(paths["test"], task=task)
    if paths["valid"] is not None:
        return TaskSplits(train, parse_babi(paths["valid"], task=task), test, "official")
    train, valid = split_by_story(train, valid_fraction, seed)
    return TaskSplits(train, valid, test, "split")


def load_tasks(data_dir, tasks: Sequence[int], **kwargs) -> TaskSplits:
    """Load several tasks as one joint set (their examples concatenated, each keeping its task number)."""
    splits = [load_task(data_dir, task, **kwargs) for task in tasks]
    joint = splits[0]
    for more in splits[1:]:
        joint = joint + more
    return joint


@dataclasses.dataclass
class EncodedExamples:
    """Examples as arrays, ready for a model.

    Attributes:
        story: int32 ``[N, slots, sentence_size]``; the most recent ``memory_size`` sentences,
            oldest first, left-aligned, padded with 0 (``slots <= memory_size``).
        question: int32 ``[N, sentence_size]``.
        answer: int32 ``[N]``, the answer's word id (0 if the vocabulary lacks it).
        supporting: bool ``[N, slots]``, True at the slots of the supporting facts.
        task: int32 ``[N]``, the task number (0 if unknown).
    """

    story: np.ndarray
    question: np.ndarray
    answer: np.ndarray
    supporting: np.ndarray
    task: np.ndarray

    def __len__(self) -> int:
        return len(self.answer)

    @property
    def inputs(self) -> dict[str, np.ndarray]:
        return {"story": self.story, "question": self.question}

    def select(self, index) -> "EncodedExamples":
        return EncodedExamples(*(getattr(self, f.name)[index] for f in dataclasses.fields(self)))


def sentence_size_of(examples: Sequence[QAExample], memory_size: int = DEFAULT_MEMORY_SIZE) -> int:
    """The longest sentence or question that vectorization will see (at least 1)."""
    longest = 1
    for example in examples:
        longest = max(longest, len(example.question), *(len(s) for s in example.story[-memory_size:]))
    return longest


def memory_slots_of(examples: Sequence[QAExample], memory_size: int = DEFAULT_MEMORY_SIZE) -> int:
    """Slots needed: ``min(memory_size, longest story)``, as in the authors' code.

    Most bAbI tasks have stories far shorter than 50 sentences; not padding them to 50 makes
    training several times faster and changes nothing else (empty slots are masked).
    """
    return max(1, min(memory_size, max((len(e.story) for e in examples), default=1)))


def vectorize(
    examples: Sequence[QAExample],
    vocab: Vocabulary,
    *,
    memory_size: int = DEFAULT_MEMORY_SIZE,
    sentence_size: int | None = None,
    memory_slots: int | None = None,
    strict: bool = False,
) -> EncodedExamples:
    """Turn examples into padded id arrays with the ``memory_size`` most recent sentences.

    Args:
        examples: parsed examples.
        vocab: the word ids; unknown words are dropped (``strict=False``) or raise (``strict=True``).
        memory_size: how many of the most recent sentences the memory holds.
        sentence_size: words per sentence; defaults to the longest in ``examples``. Longer sentences
            are cut to their first ``sentence_size`` words.
        memory_slots: slots in the arrays (at most ``memory_size``); defaults to
            :func:`memory_slots_of` the examples.
    """
    if sentence_size is None:
        sentence_size = sentence_size_of(examples, memory_size)
    if memory_slots is None:
        memory_slots = memory_slots_of(examples, memory_size)
    memory_size = min(memory_size, memory_slots)
    n = len(examples)
    story = np.zeros((n, memory_size, sentence_size), np.int32)
    question = np.zeros((n, sentence_size), np.int32)
    answer = np.zeros((n,), np.int32)
    supporting = np.zeros((n, memory_size), bool)
    task = np.zeros((n,), np.int32)
    encoded_sentences: dict[tuple[str, ...], list[int]] = {}

    def encode(tokens):
        ids = encoded_sentences.get(tokens)
        if ids is None:
            ids = encoded_sentences[tokens] = vocab.encode(tokens, strict=strict)[:sentence_size]
        return ids

    for i, example in enumerate(examples):
        offset = max(0, len(example.story) - memory_size)
        for slot, sentence in enumerate(example.story[offset:]):
            ids = encode(sentence)
            story[i, slot, : len(ids)] = ids
        ids = encode(example.question)
        question[i, : len(ids)] = ids
        answer[i] = vocab.index.get(example.answer, 0)
        for fact in example.supporting:
            if fact >= offset:
                supporting[i, fact - offset] = True
        task[i] = example.task or 0
    return EncodedExamples(story, question, answer, supporting, task)
