"""Whole experiments: load the tasks, train (best of R runs), evaluate per task, write a run folder.

A run folder holds everything needed to use or judge a trained model:

=================  ==========================================================
``model.keras``    the trained model (loads with ``safe_mode=True``)
``vocab.json``     the word list (id = position)
``config.json``    model, training and data settings
``metrics.json``   per-task errors, mean, failed tasks, wall time, provenance
``history.json``   per-epoch metrics of every run
=================  ==========================================================
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

import keras
import numpy as np

from memnet import catalogue
from memnet.data import EncodedExamples, Vocabulary, load_tasks, memory_slots_of, sentence_size_of, vectorize
from memnet.errors import MemnetError, RunDirError, TrainingDivergedError
from memnet.io import atomic_path, write_json_atomic
from memnet.models import MODELS
from memnet.provenance import git_commit
from memnet.training import RunResult, TrainingConfig, model_training_config, per_task_errors, train_best_of

FAILED_ABOVE = 5.0  # percent test error: the paper's "failed task"
RUN_FILES = ("model.keras", "vocab.json", "config.json", "metrics.json")


@dataclasses.dataclass
class PreparedData:
    """Vectorized splits of one or more tasks with their shared vocabulary."""

    vocab: Vocabulary
    sentence_size: int
    memory_size: int
    train: EncodedExamples
    valid: EncodedExamples
    test: EncodedExamples
    valid_source: str

    @property
    def memory_slots(self) -> int:
        """Slots in the arrays: ``min(memory_size, longest story)``, the memory size models are built with (as the authors' code does)."""
        return int(self.train.inputs["story"].shape[1])


def encode_splits(splits, vocab: Vocabulary, memory_size: int = 50) -> PreparedData:
    """Vectorize train/valid/test with one sentence size and slot count, so all arrays agree."""
    everything = splits.train + splits.valid + splits.test
    sentence_size = sentence_size_of(everything, memory_size)
    slots = memory_slots_of(everything, memory_size)

    def encode(examples):
        return vectorize(examples, vocab, memory_size=memory_size, sentence_size=sentence_size, memory_slots=slots)

    return PreparedData(
        vocab, sentence_size, memory_size, encode(splits.train), encode(splits.valid), encode(splits.test), splits.valid_source
    )


def prepare_data(data_dir, tasks: Sequence[int], *, memory_size: int = 50, seed: int = 0, test_dir=None) -> PreparedData:
    """Load ``tasks`` from ``data_dir`` and vectorize them with one vocabulary (train + valid words).

    ``test_dir``, if given, supplies the test split instead (e.g. train on generated tasks, test on real ones).
    """
    splits = load_tasks(data_dir, tasks, seed=seed)
    if test_dir is not None:
        splits.test = load_tasks(test_dir, tasks, seed=seed).test
    return encode_splits(splits, Vocabulary.from_examples(splits.train + splits.valid), memory_size)


def default_settings(tasks: Sequence[int], model: str = "memn2n") -> tuple[dict, TrainingConfig]:
    """The paper's model and training settings for one task (d=20) or joint training (d=50).

    A model class with a ``default_settings(tasks)`` classmethod (e.g. ``TransformerMemory``)
    gives its own model settings instead. A single task's catalogue entry may override them
    under ``[task.training]``.
    """
    joint = len(tasks) > 1
    own_settings = getattr(MODELS.get(model), "default_settings", None)
    model_settings = dict(own_settings(tasks)) if callable(own_settings) else {"embedding_dim": 50 if joint else 20, "hops": 3}
    config = TrainingConfig.joint() if joint else TrainingConfig()
    if not joint:
        overrides = dict(catalogue.get_task(tasks[0]).training)
        for key in list(overrides):
            if hasattr(config, key):
                setattr(config, key, overrides.pop(key))
        model_settings.update(overrides)
    return model_settings, config


def build_model(name: str, vocabulary_size: int, memory_size: int, settings: dict, seed: int) -> keras.Model:
    return _model_class(name)(vocabulary_size=vocabulary_size, memory_size=memory_size, seed=seed, **settings)


def _model_class(name: str):
    try:
        return MODELS[name]
    except KeyError:
        raise MemnetError(f"unknown model {name!r}: choose one of {', '.join(sorted(MODELS))}") from None


def check_model_settings(model: str, settings: dict) -> None:
    """Raise :class:`MemnetError` if ``settings`` are not arguments of ``model`` or have bad values.

    Checked before any data is read or training starts, by building one tiny model: a typo in a
    setting's name or value fails at once, naming the setting, instead of after a long training.
    """
    import inspect

    model_class = _model_class(model)
    accepted = [
        name for name, parameter in inspect.signature(model_class.__init__).parameters.items()
        if parameter.kind is parameter.POSITIONAL_OR_KEYWORD and name not in ("self", "vocabulary_size", "memory_size", "seed")
    ]
    for name in settings:
        if name not in accepted:
            raise MemnetError(f"{name!r} is not a setting of the {model} model; its settings: {', '.join(accepted)}")
    try:
        model_class(vocabulary_size=2, memory_size=1, **settings)
    except (TypeError, ValueError) as error:
        shown = ", ".join(f"{name}={value!r}" for name, value in settings.items())
        raise MemnetError(f"{model} model settings {shown}: {error}") from None


def summarize(per_task: dict[int, dict[str, float]]) -> dict:
    """Mean test error and failed tasks (> 5% test error) of a per-task table."""
    tests = [row["test_error"] for row in per_task.values()]
    return {
        "mean_test_error": float(np.mean(tests)) if tests else float("nan"),
        "failed_tasks": sorted(int(t) for t, row in per_task.items() if row["test_error"] > FAILED_ABOVE),
    }


def train_experiment(
    *,
    tasks: Sequence[int],
    data_dir,
    out_dir,
    model: str = "memn2n",
    runs: int = 1,
    seed: int = 0,
    memory_size: int = 50,
    epochs: int | None = None,
    model_settings: dict | None = None,
    training_overrides: dict | None = None,
    overwrite: bool = False,
    resume: bool = False,
    parallel: int = 10,
    verbose: int | str = 0,
    on_run_end: Callable[[int, RunResult], None] | None = None,
    callbacks=(),
) -> dict:
    """Train on ``tasks`` (jointly if several), keep the best of ``runs``, write the run folder; return its metrics.

    Training is checkpointed after every epoch in ``.<out>.checkpoint`` beside ``out_dir``; if the
    process dies, the same call with ``resume=True`` continues from the last complete epoch and
    ends with the same result as an uninterrupted run. The checkpoint is removed on success.
    """
    out_dir = Path(out_dir)
    if runs < 1:
        raise MemnetError(f"--runs must be at least 1, got {runs}")
    check_model_settings(model, model_settings or {})
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise MemnetError(f"{out_dir} already exists and is not empty (choose another --out, or --overwrite)")
    checkpoint = checkpoint_dir(out_dir)
    request = {
        "tasks": list(tasks), "data_dir": str(Path(data_dir).resolve()), "model": model, "runs": runs, "seed": seed,
        "memory_size": memory_size, "epochs": epochs, "model_settings": model_settings or {},
        "training_overrides": training_overrides or {},
    }
    start = time.perf_counter()
    data = prepare_data(data_dir, tasks, memory_size=memory_size, seed=seed)
    _prepare_checkpoint(checkpoint, request, resume)  # after the data loaded: bad data leaves nothing behind
    settings, config = default_settings(tasks, model)
    settings.update(model_settings or {})
    if epochs is not None:
        config.epochs = epochs
    for key, value in (training_overrides or {}).items():
        setattr(config, key, value)

    best, all_runs = train_best_of(
        lambda run_seed: build_model(model, len(data.vocab), data.memory_slots, settings, run_seed),
        data.train,
        data.valid,
        config,
        runs=runs,
        seed=seed,
        parallel=parallel,
        callbacks=callbacks,
        backup_dir=checkpoint,
        on_run_end=on_run_end,
        verbose=verbose,
    )
    if best.diverged:
        shutil.rmtree(checkpoint, ignore_errors=True)  # resuming it would only diverge again
        raise TrainingDivergedError(f"training diverged in every run: {best.divergence()}; try a lower learning rate")
    per_task = evaluate_splits(best.model, data)
    metrics = {
        "per_task": {str(t): row for t, row in per_task.items()},
        **summarize(per_task),
        "wall_seconds": round(time.perf_counter() - start, 2),
        "model": model,
        "tasks": list(tasks),
        "data_dir": str(Path(data_dir).resolve()),
        "valid_source": data.valid_source,
        "seed": seed,
        "runs": runs,
        "best_run_seed": best.seed,
        "run_train_errors": [r.train_error for r in all_runs],
        "run_valid_errors": [r.valid_error for r in all_runs],
        "git_commit": git_commit(),
        "memnet_version": _version(),
    }
    run_config = {
        "memnet_version": _version(),
        "model": model,
        "model_config": best.model.get_config(),
        "training": dataclasses.asdict(model_training_config(best.model, config)),
        "tasks": list(tasks),
        "seed": seed,
        "memory_size": memory_size,
        "sentence_size": data.sentence_size,
    }
    histories = {
        "runs": [{"seed": r.seed, "train_error": r.train_error, "valid_error": r.valid_error} for r in all_runs],
        "history": best.history,  # per epoch; summed/averaged over the runs trained with the best one
    }
    write_run_dir(out_dir, best.model, data.vocab, run_config, metrics, histories)
    shutil.rmtree(checkpoint, ignore_errors=True)
    return metrics


def checkpoint_dir(out_dir) -> Path:
    """Where the training of ``out_dir`` keeps its per-epoch checkpoint."""
    out_dir = Path(out_dir)
    return out_dir.with_name(f".{out_dir.name}.checkpoint")


def _prepare_checkpoint(checkpoint: Path, request: dict, resume: bool) -> None:
    """Refuse to clobber or to mix up an interrupted training; record what this one is."""
    record = checkpoint / "request.json"
    if checkpoint.exists():
        if not resume:
            raise MemnetError(
                f"an interrupted training left a checkpoint in {checkpoint}: add --resume to continue it, or delete it"
            )
        try:
            previous = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = None
        if previous != request:
            raise MemnetError(
                f"{checkpoint} belongs to a training with other settings ({previous}); delete it to start afresh"
            )
        return
    write_json_atomic(record, request)


def evaluate_splits(model: keras.Model, data: PreparedData) -> dict[int, dict[str, float]]:
    """Train, validation and test error (percent) per task."""
    errors = {split: per_task_errors(model, getattr(data, split)) for split in ("train", "valid", "test")}
    return {
        task: {
            f"{split}_error": round(errors[split].get(task, float("nan")), 2) for split in ("train", "valid", "test")
        }
        for task in sorted(errors["test"])
    }


def write_run_dir(out_dir: Path, model, vocab, config, metrics, histories) -> None:
    """Write all files into a temporary folder beside ``out_dir``, then swap it in."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        model.save(staging / "model.keras")
        vocab.save(staging / "vocab.json")
        write_json_atomic(staging / "config.json", config)
        write_json_atomic(staging / "history.json", histories)
        write_json_atomic(staging / "metrics.json", metrics)  # last: its presence marks a complete run
        if out_dir.exists():
            trash = out_dir.with_name(f".{out_dir.name}.old")
            shutil.rmtree(trash, ignore_errors=True)
            out_dir.rename(trash)
            staging.rename(out_dir)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            staging.rename(out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_run_config(run_dir) -> dict:
    """The ``config.json`` of a complete run folder, or a clear :class:`RunDirError`."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: no such run folder")
    missing = [name for name in RUN_FILES if not (run_dir / name).is_file()]
    if missing:
        raise RunDirError(f"{run_dir}: not a complete memnet run (missing {', '.join(missing)})")
    try:
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    except ValueError as error:
        raise RunDirError(f"{run_dir / 'config.json'}: not valid JSON ({error})") from None
    for key in ("model", "tasks", "memory_size"):
        if key not in config:
            raise RunDirError(f"{run_dir / 'config.json'}: missing {key!r} (a run from another memnet version?)")
    return config


def load_run_model(run_dir) -> keras.Model:
    """Load a run's model in Keras safe mode (no arbitrary code), with a clear error if it is broken."""
    path = Path(run_dir) / "model.keras"
    import memnet.models  # noqa: F401  (registers memnet's layers and models for deserialization)

    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # a corrupted or foreign file: the user's input, not a memnet bug
        raise RunDirError(f"{path}: cannot load the model ({type(error).__name__}: {error})") from None


def evaluate_run(run_dir, data_dir) -> "pandas.DataFrame":
    """Per-task train/valid/test error of a saved run on the data in ``data_dir``."""
    import pandas as pd

    config = read_run_config(run_dir)
    model = load_run_model(run_dir)
    vocab = Vocabulary.load(Path(run_dir) / "vocab.json")
    splits = load_tasks(data_dir, config["tasks"], seed=config.get("seed", 0))
    data = encode_splits(splits, vocab, config["memory_size"])
    rows = evaluate_splits(model, data)
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "task"
    return frame


def write_csv_atomic(frame, path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp)


def _version() -> str:
    from memnet import __version__

    return __version__
