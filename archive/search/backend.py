"""The Whoosh engine: a query tree in; one page of hits, the total and facets out.

Whoosh stores the documents and the term lists; matching, ranking and
counting run over the segment arrays (``segments.py``) as set operations on
sorted document-number arrays, so no step does Python work per match:

1. ``plan.compile_plan`` turns the reader's tree into a plan of tuples
   against the index's terms (``_Vocabulary`` answers its questions);
2. per segment, ``_Run`` evaluates the plan to the matching documents,
   drops deleted ones and those of hidden interviews, scores them with
   BM25 (Whoosh's formula and defaults), picks the best for the page, and
   counts facets with array operations;
3. only the page's hits are read from Whoosh (their stored text) and marked
   (the character spans of their matches, from the arrays).

Every step draws on one ``engine.Budget``; when it runs out the page keeps
the hits ranked so far and reports no total or facets rather than wrong ones.
"""

from __future__ import annotations

import logging
import math
from collections import Counter

import numpy as np

from archive.search.engine import FACETS, Budget, BudgetExceeded, Hit, Marks, Page
from archive.search.index import IndexUnavailable, View, searchers
from archive.search.plan import Plan, compile_plan
from archive.search.segments import KINDS

log = logging.getLogger(__name__)

SORTS = ("relevance", "newest", "oldest")
K1, B = 1.2, 0.75  # Whoosh's BM25F defaults
# An introduction (title and lede) is short and names the interview's whole
# subject, so BM25 puts it above the turns that actually say the words.
# Halved, it leads only when it matches clearly better than any turn.
LEDE_WEIGHT = 0.5
_EMPTY = np.zeros(0, dtype=np.int32)
_UNAVAILABLE = {
    "missing": "The search index is being built, so nothing can be found yet; "
    "please try again in a few minutes.",
    "outdated": "The search index was built by an older version of the archive "
    "and is being rebuilt (manage.py rebuild_index), so nothing can be found "
    "until that is done.",
    "unreadable": "The search index cannot be read just now, so nothing can be "
    "found; please try again in a few minutes.",
}
TOO_BROAD = (
    "This search was too broad to finish in time: these are the best results "
    "found, but they could not all be counted. Add words or a filter to narrow it."
)


class _Vocabulary:
    """The plan compiler's questions (``plan.Vocabulary``), answered from
    the index's term lists and segment arrays."""

    def __init__(self, view: View):
        self.view = view

    def is_name_word(self, word: str) -> bool:
        # A lookup in each segment's sorted filter keys.
        return self.view.has_filter_term("speaker_names", word)

    def one_speaker(self, words: list[str], budget: Budget) -> bool:
        node = ("and", tuple(("filter", "speaker_names", w) for w in words), ())
        for arrays, live, _ in self.view.segments:
            if len(_Run(arrays, live, budget).docs(node)):
                return True
        return False

    def has_term(self, term: str) -> bool:
        return bool(self.view.doc_frequency(term))

    def words_from(self, prefix: str):
        for word in self.view.searcher.reader().expand_prefix("words", prefix):
            yield _decoded(word)

    def terms_from(self, prefix: str):
        for term in self.view.searcher.reader().expand_prefix("text", prefix):
            yield _decoded(term)


def _decoded(term) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


# Set operations on sorted arrays of document numbers ---------------------------


