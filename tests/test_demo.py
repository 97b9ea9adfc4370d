"""The Streamlit demo: the library behind it (``memnet.demo``) and the page itself (``app.py``).

The page is driven in-process with Streamlit's ``AppTest``, as a user would: choose a task and a
run, pick or write a story, ask, read the answer and the attention of every hop, make mistakes.
One small task-1 run, trained once per session through ``train_experiment`` on the real bAbI data,
serves every test that needs a model; the page finds it through ``$MEMNET_RUNS_DIR``.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from conftest import BABI_ROOT

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from streamlit.testing.v1 import AppTest  # noqa: E402

from memnet import catalogue, demo  # noqa: E402
from memnet.data import parse_story_text  # noqa: E402
from memnet.errors import BabiFormatError, MemnetError, RunDirError, UnknownWordError  # noqa: E402
from memnet.experiment import train_experiment  # noqa: E402
from memnet.inference import Answer, QuestionAnswerer  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
APP = REPO_ROOT / "app.py"
BABI_EN = BABI_ROOT / "en"
APP_TIMEOUT = 120  # seconds for one script run of the page (the first one imports TensorFlow)

OWN_STORY = "Mary moved to the bathroom.\nJohn went to the hallway.\nDaniel travelled to the office."


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory) -> Path:
    """A folder holding ONE task-1 run (``qa1``: 10 epochs after 20 of linear start, about 10-20 s)."""
    if not BABI_EN.is_dir():
        pytest.skip(f"real bAbI v1.2 data not found at {BABI_EN}")
    runs = tmp_path_factory.mktemp("demo_runs")
    train_experiment(tasks=[1], data_dir=BABI_EN, out_dir=runs / "qa1", epochs=10, runs=1, verbose=0,
                     training_overrides=demo.QUICK_TRAINING)
    return runs


@pytest.fixture(scope="session")
def answerer(demo_runs):
    return demo.load_answerer(demo_runs / "qa1")


@pytest.fixture
def page(demo_runs, monkeypatch) -> AppTest:
    """The demo page, run once, pointed at the session's runs folder."""
    monkeypatch.setenv(demo.RUNS_DIR_ENV_VAR, str(demo_runs))
    monkeypatch.delenv("MEMNET_BABI_DIR", raising=False)
    app = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT)
    app.run()
    assert not app.exception, app.exception
    return app


def make_answer(attention, sentences, answer="garden", probability=0.9) -> Answer:
    return Answer(answer, probability, [("kitchen", 0.06), ("office", 0.04)], attention, sentences)


def table_with_columns(app: AppTest, *columns: str) -> pd.DataFrame:
    """The one table on the page that has all of ``columns``."""
    tables = [frame.value for frame in app.dataframe if set(columns) <= set(frame.value.columns)]
    assert len(tables) == 1, [list(frame.value.columns) for frame in app.dataframe]
    return tables[0]


def texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


# ============================================================================ memnet.demo, no model


def test_find_runs_lists_complete_runs_and_skips_other_folders(demo_runs, tmp_path):
    assert demo.find_runs(tmp_path / "not-yet") == []  # a fresh machine: no runs folder yet
    assert demo.find_runs(tmp_path) == []
    (tmp_path / "notes").mkdir()
    (tmp_path / ".qa1.abc.tmp").mkdir()  # the staging folder of a run being written
    assert demo.find_runs(tmp_path) == []

    [run] = demo.find_runs(demo_runs)
    assert run.path == demo_runs / "qa1" and run.tasks == (1,) and run.model == "memn2n" and run.hops == 3
    assert run.label.startswith("qa1 · memn2n, 3 hops · task 1 · test error ")
    assert demo.find_runs(demo_runs / "qa1") == [run]  # a run folder named directly
    assert demo.runs_for_task([run], 1) == [run] and demo.runs_for_task([run], 2) == []


def test_a_folder_that_is_not_a_run_is_a_clear_error(tmp_path):
    half_run = tmp_path / "half"
    half_run.mkdir()
    (half_run / "config.json").write_text(json.dumps({"model": "memn2n", "tasks": [1], "memory_size": 50}))
    with pytest.raises(RunDirError, match="missing model.keras, vocab.json, metrics.json"):
        demo.find_runs(half_run)
    a_file = tmp_path / "model.keras"
    a_file.write_text("not a folder")
    with pytest.raises(RunDirError, match="not a folder"):
        demo.find_runs(a_file)


