"""The PostgreSQL engine's own machinery: entries written in the change's
transaction, the vocabulary shared by concurrent writers, rebuilding and
checking the entries, and the limits of a ``tsvector``.

What it finds, ranks, marks and counts is tested by the rest of the suite,
which `make test` runs once more with ARCHIVE_SEARCH_BACKEND=postgres.
"""

import io
import re
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from archive.models import Interview, SearchEntry, SearchTerm, Speaker, Turn
from archive.search import analysis, health, postgres, search

pytestmark = pytest.mark.postgres_search


def api(client, query: str) -> dict:
    return client.get("/api/search", {"q": query}).json()


def total(query: str) -> int | None:
    return search(query).total


def test_a_rolled_back_edit_leaves_the_entries_as_they_were(make_interview):
    talk = make_interview("Talk", turns=[("Ola Osei", "The zephyr clause.")])
    turn = talk.turns.get()
    with pytest.raises(RuntimeError), transaction.atomic():
        turn.body = "The walrus clause."
        turn.save()
        assert total("walrus") == 1  # the transaction sees its own write
        raise RuntimeError("the curator's save fails after the turn is written")
    assert total("walrus") == 0
    assert total("zephyr") == 1


def test_an_entry_follows_every_kind_of_write(make_interview):
    talk = make_interview(
        "Quokka diplomacy",
        turns=[("Hana Host", "Marmalade?"), ("Gil Guest", "Zephyr.")],
        roles={"Hana Host": "host"},
    )
    host, guest = talk.turns.order_by("position")
    Turn.objects.filter(pk=host.pk).update(kind="question", position=9)
    entry = SearchEntry.objects.get(turn=host)
    assert (entry.kind, entry.position) == ("question", 9)
    Speaker.objects.filter(name="Gil Guest").update(name="Gideon Ferrante")
    assert total("speaker:ferrante zephyr") == 1
    Interview.objects.filter(pk=talk.pk).update(title="Walrus summit")
    assert total("walrus") == 1
    Turn.objects.filter(pk=guest.pk).delete()
    assert not SearchEntry.objects.filter(turn_id=guest.pk).exists()
    talk.delete()
    assert not SearchEntry.objects.filter(interview_id=talk.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_writers_adding_the_same_new_words_neither_wait_nor_fail(make_interview):
    # Each writer adds, in its own transaction, words the other adds too, in
    # the opposite order and in two statements: with plain inserts of the
    # shared vocabulary this deadlocks or waits for the other to commit.
    words = [f"quillwort{n}" for n in range(20)]
    speaker = Speaker.objects.create(name="Ola Osei")
    ready, errors = threading.Barrier(2), []

    def writer(position, order):
        # Each its own interview: a turn's anchor locks its interview's row.
        talk = Interview.objects.create(title=f"Vocabulary {position}")
        try:
            with transaction.atomic():
                for part in (order[:10], order[10:]):
                    position += 1
                    Turn.objects.create(
                        interview=talk,
                        position=position,
                        speaker=speaker,
                        body=" ".join(part),
                    )
                    ready.wait(timeout=30)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=writer, args=(0, words)),
        threading.Thread(target=writer, args=(10, list(reversed(words)))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    known = set(
        SearchTerm.objects.filter(field="w", term__startswith="quillwort").values_list(
            "term", flat=True
        )
    )
    assert known == set(words)
    assert total("quillwort*") == 4


def test_check_index_finds_missing_and_stale_entries_and_repairs_them(
    make_interview,
):
    talk = make_interview("Talk", turns=[("Ola Osei", "Quorum vote.")] * 3)
    first, second, _ = talk.turns.order_by("position")
    SearchEntry.objects.filter(turn=first).delete()
    SearchEntry.objects.filter(turn=second).update(position=77)

    out = io.StringIO()
    with pytest.raises(Exception, match="out of step"):
        call_command("check_index", stdout=out)
    assert f"missing: 1  (t{first.pk})" in out.getvalue()
    assert f"stale: 1  (t{second.pk})" in out.getvalue()
    assert total("quorum") == 2

    call_command("check_index", "--repair", stdout=io.StringIO())
    call_command("check_index", stdout=(clean := io.StringIO()))
    assert "the index matches the database" in clean.getvalue()
    assert total("quorum") == 3
    assert [h.position for h in search("quorum", sort="oldest").hits] == [1, 2, 3]


def test_rebuild_index_writes_every_entry_again(indexed, client):
    before = search("norms").total
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM archive_searchentry")
        cursor.execute("DELETE FROM archive_searchterm")
    assert "rebuild_index" in health()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "search entries missing" in response.json()["search"]
    assert search("norms").total == 0

    out, err = io.StringIO(), io.StringIO()
    call_command("rebuild_index", stdout=out, stderr=err)

    assert health() is None
    assert client.get("/healthz").status_code == 200
    assert search("norms").total == before > 0
    assert search("soverignty").respelled_from == "soverignty"
    turns = Turn.objects.count()
    assert re.search(rf"{turns}/{turns} turns", err.getvalue()), err.getvalue()
    assert "PostgreSQL entries" in out.getvalue()


def test_texts_beyond_what_a_tsvector_holds_are_written_and_their_start_found(
    make_interview,
):
    long_word = "x" * 3000
    many = " ".join(f"w{n}" for n in range(17_000)) + " finalword"
    talk = make_interview(
        "Limits",
        turns=[
            ("Ola Osei", f"Opening {long_word} closing."),
            ("Ola Osei", "repeat " * 400 + "ending"),
            ("Ola Osei", many),
        ],
    )
    assert SearchEntry.objects.filter(interview=talk).count() == 4
    # A word over 2 kB is left out; the words around it are found.
    assert total("opening closing") == 1
    # 256 places a word at most, and positions up to 16,383: past those a
    # phrase may be missed, but every word is found.
    assert total("repeat ending") == 1
    assert total("w5") == 1
    assert total("finalword") == 1
    # Their hits are marked all the same (by analysing the text).
    assert "<mark>finalword</mark>" in search("finalword").hits[0].snippet
    assert "<mark>ending</mark>" in search("ending").hits[0].snippet
    assert "<mark>repeat</mark>" in search("repeat").hits[0].snippet


def test_a_long_turns_snippet_marks_its_matches_wherever_they_are(
    make_interview, client
):
    filler = "Steve explains how the network stack handles packets. " * 80
    make_interview(
        "Long turns",
        turns=[
            ("Ola Osei", filler + "Then the quillwort certificate expired."),
            # Words that begin like the term but are not it, far from the
            # one match, which only the analyzer sees ("U.S.").
            ("Ola Osei", "Unitary units unite. " * 40 + filler + "The U.S. said so."),
        ],
    )
    (hit,) = client.get("/api/search", {"q": "quillwort"}).json()["hits"]
    assert "<mark>quillwort</mark>" in hit["snippet"]
    hits = client.get("/api/search", {"q": '"united states" said'}).json()["hits"]
    assert any("<mark>U.S.</mark>" in h["snippet"] for h in hits), hits


def test_hits_are_marked_from_their_entries_without_analysing_the_text(
    make_interview, client, monkeypatch
):
    talk = make_interview(
        "Marked",
        turns=[
            (
                "Ola Osei",
                "The cyber security of United States ports, and the U.S. Navy.",
            ),
            ("Ola Osei", "Ports again: cyber-security, said the navy."),
        ],
    )

    def analysed(*args, **kwargs):
        raise AssertionError("a hit's text was analysed again")

    monkeypatch.setattr(postgres, "spans", analysed)
    monkeypatch.setattr(analysis, "marking_spans", analysed)
    snippets = {
        query: [h["snippet"] for h in api(client, query)["hits"]]
        for query in ("security", '"united states" navy', '"cyber security" ports')
    }
    assert sorted(snippets["security"]) == [
        "Ports again: <mark>cyber-security</mark>, said the navy.",
        "The cyber <mark>security</mark> of United States ports, and the U.S. Navy.",
    ]
    assert snippets['"united states" navy'] == [
        "The cyber security of <mark>United States</mark> ports, and the "
        "<mark>U.S.</mark> <mark>Navy</mark>."
    ]
    assert sorted(snippets['"cyber security" ports']) == [
        "<mark>Ports</mark> again: <mark>cyber-security</mark>, said the navy.",
        "The <mark>cyber security</mark> of United States <mark>ports</mark>, "
        "and the U.S. Navy.",
    ]
    # The transcript marked for a search reads the entries too.
    page = client.get(talk.get_absolute_url(), {"q": "navy"}).content.decode()
    assert page.count("<mark>Navy</mark>") == 1
    assert page.count("<mark>navy</mark>") == 1
