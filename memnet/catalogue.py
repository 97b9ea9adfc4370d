"""The task catalogue: the one list of bAbI tasks (number, name, skill, per-task settings).

It lives in ``tasks/catalogue.toml`` at the project root and ships inside the package as
``memnet.tasks``. Nothing else in memnet keeps a list of task names.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from importlib import resources

from memnet.errors import MemnetError


@dataclasses.dataclass(frozen=True)
class TaskInfo:
    """One catalogue entry.

    Attributes:
        number: the bAbI task number (1..20).
        name: the task's name as in the official file names (``single-supporting-fact``).
        skill: one line on what the task tests.
        generator: parameters of memnet's generator for this task.
        training: settings that override the model defaults for this task.
    """

    number: int
    name: str
    skill: str
    generator: dict = dataclasses.field(default_factory=dict)
    training: dict = dataclasses.field(default_factory=dict)

    def file_name(self, split: str) -> str:
        """The official file name of one split, e.g. ``qa1_single-supporting-fact_train.txt``."""
        return f"qa{self.number}_{self.name}_{split}.txt"


@functools.cache
def tasks() -> dict[int, TaskInfo]:
    """All catalogue entries, by task number."""
    text = resources.files("memnet.tasks").joinpath("catalogue.toml").read_text(encoding="utf-8")
    entries = tomllib.loads(text)["task"]
    return {
        entry["number"]: TaskInfo(
            number=entry["number"],
            name=entry["name"],
            skill=entry["skill"],
            generator=dict(entry.get("generator", {})),
            training=dict(entry.get("training", {})),
        )
        for entry in entries
    }


def get_task(number: int) -> TaskInfo:
    """The catalogue entry of one task; a clear error for an unknown number."""
    try:
        return tasks()[int(number)]
    except (KeyError, ValueError):
        raise MemnetError(f"unknown task {number!r}: tasks are numbered 1..{max(tasks())}") from None


def parse_task_selection(text: str) -> list[int]:
    """Parse ``"1"``, ``"1,2,3"`` or ``"all"`` into task numbers, with a clear error otherwise."""
    text = str(text).strip().lower()
    if text == "all":
        return sorted(tasks())
    numbers = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) not in tasks():
            raise MemnetError(
                f"--task: {part!r} is not a task number (1..{max(tasks())}), a comma-separated list, or 'all'"
            )
        numbers.append(int(part))
    return sorted(set(numbers))
