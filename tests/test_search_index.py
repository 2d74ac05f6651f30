"""Keeping the search index true to the database.

Every change that matters to search writes an ``IndexQueue`` row in its own
transaction; the consumer (``drain()`` here, ``manage.py index_worker`` in the
multi-process tests) applies the rows and deletes them after the index commit.
A test looks at the index itself (``in_index``: what the index matches, before
``search()`` checks hits against the database, which would hide a stale
document) and at what a reader gets from ``search()``.

The multi-process tests run everything in subprocesses against a temporary
data directory (a SQLite file, or a throwaway PostgreSQL database when
DATABASE_URL points to PostgreSQL); they never touch the pytest database.
"""

import fcntl
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from archive.importer import import_file
from archive.models import (
    IndexQueue,
    Interview,
    Participant,
    SearchEntry,
    Speaker,
    Topic,
    Turn,
)
from archive.search import engine, hooks, index, queue, search, vectors
from archive.search.documents import plain_text
from archive.search.query import parse_query
from archive.search.queue import drain
from tests.conftest import isolated_env

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "fixtures" / "interviews" / "000_d2822d816cdf5edd.txt"


def in_index(query: str) -> set[str]:
    """Ids ("t<pk>", "i<pk>") of every index document ``query`` matches (with
    the PostgreSQL engine: every published entry)."""
    page = engine.get().search(parse_query(query).tree, limit=100_000)
    return {("i" if hit.kind == "lede" else "t") + str(hit.pk) for hit in page.hits}


def found(query: str) -> set[str]:
    """The links of the hits a reader gets for ``query``."""
    return {hit.url for hit in search(query, page_size=100).hits}


def document(doc_id: str) -> dict | None:
    """The stored fields of one index document, or None. The PostgreSQL
    engine stores no text (its hits read the rows): its entry's position and
    speaker, with the text of the row the entry points at."""
    if not hooks.postgres():
        with index.open_current().searcher() as searcher:
            return searcher.document(id=doc_id)
    kind, pk = doc_id[0], int(doc_id[1:])
    # Drafts keep their entries; the engine finds only published ones.
    entry = SearchEntry.objects.filter(
        **({"turn_id": pk} if kind == "t" else {"interview_id": pk, "turn": None}),
        interview__published=True,
    ).first()
    if entry is None:
        return None
    if kind == "i":
        interview = Interview.objects.get(pk=pk)
        return {"text": vectors.lede_text(interview.title, interview.lede_html)}
    turn = Turn.objects.select_related("speaker").get(pk=pk)
    return {
        "kind": entry.kind,
        "position": entry.position,
        "speaker": Speaker.objects.get(pk=entry.speaker_id).slug,
        "text": plain_text(turn.body_html),
    }


def ids_of(interview: Interview) -> set[str]:
    return {f"i{interview.pk}"} | {f"t{pk}" for pk in turn_pks(interview)}


def turn_pks(interview: Interview) -> list[int]:
    return list(interview.turns.order_by("position").values_list("pk", flat=True))


def queued() -> set[tuple[str, int]]:
    return set(IndexQueue.objects.values_list("kind", "object_id"))


@pytest.fixture
def talk(make_interview):
    """A small published interview, indexed, with words found nowhere else."""
    interview = make_interview(
        "Quokka diplomacy",
        turns=[
            ("Hana Host", "What about the marmalade accord?"),
            ("Gil Guest", "The zephyr clause matters most."),
            ("Hana Host", "And the tamarind protocol?"),
        ],
        roles={"Hana Host": "host"},
    )
    drain()
    assert in_index("zephyr") == {f"t{turn_pks(interview)[1]}"}
    return interview


def answer(talk: Interview) -> Turn:
    return talk.turns.get(body__contains="zephyr")


# Every change reaches the index ---------------------------------------------


def test_an_edited_turn_is_found_by_its_new_text_only(talk):
    turn = answer(talk)
    turn.body = "The walrus clause matters most."
    turn.save()
    drain()

    assert in_index("zephyr") == set()
    assert in_index("walrus") == {f"t{turn.pk}"}
    assert found("walrus") == {turn.get_absolute_url()}
    assert document(f"t{turn.pk}")["text"] == "The walrus clause matters most."


def test_an_added_turn_is_found(talk):
    guest = Speaker.objects.get(name="Gil Guest")
    turn = Turn.objects.create(
        interview=talk, position=4, speaker=guest, body="A halibut footnote."
    )
    drain()

    assert found("halibut") == {turn.get_absolute_url()}


