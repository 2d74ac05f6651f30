"""Marking matched words: a snippet of plain text, or a turn's whole HTML.

Spans are character offsets into the plain text of a turn (the text of its
sanitized HTML, see ``documents.plain_text``), as stored in the index.
"""

import html
import re

from django.utils.safestring import SafeString, mark_safe

Span = tuple[int, int]
_TAG = re.compile(r"(<[^>]+>)")


def merge(spans: list[Span]) -> list[Span]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def snippet(text: str, spans: list[Span], width: int = 280) -> SafeString:
    """A window of ``text`` around its densest cluster of matches, marked."""
    spans = merge(spans)
    text_length = len(text)
    if not spans:
        cut = text[:width]
        tail = "…" if text_length > width else ""
        return mark_safe((html.escape(cut, quote=False) + tail).replace("\n", " "))
    # The window that covers the most matches, starting at a match.
    best_start, best_count = spans[0][0], 0
    for i, (start, _) in enumerate(spans):
        count = sum(1 for s, e in spans[i:] if e <= start + width)
        if count > best_count:
            best_start, best_count = start, count
    lead = min(width // 4, best_start)
    begin = max(0, best_start - lead)
    # Start and end on word boundaries where we can.
    if begin > 0:
        space = text.rfind(" ", max(0, begin - 20), begin)
        begin = space + 1 if space != -1 else begin
    end = min(text_length, begin + width)
    if end < text_length:
        space = text.rfind(" ", end - 20, end)
        end = space if space > begin else end
    out = ["…" if begin > 0 else ""]
    cursor = begin
    for start, stop in spans:
        if stop <= begin or start >= end:
            continue
        start, stop = max(start, begin), min(stop, end)
        out.append(html.escape(text[cursor:start], quote=False))
        out.append(f"<mark>{html.escape(text[start:stop], quote=False)}</mark>")
        cursor = stop
    out.append(html.escape(text[cursor:end], quote=False))
    out.append("…" if end < text_length else "")
    return mark_safe("".join(out).replace("\n", " "))


def mark_html(rendered: str, spans: list[Span]) -> SafeString:
    """``rendered`` (sanitized HTML) with the spans of its text in <mark>.

    Walks the text between tags, counting characters as a reader sees them
    (entities decoded), so offsets from the index land on the right words;
    a match that crosses a tag is marked on both sides of it.
    """
    spans = merge(spans)
    if not spans:
        return mark_safe(rendered)
    out: list[str] = []
    offset = 0  # characters of visible text consumed so far
    for part in _TAG.split(rendered):
        if not part:
            continue
        if part.startswith("<"):
            out.append(part)
            continue
        text = html.unescape(part)
        start_offset, end_offset = offset, offset + len(text)
        cursor = 0
        for start, stop in spans:
            if stop <= start_offset or start >= end_offset:
                continue
            a, b = (
                max(start, start_offset) - start_offset,
                min(stop, end_offset) - start_offset,
            )
            out.append(html.escape(text[cursor:a], quote=False))
            out.append(f"<mark>{html.escape(text[a:b], quote=False)}</mark>")
            cursor = b
        out.append(html.escape(text[cursor:], quote=False))
        offset = end_offset
    return mark_safe("".join(out))
