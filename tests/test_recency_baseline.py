"""benchmarks/recency_baseline.py: the shortcut rule on hand-made stories and on real bAbI data."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from conftest import babi_dir
from memnet.data.babi import QAExample
from memnet.data.datasets import load_task

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "recency_baseline.py"
_spec = importlib.util.spec_from_file_location("recency_baseline", _PATH)
recency_baseline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recency_baseline)


def _example(story, answer):
    return QAExample(story=tuple(tuple(s.split()) for s in story), question=("q",), answer=answer)


def test_the_rule_answers_the_last_possible_answer_in_the_story():
    answers = {"red", "blue", "kitchen"}
    story = ["ann x red", "bob y blue z", "ann w"]
    assert recency_baseline.recency_answer(_example(story, "red"), answers, "kitchen") == "blue"
    assert recency_baseline.recency_answer(_example(["a b", "c"], "red"), answers, "kitchen") == "kitchen"  # none: fallback
    train = [_example(["p red"], "red"), _example(["p blue"], "red"), _example(["p blue"], "blue")]
    test = [_example(story, "blue"), _example(story, "red"), _example(["nothing"], "red")]
    error, fallback = recency_baseline.recency_error(train, test)
    assert error == pytest.approx(100 / 3) and fallback == pytest.approx(100 / 3)  # "red" is the fallback
    with pytest.raises(ValueError, match="needs"):
        recency_baseline.recency_error([], test)


def test_on_real_task_16_the_rule_errs_where_the_stuck_models_do(tmp_path):
    real = babi_dir("en-10k")
    data = tmp_path / "data"
    data.mkdir()
    for path in real.glob("qa16_*"):  # task 16 only: task 3 is then missing whatever the data copy holds
        (data / path.name).symlink_to(path)
    splits = load_task(data, 16)
    error, fallback = recency_baseline.recency_error(splits.train + splits.valid, splits.test)
    assert error == pytest.approx(50.4) and fallback == 0  # about the error at which models failing task 16 stop
    out = tmp_path / "table.md"
    assert recency_baseline.main(["--data", str(data), "--tasks", "16,3", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| 16 | 50.4 | 0.0 |" in text and "| 3 | not run: " in text and "recency_baseline.py --data" in text


@pytest.mark.parametrize("argv", [["--tasks", "x"], ["--tasks", "21"], ["--data", "/nonexistent/folder"]])
def test_bad_arguments_are_refused_without_a_traceback(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        recency_baseline.main(argv)
    assert exit_info.value.code == 2 and "error:" in capsys.readouterr().err