def test_a_deleted_turn_leaves_the_index(talk):
    turn = answer(talk)
    pk = turn.pk
    turn.delete()
    drain()

    assert in_index("zephyr") == set()
    assert document(f"t{pk}") is None


def test_reordered_turns_are_found_in_their_new_order(talk):
    first, second, third = talk.turns.order_by("position")
    first.position, third.position = 3, 1
    first.save()
    third.save()
    drain()

    assert document(f"t{first.pk}")["position"] == 3
    assert document(f"t{third.pk}")["position"] == 1
    hits = search(f"interview:{talk.slug}", sort="oldest").hits
    assert [h.anchor for h in hits if h.kind != "lede"] == [
        third.anchor,
        second.anchor,
        first.anchor,
    ]


def test_an_imported_interview_is_indexed_and_a_corrected_reimport_replaces_it(
    db, tmp_path
):
    source = tmp_path / SEED.name
    source.write_bytes(SEED.read_bytes())
    sidecar = SEED.with_suffix(".toml")
    (tmp_path / sidecar.name).write_bytes(sidecar.read_bytes())
    outcome = import_file(source)
    assert outcome.status == "created", outcome
    drain()
    interview = outcome.interview
    assert in_index(f"interview:{interview.slug}") == ids_of(interview)
    alibaba = interview.turns.get(body__contains="Alibaba")
    assert found("alibaba") == {alibaba.get_absolute_url()}

    source.write_text(source.read_text().replace("Alibaba", "Quokkabank"))
    outcome = import_file(source)
    assert outcome.status == "updated", outcome
    drain()

    assert in_index("alibaba") == set()
    assert found("quokkabank") == {alibaba.get_absolute_url()}
    assert in_index(f"interview:{interview.slug}") == ids_of(interview)


def test_publishing_and_unpublishing_an_interview_adds_and_removes_it(
    make_interview,
):
    draft = make_interview(
        "Nebula hearings", turns=[("Ann Asker", "Nebula budgets.")], published=False
    )
    drain()
    assert in_index("nebula") == set()

    draft.published = True
    draft.save()
    drain()
    assert in_index("nebula") == ids_of(draft)
    assert draft.get_absolute_url() in found("nebula")

    draft.published = False
    draft.save()
    drain()
    assert in_index("nebula") == set()
    assert found("nebula") == set()


def test_a_renamed_interview_is_found_by_its_new_title_and_slug(talk):
    everything = ids_of(talk)
    talk.title = "Walrus summit"
    talk.slug = "walrus-summit"
    talk.save()
    drain()

    assert in_index("interview:quokka-diplomacy") == set()
    assert in_index("interview:walrus-summit") == everything
    assert in_index("quokka") == set()
    assert found("walrus") == {talk.get_absolute_url()}  # the lede
    assert document(f"i{talk.pk}")["text"].startswith("Walrus summit")


@pytest.mark.parametrize("how", ["instance", "queryset"])
def test_a_deleted_interview_leaves_no_document(talk, how):
    everything = ids_of(talk)
    if how == "instance":
        talk.delete()
    else:
        Interview.objects.filter(pk=talk.pk).delete()
    drain()

    assert in_index("marmalade OR zephyr OR quokka") == set()
    assert all(document(doc_id) is None for doc_id in everything)


def test_a_renamed_speaker_is_found_by_the_new_name(talk):
    turn = answer(talk)
    guest = turn.speaker
    guest.name = "Gideon Ferrante"
    guest.save()
    drain()

    assert in_index("speaker:gil zephyr") == set()
    assert in_index("speaker:ferrante zephyr") == {f"t{turn.pk}"}
    assert found("speaker:gideon") == {turn.get_absolute_url()}


def test_a_merged_speakers_turns_are_found_under_the_target(talk, make_interview):
    other = make_interview("Second talk", turns=[("G. Guest", "Saffron matters.")])
    drain()
    duplicate = Speaker.objects.get(name="G. Guest")
    target = Speaker.objects.get(name="Gil Guest")
    (moved,) = turn_pks(other)
    assert in_index("speaker:g-guest") == {f"t{moved}"}

    duplicate.merge_into(target)
    drain()

    assert in_index("speaker:g-guest") == set()
    assert document(f"t{moved}")["speaker"] == target.slug
    assert in_index(f"speaker:{target.slug} saffron") == {f"t{moved}"}


