"""``download_babi`` and ``memnet download`` on a small local archive (``file://``; no network)."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

import pytest

from conftest import cli_env, run_cli
from memnet.data import find_data_dir, load_task
from memnet.data.sources import ARCHIVE_ROOT, ENV_VAR, download_babi, download_root, find_task_file, verify_extracted
from memnet.errors import DataNotFoundError, MemnetError

TASKS = (1, 2)


def _real_files(en: Path) -> list[Path]:
    return [find_task_file(en, task, split) for task in TASKS for split in ("train", "test")]


def _make_archive(tmp_path: Path, en: Path, *, tamper: bool = False, root: str = ARCHIVE_ROOT) -> Path:
    """A .tar.gz laid out like the official one (``tasks_1-20_v1-2/en/...``) with a few real files."""
    archive = tmp_path / "babi_tasks_1-20_v1-2.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for i, path in enumerate(_real_files(en)):
            if tamper and i == 0:
                changed = tmp_path / path.name
                changed.write_text(path.read_text(encoding="utf-8").replace("Mary", "Maria", 1), encoding="utf-8")
                path = changed
            tar.add(path, arcname=f"{root}/en/{path.name}")
    return archive


@pytest.fixture(autouse=True)
def no_data_dir_variable(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


def test_download_extracts_verifies_and_is_found(tmp_path, en_dir):
    archive = _make_archive(tmp_path, en_dir)
    cache = tmp_path / "cache"
    with pytest.raises(MemnetError):
        find_data_dir(cache_dir=cache)  # nothing there yet
    root = download_babi(url=archive.as_uri(), cache_dir=cache)
    assert root == download_root(cache) and root.name == ARCHIVE_ROOT
    assert verify_extracted(root) == len(TASKS) * 2
    found = find_data_dir(cache_dir=cache)
    assert found == root / "en"
    splits = load_task(found, 2)
    assert len(splits.test) == 1000 and splits.valid_source == "split"
    for path in _real_files(en_dir):
        assert (found / path.name).read_bytes() == path.read_bytes()


def test_download_with_the_right_sha256_succeeds(tmp_path, en_dir):
    archive = _make_archive(tmp_path, en_dir)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    root = download_babi(url=archive.as_uri(), sha256=digest, cache_dir=tmp_path / "cache")
    assert verify_extracted(root) == len(TASKS) * 2


def test_a_tampered_file_is_rejected(tmp_path, en_dir):
    archive = _make_archive(tmp_path, en_dir, tamper=True)
    with pytest.raises(MemnetError) as caught:
        download_babi(url=archive.as_uri(), cache_dir=tmp_path / "cache")
    assert "SHA-256" in str(caught.value) and _real_files(en_dir)[0].name in str(caught.value)


def test_a_failed_verification_leaves_nothing_to_find_and_a_retry_works(tmp_path, en_dir):
    cache = tmp_path / "cache"
    (tmp_path / "bad").mkdir()
    bad = _make_archive(tmp_path / "bad", en_dir, tamper=True)
    with pytest.raises(MemnetError):
        download_babi(url=bad.as_uri(), cache_dir=cache)
    with pytest.raises(DataNotFoundError):
        find_data_dir(cache_dir=cache)  # the unverified files are not used later
    (tmp_path / "good").mkdir()
    good = _make_archive(tmp_path / "good", en_dir)
    root = download_babi(url=good.as_uri(), cache_dir=cache)  # not the cached bad archive
    assert verify_extracted(root) == len(TASKS) * 2
    assert find_data_dir(cache_dir=cache) == root / "en"


def test_a_wrong_archive_sha256_is_rejected(tmp_path, en_dir):
    archive = _make_archive(tmp_path, en_dir)
    with pytest.raises(MemnetError) as caught:
        download_babi(url=archive.as_uri(), sha256="0" * 64, cache_dir=tmp_path / "cache")
    assert archive.as_uri() in str(caught.value)


def test_an_archive_without_the_babi_folder_is_rejected(tmp_path, en_dir):
    archive = _make_archive(tmp_path, en_dir, root="something_else")
    with pytest.raises(MemnetError, match=ARCHIVE_ROOT):
        download_babi(url=archive.as_uri(), cache_dir=tmp_path / "cache")


def test_an_unreachable_url_is_a_memnet_error(tmp_path):
    with pytest.raises(MemnetError, match="could not download"):
        download_babi(url=(tmp_path / "missing.tar.gz").as_uri(), cache_dir=tmp_path / "cache")


def test_verify_extracted_needs_at_least_one_known_file(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "qa1_x_train.txt").write_text("1 a b.\n2 c?\td\t1\n", encoding="utf-8")
    with pytest.raises(MemnetError, match="none of the bAbI"):
        verify_extracted(tmp_path)


def test_memnet_download_command(tmp_path, en_dir):
    archive = _make_archive(tmp_path, en_dir)
    cache = tmp_path / "cli_cache"
    process = run_cli("download", "--url", archive.as_uri(), "--cache-dir", cache, env=cli_env(KERAS_HOME=tmp_path / "kh"))
    assert process.returncode == 0, process.stderr
    assert f"{len(TASKS) * 2} files verified" in process.stdout
    assert (download_root(cache) / "en" / _real_files(en_dir)[0].name).is_file()


def test_generated_tasks_are_written_once_per_generator_version(tmp_path):
    from memnet.data.sources import generated_data_dir, generator_fingerprint

    folder = generated_data_dir(tmp_path / "cache", n_train=20, n_test=20)
    assert generator_fingerprint() in folder.name  # a changed generator or catalogue gets a new folder
    files = sorted(folder.glob("qa*_*.txt"))
    assert len(files) == 40
    stamps = [path.stat().st_mtime_ns for path in files]
    assert generated_data_dir(tmp_path / "cache", n_train=20, n_test=20) == folder
    assert [path.stat().st_mtime_ns for path in files] == stamps  # reused, not rewritten
    splits = load_task(folder, 1)
    assert len(splits.train) + len(splits.valid) == 20 and len(splits.test) == 20
