"""The curators' admin: who gets in, and that edits reach the public pages."""

import pytest
from django.forms import CheckboxInput

from archive import markdown
from archive.models import Interview, Participant, Speaker, Turn, TurnKind

ADMIN_PAGES = ["/admin/", "/admin/archive/interview/"]


def form_data(form):
    """What a browser would post for ``form`` as it was rendered."""
    data = {}
    for field in form:
        value = field.field.prepare_value(field.value())
        if isinstance(field.field.widget, CheckboxInput):
            if value:
                data[field.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[field.html_name] = [str(v) for v in value]
        else:
            data[field.html_name] = "" if value is None else str(value)
    return data


def change_form_data(response):
    """POST data that saves a rendered admin change form back unchanged.

    The main form, then every inline formset's management form and forms
    (including the blank extra ones, which the admin ignores when unchanged).
    """
    data = form_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(form_data(formset.management_form))
        for form in formset.forms:
            data.update(form_data(form))
    return data


def form_errors(response):
    """The errors of a change form posted back and shown again, if any."""
    if response.context is None:
        return None
    formsets = response.context["inline_admin_formsets"]
    return [response.context["adminform"].form.errors] + [
        [inline.formset.non_form_errors(), *inline.formset.errors]
        for inline in formsets
    ]


def turn_field(response, turn, name):
    """The POST key of ``name`` in the turn inline's row for ``turn``."""
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is not Turn:
            continue
        for form in inline.formset.forms:
            if form.instance.pk == turn.pk:
                return form[name].html_name
    raise AssertionError(f"turn {turn.pk} is not in the change form")


def change_url(obj):
    return f"/admin/archive/{obj._meta.model_name}/{obj.pk}/change/"


def open_change_form(admin_client, obj):
    response = admin_client.get(change_url(obj))
    assert response.status_code == 200
    return response


def big_interview(turn_total):
    """An interview of ``turn_total`` turns by two speakers, as bulk-created."""
    interview = Interview.objects.create(title=f"A {turn_total}-turn podcast")
    host = Speaker.objects.create(name="Paula Host")
    guest = Speaker.objects.create(name="Gus Guest")
    Participant.objects.create(interview=interview, speaker=host, role="host")
    Participant.objects.create(interview=interview, speaker=guest, role="guest")
    Turn.objects.bulk_create(
        Turn(
            interview=interview,
            position=n,
            speaker=guest if n % 2 else host,
            label="",
            body=f"Turn number {n} of the conversation.",
        )
        for n in range(1, turn_total + 1)
    )
    interview.refresh_turn_count()
    return interview


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_the_admin_login(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_logged_in_readers_who_are_not_staff_are_sent_to_the_admin_login(
    client, django_user_model, url
):
    reader = django_user_model.objects.create_user("reader", password="not-staff-pw")
    client.force_login(reader)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_editing_a_turn_in_the_admin_changes_the_public_page(admin_client, seeds):
    interview = next(iter(seeds.values()))
    turn = interview.turns.order_by("position")[2]
    assert not interview.was_edited_since_import()
    form = open_change_form(admin_client, interview)
    data = change_form_data(form)
    data[turn_field(form, turn, "body")] = "A **bold** correction of the record."

    response = admin_client.post(change_url(interview), data)

    assert response.status_code == 302, form_errors(response)
    page = admin_client.get(interview.get_absolute_url()).content.decode()
    assert "A <strong>bold</strong> correction of the record." in page
    assert "**bold**" not in page
    edited = Turn.objects.get(pk=turn.pk)
    assert (
        edited.body_html == "<p>A <strong>bold</strong> correction of the record.</p>"
    )
    assert edited.anchor == turn.anchor
    assert f'id="t-{turn.anchor}"' in page
    interview.refresh_from_db()
    assert interview.edited_at is not None
    assert interview.was_edited_since_import()


def test_saving_an_interview_unchanged_keeps_every_turn(admin_client, seeds):
    interview = next(iter(seeds.values()))
    before = list(interview.turns.values_list("anchor", "position", "body_html"))

    response = admin_client.post(
        change_url(interview),
        change_form_data(open_change_form(admin_client, interview)),
    )

    assert response.status_code == 302
    after = list(interview.turns.values_list("anchor", "position", "body_html"))
    assert after == before


def test_swapping_positions_in_the_admin_reorders_the_public_page(
    admin_client, client, make_interview
):
    interview = make_interview(
        turns=[
            ("Ann Asker", "First, the question."),
            ("Ben Answerer", "Second, the answer."),
            ("Ann Asker", "Third, a follow-up."),
        ]
    )
    first, second, third = interview.turns.order_by("position")
    form = open_change_form(admin_client, interview)
    data = change_form_data(form)
    data[turn_field(form, first, "position")] = str(second.position)
    data[turn_field(form, second, "position")] = str(first.position)

    response = admin_client.post(change_url(interview), data)

    assert response.status_code == 302
    page = client.get(interview.get_absolute_url()).content.decode()
    order = [
        page.index(f'id="t-{second.anchor}"'),
        page.index("Second, the answer."),
        page.index(f'id="t-{first.anchor}"'),
        page.index("First, the question."),
        page.index(f'id="t-{third.anchor}"'),
        page.index("Third, a follow-up."),
    ]
    assert order == sorted(order)
    anchors = dict(interview.turns.values_list("body", "anchor"))
    assert anchors == {
        "First, the question.": first.anchor,
        "Second, the answer.": second.anchor,
        "Third, a follow-up.": third.anchor,
    }


def blank_turn_row(response):
    """The POST key prefix of the turn inline's blank row for a new turn."""
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is Turn:
            return inline.formset.empty_form.prefix.replace(
                "__prefix__", str(inline.formset.initial_form_count())
            )
    raise AssertionError("no turn inline in the change form")


@pytest.mark.parametrize("turn_total", [10, 1100])
def test_a_long_transcript_opens_and_saves_in_a_bounded_number_of_queries(
    admin_client, client, django_assert_max_num_queries, turn_total
):
    # 1,100 turns is a real podcast; with about ten fields a row it is over
    # Django's default limits (1,000 form fields, 1,000 inline rows), and a
    # query per row would make the page unusably slow. The 10-turn case
    # shows the bound is the same constant, not one fitted to the long one.
    interview = big_interview(turn_total)
    last = interview.turns.order_by("position").last()
    # A long transcript is edited a window of rows at a time; the last
    # window holds the last turn.
    window = f"?rows={(turn_total - 1) // 150 * 150 + 1}"

    with django_assert_max_num_queries(40):
        form = admin_client.get(change_url(interview) + window)
    data = change_form_data(form)
    data[turn_field(form, last, "body")] = "The *last* word, corrected."
    # The blank row is there, so a curator can add a turn at the end.
    new_row = blank_turn_row(form)
    assert data[f"{new_row}-body"] == ""
    data[f"{new_row}-position"] = str(turn_total + 1)
    data[f"{new_row}-speaker"] = str(last.speaker_id)
    data[f"{new_row}-body"] = "A turn added by hand."
    # The PostgreSQL engine writes the search entry of each row saved with
    # it (here the interview, the edited and the added turn): one statement
    # each, whatever the transcript's length.
    with django_assert_max_num_queries(45):
        response = admin_client.post(change_url(interview) + window, data)

    assert response.status_code == 302, form_errors(response)
    last.refresh_from_db()
    assert last.body_html == "<p>The <em>last</em> word, corrected.</p>"
    added = interview.turns.get(position=turn_total + 1)
    assert added.anchor == turn_total + 1
    interview.refresh_from_db()
    assert interview.turn_count == turn_total + 1
    page = client.get(interview.get_absolute_url()).content.decode()
    assert f'id="t-{added.anchor}"' in page
    assert "<p>A turn added by hand.</p>" in page


def changelist_action(admin_client, model, action, objs, **extra):
    return admin_client.post(
        f"/admin/archive/{model._meta.model_name}/",
        {"action": action, "_selected_action": [o.pk for o in objs], **extra},
    )


def test_unpublishing_hides_the_interview_from_readers_but_not_staff(
    admin_client, client, make_interview
):
    interview = make_interview(turns=[("Ann Asker", "On the record.")])
    url = interview.get_absolute_url()
    assert client.get(url).status_code == 200

    response = changelist_action(admin_client, Interview, "unpublish", [interview])

    assert response.status_code == 302
    assert client.get(url).status_code == 404
    staff_view = admin_client.get(url)
    assert staff_view.status_code == 200
    assert "Draft: only staff can see this interview." in staff_view.content.decode()

    changelist_action(admin_client, Interview, "publish", [interview])

    reader_view = client.get(url)
    assert reader_view.status_code == 200
    assert "On the record." in reader_view.content.decode()
    assert "Draft" not in reader_view.content.decode()


def test_merging_a_speaker_moves_their_turns_and_retires_their_page(
    admin_client, client, make_interview
):
    make_interview(
        title="First talk", turns=[("Tim Maurer", "Norms matter."), ("Q", "Why?")]
    )
    second = make_interview(
        title="Second talk", turns=[("T. Maurer", "Because of trust.")]
    )
    target = Speaker.objects.get(name="Tim Maurer")
    duplicate = Speaker.objects.get(name="T. Maurer")
    assert client.get(duplicate.get_absolute_url()).status_code == 200

    confirm = changelist_action(admin_client, Speaker, "merge", [duplicate])

    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "T. Maurer (t-maurer)" in page
    assert f'<option value="{target.pk}">Tim Maurer</option>' in page
    assert f'<option value="{duplicate.pk}"' not in page

    done = changelist_action(
        admin_client, Speaker, "merge", [duplicate], target=target.pk
    )

    assert done.status_code == 302
    assert not Speaker.objects.filter(pk=duplicate.pk).exists()
    target.refresh_from_db()
    assert "T. Maurer" in target.alias_list()
    assert set(second.turns.values_list("speaker", flat=True)) == {target.pk}
    assert list(second.participants.values_list("speaker", flat=True)) == [target.pk]
    assert client.get(duplicate.get_absolute_url()).status_code == 404
    interview_page = client.get(second.get_absolute_url()).content.decode()
    assert f'<a href="{target.get_absolute_url()}">Tim Maurer</a>' in interview_page
    assert duplicate.get_absolute_url() not in interview_page


def test_saving_a_turn_in_the_turn_admin_renders_it_and_marks_the_interview_edited(
    admin_client, client, seeds
):
    interview = next(iter(seeds.values()))
    turn = interview.turns.order_by("position").first()
    data = change_form_data(open_change_form(admin_client, turn))
    data["body"] = "Said with [a link](https://example.org/source)."

    response = admin_client.post(change_url(turn), data)

    assert response.status_code == 302
    turn.refresh_from_db()
    assert turn.body_html == markdown.render(data["body"])
    assert '<a href="https://example.org/source"' in turn.body_html
    page = client.get(interview.get_absolute_url()).content.decode()
    assert turn.body_html in page
    interview.refresh_from_db()
    assert interview.was_edited_since_import()


def test_marking_turns_as_questions_shows_on_the_page_and_marks_the_interview_edited(
    admin_client, client, seeds
):
    interview = next(iter(seeds.values()))
    turns = list(interview.turns.exclude(kind=TurnKind.QUESTION).order_by("position"))
    chosen = turns[:2]
    html_before = {t.pk: t.body_html for t in interview.turns.all()}

    response = changelist_action(admin_client, Turn, "mark_question", chosen)

    assert response.status_code == 302
    for turn in chosen:
        turn.refresh_from_db()
        assert turn.kind == TurnKind.QUESTION
        assert turn.body_html == html_before[turn.pk] == markdown.render(turn.body)
    page = client.get(interview.get_absolute_url()).content.decode()
    for turn in chosen:
        assert f'<article class="turn turn--question" id="t-{turn.anchor}">' in page
    interview.refresh_from_db()
    assert interview.was_edited_since_import()


def test_a_long_transcript_is_edited_a_window_of_rows_at_a_time(admin_client):
    interview = big_interview(400)
    first = open_change_form(admin_client, interview)
    content = first.content.decode()
    assert "<strong>1–150</strong>" in content
    assert (
        '<a href="?rows=151">151–300</a> · <a href="?rows=301">301–400</a>' in content
    )
    turns = list(interview.turns.order_by("position"))
    shown = {f.instance.pk for f in _turn_forms(first) if f.instance.pk}
    assert shown == {t.pk for t in turns[:150]}
    later = admin_client.get(change_url(interview) + "?rows=301")
    shown = {f.instance.pk for f in _turn_forms(later) if f.instance.pk}
    assert shown == {t.pk for t in turns[300:]}
    # Saving one window leaves the others as they were.
    data = change_form_data(later)
    data[turn_field(later, turns[350], "body")] = "Corrected in the third window."
    response = admin_client.post(change_url(interview) + "?rows=301", data)
    assert response.status_code == 302, form_errors(response)
    assert interview.turns.count() == 400
    assert Turn.objects.get(pk=turns[350].pk).body == "Corrected in the third window."
    assert Turn.objects.get(pk=turns[10].pk).body == turns[10].body


def _turn_forms(response):
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is Turn:
            return inline.formset.forms
    return []
