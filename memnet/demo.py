"""The logic behind the Streamlit demo (``streamlit run app.py``), kept here so that it is tested.

The demo lets someone meet memnet in a minute: pick a bAbI task and a trained run (or train one on
the spot), pick a test story or write one, ask a question, and see the answer together with where
each hop of the memory network looked. ``app.py`` only lays out the page; everything it shows is
computed by the functions below:

* finding and loading runs: :func:`default_runs_dir`, :func:`find_runs`, :func:`runs_for_task`,
  :func:`load_answerer` (inference compiled once by :class:`CompiledInference`: answers in milliseconds);
* stories: :func:`stories_folder`, :func:`load_test_stories`, :func:`pick_test_example`,
  :func:`story_as_text`, :func:`question_as_text`, :func:`known_facts`;
* answering: :func:`ask`, :func:`answer_headline`, :func:`alternatives_table`;
* attention: :func:`attention_table`, :func:`style_attention_table`, :func:`hop_summaries`;
* training in the page: :func:`train_demo_run` with a :class:`TrainingProgress` callback;
* errors: :func:`error_message` turns any :class:`~memnet.errors.MemnetError` into one readable line.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Callable, Sequence

import keras
import numpy as np
import pandas as pd

from memnet import catalogue
from memnet.data import QAExample, find_task_file, parse_babi, parse_story_text, tokenize
from memnet.data.sources import looks_like_babi_dir, resolve_data_dir
from memnet.errors import BabiFormatError, DataNotFoundError, MemnetError, RunDirError, UnknownWordError
from memnet.experiment import RUN_FILES, read_run_config, train_experiment
from memnet.inference import Answer, QuestionAnswerer

RUNS_DIR_ENV_VAR = "MEMNET_RUNS_DIR"  # where the demo looks for runs unless the page says otherwise
DEFAULT_RUNS_DIR = "runs"
DEMO_EPOCHS = 20  # epochs after linear start for a run trained in the page (task 1: about 15 s)
TOP_K = 5  # the answer and four alternatives
# Training in the page skips the per-epoch validation pass (about a third of a short run's time);
# the run's validation error is still measured once at the end and written to metrics.json.
QUICK_TRAINING = {"validation_freq": 0}

# The heat-map colour of the attention table (Streamlit's blue), as "r, g, b".
ATTENTION_RGB = "28, 131, 225"


# ----------------------------------------------------------------------------------------------
# Runs


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """What the page needs to know about a trained run folder, read from its JSON files.

    Attributes:
        path: the run folder.
        tasks: the tasks it was trained on.
        model: the model's name (``memn2n``).
        hops: the number of memory hops, when the config records it.
        mean_test_error: mean test error in percent, from ``metrics.json``.
        data_dir: the bAbI folder it was trained on, from ``metrics.json``.
    """

    path: Path
    tasks: tuple[int, ...]
    model: str
    hops: int | None
    mean_test_error: float | None
    data_dir: Path | None

    @property
    def label(self) -> str:
        """One line for a drop-down: ``qa1 · memn2n, 3 hops · task 1 · test error 0.3%``."""
        parts = [self.path.name, self.model + (f", {self.hops} hops" if self.hops else "")]
        parts.append(("task " if len(self.tasks) == 1 else "tasks ") + ",".join(map(str, self.tasks)))
        if self.mean_test_error is not None:
            parts.append(f"test error {self.mean_test_error:.1f}%")
        return " · ".join(parts)

    @property
    def saved_at(self) -> float:
        """When the run was written (the time of ``metrics.json``), so that caches notice a retrained run."""
        return (self.path / "metrics.json").stat().st_mtime


def default_runs_dir() -> Path:
    """``$MEMNET_RUNS_DIR`` if set, else ``runs`` (where ``memnet train --out runs/qa1`` puts runs)."""
    return Path(os.environ.get(RUNS_DIR_ENV_VAR) or DEFAULT_RUNS_DIR)


def read_run_summary(run_dir) -> RunSummary:
    """A run folder's summary; :class:`RunDirError` if it is not a complete run."""
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    try:
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    except ValueError as error:
        raise RunDirError(f"{run_dir / 'metrics.json'}: not valid JSON ({error})") from None
    mean_error = metrics.get("mean_test_error")
    data_dir = metrics.get("data_dir")
    return RunSummary(
        path=run_dir,
        tasks=tuple(int(t) for t in config["tasks"]),
        model=str(config["model"]),
        hops=config.get("model_config", {}).get("hops"),
        mean_test_error=float(mean_error) if isinstance(mean_error, (int, float)) else None,
        data_dir=Path(data_dir) if data_dir else None,
    )


