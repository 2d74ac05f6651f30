"""gunicorn settings for `make run` (and production, overridable by flags).

Workers open the search index as they start, so that the first reader to
reach a worker does not pay for mapping the index's segments. `kill -HUP`
on the master reloads code and settings gracefully: new workers start,
old ones finish their requests (up to graceful_timeout) and exit.
"""

import multiprocessing
import os

bind = os.environ.get("ARCHIVE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
# A search is bounded by ARCHIVE_SEARCH_SECONDS; anything near this is a fault.
timeout = 30
graceful_timeout = 30
keepalive = 5
# Workers are replaced now and then (at different moments), so a slow leak
# in any library cannot grow a worker for ever.
max_requests = 20_000
max_requests_jitter = 2_000
accesslog = "-"
# The combined format plus the time taken and the request id that the
# response carries (archive/logs.py), to join access lines and app logs.
access_log_format = (
    '%(h)s - %(u)s %(t)s "%(r)s" %(s)s %(B)s "%(f)s" "%(a)s" '
    "%(M)sms id=%({x-request-id}o)s"
)


def post_worker_init(worker):
    from archive.search import warm_up

    warm_up()
