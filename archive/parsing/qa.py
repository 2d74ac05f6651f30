"""Q&A articles: lede paragraphs, then questions and answers without labels.

A question is a paragraph in bold or one that ends in "?"; the paragraphs up
to the next question are the answer. A sidebar about the interviewee
("Name / bio / More >") is their bio, and a closing credit line is the
attribution, neither of them a turn.
"""

import re

from archive.parsing import text as t
from archive.parsing.document import (
    ParsedInterview,
    ParsedSpeaker,
    ParsedTurn,
    ParseError,
)
from archive.parsing.labelled import credit_line

_SIDEBAR_END = re.compile(r"^(?:More|Read more|Full bio)\s*[>›»]+$", re.I)
_BOLD = re.compile(r"^(\*\*|__).+\1$", re.DOTALL)


def is_question(paragraph: str) -> bool:
    return bool(_BOLD.match(paragraph)) or paragraph.rstrip("*_ ").endswith("?")


def parse_qa(
    source: str, *, interviewer: str = "", interviewee: str = ""
) -> ParsedInterview:
    parsed = ParsedInterview(format="qa")
    blocks: list[str] = []
    for lines in t.paragraphs(source):
        if len(lines) >= 2 and _SIDEBAR_END.match(lines[-1]):
            name, bio = lines[0], t.join_lines(lines[1:-1])
            parsed.participants.append(ParsedSpeaker(name=name, role="guest", bio=bio))
        else:
            blocks.append(t.join_lines(lines))
    while blocks and (kind := credit_line(blocks[-1])):
        setattr(parsed, kind, blocks.pop())

    first = next((i for i, b in enumerate(blocks) if is_question(b)), None)
    if first is None:
        raise ParseError(
            "no questions found (a Q&A needs questions in bold or ending in “?”)"
        )
    parsed.lede = "\n\n".join(blocks[:first])

    guest = parsed.participants[0] if parsed.participants else None
    answerer = interviewee or (guest.name if guest else "Interviewee")
    asker = interviewer or "Interviewer"
    current: ParsedTurn | None = None
    for block in blocks[first:]:
        kind = "question" if is_question(block) else "answer"
        if current is None or current.kind != kind:
            speaker = asker if kind == "question" else answerer
            current = ParsedTurn(speaker=speaker, label="", paragraphs=[], kind=kind)
            parsed.turns.append(current)
        t.append_paragraph(current.paragraphs, block)

    for name, role in ((asker, "interviewer"), (answerer, "guest")):
        if parsed.participant(name) is None:
            parsed.participants.append(ParsedSpeaker(name=name, role=role))
    return parsed
