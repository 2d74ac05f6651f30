"""What the search front asks of an engine, and what an engine answers.

The front (``archive.search``) parses the reader's query into a tree
(``archive.search.query``) and hands it to the engine with the interviews
that must not show (drafts, and anything whose index documents are waiting
to be removed). The engine answers with one page of hits (what was found, by
database primary key, with the character spans to mark), the exact total and
facet counts, or says that the search ran out of its budget before it could
count. The Whoosh engine is ``archive.search.backend``; the PostgreSQL engine,
``archive.search.postgres``, implements the same calls.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings

Span = tuple[int, int]
FACETS = ("speaker", "series", "topic", "year")


class BudgetExceeded(Exception):
    """The search used up its work or time budget."""


class Budget:
    """One search's allowance of work (postings and terms touched) and time.

    Expanding wildcards, evaluating, counting and spelling suggestions all
    draw on the same budget, so no part of a query, however often repeated,
    can hold a worker for long.
    """

    def __init__(self, work: int | None = None, seconds: float | None = None):
        self.work = work if work is not None else settings.ARCHIVE_SEARCH_WORK
        seconds = seconds if seconds is not None else settings.ARCHIVE_SEARCH_SECONDS
        self.deadline = time.monotonic() + seconds
        self.used = 0

    def charge(self, units: int) -> None:
        self.used += int(units)
        if self.used > self.work or time.monotonic() > self.deadline:
            raise BudgetExceeded

    @property
    def left(self) -> bool:
        return self.used <= self.work and time.monotonic() <= self.deadline


@dataclass
class Hit:
    kind: str  # question, answer, remark, or lede (the interview's title and lede)
    pk: int  # the turn's primary key, or the interview's for a lede
    text: str  # the plain text the spans point into
    spans: list[Span]


@dataclass
class Page:
    hits: list[Hit] = field(default_factory=list)
    # None when the budget ran out before everything was counted.
    total: int | None = 0
    facets: dict[str, Counter] | None = field(
        default_factory=lambda: {name: Counter() for name in FACETS}
    )
    notices: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # positive words, for spelling
    complete: bool = True


@dataclass
class Marks:
    """The spans to mark on one interview's page."""

    turns: dict[int, list[Span]] = field(default_factory=dict)  # turn pk → spans
    lede: list[Span] = field(default_factory=list)  # in "title\n\nlede"

    def __len__(self) -> int:
        return len(self.turns) + (1 if self.lede else 0)


def get():
    """The configured engine: ``ARCHIVE_SEARCH_BACKEND`` is ``whoosh`` (the
    module ``backend``) or ``postgres`` (``postgres``)."""
    if settings.ARCHIVE_SEARCH_BACKEND == "postgres":
        from archive.search import postgres

        return postgres
    from archive.search import backend

    return backend
