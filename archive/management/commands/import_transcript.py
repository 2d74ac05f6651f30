"""``manage.py import_transcript PATH...``: import transcript files or folders."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from archive.importer import Overrides, import_file, transcript_files
from archive.parsing import FORMATS
from archive.parsing.text import parse_date


class Command(BaseCommand):
    help = (
        "Import transcripts (files, or folders of them). A <name>.toml sidecar "
        "beside a file gives its metadata. Unchanged sources are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--draft", action="store_true", help="import unpublished")
        parser.add_argument(
            "--force",
            action="store_true",
            help="re-import even over edits made in the admin since the last import",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="parse and check; write nothing"
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="print each interview in the archive's JSON shape",
        )
        parser.add_argument("--title", default="", help="title (one file only)")
        parser.add_argument("--date", default="", help="YYYY[-MM[-DD]] (one file only)")
        parser.add_argument("--series", default="", help="series (one file only)")
        parser.add_argument("--format", default="", choices=["", *FORMATS])
        parser.add_argument("--markup", default="", choices=["", "markdown", "plain"])

    def handle(self, *args, **options):
        files: list[Path] = []
        for path in options["paths"]:
            if not path.exists():
                raise CommandError(f"{path}: no such file or directory")
            files.extend(transcript_files(path))
        date = options["date"]
        if date and not parse_date(date):
            raise CommandError(f"--date {date!r}: use YYYY, YYYY-MM or YYYY-MM-DD")
        per_file = any(options[k] for k in ("title", "date", "series"))
        if per_file and len(files) != 1:
            raise CommandError("--title, --date and --series need exactly one file")
        overrides = Overrides(
            title=options["title"],
            date=parse_date(date) if date else "",
            series=options["series"],
            format=options["format"],
            markup=options["markup"],
        )

        documents, failures = [], []
        counts: dict[str, int] = {}
        for path in files:
            outcome = import_file(
                path,
                draft=options["draft"],
                force=options["force"],
                dry_run=options["dry_run"],
                overrides=overrides,
            )
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            for warning in outcome.warnings:
                self.stderr.write(f"warning: {path}: {warning}")
            if outcome.failed:
                failures.append(outcome)
                self.stderr.write(self.style.ERROR(f"error: {path}: {outcome.message}"))
                continue
            if options["json"]:
                documents.append(outcome.document)
            elif outcome.interview is not None or options["dry_run"]:
                self._report(outcome, options["dry_run"])

        if options["json"]:
            payload = documents[0] if len(documents) == 1 else documents
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        self.stderr.write(
            f"{len(files)} file{'s' if len(files) != 1 else ''}: {summary}"
        )
        if failures:
            raise CommandError(
                f"{len(failures)} of {len(files)} file"
                f"{'s' if len(files) != 1 else ''} failed to import"
            )

    def _report(self, outcome, dry_run):
        verb = f"{outcome.status} (dry run)" if dry_run else outcome.status
        where = ""
        if outcome.interview is not None:
            interview = outcome.interview
            where = f" → {interview.get_absolute_url()} ({interview.turn_count} turns)"
        elif outcome.document:
            where = f" ({len(outcome.document['turns'])} turns)"
        self.stdout.write(f"{verb}: {outcome.path}{where}")
