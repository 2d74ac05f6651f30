"""Page furniture: running headers, footers and page numbers leave the text."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.parsing import parse
from archive.parsing.pages import remove_page_furniture
from bench import messy

FILLER = "Ann: Opening remarks.\n\nBob: A reply.\n\nAnn: Another point.\n\n"


def _paged(pages: list[str], *, footer=None, header="", feed=False) -> str:
    """Join page bodies with a header above and a footer below each page."""
    out = []
    for number, body in enumerate(pages, start=1):
        page = (f"{header}\n\n" if header else "") + body
        if footer:
            page += "\n\n" + footer(number, len(pages)) + "\n"
        out.append(page)
    # Text extracted from a PDF ends each page with a form feed.
    return ("\f" if feed else "\n").join(out)


def _turns(source: str) -> list[tuple[str, str]]:
    return [(turn.speaker, turn.body) for turn in parse(source).turns]


FILLER_TURNS = [
    ("Ann", "Opening remarks."),
    ("Bob", "A reply."),
    ("Ann", "Another point."),
]
PAGES = [
    FILLER * 2 + "Ann: The first page ends\nin the middle of a sentence that",
    "goes on here. Then it stops.\n\n" + FILLER * 2 + "Bob: Short answer.",
    FILLER + "Ann: Thanks.",
]
EXPECTED = [
    *FILLER_TURNS * 2,
    ("Ann", "The first page ends in the middle of a sentence that goes on here. "
     "Then it stops."),
    *FILLER_TURNS * 2,
    ("Bob", "Short answer."),
    *FILLER_TURNS,
    ("Ann", "Thanks."),
]  # fmt: skip


@pytest.mark.parametrize(
    "footer",
    [
        lambda n, total: f"Page {n}",
        lambda n, total: f"Page {n} of {total}",
        lambda n, total: f"{n} of {total}",
        lambda n, total: f"- {n} -",
        lambda n, total: f"          {n}",
        lambda n, total: f"PAGE {n}/{total}",
    ],
    ids=["page", "page-of", "of", "dash", "lone", "slash"],
)
def test_page_numbers_leave_the_turns(footer):
    assert _turns(_paged(PAGES, footer=footer)) == EXPECTED


def test_a_running_header_with_form_feeds_leaves_the_turns():
    source = _paged(PAGES, header="SMITH v. JONES", feed=True)
    assert _turns(source) == EXPECTED


def test_a_running_header_carrying_the_page_number_leaves_the_turns():
    pages = _paged(PAGES, footer=lambda n, _: f"Smith v. Jones — Transcript, p. {n}")
    assert _turns(pages) == EXPECTED


def test_a_header_repeated_at_even_intervals_is_furniture_even_without_numbers():
    rng = random.Random(1)
    words = ["we", "saw", "the", "reports", "and", "vendors", "said", "nothing"]
    turns = [
        (speaker, " ".join(rng.choices(words, k=rng.randint(5, 40))) + ".")
        for speaker in ["Ann", "Bob"] * 6
    ]
    style = messy.Style(width=60, page_lines=14, header="Hearing on Encryption")
    source = messy.render(turns, style)
    assert source.count("Hearing on Encryption") >= 4
    assert _turns(source) == [(s, " ".join(t.split())) for s, t in turns]


def test_form_feeds_alone_mark_a_page_break_that_is_mended():
    source = "Ann: The sentence runs\n\n\fon after the break.\n\nBob: Yes.\n"
    assert _turns(source) == [
        ("Ann", "The sentence runs on after the break."),
        ("Bob", "Yes."),
    ]


def test_a_hard_wrapped_paragraph_cut_after_a_full_line_is_one_paragraph_again():
    # The line before the break ends a sentence but is as full as the
    # wrapping allows, so the paragraph went on; the capital after the break
    # would keep the two halves apart by the sentence rule alone.
    lines = [
        "Ann: We looked at every report that the vendors published last year,",
        "and most of them said the same thing about patching: it is slow. This",
        "is what the data shows, whatever the press releases say about it.",
        "Nobody disputes that part of it anymore, not even the vendors now.",
    ]
    pages = [
        "\n".join(lines[:2] * 4 + lines[:2]) + "\n" + lines[2],
        "\n".join([lines[3], *lines[:2]]) + "\nend.\n\nBob: Short reply.",
        "Ann: Fine.",
    ]
    parsed = parse(_paged(pages, footer=lambda n, total: f"Page {n} of {total}"))
    assert len(parsed.turns[0].paragraphs) == 1
    assert "vendors. Nobody disputes" not in parsed.turns[0].body
    assert "about it. Nobody disputes" in parsed.turns[0].body


def test_a_paragraph_that_ends_at_the_page_break_stays_a_paragraph():
    pages = ["Ann: First paragraph.", "Second paragraph.\n\nBob: Yes.", "Ann: No."]
    parsed = parse(_paged(pages, footer=lambda n, _: f"Page {n}"))
    assert parsed.turns[0].paragraphs == ["First paragraph.", "Second paragraph."]


def test_a_speaker_label_after_the_break_starts_a_new_turn():
    pages = ["Ann: I was saying that", "Bob: Sorry to interrupt.", "Ann: Go on."]
    source = _paged(pages, footer=lambda n, _: f"- {n} -")
    assert [s for s, _ in _turns(source)] == ["Ann", "Bob", "Ann"]


def test_lines_repeated_in_the_conversation_are_not_headers():
    source = FILLER + "Bob: Thank you.\n\n" + FILLER * 3 + "Bob: Thank you.\n"
    source = _paged([source, FILLER, "Ann: End."], footer=lambda n, _: f"Page {n}")
    assert [t for _, t in _turns(source)].count("Thank you.") == 2


def test_repeated_label_lines_beside_page_breaks_are_kept():
    pages = ["LEO:  Right.\n\nSTEVE:  " + "Text. " * 5 + "\n\nLEO:  Right."] * 4
    source = _paged(pages, footer=lambda n, _: f"Page {n}")
    assert [t for _, t in _turns(source)].count("Right.") == 8


def test_a_year_on_its_own_line_is_kept():
    source = "Interview\n\nJune\n\n2016\n\nAnn: Hello.\n\nBob: Hi.\n"
    assert remove_page_furniture(source) == source
    assert parse(source).date == "2016"


def test_numbers_out_of_sequence_are_kept():
    source = "Ann: How many?\n\n12\n\nBob: Twelve, then\n\n4\n\nAnn: And then?\n\n5\n"
    assert remove_page_furniture(source) == source


def test_lone_numbers_in_sequence_are_page_numbers():
    body = "Ann: Hello there.\n\nBob: Hi.\n\n"
    source = f"{body}1\n\n{body}2\n\n{body}3\n\n{body}"
    assert "\n1\n" not in remove_page_furniture(source)
    assert all(t in {"Hello there.", "Hi."} for _, t in _turns(source))


def test_numbers_inside_the_text_survive():
    pages = ["Ann: In 2016 we saw 3 of 40\nattacks succeed.", "Bob: Page 3 says so."]
    source = _paged([*pages, "Ann: Fine."], footer=lambda n, total: f"{n} of {total}")
    assert _turns(source)[:2] == [
        ("Ann", "In 2016 we saw 3 of 40 attacks succeed."),
        ("Bob", "Page 3 says so."),
    ]


def test_a_single_page_number_line_without_a_sequence_is_kept():
    source = "Ann: Turn to the annex.\n\nPage 3\n\nBob: Which one?\n"
    assert remove_page_furniture(source) == source


@given(
    st.lists(
        st.one_of(
            st.just(""),
            st.from_regex(r"[A-Za-z][A-Za-z0-9 ,:]{0,60}[.?!]", fullmatch=True),
        ),
        max_size=60,
    )
)
def test_text_without_furniture_is_unchanged(lines):
    source = "\n".join(lines)
    assert remove_page_furniture(source) == source


def test_a_paragraph_ending_that_recurs_is_not_a_header():
    # Oyez: many turns end "(Voice Overlap) --", wrapped onto a line of its own.
    turn = "Ann: " + "word " * 12 + "and so on (Voice\nOverlap) --\n\nBob: Yes.\n\n"
    source = turn * 3
    assert remove_page_furniture(source) == source


def test_a_recurring_stage_direction_is_not_a_header():
    # Security Now! 450: "[Clip]" between short turns, at even intervals of
    # blank lines but with only a line of text between them.
    source = "LEO:  All right.\n\n\n\n[Clip]\n\n\n\nLEO:  Wow.\n\n\n\n" * 6
    assert remove_page_furniture(source) == source