def find_runs(folder) -> list[RunSummary]:
    """The trained runs in ``folder``: the folder itself if it is a run, else its run subfolders.

    A folder that does not exist yet holds no runs (training will create it). Subfolders that are
    not runs (notes, hidden staging folders of a run being written) are left out.

    Raises:
        RunDirError: ``folder`` is a file, or holds some but not all of a run's files.
    """
    folder = Path(folder).expanduser()
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise RunDirError(f"{folder}: not a folder (name a run folder, or a folder of run folders)")
    if any((folder / name).exists() for name in RUN_FILES):
        return [read_run_summary(folder)]  # meant as a run: an incomplete one is an error, said so
    runs = []
    for child in sorted(folder.iterdir()):
        if child.is_dir() and not child.name.startswith("."):
            try:
                runs.append(read_run_summary(child))
            except RunDirError:
                continue
    return runs


def runs_for_task(runs: Sequence[RunSummary], task: int) -> list[RunSummary]:
    """The runs that were trained on ``task`` (alone or jointly with others)."""
    return [run for run in runs if int(task) in run.tasks]


def no_runs_message(folder, task: int) -> str:
    """What to say when ``folder`` holds no run for ``task``."""
    return (
        f"No trained model for task {task} in {folder}. A run folder holds "
        f"{', '.join(RUN_FILES)}; train one below, or with `memnet train --task {task} --out {Path(folder) / f'qa{task}'}`."
    )


def task_label(task: int) -> str:
    """``1 · single-supporting-fact``: a task as the task picker shows it."""
    return f"{task} · {catalogue.get_task(task).name}"


class CompiledInference:
    """A model's inference pass (logits and attention) as one compiled TensorFlow graph.

    Called eagerly, MemN2N runs a few hundred small operations one by one from Python; in
    Streamlit's script thread that takes a quarter to a full second on a busy CPU. Compiled once for
    any batch, story length and sentence length (``None`` dimensions, so it is traced once), the
    same pass takes a few milliseconds and gives the same numbers.

    It stands in for the model inside a :class:`~memnet.inference.QuestionAnswerer`: it is called
    as ``model(inputs, training=False, return_attention=True)``.
    """

    def __init__(self, model: keras.Model):
        import tensorflow as tf

        self.model = model
        signature = {
            "story": tf.TensorSpec([None, None, None], tf.int32),  # [batch, sentences, words]
            "question": tf.TensorSpec([None, None], tf.int32),  # [batch, words]
        }
        self._forward = tf.function(self._answer_and_attention, input_signature=[signature], autograph=False)

    def _answer_and_attention(self, inputs):
        return self.model(inputs, training=False, return_attention=True)

    def __call__(self, inputs, training=False, return_attention=True):
        if training or not return_attention:
            raise ValueError("CompiledInference only runs inference with attention")
        return self._forward({key: np.asarray(value, dtype=np.int32) for key, value in inputs.items()})

    def trace(self) -> None:
        """Compile now (about a second), on a one-word story and question, rather than at the first question."""
        one_word = np.ones((1, 1), np.int32)  # word id 1: the first real word of any vocabulary
        self({"story": one_word[None], "question": one_word})


def load_answerer(run: RunSummary | str | Path) -> QuestionAnswerer:
    """Load a run for asking questions, its inference compiled and traced (the page caches the result)."""
    loaded = QuestionAnswerer.load(run.path if isinstance(run, RunSummary) else run)
    compiled = CompiledInference(loaded.model)
    compiled.trace()
    return QuestionAnswerer(compiled, loaded.vocab, loaded.config)


# ----------------------------------------------------------------------------------------------
# Stories


def stories_folder(run: RunSummary | None = None, data_dir=None) -> tuple[Path, str | None]:
    """The bAbI folder to take test stories from, and a one-line note when it is generated data.

    In order: the folder the user named, the folder ``run`` was trained on (if it is still there),
    and :func:`~memnet.data.sources.resolve_data_dir` (real bAbI if found, else memnet's
    generated tasks).
    """
    if data_dir:
        return resolve_data_dir(data_dir)
    if run is not None and run.data_dir is not None and looks_like_babi_dir(run.data_dir):
        return run.data_dir, None
    return resolve_data_dir(None)


def load_test_stories(data_dir, task: int) -> list[QAExample]:
    """Every question of one task's test split, each with its story and supporting facts."""
    path = find_task_file(data_dir, task, "test")
    if path is None:
        raise DataNotFoundError(f"{data_dir}: no test file for task {task} (qa{task}_*_test.txt)")
    return parse_babi(path, task=task)


