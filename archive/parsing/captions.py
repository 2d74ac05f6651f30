"""WebVTT and SRT captions: cues grouped into turns by speaker.

Captions have no paragraphs and name speakers only now and then: a WebVTT
voice tag (``<v Ann Lee>``) or a prefix such as ``Ann Lee:``, ``[Ann Lee]:``,
``>> Ann Lee:`` or ``- Ann Lee:`` at the start of a line. A cue that names
nobody is spoken by whoever spoke last. Consecutive cues of one speaker make
one turn of one paragraph, starting when the first cue starts.

``Line`` and ``build_interview`` are shared with the structured readers,
which group rows the same way.
"""

import html
import re
from dataclasses import dataclass

from archive.parsing import text as t
from archive.parsing.document import (
    ParsedInterview,
    ParsedTurn,
    ParseError,
)

UNIDENTIFIED = "Unidentified speaker"


# Stand-ins for a name: "Guest", "Guest 2", "Speaker A", "SPEAKER_01" (as
# diarization tools write it), "Unknown", "Unidentified speaker".
@dataclass
class Line:
    """Words of one speaker from one cue or row; speaker "" when not named."""

    speaker: str
    text: str
    start: float | None = None


def build_interview(lines: list[Line], *, one_paragraph: bool) -> ParsedInterview:
    """Turns from consecutive lines of one speaker.

    A line that names no speaker continues the previous speaker's words;
    before anyone is named, an "Unidentified speaker" speaks. With
    ``one_paragraph`` the lines of a turn are joined into one paragraph
    (captions); otherwise each line is a paragraph (rows of a table).
    """
    parsed = ParsedInterview(markup="plain")
    current: ParsedTurn | None = None
    # Nobody wrote "Unidentified speaker", so it is no label.
    speaker, label = UNIDENTIFIED, ""
    for line in lines:
        if line.speaker:
            speaker = label = line.speaker
        if not line.text:
            continue
        if current is None or t.name_key(current.speaker) != t.name_key(speaker):
            current = ParsedTurn(
                speaker=speaker, label=label, paragraphs=[], start=line.start
            )
            parsed.turns.append(current)
        if one_paragraph and current.paragraphs:
            current.paragraphs[0] += " " + line.text
        else:
            current.paragraphs.append(line.text)
        if current.start is None:
            current.start = line.start
    return parsed


# "01:02:03.456", "02:03.456"; SRT writes a comma, and so do some VTT files.
_TIME = r"(?:(\d{1,6}):)?(\d{1,2}):(\d{1,2})[.,](\d{1,3})"
_TIMING = re.compile(rf"^{_TIME}[ \t]+-->[ \t]+{_TIME}(?:[ \t].*)?$")
# Words of a name: capitalised, a number ("Guest 2") or a particle ("van").
_NAME = r"[^\W\d_][\w.'’\-]*(?:[ \u00a0][\w.'’\-]+){0,4}"
_PREFIX = re.compile(
    rf"^(?:>>+[ \t]*|-[ \t]*)?(?:\[(?P<bracketed>[^\[\]\n]{{1,60}})\][ \t]*|"
    rf"(?P<name>{_NAME})):(?:[ \t]+|$)"
)
_PARTICLES = {"de", "da", "del", "der", "van", "von", "la", "le", "bin", "al", "du"}
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+([^>]*))?>")
# Only the tags each format defines: anything else in angle brackets, such
# as "<sigh>", is text the transcriber wrote.
_VTT_TAG = re.compile(
    r"</?(?:c|i|b|u|lang|ruby|rt|v)(?:[.\s][^>]*)?>|<\d[\d:.]*>", re.IGNORECASE
)
_SRT_TAG = re.compile(r"</?(?:i|b|u|s|font)(?:\s[^>]*)?>", re.IGNORECASE)
# ASS override blocks some SRT files carry: "{\an8}".
_ASS_TAG = re.compile(r"\{\\[^}]*\}")


def parse_vtt(source: str) -> ParsedInterview:
    blocks = _blocks(source)
    first_line = blocks[0][1][0] if blocks else ""
    if not re.match(r"WEBVTT(?:[ \t]|$)", first_line):
        raise ParseError("not a WebVTT file: the first line must be “WEBVTT”")
    lines, skipped, meta = [], [], {}
    # Where the file names speakers with voice tags, "Word:" at the start of
    # a cue is the speaker's own words ("Note: …"), not another speaker.
    voices = bool(_VOICE.search(source))
    for number, block in blocks[1:]:
        if re.match(r"NOTE(?:[ \t]|$)", block[0]) and not lines:
            meta |= _note_metadata(block)
        if re.match(r"(?:NOTE|STYLE|REGION)(?:[ \t]|$)", block[0]):
            continue
        start, text = _cue(number, block, "WebVTT")
        if start is None:
            skipped.append(number)
        else:
            lines += _vtt_lines(text, start, prefixes=not voices)
    parsed = _interview(lines, "WebVTT")
    parsed.title = meta.get("title", "")
    parsed.date = t.parse_date(meta.get("date", ""))
    parsed.series = meta.get("series", "")
    if skipped:
        where = ", ".join(map(str, skipped[:5])) + ("…" if len(skipped) > 5 else "")
        parsed.warnings.append(
            f"ignored {len(skipped)} block(s) without a cue timing (lines {where})"
        )
    return parsed


_NOTE_FIELD = re.compile(r"^(title|date|series):[ \t]*(\S.*)$", re.IGNORECASE)


def _note_metadata(block: list[str]) -> dict[str, str]:
    """ "Title: …", "Date: …" and "Series: …" lines in a NOTE before the cues
    (what our own export writes)."""
    lines = [block[0][len("NOTE") :].strip(), *block[1:]]
    found = [_NOTE_FIELD.match(line) for line in lines if line]
    if not found or not all(found):
        return {}
    return {m[1].lower(): t.trim(m[2]) for m in found}


