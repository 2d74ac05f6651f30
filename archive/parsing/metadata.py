"""Sidecar metadata: ``<name>.toml`` beside a transcript, read with tomllib.

Sidecar values override what the parser read from the transcript's header.
"""

import datetime
import re
import tomllib

import yaml

from archive.parsing import text as t
from archive.parsing.document import ParsedInterview, ParsedSpeaker, ParseError

TEXT_FIELDS = (
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
    *TEXT_FIELDS,
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
    return check_metadata(meta, name)


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
# Front matter written for static-site generators uses other names.
_FRONT_MATTER_NAMES = {
    "speakers": "participants",
    "guests": "participants",
    "source": "source_url",
    "url": "source_url",
    "description": "lede",
    "summary": "lede",
    "tags": "topics",
    "copyright": "rights",
    "license": "rights",
    "credit": "attribution",
    "draft": "published",
}


def read_front_matter(source: str) -> tuple[dict, str]:
    """YAML front matter at the top of a text transcript, and the rest.

    ``---`` fenced YAML, as Jekyll, Hugo and Pandoc write it. Keys are read
    like a sidecar's; a few common names are translated (``speakers``,
    ``description``, ``tags``, ``source``). Unknown keys are an error, so a
    misspelt key does not silently vanish.
    """
    m = _FRONT_MATTER.match(source)
    if not m:
        return {"participants": []}, source
    try:
        meta = yaml.safe_load(m.group(1) or "") or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark else ""
        raise ParseError(f"front matter: not valid YAML{where}") from None
    if not isinstance(meta, dict):
        raise ParseError("front matter: expected “key: value” lines")
    renamed = {}
    for original, value in meta.items():
        key = _FRONT_MATTER_NAMES.get(str(original).lower(), str(original).lower())
        if str(original).lower() == "draft":
            value = not value
        if key == "participants" and isinstance(value, str):
            value = [n.strip() for n in re.split(r",|&|\band\b", value) if n.strip()]
        if key == "participants" and isinstance(value, list):
            value = [{"name": v} if isinstance(v, str) else v for v in value]
        if key == "topics" and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        renamed[key] = value
    return check_metadata(renamed, "front matter"), source[m.end() :]


def check_metadata(meta: dict, name: str) -> dict:
    """Check metadata read from a sidecar or front matter; ParseError if bad."""
    unknown = set(meta) - KNOWN_KEYS
    if unknown:
        raise ParseError(f"{name}: unknown keys {', '.join(sorted(unknown))}")
    if "topics" in meta and not (
        isinstance(meta["topics"], list)
        and all(isinstance(x, str) for x in meta["topics"])
    ):
        raise ParseError(f"{name}: topics must be a list of names")
    if "date" in meta:
        meta["date"] = _date_text(meta["date"], name)
    if "episode" in meta:
        meta["episode"] = str(meta["episode"])
    for key in TEXT_FIELDS:
        if key in meta and not isinstance(meta[key], str):
            raise ParseError(f"{name}: {key} must be text")
    people = []
    entries = meta.get("participants", [])
    if not isinstance(entries, list):
        raise ParseError(f"{name}: participants must be a list")
    for entry in entries:
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
    for key in (*TEXT_FIELDS, "date"):
        if meta.get(key):
            setattr(parsed, key, meta[key])
    if "topics" in meta:
        parsed.topics = list(meta["topics"])
