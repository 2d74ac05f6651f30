"""Shared set-up: small factories for interviews, and the seed import."""

from pathlib import Path

import pytest

from archive.importer import import_file, transcript_files
from archive.models import Interview, Participant, Speaker, Turn
from archive.search.index import searchers
from archive.search.queue import drain
from tests.live import isolated_env  # noqa: F401 (shared with the server tests)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fixtures" / "interviews"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_collection_modifyitems(config, items):
    """One suite, two engines: `make test` runs it once more with
    ARCHIVE_SEARCH_BACKEND=postgres. Tests of one engine's own machinery
    say which (the ``whoosh`` and ``postgres_search`` marks)."""
    from django.conf import settings

    engine = settings.ARCHIVE_SEARCH_BACKEND
    for item in items:
        if engine == "postgres" and item.get_closest_marker("whoosh"):
            item.add_marker(
                pytest.mark.skip(reason="the Whoosh engine's own machinery")
            )
        if engine != "postgres" and item.get_closest_marker("postgres_search"):
            item.add_marker(
                pytest.mark.skip(
                    reason="the PostgreSQL engine's own machinery: "
                    "run with ARCHIVE_SEARCH_BACKEND=postgres"
                )
            )


def pytest_addoption(parser):
    parser.addoption(
        "--regen-golden",
        action="store_true",
        help="rewrite tests/golden/*.expected.json from the parser's output",
    )


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Serve static URLs without the manifest that `collectstatic` writes.

    A fresh checkout has no manifest, and the pages do not depend on it;
    tests/test_server.py checks the real manifest storage under gunicorn.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture(autouse=True)
def _no_rate_limits_from_loopback(settings):
    """The test client is 127.0.0.1 and a test may search hundreds of times;
    tests/test_throttle.py lifts this to test the limits themselves."""
    settings.ARCHIVE_RATE_LIMIT_EXEMPT = ["127.0.0.1"]


@pytest.fixture(autouse=True)
def _primary_only(settings):
    """With DATABASE_REPLICA_URL set (the PostgreSQL run), the replica is a
    test mirror: a separate connection that cannot see a test's uncommitted
    rows. Tests read the primary; tests/test_replicas.py routes to it."""
    settings.DATABASE_ROUTERS = []


@pytest.fixture(autouse=True)
def _own_search_index(settings, tmp_path):
    """Each test gets its own, empty search index directory and page cache."""
    settings.ARCHIVE_INDEX_DIR = tmp_path / "index"
    # A search's time budget must not decide a test on a busy machine: tests
    # of the budget set its work units, and the deadline is a safety net.
    settings.ARCHIVE_SEARCH_SECONDS = 60
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": tmp_path / "cache",
        }
    }
    searchers.reset()
    yield
    searchers.reset()


@pytest.fixture
def indexed(seeds):
    """The seed interviews, imported and indexed (the queue drained)."""
    drain()
    return seeds


@pytest.fixture
def regen_golden(request):
    return request.config.getoption("--regen-golden")


@pytest.fixture
def make_interview(db):
    """Build an interview with ``turns`` as (speaker name, body) pairs."""

    def make(title="An interview", turns=(), published=True, roles=None, **fields):
        interview = Interview.objects.create(title=title, published=published, **fields)
        speakers = {}
        for position, (name, body) in enumerate(turns, start=1):
            if name not in speakers:
                speakers[name] = Speaker.objects.filter(
                    name=name
                ).first() or Speaker.objects.create(name=name)
                Participant.objects.create(
                    interview=interview,
                    speaker=speakers[name],
                    role=(roles or {}).get(name, "guest"),
                    position=len(speakers),
                )
            Turn.objects.create(
                interview=interview,
                position=position,
                speaker=speakers[name],
                label=name,
                body=body,
            )
        interview.refresh_turn_count()
        return interview

    return make


@pytest.fixture
def seeds(db):
    """The two seed interviews, imported as `make run` imports them."""
    outcomes = [import_file(path) for path in transcript_files(SEEDS)]
    assert [o.status for o in outcomes] == ["created", "created"], outcomes
    return {o.path.rsplit("/", 1)[-1].split("_")[0]: o.interview for o in outcomes}
