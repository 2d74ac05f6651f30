"""``manage.py check_index``: does the search index match the database?"""

from django.core.management.base import BaseCommand, CommandError

from archive.search.queue import check


class Command(BaseCommand):
    help = "Report missing, stale and orphaned index documents; --repair fixes them."

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true")

    def handle(self, *args, **options):
        report = check(repair=options["repair"])
        for name in ("missing", "stale", "orphaned"):
            ids = report[name]
            sample = ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")
            self.stdout.write(
                f"{name}: {len(ids)}{'  (' + sample + ')' if ids else ''}"
            )
        problems = sum(len(report[n]) for n in ("missing", "stale", "orphaned"))
        if problems and options["repair"]:
            self.stdout.write(f"repaired {problems} document(s)")
        elif problems:
            raise CommandError(f"{problems} document(s) out of step; run with --repair")
        else:
            self.stdout.write("the index matches the database")
