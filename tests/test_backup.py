"""Backup and restore: export_archive, then import_archive into an empty
database and rebuild_index, gives back the same archive (ids, anchors,
counters, revisions and their authors), on SQLite, on PostgreSQL, and from
one to the other."""

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import ROOT, database_for, isolated_env, manage

pytestmark = pytest.mark.server

# A curator's working archive: seeds, an edit with its revision by a named
# curator, a featured quote, a deleted and a merged turn, a renamed slug, a
# draft, a series and topics.
SHAPE_THE_ARCHIVE = """
from django.contrib.auth.models import User
from archive.models import (
    FeaturedQuote, Interview, Revision, Series, Topic, Turn, Speaker
)
curator = User.objects.create_superuser("ann", "ann@example.org", "pw-ann-long-1")
podcast = Interview.objects.get(slug="cyber-norms-in-us-china-relations")
turn = podcast.turns.order_by("position")[3]
before = Revision.snapshot(turn)
turn.body += " Corrected by Ann."
turn.save()
Revision.record(turn, before, user=curator)
FeaturedQuote.objects.create(turn=podcast.turns.order_by("position")[5], note="Key")
turns = list(podcast.turns.order_by("position"))
turns[8].merge_into(turns[7])
turns[10].delete()
podcast.series = Series.objects.create(name="Carnegie-Tsinghua Podcast")
podcast.slug = "cyber-norms-podcast"
podcast.save()
podcast.topics.add(Topic.objects.create(name="Espionage", slug="espionage"))
Interview.objects.create(title="A draft", published=False)
Speaker.objects.filter(name__icontains="Maurer").update(aliases="T. Maurer")
"""

NEW_TURN = """
from archive.models import Interview, Speaker
interview = Interview.objects.get(slug="cyber-norms-podcast")
turn = interview.turns.create(
    speaker=Speaker.objects.first(), body="Added after the restore.",
    position=999,
)
print(turn.pk, turn.anchor)
"""


def _lines(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return [json.loads(line) for line in f]


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("sqlite", "sqlite"),
        ("postgresql", "postgresql"),
        ("sqlite", "postgresql"),
        ("postgresql", "sqlite"),
    ],
)
def test_export_then_import_gives_back_the_same_archive(tmp_path, source, target):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = isolated_env(tmp_path / "a", database_for(source, "archive_backup_a"))
    b = isolated_env(tmp_path / "b", database_for(target, "archive_backup_b"))
    manage(a, "migrate", "--noinput")
    manage(a, "import_transcript", "fixtures/interviews")
    manage(a, "shell", "-c", SHAPE_THE_ARCHIVE)
    first = tmp_path / "archive.jsonl.gz"
    manage(a, "export_archive", str(first))

    manage(b, "migrate", "--noinput")
    out = manage(b, "import_archive", str(first)).stdout
    assert "restored" in out and "rebuild_index" in out
    manage(b, "rebuild_index")
    manage(b, "collectstatic", "--noinput", "--verbosity", "0")  # pages need it
    second = tmp_path / "again.jsonl"
    manage(b, "export_archive", str(second))

    exported, restored = _lines(first), _lines(second)
    assert restored == exported
    kinds = {row["model"] for row in exported}
    assert {
        "archive.turn",
        "archive.revision",
        "archive.retiredturn",
        "archive.featuredquote",
        "archive.interviewslug",
        "auth.user",
    } <= kinds
    revision = next(row for row in exported if row["model"] == "archive.revision")
    assert revision["fields"]["user"] is not None  # the author came along

    # The restored archive serves the old links and its search works.
    check = manage(
        b,
        "shell",
        "-v",
        "0",
        "-c",
        "from django.test import Client; c = Client(HTTP_HOST='localhost'); "
        "from archive.models import Turn, RetiredTurn; "
        "t = Turn.objects.get(body__contains='Corrected by Ann'); "
        "r = RetiredTurn.objects.filter(successor_id__isnull=True).first(); "
        "print(c.get(f'/q/{t.pk}').status_code, c.get(f'/q/{r.turn_id}').status_code,"
        " c.get('/interviews/cyber-norms-in-us-china-relations/').status_code,"
        " c.get('/api/search?q=corrected').json()['total'])",
    ).stdout.split()
    assert check == ["200", "410", "301", "1"]

    # Sequences moved past the restored ids: a new turn gets a new id and
    # the interview's next anchor.
    pk, anchor = map(int, manage(b, "shell", "-v", "0", "-c", NEW_TURN).stdout.split())
    turn_rows = [r for r in exported if r["model"] == "archive.turn"]
    assert pk > max(r["pk"] for r in turn_rows)
    podcast = next(
        r
        for r in exported
        if r["model"] == "archive.interview"
        and r["fields"]["slug"] == "cyber-norms-podcast"
    )
    assert anchor == podcast["fields"]["next_anchor"]


def refused_import(env, path) -> subprocess.CompletedProcess:
    """import_archive run as an operator would, expected to fail."""
    result = subprocess.run(
        [sys.executable, "manage.py", "import_archive", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    return result


def test_import_refuses_a_database_that_already_holds_an_archive(tmp_path):
    env = isolated_env(tmp_path)
    manage(env, "migrate", "--noinput")
    manage(env, "import_transcript", "fixtures/interviews")
    path = tmp_path / "archive.jsonl"
    manage(env, "export_archive", str(path))
    result = refused_import(env, path)
    assert "restores into an empty database" in result.stderr


def test_a_damaged_file_restores_nothing(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = isolated_env(tmp_path / "a"), isolated_env(tmp_path / "b")
    manage(a, "migrate", "--noinput")
    manage(a, "import_transcript", "fixtures/interviews")
    path = tmp_path / "archive.jsonl"
    manage(a, "export_archive", str(path))
    lines = path.read_text().splitlines()
    # Cut off mid-file, as a full disk would: the last line is half written.
    path.write_text("\n".join(lines[: len(lines) // 2]) + "\n" + lines[-1][:40])
    manage(b, "migrate", "--noinput")
    result = refused_import(b, path)
    assert "nothing was restored" in result.stderr
    count = manage(
        b,
        "shell",
        "-v",
        "0",
        "-c",
        "from archive.models import Interview, Turn, Speaker; "
        "print(Interview.objects.count() + Turn.objects.count() "
        "+ Speaker.objects.count())",
    ).stdout.strip()
    assert count == "0"
