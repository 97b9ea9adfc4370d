"""benchmarks/sentence_probe.py: a network on the sentence vectors alone, on real bAbI data."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from conftest import babi_dir

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "sentence_probe.py"
_spec = importlib.util.spec_from_file_location("sentence_probe", _PATH)
sentence_probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sentence_probe)


def test_a_table_of_train_and_test_error_per_task_and_initial_mask(tmp_path):
    out = tmp_path / "probe.md"
    argv = ["--tasks", "1", "--stddevs", "0,0.5", "--epochs", "5", "--data", str(babi_dir("en")), "--out", str(out)]
    assert sentence_probe.main(argv) == 0
    text = out.read_text()
    assert "| task | slots | mask_stddev=0: train | mask_stddev=0: test | mask_stddev=0.5: train | mask_stddev=0.5: test |" in text
    row = next(line for line in text.splitlines() if line.startswith("| 1 |"))
    cells = row.strip("|").split("|")
    errors = [float(cell) for cell in cells[2:]]
    assert int(cells[1]) > 1 and len(errors) == 4
    # it learns: six places to answer, chance is 83% error; the training set is far below that
    assert max(errors[0], errors[2]) < 60.0 and all(0.0 <= e <= 100.0 for e in errors)
    assert "python benchmarks/sentence_probe.py --tasks 1" in text
