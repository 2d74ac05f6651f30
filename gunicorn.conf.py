"""gunicorn settings for `make run` (and production, overridable by flags).

Workers open the search index as they start, so that the first reader to
reach a worker does not pay for mapping the index's segments.
"""

import multiprocessing
import os

bind = os.environ.get("ARCHIVE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
# A search is bounded by ARCHIVE_SEARCH_SECONDS; anything near this is a fault.
timeout = 30
graceful_timeout = 30
accesslog = "-"


def post_worker_init(worker):
    from archive.search import warm_up

    warm_up()
