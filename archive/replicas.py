"""Read replicas: public page reads go to one when ``DATABASE_REPLICA_URL``
is set; everything that must see a write at once reads the primary.

A replica lags the primary by a moment. So only a reader's plain GET or HEAD
of a public page may read from it; the primary serves searches (the engine
and the hits it names), the health check, the admin, anyone signed in (a
curator checking an edit), every write, and the pages kept in the shared
page cache (home, interview, quote and speaker pages): one rendered from a
lagging replica just after a change would be kept under the cache's new
generation, stale until the next change, or could even show an interview
unpublished a moment ago. Those pages cost one primary read per request
once cached. The replica serves the lists, topic pages, exports,
citations, feeds other than search, the sitemap and the read API.

``ReplicaMiddleware`` decides per request; ``ReplicaRouter`` (in
``DATABASE_ROUTERS`` only when a replica is configured) follows the
decision. A replica a moment behind may, for that moment, still list an
interview just unpublished on a list page or feed; an archive that must not
allow even that leaves ``DATABASE_REPLICA_URL`` unset.
"""

from contextvars import ContextVar

from django.conf import settings
from django.urls import Resolver404, resolve

REPLICA = "replica"
_reads_from_replica: ContextVar[bool] = ContextVar("reads_from_replica", default=False)
# Views that read the primary even for an anonymous GET.
PRIMARY_VIEWS = frozenset(
    {
        "archive-home",
        "archive-interview",
        "archive-quote",
        "archive-speaker",
        "archive-search",
        "archive-api-search",
        "archive-feed-search",
        "archive-healthz",
    }
)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _reads_from_replica.get() and REPLICA in settings.DATABASES:
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, copied

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"


def may_read_replica(request) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return False  # a curator, who expects to see their edit
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.url_name not in PRIMARY_VIEWS and match.app_name != "admin"


class ReplicaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _reads_from_replica.set(may_read_replica(request))
        try:
            return self.get_response(request)
        finally:
            _reads_from_replica.reset(token)
