"""The parsers, on golden files and on the cases the seeds taught us."""

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.markdown import render
from archive.parsing import ParseError, parse, read_sidecar
from archive.parsing.text import decode, is_cut_mid_sentence, parse_date
from tests.conftest import GOLDEN

GOLDEN_INPUTS = sorted(
    p for p in GOLDEN.iterdir() if p.is_file() and not p.name.endswith(".json")
)


def _as_data(parsed):
    data = dataclasses.asdict(parsed)
    del data["source_text"]  # the input itself
    for turn, parsed_turn in zip(data["turns"], parsed.turns, strict=True):
        turn["body"] = parsed_turn.body
    return data


@pytest.mark.parametrize("path", GOLDEN_INPUTS, ids=lambda p: p.name)
def test_parser_output_matches_its_golden_file(path, regen_golden):
    """Regenerate with `pytest tests/test_parsing.py --regen-golden`, then
    review the diff: a changed golden file is a changed parser."""
    expected_path = path.with_name(path.stem + ".expected.json")
    actual = _as_data(parse(path.read_bytes(), filename=path.name))
    if regen_golden or not expected_path.exists():
        expected_path.write_text(
            json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert actual == expected


def test_surname_labels_resolve_to_the_full_names_the_header_declares():
    parsed = parse(
        "Host: **Ann Lee**\n\nGuest: **Bo Chen**\n\n"
        "Lee: Welcome. What brings you here?\n\nChen: The weather.\n"
    )
    assert [t.speaker for t in parsed.turns] == ["Ann Lee", "Bo Chen"]
    assert [t.label for t in parsed.turns] == ["Lee", "Chen"]
    assert [t.kind for t in parsed.turns] == ["question", "answer"]


def test_an_ambiguous_surname_label_stays_as_written_with_a_warning():
    parsed = parse(
        "Hosts: **Ann Smith** and **Bob Smith**\n\n"
        "Smith: Hello there.\n\nAnn Smith: Hi.\n\nSmith: Again.\n"
    )
    assert parsed.turns[0].speaker == "Smith"
    assert any("Smith" in w for w in parsed.warnings)


def test_unlabelled_paragraphs_continue_the_current_turn():
    parsed = parse("Ann: One.\n\nTwo.\n\nBob: Three.\n")
    assert [t.paragraphs for t in parsed.turns] == [["One.", "Two."], ["Three."]]


def test_a_paragraph_cut_by_a_page_break_is_joined_again():
    parsed = parse("Ann: We compare it to the discussions\n\nof the 1950s. Yes.\n")
    assert parsed.turns[0].paragraphs == [
        "We compare it to the discussions of the 1950s. Yes."
    ]


@pytest.mark.parametrize(
    ("before", "after", "joined"),
    [
        ("the discussions", "of the nuclear space", True),
        ("How did that", "develop?", True),
        ("It ended.", "and then", False),
        ("an interrupted thought —", "and more", False),
        ("no punctuation", "Capitalised next", False),
    ],
)
def test_page_break_rule(before, after, joined):
    assert is_cut_mid_sentence(before, after) is joined


def test_a_sentence_with_a_colon_is_not_a_speaker_label():
    parsed = parse(
        "Ann: First point.\n\nThe problem, in short: nobody agrees.\n\nBob: True.\n"
    )
    assert [t.speaker for t in parsed.turns] == ["Ann", "Bob"]
    assert parsed.turns[0].paragraphs[1] == "The problem, in short: nobody agrees."


def test_plain_text_is_escaped_so_it_renders_as_written():
    parsed = parse("Ann: Yes.\n\n1970.  Now, <sigh> it is [bold].\n\nBob: Yes.\n")
    assert parsed.markup == "plain"
    second = parsed.turns[0].paragraphs[1]
    assert second == "1970\\.  Now, &lt;sigh> it is \\[bold\\]."
    html = render(parsed.turns[0].body)
    assert "<ol" not in html
    assert "1970.  Now, &lt;sigh&gt; it is [bold]." in html


def test_markdown_source_is_kept_as_markdown():
    parsed = parse(
        "Host: **Ann Lee**\n\nLee: See *this book* [the] one.\n\nAnn Lee: Ok."
    )
    assert parsed.markup == "markdown"
    assert parsed.turns[0].body == "See *this book* [the] one."


def test_non_breaking_spaces_and_curly_quotes_survive():
    text = "Ann: It\u2019s \u201cfifth domain\u201d\u00a0\u2014 yes.\n\nBob: Ok.\n"
    assert parse(text, markup="markdown").turns[0].body == (
        "It\u2019s \u201cfifth domain\u201d\u00a0\u2014 yes."
    )


def test_a_qa_article_splits_lede_questions_answers_sidebar_and_credit():
    parsed = parse(
        "An introduction.\n\nMore of it:\n\n"
        "What is the question?\n\n"
        "Jane Roe\nJane Roe studies things.\nMore >\n\n"
        "The answer.\n\nMore answer.\n\n"
        "**Another question**\n\nAnother answer.\n\n"
        "This article originally appeared in The Paper"
    )
    assert parsed.format == "qa"
    assert parsed.lede == "An introduction.\n\nMore of it:"
    assert [(t.kind, t.speaker, len(t.paragraphs)) for t in parsed.turns] == [
        ("question", "Interviewer", 1),
        ("answer", "Jane Roe", 2),
        ("question", "Interviewer", 1),
        ("answer", "Jane Roe", 1),
    ]
    assert parsed.participant("Jane Roe").bio == "Jane Roe studies things."
    assert parsed.attribution == "This article originally appeared in The Paper"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"  \n\n ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        (b"caf\x81 au lait \x8d", "neither UTF-8"),
    ],
)
def test_unreadable_input_is_refused_with_a_reason(data, reason):
    with pytest.raises(ParseError, match=reason):
        decode(data)


