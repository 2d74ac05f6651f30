"""Interviews out as files: Markdown, plain text, JSON and WebVTT.

Each writer gives text that ``archive.parsing.parse`` reads back into the same
interview (WebVTT has no paragraphs: a turn's come back joined by spaces).
Every writer runs a fixed number of queries whatever the number of turns.
"""

import csv
import html
import io
import json
import re
from collections.abc import Callable
from typing import NamedTuple

import yaml
from django.http import Http404, HttpResponse
from django.utils.html import strip_tags
from django.utils.http import content_disposition_header

from archive import shapes
from archive.markdown import unescape_plain
from archive.models import Interview, Role


class Unavailable(LookupError):
    """This interview has no export in the format asked for; says why."""


def _participants(interview: Interview):
    return interview.participants.select_related("speaker")


def _clock(seconds: float, *, always_ms: bool = False) -> str:
    """Clock time: 01:02:03, or 01:02:03.250 when there is a fraction (or always)."""
    ms = round(seconds * 1000)
    whole, fraction = divmod(ms, 1000)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    text = f"{h:02d}:{m:02d}:{s:02d}"
    return f"{text}.{fraction:03d}" if fraction or always_ms else text


def _labelled(name: str, body: str, start: float | None, *, bold: bool) -> str:
    label = f"**{name}:**" if bold else f"{name}:"
    time = f"[{_clock(start)}] " if start is not None else ""
    return f"{label} {time}{body}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- Markdown with YAML front matter -----------------------------------------


class _Block(str):
    """A string YAML should write as a literal block (``|``)."""


