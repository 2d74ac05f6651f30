"""Event transcripts as think tanks publish them, often extracted from PDF.

A title page (organisation, title, place, date, a list of participants with
their affiliations), often a "PROCEEDINGS" line, then each speaker's name in
capitals on a line of its own ("MS. LEE", "ANN LEE") followed by what they
said. Page numbers ("- 2 -"), running headers and form feeds are gone by the
time this reader runs (``pages.remove_page_furniture``), and "* * *" rules
are dropped here.
"""

import re

from archive.parsing import text as t
from archive.parsing.document import (
    ParsedInterview,
    ParsedSpeaker,
    ParsedTurn,
    ParseError,
)

_HONORIFIC = r"(?:MR|MRS|MS|MISS|DR|PROF|AMB|AMBASSADOR|SEN|SENATOR|REP|GEN|ADM|HON)\.?"
# "MS. LEE", "ANN LEE", "DR. JANE DOE-SMITH", "AMBASSADOR O'NEIL".
_NAME_LINE = re.compile(
    rf"^(?:{_HONORIFIC}[ \t]+)?[A-Z][A-Z'’\-.]*(?:[ \t]+[A-Z][A-Z'’\-.]*){{0,3}}:?$"
)
_PROCEEDINGS = re.compile(
    r"^P[ \t]*R[ \t]*O[ \t]*C[ \t]*E[ \t]*E[ \t]*D[ \t]*I[ \t]*N[ \t]*G[ \t]*S$"
)
_RULE = re.compile(r"^(?:[*\-_=][ \t]*){3,}$")
_PAGE_NUMBER = re.compile(r"^-[ \t]*\d{1,4}[ \t]*-$")
_PARTICIPANTS = re.compile(r"^(?:PARTICIPANTS|SPEAKERS|PANELISTS|FEATURING):?$", re.I)


def _is_name_line(line: str, following: str) -> bool:
    """A name in capitals alone on its line, with speech after it."""
    return (
        bool(_NAME_LINE.match(line))
        and len(line) <= 60
        and bool(following)
        and following[:1].isupper()
        and any(c.islower() for c in following)
    )


def looks_like_event(source: str) -> bool:
    lines = [t.trim(line) for line in source.split("\n")]
    named = sum(
        1
        for line, following in zip(lines, [*lines[1:], ""], strict=True)
        if _is_name_line(line, following)
    )
    return named >= 2


def parse_event(source: str) -> ParsedInterview:
    parsed = ParsedInterview(format="event", markup="plain")
    lines = [t.trim(line) for line in source.split("\n")]
    start = next((i for i, line in enumerate(lines) if _PROCEEDINGS.match(line)), None)
    head, body = (
        (lines[:start], lines[start + 1 :]) if start is not None else ([], lines)
    )
    if head:
        _read_title_page(parsed, head)
    current: ParsedTurn | None = None
    paragraph: list[str] = []
    preamble: list[str] = []

    def flush() -> None:
        if paragraph and current is not None:
            t.append_paragraph(current.paragraphs, t.join_lines(paragraph))
        elif paragraph:
            preamble.append(t.join_lines(paragraph))
        paragraph.clear()

    for i, line in enumerate(body):
        following = body[i + 1] if i + 1 < len(body) else ""
        if _PAGE_NUMBER.match(line):
            continue  # "- 2 -", where the page furniture was not repeated
        if _RULE.match(line):
            flush()
        elif _is_name_line(line, following) and not paragraph_ends_mid_sentence(
            paragraph
        ):
            flush()
            label = line.rstrip(":")
            current = ParsedTurn(speaker=label, label=label, paragraphs=[])
            parsed.turns.append(current)
        elif not line:
            flush()
        else:
            paragraph.append(line)
    flush()
    parsed.turns = [turn for turn in parsed.turns if turn.paragraphs]
    if not parsed.turns:
        raise ParseError(
            "no speakers found (expected names in capitals on their own lines)"
        )
    if start is None and preamble:
        _read_title_page(parsed, preamble)
    return parsed


def paragraph_ends_mid_sentence(paragraph: list[str]) -> bool:
    """A capitalised line inside a sentence ("the U.S.\nNATO ALLIES") is
    not a speaker's name."""
    return bool(paragraph) and not paragraph[-1].endswith(t.SENTENCE_END)


def _read_title_page(parsed: ParsedInterview, lines: list[str]) -> None:
    """Title, date and participants (name, then affiliation) from the lines
    before the proceedings."""
    in_participants = False
    capitals: list[str] = []
    previous_name = None
    for line in lines:
        if not line or _RULE.match(line):
            previous_name = None
            continue
        if _PARTICIPANTS.match(line):
            in_participants = True
            continue
        if in_participants:
            if line.isupper() and len(line.split()) <= 5:
                previous_name = ParsedSpeaker(
                    name=t.display_name(line), role="panelist"
                )
                parsed.participants.append(previous_name)
            elif previous_name is not None and not previous_name.affiliation:
                previous_name.affiliation = line
            continue
        if date := t.parse_date(line.rstrip(".")):
            parsed.date = parsed.date or date
        elif line.isupper() and len(line.split()) >= 2:
            capitals.append(line)
    if capitals and not parsed.title:
        # The organisation heads the page; the title comes after it.
        parsed.title = t.display_name(
            capitals[-1] if len(capitals) > 1 else capitals[0]
        )
