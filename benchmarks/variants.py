"""One model setting, several values, trained side by side: train and test error per task and value.

Trains ``--model`` once per task and value of ``--setting`` (a model argument, e.g. readwrite's
``write`` or transformer's ``memory_layers``) with the same seed, data, epochs and learning rate,
and tabulates train and test error side by side. Everything else is the model's default at the git
commit the table records.

Usage:
    python benchmarks/variants.py --model readwrite --setting write --values interpolate,additive \\
        [--with SETTING=VALUE ...] [--data DIR] [--tasks 2,6,9,16] [--epochs 20] [--learning-rate LR] --out FILE.md

Committed tables (``benchmarks/results/``): ``readwrite-writes.md`` (the 10k tasks where readwrite
with the interpolating write failed by underfitting, commit fb4d5e1) and
``transformer-memory-layers.md`` (the 10k tasks where transformer underfit with plain memory
blocks), ``transformer-memory-layers-1k.md`` (1k tasks where it overfits),
``transformer-memory-rezero.md`` (the same 10k tasks with ReZero memory blocks) and
``transformer-dropout-1k.md``, ``transformer-embedding-dim-1k.md`` and
``transformer-time-noise-1k.md`` (1k: neither more dropout, a smaller model nor more time noise
stops the overfitting); ``transformer-question-in-memory-1k.md``, ``transformer-tied-answer-1k.md``
and ``transformer-halting-1k.md`` (1k: the question as a memory slot, then with a tied answer or
adaptive halting); ``transformer-sentence-transformer-10k-17-18.md`` and
``transformer-sentence-transformer-10k-13-19-16.md`` (10k: a transformer over each sentence's
words instead of the positional mask, on the tasks where the model fails);
``transformer-sentence-transformer-1k.md`` (the same on four 1k tasks, with the question as a memory slot);
``transformer-position-mask-10k.md`` and ``transformer-position-mask-question-in-memory-10k.md``
(10k: the positional mask from all ones or from N(1, 0.5));
``transformer-hop-reads-16-10k.md``, ``transformer-hop-reads-16-dropout-10k.md`` and
``transformer-hop-reads-10k.md`` (10k: MemN2N hops as the reads, with linear start),
``transformer-linear-hop-reads-10k.md`` (the same hops without softmax after linear start) and
``transformer-question-in-memory-17-120-epochs-10k.md`` (10k task 17, 120 epochs) and
``transformer-hops-beside-attention-reads-10k.md`` (10k: hops beside attention reads; on 16 and
17 also with 60 epochs, on 16 with dropout and without memory blocks: ``...-16-*``, ``...-17-*``);
``readwrite-mask-encoding-10k.md``, ``readwrite-mask-encoding-lr-0.005-10k.md``,
``readwrite-position-encoding-lr-0.005-10k.md`` and ``readwrite-encodings-16-19-lr-0.005-10k.md``
(10k: EntNet's positional mask and a lower learning rate on readwrite's failed tasks).
A run whose training diverged (NaN loss) is written "diverged" in both of its cells.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from memnet.experiment import train_experiment  # noqa: E402
from memnet.benchmark import script_provenance  # noqa: E402
from memnet.cli import parse_setting, parse_value  # noqa: E402
from memnet.data.sources import shared_babi_root  # noqa: E402
from memnet.errors import TrainingDivergedError  # noqa: E402
from memnet.io import write_text_atomic  # noqa: E402
from memnet.provenance import git_commit  # noqa: E402

DEFAULT_DATA = shared_babi_root(Path(__file__).parents[1]) / "en-10k"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--setting", required=True, help="a model argument, e.g. write or memory_layers")
    parser.add_argument("--values", required=True, help="comma-separated values of the setting")
    parser.add_argument(
        "--with", dest="fixed", type=parse_setting, action="append", default=[], metavar="SETTING=VALUE",
        help="another model setting, held at this value in every run (repeatable)",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--tasks", default="2,6,9,16")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    tasks = [int(t) for t in args.tasks.split(",")]
    values = [parse_value(v) for v in args.values.split(",")]
    fixed = dict(args.fixed)
    if args.setting in fixed:
        parser.error(f"--with {args.setting}=...: {args.setting} is the setting that --setting varies")
    overrides = {} if args.learning_rate is None else {"learning_rate": args.learning_rate}
    commit, start = git_commit(), time.perf_counter()
    rows, linear_start = [], {}
    with tempfile.TemporaryDirectory() as scratch:
        for task in tasks:
            row = [str(task)]
            for value in values:
                run_dir = Path(scratch) / f"{task}-{value}"
                try:
                    metrics = train_experiment(
                        tasks=[task], data_dir=args.data, out_dir=run_dir, model=args.model,
                        epochs=args.epochs, model_settings={**fixed, args.setting: value}, training_overrides=overrides,
                    )
                except TrainingDivergedError:  # a result too: the table says so, and the other values still run
                    row += ["diverged", "diverged"]
                    print(f"task {task}, {args.setting}={value}: diverged", file=sys.stderr, flush=True)
                    continue
                trained_with = json.loads((run_dir / "config.json").read_text())["training"]
                if trained_with["linear_start_epochs"]:
                    linear_start[value] = trained_with["linear_start_epochs"]
                errors = metrics["per_task"][str(task)]
                row += [f"{errors['train_error']:.1f}", f"{errors['test_error']:.1f}"]
                print(f"task {task}, {args.setting}={value}: train {row[-2]}% test {row[-1]}%", file=sys.stderr, flush=True)
            rows.append(row)
    header = " | ".join(f"{args.setting}={v}: {split}" for v in values for split in ("train", "test"))
    lines = [
        f"# {args.model}: {args.setting} = {', '.join(map(str, values))}",
        "",
        f"Error (%) per task, one run each (seed 0), {args.epochs} epochs, data `{args.data.name}`"
        + (f", learning rate {args.learning_rate:g}" if args.learning_rate else "")
        + "".join(f", {name}={value}" for name, value in fixed.items())
        + "."
        + "".join(f" With {args.setting}={v}: {n} epochs of linear start before them." for v, n in linear_start.items()),
        "",
        f"| task | {header} |",
        "| --- |" + " --- |" * (2 * len(values)),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        *script_provenance("variants.py", argv, commit, time.perf_counter() - start),
        "",
    ]
    write_text_atomic(args.out, "\n".join(lines))  # never a half-written table
    return 0


if __name__ == "__main__":
    sys.exit(main())
