"""Speaker-label transcripts: an optional header, then ``Name: text`` turns.

Unlabelled paragraphs continue the current speaker's turn; a paragraph cut by
a page break is joined back to the one before it.
"""

import re
from collections import Counter

from archive.parsing import text as t
from archive.parsing.document import (
    ParsedInterview,
    ParsedSpeaker,
    ParsedTurn,
    ParseError,
)

# "Haenle: …", "**Tim Maurer:** …", "**Tim Maurer**: …", "STEVE:  …"
# "John G. Roberts, Jr.:" — a generational suffix after a comma is part of it.
_LABEL = re.compile(
    r"^(?:\*\*)?(?P<label>[^\W\d_][\w.'’\-]*(?:[ \u00a0][\w.'’\-]+){0,4}?"
    r"(?:,[ \u00a0](?:Jr|JR|Sr|SR|II|III|IV)\.?)?)"
    r"(?:\*\*)?[ \t]*:(?:\*\*)?[ \t\u00a0]+(?P<rest>\S.*)$",
    re.DOTALL,
)
# Header lines that declare people: "Host: **Paul Haenle**".
_ROLE_WORDS = {
    "host": "host",
    "hosts": "host",
    "guest": "guest",
    "guests": "guest",
    "interviewer": "interviewer",
    "interviewee": "guest",
    "moderator": "moderator",
    "panelist": "panelist",
    "panelists": "panelist",
    "speakers": "",
    "participants": "",
    "witness": "witness",
}
_HEADER_KEYS = {
    "series",
    "episode",
    "date",
    "title",
    "source",
    "source file",
    "description",
    "show tease",
    "archive",
    "file archive",
    "audio file",
    "url",
    "outlet",
    "rights",
    "copyright",
    "attribution",
    "recorded",
    "length",
    "running time",
}
_EPISODE = re.compile(
    r"^(?:Episode|Ep\.?)\s+(?P<number>[\w.\-]+)\s*[:.\-–—]\s*(?P<title>.+)$", re.I
)
# "[00:03:59]", "\\[03:59\\]" (escaped in Markdown), "(03:59)", "[1:02:03.5]".
_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_BRACKETED_TIME = re.compile(
    rf"^(?:\\?\[(?P<a>{_TIME})\\?\]|\((?P<b>{_TIME})\))[ \t\u00a0]*"
)
# A bare "00:03:59" counts only in front of a speaker label.
_BARE_TIME = re.compile(rf"^(?P<a>{_TIME})[ \t\u00a0]+(?=\S)")
# Hearing records: "Mr. Smith. Thank you…", "The Chairman. The committee…".
_HEARING_LABEL = re.compile(
    r"^(?P<label>(?:The |Madam |Mr\. |Madam\ )?"
    r"(?:Mr|Mrs|Ms|Miss|Dr|Senator|Sen|Representative|Rep|Chairman|Chairwoman|Chair"
    r"|Vice Chairman|Ranking Member|General|Gen|Admiral|Adm|Secretary|Ambassador"
    r"|Judge|Justice|Director|Commissioner|Governor|Mayor|Clerk|Speaker|President"
    r"|Witness|Voice)"
    r"\.?(?: (?:[A-Z][\w'’\-]+|de|van|von|del|la)){0,3})\.[ \t\u00a0]+(?P<rest>\S.*)$",
    re.DOTALL,
)
_PARTICLES = {"de", "da", "del", "der", "van", "von", "la", "le", "bin", "al", "du"}
_NAME_SEPARATORS = re.compile(r"\s*(?:,|;|&|\band\b|\bwith\b)\s*")
_ATTRIBUTION = re.compile(
    r"^(?:this (?:article|interview|transcript) (?:originally )?(?:appeared|was)|"
    r"originally (?:published|appeared))",
    re.I,
)
_RIGHTS = re.compile(r"^(?:copyright\b|©|\(c\)\s*\d{4})", re.I)


# Words that open a paragraph with a colon but never name anyone: "Or:  …",
# "Second:  …", "Update:  …".
_NOT_NAMES = {
    "or", "and", "but", "so", "also", "then", "now", "next", "finally", "first",
    "second", "third", "fourth", "fifth", "last", "note", "notes", "update",
    "edit", "example", "quote", "yes", "no", "well", "okay", "ok", "thus",
    "hence", "however", "therefore", "meanwhile", "result", "conclusion",
    "summary", "background", "warning", "caution", "important", "tip", "ps",
}  # fmt: skip


def split_label(paragraph: str) -> tuple[str, str] | None:
    m = _LABEL.match(paragraph)
    if not m:
        return None
    label = m["label"].strip(" \u00a0")
    words = label.replace("\u00a0", " ").split()
    if label.casefold() in _NOT_NAMES:
        return None
    if t.is_role_description(label) and words[0][0].isupper():
        return label, m["rest"]
    for word in words:
        # "Guest 2", "Speaker 1": a number after a name is part of it.
        if not (word[0].isupper() or word.casefold() in _PARTICLES or word.isdigit()):
            return None
    return label, m["rest"]


