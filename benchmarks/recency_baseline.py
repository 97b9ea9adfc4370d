"""A shortcut baseline: answer with the most recent story word that is a possible answer.

A model that fails a task at about this baseline's error may have learned the shortcut instead of
the task. The rule uses no words of any language: the possible answers are the answers of the
task's training set, and "most recent" is the last such word in the story (the last sentence that
has one, its last one). Where the story has none, it answers the most frequent training answer;
the table says how often. Answers that never appear in a story as one word (yes/no, counts,
lists such as ``a,b``, directions such as ``n,w``) always take that fallback, so for such tasks
the figure is a majority-answer baseline.

Usage:
    python benchmarks/recency_baseline.py [--data DIR] [--tasks all|1,2,...] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

from memnet.data.datasets import load_task
from memnet.data.sources import shared_babi_root
from memnet.catalogue import parse_task_selection
from memnet.errors import DataNotFoundError, MemnetError
from memnet.io import write_text_atomic
from memnet.provenance import git_commit

DEFAULT_DATA = shared_babi_root(Path(__file__).parents[1]) / "en-10k"


def recency_answer(example, answers: set[str], fallback: str | None) -> str | None:
    """The last word of the story that is one of ``answers`` (else ``fallback``)."""
    for sentence in reversed(example.story):
        for word in reversed(sentence):
            if word in answers:
                return word
    return fallback


def recency_error(train, test) -> tuple[float, float]:
    """Test error (%) of the recency rule, its possible answers taken from ``train``, and the share (%) answered by the fallback."""
    if not train or not test:
        raise ValueError("recency_error needs training and test examples")
    counts = collections.Counter(example.answer for example in train)
    answers, fallback = set(counts), counts.most_common(1)[0][0]
    wrong = fell_back = 0
    for example in test:
        answer = recency_answer(example, answers, None)
        fell_back += answer is None
        wrong += (fallback if answer is None else answer) != example.answer
    return 100.0 * wrong / len(test), 100.0 * fell_back / len(test)


def task_list(text: str) -> list[int]:
    """``"all"`` or comma-separated task numbers (an argparse type around the catalogue's parser)."""
    try:
        return parse_task_selection(text)
    except MemnetError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--tasks", type=task_list, default="all", help="'all' (default) or e.g. 1,2,16")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"--data: {args.data} is not a folder")
    rows = []
    for task in args.tasks:
        try:
            splits = load_task(args.data, task)
        except DataNotFoundError as error:
            rows.append(f"| {task} | not run: {error} | |")
            continue
        error, fallback = recency_error(splits.train + splits.valid, splits.test)
        rows.append(f"| {task} | {error:.1f} | {fallback:.1f} |")
    command = " ".join(["python benchmarks/recency_baseline.py", *(argv if argv is not None else sys.argv[1:])])
    lines = [
        "# Recency baseline: the most recent story word that is a possible answer",
        "",
        f"Test error (%) per task, data `{args.data.name}`.",
        "",
        "| task | test error | answered by the fallback |",
        "| --- | --- | --- |",
        *rows,
        "",
        f"- command: `{command}`",
        f"- git commit: `{git_commit()}`",
        "",
    ]
    text = "\n".join(lines)
    if args.out is None:
        print(text)
        return 0
    write_text_atomic(args.out, text)  # never a half-written table
    return 0


if __name__ == "__main__":
    sys.exit(main())
