"""Page furniture in text extracted from paged documents (PDF, Word, print).

Running headers and footers, "Page 3", "3 of 40", "- 3 -", lone page numbers
and form feeds are removed so that they do not end up inside turns, and a
paragraph that a page break cut in two is put back together.

Pages are found from form feeds, from page numbers that run in sequence, or
(when there are neither) from a short line repeated at regular intervals. A
short line counts as a running header or footer only when it sits beside
most of those page breaks; a line that merely repeats ("Thank you.") does
not. Everything that is not furniture is kept as it was, line for line.
"""

import itertools
import re
from collections import defaultdict

from archive.parsing import text as t
from archive.parsing.labelled import split_label

_PAGE_NUMBER_KINDS = (
    (
        "page",
        re.compile(r"(?:page|pg\.?|p\.)\s*(\d{1,4})(?:\s*(?:of|/)\s*(\d{1,4}))?", re.I),
    ),
    ("of", re.compile(r"(\d{1,4})\s*(?:of|/)\s*(\d{1,4})", re.I)),
    ("dash", re.compile(r"[-–—]\s*(\d{1,4})\s*[-–—]")),
    ("lone", re.compile(r"(\d{1,4})")),
)
_FEED_IN_LINE = re.compile(r"(?<=[^\n])\f")
# A header is a short line; longer ones are text.
_MAX_HEADER = 100
# How far (in non-blank lines) a header or footer may sit from a page break:
# a page can carry a two-line header and a footer.
_NEAR = 2
# Lone page numbers must run in sequence this long, and this far apart.
_MIN_LONE_RUN = 3
_MIN_PAGE_LINES = 2


def remove_page_furniture(source: str) -> str:
    """``source`` without page furniture; unchanged when it has none.

    Expects "\\n" line endings. Linear in the length of the text.
    """
    if "\f" in source:
        # A form feed begins a page, and so a line.
        source = _FEED_IN_LINE.sub("\n\f", source)
    lines = source.split("\n")
    # Content lines (non-blank, form feeds aside) by position in ``lines``.
    content = [i for i, line in enumerate(lines) if t.trim(line)]
    if len(content) < 2:
        return source
    position = {line_no: n for n, line_no in enumerate(content)}

    # Page breaks, as content positions: the first line of each new page.
    breaks: set[int] = set()
    for n, i in enumerate(content):
        if "\f" in lines[i] or (i and _blank_with_feed(lines, i)):
            breaks.add(n)

    furniture = _page_numbers(lines, content, breaks)
    marks = breaks | {position[i] for i in furniture}
    if not marks:
        marks = {position[i] for i in _regular_repeats(lines, content)}
    if not marks:
        return source
    furniture |= _running_lines(lines, content, marks, furniture)
    if not furniture and "\f" not in source:
        return source
    return _rebuild(lines, furniture)


def _blank_with_feed(lines: list[str], i: int) -> bool:
    """Whether a form feed stands on its own in the blank lines before line i."""
    j = i - 1
    while j >= 0 and not t.trim(lines[j]):
        if "\f" in lines[j]:
            return True
        j -= 1
    return False


def _page_number(line: str) -> tuple[str, int, int] | None:
    """(kind, number, total) when the whole line is a page number."""
    line = t.trim(line)
    for kind, pattern in _PAGE_NUMBER_KINDS:
        if m := pattern.fullmatch(line):
            total = int(m[2]) if pattern.groups > 1 and m[2] else 0
            return kind, int(m[1]), total
    return None


def _page_numbers(lines: list[str], content: list[int], breaks: set[int]) -> set[int]:
    """Line numbers of page-number lines.

    A page number is believed when numbers of its kind run in sequence
    (3, 4, 5 …) through the file, or when it stands beside a form feed. A
    lone number needs a longer run, its members some lines apart, so that
    "2016" in a date line or a number someone says is left alone.
    """
    found: set[int] = set()
    # Runs in progress, by (kind, total, the number expected next).
    runs: dict[tuple[str, int, int], list[tuple[int, int]]] = {}
    finished: list[tuple[str, list[tuple[int, int]]]] = []
    for n, i in enumerate(content):
        page = _page_number(lines[i])
        if page is None:
            continue
        kind, number, total = page
        if total and number > total:
            continue
        if n in breaks or n + 1 in breaks:
            found.add(i)
        run = runs.pop((kind, total, number), None)
        if run is not None and kind == "lone" and n - run[-1][0] < _MIN_PAGE_LINES:
            finished.append((kind, run))
            run = None
        if run is None:
            run = []
        run.append((n, i))
        runs[(kind, total, number + 1)] = run
    finished += [(key[0], run) for key, run in runs.items()]
    for kind, run in finished:
        if len(run) >= (_MIN_LONE_RUN if kind == "lone" else 2):
            found.update(i for _, i in run)
    return found


def _key(line: str) -> str:
    """Running headers often carry the page number: compare without digits."""
    return re.sub(r"\d+", "#", " ".join(line.split())).casefold()


