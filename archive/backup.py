"""The whole archive in one file, and back: ``manage.py export_archive`` and
``manage.py import_archive``.

The file is Django's own serialization (JSON Lines, one object per line,
gzip-compressed when the name ends in ``.gz``), written by ``dumpdata`` and
read by ``loaddata``, so it streams both ways and every row keeps its
primary key: ``/q/<turn id>`` links, anchors and ``next_anchor`` counters,
retired turns, revisions and their authors come back exactly. Staff accounts
travel with it (revisions name them); permissions and content types are
named by natural keys, so the file loads into a database whose ids for
those differ. What is derived is left out and rebuilt: the search index and
its queue, the page cache, rate-limit counts, sessions, login attempts.
"""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction

# In dependency order, so that a plain loaddata never meets a missing row.
MODELS = [
    "auth.group",
    "auth.user",
    "archive.topic",
    "archive.series",
    "archive.speaker",
    "archive.interview",
    "archive.interviewsource",
    "archive.interviewslug",
    "archive.participant",
    "archive.turn",
    "archive.retiredturn",
    "archive.featuredquote",
    "archive.revision",
    "admin.logentry",
]


class NotEmpty(Exception):
    """The database already holds an archive (or staff accounts)."""


def export(path: Path) -> None:
    call_command(
        "dumpdata",
        *MODELS,
        format="jsonl",
        natural_foreign=True,
        output=str(path),
        verbosity=0,
    )


def restore(path: Path) -> dict[str, int]:
    """Load ``path`` into an empty database in one transaction, then move
    every id sequence past the restored ids. Counts of rows per model."""
    models = [apps.get_model(label) for label in MODELS]
    with transaction.atomic():
        occupied = [m._meta.verbose_name_plural for m in models if m.objects.exists()]
        if occupied:
            raise NotEmpty(
                "import_archive restores into an empty database (run migrate "
                "on a new one), but this one already has "
                + ", ".join(str(name) for name in occupied)
                + "."
            )
        call_command("loaddata", str(path), verbosity=0)
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)
    return {m._meta.label: m.objects.count() for m in models}
