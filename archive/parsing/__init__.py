"""Transcript parsers: text in, ``ParsedInterview`` out, no Django.

``parse`` detects the format, applies what the caller already knows about the
people in it (from a sidecar or the command line), resolves speaker labels to
full names and classifies turns. ``apply_metadata`` lays sidecar values over
what the parser read from the text.
"""

import re

from archive.markdown import escape_plain
from archive.parsing import text as t
from archive.parsing.document import (
    ParsedInterview,
    ParsedSpeaker,
    ParsedTurn,
    ParseError,
)
from archive.parsing.labelled import parse_labelled, split_label
from archive.parsing.metadata import apply_metadata, read_sidecar
from archive.parsing.qa import is_question, parse_qa

__all__ = [
    "FORMATS",
    "ParseError",
    "ParsedInterview",
    "ParsedSpeaker",
    "ParsedTurn",
    "apply_metadata",
    "detect_format",
    "parse",
    "read_sidecar",
]

FORMATS = ("labels", "qa")

_MARKDOWN_SIGNS = re.compile(
    r"\*\*[^*\n]+\*\*|(?<![\w*])\*[^*\s][^*\n]*\*(?![\w*])|\[[^\]\n]+\]\([^)\s]+\)"
    r"|^#{1,6} \S|^> \S",
    re.MULTILINE,
)


def detect_format(source: str) -> str:
    """ "labels" when paragraphs start with speaker labels, else "qa"."""
    blocks = [t.join_lines(lines) for lines in t.paragraphs(source)]
    labelled = sum(1 for b in blocks if split_label(b))
    if labelled >= 2 or (labelled == 1 and not any(map(is_question, blocks))):
        return "labels"
    return "qa"


def detect_markup(source: str) -> str:
    return "markdown" if _MARKDOWN_SIGNS.search(source) else "plain"


def parse(
    source: str,
    *,
    format: str = "",
    markup: str = "",
    participants: list[ParsedSpeaker] | tuple = (),
) -> ParsedInterview:
    """Parse a transcript; raise ParseError with a plain reason if we cannot."""
    source = t.normalize_newlines(source)
    if not t.trim(source):
        raise ParseError("the file is empty")
    format = format or detect_format(source)
    if format == "labels":
        parsed = parse_labelled(source)
    elif format == "qa":
        asker = next(
            (p.name for p in participants if p.role in t.QUESTIONING_ROLES), ""
        )
        answerer = next(
            (p.name for p in participants if p.role in t.ANSWERING_ROLES), ""
        )
        parsed = parse_qa(source, interviewer=asker, interviewee=answerer)
    else:
        raise ParseError(f"unknown format “{format}” (known: {', '.join(FORMATS)})")

    _merge_participants(parsed, participants)
    t.resolve_labels(parsed)
    _add_unlisted_speakers(parsed)
    t.classify_kinds(parsed)

    parsed.markup = markup or detect_markup(source)
    if parsed.markup == "plain":
        for turn in parsed.turns:
            turn.paragraphs = [escape_plain(p) for p in turn.paragraphs]
        parsed.lede = escape_plain(parsed.lede) if parsed.lede else ""
    elif parsed.markup != "markdown":
        raise ParseError(f"unknown markup “{parsed.markup}” (plain or markdown)")
    return parsed


def _merge_participants(parsed: ParsedInterview, given) -> None:
    """Given people first, in their order, filled in from the text's."""
    merged = []
    for person in given:
        found = parsed.participant(person.name)
        if found is not None:
            person.role = person.role or found.role
            person.bio = person.bio or found.bio
            person.affiliation = person.affiliation or found.affiliation
            person.aliases = person.aliases or found.aliases
        merged.append(person)
    names = {p.name.casefold() for p in merged}
    merged += [p for p in parsed.participants if p.name.casefold() not in names]
    parsed.participants = merged


def _add_unlisted_speakers(parsed: ParsedInterview) -> None:
    """Everyone who speaks is a participant, with no role if none is known."""
    for turn in parsed.turns:
        if parsed.participant(turn.speaker) is None:
            parsed.participants.append(ParsedSpeaker(name=turn.speaker))