def _header_like(line: str) -> bool:
    line = t.trim(line)
    return (
        0 < len(line) <= _MAX_HEADER
        and not line.endswith((".", "?", "!", ",", ";"))
        and split_label(line) is None
    )


def _regular_repeats(lines: list[str], content: list[int]) -> set[int]:
    """Lines of a short line repeated at regular intervals (pages of one
    length), or repeated with a number that counts the pages.

    Used only when the text has neither form feeds nor page numbers: a
    heading that recurs at uneven intervals is the text's own.
    """
    # Where each short line occurs, as content positions: blank lines vary
    # from page to page, the lines of text on a full page hardly.
    where: dict[str, list[int]] = defaultdict(list)
    for n, i in enumerate(content):
        if _header_like(lines[i]):
            where[_key(lines[i])].append(n)
    found: set[int] = set()
    for places in where.values():
        if len(places) < 3:
            continue
        gaps = [b - a for a, b in itertools.pairwise(places)]
        places = [content[n] for n in places]
        # Pages hold the same number of lines, give or take a few. Three
        # occurrences can be that regular by chance (the last line of a
        # wrapped paragraph, "(Voice Overlap) --"), four hardly.
        regular = (
            len(places) >= 4
            and min(gaps) >= 8
            and max(gaps) - min(gaps) <= max(2, min(gaps) // 10)
        )
        if regular or (min(gaps) >= _MIN_PAGE_LINES and _counts_pages(lines, places)):
            found.update(places)
    return found


def _counts_pages(lines: list[str], places: list[int]) -> bool:
    """Whether the last number in each of these lines goes 1 up each time:
    "Smith v. Jones, p. 3" as a running header that carries the page."""
    numbers = [re.findall(r"\d+", lines[i])[-1:] for i in places]
    if not all(numbers):
        return False
    return all(int(b[0]) == int(a[0]) + 1 for a, b in itertools.pairwise(numbers))


def _running_lines(
    lines: list[str], content: list[int], marks: set[int], known: set[int]
) -> set[int]:
    """Short lines that recur beside most page breaks: headers and footers.

    ``marks`` are content positions where a page ends or begins (a form
    feed, a page number); marks close together are one page break.
    """
    breaks = 0
    previous = None
    for m in sorted(marks):
        if previous is None or m - previous > 2 * _NEAR + 1:
            breaks += 1
        previous = m
    # The first page has a header and the last a footer, but no break.
    edges = marks | {0, len(content) - 1}
    near: dict[str, int] = defaultdict(int)
    places: dict[str, list[int]] = defaultdict(list)
    for n, i in enumerate(content):
        if i in known or not _header_like(lines[i]):
            continue
        key = _key(lines[i])
        places[key].append(i)
        if any(m in edges for m in range(n - _NEAR, n + _NEAR + 1)):
            near[key] += 1
    return {
        i
        for key, count in near.items()
        if count >= 2 and count >= 0.4 * breaks and count >= 0.8 * len(places[key])
        for i in places[key]
    }


def _rebuild(lines: list[str], furniture: set[int]) -> str:
    """The lines without furniture and form feeds, page breaks mended.

    Where furniture stood between two pieces of text, the blank lines around
    it go too when the text runs on across the break (the line before it
    does not end a sentence, or is as full as the wrapping allows), so the
    paragraph comes back whole; otherwise the break stays a paragraph break.
    """
    width = _wrap_width(lines)
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i not in furniture and t.trim(lines[i]):
            out.append(lines[i].replace("\f", ""))
            i += 1
            continue
        # A run of furniture and blank lines; a page break if it has either.
        j = i
        while j < len(lines) and (j in furniture or not t.trim(lines[j])):
            j += 1
        run = range(i, j)
        page_break = any(k in furniture or "\f" in lines[k] for k in run) or (
            j < len(lines) and "\f" in lines[j]
        )
        mended = (
            page_break and out and j < len(lines) and _runs_on(out[-1], lines[j], width)
        )
        if not mended:
            out.extend(lines[k].replace("\f", "") for k in run if k not in furniture)
        i = j
    return "\n".join(out)


def _wrap_width(lines: list[str]) -> int:
    """The width the text was hard-wrapped at, or 0 when it was not."""
    inner = [
        len(t.trim(a)) for a, b in itertools.pairwise(lines) if t.trim(a) and t.trim(b)
    ]
    if len(inner) < 10:
        return 0
    width = max(inner)
    if width > 120 or sum(n >= 0.75 * width for n in inner) < 0.5 * len(inner):
        return 0
    return width


def _runs_on(before: str, after: str, width: int) -> bool:
    """Whether the text before a page break goes on in the text after it."""
    before, after = t.trim(before), t.trim(after)
    if not before or not after or split_label(after):
        return False
    if not before.endswith(t.SENTENCE_END):
        return True
    # Hard-wrapped: a line broke here only if the next word did not fit.
    return bool(width) and len(before) + 1 + len(after.split()[0]) > width