def time_seconds(text: str) -> float:
    """ "1:02:03.5" → 3723.5; "03:59" → 239.0."""
    seconds = 0.0
    for part in text.replace(",", ".").split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def strip_time(paragraph: str) -> tuple[float | None, str]:
    """A bracketed time at the start of a paragraph, and the rest."""
    m = _BRACKETED_TIME.match(paragraph)
    if not m:
        return None, paragraph
    return time_seconds(m["a"] or m["b"]), paragraph[m.end() :]


def split_turn(
    paragraph: str, *, hearing: bool = False
) -> tuple[str, str, float | None] | None:
    """(label, text, start) when a paragraph opens a turn, else None.

    A time may stand before the label ("[00:03:59] Name: …", "00:03:59
    Name: …") or after it ("**Name:** \\[03:59\\] …").
    """
    start, rest = strip_time(paragraph)
    found = _split(rest, hearing)
    if found is None and start is None and (m := _BARE_TIME.match(paragraph)):
        start, found = time_seconds(m["a"]), _split(paragraph[m.end() :], hearing)
    if found is None:
        return None
    label, text = found
    if start is None:
        start, text = strip_time(text)
    return label, text, start


def _split(paragraph: str, hearing: bool) -> tuple[str, str] | None:
    if hearing and (m := _HEARING_LABEL.match(paragraph)):
        return m["label"], m["rest"]
    return split_label(paragraph)


def _declared_names(rest: str) -> list[str]:
    rest = rest.replace("**", "").replace("__", "")
    names = [t.trim(n) for n in _NAME_SEPARATORS.split(rest)]
    names = [n for n in names if n]
    if names and all(1 <= len(n.split()) <= 5 and n[0].isupper() for n in names):
        return names
    return []


def parse_labelled(source: str, *, hearing: bool = False) -> ParsedInterview:
    parsed = ParsedInterview(format="hearing" if hearing else "labels")
    blocks = []
    for lines in t.paragraphs(source):
        # A header block written without blank lines ("TITLE: …\nDATE: …")
        # is one field per line, not one hard-wrapped paragraph.
        if len(lines) > 1 and all(map(_is_header_line, lines)):
            blocks += lines
        else:
            blocks.append(t.join_lines(lines))
    splits = [split_turn(block, hearing=hearing) for block in blocks]
    candidates = Counter(found[0] for found in splits if found)
    bold = {
        found[0]
        for block, found in zip(blocks, splits, strict=True)
        if found and block.startswith("**")
    }
    # The file's own way of writing labels, from those used more than once.
    regulars = [label for label, n in candidates.items() if n > 1]
    upper_style = sum(map(str.isupper, regulars)) > len(regulars) / 2
    bold_style = sum(label in bold for label in regulars) > len(regulars) / 2

    def is_turn_label(label: str, rest: str) -> bool:
        key = label.casefold()
        if key in _HEADER_KEYS:
            return False
        if key in _ROLE_WORDS:
            # "Guest: Paul Haenle" declares someone before the first turn;
            # "Guest: Thanks." is a turn by a guest nobody named.
            return bool(parsed.turns) or not _declared_names(rest)
        if not parsed.participants:
            return True
        declared = {w.casefold() for p in parsed.participants for w in p.name.split()}
        declared |= {p.name.casefold() for p in parsed.participants}
        # Titles address someone: "Mr. Smith" is Smith, "The Chairman" whoever
        # chairs.
        words = {w.strip(".").casefold() for w in label.split()} - t.TITLES
        if candidates[label] > 1 or key in declared or words <= declared:
            return True
        if label.isupper() and len(label.split()) >= 2:
            # "BO CHEN: Hi." once, in a file whose header named others: a
            # full name in capitals is someone speaking, not prose.
            undeclared.append(label)
            return True
        # Someone who speaks once ("MALE VOICE:", "JASON HOWELL:" before
        # "JASON:"), written the way this file writes its speakers; a
        # mixed-case word once ("Anyway:", "Three:") is more likely prose,
        # and before the first turn a header ("Episode 92: Title").
        if bold_style:
            return label in bold
        if upper_style:
            return label.isupper()
        return bool(parsed.turns) and len(label.split()) > 1 and not label.isupper()

    lede: list[str] = []
    caps_titles: list[str] = []
    undeclared: list[str] = []
    current: ParsedTurn | None = None
    for block, found in zip(blocks, splits, strict=True):
        if found and not found[1]:
            # "**Break**: \\[24:02\\]": a marker in the recording, not a turn.
            continue
        if found and is_turn_label(found[0], found[1]):
            label, rest, start = found
            if current is not None and current.label == label and start is not None:
                # Sonix, Descript and Trint head every paragraph with the
                # speaker and a time: one speaker's paragraphs are one turn.
                current.paragraphs.append(rest)
                continue
            current = ParsedTurn(
                speaker=label, label=label, paragraphs=[rest], start=start
            )
            parsed.turns.append(current)
        elif current is not None and t.SERVICE_FOOTER.match(block):
            continue  # "Transcribed by …": the service's, not anyone's words
        elif current is not None:
            # A time at the start of a later paragraph marks where the
            # recording is, not something anyone said.
            if text := strip_time(block)[1]:
                t.append_paragraph(current.paragraphs, text)
        else:
            _read_header_block(parsed, block, split_label(block), lede, caps_titles)

    if not parsed.turns:
        raise ParseError(
            "no speaker turns found (expected paragraphs like “Name: what they said”)"
        )
    if not parsed.title and caps_titles:
        parsed.title = caps_titles[-1]
    for label in dict.fromkeys(undeclared):
        parsed.warnings.append(
            f"“{t.display_name(label)}” speaks but is not among the people the "
            "header names: check the name"
        )
    _take_trailer(parsed)
    if lede:
        parsed.lede = "\n\n".join([parsed.lede, *lede] if parsed.lede else lede)
    return parsed


