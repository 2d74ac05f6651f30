"""The parsers, on golden files and on the cases the seeds taught us."""

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.markdown import render
from archive.parsing import FORMATS, ParsedSpeaker, ParseError, parse, read_sidecar
from archive.parsing.text import decode, is_cut_mid_sentence, parse_date
from tests.conftest import GOLDEN

GOLDEN_INPUTS = sorted(
    p for p in GOLDEN.iterdir() if p.is_file() and not p.name.endswith(".expected.json")
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
    if regen_golden:
        expected_path.write_text(
            json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    # A missing golden file is a failure, never written on the fly: writing
    # it here would compare the parser's output with itself.
    assert expected_path.exists(), (
        f"{expected_path.name} is missing: run `pytest tests/test_parsing.py "
        "--regen-golden` and review what it writes"
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


# --- Real-world label styles ------------------------------------------------


@pytest.mark.parametrize(
    ("line", "label", "start", "text"),
    [
        ("[00:03:59] Ann Lee: Hello.", "Ann Lee", 239.0, "Hello."),
        ("Ann Lee: [00:03:59] Hello.", "Ann Lee", 239.0, "Hello."),
        ("**Ann Lee:** \\[03:59\\] Hello.", "Ann Lee", 239.0, "Hello."),
        ("\\[1:02:03\\] **Ann Lee:** Hello.", "Ann Lee", 3723.0, "Hello."),
        ("00:03:59 Ann Lee: Hello.", "Ann Lee", 239.0, "Hello."),
        ("(03:59) ANN LEE:  Hello.", "ANN LEE", 239.0, "Hello."),
        ("Ann Lee: [00:00:01.250] Hello.", "Ann Lee", 1.25, "Hello."),
        ("ANN LEE:  Hello.", "ANN LEE", None, "Hello."),
    ],
)
def test_a_time_before_or_after_the_label_is_the_turns_start(line, label, start, text):
    parsed = parse(f"{line}\n\nBo Chen: Hi.\n\nAnn Lee: Bye.\n")
    first = parsed.turns[0]
    assert (first.label, first.start, first.body) == (label, start, text)
    assert first.speaker == "Ann Lee"


def test_a_time_opening_a_later_paragraph_is_not_part_of_the_text():
    parsed = parse(
        "**Ann:** \\[00:10\\] One point.\n\n\\[04:14\\] So at one meeting we met.\n\n"
        "**Bo:** Yes.\n"
    )
    assert parsed.turns[0].paragraphs == ["One point.", "So at one meeting we met."]
    assert parsed.turns[0].start == 10.0


def test_a_clock_time_in_a_sentence_is_not_a_timestamp():
    parsed = parse("Ann: We met at 10:30 in the morning.\n\nBo: 10:30 sharp.\n")
    assert [t.body for t in parsed.turns] == [
        "We met at 10:30 in the morning.",
        "10:30 sharp.",
    ]
    assert [t.start for t in parsed.turns] == [None, None]


def test_hearing_style_labels_are_read_only_when_asked_for():
    source = (
        "The Chairman. The committee will come to order.\n\n"
        "Mr. Smith. Thank you, Mr. Chairman.\n\n"
        "Senator Warner. A question for the witness.\n\n"
        "Mr. Smith. Gladly.\n"
    )
    parsed = parse(source, format="hearing")
    assert [t.label for t in parsed.turns] == [
        "The Chairman",
        "Mr. Smith",
        "Senator Warner",
        "Mr. Smith",
    ]
    assert parsed.turns[1].body == "Thank you, Mr. Chairman."
    with pytest.raises(ParseError):
        parse(source, format="labels")


def test_hearing_labels_resolve_to_the_declared_witness():
    parsed = parse(
        "Witness: John Smith\n\nMr. Smith. I am glad to be here.\n\n"
        "The Chairman. Welcome.\n",
        format="hearing",
    )
    assert parsed.turns[0].speaker == "John Smith"


def test_q_and_a_labels_are_the_interviewer_and_the_interviewee():
    parsed = parse(
        "Q: What are norms?\n\nA: Rules of the road.\n\nQ. And sovereignty?\n\n"
        "Question: Last one?\n\nAnswer: Done.\n",
        participants=[
            ParsedSpeaker(name="Ann Lee", role="interviewer"),
            ParsedSpeaker(name="Tim Maurer", role="guest"),
        ],
    )
    assert [(t.speaker, t.kind) for t in parsed.turns] == [
        ("Ann Lee", "question"),
        ("Tim Maurer", "answer"),
        ("Ann Lee", "question"),
        ("Tim Maurer", "answer"),
    ]
    # "Q. And sovereignty?" has no colon: it continues the answer before it.
    assert parsed.turns[1].paragraphs == ["Rules of the road.", "Q. And sovereignty?"]


def test_q_and_a_labels_without_names_are_placeholders():
    parsed = parse("Q: What are norms?\n\nA: Rules of the road.\n")
    assert [t.speaker for t in parsed.turns] == ["Interviewer", "Interviewee"]
    assert all(p.placeholder for p in parsed.participants)


# --- Messy sources ----------------------------------------------------------

SECURITY_NOW_LIKE = (
    "GIBSON RESEARCH CORPORATION\t\thttp://www.GRC.com/\r\r\n\r\r\n"
    "SERIES:\t\tSecurity Now!\r\r\n"
    "EPISODE:\t#500\r\r\n"
    "DATE:\t\tMarch 24, 2015\r\r\n"
    "TITLE:\t\tWindows Secure Boot\r\r\n"
    "HOSTS:\tSteve Gibson & Leo Laporte\r\r\n"
    "SOURCE:\thttp://media.GRC.com/sn/SN-500.mp3\r\r\n"
    "ARCHIVE:\thttp://www.GRC.com/securitynow.htm\t\r\r\n\r\r\n"
    "DESCRIPTION:  Leo and I discuss Pwn2Own.  Then UEFI.\r\r\n\r\r\n"
    "SHOW TEASE:  It's time for Security Now!.\r\r\n\r\r\n"
    "LEO LAPORTE:  This is Security Now! with Steve Gibson.\r\r\n\r\r\n"
    "It's time for Security Now!.\r\r\n\r\r\n"
    "STEVE GIBSON:  Leo, Episode 500.\r\r\n\r\r\n"
    "LEO:  Oh, my goodness.\r\n\r\n"
    "STEVE:  The problem: UEFI.\r\r\n\r\r\n"
    "Copyright (c) 2015 by Steve Gibson and Leo Laporte.  SOME RIGHTS RESERVED.\r\n"
)


def test_a_header_block_is_metadata_and_name_variants_are_one_speaker():
    parsed = parse(SECURITY_NOW_LIKE.encode("utf-8"), filename="sn-500.txt")
    assert (parsed.series, parsed.episode, parsed.date, parsed.title) == (
        "Security Now!",
        "500",
        "2015-03-24",
        "Windows Secure Boot",
    )
    assert parsed.source_url == "http://media.GRC.com/sn/SN-500.mp3"
    assert parsed.lede == "Leo and I discuss Pwn2Own.  Then UEFI."
    assert parsed.rights.startswith("Copyright (c) 2015 by Steve Gibson")
    assert [t.speaker for t in parsed.turns] == [
        "Leo Laporte",
        "Steve Gibson",
        "Leo Laporte",
        "Steve Gibson",
    ]
    assert parsed.turns[0].paragraphs == [
        "This is Security Now! with Steve Gibson.",
        "It's time for Security Now!.",
    ]
    assert parsed.turns[-1].body == "The problem: UEFI."
    assert [p.name for p in parsed.participants] == ["Steve Gibson", "Leo Laporte"]


def test_upper_case_names_read_as_names_but_initialisms_stay():
    parsed = parse("JOHN GRAHAM-CUMMING:  Hi.\n\nBBC:  News.\n\nJOHN:  Bye.\n")
    assert [t.speaker for t in parsed.turns] == [
        "John Graham-Cumming",
        "BBC",
        "John Graham-Cumming",
    ]


@pytest.mark.parametrize(
    "ending", ["\r\n", "\r", "\n", "\r\r\n"], ids=["crlf", "cr", "lf", "cr-crlf"]
)
def test_line_endings_do_not_change_the_turns(ending):
    text = "Ann Lee: One\ntwo.\n\nBo Chen: Three.\n".replace("\n", ending)
    parsed = parse(text.encode())
    assert [t.body for t in parsed.turns] == ["One two.", "Three."]


def test_mixed_line_endings_and_a_byte_order_mark():
    parsed = parse(b"\xef\xbb\xbfAnn Lee: One\r\ntwo.\r\n\r\nBo Chen: Three.\n")
    assert parsed.turns[0].speaker == "Ann Lee"
    assert [t.body for t in parsed.turns] == ["One two.", "Three."]


@pytest.mark.parametrize(
    ("data", "encoding", "body"),
    [
        (
            "Ann Lee: It\u2019s \u201cnorms\u201d \u2014 caf\u00e9.\n\nBo: x\n".encode(
                "cp1252"
            ),
            "cp1252",
            "It\u2019s \u201cnorms\u201d \u2014 caf\u00e9.",
        ),
        (
            "Ann Lee: Caf\u00e9 \u00fcber na\u00efve.\n\nBo: Ok.\n".encode("latin-1"),
            "latin-1",
            "Caf\u00e9 \u00fcber na\u00efve.",
        ),
        (
            "Ann Lee: Caf\u00e9 \u2014 \ufffd kept.\n\nBo: Ok.\n".encode(),
            "utf-8",
            "Caf\u00e9 \u2014 \ufffd kept.",
        ),
        (
            "Ann Lee: Caf\u00e9.\n\nBo: Ok.\n".encode("utf-16"),
            "utf-16",
            "Caf\u00e9.",
        ),
    ],
    ids=["cp1252", "latin-1", "replacement-char", "utf-16"],
)
def test_the_encoding_is_detected_not_guessed(data, encoding, body):
    parsed = parse(data, markup="markdown")
    assert parsed.encoding == encoding
    assert parsed.turns[0].body == body


def test_a_colon_inside_a_sentence_is_not_a_label_even_when_capitalised():
    parsed = parse(
        "Ann Lee: First.\n\nBo Chen: Second.\n\n"
        "Here is the thing: nobody agrees.\n\nAnn Lee: Third.\n"
    )
    assert [t.speaker for t in parsed.turns] == ["Ann Lee", "Bo Chen", "Ann Lee"]
    assert parsed.turns[1].paragraphs[1] == "Here is the thing: nobody agrees."


def test_placeholder_speakers_are_marked():
    parsed = parse("Guest 2: Hello.\n\nAmit Varma: Hi.\n\nUnknown: Hm.\n")
    marks = {p.name: p.placeholder for p in parsed.participants}
    assert marks == {"Guest 2": True, "Amit Varma": False, "Unknown": True}


# --- Front matter -----------------------------------------------------------

FRONT_MATTER = """---
title: "Norms in cyberspace"
date: 2016-06-01
series: Carnegie Conversations
source: https://example.org/norms
description: |
  A talk about norms.
tags: [norms, sovereignty]
speakers:
  - name: Tim Maurer
    role: guest
  - Ann Lee
---

**Ann Lee:** What are *norms*?

**Tim Maurer:** Rules of the road.
"""


def test_markdown_front_matter_is_metadata_and_declares_the_speakers():
    parsed = parse(FRONT_MATTER.encode(), filename="norms.md")
    assert parsed.title == "Norms in cyberspace"
    assert parsed.date == "2016-06-01"
    assert parsed.series == "Carnegie Conversations"
    assert parsed.source_url == "https://example.org/norms"
    assert parsed.lede == "A talk about norms.\n"
    assert parsed.topics == ["norms", "sovereignty"]
    assert [(p.name, p.role) for p in parsed.participants] == [
        ("Tim Maurer", "guest"),
        ("Ann Lee", ""),
    ]
    assert [t.speaker for t in parsed.turns] == ["Ann Lee", "Tim Maurer"]
    assert parsed.markup == "markdown"
    assert parsed.turns[0].body == "What are *norms*?"


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        ("title: [unclosed\n", "not valid YAML"),
        ("titel: Misspelt\n", "unknown keys titel"),
        ("- a list\n", "key: value"),
        ("date: someday\n", "date must be"),
        ("speakers: {name: Tim Maurer}\n", "participants must be a list"),
    ],
)
def test_bad_front_matter_is_refused_with_a_reason(front, reason):
    with pytest.raises(ParseError, match=reason):
        parse(f"---\n{front}---\n\nAnn: Hi.\n\nBo: Hi.\n")


def test_a_label_with_a_generational_suffix_is_one_label():
    parsed = parse(
        "John G. Roberts, Jr.: We will hear argument.\n\n"
        "Donald F. Turner: Mr. Chief Justice.\n\n"
        "John G. Roberts, Jr.: Thank you.\n"
    )
    assert [t.speaker for t in parsed.turns] == [
        "John G. Roberts, Jr.",
        "Donald F. Turner",
        "John G. Roberts, Jr.",
    ]


def test_a_role_word_after_the_first_turn_is_a_speaker_and_not_another_guest():
    parsed = parse(
        "Guest 2: Welcome.\n\nAmit Varma: Hi there.\n\nGuest: Thanks.\n\n"
        "Amit Varma: Right.\n"
    )
    assert [t.speaker for t in parsed.turns] == [
        "Guest 2",
        "Amit Varma",
        "Guest",
        "Amit Varma",
    ]


def test_words_that_open_a_paragraph_with_a_colon_are_not_speakers():
    parsed = parse(
        "HOSTS:\tSteve Gibson & Leo Laporte\n\nSTEVE:  Two listeners asked.\n\n"
        'Or:  "A user asks one thing."\n\nOr:  "Another asks a second."\n\n'
        "LEO:  Good.\n"
    )
    assert [t.speaker for t in parsed.turns] == ["Steve Gibson", "Leo Laporte"]
    assert parsed.turns[0].paragraphs[1] == 'Or:  "A user asks one thing."'


def test_a_break_marker_with_only_a_time_is_not_a_turn():
    parsed = parse(
        "**Ann Lee:** One.\n\n**Break**: \\[24:02\\]\n\n**Bo Chen:** Two.\n\n"
        "\\[25:00\\]\n\nThree.\n"
    )
    assert [(t.speaker, t.paragraphs) for t in parsed.turns] == [
        ("Ann Lee", ["One."]),
        ("Bo Chen", ["Two.", "Three."]),
    ]


def test_someone_who_speaks_once_is_a_speaker_when_written_like_the_others():
    parsed = parse(
        "HOSTS:\tSteve Gibson & Leo Laporte\n\n"
        "JASON HOWELL:  Coming up on Security Now.\n\n"
        "STEVE:  Hi.\n\nLEO:  Hello.\n\nMALE VOICE:  Cancel or allow?\n\n"
        "STEVE:  Allow.\n\nAnyway:  the point is made.\n\nLEO:  And Jason?\n\n"
        "JASON:  Here.\n\nLEO:  Good.\n\nJASON:  Bye.\n"
    )
    assert [t.speaker for t in parsed.turns] == [
        "Jason Howell",
        "Steve Gibson",
        "Leo Laporte",
        "Male Voice",
        "Steve Gibson",
        "Leo Laporte",
        "Jason Howell",
        "Leo Laporte",
        "Jason Howell",
    ]
    assert parsed.turns[4].paragraphs == ["Allow.", "Anyway:  the point is made."]


@given(
    st.binary(max_size=300),
    st.sampled_from(
        ["", "x.txt", "x.md", "x.vtt", "x.srt", "x.json", "x.csv", "x.docx"]
    ),
    st.sampled_from(["", *FORMATS]),
)
def test_any_upload_parses_or_fails_with_a_parse_error(data, filename, format):
    """What the admin page and the command pass on: bytes, a name, a format."""
    try:
        parsed = parse(data, filename=filename, format=format)
    except ParseError as exc:
        assert str(exc)
    else:
        assert parsed.turns
        assert all(t.speaker and t.body for t in parsed.turns)


@given(st.text(max_size=300))
def test_labelled_text_with_a_header_and_times_never_crashes(text):
    source = f"TITLE: x\nHOSTS: Ann Lee & Bo Chen\n\n[00:01] Ann Lee: {text}\n"
    try:
        parsed = parse(source.encode("utf-8", "surrogatepass"))
    except (ParseError, UnicodeEncodeError):
        return
    assert parsed.turns