@pytest.mark.parametrize("removal", ["remove", "clear from the topic", "delete"])
def test_added_and_removed_topics_reach_the_index(talk, removal):
    topic = Topic.objects.create(name="Sea law", slug="sea-law")
    talk.topics.add(topic)
    drain()
    assert in_index("topic:sea-law") == ids_of(talk)

    if removal == "remove":
        talk.topics.remove(topic)
    elif removal == "clear from the topic":
        topic.interviews.clear()
    else:
        Topic.objects.filter(pk=topic.pk).delete()
    drain()

    assert in_index("topic:sea-law") == set()


@pytest.mark.parametrize("how", ["save", "queryset update"])
def test_a_changed_participant_role_reaches_the_turns(talk, how):
    turn = answer(talk)
    assert in_index("role:guest") == {f"t{turn.pk}"}
    participant = Participant.objects.get(interview=talk, speaker=turn.speaker)
    if how == "save":
        participant.role = "witness"
        participant.save()
    else:
        Participant.objects.filter(pk=participant.pk).update(role="witness")
    drain()

    assert in_index("role:guest") == set()
    assert in_index("role:witness") == {f"t{turn.pk}"}


def test_bulk_created_turns_are_found(talk):
    guest = Speaker.objects.get(name="Gil Guest")
    created = Turn.objects.bulk_create(
        [
            Turn(interview=talk, position=4, speaker=guest, body="Halibut first."),
            Turn(interview=talk, position=5, speaker=guest, body="Halibut again."),
        ]
    )
    drain()

    assert in_index("halibut") == {f"t{t.pk}" for t in created}


def test_bulk_updated_turns_are_found_by_their_new_text(talk):
    turns = list(talk.turns.order_by("position"))
    for turn in turns:
        turn.body = f"Walrus number {turn.position}."
    Turn.objects.bulk_update(turns, ["body"])
    drain()

    assert in_index("marmalade OR zephyr OR tamarind") == set()
    assert in_index("walrus") == {f"t{t.pk}" for t in turns}


def test_a_queryset_update_of_turns_is_found_by_its_new_text(talk):
    turn = answer(talk)
    Turn.objects.filter(pk=turn.pk).update(body="The walrus clause.")
    drain()

    assert in_index("zephyr") == set()
    assert found("walrus") == {turn.get_absolute_url()}


def test_a_queryset_delete_of_turns_leaves_the_index(talk):
    host_turns = {
        f"t{pk}"
        for pk in talk.turns.filter(label="Hana Host").values_list("pk", flat=True)
    }
    Turn.objects.filter(interview=talk, label="Hana Host").delete()
    drain()

    assert in_index("marmalade OR tamarind") == set()
    assert all(document(doc_id) is None for doc_id in host_turns)
    assert in_index("zephyr") == {f"t{answer(talk).pk}"}


def changelist_action(admin_client, model, action, objs):
    response = admin_client.post(
        reverse(f"admin:archive_{model._meta.model_name}_changelist"),
        {"action": action, "_selected_action": [o.pk for o in objs]},
    )
    assert response.status_code == 302, response.content
    return response


def test_the_admin_unpublish_and_publish_actions_reach_the_index(admin_client, talk):
    everything = ids_of(talk)

    changelist_action(admin_client, Interview, "unpublish", [talk])
    drain()
    assert in_index("marmalade OR zephyr OR quokka") == set()
    assert all(document(doc_id) is None for doc_id in everything)

    changelist_action(admin_client, Interview, "publish", [talk])
    drain()
    assert in_index(f"interview:{talk.slug}") == everything
    assert found("zephyr") == {answer(talk).get_absolute_url()}


def test_a_queryset_unpublish_leaves_the_index(talk):
    Interview.objects.filter(pk=talk.pk).update(published=False)
    drain()

    assert in_index(f"interview:{talk.slug}") == set()


def test_the_admin_mark_as_questions_action_reaches_the_index(admin_client, talk):
    turn = answer(talk)
    assert in_index("kind:remark zephyr") == {f"t{turn.pk}"}

    changelist_action(admin_client, Turn, "mark_question", [turn])
    drain()

    assert in_index("kind:remark zephyr") == set()
    assert in_index("kind:question zephyr") == {f"t{turn.pk}"}
    assert document(f"t{turn.pk}")["kind"] == "question"


# Queue rows and the index commit ---------------------------------------------


def _edit_turn(talk):
    turn = answer(talk)
    turn.body = "Rolled back."
    turn.save()


def _update_turns(talk):
    Turn.objects.filter(interview=talk).update(body="Rolled back.")


def _delete_turn(talk):
    answer(talk).delete()


