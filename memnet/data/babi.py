"""The bAbI v1.2 file format: parsing stories, questions, answers and supporting facts.

A bAbI file is a sequence of stories. Each line is ``ID text``; IDs restart at 1 where a new story
begins. A question line is ``ID question<TAB>answer<TAB>supporting fact IDs``. Questions are not
facts: the story of a question is the statement lines of its story that come before it.

The parser is language-agnostic: it lower-cases, splits on white space and on Unicode punctuation,
and never looks at the words themselves. Anything that does not follow the format raises
:class:`~memnet.errors.BabiFormatError` naming the file and the line.
"""

from __future__ import annotations

import dataclasses
import os
import re
import unicodedata
from pathlib import Path
from typing import Iterable

from memnet.errors import BabiFormatError

# Characters kept inside a token even though Unicode calls them punctuation ("o'clock", "north-west").
_WORD_INNER_PUNCTUATION = frozenset("'-_")


@dataclasses.dataclass(frozen=True)
class QAExample:
    """One question with the story that precedes it.

    Attributes:
        story: the statement sentences before the question, oldest first, each a tuple of tokens.
        question: the question's tokens.
        answer: the answer as one class label (multi-word answers such as ``"n,w"`` stay whole).
        supporting: indices into ``story`` of the supporting facts (may be empty).
        task: the bAbI task number, when known.
        story_id: index of the story within its file (questions of one story share it).
        source: ``"path:line"`` of the question, for error messages and provenance.
    """

    story: tuple[tuple[str, ...], ...]
    question: tuple[str, ...]
    answer: str
    supporting: tuple[int, ...] = ()
    task: int | None = None
    story_id: int = 0
    source: str = ""


def _is_separator(char: str) -> bool:
    return char.isspace() or (
        unicodedata.category(char).startswith("P") and char not in _WORD_INNER_PUNCTUATION
    )


_ASCII_SEPARATORS = re.compile(
    "[" + re.escape("".join(c for c in map(chr, range(128)) if _is_separator(c))) + "]+"
)


def tokenize(text: str) -> list[str]:
    """Lower-case ``text`` and split it on white space and punctuation (any language).

    >>> tokenize("Where is Mary?")
    ['where', 'is', 'mary']
    """
    text = text.lower()
    if text.isascii():  # fast path for the common case; same result as the general one
        return _ASCII_SEPARATORS.sub(" ", text).split()
    return "".join(" " if _is_separator(c) else c for c in text).split()


def normalize_answer(answer: str) -> str:
    """An answer as a class label: lower-cased, surrounding space removed, kept whole."""
    return answer.strip().lower()


def parse_babi(source, *, task: int | None = None, name: str | None = None) -> list[QAExample]:
    """Parse a bAbI v1.2 file into :class:`QAExample` objects, one per question.

    Args:
        source: a path to a UTF-8 file, or an iterable of lines (``str``).
        task: the task number to record on each example.
        name: how to call the source in error messages (defaults to the path, or ``"<lines>"``).

    Raises:
        BabiFormatError: the file is empty, not UTF-8, or a line breaks the format.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = name or str(path)
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise BabiFormatError(name, None, f"cannot read file: {error.strerror or error}") from None
        lines = _decode_lines(raw, name)
    else:
        name = name or "<lines>"
        lines = list(source)
    return _parse_lines(lines, name=name, task=task)


def _decode_lines(raw: bytes, name: str) -> list[str]:
    lines = []
    if raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark (as some editors write) is not text
        raw = raw[3:]
    for number, raw_line in enumerate(raw.split(b"\n"), start=1):
        try:
            lines.append(raw_line.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise BabiFormatError(
                name, number, f"not valid UTF-8 (byte {raw_line[error.start]:#04x} at column {error.start + 1})"
            ) from None
    return lines


def _as_id(text: str) -> int | None:
    """``text`` as a line id (ASCII digits only: ``str.isdigit`` also accepts ``'²'``, which ``int`` rejects)."""
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None


_LINE_RE = re.compile(r"^\s*(\S+)\s(.*)$", re.DOTALL)


def _parse_lines(lines: Iterable[str], *, name: str, task: int | None) -> list[QAExample]:
    examples: list[QAExample] = []
    story: list[tuple[str, ...]] = []
    statement_index: dict[int, int] = {}  # line id -> index in `story`, for the current story
    previous_id = 0
    story_id = -1

    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        match = _LINE_RE.match(line)
        if match is None:
            raise BabiFormatError(name, number, "expected 'ID text', found only one field")
        id_text, text = match.groups()
        line_id = _as_id(id_text)
        if not line_id:
            raise BabiFormatError(name, number, f"line id {id_text!r} is not a positive integer")
        if line_id == 1:
            story, statement_index, story_id = [], {}, story_id + 1
        elif line_id != previous_id + 1:
            raise BabiFormatError(
                name, number, f"line id {line_id} does not follow {previous_id} (ids count up from 1 in a story)"
            )
        previous_id = line_id

        if "\t" not in text:
            if "?" in text:
                raise BabiFormatError(
                    name, number, "line contains '?' but no TAB-separated answer: a question needs 'question<TAB>answer<TAB>ids'"
                )
            tokens = tuple(tokenize(text))
            if not tokens:
                raise BabiFormatError(name, number, "statement has no words")
            statement_index[line_id] = len(story)
            story.append(tokens)
            continue

        fields = text.split("\t")
        if len(fields) > 3:
            raise BabiFormatError(name, number, f"question line has {len(fields)} TAB-separated fields, expected 2 or 3")
        question = tuple(tokenize(fields[0]))
        answer = normalize_answer(fields[1])
        if not question:
            raise BabiFormatError(name, number, "question has no words")
        if not answer:
            raise BabiFormatError(name, number, "question has an empty answer")
        if not story:
            raise BabiFormatError(name, number, "question before any statement of its story")
        supporting = []
        for support in (fields[2].split() if len(fields) == 3 else []):
            if _as_id(support) not in statement_index:
                raise BabiFormatError(
                    name, number, f"supporting fact id {support!r} is not a statement earlier in this story"
                )
            supporting.append(statement_index[int(support)])
        examples.append(
            QAExample(
                story=tuple(story),
                question=question,
                answer=answer,
                supporting=tuple(supporting),
                task=task,
                story_id=story_id,
                source=f"{name}:{number}",
            )
        )

    if not examples:
        raise BabiFormatError(name, None, "no questions found (an empty file, or not in bAbI format)")
    return examples


def parse_story_text(text: str, *, name: str = "<story>") -> list[tuple[str, ...]]:
    """Tokenize a free-text story for asking questions: one sentence per line or per full stop.

    Lines may carry bAbI ids (``"1 Mary went to the garden."``); question lines are ignored.
    """
    sentences = []
    for line in text.splitlines():
        line = line.split("\t")[0].strip()
        if not line or "?" in line:
            continue
        line = re.sub(r"^\d+\s+", "", line)
        for sentence in re.split(r"(?<=[.!;])\s+", line):
            tokens = tuple(tokenize(sentence))
            if tokens:
                sentences.append(tokens)
    if not sentences:
        raise BabiFormatError(name, None, "the story is empty: give at least one sentence")
    return sentences
