"""The ``memnet`` command end to end (subprocesses), and the Python inference API on the same run.

One task-1 run is trained once per session through ``memnet train`` (see ``conftest.trained_run``);
everything else reuses it. The cheap user-error invocations run concurrently (each one is mostly
the TensorFlow import) on all cores, and each test then checks its own result.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

import memnet
from conftest import assert_user_error, cli_env, memnet_stderr_lines, run_cli
from memnet.data import find_task_file, parse_babi
from memnet.errors import BabiFormatError, RunDirError, UnknownWordError

STORY = "Mary went to the kitchen.\nJohn moved to the garden.\nMary travelled to the office.\nJohn went to the hallway."
METRIC_KEYS = {"per_task", "mean_test_error", "failed_tasks", "wall_seconds", "model", "data_dir", "seed", "git_commit"}


# --------------------------------------------------------------------------- memnet train


def test_train_writes_a_complete_run_folder(trained_run, en_dir):
    run_dir, process = trained_run
    for name in ("model.keras", "vocab.json", "config.json", "metrics.json"):
        assert (run_dir / name).is_file(), name
    assert "Traceback" not in process.stderr
    assert "mean test error" in process.stdout and "test_error" in process.stdout

    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    assert METRIC_KEYS <= set(metrics)
    assert set(metrics["per_task"]) == {"1"}
    row = metrics["per_task"]["1"]
    assert set(row) == {"train_error", "valid_error", "test_error"}
    assert row["test_error"] <= 5.0, metrics
    assert metrics["mean_test_error"] == pytest.approx(row["test_error"])
    assert metrics["failed_tasks"] == []
    assert metrics["wall_seconds"] > 0
    assert metrics["model"] == "memn2n" and metrics["seed"] == 0
    assert Path(metrics["data_dir"]) == en_dir.resolve()
    assert metrics["git_commit"] is None or isinstance(metrics["git_commit"], str)

    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    assert config["model"] == "memn2n" and config["tasks"] == [1] and config["memory_size"] == 50
    assert config["model_config"]["embedding_dim"] == 20 and config["model_config"]["hops"] == 3
    assert config["training"]["learning_rate"] == 0.005  # --learning-rate (the paper's rate with linear start)
    words = json.loads((run_dir / "vocab.json").read_text(encoding="utf-8"))["words"]
    assert words[0] == "<nil>" and {"mary", "kitchen", "where"} <= set(words)


def test_the_run_model_loads_in_safe_mode(trained_run):
    run_dir, _ = trained_run
    import memnet.models  # noqa: F401  (registers the classes)

    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True, compile=False)
    assert isinstance(model, memnet.models.MemN2N)
    words = json.loads((run_dir / "vocab.json").read_text(encoding="utf-8"))["words"]
    assert model.vocabulary_size == len(words)


# --------------------------------------------------------------------------- memnet ask / evaluate


def test_ask_json_answers_a_task_1_story(trained_run):
    run_dir, _ = trained_run
    process = run_cli("ask", run_dir, "--story", STORY, "--question", "Where is Mary?", "--json")
    assert process.returncode == 0, process.stderr
    lines = process.stdout.strip().splitlines()
    assert len(lines) == 1  # one JSON object
    reply = json.loads(lines[0])
    assert reply["answer"] == "office"
    assert 0.5 < reply["probability"] <= 1.0
    assert len(reply["attention"]) == 3  # one list per hop
    assert all(len(hop) == 4 for hop in reply["attention"])  # one weight per sentence
    # weights over the sentences; what is missing from 1 went to empty memory slots ("nowhere")
    assert all(0.0 < sum(hop) <= 1.0 + 1e-3 for hop in reply["attention"])
    assert reply["sentences"][2] == "mary travelled to the office"
    # some hop looks hardest at the sentence that answers
    assert 2 in [int(np.argmax(hop)) for hop in reply["attention"]]
    assert [a["answer"] for a in reply["alternatives"]] and "office" not in [a["answer"] for a in reply["alternatives"]]


def test_ask_reads_a_story_file_and_prints_text(trained_run, tmp_path):
    run_dir, _ = trained_run
    story_file = tmp_path / "story.txt"
    story_file.write_text("1 John went to the bedroom.\n2 Mary went to the garden.\n3 John moved to the bathroom.\n", encoding="utf-8")
    process = run_cli("ask", run_dir, "--story", story_file, "--question", "Where is John?", "--top", "2")
    assert process.returncode == 0, process.stderr
    assert process.stdout.startswith("answer: bathroom (p=")
    assert "hop 3:" in process.stdout and "john moved to the bathroom" in process.stdout


def test_evaluate_prints_a_table_and_writes_csv(trained_run, en_dir, tmp_path):
    run_dir, _ = trained_run
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    process = run_cli("evaluate", copy, "--data-dir", en_dir)
    assert process.returncode == 0, process.stderr
    assert "test_error" in process.stdout and "mean test error" in process.stdout
    frame = pd.read_csv(copy / "evaluation.csv", index_col="task")
    assert list(frame.index) == [1]
    assert {"train_error", "valid_error", "test_error"} <= set(frame.columns)
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    assert frame.loc[1, "test_error"] == pytest.approx(metrics["per_task"]["1"]["test_error"], abs=0.01)
    assert frame.loc[1, "train_error"] == pytest.approx(metrics["per_task"]["1"]["train_error"], abs=0.01)


# --------------------------------------------------------------------------- user errors


def _malformed_data_dir(root: Path) -> Path:
    folder = root / "broken"
    folder.mkdir()
    (folder / "qa1_x_train.txt").write_text("1 Mary went home.\n2 John went out.\n4 Where is Mary?\thome\t1\n", encoding="utf-8")
    (folder / "qa1_x_test.txt").write_text("1 Mary went home.\n2 Where is Mary?\thome\t1\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def user_errors(trained_run, en_dir, tmp_path_factory, keras_home):
    """Run every user-error invocation concurrently; return {name: (completed process, context)}."""
    run_dir, _ = trained_run
    tmp = tmp_path_factory.mktemp("user_errors")
    not_a_run = tmp / "not_a_run"
    not_a_run.mkdir()
    (not_a_run / "notes.txt").write_text("hello", encoding="utf-8")
    broken = _malformed_data_dir(tmp)
    out = tmp / "out"
    commands = {
        "bad-task": (["train", "--task", "21", "--data-dir", en_dir, "--out", out], ["--task", "'21'"]),
        "missing-data-dir": (["train", "--task", "1", "--data-dir", tmp / "nowhere", "--out", out], [str(tmp / "nowhere")]),
        "malformed-data": (["train", "--task", "1", "--data-dir", broken, "--out", out], [f"{broken / 'qa1_x_train.txt'}:3", "does not follow"]),
        "ask-not-a-run": (["ask", not_a_run, "--story", STORY, "--question", "Where is Mary?"], [str(not_a_run), "model.keras"]),
        "ask-unknown-word": (["ask", run_dir, "--story", "Mary flew to the moon.", "--question", "Where is Mary?"], ["'flew'", "'moon'"]),
        "unknown-model": (["train", "--task", "1", "--data-dir", en_dir, "--model", "lstm", "--out", out], ["--model", "invalid choice"]),
    }
    env = cli_env(KERAS_HOME=keras_home)
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = {name: pool.submit(run_cli, *args, env=env) for name, (args, _) in commands.items()}
        results = {name: (future.result(), commands[name][1]) for name, future in futures.items()}
    results["_out"] = out
    return results


@pytest.mark.parametrize(
    "case",
    ["bad-task", "missing-data-dir", "malformed-data", "ask-not-a-run", "ask-unknown-word"],
)
def test_user_errors_exit_2_with_one_line_and_no_traceback(user_errors, case):
    process, fragments = user_errors[case]
    line = assert_user_error(process, *fragments)
    assert line.startswith("memnet ")
    assert process.stdout == ""


def test_unknown_model_is_rejected_by_argparse(user_errors):
    process, fragments = user_errors["unknown-model"]
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    for fragment in fragments:
        assert fragment in process.stderr


def test_failed_train_commands_write_no_run_folder(user_errors):
    assert not user_errors["_out"].exists()  # (a leftover checkpoint: see test_a_failed_training_can_simply_be_rerun)


def test_a_failed_training_can_simply_be_rerun(tmp_path, capsys):
    from memnet.cli import main

    broken = _malformed_data_dir(tmp_path)
    out = tmp_path / "out"
    for _ in range(2):
        assert main(["train", "--task", "1", "--data-dir", str(broken), "--out", str(out), "--quiet"]) == 2
        error = capsys.readouterr().err
        assert f"{broken / 'qa1_x_train.txt'}:3" in error, error
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")]


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["train", "--task", "one", "--data-dir", "{en}", "--out", "{tmp}/out"], ["--task", "'one'"]),
        (["train", "--task", "1,99", "--data-dir", "{en}", "--out", "{tmp}/out"], ["'99'"]),
        (["train", "--task", "1", "--data-dir", "{en}", "--out", "{tmp}/occupied"], ["occupied", "--overwrite"]),
        (["ask", "{tmp}/nothing", "--story", "Mary went home.", "--question", "Where is Mary?"], ["nothing", "no such run folder"]),
        (["ask", "{run}", "--story", " ... ", "--question", "Where is Mary?"], ["story is empty"]),
        (["ask", "{run}", "--story", "Mary went to the kitchen.", "--question", "?"], ["question is empty"]),
        (["evaluate", "{run}", "--data-dir", "{tmp}/nowhere"], ["nowhere"]),
        (["evaluate", "{tmp}/occupied", "--data-dir", "{en}"], ["occupied", "not a complete memnet run"]),
        (["train", "--task", "1", "--data-dir", "{en}", "--model", "transformer", "--set", "hopz=2", "--out", "{tmp}/out"],
         ["'hopz' is not a setting of the transformer model", "hops"]),
        (["train", "--task", "1", "--data-dir", "{en}", "--set", "embedding_dim=wide", "--out", "{tmp}/out"],
         ["embedding_dim='wide'"]),
        (["train", "--task", "1", "--data-dir", "{en}", "--hops", "2", "--set", "hops=3", "--out", "{tmp}/out"],
         ["--set hops", "--hops"]),
        (["train", "--task", "1", "--data-dir", "{en}", "--set", "hops=2", "--set", "hops=3", "--out", "{tmp}/out"],
         ["--set hops: given twice"]),
        (["bench", "protocol", "1k-per-task", "--model", "transformer", "--set", "hops=0", "--data-root", "{tmp}", "--out", "{tmp}/out"],
         ["hops=0", "hops must be at least 1"]),
        (["bench", "protocol", "1k-per-task", "--model", "transformer", "--set", "hops=1", "--data-root", "{tmp}"],
         ["--set", "--out", "benchmarks/results"]),
        (["train", "--task", "1", "--data-dir", "{en}", "--epochs", "1", "--no-linear-start", "--learning-rate", "1e30",
          "--quiet", "--out", "{tmp}/out"], ["training diverged", "NaN or infinite in epoch 1", "lower learning rate"]),
    ],
    ids=["task-text", "task-list", "out-not-empty", "no-run-folder", "empty-story", "empty-question", "evaluate-no-data",
         "evaluate-not-a-run", "set-unknown-name", "set-bad-value", "set-and-flag", "set-twice", "protocol-set-bad-value",
         "protocol-set-without-out", "diverged"],
)
def test_more_user_errors_in_process(trained_run, en_dir, tmp_path, capsys, argv, fragments):
    """The same contract through ``memnet.cli.main`` in this process (cheaper than a subprocess each)."""
    from memnet.cli import main

    run_dir, _ = trained_run
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("keep me", encoding="utf-8")
    argv = [a.format(en=en_dir, tmp=tmp_path, run=run_dir) for a in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"memnet {argv[0]}: error: "), captured.err
    for fragment in fragments:
        assert fragment in lines[0]
    assert captured.out == ""
    assert [p.name for p in occupied.iterdir()] == ["keep.txt"] and not (tmp_path / "out").exists()
    assert not (tmp_path / ".out.checkpoint").exists()  # nothing to resume: a diverged training leaves none


def test_set_passes_model_settings_to_the_model(en_dir, tmp_path, capsys):
    from memnet.cli import main

    out = tmp_path / "run"
    argv = ["train", "--task", "1", "--data-dir", str(en_dir), "--model", "transformer", "--epochs", "1", "--quiet", "--out", str(out),
            "--set", "embedding_dim=8", "--set", "num_heads=2", "--set", "question_in_memory=true", "--set", "sentence_encoding=transformer"]
    assert main(argv) == 0
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))["model_config"]
    assert (config["embedding_dim"], config["num_heads"], config["question_in_memory"], config["sentence_encoding"]) == (
        8, 2, True, "transformer")
    with pytest.raises(SystemExit) as stop:
        main(["train", "--task", "1", "--set", "embedding_dim", "--out", str(tmp_path / "other")])
    assert stop.value.code == 2 and "expected NAME=VALUE" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-0.1", "fast", "inf"])
def test_a_bad_learning_rate_is_refused_by_argparse(value, capsys):
    from memnet.cli import main

    for command in (["train", "--task", "1"], ["bench", "protocol", "1k-per-task"]):
        with pytest.raises(SystemExit) as stop:
            main([*command, "--learning-rate", value])
        assert stop.value.code == 2
        assert "--learning-rate" in capsys.readouterr().err


def test_user_error_stderr_holds_only_memnets_line(user_errors):
    """Not even TensorFlow's own C++ lines (e.g. a failed CUDA probe on a machine without a GPU)."""
    process, _ = user_errors["ask-unknown-word"]
    assert process.returncode == 2
    assert [line for line in process.stderr.splitlines() if line.strip()] == memnet_stderr_lines(process.stderr)


