"""Benchmarks: the paper's bAbI protocols, their result tables, and training speed against plain Keras.

Every figure in the README comes from these functions, run by ``memnet bench ...``:

* :func:`run_protocol` trains and tests a model on one protocol and writes
  ``<model>-<protocol>.csv`` (one row per task) and ``<model>-<protocol>.json`` (how it was made);
* :func:`write_report` turns them into ``<model>-<protocol>.md`` beside the paper's figures;
* :func:`readme_results` is the summary table that ``memnet bench report`` puts in the README;
* :func:`measure_speed` times memnet's training against :mod:`memnet.baseline` in one run.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
import tomllib
from importlib import resources
from pathlib import Path
from typing import Callable, Sequence

from memnet import catalogue
from memnet.errors import DataNotFoundError, MemnetError
from memnet.io import atomic_path, write_json_atomic, write_text_atomic

FAILED_ABOVE = 5.0
RESULTS_DIR = "benchmarks/results"  # the default models' standing results, relative to the project root


@dataclasses.dataclass(frozen=True)
class Protocol:
    name: str
    subset: str  # folder under the bAbI root: the test set, and the training set unless `generated`
    joint: bool
    generated: bool = False  # train on memnet's generated tasks (1k, seed 0), test on the real ones
    compare_with: str | None = None  # protocol whose test errors are shown beside ours


PROTOCOLS = {
    "1k-per-task": Protocol("1k-per-task", "en", joint=False),
    "1k-joint": Protocol("1k-joint", "en", joint=True),
    "10k-per-task": Protocol("10k-per-task", "en-10k", joint=False),
    "generated-1k-per-task": Protocol("generated-1k-per-task", "en", joint=False, generated=True, compare_with="1k-per-task"),
}


def get_protocol(name: str) -> Protocol:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise MemnetError(f"unknown protocol {name!r}: choose one of {', '.join(PROTOCOLS)}") from None


def paper_results() -> dict:
    text = resources.files("memnet").joinpath("paper_results.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def run_protocol(
    protocol: str,
    data_root,
    *,
    model: str = "memn2n",
    runs: int = 10,
    epochs: int | None = None,
    learning_rate: float | None = None,
    tasks: Sequence[int] | None = None,
    seed: int = 0,
    model_settings: dict | None = None,
    out_dir=RESULTS_DIR,
    command: str = "",
    on_task_end: Callable[[dict], None] | None = None,
    resume: bool = False,
) -> Path:
    """Train and test ``model`` on a protocol; write its CSV (after every task) and JSON; return the CSV path.

    Per-task protocols train each task on its own (best of ``runs`` by training error); the joint
    protocol trains one model on all tasks. A task whose files are missing gets a row with empty
    errors and a note, so the table says what could not be run.

    Until it finishes, ``<model>-<protocol>.partial.json`` records what was asked for. With
    ``resume=True`` an interrupted run of the same request continues: the tasks already in its
    CSV are kept, the others run, and the JSON lists every commit that took part.
    """
    from memnet.experiment import build_model, check_model_settings, default_settings, evaluate_splits, prepare_data
    from memnet.provenance import git_commit, machine
    from memnet.training import model_training_config, train_best_of

    spec = get_protocol(protocol)
    check_model_settings(model, model_settings or {})
    data_dir = Path(data_root) / spec.subset
    if not data_dir.is_dir():
        raise DataNotFoundError(f"{data_dir}: no such folder (pass the bAbI root holding {spec.subset}/)")
    from memnet.data.sources import generated_data_dir

    train_dir = generated_data_dir() if spec.generated else data_dir
    tasks = list(tasks or sorted(catalogue.tasks()))
    groups = [tasks] if spec.joint else [[task] for task in tasks]
    out_dir = Path(out_dir)
    stem = f"{model}-{protocol}"
    request = {  # the folder resolved: a resume from elsewhere, or by another path to it, is the same request
        "model": model, "protocol": protocol, "data_dir": str(data_dir.resolve()), "runs": runs, "epochs": epochs,
        "learning_rate": learning_rate, "tasks": tasks, "seed": seed, "model_settings": dict(model_settings or {}),
    }
    csv_path, partial = out_dir / f"{stem}.csv", out_dir / f"{stem}.partial.json"
    # the code that produces these results, recorded before it runs
    progress = {"request": request, "git_commits": [git_commit()], "trained_with": {}}
    rows, earlier_seconds = _resume(partial, csv_path, progress) if resume else ([], 0.0)
    write_json_atomic(partial, progress)
    done = {row["task"] for row in rows}
    start = time.perf_counter()
    for group in groups:
        if set(group) <= done:
            continue
        group_start = time.perf_counter()
        try:
            data = prepare_data(train_dir, group, seed=seed, test_dir=data_dir)
        except DataNotFoundError as error:
            for task in group:
                rows.append({"task": task, "note": f"not run: {error}"})
            _write_rows(rows, csv_path)
            continue
        settings, config = default_settings(group, model)
        settings.update(model_settings or {})
        if epochs is not None:
            config.epochs = epochs
        if learning_rate is not None:
            config.learning_rate = learning_rate
        config.validation_freq = 0  # validation error is measured once, at the end
        best, all_runs = train_best_of(
            lambda run_seed: build_model(model, len(data.vocab), data.memory_slots, settings, run_seed),
            data.train,
            data.valid,
            config,
            runs=runs,
            seed=seed,
        )
        trained_with = model_training_config(best.model, config)  # after the model's own hook (e.g. no linear start)
        progress["trained_with"] = {
            "epochs": trained_with.epochs,
            "linear_start_epochs": trained_with.linear_start_epochs,
            "learning_rate": trained_with.initial_learning_rate,
        }
        seconds = time.perf_counter() - group_start
        # a model that diverged answers nothing: its errors count, and the note says why
        note = f"diverged: {best.divergence()}" if best.diverged else ""
        finished = [
            {"task": task, **errors, "best_run_seed": best.seed, "seconds": round(seconds / len(group), 1), "note": note}
            for task, errors in evaluate_splits(best.model, data).items()
        ]
        rows.extend(finished)
        _write_rows(rows, csv_path)
        write_json_atomic(partial, progress)
        for row in finished if on_task_end is not None else ():
            on_task_end(row)
    commits = progress["git_commits"]
    write_json_atomic(
        out_dir / f"{stem}.json",
        {
            "model": model,
            "protocol": protocol,
            "data_dir": str(data_dir),
            "train_dir": str(train_dir),
            "runs": runs,
            "model_settings": dict(model_settings or {}),
            "epochs": progress["trained_with"].get("epochs"),
            "linear_start_epochs": progress["trained_with"].get("linear_start_epochs"),
            "learning_rate": progress["trained_with"].get("learning_rate"),
            "seed": seed,
            "command": command,
            "git_commit": commits[0],
            **({"resumed_at_commits": commits[1:]} if len(commits) > 1 else {}),
            "wall_seconds": round(earlier_seconds + time.perf_counter() - start, 1),
            "machine": machine(),
            "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        },
    )
    partial.unlink()
    write_report(out_dir, model, protocol)
    return csv_path


def _resume(partial: Path, csv: Path, progress: dict) -> tuple[list[dict], float]:
    """The rows an interrupted run left in ``csv`` and the seconds they took.

    ``progress`` (this run's request, commit and training settings) takes in the earlier run's.
    """
    import pandas as pd

    if not partial.is_file():
        raise MemnetError(f"{partial}: nothing to resume (no interrupted run of this protocol there)")
    earlier = json.loads(partial.read_text(encoding="utf-8"))
    request = progress["request"]
    if earlier["request"] != request:
        changed = sorted(key for key in request if earlier["request"].get(key) != request[key])
        raise MemnetError(f"{partial}: the interrupted run asked for other {', '.join(changed)}; resume it with the same arguments")
    progress["git_commits"] = list(dict.fromkeys(earlier["git_commits"] + progress["git_commits"]))
    progress["trained_with"] = earlier["trained_with"]
    if not csv.is_file():
        return [], 0.0
    frame = pd.read_csv(csv, dtype={"note": str}).fillna({"note": ""})
    return frame.to_dict("records"), float(frame["seconds"].fillna(0.0).sum())


def _settings_text(settings: dict) -> str:
    return ", ".join(f"{name}={json.dumps(value)}" for name, value in settings.items())


CSV_COLUMNS = ("task", "train_error", "valid_error", "test_error", "best_run_seed", "seconds", "note")


def _write_rows(rows, path: Path) -> None:
    import pandas as pd

    # the same columns whatever ran (a protocol whose only task is missing still has test_error)
    frame = pd.DataFrame(rows, columns=list(CSV_COLUMNS)).sort_values("task")
    frame["best_run_seed"] = frame["best_run_seed"].astype("Int64")  # integers, also beside a task not run
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def summarize(frame) -> dict:
    """Mean test error and failed tasks over the tasks that were run."""
    tested = frame.dropna(subset=["test_error"])
    return {
        "mean": float(tested["test_error"].mean()) if len(tested) else math.nan,
        "failed": int((tested["test_error"] > FAILED_ABOVE).sum()),
        "tasks": int(len(tested)),
    }


def write_report(out_dir, model: str, protocol: str) -> Path:
    """``<model>-<protocol>.md``: our per-task errors beside the paper's, with provenance."""
    import pandas as pd

    out_dir = Path(out_dir)
    stem = f"{model}-{protocol}"
    frame = pd.read_csv(out_dir / f"{stem}.csv")
    info = json.loads((out_dir / f"{stem}.json").read_text(encoding="utf-8"))
    spec = get_protocol(protocol)
    paper = paper_results().get(spec.compare_with or protocol, {})
    paper_per_task = paper.get("per_task")
    compared = {}
    compare_path = out_dir / f"{model}-{spec.compare_with}.csv"
    if spec.compare_with and compare_path.exists():
        compared = {int(r["task"]): r.get("test_error") for r in pd.read_csv(compare_path).to_dict("records")}
    other = f"test, trained on {spec.compare_with}" if spec.compare_with else ""
    lines = [
        f"# {model} on bAbI, {protocol}",
        "",
        f"Error (%) per task. Paper: {paper.get('system', 'n/a')}. Failed = test error > {FAILED_ABOVE:g}%.",
        *(["Trained on memnet's generated tasks (1k, seed 0), tested on the real test set; "
           f"beside it the same model trained on the real training set ({compare_path.name})."] if spec.generated else []),
        "",
        f"| task | name | train | valid | test | {other + ' | ' if other else ''}paper test | note |",
        f"| --- | --- | --- | --- | --- | {'--- | ' if other else ''}--- | --- |",
    ]
    for row in frame.to_dict("records"):
        task = int(row["task"])
        paper_value = f"{paper_per_task[task - 1]:.1f}" if paper_per_task else ""
        note = row.get("note") if isinstance(row.get("note"), str) else ""
        other_value = f"{_fmt(compared.get(task))} | " if other else ""
        lines.append(
            f"| {task} | {catalogue.get_task(task).name} | {_fmt(row.get('train_error'))} | {_fmt(row.get('valid_error'))} "
            f"| {_fmt(row.get('test_error'))} | {other_value}{paper_value} | {note} |"
        )
    ours = summarize(frame)
    lines += [
        "",
        f"**memnet: mean {ours['mean']:.1f}% over {ours['tasks']} tasks, {ours['failed']} failed.** "
        f"Paper: mean {paper.get('mean', math.nan)}%, {paper.get('failed', 'n/a')} failed (20 tasks).",
        "",
        f"- command: `{info.get('command')}`",
        f"- git commit: `{info.get('git_commit')}`",
        f"- runs per task: {info.get('runs')} (best by training error, ties by validation error); epochs: {info.get('linear_start_epochs')} "
        f"linear start + {info.get('epochs')}"
        + (f"; initial learning rate {info['learning_rate']:g}" if info.get("learning_rate") else ""),
        *([f"- model settings beyond the defaults: {_settings_text(info['model_settings'])}"] if info.get("model_settings") else []),
        f"- wall time: {info.get('wall_seconds')} s ({_minutes(info.get('wall_seconds'))}), finished {info.get('finished')}",
        f"- machine: {machine_text(info.get('machine', {}))}",
        *([f"- note: {info['provenance_note']}"] if info.get("provenance_note") else []),
        "",
    ]
    path = out_dir / f"{stem}.md"
    write_text_atomic(path, "\n".join(lines))
    return path


def _fmt(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{float(value):.1f}"


def _minutes(seconds) -> str:
    return f"{seconds / 60:.1f} min" if seconds else "n/a"


def machine_text(machine: dict) -> str:
    """One line for a `memnet.provenance.machine()` record: cores, CPU, GPUs, TensorFlow."""
    gpus = ", ".join(machine.get("gpus") or []) or "no GPU"
    return f"{machine.get('cores')} cores, {machine.get('cpu')}, {gpus}, TensorFlow {machine.get('tensorflow')}"


def script_provenance(script: str, argv, commit: str, seconds: float) -> list[str]:
    """The closing lines of a table written by a ``benchmarks/`` script: its command, commit, wall time, machine."""
    from memnet.provenance import machine

    command = " ".join([f"python benchmarks/{script}", *(argv if argv is not None else sys.argv[1:])])
    return [
        f"- command: `{command}`",
        f"- git commit: `{commit}`",
        f"- wall time: {seconds:.0f} s; machine: {machine_text(machine())}",
    ]


def readme_results(results_dir) -> str:
    """The README's summary table, one line per committed ``<model>-<protocol>`` result."""
    import pandas as pd

    results_dir = Path(results_dir)
    paper = paper_results()
    lines = [
        "| model | protocol | tasks run | memnet mean test error % | failed (> 5%) | paper mean / failed | runs x epochs | wall time | details |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for info_path in sorted(results_dir.glob("*.json")):
        info = json.loads(info_path.read_text(encoding="utf-8"))
        if "protocol" not in info:
            continue
        frame = pd.read_csv(info_path.with_suffix(".csv"))
        ours = summarize(frame)
        spec = get_protocol(info["protocol"])
        reference = paper.get(spec.compare_with or spec.name, {})
        lines.append(
            f"| {info['model']} | {info['protocol']} | {ours['tasks']} | {ours['mean']:.1f} | {ours['failed']} "
            f"| {reference.get('mean', '')} / {reference.get('failed', '')} | {info['runs']} x ({info.get('linear_start_epochs')}+{info['epochs']}) "
            f"| {_minutes(info.get('wall_seconds'))} | [{info_path.with_suffix('.md').name}](benchmarks/results/{info_path.with_suffix('.md').name}) |"
        )
    return "\n".join(lines)


def readme_speed(results_dir) -> str:
    """The README's speed line, from ``speed.json`` (written by ``memnet bench speed --out``)."""
    path = Path(results_dir) / "speed.json"
    if not path.exists():
        return "(not measured yet: run `memnet bench speed --json --out benchmarks/results/speed.json`)"
    speed = json.loads(path.read_text(encoding="utf-8"))
    memnet, baseline = speed["memnet"], speed["baseline"]
    return "\n".join([
        "| | examples/s | what was timed |",
        "| --- | --- | --- |",
        f"| memnet | {speed['memnet_examples_per_s']:.0f} | {memnet['runs']} runs x {memnet['epochs']} epochs of task {speed['task']}, "
        f"{memnet['seconds']:.0f} s including {memnet['includes']} |",
        f"| plain Keras | {speed['baseline_examples_per_s']:.0f} | 1 run, {baseline['epochs']} epochs after a warm-up epoch |",
        f"| **ratio** | **{speed['ratio']:.1f}x** | |",
        "",
        f"Command: `{speed.get('command')}`; machine: {machine_text(speed.get('machine', {}))}"
        + (f"; {speed['conditions']}" if speed.get("conditions") else "") + ".",
    ])


def _replace_between(text: str, start: str, end: str, body: str, where) -> str:
    if start not in text or end not in text:
        raise MemnetError(f"{where}: missing the markers {start} and {end}")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def update_readme(readme, results_dir) -> None:
    """Rewrite the README's results and speed sections (between their markers) from ``results_dir``."""
    readme = Path(readme)
    text = readme.read_text(encoding="utf-8")
    text = _replace_between(text, "<!-- results:start -->", "<!-- results:end -->", readme_results(results_dir), readme)
    text = _replace_between(text, "<!-- speed:start -->", "<!-- speed:end -->", readme_speed(results_dir), readme)
    write_text_atomic(readme, text)


def measure_speed(
    data_dir, *, task: int = 1, runs: int = 10, epochs: int = 100, linear_start_epochs: int = 20, baseline_epochs: int = 3, seed: int = 0
) -> dict:
    """Examples per second of memnet's training and of a plain Keras MemN2N, measured in one process.

    memnet trains ``runs`` runs of the paper's MemN2N (d=20, 3 hops, memory min(50, longest story) as in the authors' code, batch 32) for
    ``linear_start_epochs + epochs`` epochs, i.e. one task of the paper's protocol, as the
    benchmark protocols do (runs side by side, XLA); its time includes data preparation and compilation. The baseline (:mod:`memnet.baseline`) trains one model with
    ``model.fit`` on NumPy arrays, default settings, memory padded to 50; its rate is measured
    after one warm-up epoch, which favours the baseline.
    """
    import keras

    from memnet.baseline import compile_plain, plain_memn2n
    from memnet.data import vectorize
    from memnet.experiment import build_model, prepare_data
    from memnet.provenance import machine
    from memnet.training import TrainingConfig, train_best_of

    data = prepare_data(data_dir, [task], seed=seed)
    config = TrainingConfig(epochs=epochs, linear_start_epochs=linear_start_epochs, validation_freq=0)
    settings = {"embedding_dim": 20, "hops": 3}
    steps = len(data.train) // config.batch_size
    start = time.perf_counter()
    train_best_of(
        lambda run_seed: build_model("memn2n", len(data.vocab), data.memory_slots, settings, run_seed),
        data.train, None, config, runs=runs, seed=seed,
    )
    memnet_seconds = time.perf_counter() - start
    memnet_rate = runs * (linear_start_epochs + epochs) * steps * config.batch_size / memnet_seconds

    # the baseline sees the memory padded to 50 slots, as plain implementations do
    from memnet.data import load_tasks

    splits = load_tasks(data_dir, [task], seed=seed)
    padded = vectorize(splits.train, data.vocab, memory_size=50, sentence_size=data.sentence_size, memory_slots=50)
    keras.utils.set_random_seed(seed)
    plain = plain_memn2n(len(data.vocab), 50, data.sentence_size)
    compile_plain(plain)
    plain.fit(padded.inputs, padded.answer, batch_size=32, epochs=1, verbose=0)
    start = time.perf_counter()
    plain.fit(padded.inputs, padded.answer, batch_size=32, epochs=baseline_epochs, verbose=0)
    baseline_seconds = time.perf_counter() - start
    baseline_rate = baseline_epochs * len(padded) / baseline_seconds
    return {
        "memnet_examples_per_s": round(memnet_rate, 1),
        "baseline_examples_per_s": round(baseline_rate, 1),
        "ratio": round(memnet_rate / baseline_rate, 2),
        "task": task,
        "memnet": {"runs": runs, "epochs": linear_start_epochs + epochs, "seconds": round(memnet_seconds, 2), "includes": "data preparation, XLA compilation"},
        "baseline": {"runs": 1, "epochs": baseline_epochs, "seconds": round(baseline_seconds, 2), "after_warmup_epochs": 1},
        "machine": machine(),
    }
