"""Structured transcripts: JSON (the archive's own shape, a list of turns,
Oyez) and CSV with speaker and text columns.

JSON is recognised by its shape, not by a declaration: a dict with "turns"
is the archive's export (``archive.api.interview_document``), a dict with a
"transcript" is an Oyez oral argument, and a list of objects with "speaker"
and "text" is the simplest thing a transcription tool writes. Rows of a
list, an Oyez file or a CSV are grouped as captions are: consecutive rows of
one speaker make one turn, each row a paragraph.
"""

import csv
import io
import json
import re

from archive.markdown import unescape_plain
from archive.parsing import text as t
from archive.parsing.captions import (
    UNIDENTIFIED,
    Line,
    build_interview,
)
from archive.parsing.document import (
    NotATranscript,
    ParsedInterview,
    ParsedSpeaker,
    ParsedTurn,
    ParseError,
)
from archive.parsing.metadata import TEXT_FIELDS

NOT_A_TRANSCRIPT = "this JSON is not a transcript we can read"

_KINDS = {"question", "answer", "remark"}
# Keys of an Oyez case file, which lists a case's hearings but holds none.
_OYEZ_CASE_KEYS = {"docket_number", "oral_argument_audio", "first_party", "heard_by"}


def parse_json(source: str) -> ParsedInterview:
    try:
        data = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"{NOT_A_TRANSCRIPT}: invalid JSON at line {exc.lineno}, "
            f"column {exc.colno} ({exc.msg})"
        ) from None
    except ValueError as exc:  # a number with thousands of digits
        raise ParseError(f"{NOT_A_TRANSCRIPT}: {exc}") from None
    except RecursionError:
        raise ParseError(f"{NOT_A_TRANSCRIPT}: it is nested too deeply") from None
    if isinstance(data, dict) and "turns" in data:
        return _archive_document(data)
    if isinstance(data, dict) and "transcript" in data:
        return _oyez(data)
    if isinstance(data, dict) and isinstance(data.get("segments"), list):
        return _diarized(data["segments"])
    if isinstance(data, dict) and _OYEZ_CASE_KEYS & data.keys():
        raise NotATranscript(
            "this is Oyez case metadata, not a transcript; the transcripts are "
            "the files ending in -t01.json, -t02.json, …"
        )
    if isinstance(data, list):
        return _rows_document(data)
    if isinstance(data, dict):
        keys = ", ".join(sorted(map(str, data))[:10]) or "none"
        raise NotATranscript(
            f"{NOT_A_TRANSCRIPT}: expected “turns” or “transcript”, "
            f"found the keys {keys}"
        )
    else:
        why = f"expected an object or a list, found {_json_type(data)}"
    raise ParseError(f"{NOT_A_TRANSCRIPT}: {why}")


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


