"""The benchmark runner (``memnet bench protocol``): its files, its provenance, and missing data."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import babi_dir
from memnet.benchmark import readme_results, run_protocol
from memnet.errors import MemnetError


def test_protocol_writes_csv_json_and_report_with_the_settings_the_model_trained_with(tmp_path):
    root = babi_dir("en").parent
    csv = run_protocol(
        "1k-per-task", root, model="readwrite", runs=1, epochs=1, learning_rate=0.02, tasks=[1], out_dir=tmp_path, command="test",
        model_settings={"embedding_dim": 12},
    )
    frame = pd.read_csv(csv)
    assert list(frame["task"]) == [1]
    assert {"train_error", "valid_error", "test_error"} <= set(frame.columns)
    assert 0.0 <= float(frame["test_error"][0]) <= 100.0
    info = json.loads((tmp_path / "readwrite-1k-per-task.json").read_text(encoding="utf-8"))
    # readwrite trains without linear start (its own training hook): the record says so
    assert (info["epochs"], info["linear_start_epochs"], info["runs"]) == (1, 0, 1)
    assert info["learning_rate"] == 0.02  # the chosen rate, not the model's default (0.01)
    assert info["command"] == "test" and info["machine"]["cores"] >= 1
    assert info["model_settings"] == {"embedding_dim": 12}
    report = (tmp_path / "readwrite-1k-per-task.md").read_text(encoding="utf-8")
    assert "| 1 | single-supporting-fact |" in report and "command: `test`" in report
    assert "initial learning rate 0.02" in report
    assert "model settings beyond the defaults: embedding_dim=12" in report
    assert "readwrite | 1k-per-task | 1 |" in readme_results(tmp_path)


class Interrupted(Exception):
    pass


def test_an_interrupted_protocol_resumes_keeping_its_finished_tasks(tmp_path, monkeypatch):
    root = babi_dir("en").parent
    request = dict(model="readwrite", runs=1, epochs=1, tasks=[1, 4], out_dir=tmp_path, model_settings={"embedding_dim": 8})

    def interrupt(row):
        raise Interrupted

    with pytest.raises(Interrupted):
        run_protocol("1k-per-task", root, on_task_end=interrupt, **request)
    first = pd.read_csv(tmp_path / "readwrite-1k-per-task.csv")
    assert list(first["task"]) == [1] and not (tmp_path / "readwrite-1k-per-task.json").exists()
    assert "protocol" not in json.loads((tmp_path / "readwrite-1k-per-task.partial.json").read_text())  # not a result
    with pytest.raises(MemnetError, match="epochs"):
        run_protocol("1k-per-task", root, resume=True, **{**request, "epochs": 2})
    with pytest.raises(MemnetError, match="nothing to resume"):
        run_protocol("1k-per-task", root, resume=True, **{**request, "out_dir": tmp_path / "elsewhere"})
    seen = []
    monkeypatch.chdir(root.parent)  # the same data, named by a relative path: the same request
    csv = run_protocol("1k-per-task", root.relative_to(root.parent), resume=True, on_task_end=seen.append, **request)
    frame = pd.read_csv(csv)
    assert list(frame["task"]) == [1, 4] and [row["task"] for row in seen] == [4]  # task 1 was not trained again
    pd.testing.assert_frame_equal(frame.iloc[:1], first)
    info = json.loads((tmp_path / "readwrite-1k-per-task.json").read_text())
    assert (info["epochs"], info["runs"]) == (1, 1) and info["wall_seconds"] >= frame["seconds"].sum()
    assert not (tmp_path / "readwrite-1k-per-task.partial.json").exists()


def test_a_task_whose_training_diverged_counts_as_failed_with_a_note(tmp_path):
    csv = run_protocol("1k-per-task", babi_dir("en").parent, runs=1, epochs=1, learning_rate=1e30, tasks=[1], out_dir=tmp_path,
                       model_settings={"embedding_dim": 8})
    row = pd.read_csv(csv).iloc[0]
    assert row["test_error"] == 100.0 and row["note"].startswith("diverged: the loss became NaN or infinite")


def test_a_task_without_its_training_file_is_reported_not_run(tmp_path):
    # a 10k folder holding task 1 only (the small 1k files, for speed)
    data = tmp_path / "babi" / "en-10k"
    data.mkdir(parents=True)
    for path in babi_dir("en").glob("qa1_*"):
        (data / path.name).write_bytes(path.read_bytes())
    csv = run_protocol("10k-per-task", data.parent, model="readwrite", runs=1, epochs=1, tasks=[1, 3], out_dir=tmp_path,
                       model_settings={"embedding_dim": 8})
    frame = pd.read_csv(csv)
    row = frame.iloc[1]
    assert row["task"] == 3 and "not run" in row["note"] and pd.isna(row["test_error"])
    assert csv.read_text().splitlines()[1].split(",")[4] == "0"  # the seed of task 1 stays an integer beside it