def _unpublish(talk):
    Interview.objects.filter(pk=talk.pk).update(published=False)


def _rename_speaker(talk):
    speaker = answer(talk).speaker
    speaker.name = "Rolled Back"
    speaker.save()


@pytest.mark.parametrize(
    "change", [_edit_turn, _update_turns, _delete_turn, _unpublish, _rename_speaker]
)
@pytest.mark.whoosh
def test_a_rolled_back_change_leaves_no_queue_row(talk, change):
    assert queued() == set()
    with pytest.raises(RuntimeError), transaction.atomic():
        change(talk)
        assert queued() != set()
        raise RuntimeError("the change fails after writing")

    assert queued() == set()
    assert answer(talk).body == "The zephyr clause matters most."


@pytest.mark.whoosh
def test_a_change_stays_queued_until_the_index_has_committed_it(talk):
    turn = answer(talk)
    turn.body = "The walrus clause."
    turn.save()

    assert queued() == {("turn", turn.pk)}
    assert in_index("walrus") == set()
    assert drain() == 1
    assert queued() == set()
    assert in_index("walrus") == {f"t{turn.pk}"}


@pytest.mark.whoosh
def test_a_failed_index_write_keeps_the_rows_and_the_old_index(talk, monkeypatch):
    turn = answer(talk)
    turn.body = "The walrus clause."
    turn.save()
    rows = list(IndexQueue.objects.values_list("pk", flat=True))
    real_apply = queue._apply

    def apply_then_fail(writer, batch):
        real_apply(writer, batch)  # written, but never committed
        raise OSError("disk full")

    monkeypatch.setattr(queue, "_apply", apply_then_fail)
    with pytest.raises(OSError, match="disk full"):
        drain()

    assert list(IndexQueue.objects.values_list("pk", flat=True)) == rows
    index.searchers.reset()
    assert in_index("walrus") == set()
    assert in_index("zephyr") == {f"t{turn.pk}"}

    monkeypatch.setattr(queue, "_apply", real_apply)
    assert drain() == 1
    assert queued() == set()
    assert in_index("zephyr") == set()
    assert in_index("walrus") == {f"t{turn.pk}"}


@pytest.mark.whoosh
def test_a_row_queued_while_a_batch_is_written_waits_for_the_next_batch(
    talk, monkeypatch
):
    turn = answer(talk)
    turn.body = "The walrus clause."
    turn.save()
    real_apply = queue._apply
    late = []

    def apply_then_change(writer, batch):
        written = real_apply(writer, batch)
        if not late:
            late.append(talk.turns.get(body__contains="marmalade"))
            late[0].body = "A saffron question."
            late[0].save()
        return written

    monkeypatch.setattr(queue, "_apply", apply_then_change)
    assert drain(limit=1) == 1

    assert queued() == {("turn", late[0].pk)}
    assert in_index("walrus") == {f"t{turn.pk}"}
    assert in_index("saffron") == set()
    drain()
    assert in_index("saffron") == {f"t{late[0].pk}"}
    assert queued() == set()


# Rebuilding -------------------------------------------------------------------


def builds() -> set[str]:
    return {p.name.removeprefix("build-") for p in index.root().glob("build-*")}


@pytest.mark.whoosh
def test_rebuild_switches_to_a_new_build_that_open_searchers_then_use(
    talk, monkeypatch
):
    turn = answer(talk)
    old = index.current_build()
    assert found("zephyr") == {turn.get_absolute_url()}  # a searcher is open
    # The index misses this change (its row is gone): only a rebuild has it.
    Turn.objects.filter(pk=turn.pk).update(body="The walrus clause.")
    IndexQueue.objects.all().delete()
    assert in_index("walrus") == set()
    # Stand in for another process, whose searcher nobody resets.
    monkeypatch.setattr(index.searchers, "reset", lambda: None)

    new = queue.rebuild()

    assert new != old
    assert index.current_build() == new
    assert (index.root() / "CURRENT").read_text().strip() == new
    assert not list(index.root().glob(".CURRENT.*"))
    assert builds() == {old, new}  # the old one stays a while for readers
    assert found("walrus") == {turn.get_absolute_url()}
    assert in_index("zephyr") == set()
    assert queued() == set()


