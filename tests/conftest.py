"""Shared fixtures of the foundation test suite.

The real bAbI v1.2 data lives in ``../shared/babi/tasks_1-20_v1-2`` beside the repository root;
tests that need it are skipped with a clear reason where it is absent.

The expensive thing, one trained task-1 run folder made through the real ``memnet train`` command,
is a session fixture (:func:`trained_run`) shared by the CLI, ``ask``, ``evaluate`` and inference
tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

from memnet.data.sources import shared_babi_root

# Keep TensorFlow's C++ start-up chatter out of the test process's captured output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Tests must not write into the checkout: no example database, and Hypothesis's own cache in /tmp.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "memnet-tests-hypothesis")
settings.register_profile("memnet", database=None)
settings.load_profile("memnet")

REPO_ROOT = Path(__file__).resolve().parents[1]
BABI_ROOT = shared_babi_root(Path(__file__).parents[1])
NO_BABI = f"real bAbI v1.2 data not found at {BABI_ROOT} (expected ../shared/babi beside the repository)"

# Lines that TensorFlow's C++ runtime writes to stderr itself (glog/absl format, e.g.
# "E0000 00:00:1795464870.465856   10250 cuda_platform.cc:52] failed call to cuInit ..."),
# and absl's warning about them. They are not memnet's output.
_TF_LOG_LINE = re.compile(r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+(?:\.\d+)?\s+\d+ \S+:\d+\]|WARNING: All log messages before absl)")


def pytest_configure(config):
    # Keras converting TensorFlow tensors with NumPy 2 warns on every call; it is not memnet's to fix.
    config.addinivalue_line(
        "filterwarnings", "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    )


def babi_dir(subset: str = "en") -> Path:
    """A folder of the real data (``en``, ``en-10k``, ``en-valid``, ``en-valid-10k``), or skip."""
    path = BABI_ROOT / subset
    if not path.is_dir():
        pytest.skip(NO_BABI if not BABI_ROOT.is_dir() else f"{path} is missing")
    return path


@pytest.fixture(scope="session")
def babi_root() -> Path:
    if not BABI_ROOT.is_dir():
        pytest.skip(NO_BABI)
    return BABI_ROOT


@pytest.fixture(scope="session")
def en_dir(babi_root) -> Path:
    return babi_dir("en")


def cli_env(**overrides) -> dict:
    """The environment for running ``memnet`` as a user would: no data-dir variable, an empty Keras home."""
    env = dict(os.environ)
    for name in ("MEMNET_BABI_DIR", "TF_CPP_MIN_LOG_LEVEL"):
        env.pop(name, None)
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def run_cli(*args, env=None, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    """Run ``python -m memnet ARGS`` in a subprocess and return the completed process (text mode)."""
    return subprocess.run(
        [sys.executable, "-m", "memnet", *map(str, args)],
        capture_output=True,
        text=True,
        env=env if env is not None else cli_env(),
        cwd=cwd,
        timeout=timeout,
    )


def memnet_stderr_lines(stderr: str) -> list[str]:
    """The non-empty stderr lines that memnet wrote (TensorFlow's own C++ log lines removed)."""
    return [line for line in stderr.splitlines() if line.strip() and not _TF_LOG_LINE.match(line)]


def assert_user_error(process: subprocess.CompletedProcess, *fragments: str) -> str:
    """A user error: exit status 2, no traceback, one line of memnet's on stderr holding ``fragments``."""
    assert process.returncode == 2, (process.returncode, process.stdout, process.stderr)
    assert "Traceback" not in process.stderr, process.stderr
    lines = memnet_stderr_lines(process.stderr)
    assert len(lines) == 1, process.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture(scope="session")
def keras_home(tmp_path_factory) -> Path:
    """An empty ``KERAS_HOME`` so that no test sees a real download in ``~/.keras``."""
    return tmp_path_factory.mktemp("keras_home")


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, en_dir, keras_home):
    """ONE task-1 run trained through ``memnet train`` (10 epochs after 20 of linear start, ~20-30 s).

    Returns ``(run_dir, completed_process)``. Tests must not modify the folder (copy it first).
    """
    out = tmp_path_factory.mktemp("runs") / "qa1"
    process = run_cli(
        "train", "--task", "1", "--data-dir", en_dir, "--epochs", "10", "--learning-rate", "0.005", "--quiet", "--out", out,
        env=cli_env(KERAS_HOME=keras_home),
        timeout=600,
    )
    if process.returncode != 0:
        pytest.fail(f"memnet train failed ({process.returncode}):\n{process.stdout}\n{process.stderr}")
    return out, process
