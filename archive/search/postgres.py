"""The PostgreSQL engine: the same query plans, answered by SQL.

Selected with ``ARCHIVE_SEARCH_BACKEND=postgres``. Nothing lives outside the
database: the entries (``SearchEntry``, written by ``vectors`` in each
change's own transaction) hold our analyzer's terms as a ``tsvector`` under a
GIN index, so every app server sees a commit at once. Drafts have entries
too; every query here joins the interview and keeps the published ones, as
well as leaving out what the front calls hidden.

1. ``plan.compile_plan`` turns the tree into the plan the Whoosh engine uses,
   asking ``_Vocabulary`` (the ``SearchTerm`` and ``SearchName`` tables).
2. ``_Sql`` turns the plan into one WHERE clause: runs of words, phrases and
   their negations become a single ``tsquery`` (built from quoted terms, so
   PostgreSQL never re-analyses them); filters and dates are SQL on the
   entry and its interview.
3. One statement materialises the matches once and returns the page (ranked
   by ``ts_rank_cd`` over the plan's positive terms and phrases, ledes
   halved as in the Whoosh engine, or by date), the exact total and the
   facet counts. A ``statement_timeout`` from the search's budget bounds it.
4. The page's hits are marked by our own highlighter, from the positions
   of the plan's terms in each hit's vector (returned by the page query)
   and the characters of each word position its entry stores: no text is
   analysed again, unless it is past what a ``tsvector`` keeps.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.utils import InterfaceError

from archive.search import analysis
from archive.search.documents import plain_text
from archive.search.engine import FACETS, Budget, BudgetExceeded, Hit, Marks, Page
from archive.search.plan import Plan, compile_plan
from archive.search.vectors import (
    MAX_POSITION,
    MAX_POSITIONS_PER_TERM,
    lede_text,
    quoted,
    unpacked,
)

log = logging.getLogger(__name__)

LEDE_WEIGHT = 0.5  # as the Whoosh engine: an introduction leads only clearly
# ts_rank_cd normalisation: divide by 1 + log(length), so long turns that
# mention a word once do not outrank short ones about it.
RANK_NORMALIZATION = 1
TOO_BROAD = (
    "This search was too broad to finish in time: it could not be counted or "
    "ranked. Add words or a filter to narrow it."
)
UNAVAILABLE = (
    "The search cannot be answered just now, so nothing can be found; "
    "please try again in a few minutes."
)
_MISSING = (
    "The search entries have not been built yet (manage.py rebuild_index), "
    "so nothing can be found until that is done."
)
_FETCH = 100  # vocabulary rows read at a time when expanding a wildcard


# The compiler's questions ------------------------------------------------------


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class _Vocabulary:
    """``plan.Vocabulary`` answered from the vocabulary and name tables."""

    def __init__(self, cursor):
        self.cursor = cursor

    def is_name_word(self, word: str) -> bool:
        self.cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM archive_searchname WHERE word = %s)", [word]
        )
        return self.cursor.fetchone()[0]

    def one_speaker(self, words: list[str], budget: Budget) -> bool:
        budget.charge(len(words))
        self.cursor.execute(
            """
            SELECT EXISTS (
                SELECT 1 FROM archive_searchname WHERE word = ANY(%s)
                GROUP BY speaker_id HAVING count(DISTINCT word) = %s
            )
            """,
            [list(words), len(set(words))],
        )
        return self.cursor.fetchone()[0]

    def has_term(self, term: str) -> bool:
        self.cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM archive_searchterm "
            "WHERE field = 't' AND term = %s)",
            [term],
        )
        return self.cursor.fetchone()[0]

    def words_from(self, prefix: str) -> Iterator[str]:
        return self._from("w", prefix)

    def terms_from(self, prefix: str) -> Iterator[str]:
        return self._from("t", prefix)

    def _from(self, field: str, prefix: str) -> Iterator[str]:
        # In byte order, as Whoosh lists its terms, a page at a time: the
        # compiler stops at PREFIX_CAP terms.
        after = ""
        while True:
            self.cursor.execute(
                """
                SELECT term FROM archive_searchterm
                WHERE field = %s AND term LIKE %s AND term COLLATE "C" > %s
                ORDER BY term COLLATE "C" LIMIT %s
                """,
                [field, _like_prefix(prefix), after, _FETCH],
            )
            rows = [row[0] for row in self.cursor.fetchall()]
            yield from rows
            if len(rows) < _FETCH:
                return
            after = rows[-1]


# Plans to SQL ----------------------------------------------------------------------


_TEXT = ("term", "phrase")
_FILTERS = {
    "speaker_names": "e.speaker_id IN "
    "(SELECT speaker_id FROM archive_searchname WHERE word = %s)",
    "interview_slug": "i.slug = %s",
    "series": "i.series_id IN (SELECT id FROM archive_series WHERE slug = %s)",
    "topics": "e.interview_id IN (SELECT it.interview_id "
    "FROM archive_interview_topics it JOIN archive_topic t ON t.id = it.topic_id "
    "WHERE t.slug = %s)",
    "role": "EXISTS (SELECT 1 FROM archive_participant p "
    "WHERE p.interview_id = e.interview_id AND p.speaker_id = e.speaker_id "
    "AND p.role = %s)",
    "kind": "e.kind = %s",
}
# The interview's date as YYYYMMDD, the form the plan's bounds take.
_DATE = "(to_char(i.date, 'YYYYMMDD')::int BETWEEN %s AND %s)"


def _text_only(node) -> bool:
    kind = node[0]
    if kind in _TEXT:
        return True
    if kind == "or":
        return all(_text_only(c) for c in node[1])
    if kind == "and":
        return bool(node[1]) and all(_text_only(c) for c in node[1] + node[2])
    return False


def tsquery(node) -> str:
    """A plan node of words and phrases only, as a tsquery literal."""
    kind = node[0]
    if kind == "term":
        return quoted(node[1])
    if kind == "phrase":
        return "(" + " <-> ".join(quoted(t) for t in node[1]) + ")"
    if kind == "or":
        return "(" + " | ".join(tsquery(c) for c in node[1]) + ")"
    parts = [tsquery(c) for c in node[1]] + [f"!{tsquery(c)}" for c in node[2]]
    return "(" + " & ".join(parts) + ")"


def where(node) -> tuple[str, list]:
    """A plan node as a condition on entry ``e`` and its interview ``i``."""
    if _text_only(node):
        return "e.vector @@ %s::tsquery", [tsquery(node)]
    kind = node[0]
    if kind == "filter":
        return _FILTERS[node[1]], [node[2]]
    if kind == "date":
        return _DATE, [node[1], node[2]]
    if kind == "none":
        return "FALSE", []
    if kind == "or":
        parts = [where(c) for c in node[1]]
        return _joined(" OR ", parts)
    if kind == "and":
        # Words and phrases among the positives are one tsquery, which the
        # GIN index answers in one pass.
        words = tuple(c for c in node[1] if _text_only(c))
        parts = []
        if words:
            parts.append(
                where(("and", words, ())) if len(words) > 1 else where(words[0])
            )
        parts += [where(c) for c in node[1] if not _text_only(c)]
        parts += [(f"NOT ({sql})", params) for sql, params in map(where, node[2])]
        if not parts:
            return "TRUE", []
        return _joined(" AND ", parts)
    raise TypeError(f"unknown plan node {node!r}")


def _joined(operator: str, parts: list[tuple[str, list]]) -> tuple[str, list]:
    sql = operator.join(f"({s})" for s, _ in parts)
    return sql, [p for _, params in parts for p in params]


def rank_query(plan: Plan) -> str | None:
    """What a match is ranked by: any of the positive terms and phrases."""
    parts = [tsquery(("term", t)) for t in plan.terms]
    parts += [tsquery(("phrase", p)) for p in plan.phrases]
    return " | ".join(parts) if parts else None


# Marking ----------------------------------------------------------------------------


def spans(text: str, plan: Plan) -> list[tuple[int, int]]:
    """The character spans of ``plan``'s matches in ``text``: each term
    wherever it occurs, a phrase's words only where they form it."""
    terms = set(plan.terms)
    found: list[tuple[int, int]] = []
    at: dict[str, dict[int, tuple[int, int]]] = {}
    wanted = {t for p in plan.phrases for t in p}
    for term, position, start, end in analysis.marking_spans(text, terms | wanted):
        if term in terms:
            found.append((start, end))
        if term in wanted:
            at.setdefault(term, {}).setdefault(position, (start, end))
    for phrase in plan.phrases:
        first = at.get(phrase[0], {})
        for position in first:
            places = [at.get(t, {}).get(position + i) for i, t in enumerate(phrase)]
            if all(places):
                found += places
    return found


