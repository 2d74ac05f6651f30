"""Who the client is, and how much one client may ask of the archive.

Searches, the API, feeds and exports are the pages a script can repeat
cheaply and we pay for dearly, so each client (by address) gets a number of
them per window of time; beyond it, ``429 Too Many Requests`` with
``Retry-After``. The staff login page gets its own, smaller allowance per
address, beside django-axes' lockout of an (account, address) pair.

Counts live in the database (``RequestCount``), one atomic
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` per request, so every worker
and every app server sharing the database counts together, with no lost
increments (Django's database cache reads then writes, and would lose them).
"""

from __future__ import annotations

import functools
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from archive.models import RequestCount

# The views each allowance covers, by URL name ("admin:login" only when
# posted: reading the login form costs nothing).
SCOPES = {
    "archive-search": "search",
    "archive-api-search": "search",
    "archive-feed-search": "search",
    "archive-api-interviews": "reuse",
    "archive-api-interview": "reuse",
    "archive-api-interview-export": "reuse",
    "archive-interview-export": "reuse",
    "archive-interview-citation": "reuse",
    "archive-quote-citation": "reuse",
    "archive-feed-interviews": "reuse",
    "archive-feed-speaker": "reuse",
    "admin:login": "login",
}

WHAT = {
    "search": "searches",
    "reuse": "API, feed and export requests",
    "login": "sign-in attempts",
}


@dataclass(frozen=True)
class Limit:
    requests: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Limit:
        """``"60/60"``: 60 requests per 60 seconds."""
        requests, _, seconds = text.partition("/")
        limit = cls(int(requests), int(seconds or 60))
        if limit.requests < 1 or limit.seconds < 1:
            raise ValueError(f"a rate limit needs positive numbers: {text!r}")
        return limit


def client_address(request) -> str:
    """The client's address, as the outermost trusted proxy saw it.

    Behind ``ARCHIVE_TRUSTED_PROXIES`` proxies, each appends to
    ``X-Forwarded-For`` the address it was reached from, so the client is
    the entry that many places from the right; anything further left was
    written by the client and proves nothing. Without proxies (the default)
    the header is ignored: anyone can send one.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.ARCHIVE_TRUSTED_PROXIES
    if proxies:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            candidate = hops[-proxies] if len(hops) >= proxies else hops[0]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return remote[:64]


@functools.cache
def _exempt_networks(spec: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def exempt(address: str) -> bool:
    """Addresses exempt from the limits (``ARCHIVE_RATE_LIMIT_EXEMPT``), for
    load tests from loopback and a trusted monitor."""
    networks = _exempt_networks(tuple(settings.ARCHIVE_RATE_LIMIT_EXEMPT))
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def count(client: str, scope: str, limit: Limit, now: float | None = None):
    """Count one request; the number in this window so far (this one
    included) and the seconds until the window ends."""
    now = time.time() if now is None else now
    window = int(now // limit.seconds * limit.seconds)
    table = connection.ops.quote_name(RequestCount._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (client, scope, window_start, hits) "
            "VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (client, scope, window_start) "
            f"DO UPDATE SET hits = {table}.hits + 1 RETURNING hits",
            [client, scope, window],
        )
        hits = cursor.fetchone()[0]
        if hits == 1:
            # A client's first request in a window sweeps away windows that
            # have ended for everyone, so the table stays small.
            oldest = window - 2 * max(limit.seconds for limit in _limits().values())
            RequestCount.objects.filter(window_start__lt=oldest).delete()
    return hits, max(1, int(window + limit.seconds - now + 0.999))


def _limits() -> dict[str, Limit]:
    return {scope: Limit.parse(text) for scope, text in settings.ARCHIVE_RATE_LIMITS}


class RateLimitMiddleware:
    """Answers 429 with ``Retry-After`` once a client has used its allowance
    for the view it asks for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        scope = SCOPES.get(match.view_name if match else "")
        if scope is None or (scope == "login" and request.method != "POST"):
            return None
        limit = _limits().get(scope)
        client = client_address(request)
        if limit is None or exempt(client):
            return None
        hits, retry_after = count(client, scope, limit)
        if hits <= limit.requests:
            return None
        return too_many(request, scope, limit, retry_after)


def too_many(request, scope: str, limit: Limit, retry_after: int) -> HttpResponse:
    if limit.seconds == 60:
        period = "minute"
    elif limit.seconds % 60 == 0:
        period = f"{limit.seconds // 60} minutes"
    else:
        period = f"{limit.seconds} seconds"
    message = (
        f"Too many {WHAT[scope]} from your address: the archive answers "
        f"{limit.requests} per {period}. Please try again in {retry_after} "
        f"second{'s' if retry_after != 1 else ''}."
    )
    if request.path.startswith("/api/"):
        response = JsonResponse({"error": message}, status=429)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
