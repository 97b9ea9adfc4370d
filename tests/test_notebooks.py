"""The teaching notebooks in ``notebooks/`` run top to bottom without an error, in their small configuration.

Each notebook is executed in a fresh Jupyter kernel (``nbclient``) with ``MEMNET_NOTEBOOK_SMALL=1``
(tiny epochs), from the ``notebooks/`` folder, and fails on the first cell that raises. The
committed notebooks must carry no outputs: whatever they show, their code produced when run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import BABI_ROOT

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extra: pip install -e '.[dev]'")
nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extra: pip install -e '.[dev]'")
pytest.importorskip("ipykernel", reason="ipykernel is in the dev extra: pip install -e '.[dev]'")

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
BABI_EN = BABI_ROOT / "en"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 240  # one cell (e.g. a training) in the small configuration
NOTEBOOK_TIMEOUT_S = 300  # the whole notebook


def test_the_three_notebooks_are_there():
    names = [path.name for path in NOTEBOOKS]
    assert names == [
        "01_quick_start.ipynb",
        "02_inside_a_memory_network.ipynb",
        "03_memory_layers_in_your_model.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"


def execute(path: Path, cwd: Path) -> "nbformat.NotebookNode":
    """Run the notebook at ``path`` in a fresh kernel started in ``cwd``; raise on the first failing cell."""
    import signal

    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )

    def too_slow(signum, frame):
        raise TimeoutError(f"{path.name} took more than {NOTEBOOK_TIMEOUT_S} s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(NOTEBOOK_TIMEOUT_S)
    try:
        client.execute()  # raises CellExecutionError, naming the cell, on the first error
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("output_type") == "error"
    ]
    assert not errors, json.dumps(errors)[:2000]
    return notebook


def printed(notebook) -> str:
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("output_type") == "stream"
    )


@pytest.fixture
def small_env(monkeypatch, tmp_path):
    """The tests' configuration: tiny epochs, scratch files in ``tmp_path``, memnet from this checkout."""
    monkeypatch.setenv("MEMNET_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks' run folders and saved models
    # the kernel imports memnet from this checkout, whichever copy is installed
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    return monkeypatch


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, small_env):
    notebook = execute(path, NOTEBOOK_DIR)
    assert not any(NOTEBOOK_DIR.glob("*.keras")), "a notebook wrote into the checkout"
    if path.name != "03_memory_layers_in_your_model.ipynb":  # the bAbI notebooks say which data they use
        text = printed(notebook)
        if BABI_EN.is_dir() and not os.environ.get("MEMNET_BABI_DIR"):
            assert f"real bAbI data: {BABI_EN}" in text
        else:
            assert "real bAbI data:" in text or "using memnet's generated bAbI-style tasks" in text


def test_quick_start_falls_back_to_generated_tasks(small_env, tmp_path):
    """Without bAbI anywhere (run outside the repository, an empty Keras home), it trains on generated tasks."""
    small_env.delenv("MEMNET_BABI_DIR", raising=False)
    small_env.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    notebook = execute(NOTEBOOK_DIR / "01_quick_start.ipynb", workdir)
    assert "using memnet's generated bAbI-style tasks" in printed(notebook)
