"""Render known turns as the messy text real transcript sources are.

Ground truth goes in as ``[(speaker, text)]`` (paragraphs of a turn separated
by a blank line); out comes what a PDF extraction, a court reporter's file or
an old podcast transcript looks like: ``Name: text`` or ``NAME:  text``
labels, names shortened after their first use, lines hard-wrapped at a fixed
width, a running header and a page number at every page break, form feeds,
CRLF or CR line endings, Windows-1252 bytes. The parser should get the turns
back; ``tests/test_parsing_fidelity.py`` and ``bench/corpus_report.py`` check
that it does.

Everything is deterministic: the same turns, style and seed give the same
text.
"""

import difflib
import random
import re
import textwrap
from dataclasses import dataclass

FOOTERS = ("page", "page-of", "of", "dash", "lone")


@dataclass(frozen=True)
class Style:
    """How to render. The defaults give clean ``Name: text`` paragraphs."""

    upper: bool = False  # "STEVE GIBSON:  text" rather than "Steve Gibson: text"
    shorten: bool = False  # after first use, "STEVE" / "Gibson" alone
    width: int = 0  # hard-wrap lines at this width; 0 keeps paragraphs whole
    page_lines: int = 0  # a page break after this many lines; 0: no pages
    header: str = ""  # running header at the top of every page
    footer: str = ""  # page number at the bottom: one of FOOTERS, or ""
    form_feeds: float = 0.0  # share of page breaks marked with "\f"
    newline: str = "\n"  # "\r\n", "\r", or "\r\r\n" as in old transcripts
    encoding: str = ""  # "" returns str; otherwise bytes in this encoding


CLEAN = Style()
STYLES: dict[str, Style] = {
    "clean": CLEAN,
    "upper": Style(upper=True, shorten=True),
    "wrapped": Style(shorten=True, width=70),
    "paged": Style(
        shorten=True,
        width=70,
        page_lines=48,
        header="Transcript of Proceedings",
        footer="page-of",
    ),
    "paged-upper-crlf": Style(
        upper=True,
        shorten=True,
        width=72,
        page_lines=54,
        header="CYBER POLICY HEARING",
        footer="lone",
        form_feeds=0.5,
        newline="\r\n",
    ),
    "paged-cr-cp1252": Style(
        shorten=True,
        width=66,
        page_lines=40,
        header="In re Cyber Policy",
        footer="dash",
        form_feeds=1.0,
        newline="\r",
        encoding="cp1252",
    ),
    "paged-of-no-header": Style(
        upper=True, width=70, page_lines=45, footer="of", newline="\r\n"
    ),
    # Security Now!'s own layout: long lines, "\r\r\n" after each.
    "security-now": Style(upper=True, shorten=True, newline="\r\r\n"),
    # Short pages: many breaks, so many paragraphs cut in two.
    "short-pages": Style(
        shorten=True,
        width=60,
        page_lines=20,
        header="Oral Argument, No. 15-1498",
        footer="lone",
    ),
    "paged-page": Style(
        shorten=True,
        width=68,
        page_lines=50,
        header="Interview transcript",
        footer="page",
        form_feeds=0.3,
    ),
}
MESSY = {name: style for name, style in STYLES.items() if name != "clean"}


def render(
    turns: list[tuple[str, str]], style: Style = CLEAN, *, seed: int = 0
) -> str | bytes:
    """The transcript text for ``turns`` in ``style`` (bytes if it has an
    encoding; raises UnicodeEncodeError when the text does not fit it)."""
    rng = random.Random(seed)
    shorts = _short_labels([speaker for speaker, _ in turns], style)
    used: set[str] = set()
    lines: list[str] = []
    for speaker, text in turns:
        label = speaker if speaker not in used else shorts.get(speaker, speaker)
        used.add(speaker)
        if style.upper:
            label = label.upper()
        separator = ":  " if style.upper else ": "
        paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
        paragraphs[0] = label + separator + paragraphs[0]
        for paragraph in paragraphs:
            if lines:
                lines.append("")
            lines.extend(_wrap(paragraph, style.width))
    lines.append("")
    if style.page_lines:
        lines = _paginate(lines, style, rng)
    text = style.newline.join(lines)
    return text.encode(style.encoding) if style.encoding else text