def _text(value, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParseError(
            f"{NOT_A_TRANSCRIPT}: {where} should be text, not {_json_type(value)}"
        )
    return value


def _archive_document(data: dict) -> ParsedInterview:
    """The archive's own export, read back as it was written."""
    parsed = ParsedInterview(markup="markdown")
    for key in TEXT_FIELDS:
        setattr(parsed, key, t.trim(_text(data.get(key), f"“{key}”")))
    parsed.date = _archive_date(data)
    topics = data.get("topics") or []
    if not isinstance(topics, list):
        raise ParseError(f"{NOT_A_TRANSCRIPT}: “topics” should be a list")
    parsed.topics = [t.trim(_text(topic, "each topic")) for topic in topics]
    parsed.topics = [topic for topic in parsed.topics if topic]
    people = data.get("participants") or []
    if not isinstance(people, list):
        raise ParseError(f"{NOT_A_TRANSCRIPT}: “participants” should be a list")
    for number, person in enumerate(people, 1):
        where = f"participant {number}"
        if not isinstance(person, dict):
            raise ParseError(f"{NOT_A_TRANSCRIPT}: {where} should be an object")
        name = t.trim(_text(person.get("name"), f"the name of {where}"))
        if not name:
            raise ParseError(f"{NOT_A_TRANSCRIPT}: {where} has no name")
        role = _text(person.get("role"), f"the role of {where}")
        parsed.participants.append(ParsedSpeaker(name=name, role=role))

    turns = data["turns"]
    if not isinstance(turns, list):
        raise ParseError(f"{NOT_A_TRANSCRIPT}: “turns” should be a list")
    for number, turn in enumerate(turns, 1):
        where = f"turn {number}"
        if not isinstance(turn, dict):
            raise ParseError(f"{NOT_A_TRANSCRIPT}: {where} should be an object")
        speaker = turn.get("speaker")
        if isinstance(speaker, dict):
            speaker = speaker.get("name")
        name = t.trim(_text(speaker, f"the speaker of {where}"))
        if not name:
            raise ParseError(f"{NOT_A_TRANSCRIPT}: {where} has no speaker name")
        kind = _text(turn.get("kind"), f"the kind of {where}")
        if kind and kind not in _KINDS:
            raise ParseError(
                f"{NOT_A_TRANSCRIPT}: {where} has kind “{kind}” "
                "(question, answer or remark)"
            )
        body = t.trim(_text(turn.get("text"), f"the text of {where}"))
        paragraphs = [t.trim(p) for p in re.split(r"\n[ \t]*\n", body) if t.trim(p)]
        if not paragraphs:
            raise ParseError(f"{NOT_A_TRANSCRIPT}: {where} has no text")
        parsed.turns.append(
            ParsedTurn(
                speaker=name,
                label=t.trim(_text(turn.get("label"), f"the label of {where}")),
                paragraphs=paragraphs,
                kind=kind,
                start=_start(turn.get("start"), where),
            )
        )
    if not parsed.turns:
        raise ParseError(f"{NOT_A_TRANSCRIPT}: it has no turns")
    parsed.slug = t.trim(_text(data.get("slug"), "“slug”"))
    if data.get("markup") == "plain":
        # Stored text is plain text escaped for Markdown: read it back as the
        # plain text it was, so it is escaped once, not twice.
        parsed.markup = "plain"
        parsed.lede = unescape_plain(parsed.lede)
        for turn in parsed.turns:
            turn.paragraphs = [unescape_plain(p) for p in turn.paragraphs]
    return parsed


def _archive_date(data: dict) -> str:
    written = t.trim(_text(data.get("date"), "“date”"))
    if not written:
        return ""
    date = t.parse_date(written)
    if not date:
        raise ParseError(f"{NOT_A_TRANSCRIPT}: “date” should be YYYY-MM-DD")
    precision = _text(data.get("date_precision"), "“date_precision”")
    return {"year": date[:4], "month": date[:7]}.get(precision, date)


def _rows_document(rows: list) -> ParsedInterview:
    """A list of {"speaker", "text"} objects, optionally with a "start"."""
    lines = []
    for number, row in enumerate(rows, 1):
        where = f"entry {number}"
        if not isinstance(row, dict) or not {"speaker", "text"} <= row.keys():
            raise ParseError(
                f"{NOT_A_TRANSCRIPT}: {where} should be an object with "
                "“speaker” and “text”"
            )
        lines.append(
            Line(
                speaker=t.trim(_text(row["speaker"], f"the speaker of {where}")),
                text=t.trim(_text(row["text"], f"the text of {where}")),
                start=_start(row.get("start"), where),
            )
        )
    parsed = build_interview(lines, one_paragraph=False)
    if not parsed.turns:
        raise ParseError(f"{NOT_A_TRANSCRIPT}: no entry has any text")
    return parsed


def _diarized(segments: list) -> ParsedInterview:
    """WhisperX or pyannote output: segments with a speaker id ("SPEAKER_00"),
    a start and the words. Ids stand for people the curator names (the
    preview, or ``--speaker SPEAKER_00="Ann Lee"``)."""
    lines = []
    for number, segment in enumerate(segments, 1):
        where = f"segment {number}"
        if not isinstance(segment, dict) or "text" not in segment:
            raise ParseError(f"{NOT_A_TRANSCRIPT}: {where} has no “text”")
        speaker = segment.get("speaker")
        lines.append(
            Line(
                # A segment the diarizer could not place continues the last.
                speaker=t.trim(speaker) if isinstance(speaker, str) else "",
                text=t.trim(_text(segment["text"], f"the text of {where}")),
                start=_start(segment.get("start"), where),
            )
        )
    parsed = build_interview(lines, one_paragraph=True)
    if not parsed.turns:
        raise ParseError(f"{NOT_A_TRANSCRIPT}: no segment has any text")
    parsed.format = "json"
    return parsed


def _oyez(data: dict) -> ParsedInterview:
    """An Oyez oral argument: sections of turns of text blocks."""
    transcript = data["transcript"]
    if transcript is None:
        raise ParseError("this Oyez file has no transcript (it is null)")
    sections = transcript.get("sections") if isinstance(transcript, dict) else None
    if not isinstance(sections, list):
        raise ParseError(f"{NOT_A_TRANSCRIPT}: “transcript” has no list of sections")
    lines = []
    for section in sections:
        turns = section.get("turns") if isinstance(section, dict) else None
        for number, turn in enumerate(turns if isinstance(turns, list) else [], 1):
            if not isinstance(turn, dict):
                raise ParseError(f"{NOT_A_TRANSCRIPT}: turn {number} is no object")
            speaker = turn.get("speaker")
            name = speaker.get("name") if isinstance(speaker, dict) else None
            # Oyez leaves the speaker out where nobody identified them.
            name = t.trim(name) if isinstance(name, str) else ""
            start = _start(turn.get("start"), f"turn {number}")
            blocks = turn.get("text_blocks")
            for block in blocks if isinstance(blocks, list) else []:
                text = block.get("text") if isinstance(block, dict) else None
                text = t.trim(text) if isinstance(text, str) else ""
                # Each block is a paragraph of one turn; naming the speaker
                # (or none) on every block keeps a null speaker from carrying
                # over the previous one.
                lines.append(Line(name or UNIDENTIFIED, text, start))
    parsed = build_interview(lines, one_paragraph=False)
    if not parsed.turns:
        raise ParseError("this Oyez transcript has no text")
    parsed.title = t.trim(_text(data.get("title"), "“title”"))
    # "Oral Argument - February 21, 1967"
    parsed.date = t.parse_date(parsed.title.rpartition(" - ")[2])
    return parsed


_CLOCK = re.compile(r"^(?:(\d{1,6}):)?(\d{1,2}):(\d{1,2}(?:[.,]\d{1,6})?)$")
_SECONDS = re.compile(r"\d{1,9}(?:\.\d{1,6})?")
# Longer than any recording; also keeps floats far from overflow.
_LATEST = 10**7


def _start(value, where: str) -> float | None:
    """Seconds from a number or "[hh:]mm:ss"; None when there is none."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 <= value < _LATEST:  # also false for NaN
            raise ParseError(f"{where}: the start “{value}” is out of range")
        seconds = float(value)
    elif isinstance(value, str) and (m := _CLOCK.match(t.trim(value))):
        hours, minutes, rest = m.groups()
        seconds = int(hours or 0) * 3600 + int(minutes) * 60
        seconds += float(rest.replace(",", "."))
    elif isinstance(value, str) and _SECONDS.fullmatch(t.trim(value)):
        seconds = float(value)
    else:
        raise ParseError(f"{where}: the start “{value}” is not seconds or [hh:]mm:ss")
    if seconds >= _LATEST:
        raise ParseError(f"{where}: the start “{value}” is out of range")
    return round(seconds, 3)


_SPEAKER_COLUMNS = ("speaker", "name", "speaker_name", "who")
_TEXT_COLUMNS = ("text", "body", "transcript", "utterance", "content")
_START_COLUMNS = ("start", "time", "timestamp")


def parse_csv(source: str) -> ParsedInterview:
    header_line = source.lstrip("\n").partition("\n")[0]
    # The header names the columns and holds no delimiter of its own, so
    # counting there is surer than csv.Sniffer, which guesses from text full
    # of commas and semicolons.
    delimiter = max(",\t;", key=header_line.count)
    reader = csv.reader(io.StringIO(source), delimiter=delimiter)
    try:
        # Each row with the line it ends on, for messages.
        rows = [(reader.line_num, row) for row in reader if any(map(t.trim, row))]
    except csv.Error as exc:
        raise ParseError(f"CSV line {reader.line_num}: {exc}") from None
    if not rows:
        raise ParseError("the CSV has no header row")
    names = rows[0][1]
    header = [re.sub(r"[\s\-]+", "_", t.trim(h).casefold()) for h in names]
    speaker_at = _column(header, _SPEAKER_COLUMNS)
    text_at = _column(header, _TEXT_COLUMNS)
    start_at = _column(header, _START_COLUMNS)
    if speaker_at is None or text_at is None:
        found = ", ".join(f"“{t.trim(h)}”" for h in names)
        raise ParseError(
            "the CSV needs a speaker column (speaker, name, speaker_name or who) "
            "and a text column (text, body, transcript, utterance or content); "
            f"found {found}"
        )

    def cell(row: list[str], at: int | None) -> str:
        return t.trim(row[at]) if at is not None and at < len(row) else ""

    lines = [
        Line(
            speaker=cell(row, speaker_at),
            text=cell(row, text_at),
            start=_start(cell(row, start_at), f"CSV line {number}"),
        )
        for number, row in rows[1:]
    ]
    parsed = build_interview(lines, one_paragraph=False)
    if not parsed.turns:
        raise ParseError("the CSV has no rows with text")
    return parsed


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None
