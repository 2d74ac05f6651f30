"""``manage.py index_worker``: the one consumer of the indexing queue.

`make run` starts it beside gunicorn. Only one process writes to the index at
a time (a file lock), so starting a second worker is safe: it waits.
"""

import signal

from django.core.management.base import BaseCommand

from archive.search.hooks import postgres
from archive.search.queue import drain, run_consumer


class Command(BaseCommand):
    help = "Apply queued changes to the search index, continuously or once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="drain the queue once and exit"
        )
        parser.add_argument("--interval", type=float, default=0.5)

    def handle(self, *args, **options):
        if postgres():
            self.stdout.write(
                "The PostgreSQL search engine writes its entries with every "
                "change: there is no queue to drain."
            )
            return
        if options["once"]:
            applied = drain()
            self.stdout.write(f"applied {applied} queued change(s)")
            return
        stopping = []

        def stop(signum, frame):
            stopping.append(signum)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        run_consumer(interval=options["interval"], should_stop=lambda: bool(stopping))
