"""Transcript parsers: text or bytes in, ``ParsedInterview`` out, no Django.

``parse`` reads the bytes (encoding, Word container), the front matter, and
detects the format from the file name and the content; then it applies what
the caller already knows about the people in it (from a sidecar, front matter
or the command line), resolves speaker labels to full names and classifies
turns. ``apply_metadata`` lays sidecar values over what the parser read.

Each reader takes text and returns a ``ParsedInterview`` whose turns carry
the labels as written; everything after that is shared.
"""

import re

from archive.markdown import escape_plain
from archive.parsing import text as t
from archive.parsing.captions import is_sbv, parse_sbv, parse_srt, parse_vtt
from archive.parsing.document import (
    NotATranscript,
    ParsedInterview,
    ParsedSpeaker,
    ParsedTurn,
    ParseError,
)
from archive.parsing.docx import docx_to_text
from archive.parsing.event import looks_like_event, parse_event
from archive.parsing.labelled import parse_labelled, split_turn
from archive.parsing.metadata import apply_metadata, read_front_matter, read_sidecar
from archive.parsing.pages import remove_page_furniture
from archive.parsing.qa import is_question, parse_qa
from archive.parsing.services import parse_otter, parse_rev, service_format
from archive.parsing.structured import parse_csv, parse_json

__all__ = [
    "FORMATS",
    "SUFFIXES",
    "NotATranscript",
    "ParseError",
    "ParsedInterview",
    "ParsedSpeaker",
    "ParsedTurn",
    "apply_metadata",
    "parse",
    "read_sidecar",
]

# Raised when the parsers read the same file differently, so that re-importing
# an unchanged file applies the change.
VERSION = "3"
# Text formats first: front matter and markup detection apply to them.
TEXT_FORMATS = ("labels", "hearing", "qa", "rev", "otter", "event")
FORMATS = (*TEXT_FORMATS, "vtt", "srt", "sbv", "json", "csv")
_BY_SUFFIX = {
    ".vtt": "vtt",
    ".srt": "srt",
    ".sbv": "sbv",
    ".json": "json",
    ".csv": "csv",
}
# What a directory import picks up.
SUFFIXES = (".txt", ".text", ".md", ".markdown", ".docx", *_BY_SUFFIX)
_READERS = {
    "vtt": parse_vtt,
    "srt": parse_srt,
    "sbv": parse_sbv,
    "json": parse_json,
    "csv": parse_csv,
    "rev": parse_rev,
    "otter": parse_otter,
    "event": parse_event,
}

_MARKDOWN_SIGNS = re.compile(
    r"\*\*[^*\n]+\*\*|(?<![\w*])\*[^*\s][^*\n]*\*(?![\w*])|\[[^\]\n]+\]\([^)\s]+\)"
    r"|^#{1,6} \S|^> \S",
    re.MULTILINE,
)


def structured_format(source: str, filename: str = "") -> str:
    """ "vtt", "srt", "json" or "csv" by file name or content; "" for text."""
    suffix = filename[filename.rfind(".") :].lower() if "." in filename else ""
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    head = source.lstrip()[:200]
    if head.startswith("WEBVTT"):
        return "vtt"
    if _JSON_START.match(head):
        return "json"
    if _SRT_START.match(head):
        return "srt"
    if is_sbv(head):
        return "sbv"
    return ""


def text_format(source: str) -> str:
    """ "labels" when paragraphs start with speaker labels, "hearing" when
    they start with a congressional record's ("Mr. JONES. …") and nothing
    else does, else "qa"."""
    blocks = [t.join_lines(lines) for lines in t.paragraphs(source)]
    labelled = sum(1 for b in blocks if split_turn(b))
    if labelled >= 2 or (labelled == 1 and not any(map(is_question, blocks))):
        return "labels"
    hearing = sum(1 for b in blocks if split_turn(b, hearing=True))
    if hearing >= 2 and hearing >= len(blocks) / 2:
        return "hearing"
    if looks_like_event(source):
        return "event"
    return "qa"


# "{" or a list of objects; "[00:03:59] Ann: …" is a timestamped label.
_JSON_START = re.compile(r"\{|\[\s*(?:\{|\])")
_SRT_START = re.compile(r"\d+\s*\n\d\d:\d\d:\d\d,\d{3} --> ")


def detect_markup(source: str) -> str:
    return "markdown" if _MARKDOWN_SIGNS.search(source) else "plain"


