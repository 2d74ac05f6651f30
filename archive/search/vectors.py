"""The PostgreSQL engine's write side: search entries kept with every change.

A turn's entry holds the terms our analyzer (``analysis``) gives its text,
each at its word position, as a ``tsvector`` literal: PostgreSQL stores and
indexes the terms, it never analyses text itself (its parsers would read
"U.S." as "u.s", stem before prefixes and drop stop words), and the
characters of each word position (``offsets``), so that a hit is marked
without analysing its text again. An interview's entry holds its title and
lede, as the Whoosh engine's lede document does.

The hooks (``archive.search.hooks``) call ``turns``, ``interviews`` and
``speakers`` inside the writing transaction, after the write, so an entry
commits or rolls back with the change it follows. The vocabulary
(``SearchTerm``: words as written, for suggestions and wildcards, and index
terms) is shared by every writer; it is added to without ever waiting on
another transaction's uncommitted words (see ``_write``).
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable
from itertools import accumulate

from django.db import DatabaseError, connection, transaction
from django.db.models import Count

from archive.models import Interview, SearchName, SearchTerm, Speaker, Turn
from archive.search import analysis
from archive.search.documents import plain_text, speaker_name_words

# tsvector limits: positions 1..16,383, 256 positions per term, terms under
# 2 kB, and the whole value under 1 MB.
MAX_POSITION = 16_383
MAX_POSITIONS_PER_TERM = 256
MAX_TERM_BYTES = 2_000
MAX_VECTOR_CHARS = 900_000
MAX_VOCABULARY_WORD = 100  # longer words are searchable, never suggested
BATCH = 2_000

_SPELLING = analysis.spelling_analyzer()


def quoted(term: str) -> str:
    """A term as a tsvector or tsquery literal lexeme."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def vector(text: str) -> tuple[str, set[str], bytes | None]:
    """(the tsvector literal of ``text``'s index terms, the terms, and the
    characters of each word position as ``offsets`` packs them)."""
    positions: dict[str, list[int]] = {}
    regions: list[tuple[int, int] | None] = []
    for term, position, start, end in analysis.index_spans(text):
        if position < MAX_POSITION:
            regions += [None] * (position + 1 - len(regions))
            region = regions[position]
            regions[position] = (
                (start, end) if region is None else (region[0], max(region[1], end))
            )
        if len(term.encode()) > MAX_TERM_BYTES:
            continue
        places = positions.setdefault(term, [])
        place = min(position + 1, MAX_POSITION)
        if len(places) < MAX_POSITIONS_PER_TERM and (not places or places[-1] != place):
            places.append(place)
    parts, size = [], 0
    for term, places in positions.items():
        part = f"{quoted(term)}:{','.join(map(str, places))}"
        size += len(part) + 1
        if size > MAX_VECTOR_CHARS:
            break  # a text of megabytes: its beginning is searchable
        parts.append(part)
    return " ".join(parts), set(positions), offsets(regions)


# A word position's characters are stored so that marking a hit reads them
# instead of analysing its text again: for each position in turn, the
# characters since the previous position's end and its own length, as
# 16-bit numbers (little-endian), whose running sums are the start and end
# offsets. A text with a gap or a word longer than that stores none.
_MAX_OFFSET_STEP = 0xFFFF


def offsets(regions: list[tuple[int, int] | None]) -> bytes | None:
    """The packed characters of each word position (None where a position
    has no term: it takes no characters)."""
    steps = array("H")
    at = 0
    for region in regions:
        start, end = region if region is not None else (at, at)
        if start - at > _MAX_OFFSET_STEP or end - start > _MAX_OFFSET_STEP:
            return None
        steps.append(start - at)
        steps.append(end - start)
        at = end
    if sys.byteorder == "big":
        steps.byteswap()
    return steps.tobytes()


def unpacked(packed: bytes, positions: int) -> list[int] | None:
    """Start and end offsets, alternately, of the first ``positions`` word
    positions of ``packed`` (None if it holds fewer)."""
    steps = array("H")
    steps.frombytes(packed[: 4 * positions])
    if len(steps) < 2 * positions:
        return None
    if sys.byteorder == "big":
        steps.byteswap()
    return list(accumulate(steps))


def words(text: str) -> set[str]:
    """The words of ``text`` as written (lower case), for the vocabulary."""
    return {
        span[0]
        for span in _SPELLING.spans(text)
        if span[0] and len(span[0]) <= MAX_VOCABULARY_WORD
    }


