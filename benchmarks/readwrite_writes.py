"""Which write suits ReadWriteMemory: memnet's interpolating write or EntNet's additive one.

Trains ``readwrite`` once per task and write mode (``ReadWriteMemory(write=...)``) with the same
seed, data and epochs, and tabulates train and test error side by side. By default: the 10k tasks
where the 10k protocol run with the interpolating write (commit fb4d5e1) failed by underfitting
(2, 6, 9, 16), 20 epochs each. Everything else is the model's default (at the git commit the
table records).

Usage:
    python benchmarks/readwrite_writes.py [--data DIR] [--tasks 2,6,9,16] [--epochs 20]
        [--out benchmarks/results/readwrite-writes.md]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from memnet.experiment import train_experiment  # noqa: E402
from memnet.benchmark import machine_text  # noqa: E402
from memnet.provenance import git_commit, machine  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "babi" / "tasks_1-20_v1-2" / "en-10k"
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "readwrite-writes.md"
WRITES = ("interpolate", "additive")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--tasks", default="2,6,9,16")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    tasks = [int(t) for t in args.tasks.split(",")]
    commit, start = git_commit(), time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for task in tasks:
            row = [str(task)]
            for write in WRITES:
                metrics = train_experiment(
                    tasks=[task], data_dir=args.data, out_dir=Path(scratch) / f"{task}-{write}", model="readwrite",
                    epochs=args.epochs, model_settings={"write": write},
                )
                errors = metrics["per_task"][str(task)]
                row += [f"{errors['train_error']:.1f}", f"{errors['test_error']:.1f}"]
                print(f"task {task}, write={write}: train {row[-2]}% test {row[-1]}%", file=sys.stderr, flush=True)
            rows.append(row)
    lines = [
        "# readwrite: interpolating write vs EntNet's additive write",
        "",
        f"Error (%) per task, one run each (seed 0), {args.epochs} epochs, data `{args.data.name}`.",
        "",
        "| task | interpolate: train | interpolate: test | additive: train | additive: test |",
        "| --- | --- | --- | --- | --- |",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        f"- command: `python benchmarks/readwrite_writes.py --tasks {args.tasks} --epochs {args.epochs}`",
        f"- git commit: `{commit}`",
        f"- wall time: {time.perf_counter() - start:.0f} s; machine: {machine_text(machine())}",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_suffix(".tmp")
    partial.write_text("\n".join(lines), encoding="utf-8")
    partial.replace(args.out)  # never a half-written table
    return 0


if __name__ == "__main__":
    sys.exit(main())
