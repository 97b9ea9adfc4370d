"""Word <-> id mapping. Id 0 is padding (the "nil word"); answers are words too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from memnet.errors import RunDirError, UnknownWordError

PAD = "<nil>"


class Vocabulary:
    """An ordered word list where id 0 is the padding word.

    Answers are entries of the same vocabulary: the paper ties the answer matrix to the last hop's
    output embedding, so every answer class must be a word. A multi-word answer such as ``"n,w"``
    is one entry.

    Example:

    >>> vocab = Vocabulary.build([["mary", "went"], ["kitchen"]])
    >>> vocab.encode(["mary", "kitchen"])
    [2, 1]
    """

    def __init__(self, words: Iterable[str]):
        words = list(words)
        if not words or words[0] != PAD:
            words = [PAD] + [w for w in words if w != PAD]
        self.words = words
        self.index = {word: i for i, word in enumerate(words)}
        if len(self.index) != len(words):
            raise ValueError("vocabulary words must be unique")

    @classmethod
    def build(cls, token_lists: Iterable[Iterable[str]]) -> "Vocabulary":
        """A vocabulary of every token seen, sorted so that it does not depend on input order."""
        seen = set()
        for tokens in token_lists:
            seen.update(tokens)
        seen.discard(PAD)
        return cls([PAD] + sorted(seen))

    @classmethod
    def from_examples(cls, examples) -> "Vocabulary":
        """The vocabulary of a list of :class:`~memnet.data.babi.QAExample` (stories, questions, answers)."""

        def token_lists():
            for example in examples:
                yield from example.story
                yield example.question
                yield (example.answer,)

        return cls.build(token_lists())

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.words == other.words

    def encode(self, tokens: Iterable[str], strict: bool = True) -> list[int]:
        """Ids of ``tokens``. Unknown words raise :class:`UnknownWordError`, or are dropped if not strict."""
        tokens = list(tokens)
        if strict:
            unknown = [t for t in tokens if t not in self.index]
            if unknown:
                raise UnknownWordError(unknown)
        return [self.index[t] for t in tokens if t in self.index]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.words[i] for i in ids if i != 0]

    def save(self, path) -> None:
        from memnet.io import write_json_atomic

        write_json_atomic(path, {"words": self.words})

    @classmethod
    def load(cls, path) -> "Vocabulary":
        path = Path(path)
        try:
            words = json.loads(path.read_text(encoding="utf-8"))["words"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise RunDirError(f"{path}: not a memnet vocabulary file ({error})") from None
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise RunDirError(f"{path}: not a memnet vocabulary file (words must be a list of strings)")
        return cls(words)