class _Quoted(str):
    """A string YAML should quote even where it need not ("2019-03")."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Block,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", str(value), style="|"
    ),
)
_Dumper.add_representer(
    _Quoted,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", str(value), style="'"
    ),
)


def to_markdown(interview: Interview) -> str:
    meta = {"title": interview.title}
    if interview.date:
        meta["date"] = _Quoted(interview.date_iso)
    if interview.date_note:
        meta["date_note"] = interview.date_note
    if interview.series_id:
        meta["series"] = interview.series.name
    for key in ("episode", "outlet", "medium", "source_url"):
        if value := getattr(interview, key):
            meta[key] = value
    if interview.lede:
        meta["lede"] = _Block(interview.lede)
    for key in ("attribution", "rights"):
        if value := getattr(interview, key):
            meta[key] = value
    if topics := [t.name for t in interview.topics.all()]:
        meta["topics"] = topics
    meta["participants"] = [
        {"name": p.speaker.name, "role": p.role} for p in _participants(interview)
    ]
    # Bodies are written as stored, Markdown source even when the interview
    # came from plain text: say so, or a re-import would escape them again.
    meta["markup"] = "markdown"
    front = yaml.dump(meta, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    turns = [
        _labelled(t.speaker.name, t.body, t.start, bold=True)
        for t in interview.ordered_turns()
    ]
    return "\n\n".join([f"---\n{front}---", *turns]) + "\n"


# -- Plain text ---------------------------------------------------------------

# Header keys for the people, in the words the labelled parser reads.
_ROLE_KEYS = {
    Role.HOST: "HOSTS",
    Role.GUEST: "GUESTS",
    Role.INTERVIEWER: "INTERVIEWER",
    Role.MODERATOR: "MODERATOR",
    Role.PANELIST: "PANELISTS",
    Role.WITNESS: "WITNESS",
    Role.SPEAKER: "SPEAKERS",
}


def to_text(interview: Interview) -> str:
    def readable(markdown_source: str) -> str:
        if interview.markup == "plain":
            return unescape_plain(markdown_source)
        return markdown_source

    header = [("TITLE", interview.title), ("DATE", interview.date_iso or "")]
    header.append(("SERIES", interview.series.name if interview.series_id else ""))
    header += [
        ("EPISODE", interview.episode),
        ("OUTLET", interview.outlet),
        ("SOURCE", interview.source_url),
    ]
    people: dict[str, list[str]] = {key: [] for key in _ROLE_KEYS.values()}
    for p in _participants(interview):
        people[_ROLE_KEYS.get(p.role, "SPEAKERS")].append(p.speaker.name)
    header += [(key, " & ".join(names)) for key, names in people.items()]
    header += [
        ("DESCRIPTION", readable(interview.lede)),
        ("RIGHTS", interview.rights),
        ("ATTRIBUTION", interview.attribution),
    ]
    lines = [f"{key}:  {_one_line(value)}" for key, value in header if value.strip()]
    turns = [
        _labelled(t.speaker.name, readable(t.body), t.start, bold=False)
        for t in interview.ordered_turns()
    ]
    return "\n\n".join(["\n".join(lines), *turns]) + "\n"


# -- JSON ---------------------------------------------------------------------


def to_json(interview: Interview) -> str:
    document = shapes.interview_document(interview)
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# -- WebVTT -------------------------------------------------------------------

# A closing tag of a block, or a line break: where a line of reading ends.
_BLOCK_END = re.compile(r"</(?:p|li|h\d|blockquote|pre)>|<br\s*/?>|<hr\s*/?>", re.I)
# Speech runs at about 150 words a minute; only the last cue needs a guess.
_WORDS_PER_SECOND = 2.5


def reader_lines(body_html: str) -> list[str]:
    """The text a reader sees in a turn, one line per paragraph."""
    text = html.unescape(strip_tags(_BLOCK_END.sub("\n", body_html)))
    return [line for line in (_one_line(x) for x in text.split("\n")) if line]


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(interview: Interview) -> str:
    turns = list(interview.ordered_turns())
    if all(t.start is None for t in turns):
        raise Unavailable(
            "This interview has no timings, so there is no WebVTT file of it."
        )
    # WebVTT has no metadata; a NOTE of "Key: value" lines before the first
    # cue carries what our reader takes back (see parsing.captions).
    meta = [("Title", interview.title), ("Date", interview.date_iso or "")]
    meta.append(("Series", interview.series.name if interview.series_id else ""))
    note = "\n".join(
        f"{key}: {_one_line(value).replace('-->', '->')}"
        for key, value in meta
        if value
    )
    cues = ["WEBVTT", f"NOTE\n{note}"]
    cursor = 0.0
    for i, turn in enumerate(turns):
        lines = reader_lines(turn.body_html)
        # A turn without a time follows the one before it.
        begin = turn.start if turn.start is not None else cursor
        following = turns[i + 1].start if i + 1 < len(turns) else None
        if following is not None and following > begin:
            end = following
        else:
            words = sum(len(line.split()) for line in lines)
            end = begin + max(1.0, words / _WORDS_PER_SECOND)
        cursor = end
        text = "\n".join(_vtt_escape(line) for line in lines)
        cues.append(
            f"{_clock(begin, always_ms=True)} --> {_clock(end, always_ms=True)}\n"
            f"<v {_vtt_escape(turn.speaker.name)}>{text}"
        )
    return "\n\n".join(cues) + "\n"


# -- The table and the response -----------------------------------------------


class Format(NamedTuple):
    label: str
    content_type: str
    write: Callable[[Interview], str]


# By file name suffix, which is also the format's name in URLs.
FORMATS = {
    "md": Format("Markdown", "text/markdown; charset=utf-8", to_markdown),
    "txt": Format("Plain text", "text/plain; charset=utf-8", to_text),
    "json": Format("JSON", "application/json; charset=utf-8", to_json),
    "vtt": Format("WebVTT", "text/vtt; charset=utf-8", to_vtt),
}


def response(interview: Interview, suffix: str) -> HttpResponse:
    """The interview as a download of the format ``suffix`` names (or 404)."""
    found = FORMATS.get(suffix)
    if found is None:
        known = ", ".join(f".{s}" for s in FORMATS)
        raise Http404(f"There is no “{suffix[:20]}” export; try {known}.")
    try:
        text = found.write(interview)
    except Unavailable as exc:
        raise Http404(str(exc)) from None
    download = HttpResponse(text.encode(), content_type=found.content_type)
    download["Content-Disposition"] = content_disposition_header(
        True, f"{interview.slug}.{suffix}"
    )
    return download


# Search results as a spreadsheet ----------------------------------------------

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula
    gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def search_csv(results, base_url: str) -> HttpResponse:
    """Date, speaker, interview, text and permanent link of each hit; the
    last line says when not every result is listed (the row limit, or the
    search's time budget)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "speaker", "interview", "text", "permalink"])
    for hit in results.hits:
        writer.writerow(
            [
                _cell(hit.interview.date_iso or ""),
                _cell(hit.speaker.name if hit.speaker else ""),
                _cell(hit.interview.title),
                _cell(unescape_plain(strip_tags(hit.text)) if hit.text else ""),
                _cell(base_url + hit.url),
            ]
        )
    listed = len(results.hits)
    if results.total is None:
        note = f"# the search was too broad to count; {listed:,} rows listed"
        writer.writerow([_cell(note)])
    elif results.total > listed:
        writer.writerow(
            [_cell(f"# truncated: the first {listed:,} of {results.total:,} results")]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, "search-results.csv"
    )
    return response
