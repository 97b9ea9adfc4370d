"""memnet's demo: ask a trained memory network about a story and see where each hop looked.

    streamlit run app.py

This file only lays out the page; what it shows is computed by :mod:`memnet.demo` (tested in
``tests/test_demo.py``). Runs are looked for in ``$MEMNET_RUNS_DIR`` or ``runs/``; with none for
the chosen task, the page offers to train one on the spot.
"""

from __future__ import annotations

import os
import time

import numpy as np
import streamlit as st

from memnet import catalogue, demo
from memnet.data.sources import ENV_VAR as BABI_DIR_ENV_VAR
from memnet.errors import MemnetError

st.set_page_config(page_title="memnet · ask a memory network", page_icon="🧠", layout="wide")


@st.cache_resource(show_spinner="Loading the model…")
def load_answerer(run_path: str, saved_at: float):
    """One loaded model per run folder (``saved_at`` makes a retrained folder load again)."""
    return demo.load_answerer(run_path)


@st.cache_resource(show_spinner="Reading the test stories…")
def load_test_stories(data_dir: str, task: int):
    return demo.load_test_stories(data_dir, task)


def show_test_story(examples, index: int) -> None:
    """Put test question ``index`` into the story and question boxes (and the index box)."""
    index, example = demo.pick_test_example(examples, index)
    st.session_state.story_index = index
    st.session_state.story = demo.story_as_text(example)
    st.session_state.question = demo.question_as_text(example)


def show_chosen_story(examples) -> None:
    show_test_story(examples, st.session_state.story_index)


def show_random_story(examples) -> None:
    show_test_story(examples, demo.pick_test_example(examples, rng=np.random.default_rng())[0])


def clear_story() -> None:
    st.session_state.story = ""
    st.session_state.question = ""


def train_here(task: int, runs_folder: str, data_folder: str) -> None:
    """A button that trains a quick run on ``task`` with a progress bar, then selects it."""
    epochs = st.number_input(
        "Epochs after linear start", min_value=1, max_value=200, value=demo.DEMO_EPOCHS, key="train_epochs"
    )
    if not st.button(f"Train a model on task {task}", key="train", type="primary"):
        return
    bar = st.progress(0.0, text="Preparing the data…")
    try:
        trained = demo.train_demo_run(
            task, runs_folder, data_dir=data_folder or None, epochs=int(epochs),
            report=lambda fraction, message: bar.progress(fraction, text=message),
        )
    except MemnetError as error:
        st.error(demo.error_message(error))
        return
    test_error = trained.metrics["mean_test_error"]
    st.session_state.select_run = str(trained.path)  # picked up by the run selector on the rerun
    st.session_state.training_news = (
        f"Trained {trained.path} in {trained.seconds:.0f} s (test error {test_error:.1f}%).", trained.note
    )
    st.rerun()


# ---- sidebar: task, runs, data -----------------------------------------------------------------

with st.sidebar:
    st.header("Model")
    task = st.selectbox("bAbI task", list(catalogue.tasks()), format_func=demo.task_label, key="task")
    st.caption(f"Skill: {catalogue.get_task(task).skill}")
    runs_folder = st.text_input(
        "Runs folder", value=str(demo.default_runs_dir()), key="runs_folder",
        help="A run folder, or a folder of run folders (as written by `memnet train --out`).",
    )
    data_folder = st.text_input(
        "bAbI folder (optional)", value=os.environ.get(BABI_DIR_ENV_VAR, ""), key="data_folder",
        help="A folder of qaN_*_{train,test}.txt files. Empty: the run's own data, real bAbI if found, "
        "else memnet's generated tasks.",
    )
    try:
        task_runs = demo.runs_for_task(demo.find_runs(runs_folder), task)
    except MemnetError as error:
        st.error(demo.error_message(error))
        st.stop()
    runs_by_path = {str(run.path): run for run in task_runs}
    if st.session_state.get("select_run") in runs_by_path:
        st.session_state.run = st.session_state.pop("select_run")
    run = None
    if task_runs:
        run_path = st.selectbox(
            "Trained run", list(runs_by_path), format_func=lambda path: runs_by_path[path].label, key="run"
        )
        run = runs_by_path[run_path]
        with st.expander("Train another run on this task"):
            train_here(task, runs_folder, data_folder)

