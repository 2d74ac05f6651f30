"""``manage.py import_archive FILE``: an archive written by export_archive,
into an empty database; then ``manage.py rebuild_index``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from archive import backup


class Command(BaseCommand):
    help = (
        "Restore an archive written by export_archive into an empty database "
        "(after migrate), keeping every id; then run rebuild_index."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        if not file.is_file():
            raise CommandError(f"no file {file}")
        try:
            counts = backup.restore(file)
        except backup.NotEmpty as exc:
            raise CommandError(str(exc)) from None
        except Exception as exc:
            # loaddata's own message (a malformed line, a missing row); the
            # transaction is rolled back, so nothing was written.
            raise CommandError(f"nothing was restored: {exc}") from exc
        summary = ", ".join(f"{n} {label}" for label, n in counts.items() if n)
        self.stdout.write(f"restored {summary}")
        self.stdout.write("now run: python manage.py rebuild_index")
