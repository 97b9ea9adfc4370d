"""Vocabulary, vectorization, task loading, validation splits and finding the data folder."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import babi_dir
from memnet.data import (
    QAExample,
    Vocabulary,
    find_data_dir,
    load_task,
    load_tasks,
    parse_babi,
    sentence_size_of,
    split_by_story,
    vectorize,
)
from memnet.data.sources import ENV_VAR, find_task_file
from memnet.errors import DataNotFoundError, MemnetError, RunDirError, UnknownWordError

# --------------------------------------------------------------------------- vocabulary


def test_vocabulary_reserves_id_0_for_padding():
    vocab = Vocabulary.build([["mary", "went"], ["kitchen", "mary"]])
    assert vocab.words[0] == "<nil>" and len(vocab) == 4
    assert vocab.encode(["kitchen", "mary", "went"]) == [1, 2, 3]
    assert vocab.decode([2, 0, 1]) == ["mary", "kitchen"]
    assert "mary" in vocab and "<nil>" in vocab and "john" not in vocab


def test_vocabulary_does_not_depend_on_input_order():
    assert Vocabulary.build([["b", "a"], ["c"]]) == Vocabulary.build([["c"], ["a", "b"]])


def test_vocabulary_from_examples_includes_answers_as_whole_words():
    example = QAExample(story=(("john", "went", "north"),), question=("how", "do", "you", "go"), answer="n,w")
    vocab = Vocabulary.from_examples([example])
    assert "n,w" in vocab and "n" not in vocab and "john" in vocab and "how" in vocab


def test_vocabulary_save_load_roundtrip(tmp_path):
    vocab = Vocabulary.build([["mary", "кухня", "n,w", "रसोई"]])
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocabulary.load(tmp_path / "vocab.json")
    assert loaded == vocab and loaded.words == vocab.words
    assert loaded.encode(["रसोई", "n,w"]) == vocab.encode(["रसोई", "n,w"])


@pytest.mark.parametrize("content", ["not json", json.dumps({"words": [1, 2]}), json.dumps({"other": []})])
def test_vocabulary_load_rejects_foreign_files(tmp_path, content):
    path = tmp_path / "vocab.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RunDirError, match="not a memnet vocabulary"):
        Vocabulary.load(path)


def test_strict_encoding_names_every_unknown_word():
    vocab = Vocabulary.build([["mary", "went"]])
    with pytest.raises(UnknownWordError) as caught:
        vocab.encode(["mary", "flew", "to", "mars", "flew"])
    assert caught.value.words == ["flew", "mars", "to"]
    assert str(caught.value) == "unknown word(s) not in the model's vocabulary: 'flew', 'mars', 'to'"
    assert isinstance(caught.value, MemnetError)
    assert vocab.encode(["mary", "flew"], strict=False) == [vocab.index["mary"]]


# --------------------------------------------------------------------------- vectorization


def _example(n_sentences, supporting=(), answer="kitchen", task=1):
    story = tuple(("s", str(i)) + (("long",) * (i % 3)) for i in range(n_sentences))
    return QAExample(story=story, question=("where", "is", "mary"), answer=answer, supporting=tuple(supporting), task=task)


def _vocab_for(examples):
    return Vocabulary.from_examples(examples)


def test_vectorize_pads_words_and_memory_with_zeros():
    examples = [_example(2, supporting=(1,)), _example(4, supporting=(0, 3))]
    vocab = _vocab_for(examples)
    encoded = vectorize(examples, vocab, memory_size=6)
    # slots: the memory size, or fewer when no story needs them all (never fewer than the longest story)
    n, slots, words = encoded.story.shape
    assert (n, words) == (2, 4) and 4 <= slots <= 6 and encoded.story.dtype == np.int32
    assert encoded.question.shape == (2, 4)
    # first example: two sentences, then empty slots
    assert encoded.story[0, 0].tolist() == vocab.encode(["s", "0"]) + [0, 0]
    assert encoded.story[0, 1].tolist() == vocab.encode(["s", "1", "long"]) + [0]
    assert not encoded.story[0, 2:].any()
    assert encoded.question[0].tolist() == vocab.encode(["where", "is", "mary"]) + [0]
    assert encoded.answer.tolist() == [vocab.index["kitchen"]] * 2
    assert encoded.supporting.shape == (2, slots)
    assert encoded.supporting[:, :4].tolist() == [[False, True, False, False], [True, False, False, True]]
    assert not encoded.supporting[:, 4:].any()
    assert encoded.task.tolist() == [1, 1]
    assert set(encoded.inputs) == {"story", "question"}


def test_memory_truncation_keeps_the_most_recent_sentences_in_order():
    example = _example(8, supporting=(1, 5, 7))
    vocab = _vocab_for([example])
    encoded = vectorize([example], vocab, memory_size=3, sentence_size=4)
    assert encoded.story.shape == (1, 3, 4)
    kept = [vocab.decode(row) for row in encoded.story[0]]
    assert kept == [list(example.story[i]) for i in (5, 6, 7)]  # oldest first, most recent last
    # supporting facts shift with the window; the one that fell out (sentence 1) is gone
    assert encoded.supporting[0].tolist() == [True, False, True]


def test_truncation_that_drops_every_supporting_fact():
    example = _example(6, supporting=(0, 1))
    encoded = vectorize([example], _vocab_for([example]), memory_size=4)
    assert not encoded.supporting.any()


def test_sentence_size_defaults_to_longest_kept_sentence_and_cuts_longer_ones():
    short = _example(2)
    long_old = QAExample(story=(("a",) * 9, ("b",)), question=("q",), answer="b")
    # the 9-word sentence falls out of a 1-slot memory, so it does not set the size
    assert sentence_size_of([long_old], memory_size=1) == 1
    assert sentence_size_of([short, long_old], memory_size=50) == 9
    vocab = _vocab_for([short, long_old])
    encoded = vectorize([long_old], vocab, memory_size=2, sentence_size=3)
    assert encoded.story[0, 0].tolist() == [vocab.index["a"]] * 3


def test_unknown_words_are_dropped_or_raise_when_strict():
    train = _example(2)
    vocab = _vocab_for([train])
    unseen = QAExample(story=(("s", "zebra", "0"),), question=("where", "is", "zebra"), answer="zoo")
    encoded = vectorize([unseen], vocab, memory_size=2, sentence_size=3)
    assert encoded.story[0, 0].tolist() == vocab.encode(["s", "0"]) + [0]
    assert encoded.answer[0] == 0  # an answer the vocabulary lacks
    with pytest.raises(UnknownWordError):
        vectorize([unseen], vocab, memory_size=2, strict=True)


def test_select_takes_rows_of_every_array():
    examples = [_example(i + 1, task=i + 1) for i in range(4)]
    encoded = vectorize(examples, _vocab_for(examples), memory_size=5)
    part = encoded.select(np.array([3, 1]))
    assert len(part) == 2 and part.task.tolist() == [4, 2]
    assert (part.story == encoded.story[[3, 1]]).all()


def test_real_task_multi_word_answers_get_one_id():
    examples = parse_babi(find_task_file(babi_dir("en"), 19, "test"), task=19)
    vocab = Vocabulary.from_examples(examples)
    encoded = vectorize(examples, vocab)
    assert (encoded.answer > 0).all()
    assert vocab.words[encoded.answer[0]] == examples[0].answer and "," in examples[0].answer


def test_joint_vocabulary_holds_every_tasks_words():
    en = babi_dir("en")
    joint = load_tasks(en, [1, 8, 19])
    vocab = Vocabulary.from_examples(joint.train + joint.valid)
    for task in (1, 8, 19):
        single = load_task(en, task)
        assert set(Vocabulary.from_examples(single.train + single.valid).words) <= set(vocab.words), task
    assert {"apple,football", "n,w", "kitchen"} <= set(vocab.words)
    assert {e.task for e in joint.test} == {1, 8, 19}
    encoded = vectorize(joint.test, vocab)
    assert sorted(set(encoded.task.tolist())) == [1, 8, 19]


# --------------------------------------------------------------------------- loading and validation


def test_official_validation_split_is_used_when_present():
    splits = load_task(babi_dir("en-valid"), 1)
    assert splits.valid_source == "official"
    assert (len(splits.train), len(splits.valid), len(splits.test)) == (900, 100, 1000)


def test_seeded_ten_percent_split_by_story_without_official_validation():
    en = babi_dir("en")
    splits = load_task(en, 1, seed=3)
    assert splits.valid_source == "split"
    train_stories = {e.story_id for e in splits.train}
    valid_stories = {e.story_id for e in splits.valid}
    assert not train_stories & valid_stories
    assert len(train_stories | valid_stories) == 200  # task 1: 200 stories of 5 questions
    assert len(valid_stories) == 20
    assert len(splits.train) + len(splits.valid) == 1000 and len(splits.test) == 1000
    again = load_task(en, 1, seed=3)
    assert [e.source for e in again.valid] == [e.source for e in splits.valid]
    other = load_task(en, 1, seed=4)
    assert {e.story_id for e in other.valid} != valid_stories


def test_split_by_story_keeps_each_story_on_one_side():
    examples = [QAExample(story=(("a",),), question=("q",), answer="a", story_id=i // 3) for i in range(90)]
    train, valid = split_by_story(examples, 0.1, seed=0)
    assert len(valid) == 9 and len(train) == 81
    assert not {e.story_id for e in train} & {e.story_id for e in valid}
    assert split_by_story(examples[:3], 0.1, seed=0) == (examples[:3], [])  # one story: nothing to hold out


def test_missing_10k_task_3_training_file_is_data_not_found():
    en10k = babi_dir("en-10k")
    if find_task_file(en10k, 3, "train") is not None:
        pytest.skip("this copy of en-10k has the task 3 training file")
    with pytest.raises(DataNotFoundError) as caught:
        load_task(en10k, 3)
    assert "task 3" in str(caught.value) and "train" in str(caught.value)
    assert isinstance(caught.value, MemnetError)


# --------------------------------------------------------------------------- finding the data


@pytest.fixture
def three_places(tmp_path, monkeypatch):
    """Three bAbI folders (flag, environment variable, download cache), each with one task file."""
    en = babi_dir("en")
    source = find_task_file(en, 1, "train")
    places = {}
    for name in ("flag", "env"):
        places[name] = tmp_path / name
        places[name].mkdir()
        shutil.copy(source, places[name])
    cache = tmp_path / "cache"
    places["download"] = cache / "datasets" / "babi" / "tasks_1-20_v1-2" / "en"
    places["download"].mkdir(parents=True)
    shutil.copy(source, places["download"])
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    return places, cache


def test_find_data_dir_prefers_flag_then_environment_then_download(three_places, monkeypatch):
    places, cache = three_places
    monkeypatch.setenv(ENV_VAR, str(places["env"]))
    assert find_data_dir(places["flag"], cache_dir=cache) == places["flag"]
    assert find_data_dir(None, cache_dir=cache) == places["env"]
    monkeypatch.delenv(ENV_VAR)
    assert find_data_dir(None, cache_dir=cache) == places["download"]


def test_find_data_dir_uses_keras_home_for_the_download_by_default(three_places, monkeypatch):
    places, cache = three_places
    monkeypatch.setenv("KERAS_HOME", str(cache))
    assert find_data_dir() == places["download"]


def test_find_data_dir_names_all_three_places_when_nothing_is_found(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DataNotFoundError) as caught:
        find_data_dir(None, cache_dir=tmp_path / "empty")
    message = str(caught.value)
    assert "--data-dir" in message and ENV_VAR in message and "memnet download" in message


@pytest.mark.parametrize("origin", ["flag", "env"])
def test_a_given_folder_without_babi_files_is_an_error_not_skipped(tmp_path, monkeypatch, origin):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.delenv(ENV_VAR, raising=False)
    if origin == "env":
        monkeypatch.setenv(ENV_VAR, str(empty))
    with pytest.raises(DataNotFoundError) as caught:
        find_data_dir(empty if origin == "flag" else None, cache_dir=tmp_path)
    assert str(empty) in str(caught.value)
    assert ("--data-dir" if origin == "flag" else ENV_VAR) in str(caught.value)


def test_find_task_file_knows_official_and_en_valid_names():
    assert find_task_file(babi_dir("en"), 1, "train").name == "qa1_single-supporting-fact_train.txt"
    assert find_task_file(babi_dir("en"), 10, "test").name == "qa10_indefinite-knowledge_test.txt"
    assert find_task_file(babi_dir("en-valid"), 1, "valid").name == "qa1_valid.txt"
    assert find_task_file(babi_dir("en"), 1, "valid") is None
