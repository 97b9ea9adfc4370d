"""How closely memnet's generator matches the real bAbI v1.2 English data, task by task.

For each task it generates a file with as many questions as the real training file (seed 0) and
compares it with the real ``en`` training file:

* vocabulary: generated words missing from the real train+test vocabulary (should be none), and
  the share of the real vocabulary the generated file uses (coverage);
* story shape: statements per story and per question, questions per story (means);
* answers: total variation distance (TVD) between the answer distributions (0 = identical,
  1 = disjoint), and the same for the number of supporting facts per question and for how many
  lines back the newest supporting fact is (its "age").

Usage:
    python benchmarks/generator_fidelity.py [--data DIR] [--seed 0] [--out benchmarks/results/generator-fidelity.md]
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

from memnet import catalogue
from memnet.data.babi import parse_babi
from memnet.data.sources import shared_babi_root
from memnet.generate import file_vocabulary, generate_task

DEFAULT_DATA = shared_babi_root(Path(__file__).parents[1]) / "en"


def story_shape(lines: list[str]) -> dict[str, float]:
    """Mean statements per story, statements before each question, and questions per story."""
    statements_per_story, questions_per_story, gaps = [], [], []
    for line in lines:
        line_id, text = line.split(" ", 1)
        if line_id == "1":
            statements_per_story.append(0)
            questions_per_story.append(0)
            gap = 0
        if "\t" in text:
            questions_per_story[-1] += 1
            gaps.append(gap)
            gap = 0
        else:
            statements_per_story[-1] += 1
            gap += 1
    return {
        "statements/story": statistics.mean(statements_per_story),
        "max statements/story": max(statements_per_story),
        "statements/question": statistics.mean(gaps),
        "questions/story": statistics.mean(questions_per_story),
    }


def support_ages(lines: list[str]) -> collections.Counter:
    """How many lines back each question's newest supporting fact is (a histogram)."""
    ages = collections.Counter()
    for line in lines:
        line_id, text = line.split(" ", 1)
        fields = text.split("\t")
        if len(fields) == 3 and fields[2].split():
            ages[int(line_id) - max(int(i) for i in fields[2].split())] += 1
    return ages


def total_variation(first: collections.Counter, second: collections.Counter) -> float:
    """Half the L1 distance between two normalised histograms."""
    first_total, second_total = sum(first.values()), sum(second.values())
    keys = set(first) | set(second)
    return 0.5 * sum(abs(first[k] / first_total - second[k] / second_total) for k in keys)


def compare_task(task: int, data_dir: Path, seed: int) -> dict:
    """The fidelity numbers of one task (see the module docstring)."""
    info = catalogue.get_task(task)
    real_train = (data_dir / info.file_name("train")).read_text(encoding="utf-8").splitlines()
    real_test = (data_dir / info.file_name("test")).read_text(encoding="utf-8").splitlines()
    real_examples = parse_babi(real_train, task=task)
    started = time.perf_counter()
    generated = generate_task(task, len(real_examples), seed)
    seconds = time.perf_counter() - started
    generated_examples = parse_babi(generated, task=task)

    real_vocabulary = file_vocabulary(real_train) | file_vocabulary(real_test)
    generated_vocabulary = file_vocabulary(generated)
    real_shape, generated_shape = story_shape(real_train), story_shape(generated)
    return {
        "task": task,
        "name": info.name,
        "questions": len(generated_examples),
        "seconds": seconds,
        "extra words": sorted(generated_vocabulary - real_vocabulary),
        "coverage": len(generated_vocabulary & real_vocabulary) / len(real_vocabulary),
        "missing words": sorted(real_vocabulary - generated_vocabulary),
        "real shape": real_shape,
        "generated shape": generated_shape,
        "answer tvd": total_variation(collections.Counter(e.answer for e in real_examples),
                                      collections.Counter(e.answer for e in generated_examples)),
        "support tvd": total_variation(collections.Counter(len(e.supporting) for e in real_examples),
                                       collections.Counter(len(e.supporting) for e in generated_examples)),
        "support age tvd": total_variation(support_ages(real_train), support_ages(generated)),
    }


def markdown_report(rows: list[dict], seed: int) -> str:
    """The comparison as a markdown document."""
    out = [
        "# Generator fidelity: memnet's generator vs real bAbI v1.2 (en)",
        "",
        f"Generated with seed {seed}, as many questions as the real training file of each task (mostly 1000),",
        "compared with the real `en` training file (vocabulary: train + test).",
        "Produced by `python benchmarks/generator_fidelity.py`.",
        "",
        "Columns: *coverage* = share of the real vocabulary the generated file uses; *extra* = generated words",
        "not in the real data; *stmts/story* and *stmts/q* = mean statements per story and before each question",
        "(real → generated); *q/story* = questions per story; *answer TVD* / *support TVD* / *support age TVD* = total variation",
        "distance between the answer distributions / numbers of supporting facts / lines from a question back",
        "to its newest supporting fact (0 = identical).",
        "",
        "| task | coverage | extra | stmts/story real → gen | stmts/q real → gen | q/story real → gen "
        "| answer TVD | support TVD | support age TVD | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        real, gen = row["real shape"], row["generated shape"]
        out.append(
            f"| {row['task']} {row['name']} | {row['coverage']:.0%} | {len(row['extra words'])} "
            f"| {real['statements/story']:.1f} → {gen['statements/story']:.1f} "
            f"| {real['statements/question']:.2f} → {gen['statements/question']:.2f} "
            f"| {real['questions/story']:.1f} → {gen['questions/story']:.1f} "
            f"| {row['answer tvd']:.3f} | {row['support tvd']:.3f} | {row['support age tvd']:.3f} "
            f"| {row['seconds']:.2f} |"
        )
    missing = [(row["task"], row["missing words"]) for row in rows if row["missing words"]]
    extra = [(row["task"], row["extra words"]) for row in rows if row["extra words"]]
    out += ["", "Real words the generated files did not use: "
            + ("; ".join(f"task {t}: {', '.join(words)}" for t, words in missing) if missing else "none") + "."]
    out += ["", "Generated words not in the real data: "
            + ("; ".join(f"task {t}: {', '.join(words)}" for t, words in extra) if extra else "none") + "."]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the real en files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", default="all", help="'all' or a comma-separated list")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "generator-fidelity.md")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"real bAbI data not found at {args.data}", file=sys.stderr)
        return 1
    rows = [compare_task(task, args.data, args.seed) for task in catalogue.parse_task_selection(args.tasks)]
    report = markdown_report(rows, args.seed)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
