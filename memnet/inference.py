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
        # the most recent sentences a question sees: as many as the model has memory slots, if it says
        self.memory_size = min(int(config["memory_size"]), int(getattr(model, "memory_size", config["memory_size"])))

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

    def stream(self) -> "StreamingSession":
        """A session to tell a story sentence by sentence and ask about it at any point."""
        return StreamingSession(self)

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


class StreamingSession:
    """Tell a model a story one sentence at a time and ask questions at any point.

    >>> session = memnet.load("runs/rw1").stream()
    >>> session.tell("Mary went to the kitchen. John moved to the garden.")
    2
    >>> session.ask("Where is Mary?").answer
    'kitchen'

    With a model that writes an external memory (``readwrite``), the session keeps that memory:
    each sentence is written once, when it is told, so telling a sentence costs the same however
    long the story already is, and an answer equals the answer to the whole story asked at once
    (the memory is not limited to the ``memory_size`` most recent sentences). Attention covers
    every sentence told. Other models (``memn2n``) have no memory to keep: the session stores the
    sentences and reads the most recent ``memory_size`` of them again at every question.
    """

    def __init__(self, answerer: QuestionAnswerer):
        self.answerer = answerer
        self.model = answerer.model
        self.sentences: list[tuple[str, ...]] = []
        self.incremental = all(callable(getattr(self.model, name, None)) for name in ("initial_memory", "write_story", "answer"))
        self.reset()

    def reset(self) -> None:
        """Forget the story."""
        self.sentences = []
        self._write_weights: list[np.ndarray] = []  # per sentence told, the write weight of each slot
        self.memory = self.model.initial_memory(1) if self.incremental else None

    def __len__(self) -> int:
        return len(self.sentences)

    def tell(self, text) -> int:
        """Add one or more sentences (text, one sentence per line or per full stop, or a list); returns how many.

        Raises:
            UnknownWordError: a word the model has never seen (then nothing is added).
            BabiFormatError: no sentence in ``text``.
        """
        sentences = parse_story_text(text if isinstance(text, str) else "\n".join(text))
        vocab = self.answerer.vocab
        vocab.encode((w for sentence in sentences for w in sentence), strict=True)  # lists every unknown word
        encoded = [vocab.encode(sentence, strict=True) for sentence in sentences]
        for sentence, ids in zip(sentences, encoded):
            if self.incremental:
                self.memory, weights = self._write_one(ids)
                self._write_weights.append(np.asarray(weights)[0, 0])
            self.sentences.append(sentence)
        return len(sentences)

    def _compiled(self):
        """The model's write and answer steps as TensorFlow functions, shared by the answerer's sessions."""
        import tensorflow as tf

        compiled = getattr(self.answerer, "_streaming_functions", None)
        if compiled is None:
            model = self.model
            compiled = (
                tf.function(lambda story, memory: model.write_story(story, memory=memory), reduce_retracing=True),
                tf.function(lambda memory, question: model.answer(memory, question), reduce_retracing=True),
            )
            self.answerer._streaming_functions = compiled
        return compiled

    def _padded(self, ids, shape):
        # a fixed length, so that the compiled steps are traced once for most sentences
        length = max(len(ids), int(self.answerer.config.get("sentence_size", 0)), 1)
        array = np.zeros(shape + (length,), np.int32)
        array.reshape(-1, length)[0, : len(ids)] = ids
        return array

    def _write_one(self, ids):
        return self._compiled()[0](self._padded(ids, (1, 1)), self.memory)

    def ask(self, question: str, top_k: int = 5) -> Answer:
        """Answer ``question`` about the sentences told so far (at least one)."""
        if not self.sentences:
            raise BabiFormatError("<story>", None, "the story is empty: tell at least one sentence first")
        question_tokens = tuple(tokenize(question))
        if not question_tokens:
            raise BabiFormatError("<question>", None, "the question is empty")
        if not self.incremental:
            example = QAExample(story=tuple(self.sentences), question=question_tokens, answer="")
            return self.answerer.answer_examples([example], top_k=top_k)[0]
        from memnet.models.readwrite import sentence_attention

        ids = self.answerer.vocab.encode(question_tokens, strict=True)
        logits, read_weights = self._compiled()[1](self.memory, self._padded(ids, (1,)))
        write_weights = np.stack(self._write_weights)[None]  # [1, sentences, slots]
        model = self.answerer.model
        maps = sentence_attention(write_weights, read_weights, push=model.push, write=model.write)
        attention = np.asarray(maps, np.float64)[0]
        probabilities = _softmax(np.asarray(logits, dtype=np.float64))[0]
        probabilities[0] = 0.0  # the padding word is never an answer
        order = np.argsort(-probabilities)[:top_k]
        ranked = [(self.answerer.vocab.words[j], float(probabilities[j])) for j in order]
        return Answer(
            answer=ranked[0][0],
            probability=ranked[0][1],
            alternatives=ranked[1:],
            attention=attention.round(6).tolist(),
            sentences=[" ".join(s) for s in self.sentences],
        )


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def load(run_dir) -> QuestionAnswerer:
    """Load a trained run folder; see :class:`QuestionAnswerer`."""
    return QuestionAnswerer.load(run_dir)