# The engine's calls ----------------------------------------------------------------


@contextmanager
def _bounded(budget: Budget):
    """A cursor in a transaction (or savepoint) whose statements stop when
    the search's time budget ends (``statement_timeout``, set locally and
    put back); a statement stopped by it raises ``BudgetExceeded``."""
    left = max(budget.deadline - time.monotonic(), 0.05)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('statement_timeout'), "
                "set_config('statement_timeout', %s, true)",
                [f"{int(left * 1000)}ms"],
            )
            before = cursor.fetchone()[0]
            yield cursor
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [before])
    except OperationalError as exc:
        if _cancelled(exc):
            raise BudgetExceeded from exc
        raise


_PAGE = """
WITH m AS MATERIALIZED (
    SELECT e.id, e.turn_id, e.interview_id, e.speaker_id, e.kind, e.position,
           i.date, {score} AS score
    FROM archive_searchentry e JOIN archive_interview i ON i.id = e.interview_id
    WHERE ({where}) AND i.published AND e.interview_id <> ALL(%(hidden)s)
), best AS (
    SELECT * FROM m ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s
), page AS (
    SELECT *, row_number() OVER (ORDER BY {order}) AS n FROM best
)
SELECT 'hit', page.turn_id, page.interview_id, page.kind,
       coalesce(t.body_html, pi.lede_html), pi.title, page.n, pe.offsets,
       {found} AS found
FROM page
LEFT JOIN archive_turn t ON t.id = page.turn_id
JOIN archive_interview pi ON pi.id = page.interview_id
JOIN archive_searchentry pe ON pe.id = page.id
{facets}
"""
_FACETS = """
UNION ALL SELECT 'total', NULL, NULL, NULL, NULL, NULL, count(*), NULL, NULL FROM m
UNION ALL SELECT 'speaker', NULL, NULL, NULL, s.slug, NULL, count(*), NULL, NULL
    FROM m JOIN archive_speaker s ON s.id = m.speaker_id GROUP BY s.slug
UNION ALL SELECT 'series', NULL, NULL, NULL, se.slug, NULL, count(*), NULL, NULL
    FROM m JOIN archive_interview si ON si.id = m.interview_id
    JOIN archive_series se ON se.id = si.series_id GROUP BY se.slug
UNION ALL SELECT 'topic', NULL, NULL, NULL, tp.slug, NULL, count(*), NULL, NULL
    FROM m JOIN archive_interview_topics it ON it.interview_id = m.interview_id
    JOIN archive_topic tp ON tp.id = it.topic_id GROUP BY tp.slug
UNION ALL SELECT 'year', NULL, NULL, NULL, extract(year FROM m.date)::int::text,
    NULL, count(*), NULL, NULL FROM m WHERE m.date IS NOT NULL GROUP BY 5
"""
# The positions of the terms a hit is marked for, read from its vector.
_FOUND = """(
    SELECT json_object_agg(u.lexeme, u.positions) FROM unnest({vector}) AS u
    WHERE u.lexeme = ANY(%(marked)s::text[])
)"""
_ORDERS = {
    "relevance": "score DESC, interview_id, position",
    "newest": "date DESC NULLS LAST, position, interview_id",
    "oldest": "date ASC NULLS LAST, position, interview_id",
}


