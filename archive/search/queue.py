"""Keeping the index true to the database.

Every change that matters to search writes an ``IndexQueue`` row in its own
transaction (see ``archive.models``). One consumer at a time (the write lock)
takes rows in batches, reads the current state of what they name, applies it
to the index, commits, and only then deletes the rows: a crash between the
two re-applies a batch, which is harmless because applying is idempotent.

``rebuild`` writes a whole new index beside the serving one while holding the
same lock, so queued changes wait and are then applied to the new index.
"""

import logging
import shutil
import time
from collections.abc import Callable

from django.db import close_old_connections, connection, transaction

from archive.models import IndexQueue, Interview, Turn
from archive.search import index
from archive.search.documents import interview_documents, turn_documents
from archive.search.writer import Writer

log = logging.getLogger(__name__)

BATCH_SIZE = 2000


def _clean(document: dict) -> dict:
    # Whoosh indexes "" as a term; an absent value is what we mean.
    return {k: v for k, v in document.items() if v != ""}


def _apply(writer: Writer, rows: list[IndexQueue]) -> int:
    """Bring the index in line with the database for what ``rows`` name."""
    interviews = {r.object_id for r in rows if r.kind == IndexQueue.Kind.INTERVIEW}
    speakers = {r.object_id for r in rows if r.kind == IndexQueue.Kind.SPEAKER}
    turns = {r.object_id for r in rows if r.kind == IndexQueue.Kind.TURN}
    if speakers:
        turns |= set(
            Turn.objects.filter(speaker_id__in=speakers).values_list("pk", flat=True)
        )
    written = 0
    for interview_id in sorted(interviews):
        writer.delete_by_term("interview", str(interview_id))
        interview = (
            Interview.objects.published()
            .select_related("series")
            .filter(pk=interview_id)
            .first()
        )
        if interview is not None:
            for document in interview_documents(interview):
                writer.add(_clean(document))
                written += 1
    if interviews:
        turns -= set(
            Turn.objects.filter(interview_id__in=interviews).values_list(
                "pk", flat=True
            )
        )
    turn_list = sorted(turns)
    for start in range(0, len(turn_list), BATCH_SIZE):
        documents, gone = turn_documents(turn_list[start : start + BATCH_SIZE])
        for turn_id in gone:
            writer.delete_by_term("id", f"t{turn_id}")
        for document in documents:
            writer.update(_clean(document))
            written += 1
    return written


def drain(*, limit: int | None = None, lock_timeout: float | None = None) -> int:
    """Apply queued changes until the queue is empty, or until the batch
    (of up to ``BATCH_SIZE`` rows) that reaches ``limit`` rows.

    Returns the number of queue rows applied. Tests call this to make the
    index current synchronously; the consumer calls it in a loop.
    """
    applied = 0
    with index.write_lock(timeout=lock_timeout):
        if index.needs_rebuild():
            # A missing index, or one built for another version, is filled
            # from the database; that covers every queued row.
            return _rebuild_locked(None)
        ix = index.open_current_locked()
        while limit is None or applied < limit:
            rows = list(IndexQueue.objects.order_by("pk")[:BATCH_SIZE])
            if not rows:
                break
            writer = index.writer(ix)
            try:
                _apply(writer, rows)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            # Only now, with the index committed, may the rows go.
            IndexQueue.objects.filter(pk__in=[r.pk for r in rows]).delete()
            applied += len(rows)
    return applied


def run_consumer(
    *, interval: float = 0.5, should_stop: Callable[[], bool] = lambda: False
) -> None:
    """Drain the queue forever (``manage.py index_worker``)."""
    log.info("index consumer started")
    while not should_stop():
        try:
            close_old_connections()
            try:
                # One batch (limit=1) per hold of the lock: while edits keep
                # coming, draining until the queue is empty would keep the
                # lock for as long and starve a rebuild. The wait is bounded
                # so that a consumer queued behind another writer still
                # stops when asked to.
                applied = drain(limit=1, lock_timeout=max(interval, 1.0))
            except TimeoutError:
                applied = 0
            # With a backlog, pause just long enough for a waiting writer
            # (which polls every 50 ms) to take the lock.
            time.sleep(interval if applied < BATCH_SIZE else 0.1)
        except Exception:
            log.exception("index consumer: batch failed; retrying")
            connection.close()
            time.sleep(max(interval, 2.0))


# Documents per segment written by a rebuild: big enough that a search visits
# few segments, small enough that a segment's arrays are built in memory.
REBUILD_SEGMENT = 250_000


