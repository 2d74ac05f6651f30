"""Running a parsed query against the Whoosh index.

``compile_query`` turns the backend-neutral tree from ``archive.search.query``
into Whoosh queries; ``search`` runs it and gathers what a results page
needs: one page of hits with marked snippets, the exact total, and facet
counts.

Facets are counted without Whoosh's ``groupedby`` (which scores and groups
every hit): the matching document numbers are collected unscored, then
counted against two columns (speaker and interview) held in memory per
searcher; series, topic and year counts follow from the interview counts
and a single database query.
"""

from collections import Counter
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh import sorting

from archive.search import analysis
from archive.search import query as q
from archive.search.index import searchers

PREFIX_CAP = 64  # terms a wildcard may expand to


@dataclass
class Compiled:
    query: object | None
    notices: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # positive words, for spelling


def _date_bound(value: str, *, end: bool) -> int | None:
    if not value:
        return None
    parts = value.split("-")
    year = int(parts[0])
    month = int(parts[1]) if len(parts) > 1 else (12 if end else 1)
    day = int(parts[2]) if len(parts) > 2 else (31 if end else 1)
    return year * 10000 + month * 100 + day


def _text_query(text: str):
    terms = analysis.terms(text)
    if not terms:
        return None
    if len(terms) == 1:
        return wq.Term("text", terms[0])
    return wq.Phrase("text", terms)


def compile_query(tree, searcher) -> Compiled:
    compiled = Compiled(None)
    compiled.query = _compile(tree, searcher, compiled, negated=False)
    return compiled


def _compile(node, searcher, out: Compiled, negated: bool):
    if node is None:
        return None
    if isinstance(node, q.Word):
        if not negated:
            out.words.append(node.text)
        return _text_query(node.text)
    if isinstance(node, q.Phrase):
        if not negated:
            # A misspelt word in a phrase deserves a suggestion too.
            out.words += node.text.split()
        return _text_query(node.text)
    if isinstance(node, q.Prefix):
        return _prefix(node.text, searcher, out)
    if isinstance(node, q.Filter):
        return _filter(node)
    if isinstance(node, q.DateRange):
        lo = _date_bound(node.start, end=False) or 1  # 0 means "date unknown"
        hi = _date_bound(node.end, end=True)
        return wq.NumericRange("date", lo, hi)
    if isinstance(node, q.Not):
        inner = _compile(node.child, searcher, out, negated=not negated)
        return wq.Not(inner) if inner is not None else None
    if isinstance(node, q.Or):
        parts = [_compile(c, searcher, out, negated) for c in node.children]
        parts = [p for p in parts if p is not None]
        return wq.Or(parts) if len(parts) > 1 else (parts[0] if parts else None)
    if isinstance(node, q.And):
        return _compile_and(node.children, searcher, out, negated)
    raise TypeError(f"unknown query node {node!r}")


def _compile_and(children, searcher, out: Compiled, negated: bool):
    positives, negatives = [], []
    children = list(children)
    i = 0
    while i < len(children):
        child = children[i]
        following = children[i + 1] if i + 1 < len(children) else None
        if isinstance(child, q.Word) and isinstance(following, q.Word):
            compound = _compound(child.text, following.text)
            if compound is not None:
                # "cyber security" also finds "cybersecurity", and "United
                # States" finds "U.S.": the pair as one word, or both words.
                if not negated:
                    out.words += [child.text, following.text]
                both = [_text_query(child.text), _text_query(following.text)]
                alternatives = [compound, wq.And([b for b in both if b is not None])]
                positives.append(wq.Or(alternatives))
                i += 2
                continue
        if isinstance(child, q.Not):
            inner = _compile(child.child, searcher, out, negated=not negated)
            if inner is not None:
                negatives.append(inner)
        else:
            compiled = _compile(child, searcher, out, negated)
            if compiled is not None:
                positives.append(compiled)
        i += 1
    if not positives and not negatives:
        return None
    base = (
        wq.And(positives)
        if len(positives) > 1
        else (positives[0] if positives else wq.Every())
    )
    if negatives:
        excluded = wq.Or(negatives) if len(negatives) > 1 else negatives[0]
        # Not AndNot: whoosh-reloaded 2.7.5's AndNotMatcher can let the first
        # candidate through when the excluded postings start earlier
        # ("security -election" returned "security election").
        return wq.And([base, wq.Not(excluded)])
    return base


def _compound(first: str, second: str):
    joined = analysis.terms(f"{first} {second}")
    separate = analysis.terms(first) + analysis.terms(second)
    if len(joined) == 1 and len(separate) == 2:
        return wq.Term("text", joined[0])
    return None


def _prefix(text: str, searcher, out: Compiled):
    """``text*`` as the index terms it stands for, at most PREFIX_CAP of them.

    The words as written are expanded first, then stemmed: the stemmed terms
    alone would miss every word whose stem is shorter than the prefix
    ("securit*" must find "security", indexed as "secur"). Stemmed terms
    that start with the prefix follow, for what the words field lacks
    (acronyms kept whole, joined compounds).
    """
    prefix = text.lower().replace("’", "'")
    reader = searcher.reader()

    def candidates():
        for word in reader.expand_prefix("words", prefix):
            yield from analysis.terms(_decoded(word))
        for term in reader.expand_prefix("text", prefix):
            yield _decoded(term)

    expanded: list[str] = []
    for term in candidates():
        if term in expanded:
            continue
        if len(expanded) == PREFIX_CAP:
            out.notices.append(
                f"“{text}*” matches more than {PREFIX_CAP} words; "
                f"only the first {PREFIX_CAP} were searched."
            )
            break
        expanded.append(term)
    if not expanded:
        return wq.NullQuery
    return wq.Or([wq.Term("text", t) for t in expanded])