def _score(plan: Plan, sort: str) -> tuple[str, list]:
    ranked = rank_query(plan) if sort == "relevance" else None
    if ranked is None:
        return "0.0", []
    return (
        f"ts_rank_cd(e.vector, %(rank)s::tsquery, {RANK_NORMALIZATION}) "
        f"* CASE WHEN e.turn_id IS NULL THEN {LEDE_WEIGHT} ELSE 1 END",
        [ranked],
    )


def _named(sql: str, params: list) -> tuple[str, dict]:
    """``%s`` placeholders renamed ``%(pN)s``, for a statement that also has
    named ones."""
    named: dict = {}
    pieces = sql.split("%s")
    out = pieces[0]
    for i, piece in enumerate(pieces[1:]):
        named[f"p{i}"] = params[i]
        out += f"%(p{i})s" + piece
    return out, named


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
    """One page of hits for ``tree``, the exact total and facet counts over
    entries outside ``hidden`` interviews (``spans=False``: hits without
    the spans of their matches, for exports)."""
    budget = budget or Budget()
    page = Page()
    try:
        with _bounded(budget) as cursor:
            plan = compile_plan(tree, _Vocabulary(cursor), budget)
            page.notices += plan.notices
            page.words = plan.words
            if plan.node is None:
                return page
            _charge_estimate(cursor, budget, *where(plan.node))
            rows = _page_rows(
                cursor, plan, sort, offset, limit, hidden, facets=True, with_spans=spans
            )
    except BudgetExceeded:
        return _too_broad(page)
    facets: dict[str, Counter] = {name: Counter() for name in FACETS}
    hits = sorted((row for row in rows if row[0] == "hit"), key=lambda row: row[6])
    for _, turn_id, interview_id, kind, text, title, _, packed, found in hits:
        hit = _hit(turn_id, interview_id, kind, text, title)
        if spans:
            hit.spans = snippet_spans(hit.text, plan, packed, found)
        page.hits.append(hit)
    for part, _, _, _, text, _, count, _, _ in rows:
        if part == "hit":
            continue
        if part == "total":
            page.total = int(count)
        else:
            facets[part][text] += int(count)
    page.facets = facets
    return page