def rebuild(progress: Callable[[int, int], None] | None = None) -> str:
    """Build a new index from the database and switch to it atomically.

    Holds the write lock throughout, so changes queued meanwhile wait in the
    queue and are applied to the new index once it serves. If anything
    fails, the old index keeps serving and the new one is deleted.
    """
    with index.write_lock():
        _rebuild_locked(progress)
    index.searchers.reset()
    return index.current_build()


def _rebuild_locked(progress: Callable[[int, int], None] | None) -> int:
    """``rebuild`` for a caller holding the write lock; returns the number of
    queue rows it covered."""
    build = index.new_build_id()
    try:
        ix = index.create_build(build)
        # Rows queued before this point are covered by reading the database
        # now; later ones stay queued for the new index.
        with transaction.atomic():
            covered = list(IndexQueue.objects.values_list("pk", flat=True))
        interviews = list(Interview.objects.published().values_list("pk", flat=True))
        total = Turn.objects.filter(interview__published=True).count()
        writer = index.writer(ix)
        done = 0
        try:
            for interview_id in interviews:
                interview = (
                    Interview.objects.published()
                    .select_related("series")
                    .filter(pk=interview_id)
                    .first()
                )
                if interview is None:
                    continue  # deleted or unpublished meanwhile (queued)
                for document in interview_documents(interview):
                    writer.add(_clean(document))
                    if document["kind"] != "lede":
                        done += 1
                if writer.added >= REBUILD_SEGMENT:
                    writer.commit(merge=False)
                    writer = index.writer(ix)
                if progress:
                    progress(done, total)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(merge=False)
    except BaseException:
        shutil.rmtree(index.build_path(build), ignore_errors=True)
        raise
    index.switch_to(build)
    # In slices: a long queue would pass SQLite's limit on query
    # parameters, and the new index already serves.
    for start in range(0, len(covered), BATCH_SIZE):
        IndexQueue.objects.filter(pk__in=covered[start : start + BATCH_SIZE]).delete()
    return len(covered)


_COMPARED = ("kind", "interview", "speaker", "anchor", "position", "date", "text")
# Filter fields are indexed but not stored: compared term by term.
_FILTERS = ("interview_slug", "speaker_names", "role", "series", "topics")


def _filter_terms(schema, document: dict) -> dict[str, set[str]]:
    """The terms ``document`` would have in each filter field."""
    return {
        name: set(schema[name].process_text(document[name], mode="index"))
        if document.get(name)
        else set()
        for name in _FILTERS
    }


def _indexed_filter_terms(reader) -> dict[int, dict[str, set[str]]]:
    """Document number → the terms it has in each filter field."""
    terms: dict[int, dict[str, set[str]]] = {}
    for name in _FILTERS:
        for term in reader.lexicon(name):
            text = term.decode("utf-8")
            for docnum in reader.postings(name, term).all_ids():
                fields = terms.setdefault(docnum, {n: set() for n in _FILTERS})
                fields[name].add(text)
    return terms


def check(*, repair: bool = False) -> dict[str, list[str]]:
    """Compare the index with the database, document by document.

    Missing: published content with no document. Stale: a document whose
    stored fields or filter terms (speaker, role, topics…) differ from what
    the database says now. Orphaned: a document for something deleted or
    unpublished. ``repair`` queues them all and drains the queue.
    """
    expected: dict[str, dict] = {}
    for interview in Interview.objects.published().select_related("series"):
        for document in interview_documents(interview):
            expected[document["id"]] = _clean(document)
    ix = index.open_current()
    with ix.searcher() as searcher:
        reader = searcher.reader()
        filter_terms = _indexed_filter_terms(reader)
        indexed, indexed_terms = {}, {}
        for docnum, fields in reader.iter_docs():
            indexed[fields["id"]] = fields
            indexed_terms[fields["id"]] = filter_terms.get(
                docnum, {n: set() for n in _FILTERS}
            )
    missing = sorted(set(expected) - set(indexed))
    orphaned = sorted(set(indexed) - set(expected))
    stale = sorted(
        doc_id
        for doc_id in set(expected) & set(indexed)
        if any(expected[doc_id].get(f) != indexed[doc_id].get(f) for f in _COMPARED)
        or _filter_terms(ix.schema, expected[doc_id]) != indexed_terms[doc_id]
    )
    report = {"missing": missing, "stale": stale, "orphaned": orphaned}
    if repair and (missing or stale or orphaned):
        rows = []
        for doc_id in missing + stale + orphaned:
            kind = (
                IndexQueue.Kind.TURN if doc_id[0] == "t" else IndexQueue.Kind.INTERVIEW
            )
            rows.append(IndexQueue(kind=kind, object_id=int(doc_id[1:])))
        IndexQueue.objects.bulk_create(rows, batch_size=1000)
        drain()
    return report
