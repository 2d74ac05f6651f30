"""Full-text search: the only package that knows about Whoosh.

``search(text, sort=, page=, page_size=)`` parses a reader's query, runs it
and returns ``Results`` ready for a page or the API. Everything it shows is
checked against the database, so an interview unpublished a moment ago (its
index documents not yet removed by the queue consumer) appears nowhere.
"""

import re
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import OuterRef, Subquery
from django.utils.safestring import SafeString

from archive.models import Interview, Speaker, Turn, TurnKind
from archive.search import backend, highlight
from archive.search.query import Filter, ParsedQuery, Word, parse_query

SORTS = backend.SORTS
PREFIX_CAP = backend.PREFIX_CAP
FACET_SIZE = 10


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
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[Facet]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    suggestion: str | None = None

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.page_size - 1) // self.page_size)

    @property
    def understood(self) -> str:
        return self.parsed.understood()


def search(
    text: str, *, sort: str = "relevance", page: int = 1, page_size: int = 20
) -> Results:
    parsed = parse_query(text)
    results = Results(text, parsed, sort, page, page_size, notices=list(parsed.notices))
    if parsed.tree is None:
        return results
    raw = backend.run(parsed.tree, sort=sort, page=page, page_size=page_size)
    results.notices += raw.notices

    interview_counts = raw.count("interview")
    published = _published_interviews(interview_counts)
    results.total = _published_total(interview_counts, published)
    if page > results.pages and results.total:
        raise SearchError(
            f"There is no page {page}: the {results.total} results fill "
            f"{results.pages} page{'s' if results.pages != 1 else ''}."
        )
    results.hits = _hits(raw.hits)
    results.facets = _facets(raw, interview_counts, published)
    if results.total == 0:
        results.suggestion = _suggestion(parsed, raw.words)
    return results


def _published_total(interview_counts: Counter, published: dict) -> int:
    return sum(n for pk, n in interview_counts.items() if pk in published)


def _published_interviews(interview_counts: Counter) -> dict[str, dict]:
    """Interview pk (as indexed) → what facets need, for published ones only."""
    ids = [int(pk) for pk in interview_counts if pk]
    rows = Interview.objects.published().filter(pk__in=ids)
    info = {
        str(pk): {
            "series": (s_slug, s_name) if s_slug else None,
            "date": date,
            "topics": [],
        }
        for pk, s_slug, s_name, date in rows.values_list(
            "pk", "series__slug", "series__name", "date"
        )
    }
    for interview_id, slug, name in Interview.topics.through.objects.filter(
        interview_id__in=[int(pk) for pk in info]
    ).values_list("interview_id", "topic__slug", "topic__name"):
        info[str(interview_id)]["topics"].append((slug, name))
    return info


def _facets(raw, interview_counts: Counter, published: dict) -> dict[str, list[Facet]]:
    series, topics, years = Counter(), Counter(), Counter()
    labels: dict[tuple[str, str], str] = {}
    for pk, count in interview_counts.items():
        info = published.get(pk)
        if info is None:
            continue
        if info["series"]:
            slug, name = info["series"]
            series[slug] += count
            labels["series", slug] = name
        for slug, name in info["topics"]:
            topics[slug] += count
            labels["topic", slug] = name
        if info["date"]:
            years[str(info["date"].year)] += count
    # Speakers are counted per document, so drafts' documents are left out
    # by checking each document's interview.
    speakers_column = backend.searchers.column("speaker")
    interviews_column = backend.searchers.column("interview")
    speaker_counts = Counter(
        speakers_column[d]
        for d in raw.docnums
        if speakers_column[d] and interviews_column[d] in published
    )
    top_speakers = speaker_counts.most_common(FACET_SIZE)
    names = dict(
        Speaker.objects.filter(slug__in=[s for s, _ in top_speakers]).values_list(
            "slug", "name"
        )
    )

    def facet(name, counter, label):
        return [
            Facet(value, label(value), count, name)
            for value, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[
                :FACET_SIZE
            ]
        ]

    return {
        "speaker": [
            Facet(slug, names.get(slug, slug), count, "speaker")
            for slug, count in top_speakers
        ],
        "series": facet("series", series, lambda v: labels["series", v]),
        "topic": facet("topic", topics, lambda v: labels["topic", v]),
        "year": sorted(
            (Facet(y, y, n, "year") for y, n in years.items()),
            key=lambda f: f.value,
            reverse=True,
        ),
    }


def _hits(raw_hits) -> list[Hit]:
    turn_ids = [int(h.doc_id[1:]) for h in raw_hits if h.doc_id.startswith("t")]
    lede_ids = [int(h.doc_id[1:]) for h in raw_hits if h.doc_id.startswith("i")]
    previous_question = (
        Turn.objects.filter(
            interview=OuterRef("interview"),
            position__lt=OuterRef("position"),
            kind=TurnKind.QUESTION,
        )
        .order_by("-position")
        .values("pk")[:1]
    )
    turns = {
        t.pk: t
        for t in Turn.objects.published()
        .filter(pk__in=turn_ids)
        .select_related("speaker", "interview__series")
        .annotate(question_id=Subquery(previous_question))
    }
    question_ids = [t.question_id for t in turns.values() if t.kind == "answer"]
    questions = Turn.objects.select_related("speaker").in_bulk(
        [q for q in question_ids if q]
    )
    ledes = Interview.objects.published().select_related("series").in_bulk(lede_ids)
    hits = []
    for raw in raw_hits:
        pk = int(raw.doc_id[1:])
        snippet = highlight.snippet(raw.text, raw.spans)
        if raw.doc_id.startswith("i"):
            interview = ledes.get(pk)
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
        turn = turns.get(pk)
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
                question=questions.get(turn.question_id)
                if turn.kind == "answer"
                else None,
            )
        )
    return hits


def _suggestion(parsed: ParsedQuery, words: list[str]) -> str | None:
    """A respelled query, offered only when it finds something."""
    corrected = parsed.text
    changed = False
    for word in words:
        better = backend.correct(word)
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
    counts = backend.run(fixed.tree, page_size=1).count("interview")
    if _published_total(counts, _published_interviews(counts)):
        return corrected
    return None


def _replace_word(text: str, word: str, better: str) -> str:
    return re.sub(rf"(?<![\w:]){re.escape(word)}(?!\w)", better, text, count=1)


@dataclass
class Marks:
    """What to mark on one interview's page: per turn, and in the lede."""

    turns: dict[int, list] = field(default_factory=dict)
    lede: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.turns) + (1 if self.lede else 0)


def marks_for_interview(text: str, interview: Interview) -> Marks:
    """The spans of ``text``'s matches on ``interview``'s page."""
    marks = Marks()
    parsed = parse_query(text)
    if parsed.tree is None:
        return marks
    for doc_id, spans in backend.spans_within(parsed.tree, interview.slug).items():
        if doc_id.startswith("t"):
            marks.turns[int(doc_id[1:])] = spans
        elif spans:
            # The interview's document is "title\n\nlede" (documents.py): keep
            # the spans in the lede, counted from its start.
            offset = len(interview.title) + 2
            marks.lede = [(a - offset, b - offset) for a, b in spans if a >= offset]
    return marks


__all__ = [
    "SORTS",
    "Filter",
    "Hit",
    "Marks",
    "Results",
    "SearchError",
    "Word",
    "marks_for_interview",
    "search",
]