def _charge_estimate(cursor, budget: Budget, condition: str, params: list) -> None:
    """Charge the budget with the matches the planner expects: the same
    work allowance as the Whoosh engine's postings, known before the work
    is done (the statement timeout stops what the estimate misjudges)."""
    cursor.execute(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM archive_searchentry e "
        f"JOIN archive_interview i ON i.id = e.interview_id WHERE {condition}",
        params,
    )
    plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    budget.charge(int(plan[0]["Plan"]["Plan Rows"]))


def _page_rows(cursor, plan, sort, offset, limit, hidden, facets: bool, with_spans):
    condition, condition_params = where(plan.node)
    score, score_params = _score(plan, sort)
    condition, params = _named(condition, condition_params)
    if score_params:
        params["rank"] = score_params[0]
    marked = marked_terms(plan) if with_spans else []
    params.update(hidden=sorted(hidden), limit=limit, offset=offset, marked=marked)
    sql = _PAGE.format(
        score=score,
        where=condition,
        order=_ORDERS[sort],
        found=_FOUND.format(vector="pe.vector") if marked else "NULL",
        facets=_FACETS if facets else "",
    )
    cursor.execute(sql, params)
    return cursor.fetchall()


def _hit(turn_id, interview_id, kind, html_text, title) -> Hit:
    text = _entry_text(turn_id, html_text, title)
    if turn_id is None:
        return Hit(kind="lede", pk=interview_id, text=text, spans=[])
    return Hit(kind=kind, pk=turn_id, text=text, spans=[])