@pytest.mark.whoosh
def test_changes_made_during_a_rebuild_are_applied_to_the_new_index(
    indexed, monkeypatch
):
    # Queued before the rebuild starts: the rebuild reads it from the database.
    covered = indexed["000"].turns.order_by("position").first()
    Turn.objects.filter(pk=covered.pk).update(body="A covered walrus.")
    edited = []

    def progress(done, total):
        if edited:
            return
        # One interview is built by now, the other is not: edit a turn of each.
        for interview in indexed.values():
            turn = interview.turns.order_by("position").last()
            turn.body = f"Quokka edit {len(edited)}."
            turn.save()
            edited.append(turn)

    new = queue.rebuild(progress=progress)

    assert index.current_build() == new
    assert in_index("walrus") == {f"t{covered.pk}"}
    assert queued() == {("turn", t.pk) for t in edited}
    # The interview built before the edit lacks it until the queue is drained.
    assert len(in_index("quokka")) == 1
    drain()
    assert in_index("quokka") == {f"t{t.pk}" for t in edited}
    assert index.current_build() == new


@pytest.mark.whoosh
def test_an_interview_deleted_during_a_rebuild_is_left_out(indexed):
    built_first, built_last = Interview.objects.published()
    slug = built_last.slug

    def progress(done, total):
        if Interview.objects.filter(pk=built_last.pk).exists():
            built_last.delete()

    queue.rebuild(progress=progress)
    drain()

    assert in_index(f"interview:{slug}") == set()
    assert in_index(f"interview:{built_first.slug}") == ids_of(built_first)


@pytest.mark.whoosh
def test_a_failed_rebuild_leaves_the_old_index_serving(indexed, monkeypatch):
    old = index.current_build()
    serving = in_index("treaty")
    assert serving
    real_documents = queue.interview_documents
    calls = []

    def fail_partway(interview):
        calls.append(interview.pk)
        documents = real_documents(interview)
        if len(calls) % 2 == 0:  # the second interview of each rebuild
            yield next(documents)
            raise RuntimeError("the database went away")
        yield from documents

    monkeypatch.setattr(queue, "interview_documents", fail_partway)
    with pytest.raises(RuntimeError, match="went away"):
        queue.rebuild()

    assert index.current_build() == old
    assert builds() == {old}
    index.searchers.reset()
    assert in_index("treaty") == serving

    with pytest.raises(CommandError, match="old index keeps serving"):
        call_command("rebuild_index", stdout=io.StringIO(), stderr=io.StringIO())
    assert index.current_build() == old
    assert builds() == {old}


@pytest.mark.whoosh
def test_the_rebuild_command_shows_progress_with_a_rate_and_time_left(indexed):
    out, err = io.StringIO(), io.StringIO()
    call_command("rebuild_index", stdout=out, stderr=err)

    total = Turn.objects.published().count()
    assert re.search(
        rf"\[#+\] {total}/{total} turns +[\d,]+/s +\d+:\d\d left", err.getvalue()
    ), err.getvalue()
    assert re.search(r"index \S+ built in [\d.]+ s and serving", out.getvalue())
    assert index.current_build() in out.getvalue()


@pytest.mark.whoosh
def test_the_build_that_served_until_a_rebuild_is_kept_for_open_searchers(talk):
    first = index.current_build()
    reader = index.open_current().searcher()
    long_ago = time.time() - 3600
    # Nothing has written to the first build for an hour: it is still the
    # one serving, so a rebuild must not delete it under its readers.
    os.utime(index.build_path(first), (long_ago, long_ago))
    second = queue.rebuild()

    assert builds() == {first, second}
    assert reader.document(id=f"t{answer(talk).pk}")["text"].startswith("The zephyr")
    reader.close()

    # Ten minutes after it stopped serving, the next rebuild removes it.
    os.utime(index.build_path(first), (long_ago, long_ago))
    third = queue.rebuild()
    assert builds() == {second, third}


# check_index --------------------------------------------------------------------


@pytest.mark.whoosh
def test_check_index_reports_missing_stale_and_orphaned_documents_and_repairs(
    talk,
):
    missing, stale, kept = talk.turns.order_by("position")
    with index.write_lock():
        writer = index.writer(index.open_current())
        writer.delete_by_term("id", f"t{missing.pk}")
        writer.add(
            {"id": "t999999", "kind": "answer", "interview": str(talk.pk)}
            | {"text": "Orphan walrus."}
        )
        writer.commit()
    Turn.objects.filter(pk=stale.pk).update(body="A stale saffron answer.")
    IndexQueue.objects.all().delete()

    out = io.StringIO()
    with pytest.raises(CommandError, match="3 document"):
        call_command("check_index", stdout=out)
    report = out.getvalue()
    assert f"missing: 1  (t{missing.pk})" in report
    assert f"stale: 1  (t{stale.pk})" in report
    assert "orphaned: 1  (t999999)" in report

    out = io.StringIO()
    call_command("check_index", "--repair", stdout=out)
    assert "repaired 3 document(s)" in out.getvalue()

    out = io.StringIO()
    call_command("check_index", stdout=out)
    assert "missing: 0\nstale: 0\norphaned: 0\n" in out.getvalue()
    assert "the index matches the database" in out.getvalue()
    assert in_index("marmalade") == {f"t{missing.pk}"}
    assert in_index("saffron") == {f"t{stale.pk}"}
    assert in_index("zephyr OR walrus") == set()
    assert in_index("tamarind") == {f"t{kept.pk}"}


