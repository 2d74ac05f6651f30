"""``manage.py rebuild_index``: a new search index from the database.

Built beside the serving index and switched to atomically; a failed rebuild
leaves the old index serving. Changes made meanwhile are applied afterwards.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from archive.management.progress import Progress
from archive.search.queue import rebuild


class Command(BaseCommand):
    help = "Rebuild the search index from the database, then switch to it."

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            build = rebuild(progress=Progress(self.stderr, "turns"))
        except Exception as exc:
            raise CommandError(
                f"rebuild failed, the old index keeps serving: {exc}"
            ) from exc
        finally:
            self.stderr.write("", style_func=str)  # ends the progress line
        self.stdout.write(
            f"index {build} built in {time.monotonic() - started:.1f} s and serving"
        )
