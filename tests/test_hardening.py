"""Production settings and headers: check --deploy, the Content-Security-
Policy, compression and 304s, request ids and JSON logs, and /healthz."""

import gzip
import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from archive.logs import JsonLines
from archive.models import Turn
from tests.live import isolated_env

ROOT = Path(__file__).resolve().parent.parent
PODCAST = "/interviews/cyber-norms-in-us-china-relations/"


def production_variables() -> dict[str, str]:
    """The variables of the README's production block, placeholders filled."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n# production\n(.*?)```", readme, re.S)
    assert block, "the README has a ```sh block starting with '# production'"
    variables = {}
    for line in block.group(1).splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            variables[name.strip()] = value.strip()
    variables["DJANGO_SECRET_KEY"] = (
        "k" * 20 + "-a-long-and-random-key-for-the-check-0123"
    )
    return variables


def test_check_deploy_is_clean_with_the_readmes_production_variables(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "ARCHIVE_DATA_DIR": str(tmp_path),
        **production_variables(),
    }
    for name in ("DJANGO_SECURE_SSL_REDIRECT", "DJANGO_SECURE_COOKIES"):
        assert env[name] == "1", f"the README's production block sets {name}=1"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_them_check_deploy_names_what_is_missing(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "ARCHIVE_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    for warning in ("W004", "W008", "W012", "W016"):
        assert warning in result.stdout + result.stderr


def test_every_kind_of_page_carries_a_strict_content_security_policy(
    indexed, admin_client
):
    client = Client()
    turn = Turn.objects.filter(interview__slug=PODCAST.split("/")[2]).first()
    public = [
        "/",
        "/interviews/",
        PODCAST,
        PODCAST + "?q=norms",
        f"/q/{turn.pk}",
        "/speakers/",
        "/speakers/tim-maurer/",
        "/topics/",
        "/search/?q=norms",
        "/search/help/",
        "/api/search?q=norms",
        "/api/interviews",
        "/feeds/interviews/",
        "/sitemap.xml",
        "/robots.txt",
        "/healthz",
        "/interviews/no-such-interview/",
        "/search/?page=0&q=x",
        "/admin/login/",
    ]
    staff = [
        "/admin/",
        f"/admin/archive/interview/{turn.interview_id}/change/",
        "/admin/archive/interview/import/",
        f"/admin/archive/turn/{turn.pk}/change/",
    ]
    for who, urls in ((client, public), (admin_client, staff)):
        for url in urls:
            response = who.get(url)
            assert response.status_code in {200, 400, 404}, url
            policy = response["Content-Security-Policy"]
            assert "default-src 'self'" in policy, url
            assert "script-src 'self'" in policy and "style-src 'self'" in policy
            assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
            assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
            if response["Content-Type"].startswith("text/html"):
                page = response.content.decode()
                # Nothing in the page needs what the policy refuses.
                assert " style=" not in page, url
                assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*ld\+json)", page)
                assert "<style" not in page, url


def test_a_transcript_is_sent_compressed_and_a_reload_costs_a_304(indexed, client):
    plain = client.get(PODCAST)
    squeezed = client.get(PODCAST, headers={"accept-encoding": "gzip"})
    assert squeezed["Content-Encoding"] == "gzip"
    assert gzip.decompress(squeezed.content) == plain.content
    assert len(squeezed.content) * 3 < len(plain.content)
    etag, modified = squeezed["ETag"], squeezed["Last-Modified"]
    again = client.get(
        PODCAST, headers={"accept-encoding": "gzip", "if-none-match": etag}
    )
    assert again.status_code == 304 and again.content == b""
    since = client.get(PODCAST, headers={"if-modified-since": modified})
    assert since.status_code == 304
    # An edit makes the reader's copy stale: the page comes back whole.
    turn = Turn.objects.filter(interview__slug=PODCAST.split("/")[2]).first()
    turn.body += " Edited."
    turn.save()
    fresh = client.get(
        PODCAST, headers={"accept-encoding": "gzip", "if-none-match": etag}
    )
    assert fresh.status_code == 200
    assert b"Edited." in gzip.decompress(fresh.content)


def test_every_response_names_its_request(client, db):
    response = client.get("/robots.txt")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    passed = client.get("/robots.txt", headers={"x-request-id": "lb-1234-abcd"})
    assert passed["X-Request-ID"] == "lb-1234-abcd"
    hostile = client.get("/robots.txt", headers={"x-request-id": "<script>x</script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile["X-Request-ID"])


def test_slow_requests_and_searches_are_logged_as_json_with_the_request_id(
    indexed, client, settings, caplog
):
    settings.ARCHIVE_SLOW_REQUEST_SECONDS = 0
    settings.ARCHIVE_SLOW_SEARCH_SECONDS = 0
    with caplog.at_level(logging.WARNING, logger="archive"):
        response = client.get("/search/?q=espionage")
    lines = [json.loads(JsonLines().format(record)) for record in caplog.records]
    search = next(line for line in lines if line["message"] == "slow search")
    request = next(line for line in lines if line["message"] == "slow request")
    assert search["query"] == "espionage" and search["total"] >= 1
    assert request["path"] == "/search/" and request["status"] == 200
    assert search["request_id"] == request["request_id"] == response["X-Request-ID"]
    assert search["level"] == "WARNING" and request["seconds"] >= 0


def test_an_error_is_logged_with_its_traceback_as_one_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "archive", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    text = JsonLines().format(record)
    assert "\n" not in text
    line = json.loads(text)
    assert line["message"] == "failed" and "ValueError: boom" in line["exception"]


def test_healthz_answers_200_when_database_and_index_can_be_read(indexed, client):
    response = client.get(reverse("archive-healthz"))
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.whoosh
def test_healthz_answers_503_naming_a_missing_index(seeds, client, settings):
    # The seeds are imported but the index was never built.
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"ok": False, "search": "search index missing"}


@pytest.mark.whoosh
def test_healthz_answers_503_when_the_index_directory_is_deleted(
    indexed, client, settings
):
    assert client.get("/healthz").status_code == 200
    shutil.rmtree(settings.ARCHIVE_INDEX_DIR)
    response = client.get("/healthz")
    assert response.status_code == 503 and "search" in response.json()
    # Searching meanwhile says why nothing is found, and is not an error.
    page = client.get("/search/?q=norms")
    assert page.status_code == 200
    assert "search index is being built" in page.content.decode()


def test_healthz_is_reachable_over_plain_http_when_https_is_enforced(
    indexed, client, settings
):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == 301
    assert client.get("/healthz").status_code == 200


def test_the_postgres_engine_needs_postgresql_and_says_so_at_start_up(tmp_path):
    env = isolated_env(tmp_path) | {"ARCHIVE_SEARCH_BACKEND": "postgres"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "ARCHIVE_SEARCH_BACKEND=postgres" in result.stderr
    assert "DATABASE_URL is not a PostgreSQL database" in result.stderr