@pytest.mark.whoosh
def test_check_index_finds_documents_whose_filter_terms_are_stale(indexed):
    # The seeds have a series, topics, roles and aliases: all of it matches.
    assert queue.check() == {"missing": [], "stale": [], "orphaned": []}
    interview = indexed["000"]
    topic = interview.topics.first()
    assert ids_of(interview) <= in_index(f"topic:{topic.slug}")
    interview.topics.remove(topic)
    IndexQueue.objects.all().delete()  # the index now says a topic it lacks

    report = queue.check(repair=True)

    assert set(report["stale"]) == ids_of(interview)
    assert report["missing"] == report["orphaned"] == []
    assert not ids_of(interview) & in_index(f"topic:{topic.slug}")
    assert queue.check() == {"missing": [], "stale": [], "orphaned": []}


# Several real processes -------------------------------------------------------


SETUP = """
import django
django.setup()
from archive.models import Interview, Participant, Speaker, Turn

interview = Interview.objects.create(title="Concurrency", slug="concurrency")
for n in range({writers}):
    speaker = Speaker.objects.create(name=f"Writer {{n}}", slug=f"writer-{{n}}")
    Participant.objects.create(interview=interview, speaker=speaker, role="guest")
    for i in range(5):
        Turn.objects.create(
            interview=interview, speaker=speaker, position=n * 100 + i,
            body=f"Writer {{n}} starts with turn {{i}}.",
        )
"""

WRITER = """
import json, sys
import django
django.setup()
from archive.models import Interview, Speaker, Turn

n, edits = int(sys.argv[1]), int(sys.argv[2])
interview = Interview.objects.get(slug="concurrency")
speaker = Speaker.objects.get(slug=f"writer-{n}")
deleted = []
for i in range(edits):
    mine = list(Turn.objects.filter(speaker=speaker).order_by("pk"))
    token = "token" + chr(97 + n) + chr(97 + i // 26) + chr(97 + i % 26)
    body = f"Writer {n} **edit** {i}: {token}."
    step = i % 5
    if step in (0, 1):
        turn = mine[i % len(mine)]
        turn.body = body
        turn.save()
    elif step == 2:
        Turn.objects.create(
            interview=interview, speaker=speaker, position=n * 100 + 50 + i, body=body
        )
    elif step == 3:
        deleted.append(mine[0].pk)
        mine[0].delete()
    else:
        Turn.objects.filter(pk=mine[-1].pk).update(body=body)
print(json.dumps(deleted))
"""

VERIFY = """
import json, re
import django
django.setup()
from archive.models import Turn
from archive.search import index, search
from archive.search.documents import plain_text

report = {"wrong": [], "unfound": [], "ids": []}
with index.open_current().searcher() as searcher:
    report["ids"] = sorted(f["id"] for f in searcher.all_stored_fields())
    for turn in Turn.objects.select_related("interview"):
        doc = searcher.document(id=f"t{turn.pk}")
        if doc is None or doc["text"] != plain_text(turn.body_html):
            report["wrong"].append([turn.pk, turn.body, doc and doc["text"]])
        token = re.search(r"token[a-z]+", turn.body)
        if token:
            urls = {h.url for h in search(token.group()).hits}
            if urls != {turn.get_absolute_url()}:
                report["unfound"].append([turn.pk, token.group(), sorted(urls)])
report["turns"] = sorted(f"t{pk}" for pk in Turn.objects.values_list("pk", flat=True))
print(json.dumps(report))
"""