def pick_test_example(examples: Sequence[QAExample], index: int | None = None, *, rng=None) -> tuple[int, QAExample]:
    """One test question by ``index``, or a random one when ``index`` is None; returns ``(index, example)``."""
    if not examples:
        raise MemnetError("there are no test stories to pick from")
    if index is None:
        rng = rng if rng is not None else np.random.default_rng()
        index = int(rng.integers(len(examples)))
    if not 0 <= index < len(examples):
        raise MemnetError(f"test story {index} does not exist: choose 0..{len(examples) - 1}")
    return index, examples[index]


def sentence_as_text(tokens: Sequence[str], end: str = ".") -> str:
    """Tokens as a readable sentence: ``('mary', 'went', 'home')`` -> ``Mary went home.``"""
    text = " ".join(tokens)
    return text[:1].upper() + text[1:] + end


def story_as_text(example: QAExample) -> str:
    """The story of a test question, one sentence per line (as the story box shows it)."""
    return "\n".join(sentence_as_text(sentence) for sentence in example.story)


def question_as_text(example: QAExample) -> str:
    return sentence_as_text(example.question, end="?")


@dataclasses.dataclass(frozen=True)
class KnownFacts:
    """What the test set says about a question: its answer and the indices of its supporting facts."""

    answer: str
    supporting: tuple[int, ...]


def known_facts(example: QAExample | None, story_text: str, question_text: str) -> KnownFacts | None:
    """The test set's answer and supporting facts, if the story and question are still ``example``'s.

    Once the user edits the story or the question (beyond spacing and punctuation), the test set
    no longer knows the answer, and this returns None.
    """
    if example is None:
        return None
    try:
        story = parse_story_text(story_text)
    except BabiFormatError:
        return None
    if tuple(story) != example.story or tuple(tokenize(question_text)) != example.question:
        return None
    return KnownFacts(answer=example.answer, supporting=tuple(example.supporting))


# ----------------------------------------------------------------------------------------------
# Answering


def ask(answerer: QuestionAnswerer, story_text: str, question_text: str, top_k: int = TOP_K) -> Answer:
    """Answer a question about a story, with clear errors for the input the page can receive.

    Raises:
        BabiFormatError: no question, or no story (also for a question asked without a story).
        UnknownWordError: a word the model has never seen.
    """
    if not question_text.strip():
        raise BabiFormatError("<question>", None, "there is no question: type a question about the story")
    if not story_text.strip():
        raise BabiFormatError(
            "<story>", None, "there is no story to ask about: pick a test story or write one, one sentence per line"
        )
    return answerer.ask(story_text, question_text, top_k=top_k)


def answer_headline(answer: Answer) -> str:
    """The answer in one line of Markdown: ``**bathroom** with probability 98.7%``."""
    return f"**{answer.answer}** with probability {answer.probability:.1%}"


def alternatives_table(answer: Answer) -> pd.DataFrame:
    """The runners-up: one row per alternative answer with its probability."""
    return pd.DataFrame(
        {
            "answer": [word for word, _ in answer.alternatives],
            "probability": [probability for _, probability in answer.alternatives],
        }
    )


# ----------------------------------------------------------------------------------------------
# Attention


def hop_columns(answer: Answer) -> list[str]:
    """``["hop 1", ..., "hop K"]``: one column per attention map the model returned."""
    return [f"hop {k}" for k in range(1, len(answer.attention) + 1)]


def attention_table(answer: Answer, supporting: Sequence[int] | None = None) -> pd.DataFrame:
    """Where the memory looked: one row per story sentence, one column of weights per hop.

    Rows are numbered from 1 in story order and hold the sentence as the model read it. A
    ``supporting`` column marks the test set's supporting facts with ``✓`` when they are known.
    """
    table = pd.DataFrame({"sentence": answer.sentences})
    for column, weights in zip(hop_columns(answer), answer.attention):
        table[column] = np.asarray(weights, dtype=float)
    if supporting is not None:
        marked = set(supporting)
        table["supporting"] = ["✓" if i in marked else "" for i in range(len(answer.sentences))]
    table.index = pd.RangeIndex(1, len(table) + 1, name="#")
    return table


def _heat(weight: float) -> str:
    """CSS for one attention cell: the stronger the weight, the deeper the blue."""
    text = "white" if weight > 0.55 else "#31333f"  # Streamlit's text colour on light shades
    return f"background-color: rgba({ATTENTION_RGB}, {float(weight):.3f}); color: {text}"


def style_attention_table(table: pd.DataFrame) -> "pd.io.formats.style.Styler":
    """The attention table as a heat map (no matplotlib needed): each hop column shaded by weight."""
    hops = [column for column in table.columns if column.startswith("hop ")]
    styler = table.style.map(_heat, subset=hops).format("{:.2f}", subset=hops)
    if "supporting" in table.columns:
        styler = styler.map(lambda mark: "font-weight: bold; color: #1a7f37" if mark else "", subset=["supporting"])
    return styler


