"""``manage.py import_transcript PATH...``: import transcript files or folders.

Each file is imported in its own transaction; a bad file is reported and the
import goes on. Re-running on the same files changes nothing.
"""

import json
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from archive.importer import Overrides, import_file, source_name_for, transcript_files
from archive.management.progress import Progress
from archive.models import Medium
from archive.parsing import FORMATS
from archive.parsing.text import parse_date

_STATUS_ORDER = ("created", "updated", "unchanged", "kept", "skipped", "failed")


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
        parser.add_argument(
            "--update",
            default="",
            metavar="SLUG",
            help="the interview this file replaces (one file only); otherwise a "
            "file known only by its name updates an interview only when its "
            "content matches",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="allow a re-import that drops more than half of an interview's "
            "turns (their links then answer 410 Gone)",
        )
        parser.add_argument("--title", default="", help="title (one file only)")
        parser.add_argument("--date", default="", help="YYYY[-MM[-DD]] (one file only)")
        parser.add_argument("--series", default="", help="series (one file only)")
        parser.add_argument(
            "--medium",
            default="",
            choices=["", *Medium.values],
            help="podcast, article, … (one file only)",
        )
        parser.add_argument(
            "--topic",
            action="append",
            default=[],
            dest="topics",
            help="a topic (repeat for several; one file only)",
        )
        parser.add_argument(
            "--format",
            default="",
            choices=["", *FORMATS],
            help="the transcript format (default: detected from name and content)",
        )
        parser.add_argument(
            "--markup",
            default="",
            choices=["", "markdown", "plain"],
            help="how turn text is written (default: detected)",
        )
        parser.add_argument(
            "--interviewer", default="", help="who asks, in a Q&A that does not say"
        )
        parser.add_argument(
            "--interviewee", default="", help="who answers, in a Q&A that does not say"
        )
        parser.add_argument(
            "--speaker",
            action="append",
            default=[],
            dest="speakers",
            metavar='ID="Name"',
            help='name a diarized speaker id: --speaker SPEAKER_00="Ann Lee" '
            "(repeat for each)",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar"
        )

    def handle(self, *args, **options):
        files: list[tuple[Path, str]] = []
        for root in options["paths"]:
            if not root.exists():
                raise CommandError(f"{root}: no such file or directory")
            files.extend((p, source_name_for(p, root)) for p in transcript_files(root))
        if not files:
            raise CommandError("no transcript files found")
        date = options["date"]
        if date and not parse_date(date):
            raise CommandError(f"--date {date!r}: use YYYY, YYYY-MM or YYYY-MM-DD")
        per_file = any(
            options[k]
            for k in ("title", "date", "series", "medium", "topics", "update")
        )
        if per_file and len(files) != 1:
            raise CommandError(
                "--title, --date, --series, --medium, --topic and --update need "
                "exactly one file"
            )
        speakers = []
        for given in options["speakers"]:
            speaker_id, _, name = given.partition("=")
            if not speaker_id.strip() or not name.strip().strip('"'):
                raise CommandError(f'--speaker {given!r}: use ID="Name"')
            speakers.append((speaker_id.strip(), name.strip().strip('"')))
        overrides = Overrides(
            title=options["title"],
            date=parse_date(date) if date else "",
            series=options["series"],
            medium=options["medium"],
            topics=tuple(options["topics"]),
            format=options["format"],
            markup=options["markup"],
            interviewer=options["interviewer"],
            interviewee=options["interviewee"],
            speakers=tuple(speakers),
        )

        show_progress = len(files) > 1 and not options["no_progress"]
        progress = Progress(self.stderr, "files") if show_progress else None
        documents, failures, warnings, skipped = [], [], [], []
        counts: Counter = Counter()
        turns = 0
        for done, (path, source_name) in enumerate(files, 1):
            outcome = import_file(
                path,
                draft=options["draft"],
                force=options["force"],
                dry_run=options["dry_run"],
                overrides=overrides,
                source_name=source_name,
                update=options["update"],
                replace=options["replace"],
            )
            counts[outcome.status] += 1
            warnings += [(path, w) for w in outcome.warnings]
            if outcome.failed:
                failures.append(outcome)
            elif outcome.status == "skipped":
                skipped.append(outcome)
            elif options["json"]:
                # The warnings the admin's preview shows, with the document.
                document = outcome.document
                if document is not None:
                    document = {**document, "warnings": outcome.warnings}
                documents.append(document)
            elif not show_progress:
                self._report(outcome, options["dry_run"])
            if outcome.interview is not None:
                turns += outcome.interview.turn_count
            elif outcome.document:
                turns += len(outcome.document["turns"])
            if progress:
                progress(done, len(files), turns=turns)
        if progress:
            progress.end()

        if options["json"]:
            payload = documents[0] if len(documents) == 1 else documents
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
        for path, warning in warnings:
            self.stderr.write(f"warning: {path}: {warning}")
        for outcome in skipped:
            self.stderr.write(f"skipped: {outcome.path}: {outcome.message}")
        for outcome in failures:
            self.stderr.write(
                self.style.ERROR(f"error: {outcome.path}: {outcome.message}")
            )
        summary = ", ".join(
            f"{counts[status]} {status}" for status in _STATUS_ORDER if counts[status]
        )
        verb = " (dry run)" if options["dry_run"] else ""
        self.stderr.write(
            f"{len(files)} file{'s' if len(files) != 1 else ''}{verb}: {summary}; "
            f"{turns:,} turns"
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
