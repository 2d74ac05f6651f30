"""Read replicas: which requests read the replica, and which the primary.

Run when DATABASE_REPLICA_URL is set (the PostgreSQL runs of `make test` set
it to the test database's server). The replica is a test mirror of the
primary (Django's ``TEST['MIRROR']``): the same database through a separate
connection, so each query shows which connection the router chose.
"""

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.test.utils import CaptureQueriesContext

pytestmark = [
    pytest.mark.skipif(
        "replica" not in django_settings.DATABASES,
        reason="no replica configured (DATABASE_REPLICA_URL)",
    ),
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]

REPLICA_PAGES = [
    "/interviews/",
    "/speakers/",
    "/topics/",
    "/api/interviews",
    "/feeds/interviews/",
    "/sitemap.xml",
]


@pytest.fixture
def routed(settings, indexed):
    settings.DATABASE_ROUTERS = ["archive.replicas.ReplicaRouter"]
    return indexed


def queries(client, path) -> tuple[int, int]:
    """(queries on the replica, queries on the primary) for one request."""
    with (
        CaptureQueriesContext(connections["replica"]) as replica,
        CaptureQueriesContext(connections["default"]) as primary,
    ):
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(replica), len(primary)


def test_a_readers_list_pages_feeds_and_api_read_the_replica(routed, client):
    for path in [*REPLICA_PAGES, f"/topics/{routed['000'].topics.first().slug}/"]:
        on_replica, on_primary = queries(client, path)
        assert on_replica > 0 and on_primary == 0, path


def test_search_cached_pages_and_health_read_the_primary(routed, client):
    interview = routed["000"]
    turn = interview.turns.first()
    for path in [
        "/search/?q=norms",
        "/api/search?q=norms",
        "/feeds/search/?q=norms",
        "/",
        interview.get_absolute_url(),
        f"{interview.get_absolute_url()}?q=norms",
        f"/q/{turn.pk}",
        "/healthz",
    ]:
        on_replica, on_primary = queries(client, path)
        assert on_replica == 0 and on_primary > 0, path


def test_a_signed_in_curator_reads_the_primary_everywhere(routed, client, admin_user):
    client.force_login(admin_user)
    for path in [*REPLICA_PAGES, "/admin/", "/admin/archive/interview/"]:
        on_replica, on_primary = queries(client, path)
        assert on_replica == 0 and on_primary > 0, path


def test_the_router_never_writes_or_migrates_on_the_replica(routed):
    from django.db import router

    from archive import replicas
    from archive.models import Interview

    token = replicas._reads_from_replica.set(True)
    try:
        assert router.db_for_read(Interview) == "replica"
        assert router.db_for_write(Interview) == "default"
    finally:
        replicas._reads_from_replica.reset(token)
    assert router.db_for_read(Interview) == "default"
    assert router.allow_migrate("default", "archive")
    assert not router.allow_migrate("replica", "archive")