def test_new_run_folders_never_overwrite(tmp_path):
    assert demo.new_run_folder(tmp_path, 3) == tmp_path / "qa3"
    (tmp_path / "qa3").mkdir()
    (tmp_path / "qa3-2").mkdir()
    assert demo.new_run_folder(tmp_path, 3) == tmp_path / "qa3-3"


def test_test_stories_round_trip_through_the_story_box():
    if not BABI_EN.is_dir():
        pytest.skip(f"real bAbI v1.2 data not found at {BABI_EN}")
    examples = demo.load_test_stories(BABI_EN, 2)
    assert len(examples) == 1000 and all(e.task == 2 for e in examples)
    index, example = demo.pick_test_example(examples, 7)
    assert index == 7 and example is examples[7]
    story, question = demo.story_as_text(example), demo.question_as_text(example)
    assert story.splitlines()[0][0].isupper() and question.endswith("?")
    assert tuple(parse_story_text(story)) == example.story  # what the box shows is what the model reads
    facts = demo.known_facts(example, story, question)
    assert facts == demo.KnownFacts(example.answer, example.supporting) and len(facts.supporting) == 2
    assert demo.known_facts(example, story + "\nMary went to the garden.", question) is None  # edited: unknown
    assert demo.known_facts(example, story, "Who has the football?") is None  # another question

    rng = np.random.default_rng(0)
    picks = {demo.pick_test_example(examples, rng=rng)[0] for _ in range(20)}
    assert len(picks) > 15 and all(0 <= i < 1000 for i in picks)
    with pytest.raises(MemnetError, match=r"choose 0\.\.999"):
        demo.pick_test_example(examples, 1000)


def test_attention_table_has_a_row_per_sentence_and_a_column_per_hop():
    sentences = ["mary went to the kitchen", "john moved to the garden", "mary went to the garden"]
    attention = [[0.1, 0.2, 0.7], [0.0, 0.05, 0.95]]
    table = demo.attention_table(make_answer(attention, sentences), supporting=[2])
    assert list(table.columns) == ["sentence", "hop 1", "hop 2", "supporting"]
    assert list(table.index) == [1, 2, 3] and list(table["sentence"]) == sentences
    assert table["hop 2"].tolist() == [0.0, 0.05, 0.95]
    assert table["supporting"].tolist() == ["", "", "✓"]
    assert "supporting" not in demo.attention_table(make_answer(attention, sentences)).columns  # unknown: no column

    html = demo.style_attention_table(table).to_html()
    assert "rgba(28, 131, 225, 0.950)" in html and "0.95" in html  # shaded by weight, shown to 2 decimals
    lines = demo.hop_summaries(make_answer(attention, sentences), supporting=[2])
    assert lines[1] == "Hop 2 looked most at sentence 3, “mary went to the garden” (95%) — a supporting fact."


def test_answer_formatting():
    answer = make_answer([[1.0]], ["mary went to the garden"], probability=0.987)
    assert demo.answer_headline(answer) == "**garden** with probability 98.7%"
    alternatives = demo.alternatives_table(answer)
    assert alternatives.to_dict("list") == {"answer": ["kitchen", "office"], "probability": [0.06, 0.04]}


def test_error_messages_are_one_readable_line():
    assert demo.error_message(UnknownWordError(["zorb", "blip"])).startswith("The model has never seen “blip”, “zorb”")
    assert demo.error_message(BabiFormatError("<story>", None, "the story is empty: give a sentence")) == (
        "The story is empty: give a sentence."
    )
    assert demo.error_message(RunDirError("runs/x: no such run folder")) == "runs/x: no such run folder"


def test_training_progress_reports_every_epoch_of_a_real_fit():
    reports = []
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    model.fit(np.zeros((8, 2)), np.zeros(8), epochs=4, verbose=0,
              callbacks=[demo.TrainingProgress(lambda fraction, message: reports.append((fraction, message)))])
    assert [fraction for fraction, _ in reports] == [0.25, 0.5, 0.75, 1.0]
    assert reports[0][1].startswith("epoch 1 of 4 · training accuracy ")


# ============================================================================ memnet.demo, with a model


