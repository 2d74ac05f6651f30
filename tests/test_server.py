"""Smoke test: the archive served as `make run` serves it, by real gunicorn.

Everything runs in subprocesses against a SQLite file in a temporary data
directory, with DEBUG off, whatever database the rest of the suite uses.
"""

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.live import (
    free_port,
    gunicorn,
    isolated_env,
    manage,
    stop,
    wait_until_serving,
)

pytestmark = pytest.mark.server

SEED_SLUGS = ["tim-maurer-china-real-time-2016", "cyber-norms-in-us-china-relations"]
STAFF_PASSWORD = "a-long-smoke-test-password"


def fetch(url, opener=None):
    """(status, body, final URL, headers); error statuses are returned too."""
    try:
        with (opener or urllib.request.build_opener()).open(url, timeout=10) as r:
            return r.status, r.read().decode(), r.geturl(), r.headers
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(), error.geturl(), error.headers


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("archive-data")


@pytest.fixture(scope="module")
def server(data_dir):
    """The base URL of gunicorn serving a freshly set-up archive."""
    env = isolated_env(data_dir)
    manage(env, "migrate", "--noinput")
    # The first manage.py call generates the key, so the workers all read
    # it instead of racing to write one each.
    assert (data_dir / "secret_key").read_text().strip()
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    manage(env, "import_transcript", "fixtures/interviews")
    manage(
        env | {"DJANGO_SUPERUSER_PASSWORD": STAFF_PASSWORD},
        "createsuperuser",
        "--noinput",
        "--username",
        "curator",
        "--email",
        "curator@example.org",
    )

    port = free_port()
    log = (data_dir / "gunicorn.log").open("w")
    server = gunicorn(env, port, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server, data_dir / "gunicorn.log", seconds=20)
        yield base
    finally:
        stop([server])
        log.close()


def test_the_home_page_lists_both_seed_interviews(server):
    status, page, _, _ = fetch(server + "/")

    assert status == 200
    for slug in SEED_SLUGS:
        assert f'href="/interviews/{slug}/"' in page
    assert "Cyber Norms in U.S.-China Relations" in page


def test_the_stylesheet_is_served_under_its_hashed_name(server):
    _, page, _, _ = fetch(server + "/")
    href = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)[1]

    status, css, _, headers = fetch(server + href)

    assert re.fullmatch(r"/static/archive/archive\.[0-9a-f]{12}\.css", href)
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert css.strip()


def test_an_interview_page_links_each_turn(server):
    status, page, _, _ = fetch(f"{server}/interviews/{SEED_SLUGS[1]}/")

    assert status == 200
    assert 'id="t-1"' in page
    # Each turn's link is absolute: a reader copies it into a footnote.
    assert f'href="{server}/interviews/{SEED_SLUGS[1]}/#t-1"' in page


def test_an_unknown_address_gets_the_friendly_not_found_page(server):
    status, page, _, _ = fetch(server + "/no/such/page/")

    assert status == 404
    assert "There is nothing at this address." in page
    assert "Browse all interviews" in page
    assert "URLconf" not in page
    assert "DEBUG = True" not in page


def test_the_api_lists_both_interviews(server):
    status, body, _, headers = fetch(server + "/api/interviews")

    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert sorted(i["slug"] for i in json.loads(body)) == sorted(SEED_SLUGS)


def test_a_curator_stays_logged_in_whichever_worker_answers(server):
    # Each worker checks the session with its SECRET_KEY; were the keys to
    # differ, about half of these pages would bounce back to the login.
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    _, login_page, _, _ = fetch(server + "/admin/login/", opener)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page)[1]
    form = urllib.parse.urlencode(
        {
            "username": "curator",
            "password": STAFF_PASSWORD,
            "csrfmiddlewaretoken": token,
            "next": "/admin/",
        }
    ).encode()
    with opener.open(server + "/admin/login/", data=form, timeout=10) as response:
        assert urllib.parse.urlsplit(response.geturl()).path == "/admin/"

    for _ in range(20):
        status, page, url, _ = fetch(server + "/admin/", opener)
        assert status == 200
        assert urllib.parse.urlsplit(url).path == "/admin/"
        assert "Curate the archive" in page


def test_while_the_database_is_down_pages_answer_503_not_errors(tmp_path):
    """gunicorn serving an archive whose PostgreSQL does not answer (nothing
    listens on its port): every page says so plainly, with a 503 and
    Retry-After, and /healthz names the database."""
    env = isolated_env(tmp_path, "postgres://postgres@127.0.0.1:9/archive")
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    server = gunicorn(env, port, log, workers=1)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server, tmp_path / "gunicorn.log")
        for path in ("/", "/interviews/", "/search/?q=norms", "/speakers/x/"):
            status, body, _, headers = fetch(base + path)
            assert status == 503, (path, body)
            assert "database is not answering" in body
            assert headers["Retry-After"] == "30"
        status, body, _, _ = fetch(base + "/api/interviews")
        assert status == 503 and "database" in json.loads(body)["error"]
        status, body, _, _ = fetch(base + "/healthz")
        assert status == 503 and "database" in json.loads(body)
    finally:
        stop([server])
        log.close()
    # Each failure is logged as one JSON line with its request id.
    lines = [
        json.loads(line)
        for line in (tmp_path / "gunicorn.log").read_text().splitlines()
        if line.startswith("{")
    ]
    assert any(line.get("request_id") and line["level"] == "ERROR" for line in lines)
