"""Full-text search: the front that views and the API call.

``search(text, sort=, page=, page_size=)`` parses a reader's query, asks the
engine (``engine.get()``: the Whoosh engine in ``backend.py``) for one page
and returns ``Results`` ready for a page or the API. The front speaks to the
engine in query trees, database keys and counts only. Everything it shows is
checked against the database, and the engine is told which interviews to
leave out of hits and counts (drafts, and interviews whose index documents
are waiting in the queue to be removed), so an interview unpublished a moment
ago appears nowhere.
"""

import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils.safestring import SafeString

from archive.models import IndexQueue, Interview, Series, Speaker, Topic, Turn, TurnKind
from archive.search import engine, highlight
from archive.search.engine import Budget, Marks
from archive.search.query import PREFIX_CAP, Filter, ParsedQuery, Word, parse_query

log = logging.getLogger(__name__)

SORTS = ("relevance", "newest", "oldest")
FACET_SIZE = 10
SUGGESTED_WORDS = 4  # misspelt words one query gets suggestions for


class SearchError(ValueError):
    """A request we cannot answer (a page past the end); the message says why."""


@dataclass
class Hit:
    url: str
    kind: str
    text: str  # Markdown of the turn (or the interview's lede)
    snippet: SafeString
    interview: Interview
    speaker: Speaker | None = None
    anchor: int | None = None
    position: int | None = None
    question: Turn | None = None


@dataclass
class Facet:
    value: str
    label: str
    count: int
    field: str

    @property
    def filter(self) -> str:
        value = self.value if " " not in self.value else f'"{self.value}"'
        return f"{self.field}:{value}"


@dataclass
class Results:
    query: str
    parsed: ParsedQuery
    sort: str
    page: int
    page_size: int
    total: int | None = 0  # None: the search ran out of budget before counting
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[Facet]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    suggestion: str | None = None
    # The reader's own words, when these are the results of a respelling
    # of them (theirs found nothing); ``query`` is then the respelled one.
    respelled_from: str | None = None

    @property
    def pages(self) -> int:
        total = self.total if self.total is not None else len(self.hits)
        return max(1, (total + self.page_size - 1) // self.page_size)

    @property
    def understood(self) -> str:
        return self.parsed.understood()


def search(
    text: str,
    *,
    sort: str = "relevance",
    page: int = 1,
    page_size: int = 20,
    budget: Budget | None = None,
    spans: bool = True,
    respell: bool = True,
) -> Results:
    """One page of results for ``text``. When nothing matches and a
    respelling of its words does, the respelled query's results come back
    at once (``respelled_from`` says so), unless ``respell`` is off.

    A search slower than ``ARCHIVE_SLOW_SEARCH_SECONDS`` is logged with its
    query, so the queries that need work can be found."""
    started = time.monotonic()
    results = _search(
        text,
        sort=sort,
        page=page,
        page_size=page_size,
        budget=budget,
        spans=spans,
        respell=respell,
    )
    elapsed = time.monotonic() - started
    if elapsed >= settings.ARCHIVE_SLOW_SEARCH_SECONDS:
        log.warning(
            "slow search",
            extra={
                "query": text[:500],
                "sort": sort,
                "page": page,
                "total": results.total,
                "seconds": round(elapsed, 3),
            },
        )
    return results


def _search(
    text: str,
    *,
    sort: str,
    page: int,
    page_size: int,
    budget: Budget | None,
    spans: bool,
    respell: bool,
) -> Results:
    budget = budget or Budget()
    parsed = parse_query(text)
    results = Results(text, parsed, sort, page, page_size, notices=list(parsed.notices))
    if parsed.tree is None:
        return results
    hidden = hidden_interviews()
    found = engine.get().search(
        parsed.tree,
        sort=sort,
        offset=(page - 1) * page_size,
        limit=page_size,
        hidden=hidden,
        budget=budget,
        spans=spans,
    )
    results.notices += found.notices
    results.total = found.total
    if found.total is not None:
        if page > results.pages and results.total:
            raise SearchError(
                f"There is no page {page}: the {results.total} results fill "
                f"{results.pages} page{'s' if results.pages != 1 else ''}."
            )
        results.facets = _facets(found.facets)
    results.hits = _hits(found.hits, with_questions=spans)
    if results.total == 0:
        results.suggestion = _suggestion(parsed, found.words, hidden, budget)
        if results.suggestion and respell and page == 1:
            respelled = _search(
                results.suggestion,
                sort=sort,
                page=1,
                page_size=page_size,
                budget=budget,
                spans=spans,
                respell=False,
            )
            respelled.respelled_from = text
            return respelled
    return results


def hidden_interviews() -> frozenset[int]:
    """Interviews whose documents must not show: drafts, and interviews with
    a change waiting in the queue that leaves them unpublished or deleted."""
    drafts = Interview.objects.filter(published=False).values_list("pk", flat=True)
    queued = set(
        IndexQueue.objects.filter(kind=IndexQueue.Kind.INTERVIEW).values_list(
            "object_id", flat=True
        )
    )
    if queued:
        queued -= set(
            Interview.objects.published()
            .filter(pk__in=queued)
            .values_list("pk", flat=True)
        )
    return frozenset(drafts) | frozenset(queued)


def _facets(counts: dict[str, Counter]) -> dict[str, list[Facet]]:
    def top(counter: Counter) -> list[tuple[str, int]]:
        return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE]

    counts = {name: counts.get(name, Counter()) for name in engine.FACETS}
    speakers = top(counts["speaker"])
    series = top(counts["series"])
    topics = top(counts["topic"])
    names = {
        "speaker": dict(
            Speaker.objects.filter(slug__in=[s for s, _ in speakers]).values_list(
                "slug", "name"
            )
        ),
        "series": dict(
            Series.objects.filter(slug__in=[s for s, _ in series]).values_list(
                "slug", "name"
            )
        ),
        "topic": dict(
            Topic.objects.filter(slug__in=[s for s, _ in topics]).values_list(
                "slug", "name"
            )
        ),
    }

    def facet(name, values):
        return [
            Facet(value, names[name].get(value, value), count, name)
            for value, count in values
        ]

    return {
        "speaker": facet("speaker", speakers),
        "series": facet("series", series),
        "topic": facet("topic", topics),
        "year": sorted(
            (Facet(y, y, n, "year") for y, n in counts["year"].items()),
            key=lambda f: f.value,
            reverse=True,
        ),
    }