def test_ask_answers_a_known_story_and_measures_latency(answerer, record_property):
    answer = demo.ask(answerer, OWN_STORY, "Where is John?")
    assert answer.answer == "hallway" and answer.probability > 0.5
    assert len(answer.attention) == 3 and all(len(hop) == 3 for hop in answer.attention)
    assert np.argmax(answer.attention[-1]) == 1  # the last hop reads the sentence about John

    seconds = []
    for _ in range(30):
        start = time.perf_counter()
        demo.ask(answerer, OWN_STORY, "Where is Mary?")
        seconds.append(time.perf_counter() - start)
    median_ms = 1000 * statistics.median(seconds)
    record_property("answer_latency_ms", round(median_ms, 2))  # reported, not asserted (machines vary)
    print(f"\nanswer latency on CPU, model loaded: median {median_ms:.1f} ms over 30 questions")


def test_compiled_inference_answers_exactly_like_the_eager_model(answerer, demo_runs):
    eager = QuestionAnswerer.load(demo_runs / "qa1")
    examples = demo.load_test_stories(BABI_EN, 1)[:100]
    for compiled_answer, eager_answer in zip(answerer.answer_examples(examples), eager.answer_examples(examples)):
        assert compiled_answer.answer == eager_answer.answer
        assert compiled_answer.probability == pytest.approx(eager_answer.probability, abs=1e-5)
        np.testing.assert_allclose(compiled_answer.attention, eager_answer.attention, atol=1e-5)
    for example in examples[:5]:  # stories of 2 to 10 sentences, one at a time
        demo.ask(answerer, demo.story_as_text(example), demo.question_as_text(example))
    assert answerer.model._forward.experimental_get_tracing_count() == 1  # traced once, at load


def test_ask_rejects_bad_input_with_memnet_errors(answerer):
    with pytest.raises(BabiFormatError, match="there is no story"):
        demo.ask(answerer, "  \n", "Where is Mary?")
    with pytest.raises(BabiFormatError, match="there is no question"):
        demo.ask(answerer, OWN_STORY, "")
    with pytest.raises(UnknownWordError) as caught:
        demo.ask(answerer, OWN_STORY, "Where is the unicorn?")
    message = demo.error_message(caught.value, answerer)
    assert "“unicorn”" in message and "Words it knows: " in message and "bathroom" in message


# ============================================================================ the page (AppTest)


def test_page_loads_with_a_task_a_run_and_a_test_story_answered(page, demo_runs):
    assert page.selectbox(key="task").value == 1
    assert f"Skill: {catalogue.get_task(1).skill}" in texts(page.sidebar.caption)
    assert page.selectbox(key="run").value == str(demo_runs / "qa1")
    assert page.selectbox(key="run").options[0].startswith("qa1 · memn2n, 3 hops · task 1")

    examples = demo.load_test_stories(BABI_EN, 1)
    assert page.number_input(key="story_index").value == 0
    assert page.text_area(key="story").value == demo.story_as_text(examples[0])
    assert page.text_input(key="question").value == demo.question_as_text(examples[0])
    assert page.success[0].value.startswith(f"**{examples[0].answer}** with probability ")
    assert f"The test set's answer is **{examples[0].answer}**: the model is right." in texts(page.caption)
    assert not page.error


def test_page_shows_the_attention_of_every_hop_with_supporting_facts(page):
    page.number_input(key="story_index").set_value(5).run()  # a test story by index
    example = demo.load_test_stories(BABI_EN, 1)[5]
    assert page.text_area(key="story").value == demo.story_as_text(example)

    table = table_with_columns(page, "sentence", "hop 1", "hop 2", "hop 3", "supporting")
    assert len(table) == len(example.story)
    assert list(table["sentence"]) == [" ".join(sentence) for sentence in example.story]
    for hop in ("hop 1", "hop 2", "hop 3"):
        assert 0.0 < table[hop].sum() <= 1.0 + 1e-3  # over the sentences; the rest went to empty memory slots
    assert [i for i, mark in enumerate(table["supporting"]) if mark == "✓"] == list(example.supporting)
    assert table["hop 3"].to_numpy().argmax() in example.supporting  # the last hop finds the fact
    assert texts(page.markdown).count("looked most at sentence") == 3