# --------------------------------------------------------------------------- the Python API on the same run


@pytest.fixture(scope="module")
def answerer(trained_run):
    run_dir, _ = trained_run
    return memnet.load(run_dir)


def test_python_api_answers_like_the_cli(answerer):
    reply = answerer.ask(STORY, "Where is Mary?")
    assert reply.answer == "office" and 0.5 < reply.probability <= 1.0
    assert len(reply.attention) == 3 and all(len(hop) == 4 for hop in reply.attention)
    as_list = answerer.ask(STORY.splitlines(), "Where is John?")
    assert as_list.answer == "hallway"
    assert reply.to_json()["answer"] == "office"


def test_python_api_on_real_test_stories(answerer, en_dir):
    examples = parse_babi(find_task_file(en_dir, 1, "test"), task=1)[:200]
    replies = answerer.answer_examples(examples)
    correct = sum(reply.answer == example.answer for reply, example in zip(replies, examples))
    assert correct >= 190, correct


def test_sentences_beyond_the_memory_get_zero_attention(answerer):
    places = ["garden", "bedroom", "hallway", "office"]
    sentences = [f"{name} went to the {places[i % 4]}." for i, name in enumerate(["John", "Sandra", "Daniel"] * 20)]
    sentences.append("Mary went to the kitchen.")
    reply = answerer.ask(sentences, "Where is Mary?")
    attention = np.array(reply.attention)
    assert attention.shape == (3, 61)
    # the memory holds the most recent min(50, longest training story) sentences, as in the authors' code
    forgotten = 61 - answerer.memory_size
    assert 0 < answerer.memory_size <= 50 and not attention[:, :forgotten].any()
    np.testing.assert_allclose(attention.sum(-1), 1.0, atol=1e-4)  # a full memory: no empty slots
    # and the weights line up with those sentences: the model run directly on the most recent ones agrees
    recent = answerer.ask(sentences[forgotten:], "Where is Mary?")
    np.testing.assert_allclose(attention[:, forgotten:], np.array(recent.attention), atol=1e-5)
    assert recent.answer == reply.answer


