"""Where bAbI data comes from: ``--data-dir``, ``$MEMNET_BABI_DIR``, or ``memnet download``."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from importlib import resources
from pathlib import Path

from memnet.errors import DataNotFoundError, MemnetError

ENV_VAR = "MEMNET_BABI_DIR"
# A public mirror of the official archive (the one Keras's bAbI example used).
BABI_URL = "https://s3.amazonaws.com/text-datasets/babi_tasks_1-20_v1-2.tar.gz"
ARCHIVE_ROOT = "tasks_1-20_v1-2"


def shared_babi_root(checkout) -> Path:
    """Where a checkout of this project keeps the real bAbI data: ``shared/babi/tasks_1-20_v1-2`` beside ``checkout``."""
    return Path(checkout).resolve().parent / "shared" / "babi" / ARCHIVE_ROOT


def task_file_pattern(task: int, split: str) -> re.Pattern:
    """Official names (``qa1_single-supporting-fact_train.txt``) and en-valid names (``qa1_train.txt``)."""
    return re.compile(rf"^qa{int(task)}_(?:.+_)?{re.escape(split)}\.txt$")


def find_task_file(data_dir, task: int, split: str) -> Path | None:
    """The file of one task and split in ``data_dir``, or ``None`` if there is none."""
    pattern = task_file_pattern(task, split)
    matches = sorted(p for p in Path(data_dir).iterdir() if pattern.match(p.name))
    return matches[0] if matches else None


def looks_like_babi_dir(path) -> bool:
    path = Path(path)
    return path.is_dir() and any(re.match(r"^qa\d+_.*\.txt$", p.name) for p in path.iterdir())


def download_root(cache_dir=None) -> Path:
    """Where ``memnet download`` puts the extracted archive (the Keras cache by default)."""
    base = Path(cache_dir) if cache_dir else Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return base / "datasets" / "babi" / ARCHIVE_ROOT


def find_data_dir(data_dir=None, *, subset: str = "en", cache_dir=None) -> Path:
    """The bAbI folder to use: ``data_dir``, else ``$MEMNET_BABI_DIR``, else the downloaded copy.

    Raises:
        DataNotFoundError: none of the three holds bAbI files; the message names all three.
    """
    for origin, candidate in (("--data-dir", data_dir), (ENV_VAR, os.environ.get(ENV_VAR))):
        if candidate:
            if not looks_like_babi_dir(candidate):
                raise DataNotFoundError(f"{origin} {candidate}: not a folder of bAbI files (qaN_*_train.txt, ...)")
            return Path(candidate)
    downloaded = download_root(cache_dir) / subset
    if looks_like_babi_dir(downloaded):
        return downloaded
    raise DataNotFoundError(
        "no bAbI data found: pass --data-dir DIR (a folder of qaN_*_{train,test}.txt), "
        f"set {ENV_VAR}=DIR, or run `memnet download`"
    )


def generator_fingerprint() -> str:
    """A short hash of the generator's code and the task catalogue, so that a changed generator never reuses old files."""
    digest = hashlib.sha256()
    for package in ("memnet.generate", "memnet.tasks"):
        for entry in sorted(resources.files(package).iterdir(), key=lambda entry: entry.name):
            if entry.name.endswith((".py", ".toml")):
                digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return digest.hexdigest()[:12]


def generated_data_dir(cache_dir=None, seed: int = 0, n_train: int = 1000, n_test: int = 1000) -> Path:
    """memnet's generated tasks (all 20, 1k train / 1k test), written once into the cache and reused.

    The folder's name holds :func:`generator_fingerprint`: after an upgrade, the tasks are written anew.
    """
    from memnet import catalogue
    from memnet.generate import write_tasks

    name = f"memnet-generated-{generator_fingerprint()}-seed{seed}-{n_train}-{n_test}"
    folder = download_root(cache_dir).parents[1] / name
    expected = [info.file_name(split) for info in catalogue.tasks().values() for split in ("train", "test")]
    if not all((folder / name).is_file() for name in expected):
        write_tasks(sorted(catalogue.tasks()), folder, n_train, n_test, seed)
    return folder


def resolve_data_dir(data_dir=None, *, cache_dir=None) -> tuple[Path, str | None]:
    """Like :func:`find_data_dir`, but falls back to memnet's generated tasks (the offline default).

    Returns ``(folder, note)``; ``note`` is one line to show the user when generated data is used.
    """
    try:
        return find_data_dir(data_dir, cache_dir=cache_dir), None
    except DataNotFoundError as error:
        if data_dir or os.environ.get(ENV_VAR):
            raise  # the user named a folder: don't silently train on something else
        folder = generated_data_dir(cache_dir)
        return folder, f"{error}; using memnet's generated bAbI-style tasks in {folder}"


def _manifest() -> dict[str, str]:
    text = resources.files("memnet.data").joinpath("babi_manifest.json").read_text(encoding="utf-8")
    return json.loads(text)["sha256"]


def verify_extracted(root) -> int:
    """Check every extracted file that the manifest knows against its SHA-256; return how many matched.

    The official archive's own hash could not be pinned offline, so integrity is checked file by
    file against hashes of the known-good v1.2 files.
    """
    root = Path(root)
    checked = 0
    for relative, expected in _manifest().items():
        path = root / relative
        if not path.exists():
            continue
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != expected:
            raise MemnetError(f"{path}: SHA-256 {actual} does not match the bAbI v1.2 file ({expected})")
        checked += 1
    if checked == 0:
        raise MemnetError(f"{root}: the archive holds none of the bAbI v1.2 files")
    return checked


def download_babi(*, url: str = BABI_URL, sha256: str | None = None, cache_dir=None) -> Path:
    """Download and extract the bAbI archive with :func:`keras.utils.get_file`; return its root folder.

    Args:
        url: where to fetch ``tasks_1-20_v1-2.tar.gz`` from (``file://`` URLs work too).
        sha256: expected SHA-256 of the archive; when given, a mismatch is an error.
        cache_dir: base folder (default: ``$KERAS_HOME`` or ``~/.keras``).
    """
    import keras

    root = download_root(cache_dir)
    base = root.parents[2]
    # get_file silently falls back to /tmp/.keras for a folder it cannot write to (one that does not
    # exist yet included), where find_data_dir would never look: make sure it can write here.
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MemnetError(f"cannot create the download folder {base}: {error.strerror or error}") from None
    if not os.access(base, os.W_OK):
        raise MemnetError(f"cannot write to the download folder {base}")
    try:
        extracted = keras.utils.get_file(
            fname="babi",
            origin=url,
            extract=True,
            file_hash=sha256,
            hash_algorithm="sha256",
            cache_dir=str(base),
            cache_subdir="datasets",
            force_download=True,  # never reuse an archive left by an earlier (perhaps failed) attempt
        )
    except Exception as error:  # network errors, a bad hash, a corrupt archive: all user-facing
        raise MemnetError(f"could not download bAbI from {url}: {error}") from None
    found = Path(extracted) / ARCHIVE_ROOT
    if not found.is_dir():
        raise MemnetError(f"{url}: the archive has no {ARCHIVE_ROOT}/ folder")
    try:
        verify_extracted(found)
    except MemnetError:
        shutil.rmtree(found, ignore_errors=True)  # unverified files must not be found later
        raise
    return found
