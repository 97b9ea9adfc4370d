"""benchmarks/variants.py: one setting at several values, another held fixed, on real bAbI data."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from conftest import babi_dir

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "variants.py"
_spec = importlib.util.spec_from_file_location("variants", _PATH)
variants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(variants)


def test_values_are_parsed_as_numbers_booleans_or_text():
    assert [variants.parse_value(v) for v in ("2", "0.5", "True", "false", "mask")] == [2, 0.5, True, False, "mask"]


def test_a_table_of_train_and_test_error_per_task_and_value(tmp_path):
    out = tmp_path / "table.md"
    argv = [
        "--model", "transformer", "--setting", "read", "--values", "attention,hop", "--with", "embedding_dim=8",
        "--with", "num_heads=2", "--tasks", "1", "--epochs", "1", "--data", str(babi_dir("en")), "--out", str(out),
    ]
    assert variants.main(argv) == 0
    text = out.read_text()
    assert "| task | read=attention: train | read=attention: test | read=hop: train | read=hop: test |" in text
    row = next(line for line in text.splitlines() if line.startswith("| 1 |"))
    errors = [float(cell) for cell in row.strip("|").split("|")[1:]]
    assert len(errors) == 4 and all(0.0 <= e <= 100.0 for e in errors)
    assert "embedding_dim=8, num_heads=2. With read=hop: 20 epochs of linear start before them." in text  # hops start linear
    assert "python benchmarks/variants.py --model transformer" in text


def test_a_diverged_run_is_a_cell_of_the_table_not_a_crash(tmp_path):
    out = tmp_path / "table.md"
    argv = [
        "--model", "readwrite", "--setting", "embedding_dim", "--values", "8", "--tasks", "1", "--epochs", "1",
        "--learning-rate", "1e30", "--data", str(babi_dir("en")), "--out", str(out),
    ]
    assert variants.main(argv) == 0
    assert "| 1 | diverged | diverged |" in out.read_text()


@pytest.mark.parametrize("bad", ["embedding_dim", "=8"])
def test_a_malformed_fixed_setting_is_an_argument_error(tmp_path, bad, capsys):
    argv = ["--model", "transformer", "--setting", "hops", "--values", "1", "--with", bad, "--out", str(tmp_path / "t.md")]
    with pytest.raises(SystemExit) as exit_info:
        variants.main(argv)
    assert exit_info.value.code == 2 and "SETTING=VALUE" in capsys.readouterr().err
    assert not (tmp_path / "t.md").exists()


def test_holding_fixed_the_setting_being_varied_is_an_argument_error(tmp_path, capsys):
    argv = ["--model", "transformer", "--setting", "hops", "--values", "1,2", "--with", "hops=3", "--out", str(tmp_path / "t.md")]
    with pytest.raises(SystemExit) as exit_info:
        variants.main(argv)
    assert exit_info.value.code == 2 and "hops is the setting that --setting varies" in capsys.readouterr().err
    assert not (tmp_path / "t.md").exists()
