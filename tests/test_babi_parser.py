"""The bAbI v1.2 parser: real files, malformed files, other languages, and random input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import babi_dir
from memnet.data import parse_babi, parse_story_text, tokenize
from memnet.data.sources import find_task_file
from memnet.errors import BabiFormatError, MemnetError

TASKS = range(1, 21)


# --------------------------------------------------------------------------- real files


def _reference_questions(path: Path):
    """An independent, deliberately simple reading of a bAbI file, to check the parser against.

    Yields, per question line: (line number, statement texts of its story so far, question text,
    answer, indices of the supporting statements among those texts).
    """
    statements: dict[int, str] = {}
    order: list[int] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        line_id, text = line.split(" ", 1)
        if int(line_id) == 1:
            statements, order = {}, []
        if "\t" in text:
            question, answer, support = text.split("\t")
            # a supporting id that is not an earlier statement of this story raises here (ValueError)
            support_index = [order.index(int(s)) for s in support.split()]
            yield number, [statements[i] for i in order], question, answer, support_index
        else:
            statements[int(line_id)] = text
            order.append(int(line_id))


@pytest.fixture(scope="module")
def en_files():
    en = babi_dir("en")
    return {(task, split): find_task_file(en, task, split) for task in TASKS for split in ("train", "test")}


@pytest.mark.parametrize("task", TASKS)
def test_every_english_task_parses_to_1000_questions_per_split(en_files, task):
    for split in ("train", "test"):
        path = en_files[task, split]
        examples = parse_babi(path, task=task)
        assert len(examples) == 1000, (path, len(examples))
        assert all(e.task == task for e in examples)
        assert all(e.source.startswith(f"{path}:") for e in examples)
        for example in examples:
            assert example.story, example.source
            assert example.question and example.answer
            assert all(0 <= i < len(example.story) for i in example.supporting), example.source


@pytest.mark.parametrize("task", TASKS)
def test_story_and_supporting_facts_match_an_independent_reading(en_files, task):
    """Story = the statements before the question (never questions); supporting ids point at them."""
    path = en_files[task, "train"]
    examples = parse_babi(path, task=task)
    reference = list(_reference_questions(path))
    assert len(reference) == len(examples)
    for example, (number, statements, question, answer, support) in zip(examples, reference):
        assert example.source == f"{path}:{number}"
        assert example.story == tuple(tuple(tokenize(s)) for s in statements)
        assert example.question == tuple(tokenize(question))
        assert example.answer == answer.strip().lower()
        # supporting ids of the file name statement lines; the indices find those statements
        assert list(example.supporting) == support
        assert example.supporting  # every question of the official files names its supporting facts


def test_supporting_ids_resolve_to_the_right_sentences(en_files):
    path = en_files[1, "train"]
    examples = parse_babi(path, task=1)
    # qa1 train starts: 1 Mary moved to the bathroom. 2 John went to the hallway. 3 Where is Mary? bathroom 1
    first = examples[0]
    assert first.story == (("mary", "moved", "to", "the", "bathroom"), ("john", "went", "to", "the", "hallway"))
    assert first.question == ("where", "is", "mary")
    assert first.answer == "bathroom"
    assert first.supporting == (0,)
    # the second question's story excludes the first question (line 3) but keeps lines 1, 2, 4, 5
    second = examples[1]
    assert len(second.story) == 4
    assert ("where", "is", "mary") not in second.story
    assert second.story[second.supporting[0]] == ("daniel", "went", "back", "to", "the", "hallway")
    assert first.story_id == second.story_id


def test_story_ids_restart_with_each_story(en_files):
    examples = parse_babi(en_files[1, "test"])
    story_ids = [e.story_id for e in examples]
    assert story_ids == sorted(story_ids)
    assert story_ids[0] == 0 and len(set(story_ids)) == 200  # task 1: 5 questions per story


@pytest.mark.parametrize(("task", "answer"), [(8, "apple,football"), (8, "football,apple"), (19, "n,w")])
def test_multi_word_answers_stay_one_class(en_files, task, answer):
    answers = {e.answer for split in ("train", "test") for e in parse_babi(en_files[task, split])}
    assert answer in answers
    assert all(" " not in a for a in answers)
    if task == 19:
        assert all(re.fullmatch(r"[nsew],[nsew]", a) for a in answers), answers


def test_tokenization_lower_cases_and_splits_on_punctuation():
    assert tokenize("Where is Mary?") == ["where", "is", "mary"]
    assert tokenize("Mary went to the Kitchen.") == ["mary", "went", "to", "the", "kitchen"]
    assert tokenize("Mary,John and   Sandra;went!") == ["mary", "john", "and", "sandra", "went"]
    assert tokenize("the north-west of John's garden") == ["the", "north-west", "of", "john's", "garden"]
    assert tokenize("  ...  ") == []


# --------------------------------------------------------------------------- malformed files


GOOD = "1 Mary went to the kitchen.\n2 John went to the garden.\n3 Where is Mary?\tkitchen\t1\n"


def _parse_text(tmp_path, text: str | bytes, name="qa1_bad_train.txt"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path, parse_babi(path)


def _expect_error(tmp_path, text, line, *fragments):
    with pytest.raises(BabiFormatError) as caught:
        _parse_text(tmp_path, text)
    error = caught.value
    path = tmp_path / "qa1_bad_train.txt"
    assert error.path == str(path)
    assert error.line == line
    message = str(error)
    assert message.startswith(f"{path}:{line}:" if line is not None else f"{path}:")
    for fragment in fragments:
        assert fragment in message, message
    assert isinstance(error, MemnetError)  # the CLI's contract: one line, exit 2
    return error


def test_well_formed_sample_parses(tmp_path):
    _, examples = _parse_text(tmp_path, GOOD)
    assert len(examples) == 1 and examples[0].answer == "kitchen" and examples[0].supporting == (0,)


@pytest.mark.parametrize(
    ("text", "line", "fragments"),
    [
        pytest.param("", None, ["no questions"], id="empty-file"),
        pytest.param("\n\n  \n", None, ["no questions"], id="blank-lines-only"),
        pytest.param("1 Mary went to the kitchen.\n2 John went to the garden.\n", None, ["no questions"], id="no-question"),
        pytest.param("1 Mary went home.\nx John went home.\n3 Where is Mary?\thome\t1\n", 2, ["'x'", "positive integer"], id="non-numeric-id"),
        pytest.param("0 Mary went home.\n", 1, ["'0'"], id="zero-id"),
        pytest.param("1 Mary went home.\n3 John went home.\n4 Where is Mary?\thome\t1\n", 2, ["3 does not follow 1"], id="skipped-id"),
        pytest.param("1 Mary went home.\n2 John went home.\n2 Where is Mary?\thome\t1\n", 3, ["2 does not follow 2"], id="repeated-id"),
        pytest.param("1 Where is Mary?\thome\t\n2 Mary went home.\n", 1, ["before any statement"], id="question-first"),
        pytest.param(GOOD + "1 Where is John?\tgarden\t\n", 4, ["before any statement"], id="question-first-in-2nd-story"),
        pytest.param("1 Mary went home.\n2 Where is Mary?\thome\t1\textra\n", 2, ["4 TAB-separated fields"], id="too-many-tabs"),
        pytest.param("1 Mary went home.\n2 Where is Mary? home 1\n", 2, ["'?'", "TAB"], id="question-without-tab"),
        pytest.param("1 Mary went home.\n2 Where is Mary?\thome\t7\n", 2, ["'7'", "supporting"], id="support-points-nowhere"),
        pytest.param(GOOD + "4 Where is John?\tgarden\t3\n", 4, ["'3'", "supporting"], id="support-points-to-question"),
        pytest.param("1 Mary went home.\n2 Where is Mary?\thome\tone\n", 2, ["'one'"], id="support-not-a-number"),
        pytest.param("1 Mary went home.\n2 Where is Mary?\t \t1\n", 2, ["empty answer"], id="empty-answer"),
        pytest.param("1 Mary went home.\n2 Where is Mary?\t\n", 2, ["empty answer"], id="empty-answer-no-support"),
        pytest.param("1 Mary went home.\n2 ?\thome\t1\n", 2, ["question has no words"], id="question-no-words"),
        pytest.param("1 Mary went home.\n2 ...\n", 2, ["no words"], id="statement-no-words"),
        pytest.param("1 Mary went home.\n2\n", 2, ["only one field"], id="id-only"),
        pytest.param("1 Mary went home.\n² Where is Mary?\thome\t1\n", 2, ["'²'"], id="unicode-digit-id"),
        pytest.param("1 Mary went home.\n2 Where is Mary?\thome\t¹\n", 2, ["'¹'"], id="unicode-digit-support"),
        pytest.param("1 Mary went home.\n" + "9" * 5000 + " Where?\thome\t1\n", 2, ["positive integer"], id="huge-id"),
    ],
)
def test_malformed_files_raise_babi_format_error_with_file_and_line(tmp_path, text, line, fragments):
    _expect_error(tmp_path, text, line, *fragments)


def test_non_utf8_bytes_are_reported_with_line(tmp_path):
    text = "1 Mary went to the kitchen.\n2 John went to the g\xe4rden.\n3 Where is Mary?\tkitchen\t1\n"
    error = _expect_error(tmp_path, text.encode("latin-1"), 2, "not valid UTF-8", "0xe4")
    assert error.line == 2


def test_missing_file_is_a_format_error_naming_it(tmp_path):
    with pytest.raises(BabiFormatError) as caught:
        parse_babi(tmp_path / "nope.txt")
    assert caught.value.path == str(tmp_path / "nope.txt") and caught.value.line is None
    assert "cannot read" in str(caught.value)


def test_lines_source_names_itself_in_errors():
    with pytest.raises(BabiFormatError) as caught:
        parse_babi(["1 Mary went home.", "3 Where is Mary?\thome\t1"], name="<pasted>")
    assert (caught.value.path, caught.value.line) == ("<pasted>", 2)


def test_windows_line_endings_and_byte_order_mark_parse(tmp_path):
    _, examples = _parse_text(tmp_path, ("\ufeff" + GOOD).replace("\n", "\r\n"))
    assert examples[0].story[0] == ("mary", "went", "to", "the", "kitchen")
    assert examples[0].answer == "kitchen" and examples[0].supporting == (0,)


# --------------------------------------------------------------------------- other languages


def test_hindi_story_parses(tmp_path):
    text = (
        "1 मैरी रसोई में गई।\n"
        "2 जॉन बगीचे में गया।\n"
        "3 मैरी कहाँ है?\tरसोई\t1\n"
    )
    _, examples = _parse_text(tmp_path, text)
    (example,) = examples
    assert example.story == (("मैरी", "रसोई", "में", "गई"), ("जॉन", "बगीचे", "में", "गया"))  # the danda splits
    assert example.question == ("मैरी", "कहाँ", "है")
    assert example.answer == "रसोई" and example.supporting == (0,)


def test_cyrillic_story_is_lower_cased(tmp_path):
    text = "1 Мэри пошла на Кухню.\n2 Где Мэри?\tКухня\t1\n"
    _, (example,) = _parse_text(tmp_path, text)
    assert example.story == (("мэри", "пошла", "на", "кухню"),)
    assert example.question == ("где", "мэри")
    assert example.answer == "кухня"


def test_parse_story_text_for_asking():
    sentences = parse_story_text("1 Mary went to the kitchen.\n2 John moved to the garden. Mary left.\n3 Where is Mary?\tkitchen\t1")
    assert sentences == [("mary", "went", "to", "the", "kitchen"), ("john", "moved", "to", "the", "garden"), ("mary", "left")]
    with pytest.raises(BabiFormatError):
        parse_story_text(" \n ... \n")


# --------------------------------------------------------------------------- random input

_FIELD_CHARS = st.sampled_from(list("Mary went to the kitchen?.,;!") + ["\t", " ", "1", "2", "3", "0", "²", "é", "ж", "।", "\r", "\x00", "\u2028", "\ufeff"])
_line_id = st.one_of(st.integers(0, 6).map(str), st.text(max_size=3))
_structured_line = st.builds(
    lambda ident, sep, body: f"{ident}{sep}{body}",
    _line_id,
    st.sampled_from([" ", "\t", "", "  "]),
    st.text(_FIELD_CHARS, max_size=30),
)
_lines = st.lists(st.one_of(_structured_line, st.text(max_size=20)), max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_lines)
def test_random_lines_parse_or_raise_babi_format_error(lines):
    try:
        examples = parse_babi(lines)
    except BabiFormatError as error:
        assert error.path == "<lines>"
        assert error.line is None or 1 <= error.line <= len(lines)
        return
    assert examples
    for example in examples:
        assert example.story and example.question and example.answer
        assert all(0 <= i < len(example.story) for i in example.supporting)


@pytest.fixture(scope="module")
def scratch_file(tmp_path_factory):
    return tmp_path_factory.mktemp("bytes") / "qa1_x_train.txt"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_random_bytes_parse_or_raise_babi_format_error(scratch_file, data):
    path = scratch_file
    path.write_bytes(data)
    try:
        parse_babi(path)
    except BabiFormatError as error:
        assert error.path == str(path)