SEARCH_LOAD = """
import json, sys, time
from pathlib import Path
import django
django.setup()
from archive.search import search
from archive.search.index import searchers

stop, words = Path(sys.argv[1]), sys.argv[2:]
queries, errors, seen = 0, [], []
while True:
    for word in words:
        try:
            results = search(word)
            if not results.total or not results.hits:
                errors.append(f"{word}: nothing found")
        except Exception as exc:
            errors.append(f"{word}: {exc!r}")
        queries += 1
        build = searchers._key[1]
        if not seen or seen[-1] != build:
            seen.append(build)
    if queries == len(words):
        print("ready", flush=True)
    # Stop once the build named in the stop file has answered queries.
    if stop.exists() and seen[-1] == stop.read_text().strip():
        break
print(json.dumps({"queries": queries, "errors": errors[:20], "builds": seen}))
"""


def environment(data_dir: Path, database_url: str | None = None) -> dict:
    env = isolated_env(data_dir, database_url)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT)  # for scripts run from tmp_path
    return env


def run(env, *args, timeout=120) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}{result.stderr}"
    return result


def start(env, *args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def stop(process: subprocess.Popen, timeout: float = 20) -> tuple[str, str]:
    """SIGTERM, then the output; a process that does not stop is killed."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"{process.args} ignored SIGTERM:\n{out}{err}")


def assert_quiet(name: str, output: str) -> None:
    for bad in ("Traceback", "LockError", "Error", "database is locked"):
        assert bad not in output, f"{name} printed {bad}:\n{output}"


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


QUEUE_LENGTH = "SELECT COUNT(*) FROM archive_indexqueue"


def queue_length(data_dir: Path) -> int:
    """Rows in the queue of the SQLite database in ``data_dir``."""
    conn = sqlite3.connect(data_dir / "archive.sqlite3", timeout=20)
    try:
        return conn.execute(QUEUE_LENGTH).fetchone()[0]
    finally:
        conn.close()


class Database:
    """A database for subprocesses: a SQLite file, or a throwaway PostgreSQL one."""

    def __init__(self, vendor: str, data_dir: Path):
        self.vendor, self.data_dir, self.url = vendor, data_dir, None
        if vendor == "postgres":
            configured = os.environ.get("DATABASE_URL", "")
            if not configured.startswith(("postgres://", "postgresql://")):
                pytest.skip(
                    "PostgreSQL variant: DATABASE_URL does not point to PostgreSQL"
                )
            parts = urllib.parse.urlsplit(configured)
            self.name = f"archive_concurrency_{os.getpid()}"
            self.url = parts._replace(path=f"/{self.name}").geturl()
            self.admin_url = parts._replace(path="/postgres").geturl()
            import psycopg

            try:
                with psycopg.connect(
                    self.admin_url, autocommit=True, connect_timeout=3
                ) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                    conn.execute(f'CREATE DATABASE "{self.name}"')
            except psycopg.OperationalError as exc:
                pytest.skip(f"PostgreSQL variant: server unreachable ({exc})")

    def queue_length(self) -> int:
        if self.vendor == "postgres":
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as conn:
                return conn.execute(QUEUE_LENGTH).fetchone()[0]
        return queue_length(self.data_dir)

    def drop(self) -> None:
        if self.vendor == "postgres":
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    db = Database(request.param, tmp_path / "data")
    try:
        yield db
    finally:
        db.drop()


WRITERS, EDITS = 4, 40


@pytest.mark.whoosh
def test_concurrent_writers_and_two_consumers_lose_no_update(database, tmp_path):
    env = environment(database.data_dir, database.url)
    run(env, "manage.py", "migrate", "--noinput")
    run(env, "-c", SETUP.format(writers=WRITERS))
    (tmp_path / "writer.py").write_text(WRITER)
    # Another writer (a rebuild, say) holds the index at first: both
    # consumers must wait for it, not fail, while the queue fills.
    (database.data_dir / "index").mkdir()
    lock = open(database.data_dir / "index" / "write.lock", "a")  # noqa: SIM115
    fcntl.flock(lock, fcntl.LOCK_EX)
    processes = []
    try:
        consumers = [
            start(env, "manage.py", "index_worker", "--interval", "0.1")
            for _ in range(2)
        ]
        processes += consumers
        writers = [
            start(env, str(tmp_path / "writer.py"), str(n), str(EDITS))
            for n in range(WRITERS)
        ]
        processes += writers
        wait_for(lambda: database.queue_length() >= 40, 60, "the queue to fill")
        assert all(c.poll() is None for c in consumers), "a consumer died"
        fcntl.flock(lock, fcntl.LOCK_UN)
        deleted = set()
        for n, writer in enumerate(writers):
            out, err = writer.communicate(timeout=120)
            assert writer.returncode == 0, f"writer {n}:\n{out}{err}"
            assert_quiet(f"writer {n}", err)
            deleted |= {f"t{pk}" for pk in json.loads(out)}
        assert all(c.poll() is None for c in consumers), "a consumer died"

        wait_for(lambda: database.queue_length() == 0, 60, "the queue to drain")

        for n, consumer in enumerate(consumers):
            out, err = stop(consumer)
            assert consumer.returncode == 0, f"consumer {n}:\n{out}{err}"
            assert_quiet(f"consumer {n}", out + err)
    finally:
        lock.close()
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()

    check = run(env, "manage.py", "check_index")
    assert "the index matches the database" in check.stdout
    report = json.loads(run(env, "-c", VERIFY).stdout)
    assert report["wrong"] == []
    assert report["unfound"] == []
    turn_ids = set(report["turns"])
    assert len(deleted) == WRITERS * (EDITS // 5)
    assert not deleted & turn_ids
    assert {i for i in report["ids"] if i.startswith("t")} == turn_ids


EDITOR = """
import sys, time
from pathlib import Path
import django
django.setup()
from archive.models import Interview, Speaker, Turn

stop = Path(sys.argv[1])
turn = Turn.objects.create(
    interview=Interview.objects.order_by("pk").first(),
    speaker=Speaker.objects.order_by("pk").first(),
    position=10_000,
    body="The editor starts.",
)
edits = 0
while not stop.exists():
    edits += 1
    turn.body = f"The editor's pass number {edits}."
    turn.save()
    time.sleep(0.002)  # brisk: the queue is never empty for long
print(edits)
"""


@pytest.mark.whoosh
def test_a_rebuild_under_query_load_answers_every_query(tmp_path):
    data_dir = tmp_path / "data"
    env = environment(data_dir)
    run(env, "manage.py", "migrate", "--noinput")
    run(env, "manage.py", "import_transcript", str(ROOT / "fixtures" / "interviews"))
    run(env, "manage.py", "index_worker", "--once")
    (tmp_path / "load.py").write_text(SEARCH_LOAD)
    (tmp_path / "editor.py").write_text(EDITOR)
    stop_file = tmp_path / "stop"
    words = ["treaty", "sovereignty", "norms", "Snowden", '"voluntary norms"']
    processes = []
    try:
        # Edits keep arriving and the consumer applies them, before, during
        # (queued behind the rebuild's lock) and after each switch.
        consumer = start(env, "manage.py", "index_worker", "--interval", "0.1")
        editor = start(env, str(tmp_path / "editor.py"), str(stop_file))
        searcher = start(env, str(tmp_path / "load.py"), str(stop_file), *words)
        processes += [consumer, editor, searcher]
        assert searcher.stdout.readline().strip() == "ready", searcher.stderr.read()
        rebuilt = []
        for _ in range(3):
            # An index nobody wrote to for an hour is still the serving one.
            serving = index_dir_build(data_dir)
            long_ago = time.time() - 3600
            os.utime(data_dir / "index" / f"build-{serving}", (long_ago, long_ago))
            # A consumer that kept the lock while edits keep coming would
            # starve it: it waits for at most the consumer's current batch
            # (index.write_lock), so it ends. The timeout is a safety net.
            result = run(env, "manage.py", "rebuild_index", timeout=600)
            rebuilt.append(index_dir_build(data_dir))
            assert rebuilt[-1] != serving
            assert re.search(r"turns +[\d,]+/s +\d+:\d\d left", result.stderr)
        stop_file.write_text(rebuilt[-1])
        out, err = searcher.communicate(timeout=60)
        assert searcher.returncode == 0, err
        edits, editor_err = editor.communicate(timeout=30)
        assert editor.returncode == 0, editor_err
        assert int(edits) > 0
        wait_for(lambda: queue_length(data_dir) == 0, 30, "the queue to drain")
        consumer_out, consumer_err = stop(consumer)
        assert consumer.returncode == 0, consumer_out + consumer_err
        assert_quiet("consumer", consumer_out + consumer_err)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    summary = json.loads(out)
    assert summary["errors"] == []
    assert summary["queries"] > len(words) * 3
    assert len(summary["builds"]) >= 2  # served before and after a switch
    assert summary["builds"][-1] == rebuilt[-1]
    check = run(env, "manage.py", "check_index")
    assert "the index matches the database" in check.stdout


def index_dir_build(data_dir: Path) -> str:
    return (data_dir / "index" / "CURRENT").read_text().strip()