def _entry_text(turn_id, html_text, title) -> str:
    """The plain text an entry was written from: a turn's, or an
    interview's title and lede."""
    if turn_id is None:
        return lede_text(title, html_text or "")
    return plain_text(html_text or "")


def marked_terms(plan: Plan) -> list[str]:
    """The terms whose positions mark a hit: the plan's positive terms and
    its phrases' words."""
    return sorted(set(plan.terms) | {t for p in plan.phrases for t in p})


def stored_spans(
    text: str, plan: Plan, packed: bytes | None, found: dict | None
) -> list[tuple[int, int]] | None:
    """``spans(text, plan)`` read from the entry instead of analysing the
    text: ``found`` holds the positions of the marked terms in its vector,
    ``packed`` its word positions' characters. None when they cannot say
    (no packed characters, or positions past what a tsvector keeps)."""
    if packed is None:
        return None
    found = found or {}
    last = 0
    for places in found.values():
        if len(places) >= MAX_POSITIONS_PER_TERM or places[-1] >= MAX_POSITION:
            return None
        last = max(last, places[-1])
    bounds = unpacked(bytes(packed), last)
    if bounds is None:
        return None

    def span(term: str, place: int) -> tuple[int, int]:
        start, end = bounds[2 * place - 2], bounds[2 * place - 1]
        return analysis.term_span(text, start, end, term)

    marked: list[tuple[int, int]] = []
    for term in plan.terms:
        marked += [span(term, place) for place in found.get(term, ())]
    for phrase in plan.phrases:
        for place in found.get(phrase[0], ()):
            if all(place + i in found.get(t, ()) for i, t in enumerate(phrase)):
                marked += [span(t, place + i) for i, t in enumerate(phrase)]
    return marked


# A hit's spans serve its snippet (``highlight.snippet``: about 280
# characters around its densest cluster of matches). In a text longer than
# LONG_TEXT only the region around the densest cluster of candidate words
# (words that begin as a searched term must) is analysed, with MARGIN on
# either side; when that region holds no match after all (a match only the
# analyzer sees, such as "U.S." for "united states"), the whole text is.
LONG_TEXT = 1_200
WINDOW = 280
MARGIN = 400


def snippet_spans(
    text: str, plan: Plan, packed: bytes | None = None, found: dict | None = None
) -> list[tuple[int, int]]:
    """The spans a hit's snippet needs: read from its entry where it can
    say (see ``stored_spans``), else found without analysing all of a long
    text."""
    stored = stored_spans(text, plan, packed, found)
    if stored is not None:
        return stored
    if len(text) <= LONG_TEXT:
        return spans(text, plan)
    terms = marked_terms(plan)
    starts = {t[: max(len(t) - analysis.STEM_ENDING, 1)] for t in terms}
    if not starts:
        return []
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(starts))) + ")", re.IGNORECASE
    )
    offsets = [m.start() for m in pattern.finditer(text)]
    if offsets:
        best, most, j = offsets[0], 0, 0
        for i, offset in enumerate(offsets):
            while j < len(offsets) and offsets[j] < offset + WINDOW:
                j += 1
            if j - i > most:
                best, most = offset, j - i
        start = text.rfind(" ", 0, max(best - MARGIN, 0)) + 1
        end = text.find(" ", min(best + WINDOW + MARGIN, len(text)))
        end = len(text) if end == -1 else end
        found = spans(text[start:end], plan)
        if found:
            return [(a + start, b + start) for a, b in found]
    return spans(text, plan)


def _too_broad(page: Page) -> Page:
    page.hits = []
    page.total, page.facets, page.complete = None, None, False
    page.notices.append(TOO_BROAD)
    return page


def _cancelled(exc: Exception) -> bool:
    """Whether the statement timeout (or a lock timeout) stopped a query."""
    code = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
    return code in ("57014", "55P03")


