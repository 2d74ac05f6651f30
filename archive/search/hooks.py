"""The one place that knows which changes the search index must hear about
(and so the cached pages, ``archive.pages``, which show the same data).

Every write path calls a hook here inside its own transaction, so the queue
row (``IndexQueue``) commits or rolls back with the change: model ``save()``
and ``delete()``, and the QuerySet methods Django sends no signal for
(``update``, ``delete``, ``bulk_create``, ``bulk_update``). The models stay
thin callers; which fields are indexed, and when a bulk change is queued per
interview rather than per turn, is decided here. The consumer
(``archive.search.queue``) reads the current state of what a row names.

The receivers at the end cover changes with no save() of ours: topics added
to or removed from interviews, and topics or series deleted.

With the PostgreSQL engine (``ARCHIVE_SEARCH_BACKEND=postgres``) there is no
queue: the same hooks write the search entries themselves
(``archive.search.vectors``), after the write and in its transaction. Bulk
writes that call a hook before writing wrap the write in one of the
``…_changing`` context managers, so the entries see the new rows.
"""

from collections.abc import Iterable
from contextlib import contextmanager

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from archive import pages
from archive.models import (
    BOOKKEEPING_FIELDS,
    FeaturedQuote,
    IndexQueue,
    Interview,
    Series,
    Topic,
)
from archive.search import vectors

# Above this many turns, a bulk change is queued per interview instead.
TURN_QUEUE_LIMIT = 2_000
# Interview fields that never reach the index (bookkeeping).
NOT_INDEXED_INTERVIEW_FIELDS = BOOKKEEPING_FIELDS | {"version"}
# Speaker fields the index holds with each of their turns.
INDEXED_SPEAKER_FIELDS = ("name", "slug", "aliases")


def postgres() -> bool:
    """Whether the PostgreSQL engine serves search (no queue, no index)."""
    return settings.ARCHIVE_SEARCH_BACKEND == "postgres"


def _queue(kind: str, ids: Iterable) -> set:
    ids = {i for i in ids if i is not None}
    if ids:
        # Whatever the index must hear about, rendered pages show too.
        pages.changed()
        if postgres():
            return ids
        IndexQueue.objects.bulk_create(
            [IndexQueue(kind=kind, object_id=i) for i in sorted(ids)], batch_size=1000
        )
    return ids


def interviews_changed(ids: Iterable[int]) -> None:
    """Interviews whose own fields, topics, series or participants changed,
    or that were created, published, unpublished or deleted (after the
    write, or before a delete)."""
    ids = _queue(IndexQueue.Kind.INTERVIEW, ids)
    if ids and postgres():
        vectors.interviews(ids)


def interview_saved(interview) -> None:
    """``Interview.save()``, after the write."""
    if _queue(IndexQueue.Kind.INTERVIEW, [interview.pk]) and postgres():
        vectors.interviews(
            [interview.pk], [(interview.pk, interview.title, interview.lede_html)]
        )


def turn_saved(turn) -> None:
    """``Turn.save()``, after the write."""
    if _queue(IndexQueue.Kind.TURN, [turn.pk]) and postgres():
        vectors.write_turns([vectors.turn_row(turn)])


def turns_changed(ids: Iterable[int]) -> None:
    """Turns written (after the write), or about to be deleted."""
    ids = _queue(IndexQueue.Kind.TURN, ids)
    if ids and postgres():
        vectors.turns(ids)


@contextmanager
def turns_changing(ids: Iterable[int]):
    """Around a write of these turns (``bulk_update``)."""
    ids = set(ids)
    _queue(IndexQueue.Kind.TURN, ids)
    yield
    if ids and postgres():
        vectors.turns(ids)


def speakers_changed(ids: Iterable[int]) -> None:
    ids = _queue(IndexQueue.Kind.SPEAKER, ids)
    if ids and postgres():
        vectors.speakers(ids)


@contextmanager
def turn_rows_changing(turns_queryset):
    """Around ``update()`` of turns: their entries follow the new rows."""
    ids = list(turns_queryset.values_list("pk", flat=True)) if postgres() else []
    turn_rows_changed(turns_queryset)
    yield
    if ids:
        vectors.turns(ids)


