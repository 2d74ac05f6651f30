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
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from django.db import close_old_connections, connection, connections, transaction
from django.db.models import Count, Sum

from archive.models import IndexQueue, Interview, Turn
from archive.search import hooks, index, segments, vectors
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


def drain(
    *, limit: int | None = None, lock_timeout: float | None = None, polite=False
) -> int:
    """Apply queued changes until the queue is empty, or until the batch
    (of up to ``BATCH_SIZE`` rows) that reaches ``limit`` rows.

    Returns the number of queue rows applied. Tests call this to make the
    index current synchronously; the consumer calls it in a loop. With the
    PostgreSQL engine there is no queue: nothing to do.
    """
    if hooks.postgres():
        return 0
    applied = 0
    with index.write_lock(timeout=lock_timeout, polite=polite):
        if index.needs_rebuild() or _backlog_is_large():
            # A missing index, or one built for another version, is filled
            # from the database; that covers every queued row. So is a
            # backlog as big as a good part of the archive (a corpus just
            # imported): a rebuild writes it in parallel, batches do not.
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


# A backlog of at least this many turns, and a quarter of the archive, is
# applied by rebuilding the index rather than batch by batch.
BACKLOG_REBUILD = 50_000


def _backlog_is_large() -> bool:
    queued_interviews = IndexQueue.objects.filter(kind=IndexQueue.Kind.INTERVIEW)
    turns = IndexQueue.objects.filter(kind=IndexQueue.Kind.TURN).count()
    turns += (
        Interview.objects.filter(
            pk__in=queued_interviews.values("object_id")
        ).aggregate(n=Sum("turn_count"))["n"]
        or 0
    )
    if turns < BACKLOG_REBUILD:
        return False
    archive = Interview.objects.aggregate(n=Sum("turn_count"))["n"] or 0
    return turns * 4 >= archive


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
                applied = drain(limit=1, lock_timeout=max(interval, 1.0), polite=True)
            except TimeoutError:
                applied = 0
            # With a backlog, pause just long enough for a waiting writer
            # (which polls every 50 ms) to take the lock.
            time.sleep(interval if applied < BATCH_SIZE else 0.1)
        except Exception:
            log.exception("index consumer: batch failed; retrying")
            connection.close()
            time.sleep(max(interval, 2.0))


# Documents per segment written by a rebuild: Whoosh sorts a segment's
# postings in memory up to REBUILD_MEMORY_MB and merges runs from disk beyond
# that, which is slow; smaller segments would make searches visit more.
REBUILD_SEGMENT = 50_000
REBUILD_MEMORY_MB = 2048
# Below this many turns a rebuild runs in one process; above it, one process
# per CPU core builds its share of the interviews as separate segments.
PARALLEL_FROM = 20_000


def rebuild(progress: Callable[[int, int], None] | None = None) -> str:
    """Build a new index from the database and switch to it atomically
    (with the PostgreSQL engine: write every search entry again).

    Holds the write lock throughout, so changes queued meanwhile wait in the
    queue and are applied to the new index once it serves. If anything
    fails, the old index keeps serving and the new one is deleted.
    """
    if hooks.postgres():
        turns = vectors.rebuild(progress)
        return f"of {turns:,} turns' PostgreSQL entries"
    with index.write_lock(rebuild=True):
        _rebuild_locked(progress)
    index.searchers.reset()
    return index.current_build()


def _rebuild_locked(progress: Callable[[int, int], None] | None) -> int:
    """``rebuild`` for a caller holding the write lock; returns the number of
    queue rows it covered."""
    build = index.new_build_id()
    try:
        index.create_build(build)
        # Rows queued before this point are covered by reading the database
        # now; later ones stay queued for the new index.
        with transaction.atomic():
            covered = list(IndexQueue.objects.values_list("pk", flat=True))
        counts = dict(
            Interview.objects.published()
            .annotate(n=Count("turns"))
            .values_list("pk", "n")
        )
        total = sum(counts.values())
        workers = (os.cpu_count() or 1) if total >= PARALLEL_FROM else 1
        if workers > 1:
            _build_in_processes(build, counts, workers, progress)
        else:
            done = _build_part(
                index.build_path(build), list(counts), None, progress, total
            )
            if progress:
                progress(done, total)
    except BaseException:
        shutil.rmtree(index.build_path(build), ignore_errors=True)
        raise
    index.switch_to(build)
    # In slices: a long queue would pass SQLite's limit on query
    # parameters, and the new index already serves.
    for start in range(0, len(covered), BATCH_SIZE):
        IndexQueue.objects.filter(pk__in=covered[start : start + BATCH_SIZE]).delete()
    return len(covered)


