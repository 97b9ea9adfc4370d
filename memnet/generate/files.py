"""Generated tasks as bAbI v1.2 files: ``generate_task`` (the lines of one file) and ``write_tasks``.

Output is deterministic: the same task, size and seed give the same bytes on every machine. Each
task and split draws from its own ``random.Random`` seeded from a hash of (seed, task, split), so
adding a task or changing one split's size never changes another file.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from memnet import catalogue
from memnet.data.babi import tokenize
from memnet.errors import MemnetError
from memnet.io import write_text_atomic
from memnet.generate import events as ev
from memnet.generate.checker import check_story
from memnet.generate.lexicon import SentenceWriter
from memnet.generate.stories import STORY_GENERATORS, StoryTooLongError

# A story that runs too long is redrawn; this many redraws in a row means the parameters are wrong.
_MAX_REDRAWS = 1000


def derive_seed(seed: int, *labels) -> int:
    """A 64-bit seed for one use of ``seed`` (e.g. ``derive_seed(0, "task", 3, "train")``), stable across runs."""
    text = ":".join(str(part) for part in ("memnet.generate", seed, *labels))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _writer(rng: random.Random, params: dict) -> SentenceWriter:
    return SentenceWriter(
        rng,
        take_there=params.get("take_there", 1.0),
        drop_there=params.get("drop_there", 0.2),
        lowercase_question_names=params.get("lowercase_question_names", False),
    )


def generate_stories(task: int, n_questions: int, seed: int) -> list[list[ev.StoryLine]]:
    """Checked stories of one task holding exactly ``n_questions`` questions (the last one cut short).

    Args:
        task: the bAbI task number (1..20).
        n_questions: how many questions in all (at least 1).
        seed: any integer; the same seed gives the same stories.

    Raises:
        MemnetError: unknown task, a bad size, or a catalogue entry without usable generator parameters.
        GeneratedStoryError: a story failed the independent check (a bug in the generator).
    """
    info = catalogue.get_task(task)
    if isinstance(n_questions, bool) or not isinstance(n_questions, int) or n_questions < 1:
        raise MemnetError(f"the number of questions must be a positive integer, not {n_questions!r}")
    params = info.generator
    if not params:
        raise MemnetError(f"task {info.number} has no [task.generator] table in tasks/catalogue.toml")
    make_story = STORY_GENERATORS[info.number]
    rng = random.Random(derive_seed(seed, "task", info.number))
    writer = _writer(rng, params)
    stories, asked, redraws = [], 0, 0
    while asked < n_questions:
        try:
            story = make_story(rng, params, writer)
        except StoryTooLongError:
            redraws += 1
            if redraws > _MAX_REDRAWS:
                raise MemnetError(f"task {info.number}: stories keep running past max_statements; "
                                  "check its [task.generator] parameters") from None
            continue
        except KeyError as error:
            if error.args and error.args[0] not in params:
                raise MemnetError(f"task {info.number}: [task.generator] lacks {error.args[0]!r}") from None
            raise
        redraws = 0
        check_story(story)
        kept = []
        for line in story:
            kept.append(line)
            if isinstance(line, ev.Question):
                asked += 1
                if asked == n_questions:
                    break
        stories.append(kept)
    return stories


def format_story(story: list[ev.StoryLine], params: dict | None = None) -> list[str]:
    """The bAbI v1.2 lines of one story (``ID text`` and ``ID question\\tanswer\\tids``), without newlines."""
    # Most real files put a space between "?" and the TAB; tasks 4 and 15-20 do not.
    space = " " if (params or {}).get("space_before_tab", True) else ""
    lines = []
    for line in story:
        if isinstance(line, ev.Statement):
            lines.append(f"{line.line_id} {line.text}")
        else:
            lines.append(f"{line.line_id} {line.text}{space}\t{line.answer}\t{' '.join(map(str, line.supporting))}")
    return lines


def generate_task(task: int, n_questions: int, seed: int) -> list[str]:
    """The lines (without trailing newlines) of one bAbI file with exactly ``n_questions`` questions.

    Args:
        task: the bAbI task number (1..20).
        n_questions: how many questions the file holds (at least 1).
        seed: any integer; the same seed gives the same lines.

    Every answer and its supporting facts have been recomputed from the story's events by
    :mod:`memnet.generate.checker` before they are returned.
    """
    params = catalogue.get_task(task).generator
    return [text for story in generate_stories(task, n_questions, seed) for text in format_story(story, params)]


def write_tasks(tasks: list[int], out_dir, n_train: int, n_test: int, seed: int) -> list[Path]:
    """Write ``qaN_<name>_train.txt`` and ``qaN_<name>_test.txt`` for each task into ``out_dir``.

    Args:
        tasks: task numbers (1..20).
        out_dir: folder to write into (created if missing).
        n_train: questions in each training file.
        n_test: questions in each test file.
        seed: the same seed gives byte-identical files; train and test use different derived seeds.

    Returns:
        The paths written, train then test for each task, in the order of ``tasks``.

    Each file is written to a temporary file in ``out_dir`` and renamed over its final name, so an
    interrupted run never leaves a half-written file.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for task in tasks:
        info = catalogue.get_task(task)
        for split, size in (("train", n_train), ("test", n_test)):
            lines = generate_task(info.number, size, derive_seed(seed, split))
            path = out_dir / info.file_name(split)
            write_text_atomic(path, "\n".join(lines) + "\n")
            written.append(path)
    return written


def file_vocabulary(lines: list[str]) -> set[str]:
    """Every token of the statements, questions and answers of a bAbI file's lines.

    Unlike :meth:`memnet.data.Vocabulary.build`, answers are tokenized too (``n,w`` gives ``n``
    and ``w``), so that generated and real files can be compared word by word.
    """
    words = set()
    for line in lines:
        fields = line.split(" ", 1)[1].split("\t")
        words.update(tokenize(fields[0]))
        if len(fields) > 1:
            words.update(tokenize(fields[1]))
    return words