def parse(
    source: str | bytes,
    *,
    filename: str = "",
    format: str = "",
    markup: str = "",
    participants: list[ParsedSpeaker] | tuple = (),
) -> ParsedInterview:
    """Parse a transcript; raise ParseError with a plain reason if we cannot.

    ``source`` is the file's bytes (any encoding we can detect, or a Word
    document) or text already decoded. ``filename`` helps detection only.
    """
    encoding = ""
    if isinstance(source, bytes):
        if filename.lower().endswith(".docx") or source.startswith(b"PK\x03\x04"):
            source, encoding = docx_to_text(source), "docx"
            markup = markup or "markdown"
            filename = filename[: -len(".docx")] + ".md" if filename else ""
        else:
            source, encoding = t.decode_bytes(source)
    source = t.normalize_newlines(source)
    if not t.trim(source):
        raise ParseError("the file is empty")
    source_text = source
    if format and format not in FORMATS:
        raise ParseError(f"unknown format “{format}” (known: {', '.join(FORMATS)})")
    format = format or structured_format(source, filename)
    meta: dict = {"participants": []}
    if format in TEXT_FORMATS or not format:
        # Told labels from Q&A by the text itself, after its metadata and
        # page furniture are gone.
        meta, source = read_front_matter(source)
        source = remove_page_furniture(source)
        format = format or service_format(source) or text_format(source)
    participants = [*participants, *meta["participants"]]

    if format in _READERS:
        parsed = _READERS[format](source)
    elif format in ("labels", "hearing"):
        parsed = parse_labelled(source, hearing=format == "hearing")
    else:
        asker, answerer = _asker_and_answerer(participants)
        parsed = parse_qa(source, interviewer=asker, interviewee=answerer)
    if format in ("labels", "hearing"):
        _read_qa_labels(parsed, participants)
    parsed.encoding = encoding or "utf-8"
    parsed.source_text = source_text
    parsed.format = format

    _resolve_line_hyphens(parsed)
    _merge_participants(parsed, participants)
    t.resolve_labels(parsed)
    _add_unlisted_speakers(parsed)
    for person in parsed.participants:
        person.name = t.display_name(person.name)
        person.placeholder = person.placeholder or t.is_placeholder_name(person.name)
        if not person.placeholder and t.is_role_description(person.name):
            parsed.warnings.append(
                f"“{person.name}” describes a speaker rather than naming one: it "
                "becomes a speaker of that name; rename or merge it if you know who "
                "it is"
            )
    t.classify_kinds(parsed)

    apply_metadata(parsed, meta)
    _drop_controls(parsed)
    if format in TEXT_FORMATS:
        parsed.markup = markup or meta.get("markup") or detect_markup(source)
    else:
        # Readers of structured formats say what their text is.
        parsed.markup = markup or parsed.markup
    if parsed.markup == "plain":
        for turn in parsed.turns:
            turn.paragraphs = [escape_plain(p) for p in turn.paragraphs]
        parsed.lede = escape_plain(parsed.lede) if parsed.lede else ""
    elif parsed.markup != "markdown":
        raise ParseError(f"unknown markup “{parsed.markup}” (plain or markdown)")
    return parsed


def _drop_controls(parsed: ParsedInterview) -> None:
    """No control character reaches the archive: feeds (XML) refuse them."""
    for turn in parsed.turns:
        turn.paragraphs = [t.printable(p) for p in turn.paragraphs]
        turn.speaker, turn.label = t.printable(turn.speaker), t.printable(turn.label)
    for person in parsed.participants:
        person.name = t.printable(person.name)
    parsed.title, parsed.lede = t.printable(parsed.title), t.printable(parsed.lede)


def _resolve_line_hyphens(parsed: ParsedInterview) -> None:
    texts = [parsed.lede, *(p for turn in parsed.turns for p in turn.paragraphs)]
    resolved = iter(t.resolve_line_hyphens(texts))
    parsed.lede = next(resolved)
    for turn in parsed.turns:
        turn.paragraphs = [next(resolved) for _ in turn.paragraphs]


_QA_LABELS = {
    "q": "question",
    "question": "question",
    "a": "answer",
    "answer": "answer",
}


def _read_qa_labels(parsed: ParsedInterview, given) -> None:
    """ "Q:" and "A:" are the interviewer and the interviewee, whoever they are."""
    if not any(turn.label.casefold() in _QA_LABELS for turn in parsed.turns):
        return
    asker, answerer = _asker_and_answerer(given)
    for turn in parsed.turns:
        kind = _QA_LABELS.get(turn.label.casefold())
        if kind == "question":
            turn.speaker, turn.kind = asker or "Interviewer", kind
        elif kind == "answer":
            turn.speaker, turn.kind = answerer or "Interviewee", kind
    for name, role in (
        (asker or "Interviewer", "interviewer"),
        (answerer or "Interviewee", "guest"),
    ):
        if parsed.participant(name) is None and any(
            x.speaker == name for x in parsed.turns
        ):
            parsed.participants.append(ParsedSpeaker(name=name, role=role))


def _asker_and_answerer(people) -> tuple[str, str]:
    """The names of who asks and who answers, when the caller knows them."""
    asker = next((p.name for p in people if p.role in t.QUESTIONING_ROLES), "")
    answerer = next((p.name for p in people if p.role in t.ANSWERING_ROLES), "")
    return asker, answerer


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
