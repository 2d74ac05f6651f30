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
"""

from collections.abc import Iterable

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

# Above this many turns, a bulk change is queued per interview instead.
TURN_QUEUE_LIMIT = 2_000
# Interview fields that never reach the index (bookkeeping).
NOT_INDEXED_INTERVIEW_FIELDS = BOOKKEEPING_FIELDS | {"version"}
# Speaker fields the index holds with each of their turns.
INDEXED_SPEAKER_FIELDS = ("name", "slug", "aliases")


def _queue(kind: str, ids: Iterable) -> None:
    ids = {i for i in ids if i is not None}
    if ids:
        # Whatever the index must hear about, rendered pages show too.
        pages.changed()
        IndexQueue.objects.bulk_create(
            [IndexQueue(kind=kind, object_id=i) for i in sorted(ids)], batch_size=1000
        )


def interviews_changed(ids: Iterable[int]) -> None:
    """Interviews whose own fields, topics, series or participants changed,
    or that were created, published, unpublished or deleted."""
    _queue(IndexQueue.Kind.INTERVIEW, ids)


def turns_changed(ids: Iterable[int]) -> None:
    _queue(IndexQueue.Kind.TURN, ids)


def speakers_changed(ids: Iterable[int]) -> None:
    _queue(IndexQueue.Kind.SPEAKER, ids)


def turn_rows_changed(turns_queryset) -> None:
    """The turns a bulk write touches (queued by interview when many)."""
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
    if len(turns) > TURN_QUEUE_LIMIT:
        interviews_changed(t.interview_id for t in turns)
    else:
        turns_changed(t.pk for t in turns)


def interviews_updated(interviews_queryset, fields: Iterable[str]) -> None:
    """``QuerySet.update(**fields)`` of interviews."""
    pages.changed()
    if set(fields) - NOT_INDEXED_INTERVIEW_FIELDS:
        interviews_changed(interviews_queryset.values_list("pk", flat=True))


def speakers_updated(speakers_queryset, fields: Iterable[str]) -> None:
    """``QuerySet.update(**fields)`` of speakers."""
    pages.changed()
    if set(INDEXED_SPEAKER_FIELDS) & set(fields):
        speakers_changed(speakers_queryset.values_list("pk", flat=True))


def speaker_saved(speaker, before: tuple | None) -> None:
    """A speaker saved: pages show their name and affiliation; the index
    holds only what ``speaker_key`` names."""
    pages.changed()
    if before is not None and before != speaker_key(speaker):
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
