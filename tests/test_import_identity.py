"""Which interview an import updates, and imports that race each other:
nothing lost, nothing duplicated."""

import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from archive.models import Interview, Turn
from tests.live import ROOT, database_for, isolated_env, manage

FIRST = "Ann Lee: What is a norm?\n\nBo Chen: An expectation.\n\n" * 4
SECOND = "Cy Diaz: Welcome.\n\nDi Ek: Thanks for having me.\n\n" * 5


def run(*args):
    """Run the command; (stdout, stderr), or CommandError with stderr attached."""
    out, err = StringIO(), StringIO()
    try:
        call_command("import_transcript", *map(str, args), stdout=out, stderr=err)
    except CommandError as exc:
        exc.stderr = err.getvalue()
        raise
    return out.getvalue(), err.getvalue()


def test_different_files_of_one_name_imported_alone_are_two_interviews(db, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "input.txt").write_text(FIRST)
    (tmp_path / "b" / "input.txt").write_text(SECOND)
    run(tmp_path / "a" / "input.txt")
    _, err = run(tmp_path / "b" / "input.txt")
    assert Interview.objects.count() == 2
    first = Interview.objects.get(participants__speaker__name="Ann Lee")
    assert first.turns.count() == 8  # untouched
    assert (
        f"another transcript named input.txt is already in the archive ({first.slug})"
        in err
    )
    assert "1 created" in err


def test_the_same_file_corrected_updates_its_interview(db, tmp_path):
    source = tmp_path / "input.txt"
    source.write_text(FIRST)
    run(source)
    source.write_text(FIRST.replace("An expectation.", "A shared expectation.", 1))
    _, err = run(source)
    assert "1 updated" in err
    assert Interview.objects.count() == 1
    assert Turn.objects.filter(body="A shared expectation.").count() == 1


def test_update_names_the_interview_a_different_file_replaces(db, tmp_path):
    (tmp_path / "old.txt").write_text(FIRST)
    run(tmp_path / "old.txt")
    slug = Interview.objects.get().slug
    (tmp_path / "new.txt").write_text(FIRST + "Ann Lee: One more?\n")
    _, err = run(tmp_path / "new.txt", "--update", slug)
    assert "1 updated" in err
    assert Interview.objects.get().turn_count == 9


def test_update_of_an_unknown_slug_fails_plainly(db, tmp_path):
    (tmp_path / "x.txt").write_text(FIRST)
    with pytest.raises(CommandError) as raised:
        run(tmp_path / "x.txt", "--update", "no-such-interview")
    assert "there is no interview “no-such-interview” to update" in raised.value.stderr
    assert not Interview.objects.exists()


def test_a_reimport_that_would_drop_most_turns_stops_unless_replacing(db, tmp_path):
    source = tmp_path / "talk.txt"
    source.write_text(FIRST)
    run(source)
    interview = Interview.objects.get()
    anchors = set(interview.turns.values_list("anchor", flat=True))
    # Same title and speakers, but nearly every turn says something else.
    source.write_text(
        "Ann Lee: Something else entirely?\n\nBo Chen: Yes, quite different.\n\n" * 3
        + "Ann Lee: What is a norm?\n"
    )
    with pytest.raises(CommandError) as raised:
        run(source)
    assert "this would replace 7 of the interview's 8 turns" in raised.value.stderr
    assert "--replace" in raised.value.stderr
    assert set(interview.turns.values_list("anchor", flat=True)) == anchors
    _, err = run(source, "--replace")
    assert "1 updated" in err
    assert interview.turns.count() == 7


# Concurrent imports, as separate processes ---------------------------------------


def _import_at_once(env, path, n=3):
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "import_transcript", str(path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    return [(p.wait(timeout=300), *p.communicate()) for p in processes]


def _count_interviews(env):
    result = manage(
        env,
        "shell",
        "--verbosity",
        "0",
        "-c",
        "from archive.models import Interview; "
        "print(Interview.objects.count(), "
        "Interview.objects.values_list('slug', flat=True).first())",
    )
    count, slug = result.stdout.split()
    return int(count), slug


@pytest.mark.server
@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_concurrent_imports_of_one_file_end_with_one_interview(tmp_path, engine):
    database_url = database_for(engine, "archive_concurrent_import")
    env = isolated_env(tmp_path / "data", database_url)
    (tmp_path / "data").mkdir()
    manage(env, "migrate", "--noinput")
    source = tmp_path / "dup.txt"
    source.write_text(FIRST * 50)
    results = _import_at_once(env, source)
    for code, _out, err in results:
        assert "Traceback" not in err, err
        assert code == 0 or "error: " in err, err
    assert _count_interviews(env) == (1, "dup")
    # And after the race, a re-import still finds the one interview.
    results = _import_at_once(env, source, n=2)
    assert all("1 unchanged" in err for _, _, err in results), results
    assert _count_interviews(env)[0] == 1