def test_python_api_errors(answerer):
    with pytest.raises(UnknownWordError) as caught:
        answerer.ask("Mary flew to the kitchen.", "Where is Maria?")
    assert caught.value.words == ["flew", "maria"]
    with pytest.raises(BabiFormatError):
        answerer.ask(STORY, "?")
    with pytest.raises(BabiFormatError):
        answerer.ask("", "Where is Mary?")


def test_broken_run_folders_raise_run_dir_error(trained_run, tmp_path):
    run_dir, _ = trained_run
    with pytest.raises(RunDirError, match="missing"):
        memnet.load(tmp_path)

    corrupt = tmp_path / "corrupt"
    shutil.copytree(run_dir, corrupt)
    (corrupt / "model.keras").write_bytes(b"not a zip file")
    with pytest.raises(RunDirError, match="cannot load the model"):
        memnet.load(corrupt)

    mismatched = tmp_path / "mismatched"
    shutil.copytree(run_dir, mismatched)
    words = json.loads((mismatched / "vocab.json").read_text(encoding="utf-8"))["words"]
    (mismatched / "vocab.json").write_text(json.dumps({"words": words[:-2]}), encoding="utf-8")
    with pytest.raises(RunDirError, match="vocab.json"):
        memnet.load(mismatched)

    bad_config = tmp_path / "bad_config"
    shutil.copytree(run_dir, bad_config)
    (bad_config / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(RunDirError, match="config.json"):
        memnet.load(bad_config)


def test_a_result_is_dirty_only_when_memnet_code_differs_from_the_commit(tmp_path):
    import subprocess

    from memnet.provenance import git_commit

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    (tmp_path / "memnet").mkdir()
    (tmp_path / "memnet" / "model.py").write_text("x = 1\n")
    (tmp_path / "README.md").write_text("results\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init")
    clean = git_commit(tmp_path)
    assert clean and not clean.endswith("-dirty")
    (tmp_path / "README.md").write_text("new results\n")  # results and docs being written: still clean
    assert git_commit(tmp_path) == clean
    (tmp_path / "memnet" / "model.py").write_text("x = 2\n")  # the code changed
    assert git_commit(tmp_path) == clean + "-dirty"