def test_text_without_turns_is_refused():
    with pytest.raises(ParseError, match="no"):
        parse("Just a paragraph of prose with nothing else in it.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("September 18, 2017", "2017-09-18"),
        ("Sept. 2016", ""),
        ("June 2016", "2016-06"),
        ("2016", "2016"),
        ("2016-07", "2016-07"),
        ("Monday, March 3, 2014", "2014-03-03"),
        ("February 30, 2017", ""),
        ("the fall of 2015", ""),
    ],
)
def test_dates_keep_only_the_precision_written(text, expected):
    assert parse_date(text) == expected


def test_sidecar_rejects_unknown_keys_and_bad_dates():
    with pytest.raises(ParseError, match="unknown keys titel"):
        read_sidecar('titel = "typo"')
    with pytest.raises(ParseError, match="date"):
        read_sidecar('date = "last fall"')
    with pytest.raises(ParseError, match="TOML"):
        read_sidecar("title = ")


@given(st.text(max_size=400))
def test_any_text_parses_or_fails_with_a_parse_error(text):
    """Whatever a curator feeds in, the parser answers with turns or a reason."""
    try:
        parsed = parse(text)
    except ParseError as exc:
        assert str(exc)
    else:
        assert parsed.turns
        assert all(turn.speaker and turn.kind for turn in parsed.turns)


@given(st.binary(max_size=200))
def test_any_bytes_decode_or_fail_with_a_parse_error(data):
    try:
        decode(data)
    except ParseError as exc:
        assert str(exc)


_PARAGRAPH = st.from_regex(r"[A-Z][a-z]{1,8}( [a-z]{1,8}){0,12}[.?!]", fullmatch=True)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Ann Lee", "Bob Chen", "Cara Diaz"]),
            st.lists(_PARAGRAPH, min_size=1, max_size=3),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_labelled_transcripts_come_back_turn_for_turn(turns):
    text = "\n\n".join(
        "\n\n".join([f"{name}: {paragraphs[0]}", *paragraphs[1:]])
        for name, paragraphs in turns
    )
    parsed = parse(text, format="labels")
    assert [(t.speaker, t.paragraphs) for t in parsed.turns] == turns
