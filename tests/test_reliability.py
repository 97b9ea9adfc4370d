"""Reliability: a killed training resumes to the same result, runs reproduce, untrusted model files are refused."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import BABI_ROOT

from memnet.experiment import checkpoint_dir, train_experiment

BABI_EN = BABI_ROOT / "en"
pytestmark = pytest.mark.skipif(not BABI_EN.is_dir(), reason=f"real bAbI data not found at {BABI_EN}")

TRAIN_ARGS = ["--task", "1", "--data-dir", str(BABI_EN), "--epochs", "12", "--no-linear-start", "--runs", "2", "--quiet"]


def _train_command(out, *extra):
    return [sys.executable, "-m", "memnet", "train", *TRAIN_ARGS, "--out", str(out), *extra]


def _errors(run_dir):
    metrics = json.loads((Path(run_dir) / "metrics.json").read_text())
    return metrics["per_task"], metrics["run_train_errors"]


def test_training_killed_mid_run_resumes_to_the_same_result(tmp_path):
    uninterrupted = tmp_path / "uninterrupted"
    subprocess.run(_train_command(uninterrupted), check=True, capture_output=True, timeout=600)

    killed = tmp_path / "killed"
    process = subprocess.Popen(_train_command(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    weights = None
    deadline = time.monotonic() + 300
    # wait until at least two epochs are checkpointed, then kill without warning
    while time.monotonic() < deadline and process.poll() is None:
        metadata = list(checkpoint_dir(killed).glob("*/training_metadata.json"))
        if metadata and json.loads(metadata[0].read_text() or "{}").get("epoch", 0) >= 2:
            weights = metadata[0]
            break
        time.sleep(0.05)
    assert process.poll() is None, "training finished before it could be killed; make it longer"
    assert weights is not None, "no checkpoint appeared"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (killed / "metrics.json").exists()  # nothing that looks complete

    again = subprocess.run(_train_command(killed), capture_output=True, text=True, timeout=600)
    assert again.returncode == 2 and "--resume" in again.stderr  # an interrupted run is never clobbered

    subprocess.run(_train_command(killed, "--resume"), check=True, capture_output=True, timeout=600)
    assert _errors(killed) == _errors(uninterrupted)
    assert not checkpoint_dir(killed).exists()  # cleaned up on success


def test_the_same_seed_gives_the_same_metrics_and_weights(tmp_path):
    def train(out):
        train_experiment(
            tasks=[1], data_dir=BABI_EN, out_dir=out, runs=1, seed=3, epochs=4,
            training_overrides={"linear_start_epochs": 2},
        )
        return json.loads((out / "metrics.json").read_text()), keras.saving.load_model(out / "model.keras")

    first_metrics, first_model = train(tmp_path / "a")
    second_metrics, second_model = train(tmp_path / "b")
    assert first_metrics["per_task"] == second_metrics["per_task"]
    for a, b in zip(first_model.weights, second_model.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_a_model_file_that_would_run_code_is_refused(tmp_path):
    """A .keras file holding a Lambda layer (arbitrary Python) must not load: memnet loads in safe mode."""
    from memnet.errors import RunDirError
    from memnet.inference import QuestionAnswerer

    run = tmp_path / "crafted"
    run.mkdir()
    inputs = {"story": keras.Input((None, None), dtype="int32", name="story"),
              "question": keras.Input((None,), dtype="int32", name="question")}
    payload = keras.layers.Lambda(lambda x: keras.ops.cast(x, "float32") * 0 + 1.0)(inputs["question"])
    keras.Model(inputs, payload).save(run / "model.keras")
    (run / "vocab.json").write_text(json.dumps({"words": ["<nil>", "mary"]}))
    (run / "config.json").write_text(json.dumps({"model": "memn2n", "tasks": [1], "memory_size": 50}))
    (run / "metrics.json").write_text("{}")

    with pytest.raises(RunDirError, match="cannot load the model"):
        QuestionAnswerer.load(run)
    result = subprocess.run(
        [sys.executable, "-m", "memnet", "ask", str(run), "--story", "mary", "--question", "mary?"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "cannot load the model" in result.stderr


def test_a_corrupted_model_file_gives_a_clear_error(tmp_path):
    from memnet.errors import RunDirError
    from memnet.inference import QuestionAnswerer

    run = tmp_path / "corrupt"
    run.mkdir()
    (run / "model.keras").write_bytes(b"PK\x03\x04 not really a zip")
    (run / "vocab.json").write_text(json.dumps({"words": ["<nil>", "mary"]}))
    (run / "config.json").write_text(json.dumps({"model": "memn2n", "tasks": [1], "memory_size": 50}))
    (run / "metrics.json").write_text("{}")
    with pytest.raises(RunDirError, match="model.keras"):
        QuestionAnswerer.load(run)


def test_extremely_long_lines_and_stories_parse_and_keep_the_latest_memories(tmp_path):
    from memnet.data import Vocabulary, parse_babi, vectorize

    long_sentence = " ".join(["mary"] * 20000) + " went to the kitchen."
    lines = [f"{i} John went to the garden." for i in range(1, 5001)]
    lines += ["5001 " + long_sentence, "5002 Where is Mary?\tkitchen\t5001"]
    path = tmp_path / "qa1_long_train.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (example,) = parse_babi(path)
    assert len(example.story) == 5001 and len(example.story[-1]) == 20004
    encoded = vectorize([example], Vocabulary.from_examples([example]), memory_size=50, sentence_size=10)
    assert encoded.story.shape == (1, 50, 10)  # the 50 most recent sentences, words cut to 10
    assert encoded.supporting[0, 49]  # the supporting fact is the newest slot


def test_a_question_without_a_question_mark_is_accepted_when_tab_separated():
    """Languages differ in punctuation: the TAB-separated answer, not '?', makes a question."""
    from memnet.data import parse_babi

    (example,) = parse_babi(["1 Mary went home.", "2 Where is Mary\thome\t1"])
    assert example.question == ("where", "is", "mary") and example.answer == "home"
