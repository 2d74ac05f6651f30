"""In-process measurements of one built archive, for ``bench/scale.py``.

Run in its own process with ``ARCHIVE_DATA_DIR`` naming the archive, so that
"cold" means what it says (nothing of the index mapped or cached yet):

    ARCHIVE_DATA_DIR=var/bench/... python bench/inprocess.py search QUERIES.json
    ARCHIVE_DATA_DIR=var/bench/... python bench/inprocess.py pages URLS.json
    ARCHIVE_DATA_DIR=var/bench/... python bench/inprocess.py turns OUT.tsv

``search`` times ``archive.search.search`` (the engine and the database
queries for one page of hits and facets, no HTTP) for each query: first run
(cold), then three more (warm). ``pages`` counts the SQL queries each URL
runs. ``turns`` writes the published turns as id, speaker, date and plain
text, for the raw engines. Each prints JSON on stdout.
"""

import html
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

_TAG = re.compile(r"<[^>]+>")


def time_searches(queries: list[str]) -> dict:
    from archive.search import search

    opened = time.perf_counter()
    from archive.search.index import searchers

    searchers.get()
    out = {"open_ms": (time.perf_counter() - opened) * 1000, "queries": {}}
    for query in queries:
        times, total = [], None
        for _ in range(4):
            started = time.perf_counter()
            results = search(query)
            times.append((time.perf_counter() - started) * 1000)
            total = results.total
        out["queries"][query] = {"ms": times, "total": total}
    return out


def count_queries(urls: list[str]) -> dict:
    client = Client(SERVER_NAME="localhost")
    out = {}
    for url in urls:
        client.get(url)  # the page cache filled, as a reader would find it
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        out[url] = {"queries": len(captured), "status": response.status_code}
    return out


def write_turns(path: str) -> dict:
    from archive.models import Turn

    count = 0
    with open(path, "w") as handle:
        rows = (
            Turn.objects.published()
            .values_list("pk", "speaker__name", "interview__date", "body_html")
            .order_by("pk")
            .iterator(chunk_size=5000)
        )
        for pk, speaker, date, body_html in rows:
            text = html.unescape(_TAG.sub("", body_html))
            day = int(date.strftime("%Y%m%d")) if date else 0
            clean = " ".join(text.split())
            handle.write(f"{pk}\t{speaker}\t{day}\t{clean}\n")
            count += 1
    return {"turns": count}


def main() -> None:
    mode, argument = sys.argv[1], sys.argv[2]
    if mode == "search":
        result = time_searches(json.loads(Path(argument).read_text()))
    elif mode == "pages":
        result = count_queries(json.loads(Path(argument).read_text()))
    elif mode == "turns":
        result = write_turns(argument)
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
