"""WebVTT and SRT captions: cues grouped into turns by speaker."""

from archive.parsing.document import ParsedInterview, ParseError


def parse_vtt(source: str) -> ParsedInterview:
    raise ParseError("WebVTT is not supported yet")


def parse_srt(source: str) -> ParsedInterview:
    raise ParseError("SRT is not supported yet")