def _decoded(term) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


def _filter(node: "q.Filter"):
    value = node.value.strip().lower()
    if node.field == "speaker":
        words = [w.strip(".") for w in value.replace(",", " ").split() if w.strip(".")]
        if not words:
            return None
        terms = [wq.Term("speaker_names", w) for w in words]
        return terms[0] if len(terms) == 1 else wq.And(terms)
    target = {
        "interview": "interview_slug",
        "series": "series",
        "topic": "topics",
        "role": "role",
        "kind": "kind",
    }[node.field]
    return wq.Term(target, value)


# Running a search ------------------------------------------------------------


@dataclass
class RawHit:
    doc_id: str  # "t<pk>" or "i<pk>"
    kind: str
    text: str
    spans: list[tuple[int, int]]


@dataclass
class RawResults:
    docnums: list[int]  # every matching document
    hits: list[RawHit]  # the requested page
    notices: list[str]
    words: list[str]

    def count(self, column: str) -> Counter:
        """Matching documents per value of a column (speaker, interview)."""
        values = searchers.column(column)
        return Counter(values[d] for d in self.docnums)


SORTS = ("relevance", "newest", "oldest")


def _sortedby(sort: str):
    if sort == "newest":
        return sorting.MultiFacet(
            [sorting.FieldFacet("date", reverse=True), sorting.FieldFacet("position")]
        )
    if sort == "oldest":
        return sorting.MultiFacet(
            [sorting.FieldFacet("date_asc"), sorting.FieldFacet("position")]
        )
    return None


def run(
    tree, *, sort: str = "relevance", page: int = 1, page_size: int = 20
) -> RawResults:
    searcher = searchers.get()
    compiled = compile_query(tree, searcher)
    raw = RawResults([], [], compiled.notices, compiled.words)
    if compiled.query is None:
        return raw
    raw.docnums = list(searcher.docs_for_query(compiled.query))
    if not raw.docnums or (page - 1) * page_size >= len(raw.docnums):
        return raw
    results = searcher.search_page(
        compiled.query, page, pagelen=page_size, terms=True, sortedby=_sortedby(sort)
    )
    raw.hits = [_raw_hit(searcher, hit) for hit in results]
    return raw


def _raw_hit(searcher, hit) -> RawHit:
    """The hit with the character spans of its matches, read from postings.

    A word searched on its own is marked wherever it occurs; a phrase's words
    only where they form the phrase, or the snippet could show "norms" alone
    and miss "voluntary norms".
    """
    matched = {
        term.decode("utf-8") if isinstance(term, bytes) else term
        for fieldname, term in hit.matched_terms()
        if fieldname == "text"
    }
    words, phrases = set(), []
    _leaves(hit.results.q, words, phrases)
    occurrences = {
        term: _occurrences(searcher, term, hit.docnum)
        for term in matched & (words | {w for p in phrases for w in p})
    }
    spans = [span for term in words & matched for span in occurrences[term].values()]
    for phrase in phrases:
        if not set(phrase) <= matched:
            continue
        first = occurrences[phrase[0]]
        for start in first:
            if all(start + i in occurrences[w] for i, w in enumerate(phrase)):
                spans += [occurrences[w][start + i] for i, w in enumerate(phrase)]
    return RawHit(hit["id"], hit["kind"], hit.get("text", ""), spans)


def _leaves(query, words: set[str], phrases: list[tuple[str, ...]]) -> None:
    """The text terms and phrases that can match, leaving out negated parts."""
    if isinstance(query, wq.Term):
        if query.fieldname == "text":
            words.add(query.text)
    elif isinstance(query, wq.Phrase):
        if query.fieldname == "text":
            phrases.append(tuple(query.words))
    elif isinstance(query, wq.AndNot):
        _leaves(query.a, words, phrases)
    elif isinstance(query, wq.Not):
        return
    elif isinstance(query, wq.CompoundQuery):
        for child in query.subqueries:
            _leaves(child, words, phrases)


def _occurrences(searcher, term: str, docnum: int) -> dict[int, tuple[int, int]]:
    """Position → character span of ``term`` in one document."""
    postings = searcher.postings("text", term)
    postings.skip_to(docnum)
    if not postings.is_active() or postings.id() != docnum:
        return {}
    return {pos: (start, end) for pos, start, end in postings.value_as("characters")}


def spans_within(tree, interview_slug: str) -> dict[str, list[tuple[int, int]]]:
    """For one interview: document id → matched spans, for marking its page."""
    searcher = searchers.get()
    scoped = q.And((tree, q.Filter("interview", interview_slug)))
    compiled = compile_query(scoped, searcher)
    if compiled.query is None:
        return {}
    results = searcher.search(compiled.query, limit=None, terms=True)
    return {hit["id"]: _raw_hit(searcher, hit).spans for hit in results}


def has_results(tree) -> bool:
    searcher = searchers.get()
    compiled = compile_query(tree, searcher)
    if compiled.query is None:
        return False
    return next(iter(searcher.docs_for_query(compiled.query)), None) is not None


def correct(word: str) -> str | None:
    """A better-known spelling of ``word`` from the index, if it lacks it."""
    searcher = searchers.get()
    key = word.lower()
    if not key.isalpha() or searcher.doc_frequency("words", key) > 0:
        return None
    suggestions = searcher.corrector("words").suggest(key, limit=1)
    return suggestions[0] if suggestions else None
