"""Per-client limits (429 with Retry-After, counted atomically in the
database) and the throttled staff login."""

import datetime
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client

from archive import throttle
from archive.models import RequestCount
from tests.live import ROOT, database_for, isolated_env, manage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits_for_everyone(settings):
    settings.ARCHIVE_RATE_LIMIT_EXEMPT = []
    settings.ARCHIVE_RATE_LIMITS = [
        ("search", "3/60"),
        ("reuse", "2/60"),
        ("login", "4/600"),
    ]


def test_a_client_past_its_search_allowance_gets_429_with_retry_after(client):
    for _ in range(3):
        assert client.get("/search/?q=norms").status_code == 200
    response = client.get("/search/?q=norms")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    text = response.content.decode()
    assert "Too many searches from your address" in text
    assert "3 per minute" in text
    # Reading pages is not limited.
    assert client.get("/interviews/").status_code == 200


def test_the_api_says_so_in_json(client):
    for _ in range(3):
        client.get("/api/search?q=norms")
    response = client.get("/api/search?q=norms")
    assert response.status_code == 429
    assert "Too many searches" in response.json()["error"]
    assert response["Retry-After"]


def test_feeds_and_exports_share_the_reuse_allowance(client):
    assert client.get("/feeds/interviews/").status_code == 200
    assert client.get("/api/interviews").status_code == 200
    response = client.get("/feeds/interviews/")
    assert response.status_code == 429
    assert "API, feed and export requests" in response.content.decode()


def test_each_address_has_its_own_allowance(client):
    for _ in range(4):
        client.get("/search/?q=norms")
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert other.get("/search/?q=norms").status_code == 200


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(client, settings):
    for n in range(4):
        # A client cannot escape by claiming other addresses.
        response = client.get(
            "/search/?q=norms", headers={"x-forwarded-for": f"198.51.100.{n}"}
        )
    assert response.status_code == 429

    settings.ARCHIVE_TRUSTED_PROXIES = 1
    proxied = Client(REMOTE_ADDR="10.0.0.1")  # the proxy
    statuses = [
        proxied.get(
            "/search/?q=norms",
            headers={"x-forwarded-for": f"6.6.6.{n}, 203.0.113.9"},
        ).status_code
        for n in range(4)
    ]
    # The proxy appended the real client; what the client wrote is ignored.
    assert statuses == [200, 200, 200, 429]
    assert RequestCount.objects.filter(client="203.0.113.9").exists()


def test_exempt_addresses_are_never_limited(client, settings):
    settings.ARCHIVE_RATE_LIMIT_EXEMPT = ["127.0.0.0/8"]
    assert all(client.get("/search/?q=x").status_code == 200 for _ in range(6))


def test_the_window_passes_and_the_allowance_returns():
    limit = throttle.Limit.parse("3/60")
    hits = [
        throttle.count("192.0.2.1", "search", limit, now=1000 + i)[0] for i in range(4)
    ]
    assert hits == [1, 2, 3, 4]
    assert throttle.count("192.0.2.1", "search", limit, now=1021)[1] == 59
    assert throttle.count("192.0.2.1", "search", limit, now=1080)[0] == 1
    # Windows long over are swept away by later first requests.
    throttle.count("192.0.2.2", "search", limit, now=5000)
    assert not RequestCount.objects.filter(window_start__lt=4000).exists()


COUNT_25 = (
    "from archive import throttle; "
    "limit = throttle.Limit.parse('1000/3600'); "
    "print(*(throttle.count('192.0.2.50', 'search', limit)[0] for _ in range(25)))"
)


@pytest.mark.server
@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_concurrent_workers_count_every_request(tmp_path, engine):
    """Four processes counting one client at once, as gunicorn workers do:
    no increment is lost (the database's upsert, not read-then-write)."""
    database_url = database_for(engine, "archive_throttle")
    (tmp_path / "data").mkdir()
    env = isolated_env(tmp_path / "data", database_url)
    manage(env, "migrate", "--noinput")
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-v", "0", "-c", COUNT_25],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    seen = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        seen += [int(n) for n in out.split()]
    assert sorted(seen) == list(range(1, 101))


# Staff login ------------------------------------------------------------------


@pytest.fixture
def curator(db):
    return User.objects.create_superuser(
        "curator", "c@example.org", "the-right-password-1"
    )


def _log_in(client, password, username="curator"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
    )


def test_wrong_passwords_pause_that_account_from_that_address(curator, settings):
    settings.ARCHIVE_RATE_LIMITS = [("login", "100/600")]
    attacker = Client(REMOTE_ADDR="192.0.2.66")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _log_in(attacker, "guess").status_code == 200  # the form again
    locked = _log_in(attacker, "guess")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert int(locked["Retry-After"]) == 15 * 60
    # Even the right password waits out the pause from there...
    assert _log_in(attacker, "the-right-password-1").status_code == 429
    # ...but the curator, from their own address, signs in as usual.
    curator_client = Client(REMOTE_ADDR="198.51.100.20")
    assert _log_in(curator_client, "the-right-password-1").status_code == 302
    assert curator_client.get("/admin/").status_code == 200


def test_the_pause_ends_after_the_cool_off(curator, settings):
    settings.ARCHIVE_RATE_LIMITS = [("login", "100/600")]
    attacker = Client(REMOTE_ADDR="192.0.2.66")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(attacker, "guess")
    assert _log_in(attacker, "the-right-password-1").status_code == 429
    # Sixteen minutes later (the attempts' record moved back in time):
    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC)
        - datetime.timedelta(minutes=16)
    )
    assert _log_in(attacker, "the-right-password-1").status_code == 302


def test_one_address_may_only_try_so_many_sign_ins(curator):
    """Guessing at many names from one address meets the address's own
    allowance (4 posts here), whatever the names."""
    guesser = Client(REMOTE_ADDR="192.0.2.99")
    statuses = [
        _log_in(guesser, "x", username=f"user{n}").status_code for n in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    assert "Too many sign-in attempts" in _log_in(guesser, "x").content.decode()
    # Reading the form is not counted.
    assert guesser.get("/admin/login/").status_code == 200


def test_the_public_api_is_read_only(client):
    for url in ("/api/search?q=norms", "/api/interviews"):
        assert client.post(url).status_code == 405