TURN_COLUMNS = ("pk", "interview_id", "speaker_id", "kind", "position", "body_html")


def turns(ids: Iterable[int]) -> None:
    """Write the entries of these turns (those that still exist)."""
    ids = sorted({i for i in ids if i is not None})
    for start in range(0, len(ids), BATCH):
        rows = Turn.objects.filter(pk__in=ids[start : start + BATCH]).values_list(
            *TURN_COLUMNS
        )
        write_turns(list(rows))


def all_turns(interview_ids: Iterable[int]) -> None:
    """Write the entries of every turn of these interviews."""
    for interview_id in sorted(set(interview_ids)):
        rows = Turn.objects.filter(interview_id=interview_id).values_list(*TURN_COLUMNS)
        write_turns(list(rows))


def turn_row(turn: Turn) -> tuple:
    """A saved turn as ``write_turns`` takes it, without reading it again."""
    return tuple(getattr(turn, name) for name in TURN_COLUMNS)


def write_turns(rows: list[tuple]) -> None:
    """Write entries for turn rows of ``TURN_COLUMNS``."""
    if not rows:
        return
    columns: list[list] = [[], [], [], [], [], [], []]
    vocabulary_words: set[str] = set()
    vocabulary_terms: set[str] = set()
    for pk, interview_id, speaker_id, kind, position, body_html in rows:
        text = plain_text(body_html)
        literal, terms, packed = vector(text)
        for column, value in zip(
            columns,
            (pk, interview_id, speaker_id, kind, position, literal, packed),
            strict=True,
        ):
            column.append(value)
        vocabulary_words |= words(text)
        vocabulary_terms |= terms
    _write(
        """
        INSERT INTO archive_searchentry
            (turn_id, interview_id, speaker_id, kind, position, vector, offsets)
        SELECT t, i, s, k, p, v::tsvector, o
        FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::text[],
                    %s::int[], %s::text[], %s::bytea[]) AS rows (t, i, s, k, p, v, o)
        ON CONFLICT (turn_id) DO UPDATE SET
            interview_id = EXCLUDED.interview_id,
            speaker_id = EXCLUDED.speaker_id,
            kind = EXCLUDED.kind,
            position = EXCLUDED.position,
            vector = EXCLUDED.vector,
            offsets = EXCLUDED.offsets
        """,
        columns,
        vocabulary_words,
        vocabulary_terms,
    )


def lede_text(title: str, lede_html: str) -> str:
    """An interview's entry text: title, blank line, lede (as documents.py)."""
    return f"{title}\n\n{plain_text(lede_html)}".strip()


def interviews(ids: Iterable[int], rows: list[tuple] | None = None) -> None:
    """Write the title-and-lede entries of these interviews (``rows`` of
    pk, title and lede_html when the caller has them)."""
    if rows is None:
        rows = list(
            Interview.objects.filter(pk__in=set(ids)).values_list(
                "pk", "title", "lede_html"
            )
        )
    if not rows:
        return
    pks, literals, packs = [], [], []
    vocabulary_words: set[str] = set()
    vocabulary_terms: set[str] = set()
    for pk, title, lede_html in rows:
        text = lede_text(title, lede_html)
        literal, terms, packed = vector(text)
        pks.append(pk)
        literals.append(literal)
        packs.append(packed)
        vocabulary_words |= words(text)
        vocabulary_terms |= terms
    _write(
        """
        INSERT INTO archive_searchentry
            (turn_id, interview_id, speaker_id, kind, position, vector, offsets)
        SELECT NULL, i, NULL, 'lede', 0, v::tsvector, o
        FROM unnest(%s::bigint[], %s::text[], %s::bytea[]) AS rows (i, v, o)
        ON CONFLICT (interview_id) WHERE turn_id IS NULL DO UPDATE SET
            vector = EXCLUDED.vector,
            offsets = EXCLUDED.offsets
        """,
        [pks, literals, packs],
        vocabulary_words,
        vocabulary_terms,
    )


def speakers(ids: Iterable[int]) -> None:
    """Write the name words of these speakers."""
    found = list(Speaker.objects.filter(pk__in=set(ids)))
    SearchName.objects.filter(speaker__in=found).delete()
    SearchName.objects.bulk_create(
        SearchName(speaker=speaker, word=word[:MAX_VOCABULARY_WORD])
        for speaker in found
        for word in sorted(set(speaker_name_words(speaker)))
    )