def test_page_answers_a_story_written_by_the_user(page):
    page.button(key="clear_story").click().run()
    assert page.text_area(key="story").value == "" and page.info  # asks for a story and a question
    page.text_area(key="story").input(OWN_STORY)
    page.text_input(key="question").input("Where is Mary?").run()
    assert page.success[0].value.startswith("**bathroom** with probability ")
    table = table_with_columns(page, "sentence", "hop 1")
    assert "supporting" not in table.columns  # the user's own story: no supporting facts known
    assert list(table.columns) == ["sentence", "hop 1", "hop 2", "hop 3"] and len(table) == 3
    alternatives = table_with_columns(page, "answer", "probability")
    assert len(alternatives) == demo.TOP_K - 1 and "bathroom" not in set(alternatives["answer"])


def test_page_picks_a_random_test_story(page):
    page.button(key="random_story").click().run()
    index = page.number_input(key="story_index").value
    example = demo.load_test_stories(BABI_EN, 1)[index]
    assert page.text_area(key="story").value == demo.story_as_text(example)
    assert "The test set's answer is" in texts(page.caption)


def test_page_reports_bad_input_without_a_traceback(page):
    page.text_input(key="question").input("Where is the unicorn?").run()
    assert not page.exception and not page.success
    assert "The model has never seen “unicorn”" in page.error[0].value

    page.text_area(key="story").input("")
    page.text_input(key="question").input("Where is Mary?").run()
    assert not page.exception
    assert page.error[0].value.startswith("There is no story to ask about")


def test_page_says_when_a_folder_is_not_a_run(page, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    page.text_input(key="runs_folder").input(str(tmp_path)).run()
    assert not page.exception
    assert "not a complete memnet run (missing model.keras" in page.error[0].value


def test_page_offers_training_when_the_task_has_no_run(page, demo_runs):
    page.selectbox(key="task").select(2).run()
    assert not page.exception
    assert f"No trained model for task 2 in {demo_runs}" in page.info[0].value
    assert page.button(key="train").label == "Train a model on task 2"
    assert "Skill: " in texts(page.sidebar.caption)


def small_task_1_folder(folder: Path) -> Path:
    """The first 30 training and 10 test stories of the real task 1 (150 and 50 questions): quick to train on."""
    folder.mkdir()
    for split, stories in (("train", 30), ("test", 10)):
        name = f"qa1_single-supporting-fact_{split}.txt"
        lines = (BABI_EN / name).read_text(encoding="utf-8").splitlines(keepends=True)
        (folder / name).write_text("".join(lines[: 15 * stories]), encoding="utf-8")  # 15 lines per story
    return folder


def test_page_trains_a_model_when_the_task_has_none(tmp_path, monkeypatch):
    if not BABI_EN.is_dir():
        pytest.skip(f"real bAbI v1.2 data not found at {BABI_EN}")
    monkeypatch.setenv(demo.RUNS_DIR_ENV_VAR, str(tmp_path / "runs"))
    monkeypatch.delenv("MEMNET_BABI_DIR", raising=False)
    app = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT)
    app.run()
    assert "No trained model for task 1" in app.info[0].value
    app.text_input(key="data_folder").input(str(small_task_1_folder(tmp_path / "babi")))
    app.number_input(key="train_epochs").set_value(1)
    app.button(key="train").click().run()
    assert not app.exception and not app.error

    run_dir = tmp_path / "runs" / "qa1"
    assert json.loads((run_dir / "metrics.json").read_text())["data_dir"] == str(tmp_path / "babi")
    assert app.success[0].value.startswith(f"Trained {run_dir} in ")
    assert app.selectbox(key="run").value == str(run_dir)  # the new run is selected and used
    assert app.text_area(key="story").value.startswith("John travelled to the hallway.")  # test story 0 of task 1
    assert table_with_columns(app, "sentence", "hop 1", "hop 2", "hop 3", "supporting") is not None


def test_without_bAbI_the_demo_uses_generated_tasks_and_says_so(tmp_path, monkeypatch):
    """A fresh machine: no bAbI anywhere, so stories (and in-page training) come from memnet's generator."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))  # no downloaded bAbI in here
    monkeypatch.delenv("MEMNET_BABI_DIR", raising=False)
    folder, note = demo.stories_folder(run=None, data_dir=None)
    assert folder.is_relative_to(tmp_path / "keras_home") and "using memnet's generated bAbI-style tasks" in note
    examples = demo.load_test_stories(folder, 1)
    assert len(examples) == 1000 and all(example.supporting for example in examples)
