"""Errors memnet raises for problems in the user's input (files, arguments, run folders).

The CLI turns any :class:`MemnetError` into one clear line on stderr and a non-zero exit, without a
traceback; anything else is a bug in memnet and keeps its traceback.
"""

from __future__ import annotations


class MemnetError(Exception):
    """Base class of every error caused by the user's input rather than by memnet itself."""


class BabiFormatError(MemnetError, ValueError):
    """A bAbI file that does not follow the v1.2 format.

    Args:
        path: the file (or a description of the source, such as ``"<story>"``).
        line: 1-based line number, or ``None`` when the problem is with the whole file.
        message: what is wrong.
    """

    def __init__(self, path, line: int | None, message: str):
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class DataNotFoundError(MemnetError, FileNotFoundError):
    """No bAbI data could be found where memnet looked."""


class UnknownWordError(MemnetError, KeyError):
    """Words in a story or question that the model's vocabulary does not contain."""

    def __init__(self, words):
        self.words = sorted(set(words))
        super().__init__(
            "unknown word(s) not in the model's vocabulary: " + ", ".join(repr(w) for w in self.words)
        )

    def __str__(self):  # KeyError would otherwise quote the whole message
        return self.args[0]


class RunDirError(MemnetError):
    """A folder that is not a complete memnet run (model, vocabulary, config)."""


class TrainingDivergedError(MemnetError):
    """Training went numerically wrong: the loss became NaN or infinite and the weights with it.

    A setting the user chose (usually too high a learning rate) rather than a bug; the message
    says which runs and from which epoch.
    """
