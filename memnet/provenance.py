"""Where a result came from: the git commit and the machine."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path


# The files that make a result: a change elsewhere (results being written, the README) is not "dirty".
CODE_PATHS = (":/memnet", ":/tasks", ":/pyproject.toml")


def git_commit(path=None) -> str | None:
    """The commit of the git checkout holding ``path`` (memnet's own source by default), if any.

    ``-dirty`` is appended when memnet's code (``memnet/``, ``tasks/``, ``pyproject.toml``) differs
    from that commit.
    """
    path = Path(path or __file__).resolve()
    try:
        out = subprocess.run(
            ["git", "-C", str(path.parent if path.is_file() else path), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    try:
        dirty = subprocess.run(
            ["git", "-C", str(path.parent if path.is_file() else path), "status", "--porcelain", "--untracked-files=no",
             "--", *CODE_PATHS],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        dirty = ""
    return commit + ("-dirty" if dirty else "")


def machine() -> dict:
    """Cores, CPU model and accelerators, for recording beside a timing."""
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    return {"cores": os.cpu_count(), "cpu": cpu, "gpus": gpus, "tensorflow": tf.__version__}
