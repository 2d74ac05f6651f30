"""Logs as JSON lines, each tied to the request that caused it.

Every request gets an id (the proxy's ``X-Request-ID`` when it sends a sane
one, else a fresh one), returned in the response's ``X-Request-ID`` and
carried by every log line written while the request runs, so an error a
reader reports ("request id 4f0c…") leads to its lines. Requests slower than
``ARCHIVE_SLOW_REQUEST_SECONDS`` are logged with their timing; slow searches
are logged by the search form (``archive.forms``).
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
import time
import uuid

from django.conf import settings

request_id = contextvars.ContextVar("request_id", default="")
_SANE_ID = re.compile(r"^[\w.-]{8,64}$")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}

log = logging.getLogger("archive.requests")


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id,
    anything passed in ``extra``, and the traceback of an error."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.datetime.fromtimestamp(
                record.created, tz=datetime.UTC
            ).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if _plain(value) else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def stamp_request_ids() -> None:
    """Give every log record the id of the request being served when it was
    written (kept on the record: a handler may format it later)."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "stamps_request_ids", False):
        return

    def stamped(*args, **kwargs):
        record = make_record(*args, **kwargs)
        if rid := request_id.get():
            record.request_id = rid
        return record

    stamped.stamps_request_ids = True
    logging.setLogRecordFactory(stamped)


def _plain(value) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


class RequestIdMiddleware:
    """Outermost: names the request, times it, and logs it when slow."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        request.id = rid
        started = time.monotonic()
        try:
            response = self.get_response(request)
            elapsed = time.monotonic() - started
            response["X-Request-ID"] = rid
            if elapsed >= settings.ARCHIVE_SLOW_REQUEST_SECONDS:
                log.warning(
                    "slow request",
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "seconds": round(elapsed, 3),
                    },
                )
            return response
        finally:
            request_id.reset(token)
