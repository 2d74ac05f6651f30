"""Structured transcripts: JSON (the archive's own shape, a list of turns,
Oyez) and CSV with speaker and text columns."""

from archive.parsing.document import ParsedInterview, ParseError


def parse_json(source: str) -> ParsedInterview:
    raise ParseError("JSON is not supported yet")


def parse_csv(source: str) -> ParsedInterview:
    raise ParseError("CSV is not supported yet")