def _write(upsert: str, params: list, new_words: set[str], new_terms: set[str]):
    """Run ``upsert`` (entries) and add to the vocabulary what it lacks.

    The upsert and the question of which words are new are one statement.
    Two transactions adding the same new word would wait on each other (and,
    adding words in different orders across several statements, could
    deadlock), so new words are added inside a savepoint with a short lock
    timeout: a word another transaction is adding gives up at once, and the
    words are added again once this transaction has committed, outside it.
    """
    rows = sorted(
        [("w", w) for w in new_words]
        + [("t", t) for t in new_terms if len(t) <= MAX_VOCABULARY_WORD]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH written AS ({upsert} RETURNING 1)
            SELECT f, t FROM unnest(%s::text[], %s::text[]) AS rows (f, t)
            WHERE NOT EXISTS (
                SELECT 1 FROM archive_searchterm s WHERE s.field = f AND s.term = t
            )
            ORDER BY f, t
            """,
            [*params, [f for f, _ in rows], [t for _, t in rows]],
        )
        missing = cursor.fetchall()
    if not missing:
        return
    if not connection.in_atomic_block:
        _insert_vocabulary(missing)
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', '50ms', true)")
            _insert_vocabulary(missing, cursor)
            cursor.execute("SELECT set_config('lock_timeout', '0', true)")
    except DatabaseError:
        transaction.on_commit(lambda: _insert_vocabulary(missing))


def _insert_vocabulary(rows: list[tuple[str, str]], cursor=None) -> None:
    sql = """
        INSERT INTO archive_searchterm (field, term)
        SELECT f, t FROM unnest(%s::text[], %s::text[]) AS rows (f, t)
        ORDER BY f, t
        ON CONFLICT (field, term) DO NOTHING
    """
    params = [[f for f, _ in rows], [t for _, t in rows]]
    if cursor is not None:
        cursor.execute(sql, params)
        return
    with connection.cursor() as own:
        own.execute(sql, params)


def rebuild(progress=None) -> int:
    """Write every entry, name and vocabulary word again, an interview batch
    per transaction; returns the number of turns written.

    Each batch reads its turns ``FOR SHARE``, so an edit committed meanwhile
    waits for the batch and then writes its own entry after it: a rebuild
    never puts back an older text. Searches keep answering throughout.
    """
    with transaction.atomic():
        SearchTerm.objects.all().delete()
        speakers(Speaker.objects.values_list("pk", flat=True))
    counts = dict(Interview.objects.annotate(n=Count("turns")).values_list("pk", "n"))
    total, done = sum(counts.values()), 0
    batch: list[int] = []
    size = 0
    last = max(counts, default=None)
    for interview_id in sorted(counts):
        batch.append(interview_id)
        size += counts[interview_id]
        if size >= BATCH or interview_id == last:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM archive_turn WHERE interview_id = ANY(%s) "
                    "ORDER BY id FOR SHARE",
                    [batch],
                )
                interviews(batch)
                all_turns(batch)
            done += size
            if progress is not None:
                progress(done, total)
            batch, size = [], 0
    return done


def check(*, repair: bool = False) -> dict[str, list[str]]:
    """Entries missing or out of step with their turns (``check_index``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT 't' || t.id FROM archive_turn t
            LEFT JOIN archive_searchentry e ON e.turn_id = t.id
            WHERE e.id IS NULL
            UNION ALL
            SELECT 'i' || i.id FROM archive_interview i
            WHERE NOT EXISTS (SELECT 1 FROM archive_searchentry e
                              WHERE e.interview_id = i.id AND e.turn_id IS NULL)
            """
        )
        missing = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            """
            SELECT 't' || t.id FROM archive_turn t
            JOIN archive_searchentry e ON e.turn_id = t.id
            WHERE (e.interview_id, e.speaker_id, e.kind, e.position)
                IS DISTINCT FROM (t.interview_id, t.speaker_id, t.kind, t.position)
            """
        )
        stale = [row[0] for row in cursor.fetchall()]
    if repair:
        with transaction.atomic():
            wrong = missing + stale
            turns(int(x[1:]) for x in wrong if x[0] == "t")
            interviews(int(x[1:]) for x in wrong if x[0] == "i")
    return {"missing": missing, "stale": stale, "orphaned": []}
