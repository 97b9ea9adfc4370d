"""Using a trained model: ask a question about a story, see the answer and where each hop looked.

>>> qa = memnet.load("runs/qa1")
>>> reply = qa.ask("Mary went to the kitchen. John moved to the garden.", "Where is Mary?")
>>> reply.answer, reply.probability, reply.attention[0]   # attention: per hop, per sentence
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np

from memnet.data import QAExample, Vocabulary, parse_story_text, tokenize, vectorize
from memnet.errors import BabiFormatError


@dataclasses.dataclass
class Answer:
    """A model's answer.

    Attributes:
        answer: the most probable answer.
        probability: its probability.
        alternatives: the next most probable answers with their probabilities.
        attention: one list per hop (or attention map) of one weight per story sentence
            (sentences that did not fit in memory get 0).
        sentences: the story sentences as the model read them (tokens joined by spaces).
    """

    answer: str
    probability: float
    alternatives: list[tuple[str, float]]
    attention: list[list[float]]
    sentences: list[str]

    def to_json(self) -> dict:
        return {
            "answer": self.answer,
            "probability": self.probability,
            "alternatives": [{"answer": a, "probability": p} for a, p in self.alternatives],
            "attention": self.attention,
            "sentences": self.sentences,
        }


class QuestionAnswerer:
    """A trained model with its vocabulary, ready to answer questions about new stories."""

    def __init__(self, model, vocab: Vocabulary, config: dict):
        self.model = model
        self.vocab = vocab
        self.config = config
        self.memory_size = int(config["memory_size"])

    @classmethod
    def load(cls, run_dir) -> "QuestionAnswerer":
        """Load a run folder written by ``memnet train`` (safe mode: no code runs on load)."""
        from memnet.experiment import load_run_model, read_run_config
        from memnet.errors import RunDirError

        config = read_run_config(run_dir)
        vocab = Vocabulary.load(Path(run_dir) / "vocab.json")
        model = load_run_model(run_dir)
        expected = getattr(model, "vocabulary_size", len(vocab))
        if expected != len(vocab):
            raise RunDirError(
                f"{run_dir}: vocab.json has {len(vocab)} words but the model was trained with {expected}"
            )
        return cls(model, vocab, config)

    def ask(self, story, question: str, top_k: int = 5) -> Answer:
        """Answer ``question`` about ``story``.

        Args:
            story: text (one sentence per line or per full stop; bAbI ids are allowed) or a list of
                sentences.
            question: the question text.
            top_k: how many answers to list (the answer and its alternatives).

        Raises:
            UnknownWordError: a word the model has never seen.
            BabiFormatError: an empty story or question.
        """
        sentences = parse_story_text(story if isinstance(story, str) else "\n".join(story))
        question_tokens = tuple(tokenize(question))
        if not question_tokens:
            raise BabiFormatError("<question>", None, "the question is empty")
        example = QAExample(story=tuple(sentences), question=question_tokens, answer="")
        return self.answer_examples([example], top_k=top_k)[0]

    def answer_examples(self, examples: Sequence[QAExample], top_k: int = 5) -> list[Answer]:
        """Answer parsed examples (their answers are ignored); unknown words raise."""
        # one strict pass over every word, so that the error lists all unknown words at once
        self.vocab.encode((w for e in examples for s in (*e.story, e.question) for w in s), strict=True)
        encoded = vectorize(examples, self.vocab, memory_size=self.memory_size, strict=True)
        logits, attention = self.model(encoded.inputs, training=False, return_attention=True)
        attention = np.asarray(attention, dtype=np.float64)  # [batch, maps, slots]
        probabilities = _softmax(np.asarray(logits, dtype=np.float64))
        probabilities[:, 0] = 0.0  # the padding word is never an answer
        answers = []
        for i, example in enumerate(examples):
            order = np.argsort(-probabilities[i])[:top_k]
            ranked = [(self.vocab.words[j], float(probabilities[i, j])) for j in order]
            offset = max(0, len(example.story) - self.memory_size)
            per_sentence = np.zeros((attention.shape[1], len(example.story)))
            per_sentence[:, offset:] = attention[i, :, : len(example.story) - offset]
            answers.append(
                Answer(
                    answer=ranked[0][0],
                    probability=ranked[0][1],
                    alternatives=ranked[1:],
                    attention=per_sentence.round(6).tolist(),
                    sentences=[" ".join(s) for s in example.story],
                )
            )
        return answers


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def load(run_dir) -> QuestionAnswerer:
    """Load a trained run folder; see :class:`QuestionAnswerer`."""
    return QuestionAnswerer.load(run_dir)