def _is_header_line(line: str) -> bool:
    found = split_label(line)
    return (
        found is not None and found[0].casefold() in _HEADER_KEYS | _ROLE_WORDS.keys()
    )


def _read_header_block(
    parsed: ParsedInterview,
    block: str,
    found: tuple[str, str] | None,
    lede: list[str],
    caps_titles: list[str],
) -> None:
    """One paragraph before the first turn: metadata, or lede if it is prose."""
    if found:
        key, rest = found[0].casefold(), found[1]
        if key in _ROLE_WORDS and (names := _declared_names(rest)):
            for name in names:
                if parsed.participant(name) is None:
                    parsed.participants.append(
                        ParsedSpeaker(name=name, role=_ROLE_WORDS[key])
                    )
            return
        if key in _HEADER_KEYS:
            _header_field(parsed, key, t.trim(rest))
            return
    if m := _EPISODE.match(block):
        parsed.episode = m["number"]
        parsed.title = parsed.title or t.trim(m["title"])
        return
    if date := t.parse_date(block):
        parsed.date = parsed.date or date
        return
    if m := _HEADING.match(block):
        parsed.title = parsed.title or t.trim(m["title"].strip("*_"))
        return
    if _caps_title(block):
        # Letterhead comes first, the title last: the one nearest the
        # turns is kept, and used only if nothing else names a title.
        caps_titles.append(t.display_name(block))
        return
    # Short lines (an organisation's name, "Transcript") are letterhead;
    # real sentences before the first turn introduce the interview.
    if len(block) > 120 or (block.endswith((".", "?", "!")) and len(block.split()) > 8):
        lede.append(block)


_HEADING = re.compile(r"^#{1,3}[ \t]+(?P<title>\S.*?)[ \t#]*$")
# Capitals that head a transcript but are not its title.
_LETTERHEAD = {"transcript", "event transcript", "full transcript", "proceedings"}


def _caps_title(block: str) -> bool:
    """A line of three or more words in capitals ("NORMS AFTER THE HACK")."""
    return (
        "\n" not in block
        and 3 <= len(block.split()) <= 20
        and block.isupper()
        and not block.endswith(".")
        and block.casefold() not in _LETTERHEAD
    )


def _header_field(parsed: ParsedInterview, key: str, value: str) -> None:
    if key == "series":
        parsed.series = value
    elif key == "episode":
        parsed.episode = value.lstrip("#")
    elif key == "title":
        parsed.title = value
    elif key == "date":
        parsed.date = t.parse_date(value) or parsed.date
    elif key == "description":
        parsed.lede = value
    elif key in {"source", "url"} and value.startswith(("http://", "https://")):
        parsed.source_url = value
    elif key == "outlet":
        parsed.outlet = value
    elif key in {"rights", "copyright"}:
        parsed.rights = value
    elif key == "attribution":
        parsed.attribution = value
    elif key == "recorded":
        parsed.date = parsed.date or t.parse_date(value)


def _take_trailer(parsed: ParsedInterview) -> None:
    """Move closing attribution or copyright lines out of the last turn."""
    last = parsed.turns[-1]
    while len(last.paragraphs) > 1 and (kind := credit_line(last.paragraphs[-1])):
        setattr(parsed, kind, last.paragraphs.pop())


def credit_line(text: str) -> str | None:
    """ "attribution" or "rights" when ``text`` is a closing credit line."""
    if _ATTRIBUTION.match(text):
        return "attribution"
    if _RIGHTS.match(text):
        return "rights"
    return None
