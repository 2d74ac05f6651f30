"""Two curators at once: no save silently undoes another, and every change
is recorded with its words, readable and restorable."""

from django.contrib.auth.models import User
from django.test import Client

from archive.models import Interview, Revision, Turn
from tests.test_admin import (
    change_form_data,
    change_url,
    form_errors,
    open_change_form,
    turn_field,
)


def curator(name):
    user = User.objects.create_superuser(name, f"{name}@example.org", "pw-" + name)
    client = Client()
    client.force_login(user)
    return client


def test_a_save_over_a_newer_turn_is_refused_with_both_versions(seeds):
    ann, bo = curator("ann"), curator("bo")
    turn = seeds["001"].turns.order_by("position")[3]
    ann_form = open_change_form(ann, turn)
    bo_form = open_change_form(bo, turn)
    ann_data = change_form_data(ann_form)
    bo_data = change_form_data(bo_form)
    ann_data["body"] = "Ann's correction."
    bo_data["body"] = "Bo's correction."

    assert ann.post(change_url(turn), ann_data).status_code == 302
    response = bo.post(change_url(turn), bo_data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Someone else saved this turn while you were editing it (ann, at" in page
    assert "“Ann&#x27;s correction.”" in page  # theirs, in the message
    assert "Bo&#x27;s correction.</textarea>" in page  # ours, still in the form
    assert Turn.objects.get(pk=turn.pk).body == "Ann's correction."
    # Starting again from the saved version works.
    again = change_form_data(open_change_form(bo, turn))
    again["body"] = "Bo's correction, after Ann's."
    assert bo.post(change_url(turn), again).status_code == 302
    assert Turn.objects.get(pk=turn.pk).body == "Bo's correction, after Ann's."


def test_a_save_over_a_newer_interview_is_refused(seeds):
    ann, bo = curator("ann"), curator("bo")
    interview = seeds["001"]
    ann_data = change_form_data(open_change_form(ann, interview))
    bo_data = change_form_data(open_change_form(bo, interview))
    ann_data["title"] = "Ann's title"
    bo_data["title"] = "Bo's title"
    assert ann.post(change_url(interview), ann_data).status_code == 302
    response = bo.post(change_url(interview), bo_data)
    assert response.status_code == 200
    assert "title: “Ann&#x27;s title”" in response.content.decode()
    assert Interview.objects.get(pk=interview.pk).title == "Ann's title"


def test_two_curators_editing_different_turns_of_one_interview_both_save(seeds):
    ann, bo = curator("ann"), curator("bo")
    interview = seeds["001"]
    first, second = interview.turns.order_by("position")[2:4]
    ann_form, bo_form = (
        open_change_form(ann, interview),
        open_change_form(bo, interview),
    )
    ann_data, bo_data = change_form_data(ann_form), change_form_data(bo_form)
    ann_data[turn_field(ann_form, first, "body")] = "Ann fixed this one."
    bo_data[turn_field(bo_form, second, "body")] = "Bo fixed that one."
    assert ann.post(change_url(interview), ann_data).status_code == 302
    response = bo.post(change_url(interview), bo_data)
    assert response.status_code == 302, form_errors(response)
    assert Turn.objects.get(pk=first.pk).body == "Ann fixed this one."
    assert Turn.objects.get(pk=second.pk).body == "Bo fixed that one."


def test_two_curators_editing_one_turn_in_the_interview_page(seeds):
    ann, bo = curator("ann"), curator("bo")
    interview = seeds["001"]
    turn = interview.turns.order_by("position")[2]
    ann_form, bo_form = (
        open_change_form(ann, interview),
        open_change_form(bo, interview),
    )
    ann_data, bo_data = change_form_data(ann_form), change_form_data(bo_form)
    ann_data[turn_field(ann_form, turn, "body")] = "Ann's words."
    bo_data[turn_field(bo_form, turn, "body")] = "Bo's words."
    assert ann.post(change_url(interview), ann_data).status_code == 302
    response = bo.post(change_url(interview), bo_data)
    assert response.status_code == 200
    assert "Someone else saved this turn" in response.content.decode()
    assert Turn.objects.get(pk=turn.pk).body == "Ann's words."


def test_a_reimport_meanwhile_also_refuses_the_stale_save(seeds, tmp_path):
    bo = curator("bo")
    turn = seeds["001"].turns.order_by("position")[3]
    data = change_form_data(open_change_form(bo, turn))
    Turn.objects.filter(pk=turn.pk).update(body="Changed by a bulk write.")
    data["body"] = "Bo's correction."
    assert bo.post(change_url(turn), data).status_code == 200
    assert Turn.objects.get(pk=turn.pk).body == "Changed by a bulk write."


# Revisions -----------------------------------------------------------------------


def test_each_admin_change_is_recorded_with_its_words_and_author(seeds):
    ann = curator("ann")
    interview = seeds["001"]
    turn = interview.turns.order_by("position")[3]
    old = turn.body
    form = open_change_form(ann, interview)
    data = change_form_data(form)
    data[turn_field(form, turn, "body")] = "A corrected answer."
    data["title"] = "A corrected title"
    assert ann.post(change_url(interview), data).status_code == 302

    turn_change = Revision.objects.get(turn_id=turn.pk)
    assert turn_change.user.username == "ann"
    assert turn_change.changes == {"body": [old, "A corrected answer."]}
    assert turn_change.turn_anchor == turn.anchor
    interview_change = Revision.objects.get(interview=interview, turn_id=None)
    assert interview_change.changes == {
        "title": ["Cyber Norms in U.S.-China Relations", "A corrected title"]
    }
    listing = ann.get(f"/admin/archive/revision/?interview__id__exact={interview.pk}")
    assert f"turn #{turn.anchor}" in listing.content.decode()
    detail = ann.get(f"/admin/archive/revision/{turn_change.pk}/change/")
    assert "A corrected answer." in detail.content.decode()


def test_restoring_a_change_puts_the_old_words_back_everywhere(seeds, client):
    ann = curator("ann")
    turn = seeds["001"].turns.order_by("position")[3]
    old = turn.body
    data = change_form_data(open_change_form(ann, turn))
    data["body"] = "A mistaken edit."
    ann.post(change_url(turn), data)
    revision = Revision.objects.get(turn_id=turn.pk)

    response = ann.post(
        "/admin/archive/revision/",
        {"action": "restore", "_selected_action": [revision.pk]},
    )

    assert response.status_code == 302
    restored = Turn.objects.get(pk=turn.pk)
    assert restored.body == old
    assert restored.body_html not in ("", "<p>A mistaken edit.</p>")
    page = client.get(turn.interview.get_absolute_url()).content.decode()
    assert "A mistaken edit." not in page
    undo = Revision.objects.filter(turn_id=turn.pk, via="restore").get()
    assert undo.changes == {"body": ["A mistaken edit.", old]}


def test_revisions_cannot_be_edited_or_added(seeds):
    ann = curator("ann")
    assert ann.get("/admin/archive/revision/add/").status_code == 403


def test_a_reimport_records_the_turns_it_changes(db, tmp_path):
    from archive.importer import import_file

    source = tmp_path / "talk.txt"
    source.write_text("Ann Lee: Is it a norm?\n\nBo Chen: It is an expectation.\n")
    interview = import_file(source).interview
    source.write_text(
        "Ann Lee: Is it a norm?\n\nBo Chen: It is a shared expectation.\n"
    )
    import_file(source)
    (revision,) = Revision.objects.filter(interview=interview)
    assert revision.via == "import"
    assert revision.changes == {
        "body": ["It is an expectation.", "It is a shared expectation."]
    }
    assert revision.user is None
