"""Text exports of transcription services, read the way each writes them.

- Rev: ``Name (00:01:23):`` on a line of its own, the speech on the lines
  after; a bare ``(00:03:10):`` is a further paragraph of the same speaker.
  Tags such as ``[crosstalk 00:08:47]`` are the transcriber's and stay.
- Otter: ``Name  0:03`` (name, two spaces, time) on a line of its own, the
  speech below; the same speaker's name heads each block, and Otter's
  closing "Transcribed by https://otter.ai" is not speech.

Sonix, Descript and Trint write ``Name: [00:00:27] text``, which the
speaker-label reader takes (``labelled.py``), joining one speaker's
consecutive paragraphs into one turn.
"""

import re

from archive.parsing import text as t
from archive.parsing.document import ParsedInterview, ParsedTurn, ParseError
from archive.parsing.labelled import time_seconds

_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}"
_REV_HEAD = re.compile(
    rf"^(?P<name>[^\s():][^():\n]{{0,60}}?)[ \t]+\((?P<time>{_TIME})\):[ \t]*$"
)
_REV_MORE = re.compile(rf"^\((?P<time>{_TIME})\):[ \t]*$")
_OTTER_HEAD = re.compile(rf"^(?P<name>\S[^\n]{{0,60}}?)  +(?P<time>{_TIME})[ \t]*$")
FOOTER = t.SERVICE_FOOTER


def service_format(source: str) -> str:
    """ "rev" or "otter" when at least two lines head turns the way that
    service writes them, else ""."""
    lines = source.splitlines()
    if sum(1 for line in lines if _REV_HEAD.match(line)) >= 2:
        return "rev"
    if sum(1 for line in lines if _OTTER_HEAD.match(line)) >= 2:
        return "otter"
    return ""


def parse_rev(source: str) -> ParsedInterview:
    return _read(source, "rev", _REV_HEAD, _REV_MORE)


def parse_otter(source: str) -> ParsedInterview:
    return _read(source, "otter", _OTTER_HEAD, None)


def _read(source: str, name: str, head: re.Pattern, more: re.Pattern | None):
    parsed = ParsedInterview(format=name, markup="plain")
    current: ParsedTurn | None = None
    paragraph: list[str] = []
    preamble: list[str] = []

    def flush() -> None:
        if current is not None and paragraph:
            t.append_paragraph(current.paragraphs, t.join_lines(paragraph))
        paragraph.clear()

    for raw in source.splitlines():
        line = t.trim(raw)
        if m := head.match(raw.rstrip()):
            flush()
            speaker = t.trim(m["name"])
            if current is None or t.name_key(current.speaker) != t.name_key(speaker):
                current = ParsedTurn(
                    speaker=speaker,
                    label=speaker,
                    paragraphs=[],
                    start=time_seconds(m["time"]),
                )
                parsed.turns.append(current)
        elif more is not None and more.match(line):
            flush()  # the same speaker goes on, in a new paragraph
        elif not line or FOOTER.match(line):
            flush()
        elif current is None:
            preamble.append(line)
        else:
            paragraph.append(line)
    flush()
    parsed.turns = [turn for turn in parsed.turns if turn.paragraphs]
    if not parsed.turns:
        raise ParseError(f"no speaker turns found in this {name} export")
    if preamble:
        parsed.title = preamble[0]
    return parsed