def hop_summaries(answer: Answer, supporting: Sequence[int] | None = None) -> list[str]:
    """One line per hop: the sentence it attended to most, and whether that is a supporting fact."""
    lines = []
    for column, weights in zip(hop_columns(answer), answer.attention):
        top = int(np.argmax(weights))
        line = f"{column.capitalize()} looked most at sentence {top + 1}, “{answer.sentences[top]}” ({weights[top]:.0%})"
        if supporting is not None:
            line += " — a supporting fact." if top in set(supporting) else " — not a supporting fact."
        lines.append(line)
    return lines


# ----------------------------------------------------------------------------------------------
# Training in the page


class TrainingProgress(keras.callbacks.Callback):
    """A Keras callback that reports ``(fraction done, message)`` after every epoch (e.g. to ``st.progress``).

    Args:
        report: called with a fraction in (0, 1] and a line such as ``epoch 12 of 40 · accuracy 87%``.
    """

    def __init__(self, report: Callable[[float, str], None]):
        super().__init__()
        self.report = report
        self.total_epochs = 1

    def on_train_begin(self, logs=None):
        self.total_epochs = max(1, int(self.params.get("epochs") or 1))  # linear start included

    def on_epoch_end(self, epoch, logs=None):
        message = f"epoch {epoch + 1} of {self.total_epochs}"
        accuracy = (logs or {}).get("accuracy")
        if accuracy is not None:
            message += f" · training accuracy {float(accuracy):.0%}"
        self.report(min(1.0, (epoch + 1) / self.total_epochs), message)


@dataclasses.dataclass
class TrainedRun:
    """A run trained in the page: where it is, the data note (generated data), seconds taken, metrics."""

    path: Path
    note: str | None
    seconds: float
    metrics: dict


def new_run_folder(runs_dir, task: int) -> Path:
    """``runs_dir/qaN``, or ``qaN-2``, ``qaN-3``... if that name is taken (never overwrite a folder)."""
    runs_dir = Path(runs_dir).expanduser()
    candidate = runs_dir / f"qa{task}"
    number = 2
    while candidate.exists():
        candidate = runs_dir / f"qa{task}-{number}"
        number += 1
    return candidate


def train_demo_run(
    task: int,
    runs_dir,
    *,
    data_dir=None,
    epochs: int = DEMO_EPOCHS,
    seed: int = 0,
    report: Callable[[float, str], None] | None = None,
) -> TrainedRun:
    """Train one quick run on ``task`` into a new folder of ``runs_dir`` (one run, ``epochs`` after linear start).

    Settings are the paper's except for :data:`QUICK_TRAINING` (no validation pass every epoch).

    The data is ``data_dir`` if given, else real bAbI if memnet finds it, else memnet's generated
    tasks; in that last case :attr:`TrainedRun.note` says so in one line.
    """
    runs_dir = Path(runs_dir).expanduser()
    if runs_dir.exists() and not runs_dir.is_dir():
        raise RunDirError(f"{runs_dir}: not a folder, cannot train a run into it")
    if any((runs_dir / name).exists() for name in RUN_FILES):
        raise RunDirError(f"{runs_dir} is itself a run folder: name the folder that holds runs to train a new one")
    folder, note = resolve_data_dir(data_dir or None)
    out_dir = new_run_folder(runs_dir, task)
    start = time.perf_counter()
    metrics = train_experiment(
        tasks=[int(task)],
        data_dir=folder,
        out_dir=out_dir,
        runs=1,
        seed=seed,
        epochs=int(epochs),
        verbose=0,
        callbacks=[TrainingProgress(report)] if report is not None else [],
        training_overrides=QUICK_TRAINING,
    )
    return TrainedRun(path=out_dir, note=note, seconds=time.perf_counter() - start, metrics=metrics)


# ----------------------------------------------------------------------------------------------
# Errors


def error_message(error: MemnetError, answerer: QuestionAnswerer | None = None) -> str:
    """One readable line (two for unknown words) for an error caused by the user's input.

    For unknown words, and when ``answerer`` is given, it also lists words the model does know,
    so that the user can rephrase.
    """
    if isinstance(error, UnknownWordError):
        words = ", ".join(f"“{word}”" for word in error.words)
        message = f"The model has never seen {words}: it only knows the words of the stories it was trained on."
        if answerer is not None:
            known = sorted(word for word in answerer.vocab.words[1:] if word)
            message += " Words it knows: " + ", ".join(known[:60]) + (" …" if len(known) > 60 else "")
        return message
    if isinstance(error, BabiFormatError) and error.path in ("<story>", "<question>"):
        return error.message[:1].upper() + error.message[1:] + "."
    return str(error)