def _contains(sorted_values: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each of ``values``, whether it is in ``sorted_values``."""
    if not len(sorted_values) or not len(values):
        return np.zeros(len(values), dtype=bool)
    idx = np.searchsorted(sorted_values, values)
    idx[idx == len(sorted_values)] = len(sorted_values) - 1
    return sorted_values[idx] == values


def _intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) > len(b):
        a, b = b, a
    return a[_contains(b, a)]


def _union(arrays: list[np.ndarray], count: int) -> np.ndarray:
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        return _EMPTY
    if len(arrays) == 1:
        return arrays[0]
    if sum(len(a) for a in arrays) * 8 > count:
        mask = np.zeros(count, dtype=bool)
        for a in arrays:
            mask[a] = True
        return np.flatnonzero(mask).astype(np.int32)
    return np.unique(np.concatenate(arrays))


# Evaluating one segment ----------------------------------------------------------


class _Run:
    """The plan evaluated over one segment."""

    def __init__(self, segment, live: np.ndarray, budget: Budget):
        self.segment = segment
        self.live = live
        self.budget = budget
        self.phrases: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def docs(self, node) -> np.ndarray:
        kind = node[0]
        segment = self.segment
        if kind == "term":
            start, end = segment.text_range(node[1])
            self.budget.charge(end - start)
            return np.asarray(segment.pdoc[start:end])
        if kind == "phrase":
            return self.phrase(node[1])[0]
        if kind == "filter":
            docs = np.asarray(segment.filter_docs(node[1], node[2]))
            self.budget.charge(len(docs))
            return docs
        if kind == "date":
            dates = segment.column("date")
            self.budget.charge(len(dates))
            return np.flatnonzero((dates >= node[1]) & (dates <= node[2])).astype(
                np.int32
            )
        if kind == "and":
            return self._and(node[1], node[2])
        if kind == "or":
            return _union([self.docs(c) for c in node[1]], segment.count)
        if kind == "none":
            return _EMPTY
        raise TypeError(f"unknown plan node {node!r}")

    def _and(self, positives, negatives) -> np.ndarray:
        if positives:
            result = None
            for child in positives:
                docs = self.docs(child)
                result = docs if result is None else _intersect(result, docs)
                self.budget.charge(len(result))
                if not len(result):
                    return _EMPTY
        else:
            result = np.arange(self.segment.count, dtype=np.int32)
        if negatives:
            excluded = _union([self.docs(c) for c in negatives], self.segment.count)
            result = result[~_contains(excluded, result)]
        return result

    def phrase(self, terms: tuple[str, ...]):
        """(documents, occurrences per document, start keys) of a phrase.

        A start key is document << 32 | position of the phrase's first word.
        Occurrences of each word in the candidate documents become keys
        shifted back by the word's place in the phrase; the phrase starts
        where every word's shifted keys agree. Rarest word first, so the
        candidate starts shrink quickly; a repeated word is read once.
        """
        cached = self.phrases.get(terms)
        if cached is not None:
            return cached
        segment = self.segment
        ranges = {t: segment.text_range(t) for t in set(terms)}
        empty = (_EMPTY, _EMPTY, np.zeros(0, dtype=np.int64))
        if any(start == end for start, end in ranges.values()):
            self.phrases[terms] = empty
            return empty
        candidates = None
        for start, end in sorted(ranges.values(), key=lambda r: r[1] - r[0]):
            docs = np.asarray(segment.pdoc[start:end])
            self.budget.charge(len(docs))
            candidates = docs if candidates is None else _intersect(candidates, docs)
            if not len(candidates):
                self.phrases[terms] = empty
                return empty
        order = sorted(
            range(len(terms)), key=lambda i: ranges[terms[i]][1] - ranges[terms[i]][0]
        )
        starts = None
        # A word repeated in the phrase is read once.
        occurrences: dict[str, np.ndarray] = {}
        for i in order:
            keys = occurrences.get(terms[i])
            if keys is None:
                keys = occurrences[terms[i]] = self._keys(ranges[terms[i]], candidates)
            if starts is None:
                starts = keys - i
            else:
                self.budget.charge(len(starts))
                starts = starts[_contains(keys, starts + i)]
            if not len(starts):
                self.phrases[terms] = empty
                return empty
        docs, counts = np.unique(starts >> 32, return_counts=True)
        result = (docs.astype(np.int32), counts.astype(np.int32), starts)
        self.phrases[terms] = result
        return result

    def _keys(self, term_range, candidates: np.ndarray) -> np.ndarray:
        """Sorted document << 32 | position of a term in ``candidates``."""
        segment = self.segment
        start, end = term_range
        idx = start + np.searchsorted(np.asarray(segment.pdoc[start:end]), candidates)
        first = np.asarray(segment.poff[idx]).astype(np.int64)
        counts = np.asarray(segment.pfreq[idx]).astype(np.int64)
        total = int(counts.sum())
        self.budget.charge(total)
        skips = np.repeat(first - (np.cumsum(counts) - counts), counts)
        positions = np.asarray(segment.ppos[skips + np.arange(total)])
        return (np.repeat(candidates.astype(np.int64), counts) << 32) | positions

    def frequencies(self, term: str, docs: np.ndarray) -> np.ndarray:
        start, end = self.segment.text_range(term)
        return _lookup(
            np.asarray(self.segment.pdoc[start:end]),
            np.asarray(self.segment.pfreq[start:end]),
            docs,
        )


def _lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """values[keys == w] for each w in ``wanted`` (0 where absent)."""
    if not len(keys):
        return np.zeros(len(wanted), dtype=np.int32)
    idx = np.searchsorted(keys, wanted)
    idx[idx == len(keys)] = len(keys) - 1
    return np.where(keys[idx] == wanted, values[idx], 0)


_LEDE = KINDS.index("lede")


def _idf(view: View, term: str) -> float:
    return math.log(view.doc_count / (view.doc_frequency(term) + 1)) + 1


def _scores(run: _Run, view: View, plan: Plan, docs: np.ndarray) -> np.ndarray:
    """BM25 of each document: the sum over the words and phrases it matches."""
    lengths = run.segment.column("length")[docs]
    norm = K1 * ((1 - B) + B * lengths / view.average_length)
    scores = np.zeros(len(docs))
    for term in plan.terms:
        tf = run.frequencies(term, docs)
        scores += _idf(view, term) * (tf * (K1 + 1)) / (tf + norm)
    for phrase in plan.phrases:
        phrase_docs, counts, _ = run.phrase(phrase)
        tf = _lookup(phrase_docs, counts, docs)
        idf = sum(_idf(view, t) for t in phrase)
        scores += idf * (tf * (K1 + 1)) / (tf + norm)
    ledes = run.segment.column("kind")[docs] == _LEDE
    scores[ledes] *= LEDE_WEIGHT
    return scores


def _sort_keys(run: _Run, view, plan, docs: np.ndarray, sort: str) -> np.ndarray:
    if sort == "relevance":
        return -_scores(run, view, plan, docs)
    position = run.segment.column("position")[docs].astype(np.int64)
    if sort == "newest":
        return -run.segment.column("date")[docs].astype(np.int64) * 2**21 + position
    return run.segment.column("date_asc")[docs].astype(np.int64) * 2**21 + position


def _top(keys: np.ndarray, k: int) -> np.ndarray:
    """Indexes of the k smallest keys, in order; ties keep document order."""
    if len(keys) > k > 0:
        threshold = np.partition(keys, k - 1)[k - 1]
        candidates = np.flatnonzero(keys <= threshold)
        return candidates[np.argsort(keys[candidates], kind="stable")][:k]
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.argsort(keys, kind="stable")


def _count_facets(run: _Run, docs: np.ndarray, facets: dict[str, Counter]) -> None:
    segment = run.segment
    run.budget.charge(len(docs))
    for name, table in (("speaker", segment.speakers), ("series", segment.series)):
        codes = segment.column(name)[docs]
        codes = codes[codes >= 0]
        if len(codes):
            counts = np.bincount(codes, minlength=len(table))
            for code in np.flatnonzero(counts):
                facets[name][table[code]] += int(counts[code])
    dates = segment.column("date")[docs]
    years, counts = np.unique(dates[dates > 0] // 10000, return_counts=True)
    for year, count in zip(years, counts, strict=True):
        facets["year"][str(int(year))] += int(count)
    matched = np.zeros(segment.count, dtype=bool)
    matched[docs] = True
    for topic, topic_docs in segment.filter_terms("topics"):
        run.budget.charge(len(topic_docs))
        count = int(np.count_nonzero(matched[topic_docs]))
        if count:
            facets["topic"][topic] += count


def _visible(run: _Run, docs: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    docs = docs[run.live[docs]]
    if len(hidden) and len(docs):
        interviews = run.segment.column("interview")[docs]
        docs = docs[~np.isin(interviews, hidden)]
    return docs


# The engine's calls ----------------------------------------------------------------


def _view(page_notices: list[str]) -> View | None:
    try:
        return searchers.get()
    except IndexUnavailable as exc:
        log.warning("search index unavailable (%s): run manage.py rebuild_index", exc)
        page_notices.append(_UNAVAILABLE[exc.reason])
    except OSError:
        # Files vanishing or a failing disk under an open index: the reader
        # gets a notice, the log gets the cause.
        log.exception("search index unreadable")
        searchers.reset()
        page_notices.append(_UNAVAILABLE["unreadable"])
    return None


def health() -> str | None:
    """Why this engine cannot answer now (for /healthz), or None."""
    try:
        searchers.get()
    except IndexUnavailable as exc:
        return f"search index {exc.reason}"
    except OSError as exc:
        searchers.reset()
        return f"search index unreadable: {exc.strerror or exc}"
    return None


def search(
    tree,
    *,
    sort: str = "relevance",
    offset: int = 0,
    limit: int = 20,
    hidden: frozenset[int] = frozenset(),
    budget: Budget | None = None,
    spans: bool = True,
) -> Page:
    """One page of hits for ``tree``, with the exact total and facet counts
    over documents outside ``hidden`` interviews (``spans=False``: hits
    without the spans of their matches, for exports)."""
    budget = budget or Budget()
    page = Page()
    view = _view(page.notices)
    if view is None:
        return page
    try:
        plan = compile_plan(tree, _Vocabulary(view), budget)
    except BudgetExceeded:
        page.notices.append(TOO_BROAD)
        page.total, page.facets, page.complete = None, None, False
        return page
    page.notices += plan.notices
    page.words = plan.words
    if plan.node is None:
        return page
    hidden_array = np.fromiter(hidden, dtype=np.int64, count=len(hidden))
    facets: dict[str, Counter] = {name: Counter() for name in FACETS}
    # The best of each segment: sort keys, segment numbers, document numbers.
    ranked: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    runs: list[_Run] = []
    total = 0
    wanted = offset + limit
    for number, (segment, live, _) in enumerate(view.segments):
        run = _Run(segment, live, budget)
        runs.append(run)
        try:
            docs = _visible(run, run.docs(plan.node), hidden_array)
            if not len(docs):
                continue
            keys = _sort_keys(run, view, plan, docs, sort)
            best = _top(keys, wanted)
            ranked.append((keys[best], np.full(len(best), number), docs[best]))
            total += len(docs)
            _count_facets(run, docs, facets)
        except BudgetExceeded:
            page.complete = False
            break
    if ranked:
        keys, numbers, docnums = (
            np.concatenate(column) for column in zip(*ranked, strict=True)
        )
        order = np.lexsort((docnums, numbers, keys))[offset:wanted]
        for count, i in enumerate(order.tolist()):
            if count % 500 == 499 and not budget.left:
                # A long export ran out of time: what was listed stays.
                page.notices.append(f"Only the first {count:,} results were listed.")
                break
            number, docnum = int(numbers[i]), int(docnums[i])
            page.hits.append(_hit(view, runs[number], number, docnum, plan, spans))
    if page.complete:
        page.total, page.facets = total, facets
    else:
        page.total, page.facets = None, None
        page.notices.append(TOO_BROAD)
    return page


def _hit(
    view: View, run: _Run, number: int, docnum: int, plan: Plan, spans: bool = True
) -> Hit:
    segment = run.segment
    stored = view.stored_fields(number, docnum)
    return Hit(
        kind=KINDS[int(segment.column("kind")[docnum])],
        pk=int(segment.column("pk")[docnum]),
        text=stored.get("text", ""),
        spans=_spans(run, docnum, plan) if spans else [],
    )


def _occurrences(segment, term: str, docnum: int) -> dict[int, tuple[int, int]]:
    """Position → character span of ``term`` in one document."""
    start, end = segment.text_range(term)
    docs = segment.pdoc[start:end]
    i = int(np.searchsorted(docs, docnum))
    if i == len(docs) or docs[i] != docnum:
        return {}
    first = int(segment.poff[start + i])
    count = int(segment.pfreq[start + i])
    positions = segment.ppos[first : first + count].tolist()
    starts = segment.pstart[first : first + count].tolist()
    ends = segment.pend[first : first + count].tolist()
    return {p: (s, e) for p, s, e in zip(positions, starts, ends, strict=True)}


def _spans(run: _Run, docnum: int, plan: Plan) -> list[tuple[int, int]]:
    """The character spans of a document's matches.

    A word searched on its own is marked wherever it occurs; a phrase's words
    only where they form the phrase, or the snippet could show "norms" alone
    and miss "voluntary norms".
    """
    segment = run.segment
    spans = []
    for term in plan.terms:
        spans += _occurrences(segment, term, docnum).values()
    for phrase in plan.phrases:
        occurrences = [_occurrences(segment, term, docnum) for term in phrase]
        for start in occurrences[0]:
            if all(start + i in occ for i, occ in enumerate(occurrences)):
                spans += [occ[start + i] for i, occ in enumerate(occurrences)]
    return spans


def _matching(tree, budget: Budget, hidden: frozenset[int] = frozenset()):
    """(run, plan, visible matching documents) for each segment; nothing when
    the index cannot serve or nothing is searchable."""
    view = _view([])
    if view is None:
        return
    plan = compile_plan(tree, _Vocabulary(view), budget)
    if plan.node is None:
        return
    hidden_array = np.fromiter(hidden, dtype=np.int64, count=len(hidden))
    for segment, live, _ in view.segments:
        run = _Run(segment, live, budget)
        yield run, plan, _visible(run, run.docs(plan.node), hidden_array)


def marks(tree, interview_pk: int, budget: Budget | None = None) -> Marks:
    """The spans of ``tree``'s matches in one interview, for marking its page."""
    result = Marks()
    lede = KINDS.index("lede")
    try:
        for run, plan, docs in _matching(tree, budget or Budget()):
            columns = run.segment.column
            for docnum in docs[columns("interview")[docs] == interview_pk].tolist():
                spans = _spans(run, docnum, plan)
                if columns("kind")[docnum] == lede:
                    result.lede = spans
                else:
                    result.turns[int(columns("pk")[docnum])] = spans
    except BudgetExceeded:
        pass  # what was marked so far stays marked
    return result


def has_results(tree, hidden: frozenset[int] = frozenset(), budget=None) -> bool:
    try:
        return any(
            len(docs) for _, _, docs in _matching(tree, budget or Budget(), hidden)
        )
    except BudgetExceeded:
        return False


def correct(word: str, budget: Budget | None = None) -> str | None:
    """A better-known spelling of ``word`` from the index, if it lacks it."""
    budget = budget or Budget()
    key = word.lower()
    if not key.isalpha() or len(key) > 30:
        return None
    view = _view([])
    if view is None:
        return None
    budget.charge(1000)
    if view.searcher.doc_frequency("words", key) > 0:
        return None
    # Keeping the first letters as typed: searching the whole vocabulary
    # for words within two edits takes seconds at archive scale, and most
    # misspellings keep the start of the word.
    suggestions = view.searcher.corrector("words").suggest(
        key, limit=1, prefix=2 if len(key) > 4 else 1
    )
    budget.charge(1000)
    return suggestions[0] if suggestions else None
