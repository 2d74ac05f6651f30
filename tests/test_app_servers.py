"""Two app servers over one PostgreSQL, searching with the PostgreSQL engine.

Two gunicorn instances on different loopback ports, each with its own data
directory (nothing shared on disk), one shared DJANGO_SECRET_KEY and one
database, and no index worker at all: what a deployment behind a load
balancer runs. Skipped when the suite runs on SQLite.
"""

import html
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

import pytest

from tests.live import (
    STAFF,
    create_staff,
    database_for,
    free_port,
    gunicorn,
    isolated_env,
    manage,
    stop,
    wait_until_serving,
)

pytestmark = pytest.mark.server

SEED_SLUGS = ["tim-maurer-china-real-time-2016", "cyber-norms-in-us-china-relations"]
SECRET = "a-secret-key-every-app-server-of-this-test-shares-0123456789"


def fetch(url, opener=None, data=None):
    try:
        with (opener or urllib.request.build_opener()).open(
            url, data=data, timeout=30
        ) as response:
            return response.status, response.read().decode(), response.geturl()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(), error.geturl()


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Two running app servers: [(base URL, process)] × 2."""
    url = database_for("postgres", "archive_two_app_servers")
    shared = {
        "ARCHIVE_SEARCH_BACKEND": "postgres",
        "DJANGO_SECRET_KEY": SECRET,
        "ARCHIVE_RATE_LIMIT_EXEMPT": "127.0.0.1",
    }
    started, logs = [], []
    for number in (1, 2):
        data_dir = tmp_path_factory.mktemp(f"app-server-{number}")
        env = isolated_env(data_dir, url) | shared
        if number == 1:
            manage(env, "migrate", "--noinput")
            manage(env, "import_transcript", "fixtures/interviews")
            create_staff(env)
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        port = free_port()
        log = (data_dir / "gunicorn.log").open("w")
        logs.append(log)
        process = gunicorn(env, port, log, workers=1)
        base = f"http://127.0.0.1:{port}"
        started.append((base, process))
        wait_until_serving(base, process, data_dir / "gunicorn.log")
        # No index files anywhere: the engine is the database.
        assert not (data_dir / "index").exists()
    try:
        yield started
    finally:
        stop([process for _, process in started])
        for log in logs:
            log.close()


def total(base, query) -> int:
    status, body, _ = fetch(f"{base}/api/search?q={urllib.parse.quote(query)}")
    assert status == 200, body
    return json.loads(body)["total"]


class _Form(HTMLParser):
    """The fields of the first form with a body textarea, as a browser
    would submit them."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") != "checkbox" or "checked" in attrs:
                self.fields[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def signed_in(base):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    _, page, _ = fetch(base + "/admin/login/", opener)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    form = {"username": STAFF[0], "password": STAFF[1], "csrfmiddlewaretoken": token}
    status, _, url = fetch(
        base + "/admin/login/?next=/admin/",
        opener,
        urllib.parse.urlencode(form | {"next": "/admin/"}).encode(),
    )
    assert status == 200 and urllib.parse.urlsplit(url).path == "/admin/"
    return opener


def test_an_edit_through_one_server_is_found_by_the_other_at_once(servers):
    (first, _), (second, _) = servers
    word = "zyxwvutsrq"
    assert total(first, word) == 0 and total(second, word) == 0
    # Both servers render and keep every transcript in their own page cache.
    pages = [f"/interviews/{slug}/" for slug in SEED_SLUGS]
    for base in (first, second):
        for path in pages:
            status, page, _ = fetch(base + path)
            assert status == 200 and word not in page

    # Signed in on the first server; the session (in the database, signed
    # with the shared key) is good on the second, which takes the edit.
    opener = signed_in(first)
    status, _, url = fetch(second + "/admin/", opener)
    assert status == 200 and urllib.parse.urlsplit(url).path == "/admin/"
    _, changes, _ = fetch(second + "/admin/archive/turn/?q=norms", opener)
    turn_id = re.search(r"/admin/archive/turn/(\d+)/change/", changes)[1]
    _, change_page, _ = fetch(f"{second}/admin/archive/turn/{turn_id}/change/", opener)
    form = _Form()
    form.feed(change_page)
    fields = {k: html.unescape(v) for k, v in form.fields.items()}
    fields["body"] = fields["body"].rstrip() + f" A {word} appears."
    fields["_save"] = "Save"
    status, after, _ = fetch(
        f"{second}/admin/archive/turn/{turn_id}/change/",
        opener,
        urllib.parse.urlencode(fields).encode(),
    )
    assert status == 200 and "errorlist" not in after, after[:2000]

    # No worker, no queue: the first server finds it the moment it committed.
    assert total(first, word) == 1
    assert total(second, word) == 1
    status, body, _ = fetch(f"{first}/api/search?q={word}")
    (hit,) = json.loads(body)["hits"]
    assert f"<mark>{word}</mark>" in hit["snippet"]
    # Neither server serves the transcript it kept from before the edit.
    for base in (first, second):
        shown = [word in fetch(base + path)[1] for path in pages]
        assert shown.count(True) == 1, base


def test_a_load_across_both_servers_has_no_errors(servers):
    bases = [base for base, _ in servers]
    paths = [
        "/",
        "/interviews/",
        "/search/?q=norms",
        "/api/search?q=%22cyber+security%22",
        "/search/?q=china+-espionage&sort=newest",
        "/speakers/",
        "/feeds/interviews/",
    ]
    urls = [bases[i % 2] + paths[i % len(paths)] for i in range(280)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda url: fetch(url)[0], urls))
    assert statuses.count(200) == len(urls), sorted(set(statuses))


def test_stopping_one_server_leaves_the_other_serving(servers):
    (first, first_process), (second, _) = servers
    before = total(second, "norms")
    stop([first_process])
    with pytest.raises(OSError):
        urllib.request.urlopen(first + "/", timeout=5)
    status, page, _ = fetch(second + "/")
    assert status == 200 and "Cyber Norms" in page
    assert total(second, "norms") == before > 0
    status, body, _ = fetch(second + "/healthz")
    assert status == 200 and json.loads(body) == {"ok": True}