def _wrap(paragraph: str, width: int) -> list[str]:
    if not width:
        return [paragraph]
    # Words are never broken, not even at hyphens: a PDF line ends between
    # words, and the parser joins lines with a space.
    return textwrap.wrap(
        paragraph, width, break_long_words=False, break_on_hyphens=False
    )


def _short_labels(speakers: list[str], style: Style) -> dict[str, str]:
    """The shortened label of each speaker whose short form is unambiguous:
    the first name in upper case ("STEVE"), the surname otherwise ("Maurer").
    """
    if not style.shorten:
        return {}
    names = list(dict.fromkeys(speakers))
    words = {
        # Initials, titles and suffixes ("J.", "Dr.", ", Jr.") are never a
        # short form; nor is a number ("Guest 2").
        name: [
            w
            for w in name.split(",")[0].split()
            if w[0].isalpha() and not w.endswith(".")
        ]
        for name in names
    }
    shorts = {}
    for name in names:
        if len(words[name]) < 2:
            continue
        short = words[name][0] if style.upper else words[name][-1]
        others = [o for o in names if o != name]
        if not any(short.casefold() in o.casefold().split() for o in others):
            shorts[name] = short
    return shorts


def _paginate(lines: list[str], style: Style, rng: random.Random) -> list[str]:
    bodies = [
        lines[i : i + style.page_lines] for i in range(0, len(lines), style.page_lines)
    ]
    total = len(bodies)
    out: list[str] = []
    for number, body in enumerate(bodies, start=1):
        page = []
        if style.header:
            # Headers are centred or pushed right by spaces in extracted text.
            page += [" " * rng.choice((0, 10, 24)) + style.header, ""]
        page += body
        if style.footer:
            page += [
                "",
                " " * rng.choice((0, 30)) + footer(style.footer, number, total),
            ]
        if out and rng.random() < style.form_feeds:
            page[0] = "\f" + page[0]
        out += page
    return out


def footer(kind: str, number: int, total: int) -> str:
    """A page number as page footers write it."""
    return {
        "page": f"Page {number}",
        "page-of": f"Page {number} of {total}",
        "of": f"{number} of {total}",
        "dash": f"- {number} -",
        "lone": str(number),
    }[kind]


_ESCAPE = re.compile(r"\\(.)")


def normalise(text: str) -> str:
    """Turn text compared without layout: whitespace collapsed, and the
    escapes that plain text gets to survive Markdown undone."""
    text = _ESCAPE.sub(r"\1", text).replace("&lt;", "<").replace("&amp;", "&")
    return " ".join(text.split())


@dataclass
class Fidelity:
    expected: int  # turns in the ground truth
    matched: int  # of them, back with the right speaker and text
    mismatches: list[tuple[list, list]]  # (expected turns, parsed turns) pairs

    @property
    def share(self) -> float:
        return self.matched / self.expected if self.expected else 1.0


def fidelity(
    expected: list[tuple[str, str]],
    parsed: list[tuple[str, str]],
    *,
    fold_case: bool = False,
) -> Fidelity:
    """How many expected turns came back, aligned like a diff so that one
    split or merged turn costs that turn only, not every turn after it.

    ``fold_case`` compares speakers case-insensitively: an upper-case label
    ("KEVIN MCCARTHY") does not say how the name is capitalised.
    """

    def key(speaker: str, text: str) -> tuple[str, str]:
        speaker = " ".join(speaker.split())
        return (speaker.casefold() if fold_case else speaker, normalise(text))

    a = [key(*turn) for turn in expected]
    b = [key(*turn) for turn in parsed]
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    mismatches = [
        (a[a1:a2], b[b1:b2])
        for op, a1, a2, b1, b2 in matcher.get_opcodes()
        if op != "equal"
    ]
    return Fidelity(len(a), matched, mismatches)
