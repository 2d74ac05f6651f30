"""Word documents: paragraphs out of a .docx, as Markdown-flavoured text."""

from archive.parsing.document import ParseError


def docx_to_text(data: bytes) -> str:
    raise ParseError("Word documents are not supported yet")
