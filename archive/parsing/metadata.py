"""Sidecar metadata: ``<name>.toml`` beside a transcript, read with tomllib.

Sidecar values override what the parser read from the transcript's header.
"""

import datetime
import tomllib

from archive.parsing import text as t
from archive.parsing.document import ParsedInterview, ParsedSpeaker, ParseError

_TEXT_FIELDS = (
    "title",
    "date_note",
    "series",
    "outlet",
    "episode",
    "medium",
    "source_url",
    "lede",
    "attribution",
    "rights",
)
KNOWN_KEYS = {
    *_TEXT_FIELDS,
    "date",
    "topics",
    "participants",
    "slug",
    "format",
    "markup",
    "published",
}
_PARTICIPANT_KEYS = {"name", "role", "affiliation", "bio", "aliases"}


def read_sidecar(text: str, *, name: str = "sidecar") -> dict:
    """Parse and check a sidecar; ParseError names the first problem."""
    try:
        meta = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParseError(f"{name}: not valid TOML ({exc})") from None
    unknown = set(meta) - KNOWN_KEYS
    if unknown:
        raise ParseError(f"{name}: unknown keys {', '.join(sorted(unknown))}")
    if "date" in meta:
        meta["date"] = _date_text(meta["date"], name)
    if "episode" in meta:
        meta["episode"] = str(meta["episode"])
    for key in _TEXT_FIELDS:
        if key in meta and not isinstance(meta[key], str):
            raise ParseError(f"{name}: {key} must be text")
    people = []
    for entry in meta.get("participants", []):
        if not isinstance(entry, dict) or not entry.get("name"):
            raise ParseError(f"{name}: each [[participants]] needs a name")
        if extra := set(entry) - _PARTICIPANT_KEYS:
            raise ParseError(f"{name}: unknown participant keys {', '.join(extra)}")
        people.append(
            ParsedSpeaker(
                name=entry["name"],
                role=entry.get("role", ""),
                affiliation=entry.get("affiliation", ""),
                bio=entry.get("bio", ""),
                aliases=list(entry.get("aliases", [])),
            )
        )
    meta["participants"] = people
    return meta


def _date_text(value, name: str) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and (parsed := t.parse_date(value)):
        return parsed
    raise ParseError(f"{name}: date must be YYYY, YYYY-MM or YYYY-MM-DD")


def apply_metadata(parsed: ParsedInterview, meta: dict) -> None:
    """Lay metadata over what was parsed; given values win."""
    for key in (*_TEXT_FIELDS, "date"):
        if meta.get(key):
            setattr(parsed, key, meta[key])
    if "topics" in meta:
        parsed.topics = list(meta["topics"])
