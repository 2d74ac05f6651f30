"""``manage.py export_archive FILE``: the whole archive in one file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from archive import backup


class Command(BaseCommand):
    help = (
        "Write the whole archive (interviews, speakers, turns, topics, series, "
        "featured quotes, revisions, staff accounts) to FILE (.jsonl, or "
        ".jsonl.gz compressed); import_archive reads it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        if not file.name.endswith((".jsonl", ".jsonl.gz")):
            raise CommandError("name the file .jsonl or .jsonl.gz")
        if not file.parent.is_dir():
            raise CommandError(f"no folder {file.parent} to write into")
        # Written beside and renamed into place: an interrupted export never
        # leaves a truncated file under the name a restore would trust.
        partial = file.with_name(".partial-" + file.name)
        try:
            backup.export(partial)
            partial.replace(file)
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(f"archive written to {file}")
