"""Can a task be learned from its sentence vectors alone? A probe of the positional-mask encoder.

Encodes every story sentence and the question with :class:`memnet.layers.PositionalMaskEncoder`
(trained with the probe), concatenates the vectors and fits a two-layer network (256 units each) to
the answer: no memory, no attention. For each initial spread of the positional mask
(``mask_stddev``: 0 is all ones, a bag of words at the start; s > 0 draws it from N(1, s)) it
reports the training and test error. If the probe cannot fit the training set, the sentence
vectors, not the memory model on top of them, are what limits a model that reads them.
Meant for tasks with short stories (the input grows with the story: slots x dim).

Usage:
    python benchmarks/sentence_probe.py [--data DIR] [--tasks 17] [--stddevs 0,0.5] [--epochs 20] --out FILE.md

Committed table: ``benchmarks/results/sentence-probe-10k.md`` (10k tasks 17, 18 and 19).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from memnet.benchmark import script_provenance  # noqa: E402
from memnet.data.sources import shared_babi_root  # noqa: E402
from memnet.experiment import prepare_data  # noqa: E402
from memnet.io import write_text_atomic  # noqa: E402
from memnet.layers import PositionalMaskEncoder  # noqa: E402
from memnet.provenance import git_commit  # noqa: E402
from memnet.training import error_rate  # noqa: E402

DEFAULT_DATA = shared_babi_root(Path(__file__).parents[1]) / "en-10k"


def probe_model(vocabulary_size: int, story_shape, question_shape, mask_stddev: float, dim: int = 64) -> keras.Model:
    """Sentence vectors of story and question, concatenated, into a two-layer network over the vocabulary."""
    story = keras.Input(story_shape, dtype="int32", name="story")
    question = keras.Input(question_shape, dtype="int32", name="question")
    encoder = PositionalMaskEncoder(vocabulary_size, dim, mask_stddev=mask_stddev, seed=0)
    hidden = keras.layers.Concatenate()([keras.layers.Flatten()(encoder(story)), encoder(question)])
    for _ in range(2):
        hidden = keras.layers.Dense(256, activation="relu")(hidden)
    return keras.Model({"story": story, "question": question}, keras.layers.Dense(vocabulary_size)(hidden))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--tasks", default="17")
    parser.add_argument("--stddevs", default="0,0.5", help="comma-separated initial spreads of the positional mask")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    tasks = [int(t) for t in args.tasks.split(",")]
    stddevs = [float(s) for s in args.stddevs.split(",")]
    commit, start = git_commit(), time.perf_counter()
    rows = []
    for task in tasks:
        data = prepare_data(args.data, [task])
        row = [str(task), str(data.memory_slots)]
        for stddev in stddevs:
            keras.utils.set_random_seed(0)
            model = probe_model(len(data.vocab), data.train.story.shape[1:], data.train.question.shape[1:], stddev)
            model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
            model.fit(data.train.inputs, data.train.answer, batch_size=32, epochs=args.epochs, verbose=0)
            row += [f"{error_rate(model, data.train):.1f}", f"{error_rate(model, data.test):.1f}"]
            print(f"task {task}, mask_stddev={stddev:g}: train {row[-2]}% test {row[-1]}%", file=sys.stderr, flush=True)
        rows.append(row)
    header = " | ".join(f"mask_stddev={s:g}: {split}" for s in stddevs for split in ("train", "test"))
    lines = [
        "# Sentence probe: a two-layer network on the positional-mask sentence vectors",
        "",
        f"Error (%) per task, seed 0, {args.epochs} epochs, Adam 0.001, data `{args.data.name}`; slots: story sentences in the input.",
        "",
        f"| task | slots | {header} |",
        "| --- | --- |" + " --- |" * (2 * len(stddevs)),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        *script_provenance("sentence_probe.py", argv, commit, time.perf_counter() - start),
        "",
    ]
    write_text_atomic(args.out, "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