st.title("Ask a memory network")
st.caption(
    "An end-to-end memory network (Sukhbaatar et al., 2015) stores each sentence of the story in memory, "
    "then reads it in several *hops*: each hop attends to the sentences that matter for the question, "
    "and the last one answers."
)

if "training_news" in st.session_state:
    done, note = st.session_state.pop("training_news")
    st.success(done)
    if note:
        st.info(note)

if run is None:
    st.info(demo.no_runs_message(runs_folder, task))
    train_here(task, runs_folder, data_folder)
    st.stop()

# ---- the model and the test stories ----------------------------------------------------------

try:
    answerer = load_answerer(str(run.path), run.saved_at)
    stories_dir, stories_note = demo.stories_folder(run, data_folder or None)
    examples = load_test_stories(str(stories_dir), task)
except MemnetError as error:
    st.error(demo.error_message(error))
    st.stop()
if stories_note:
    st.info(stories_note)

stories_from = f"{stories_dir}|{task}"
if st.session_state.get("stories_from") != stories_from:  # a new task or folder: start at its first story
    st.session_state.stories_from = stories_from
    show_test_story(examples, 0)

# ---- the story and the question ----------------------------------------------------------------

story_column, answer_column = st.columns([3, 2], gap="large")
with story_column:
    pick, random_pick, own = st.columns([2, 1, 1], vertical_alignment="bottom")
    pick.number_input(
        f"Test story (0 to {len(examples) - 1} in {stories_dir.name})", min_value=0, max_value=len(examples) - 1,
        key="story_index", on_change=show_chosen_story, args=(examples,),
    )
    random_pick.button("Random story", key="random_story", on_click=show_random_story, args=(examples,))
    own.button("Write my own", key="clear_story", on_click=clear_story)
    story = st.text_area("Story (one sentence per line)", key="story", height=260)
    question = st.text_input("Question", key="question")

# ---- the answer ------------------------------------------------------------------------------

with answer_column:
    st.subheader("Answer")
    if not story.strip() and not question.strip():
        st.info("Write a story and a question, or pick a test story.")
        st.stop()
    try:
        started = time.perf_counter()
        answer = demo.ask(answerer, story, question)
        answer_ms = 1000 * (time.perf_counter() - started)
    except MemnetError as error:
        st.error(demo.error_message(error, answerer))
        st.stop()
    facts = demo.known_facts(examples[st.session_state.story_index], story, question)
    st.success(demo.answer_headline(answer))
    if facts is not None:
        verdict = "right" if facts.answer == answer.answer else "wrong"
        st.caption(f"The test set's answer is **{facts.answer}**: the model is {verdict}.")
    probability_bar = st.column_config.ProgressColumn("probability", min_value=0.0, max_value=1.0, format="percent")
    st.dataframe(
        demo.alternatives_table(answer), hide_index=True, key="alternatives", column_config={"probability": probability_bar}
    )

# ---- where each hop looked ---------------------------------------------------------------------

supporting = facts.supporting if facts is not None else None
st.subheader("Where the memory looked")
st.caption(
    "Attention of every hop over the story's sentences (darker: more weight)"
    + (", with the test set's supporting facts marked ✓." if supporting is not None else ".")
)
st.dataframe(demo.style_attention_table(demo.attention_table(answer, supporting)), key="attention")
st.markdown("\n".join(f"- {line}" for line in demo.hop_summaries(answer, supporting)))
st.caption(f"Run: {run.label} · {run.path} · answered in {answer_ms:.0f} ms")