def marks(tree, interview_pk: int, budget: Budget | None = None) -> Marks:
    """The spans of ``tree``'s matches in one interview, for marking its page."""
    budget = budget or Budget()
    result = Marks()
    try:
        with _bounded(budget) as cursor:
            plan = compile_plan(tree, _Vocabulary(cursor), budget)
            if plan.node is None:
                return result
            condition, params = where(plan.node)
            condition, named = _named(condition, params)
            marked = marked_terms(plan)
            cursor.execute(
                f"""
                SELECT e.turn_id, coalesce(t.body_html, i.lede_html), i.title,
                       e.offsets, {_FOUND.format(vector="e.vector")}
                FROM archive_searchentry e
                JOIN archive_interview i ON i.id = e.interview_id
                LEFT JOIN archive_turn t ON t.id = e.turn_id
                WHERE e.interview_id = %(interview)s AND i.published
                AND ({condition})
                """,
                {**named, "interview": interview_pk, "marked": marked},
            )
            rows = cursor.fetchall()
    except BudgetExceeded:
        return result
    for turn_id, html_text, title, packed, found in rows:
        text = _entry_text(turn_id, html_text, title)
        where_found = stored_spans(text, plan, packed, found)
        if where_found is None:
            where_found = spans(text, plan)
        if turn_id is None:
            result.lede = where_found
        else:
            result.turns[turn_id] = where_found
    return result


def has_results(tree, hidden: frozenset[int] = frozenset(), budget=None) -> bool:
    budget = budget or Budget()
    try:
        with _bounded(budget) as cursor:
            plan = compile_plan(tree, _Vocabulary(cursor), budget)
            if plan.node is None:
                return False
            condition, params = where(plan.node)
            cursor.execute(
                f"""
                SELECT EXISTS (
                    SELECT 1 FROM archive_searchentry e
                    JOIN archive_interview i ON i.id = e.interview_id
                    WHERE ({condition}) AND i.published
                    AND e.interview_id <> ALL(%s)
                )
                """,
                [*params, sorted(hidden)],
            )
            return cursor.fetchone()[0]
    except BudgetExceeded:
        return False


def correct(word: str, budget: Budget | None = None) -> str | None:
    """A better-known spelling of ``word``, if no text has it as written:
    the closest word within two edits that starts as it does (trigram
    similarity picks the candidates, ``pg_trgm``)."""
    budget = budget or Budget()
    key = word.lower()
    if not key.isalpha() or len(key) > 30:
        return None
    budget.charge(1000)
    keep = 2 if len(key) > 4 else 1
    try:
        with _bounded(budget) as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM archive_searchterm "
                "WHERE field = 'w' AND term = %s)",
                [key],
            )
            if cursor.fetchone()[0]:
                return None
            cursor.execute(
                "SELECT set_config('pg_trgm.similarity_threshold', '0.2', true)"
            )
            cursor.execute(
                """
                SELECT term FROM archive_searchterm
                WHERE field = 'w' AND term %% %s AND left(term, %s) = left(%s, %s)
                ORDER BY similarity(term, %s) DESC, term LIMIT 20
                """,
                [key, keep, key, keep, key],
            )
            candidates = [row[0] for row in cursor.fetchall()]
    except BudgetExceeded:
        return None
    budget.charge(1000)
    best = None
    for candidate in candidates:
        distance = edit_distance(key, candidate)
        if distance <= 2 and (best is None or distance < best[0]):
            best = (distance, candidate)
    return best[1] if best else None


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions, as the
    Whoosh engine's corrector counts them (a transposition is two edits)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            )
        previous = current
    return previous[-1]


def health() -> str | None:
    """Why this engine cannot answer now (for /healthz), or None."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM archive_turn) "
                "AND NOT EXISTS (SELECT 1 FROM archive_searchentry)"
            )
            if cursor.fetchone()[0]:
                return "search entries missing: run manage.py rebuild_index"
    except (DatabaseError, InterfaceError) as exc:
        return f"search unavailable: {str(exc).strip() or type(exc).__name__}"
    return None
