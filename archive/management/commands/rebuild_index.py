"""``manage.py rebuild_index``: a new search index from the database.

Built beside the serving index and switched to atomically; a failed rebuild
leaves the old index serving. Changes made meanwhile are applied afterwards.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from archive.search.queue import rebuild


class Progress:
    """A one-line progress bar with a rate and the time left.

    ``stream`` is a command's ``OutputWrapper`` (``self.stderr``), so that
    ``call_command(..., stderr=...)`` captures the bar too.
    """

    def __init__(self, stream, width: int = 30):
        self.stream, self.width = stream, width
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.2 and done < total:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        left = (total - done) / rate if rate else 0
        filled = int(self.width * done / total) if total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(
            f"\r[{bar}] {done:,}/{total:,} turns  {rate:,.0f}/s  "
            f"{int(left // 60)}:{int(left % 60):02d} left ",
            style_func=str,  # plain, not the error colour of stderr on a tty
            ending="",
        )
        self.stream.flush()


class Command(BaseCommand):
    help = "Rebuild the search index from the database, then switch to it."

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            build = rebuild(progress=Progress(self.stderr))
        except Exception as exc:
            raise CommandError(
                f"rebuild failed, the old index keeps serving: {exc}"
            ) from exc
        finally:
            self.stderr.write("", style_func=str)  # ends the progress line
        self.stdout.write(
            f"index {build} built in {time.monotonic() - started:.1f} s and serving"
        )