# YouTube's .sbv: "0:01:14.510,0:01:18.235" on a line, the text below.
_SBV_TIMING = re.compile(
    r"^(\d{1,2}):(\d{2}):(\d{2})\.(\d{3}),\d{1,2}:\d{2}:\d{2}\.\d{3}$"
)


def is_sbv(source: str) -> bool:
    return bool(_SBV_TIMING.match(t.trim(source.lstrip().split("\n", 1)[0])))


def parse_sbv(source: str) -> ParsedInterview:
    """YouTube captions: ``>> NAME:`` marks a change of speaker, also inside
    a cue; a cue without one goes on with the last speaker."""
    lines: list[Line] = []
    for number, block in _blocks(source):
        m = _SBV_TIMING.match(block[0])
        if not m:
            if not lines:
                raise ParseError(
                    f"not an SBV file: line {number} should be a timing such as "
                    "“0:01:14.510,0:01:18.235”"
                )
            lines += _speaker_lines(_sbv_text(block), None)
            continue
        hours, minutes, seconds, millis = map(int, m.groups())
        start = hours * 3600 + minutes * 60 + seconds + millis / 1000
        lines += _speaker_lines(_sbv_text(block[1:]), round(start, 3))
    return _interview(lines, "SBV")


def _sbv_text(rows: list[str]) -> str:
    # ">>" inside a line starts another speaker's words: a line of its own.
    return re.sub(r"[ \t]*>>", "\n>>", "\n".join(rows)).strip()


def parse_srt(source: str) -> ParsedInterview:
    lines: list[Line] = []
    for number, block in _blocks(source):
        start, text = _cue(number, block, "SRT")
        if start is None:
            # A blank line inside a cue's text: the text goes on.
            if not lines:
                raise ParseError(
                    f"not an SRT file: line {number} should be a cue number "
                    "followed by a timing such as “00:00:01,000 --> 00:00:04,000”"
                )
            start = lines[-1].start
        text = _ASS_TAG.sub("", _SRT_TAG.sub("", text))
        lines += _speaker_lines(text, start)
    return _interview(lines, "SRT")


def _interview(lines: list[Line], name: str) -> ParsedInterview:
    parsed = build_interview(lines, one_paragraph=True)
    if not parsed.turns:
        raise ParseError(f"the {name} file has no cues with text")
    return parsed


def _blocks(source: str) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks of trimmed lines, each with its line number."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    for number, line in enumerate(t.normalize_newlines(source).split("\n"), 1):
        line = t.trim(line)
        if line:
            if not current:
                blocks.append((number, current))
            current.append(line)
        else:
            current = []
    return blocks


def _cue(number: int, block: list[str], name: str) -> tuple[float | None, str]:
    """A cue's start in seconds and its text; (None, text) when no timing.

    The timing is the first line, or the second after a cue identifier.
    """
    for i, line in enumerate(block[:2]):
        if "-->" in line:
            m = _TIMING.match(line)
            if not m:
                raise ParseError(
                    f"line {number + i}: “{line[:60]}” is not a {name} cue timing "
                    "(hh:mm:ss.ttt --> hh:mm:ss.ttt)"
                )
            hours, minutes, seconds, fraction = m.groups()[:4]
            start = (
                int(hours or 0) * 3600
                + int(minutes) * 60
                + int(seconds)
                + int(fraction.ljust(3, "0")) / 1000
            )
            return round(start, 3), "\n".join(block[i + 1 :])
    return None, "\n".join(block)


def _vtt_lines(text: str, start: float, *, prefixes: bool = True) -> list[Line]:
    """A WebVTT cue's words by speaker: each voice tag starts a speaker's part
    (and ``Name:`` prefixes do too, when ``prefixes``)."""
    lines = []
    voice, position = "", 0
    for m in _VOICE.finditer(text):
        part = _vtt_text(text[position : m.start()])
        lines += _speaker_lines(part, start, voice, prefixes=prefixes)
        voice = _vtt_text(m[1] or "")
        position = m.end()
    lines += _speaker_lines(_vtt_text(text[position:]), start, voice, prefixes=prefixes)
    return lines


def _vtt_text(text: str) -> str:
    # Tags go first so that an escaped "&lt;sigh&gt;" stays as text.
    return html.unescape(_VTT_TAG.sub("", text))


def _speaker_lines(
    text: str, start: float | None, speaker: str = "", *, prefixes: bool = True
) -> list[Line]:
    """The words of one cue, split where a line starts with a speaker prefix
    (unless ``prefixes`` is off)."""
    lines = [Line(speaker, "", start)]
    for row in text.split("\n"):
        row = t.trim(row)
        named = _prefix(row) if prefixes else None
        if named:
            name, row = named
            lines.append(Line(name, "", start))
        else:
            # ">>" marks a change of speaker in broadcast captions, here one
            # left unnamed: the words after it are all we can use.
            row = t.trim(re.sub(r"^>>+", "", row))
        if row:
            current = lines[-1]
            current.text = f"{current.text} {row}" if current.text else row
    return [line for line in lines if line.text or line.speaker]


def _prefix(row: str) -> tuple[str, str] | None:
    m = _PREFIX.match(row)
    if not m:
        return None
    name = t.trim(m["bracketed"] or m["name"] or "")
    if not name:
        return None
    if m["name"]:
        # "Then he said: no" is not a speaker; "Ann Lee" and "Guest 2" are.
        for word in name.replace("\u00a0", " ").split():
            if not (word[0].isupper() or word.isdigit() or word in _PARTICLES):
                return None
    return name, t.trim(row[m.end() :])
