"""A shortcut baseline: answer with the most recent story word that is a possible answer.

A model that fails a task near this baseline's error has probably learned the shortcut instead of
the task. The rule uses no words of any language: the possible answers are the answers of the
task's training set, and "most recent" is the last such word in the story (the last sentence that
has one, its last one). Where the story has none, it answers the most frequent training answer.

Usage:
    python benchmarks/recency_baseline.py [--data DIR] [--tasks 1,2,...] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

from memnet.data.datasets import load_task
from memnet.data.sources import find_task_file
from memnet.provenance import git_commit

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "babi" / "tasks_1-20_v1-2" / "en-10k"


def recency_answer(example, answers: set[str], fallback: str) -> str:
    """The last word of the story that is one of ``answers`` (else ``fallback``)."""
    for sentence in reversed(example.story):
        for word in reversed(sentence):
            if word in answers:
                return word
    return fallback


def recency_error(train, test) -> float:
    """Test error (%) of the recency rule, its possible answers taken from ``train``."""
    counts = collections.Counter(example.answer for example in train)
    answers, fallback = set(counts), counts.most_common(1)[0][0]
    wrong = sum(recency_answer(example, answers, fallback) != example.answer for example in test)
    return 100.0 * wrong / len(test)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--tasks", default=",".join(str(t) for t in range(1, 21)))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    rows = []
    for task in (int(t) for t in args.tasks.split(",")):
        if find_task_file(args.data, task, "train") is None:
            rows.append(f"| {task} | not run: no training file |")
            continue
        splits = load_task(args.data, task)
        rows.append(f"| {task} | {recency_error(splits.train + splits.valid, splits.test):.1f} |")
    command = " ".join(["python benchmarks/recency_baseline.py", *(argv if argv is not None else sys.argv[1:])])
    lines = [
        "# Recency baseline: the most recent story word that is a possible answer",
        "",
        f"Test error (%) per task, data `{args.data.name}`.",
        "",
        "| task | test error |",
        "| --- | --- |",
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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_suffix(".tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(args.out)  # never a half-written table
    return 0


if __name__ == "__main__":
    sys.exit(main())
