"""Word documents: paragraphs out of a .docx, as Markdown-flavoured text.

Each non-empty paragraph becomes a block; bold and italic runs keep their
emphasis as ``**…**`` and ``*…*``, so ``**Name:** text`` labels and bold Q&A
questions read as they do in a Markdown transcript. Everything else is
escaped to render as written: "1970.  Now" is no list, "<sigh>" is no tag.
A two-column table (speaker | words) becomes ``Speaker: words`` lines.
"""

import io
import re

import docx
from docx.table import Table
from docx.text.hyperlink import Hyperlink
from docx.text.paragraph import Paragraph

from archive.markdown import escape_plain
from archive.parsing.document import ParseError

# A first table row that names the columns rather than a speaker.
_HEADER_CELLS = {"speaker", "name", "who", "speaker name"}


def docx_to_text(data: bytes) -> str:
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        # python-docx lets through whatever its zip and XML layers raise for
        # a damaged or foreign file; none of it is ours to handle.
        raise ParseError(f"not a Word document (.docx) we can open: {exc}") from None
    blocks: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            blocks.append(_styled_block(item))
        elif isinstance(item, Table):
            blocks += _table(item)
    return "\n\n".join(block for block in blocks if block)


def _styled_block(paragraph: Paragraph) -> str:
    """A paragraph, with Word's Title style as a heading (the title) and its
    Subtitle in italics: "Debate: Should states hack back?" under a title is
    no turn by someone called Debate."""
    text = _paragraph(paragraph)
    style = (paragraph.style.name if paragraph.style is not None else "").casefold()
    if not text:
        return text
    if style == "title":
        return "# " + text.replace("**", "")
    if style == "subtitle":
        return "*" + text.replace("**", "").strip("*") + "*"
    return text


def _paragraph(paragraph: Paragraph) -> str:
    """One paragraph as Markdown: escaped text, emphasis where Word had it."""
    spans: list[list] = []  # [text, bold, italic], runs of one style merged
    for item in paragraph.iter_inner_content():
        runs = item.runs if isinstance(item, Hyperlink) else [item]
        for run in runs:
            style = (_styled(run, "bold"), _styled(run, "italic"))
            # Line breaks and tabs inside a paragraph are layout; the
            # text parsers would join the lines anyway.
            text = re.sub(r"[\n\t\r]", " ", run.text)
            # Word often leaves the space between two bold words unbolded;
            # a space takes the style of the words before it.
            if spans and (tuple(spans[-1][1:]) == style or not text.strip()):
                spans[-1][0] += text
            elif text:
                spans.append([text, *style])
    markdown = "".join(_span(text, bold, italic) for text, bold, italic in spans)
    return markdown.strip()


def _styled(run, attribute: str) -> bool:
    value = getattr(run.font, attribute)
    if value is None and run.style is not None:
        # Inherited from a character style such as "Strong".
        value = getattr(run.style.font, attribute)
    return bool(value)


def _span(text: str, bold: bool, italic: bool) -> str:
    """Escaped text wrapped in emphasis markers.

    Markers must touch the words: "** Name:**" is not bold in Markdown, so
    spaces at the edges of a span go outside its markers.
    """
    core = text.strip()
    if not core:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    marker = "*" * (2 * bold + italic)
    return f"{lead}{marker}{escape_plain(core)}{marker}{trail}"


def _table(table: Table) -> list[str]:
    blocks = []
    for number, row in enumerate(table.rows):
        cells = []
        for cell in row.cells:
            # A merged cell appears once per column it spans.
            if not cells or cell._tc is not cells[-1]._tc:
                cells.append(cell)
        if len(cells) == 2:
            speaker, words = (" ".join(c.text.split()) for c in cells)
            if number == 0 and speaker.casefold() in _HEADER_CELLS:
                continue
            if speaker and words:
                blocks.append(f"{escape_plain(speaker)}: {escape_plain(words)}")
            elif words:
                blocks.append(escape_plain(words))
        else:
            texts = [" ".join(p.text.split()) for c in cells for p in c.paragraphs]
            blocks += [escape_plain(text) for text in texts if text]
    return blocks
