"""In-process measurements of one built archive, for ``bench/scale.py``.

Run in its own process with ``ARCHIVE_DATA_DIR`` naming the archive (and,
for the PostgreSQL engine, ``ARCHIVE_SEARCH_BACKEND=postgres`` and its
``DATABASE_URL``), so that "cold" means what it says (nothing of the index
mapped or cached in the process yet):

    ARCHIVE_DATA_DIR=var/bench/... python bench/inprocess.py search QUERIES.json
    ARCHIVE_DATA_DIR=var/bench/... python bench/inprocess.py pages URLS.json
    ARCHIVE_DATA_DIR=var/bench/... python bench/inprocess.py turns OUT.tsv
    ARCHIVE_DATA_DIR=var/bench/... python bench/inprocess.py writer 10000

``search`` times ``archive.search.search`` (the engine and the database
queries for one page of hits and facets, no HTTP) for each query: first run
(cold), then three more (warm). ``pages`` counts the SQL queries each URL
runs. ``turns`` writes the published turns as id, speaker, date and plain
text, for the raw engines. ``writer`` splits the time of indexing that many
documents in one process into its parts. Each prints JSON on stdout.
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
    from django.conf import settings

    from archive.search import search

    opened = time.perf_counter()
    if settings.ARCHIVE_SEARCH_BACKEND == "whoosh":
        from archive.search.index import searchers

        searchers.get()
    else:
        connection.ensure_connection()  # the PostgreSQL engine's only state
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


def writer_phases(limit: int) -> dict:
    """Where indexing time goes, for ``limit`` documents in one process: our
    analysis, Whoosh's own writing (add_document and commit, less the
    analysis it asks of our analyzer), and the segment arrays."""
    import tempfile

    from django.test import override_settings

    from archive.models import Interview
    from archive.search import analysis, index, segments
    from archive.search.documents import interview_documents
    from archive.search.queue import _clean

    started = time.perf_counter()
    documents = []
    for interview in Interview.objects.published().select_related("series"):
        documents += [_clean(d) for d in interview_documents(interview)]
        if len(documents) >= limit:
            break
    read = time.perf_counter() - started
    words = analysis.PolicyTokenizer(stemming=False)
    started = time.perf_counter()
    for document in documents:
        list(analysis._POLICY._spans(document.get("text", ""), ""))
        list(words._spans(document.get("text", ""), ""))
    analysed = time.perf_counter() - started
    with (
        tempfile.TemporaryDirectory() as folder,
        override_settings(ARCHIVE_INDEX_DIR=Path(folder)),
    ):
        ix = index.create_build(index.new_build_id())
        writer = index.writer(ix, memory_mb=2048)
        whoosh_add = builder_add = 0.0
        for document in documents:
            started = time.perf_counter()
            writer.whoosh.add_document(**document)
            whoosh_add += time.perf_counter() - started
            started = time.perf_counter()
            writer.builder.add(document)
            builder_add += time.perf_counter() - started
        written = []
        real_write = segments.write

        def timed_write(*args):
            started = time.perf_counter()
            real_write(*args)
            written.append(time.perf_counter() - started)

        segments.write = timed_write
        started = time.perf_counter()
        writer.commit(merge=False)
        commit = time.perf_counter() - started
        segments.write = real_write
    whoosh = whoosh_add - analysed + commit - sum(written)
    count = len(documents)
    return {
        "documents": count,
        "database_read_s": read,
        "analysis_s": analysed,
        "whoosh_s": whoosh,
        "arrays_s": builder_add + sum(written),
        "whoosh_alone_per_s": count / whoosh,
        "all_per_s": count / (read + whoosh_add + builder_add + commit),
    }


def main() -> None:
    mode, argument = sys.argv[1], sys.argv[2]
    if mode == "search":
        result = time_searches(json.loads(Path(argument).read_text()))
    elif mode == "pages":
        result = count_queries(json.loads(Path(argument).read_text()))
    elif mode == "turns":
        result = write_turns(argument)
    elif mode == "writer":
        result = writer_phases(int(argument))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