def _hits(found: list[engine.Hit], with_questions: bool = True) -> list[Hit]:
    """The hits as the page shows them, checked against the database (an
    export leaves out the question each answer replies to)."""
    turn_ids = [h.pk for h in found if h.kind != "lede"]
    lede_ids = [h.pk for h in found if h.kind == "lede"]
    turns_found = (
        Turn.objects.published()
        .filter(pk__in=turn_ids)
        .select_related("speaker", "interview__series")
    )
    if with_questions:
        previous_question = (
            Turn.objects.filter(
                interview=OuterRef("interview"),
                position__lt=OuterRef("position"),
                kind=TurnKind.QUESTION,
            )
            .order_by("-position")
            .values("pk")[:1]
        )
        turns_found = turns_found.annotate(question_id=Subquery(previous_question))
    turns = {t.pk: t for t in turns_found} if turn_ids else {}
    question_ids = [
        getattr(t, "question_id", None) for t in turns.values() if t.kind == "answer"
    ]
    questions = (
        Turn.objects.select_related("speaker").in_bulk([q for q in question_ids if q])
        if any(question_ids)
        else {}
    )
    ledes = (
        Interview.objects.published().select_related("series").in_bulk(lede_ids)
        if lede_ids
        else {}
    )
    hits = []
    for raw in found:
        snippet = highlight.snippet(raw.text, raw.spans)
        if raw.kind == "lede":
            interview = ledes.get(raw.pk)
            if interview is None:
                continue
            hits.append(
                Hit(
                    url=interview.get_absolute_url(),
                    kind="lede",
                    text=interview.lede,
                    snippet=snippet,
                    interview=interview,
                )
            )
            continue
        turn = turns.get(raw.pk)
        if turn is None:
            continue  # deleted or unpublished since it was indexed
        hits.append(
            Hit(
                url=f"{turn.interview.get_absolute_url()}#t-{turn.anchor}",
                kind=turn.kind,
                text=turn.body,
                snippet=snippet,
                interview=turn.interview,
                speaker=turn.speaker,
                anchor=turn.anchor,
                position=turn.position,
                question=questions.get(getattr(turn, "question_id", None))
                if turn.kind == "answer"
                else None,
            )
        )
    return hits


def _suggestion(
    parsed: ParsedQuery, words: list[str], hidden: frozenset[int], budget: Budget
) -> str | None:
    """A respelled query, offered only when it finds something."""
    corrected = parsed.text
    changed = False
    backend = engine.get()
    for word in list(dict.fromkeys(words))[:SUGGESTED_WORDS]:
        if not budget.left:
            break
        try:
            better = backend.correct(word, budget)
        except engine.BudgetExceeded:
            break
        if better and better != word.lower():
            corrected = _replace_word(corrected, word, better)
            changed = True
    if not changed:
        return None
    fixed = parse_query(corrected)
    if fixed.tree is None:
        return None
    # Counted like any result: a word found only in a draft that the consumer
    # has not yet removed from the index must not be offered.
    if backend.has_results(fixed.tree, hidden, budget):
        return corrected
    return None


def _replace_word(text: str, word: str, better: str) -> str:
    return re.sub(rf"(?<![\w:]){re.escape(word)}(?!\w)", better, text, count=1)


def warm_up() -> None:
    """Open the index and run one search, so that a new worker's first
    reader does not wait for the index to be mapped (gunicorn.conf.py)."""
    try:
        search("security")
    except Exception:  # a worker must start even if the index cannot serve
        log.exception("search warm-up failed")


def health() -> str | None:
    """Why the search engine cannot answer now, or None when it can."""
    return engine.get().health()


def marks_for_interview(text: str, interview: Interview) -> Marks:
    """The spans of ``text``'s matches on ``interview``'s page."""
    parsed = parse_query(text)
    if parsed.tree is None or not interview.published:
        return Marks()
    found = engine.get().marks(parsed.tree, interview.pk)
    if found.lede:
        # The interview's document is "title\n\nlede" (documents.py): keep
        # the spans in the lede, counted from its start.
        offset = len(interview.title) + 2
        found.lede = [(a - offset, b - offset) for a, b in found.lede if a >= offset]
    return found


__all__ = [
    "PREFIX_CAP",
    "SORTS",
    "Filter",
    "Hit",
    "Marks",
    "Results",
    "SearchError",
    "Word",
    "marks_for_interview",
    "search",
    "warm_up",
]