def turn_rows_changed(turns_queryset) -> None:
    """The turns a bulk write touches (queued by interview when many);
    with the PostgreSQL engine a deleted turn's entry goes with it."""
    if postgres():
        pages.changed()
        return
    pairs = list(
        turns_queryset.values_list("pk", "interview_id")[: TURN_QUEUE_LIMIT + 1]
    )
    if len(pairs) > TURN_QUEUE_LIMIT:
        interviews_changed(
            turns_queryset.values_list("interview_id", flat=True).distinct()
        )
    else:
        turns_changed(pk for pk, _ in pairs)


def turns_created(turns: list) -> None:
    if postgres():
        # bulk_create returns the rows with their keys (PostgreSQL): written
        # as they are, without reading them back.
        pages.changed()
        for start in range(0, len(turns), vectors.BATCH):
            batch = turns[start : start + vectors.BATCH]
            vectors.write_turns([vectors.turn_row(t) for t in batch])
        return
    if len(turns) > TURN_QUEUE_LIMIT:
        interviews_changed(t.interview_id for t in turns)
    else:
        turns_changed(t.pk for t in turns)


@contextmanager
def interviews_updating(interviews_queryset, fields: Iterable[str]):
    """Around ``QuerySet.update(**fields)`` of interviews."""
    pages.changed()
    ids = []
    if set(fields) - NOT_INDEXED_INTERVIEW_FIELDS:
        ids = list(interviews_queryset.values_list("pk", flat=True))
        _queue(IndexQueue.Kind.INTERVIEW, ids)
    yield
    if ids and postgres():
        vectors.interviews(ids)


@contextmanager
def speakers_updating(speakers_queryset, fields: Iterable[str]):
    """Around ``QuerySet.update(**fields)`` of speakers."""
    pages.changed()
    ids = []
    if set(INDEXED_SPEAKER_FIELDS) & set(fields):
        ids = list(speakers_queryset.values_list("pk", flat=True))
        _queue(IndexQueue.Kind.SPEAKER, ids)
    yield
    if ids and postgres():
        vectors.speakers(ids)


def speaker_saved(speaker, before: tuple | None) -> None:
    """A speaker saved: pages show their name and affiliation; the index
    holds only what ``speaker_key`` names (a new speaker has no turns yet,
    but the PostgreSQL engine keeps their names from the start)."""
    pages.changed()
    if before != speaker_key(speaker) and (before is not None or postgres()):
        speakers_changed([speaker.pk])


def speaker_key(speaker) -> tuple:
    """What the index holds of a speaker: a save that changes it re-indexes
    their turns (a bio filled in by the importer does not)."""
    return tuple(getattr(speaker, name) for name in INDEXED_SPEAKER_FIELDS)


@receiver(m2m_changed, sender=Interview.topics.through)
def _topics_changed(sender, instance, action, pk_set, reverse, **kwargs):
    if reverse:  # topic.interviews.add(...)
        if action in ("post_add", "post_remove"):
            interviews_changed(pk_set)
        elif action == "pre_clear":
            # After the clear, the topic no longer knows its interviews.
            interviews_changed(instance.interviews.values_list("pk", flat=True))
    elif action in ("post_add", "post_remove", "post_clear"):
        interviews_changed([instance.pk])


@receiver(pre_delete, sender=Topic)
@receiver(pre_delete, sender=Series)
def _grouping_deleted(sender, instance, **kwargs):
    # Deleting a topic or series drops it from its interviews without any
    # save() or m2m signal (a cascade, or SET_NULL); pre_delete is sent
    # inside the deleting transaction, for one object or a whole queryset.
    interviews_changed(instance.interviews.values_list("pk", flat=True))


@receiver(post_save, sender=FeaturedQuote)
@receiver(post_delete, sender=FeaturedQuote)
def _featured_changed(sender, instance, **kwargs):
    # Featured quotes are not searched, but cached pages show them.
    pages.changed()