def _build_part(
    directory: Path,
    interview_ids: list[int],
    shared_count=None,
    progress: Callable[[int, int], None] | None = None,
    total: int = 0,
) -> int:
    """Index ``interview_ids`` into the Whoosh index at ``directory``."""
    ix = index.open_dir(directory)
    writer = index.writer(ix, memory_mb=REBUILD_MEMORY_MB)
    done = 0
    try:
        for interview_id in interview_ids:
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
                writer = index.writer(ix, memory_mb=REBUILD_MEMORY_MB)
            if shared_count is not None:
                with shared_count.get_lock():
                    shared_count.value = done
            elif progress:
                progress(done, total)
    except BaseException:
        writer.cancel()
        raise
    writer.commit(merge=False)
    return done


def _build_in_processes(build: str, counts: dict[int, int], workers: int, progress):
    """Each worker process writes its share into a folder of its own; the
    segments are then moved into the build and listed in one table of
    contents, as if one writer had written them all."""
    shares: list[list[int]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for pk, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        lightest = loads.index(min(loads))
        shares[lightest].append(pk)
        loads[lightest] += n
    context = multiprocessing.get_context("fork")
    connections.close_all()  # each process opens its own
    folders = [index.build_path(build) / f"part-{k}" for k in range(workers)]
    counters = [context.Value("q", 0) for _ in range(workers)]
    processes = []
    for folder, share, counter in zip(folders, shares, counters, strict=True):
        folder.mkdir()
        index.create_index_at(folder)
        process = context.Process(
            target=_part_process, args=(folder, sorted(share), counter)
        )
        process.start()
        processes.append(process)
    try:
        while any(p.is_alive() for p in processes):
            if progress:
                progress(sum(c.value for c in counters), sum(counts.values()))
            time.sleep(0.5)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
    failed = [p.exitcode for p in processes if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"a rebuild process failed (exit codes {failed})")
    if progress:
        progress(sum(c.value for c in counters), sum(counts.values()))
    index.combine_parts(build, folders)


def _part_process(folder: Path, interview_ids: list[int], counter) -> None:
    connections.close_all()
    try:
        _build_part(folder, interview_ids, counter)
    except BaseException:
        log.exception("rebuild process failed")
        raise
    finally:
        connections.close_all()


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


def _unlike_arrays(view) -> set[str]:
    """Ids of live documents whose segment arrays disagree with Whoosh."""
    unlike = set()
    for arrays, live, offset in view.segments:
        columns = {
            name: arrays.column(name).tolist()
            for name in ("pk", "kind", "interview", "position", "date")
        }
        for docnum in np.flatnonzero(live).tolist():
            stored = view.searcher.stored_fields(offset + docnum)
            kind = segments.KINDS[columns["kind"][docnum]]
            doc_id = ("i" if kind == "lede" else "t") + str(columns["pk"][docnum])
            if (
                doc_id != stored["id"]
                or kind != stored["kind"]
                or str(columns["interview"][docnum]) != stored.get("interview")
                or columns["position"][docnum] != stored.get("position", 0)
                or columns["date"][docnum] != stored.get("date", 0)
            ):
                unlike.add(stored["id"])
    return unlike


def check(*, repair: bool = False) -> dict[str, list[str]]:
    """Compare the index with the database, document by document.

    Missing: published content with no document. Stale: a document whose
    stored fields or filter terms (speaker, role, topics…) differ from what
    the database says now, or whose segment arrays (what searches read)
    differ from what Whoosh stored. Orphaned: a document for something
    deleted or unpublished. ``repair`` queues them all and drains the queue.
    With the PostgreSQL engine, ``vectors.check`` compares its entries.
    """
    if hooks.postgres():
        return vectors.check(repair=repair)
    expected: dict[str, dict] = {}
    for interview in Interview.objects.published().select_related("series"):
        for document in interview_documents(interview):
            expected[document["id"]] = _clean(document)
    try:
        ix = index.open_current()
    except index.IndexUnavailable:
        ix = None
    indexed, indexed_terms, unlike_arrays = {}, {}, set()
    if ix is not None:
        view = index.View(ix, {})
        reader = view.searcher.reader()
        filter_terms = _indexed_filter_terms(reader)
        for docnum, fields in reader.iter_docs():
            indexed[fields["id"]] = fields
            indexed_terms[fields["id"]] = filter_terms.get(
                docnum, {n: set() for n in _FILTERS}
            )
        unlike_arrays = _unlike_arrays(view)
        view.close()
    missing = sorted(set(expected) - set(indexed))
    orphaned = sorted(set(indexed) - set(expected))
    stale = sorted(
        doc_id
        for doc_id in set(expected) & set(indexed)
        if any(expected[doc_id].get(f) != indexed[doc_id].get(f) for f in _COMPARED)
        or _filter_terms(ix.schema, expected[doc_id]) != indexed_terms[doc_id]
        or doc_id in unlike_arrays
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
