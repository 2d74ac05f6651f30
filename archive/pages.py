"""Rendered pages kept between requests, and when they are dropped.

An interview page (a long transcript) costs tens of milliseconds to render
and changes only when staff edit. It is cached under a key that includes a
generation,
and every change the search hooks hear about (``archive.search.hooks``: any
turn, speaker, participant, topic, series or interview written by any path)
starts a new generation once its transaction commits, so no page outlives
the data it shows. The cache is Django's, configured in settings to be
shared by all workers of a host.

Several app servers share one database but not their caches, so the
generation has two parts: the host's own (in its cache, renewed at once
for the writer's process) and the archive's (``PageGeneration``, one row,
renewed when any server's change commits). A page rendered on one server
is never served by another after a change there: each page read asks the
database for the archive's generation (one small query).
"""

import uuid

from django.core.cache import cache
from django.db import transaction

from archive.models import PageGeneration

_KEY = "pages:generation"


def key(*parts) -> str:
    """A cache key for a page, valid for the current generation."""
    return ":".join(["page", *map(str, parts), generation(), shared_generation()])


def shared_generation() -> str:
    """The archive's generation, shared by every app server."""
    value = PageGeneration.objects.filter(pk=1).values_list("value", flat=True).first()
    return value or "0"


def generation() -> str:
    value = cache.get(_KEY)
    if value is None:
        value = uuid.uuid4().hex
        # add(), not set(): two workers starting at once agree on one.
        cache.add(_KEY, value, timeout=None)
        value = cache.get(_KEY, value)
    return value


def changed() -> None:
    """Start a new generation now, for reads inside this transaction, and
    again when it commits: a reader in another process that rendered the old
    data meanwhile stored it under a generation that is then gone."""
    _new_generation()
    transaction.on_commit(_new_generation)


def _new_generation() -> None:
    cache.set(_KEY, uuid.uuid4().hex, timeout=None)
    if not transaction.get_connection().in_atomic_block:
        # After the commit, in a statement of its own: the row is never
        # held locked by a writer's (possibly long) transaction.
        PageGeneration.objects.update_or_create(
            pk=1, defaults={"value": uuid.uuid4().hex}
        )
