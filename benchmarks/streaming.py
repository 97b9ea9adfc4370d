"""Streaming QA: the time to tell a ReadWriteMemory one more sentence, as the story grows.

A :class:`memnet.inference.StreamingSession` keeps the model's external memory, so telling a
sentence writes only that sentence: its cost should not depend on how long the story already is.
For contrast, the same question asked with the whole story at once (``QuestionAnswerer.ask``)
re-reads every sentence, so its cost grows with the story.

The story is the task-1 test stories one after another (200 sentences by default). Each pass
tells every sentence and times each ``tell``; at the checkpoints it also times a ``session.ask``
and a whole-story ``ask`` (with an unlimited ``memory_size``, so that both see every sentence).
The first pass is a warm-up (it traces the compiled write); the figures are medians over the
other passes, and over the 10 sentences up to each checkpoint for ``tell``.

Timing does not depend on the weights, so without ``--run`` an untrained model with task 1's
vocabulary and memnet's default settings is used.

Usage:
    python benchmarks/streaming.py [--run RUN_DIR] [--sentences 200] [--passes 4]
        [--out benchmarks/results/streaming.json]   # also writes streaming.md beside it
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from memnet.data.sources import shared_babi_root  # noqa: E402

DEFAULT_DATA = shared_babi_root(Path(__file__).parents[1]) / "en"
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "streaming.json"


def answerer(run_dir, data_dir):
    """A QuestionAnswerer for a readwrite run, or an untrained one on task 1's vocabulary."""
    from memnet.data import Vocabulary, load_task
    from memnet.experiment import build_model, default_settings
    from memnet.inference import QuestionAnswerer, load

    if run_dir:
        return load(run_dir)
    examples = load_task(data_dir, 1).train
    vocab = Vocabulary.from_examples(examples)
    settings, _ = default_settings([1])
    model = build_model("readwrite", len(vocab), 50, settings, seed=0)
    return QuestionAnswerer(model, vocab, {"memory_size": 50, "sentence_size": 8, "model": "readwrite"})


def story_sentences(data_dir, count: int) -> list[str]:
    """The task-1 test stories, each sentence once, one story after another."""
    from memnet.data import load_task

    stories: list[tuple] = []
    for example in load_task(data_dir, 1).test:  # the questions of a story see growing prefixes of it
        if stories and example.story[: len(stories[-1])] == stories[-1]:
            stories[-1] = example.story
        else:
            stories.append(example.story)
    sentences = [" ".join(s) + "." for story in stories for s in story]
    return sentences[:count]


def measure(qa, sentences: list[str], checkpoints: list[int], passes: int, question: str) -> list[dict]:
    from memnet.inference import QuestionAnswerer

    whole = QuestionAnswerer(qa.model, qa.vocab, {**qa.config, "memory_size": len(sentences)})
    tells = np.zeros((passes, len(sentences)))
    asks = {c: [] for c in checkpoints}
    whole_asks = {c: [] for c in checkpoints}
    for p in range(passes):
        session = qa.stream()
        for t, sentence in enumerate(sentences, start=1):
            start = time.perf_counter()
            session.tell(sentence)
            tells[p, t - 1] = time.perf_counter() - start
            if t in asks:
                start = time.perf_counter()
                streamed = session.ask(question)
                asks[t].append(time.perf_counter() - start)
                start = time.perf_counter()
                reread = whole.ask(sentences[:t], question)
                whole_asks[t].append(time.perf_counter() - start)
                assert streamed.answer == reread.answer, (t, streamed.answer, reread.answer)
    rows = []
    for c in checkpoints:
        window = tells[1:, max(0, c - 10) : c]  # pass 0 is the warm-up
        rows.append(
            {
                "sentences": c,
                "tell_ms": round(1000 * float(np.median(window)), 3),
                "ask_ms": round(1000 * statistics.median(asks[c][1:]), 3),
                "whole_story_ask_ms": round(1000 * statistics.median(whole_asks[c][1:]), 3),
            }
        )
    return rows


def write_markdown(path: Path, result: dict) -> None:
    lines = [
        "# Streaming QA with ReadWriteMemory",
        "",
        "Milliseconds (medians) to tell one more sentence (`session.tell`), to ask with the kept memory",
        "(`session.ask`), and to ask with the whole story at once (`QuestionAnswerer.ask`, which",
        "re-writes every sentence), as the story grows. `tell` is the median over the 10 sentences up",
        "to each point.",
        "",
        "| story length (sentences) | tell (ms) | session.ask (ms) | whole-story ask (ms) |",
        "| --- | --- | --- | --- |",
        *(
            f"| {r['sentences']} | {r['tell_ms']:.2f} | {r['ask_ms']:.2f} | {r['whole_story_ask_ms']:.2f} |"
            for r in result["rows"]
        ),
        "",
        f"Tell, first 10 vs last 10 sentences: {result['tell_ms_first_10']:.2f} ms vs {result['tell_ms_last_10']:.2f} ms.",
        "",
        f"Command: `{result['command']}`; model: {result['model_source']}; git commit {result['git_commit']};",
        f"{result['passes']} passes (the first a warm-up); {result['seconds']:.0f} s; machine: "
        f"{result['machine']['cores']} cores, {result['machine']['cpu']}; load average at start "
        f"{result['load_average']}.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a readwrite run folder (default: an untrained model)")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="bAbI en folder (task 1 is used)")
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--passes", type=int, default=4, help="passes over the story; the first is a warm-up")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)

    from memnet.io import write_json_atomic
    from memnet.provenance import git_commit, machine

    start = time.perf_counter()
    load_average = [round(x, 2) for x in os.getloadavg()]
    qa = answerer(args.run, args.data)
    sentences = story_sentences(args.data, args.sentences)
    checkpoints = sorted({c for c in (1, 10, 25, 50, 100, 150, 200, len(sentences)) if c <= len(sentences)})
    rows = measure(qa, sentences, checkpoints, max(2, args.passes), "Where is Mary?")
    tells = [r["tell_ms"] for r in rows]
    result = {
        "rows": rows,
        "tell_ms_first_10": rows[[r["sentences"] for r in rows].index(min(10, len(sentences)))]["tell_ms"],
        "tell_ms_last_10": tells[-1],
        "sentences": len(sentences),
        "passes": max(2, args.passes),
        "model_source": args.run or "untrained readwrite, default settings, task-1 vocabulary",
        "model_config": {k: qa.model.get_config()[k] for k in ("embedding_dim", "slots", "hops")},
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "git_commit": git_commit(),
        "machine": machine(),
        "load_average": load_average,
        "seconds": round(time.perf_counter() - start, 1),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, result)
    write_markdown(out.with_suffix(".md"), result)
    print(out.with_suffix(".md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
