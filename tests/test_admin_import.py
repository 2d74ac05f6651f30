"""The admin's "Import transcript" page: paste or upload, preview, save."""

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from archive.forms import ImportForm
from archive.models import Interview, Speaker

pytestmark = pytest.mark.django_db

URL = "/admin/archive/interview/import/"

LABELLED = (
    "Title: Norms after the hack\n\n"
    "Ann Asker: Why do norms matter now?\n\n"
    "Ben Answerer: Because trust is what is left.\n\n"
    "Ann Asker: And what comes next?\n\n"
    "Ben Answerer: More **patience**, I hope.\n"
)


def preview(client, text="", upload=None, **options):
    data = {"_preview": "Preview", "text": text, **options}
    if upload is not None:
        data["upload"] = upload
    return client.post(URL, data)


def save_data(response, button="_publish", **changes):
    """What the preview page posts when its ``button`` is pressed as shown."""
    context = response.context
    data = {"source": context["source"], button: "pressed"}
    for form in (context["options_form"], context.get("mapping")):
        for field in form if form is not None else ():
            data[field.html_name] = field.value() or ""
    data.update(changes)
    return data


def page_errors(response):
    return response.context["errors"] if response.context else None


def shown_errors(response):
    """Every error message the page shows, from the page and from its form."""
    errors = list(response.context.get("errors") or [])
    form = response.context.get("form")
    if form is not None:
        errors += [e for field_errors in form.errors.values() for e in field_errors]
    return errors


def mapping_field(response, name, kind="speaker"):
    """The POST key of the mapping ``kind`` field for participant ``name``."""
    for i, (person, _matches) in enumerate(response.context["mapping"].people):
        if person == name:
            return f"{kind}-{i}"
    raise AssertionError(f"{name} is not among the participants")


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_readers_who_are_not_staff_are_sent_to_the_admin_login(
    client, django_user_model
):
    reader = django_user_model.objects.create_user("reader", password="pw-reader")
    client.force_login(reader)

    response = client.post(URL, {"_preview": "Preview", "text": LABELLED})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert Interview.objects.count() == 0


def test_staff_without_the_add_permission_are_refused(client, django_user_model):
    staff = django_user_model.objects.create_user("curator", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_interview"))
    client.force_login(staff)

    assert client.get(URL).status_code == 403
    assert (
        client.post(URL, {"_preview": "Preview", "text": LABELLED}).status_code == 403
    )
    changelist = client.get("/admin/archive/interview/").content.decode()
    assert "Import transcript" not in changelist


def test_staff_with_the_add_permission_may_import(client, django_user_model):
    staff = django_user_model.objects.create_user("curator", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="add_interview"))
    client.force_login(staff)

    response = preview(client, LABELLED)

    assert response.status_code == 200
    assert client.post(URL, save_data(response)).status_code == 302
    assert Interview.objects.get().title == "Norms after the hack"


def test_the_interview_list_has_an_import_button(admin_client):
    page = admin_client.get("/admin/archive/interview/").content.decode()

    assert f'<a href="{URL}" class="addlink">Import transcript</a>' in page
    assert "<h1>Import transcript</h1>" in admin_client.get(URL).content.decode()


def test_a_pasted_transcript_is_previewed_without_saving_anything(admin_client):
    response = preview(admin_client, LABELLED)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Norms after the hack" in page
    assert "Why do norms matter now?" in page
    assert "More <strong>patience</strong>, I hope." in page
    assert page.count("will be created") == 2
    assert "/interviews/norms-after-the-hack/" in page
    assert 'name="_publish"' in page
    assert 'name="_draft"' in page
    assert Interview.objects.count() == 0
    assert Speaker.objects.count() == 0


def test_saving_a_paste_creates_the_interview_and_its_speakers(admin_client, client):
    shown = preview(admin_client, LABELLED)

    response = admin_client.post(URL, save_data(shown), follow=True)

    interview = Interview.objects.get()
    assert response.redirect_chain[-1][0] == (
        f"/admin/archive/interview/{interview.pk}/change/"
    )
    assert (
        "Imported “Norms after the hack”: 4 turns, created 2 speaker(s), "
        "matched 0 existing; published." in response.content.decode()
    )
    assert interview.source_name.startswith("pasted-")
    assert interview.source_name.endswith(".txt")
    assert [t.speaker.name for t in interview.turns.order_by("position")] == [
        "Ann Asker",
        "Ben Answerer",
        "Ann Asker",
        "Ben Answerer",
    ]
    page = client.get(interview.get_absolute_url())
    assert page.status_code == 200
    assert "Because trust is what is left." in page.content.decode()


def test_save_as_draft_keeps_the_interview_from_readers(admin_client, client):
    shown = preview(admin_client, LABELLED)

    response = admin_client.post(URL, save_data(shown, "_draft"), follow=True)

    interview = Interview.objects.get()
    assert not interview.published
    assert "; a draft." in response.content.decode()
    assert client.get(interview.get_absolute_url()).status_code == 404


def upload(name, data):
    return SimpleUploadedFile(name, data.encode() if isinstance(data, str) else data)


def test_save_and_publish_publishes_the_existing_draft_it_updates(admin_client, client):
    draft_preview = preview(admin_client, upload=upload("norms.txt", LABELLED))
    admin_client.post(URL, save_data(draft_preview, "_draft"))
    draft = Interview.objects.get()
    assert not draft.published
    corrected = LABELLED.replace("More **patience**", "More *resolve*")

    shown = preview(admin_client, upload=upload("norms.txt", corrected))
    page = shown.content.decode()
    assert "update the existing interview" in page
    assert "edited in the admin" not in page
    response = admin_client.post(URL, save_data(shown, "_publish"), follow=True)

    assert "Updated “Norms after the hack”: 4 turns" in response.content.decode()
    assert Interview.objects.get() == draft
    draft.refresh_from_db()
    assert draft.published
    public = client.get(draft.get_absolute_url())
    assert public.status_code == 200
    assert "More <em>resolve</em>, I hope." in public.content.decode()


def test_a_re_import_keeps_admin_edits_unless_the_curator_overwrites_them(
    admin_client,
):
    admin_client.post(
        URL, save_data(preview(admin_client, upload=upload("norms.txt", LABELLED)))
    )
    interview = Interview.objects.get()
    Interview.objects.filter(pk=interview.pk).update(edited_at=timezone.now())
    corrected = LABELLED.replace("More **patience**", "More *resolve*")
    shown = preview(admin_client, upload=upload("norms.txt", corrected))
    assert "It was edited in the admin since its last import" in (
        shown.content.decode()
    )

    kept = admin_client.post(URL, save_data(shown))

    assert kept.status_code == 200
    assert "Nothing was saved" in page_errors(kept)[0]
    assert not interview.turns.filter(body__contains="resolve").exists()

    forced = admin_client.post(URL, save_data(shown, force="on"))

    assert forced.status_code == 302
    assert interview.turns.filter(body="More *resolve*, I hope.").exists()


def test_a_speaker_matched_by_alias_is_used_not_duplicated(admin_client):
    maurer = Speaker.objects.create(name="Tim Maurer", aliases="Dr. Tim Maurer")
    text = "Ann Asker: What are norms for?\n\nDr. Tim Maurer: For restraint, mostly.\n"
    shown = preview(admin_client, text)
    page = shown.content.decode()
    link = (
        f'matches <a href="/admin/archive/speaker/{maurer.pk}/change/">Tim Maurer</a>'
    )
    assert link in page
    assert page.count("will be created") == 1

    response = admin_client.post(URL, save_data(shown), follow=True)

    assert "created 1 speaker(s), matched 1 existing" in response.content.decode()
    interview = Interview.objects.get()
    answer = interview.turns.get(position=2)
    assert answer.speaker == maurer
    assert answer.label == "Dr. Tim Maurer"
    assert Speaker.objects.filter(name__icontains="Maurer").count() == 1


def test_a_label_mapped_to_another_existing_speaker_is_saved_as_that_speaker(
    admin_client,
):
    ann = Speaker.objects.create(name="Ann Example-Asker", slug="ann")
    shown = preview(admin_client, LABELLED)
    other = mapping_field(shown, "Ann Asker", "other")

    response = admin_client.post(URL, save_data(shown, **{other: "ann"}))

    assert response.status_code == 302
    interview = Interview.objects.get()
    assert {t.speaker for t in interview.turns.filter(label="Ann Asker")} == {ann}
    assert not Speaker.objects.filter(name="Ann Asker").exists()
    assert Speaker.objects.count() == 2


def test_mapping_to_a_speaker_that_does_not_exist_is_an_error_and_saves_nothing(
    admin_client,
):
    shown = preview(admin_client, LABELLED)
    other = mapping_field(shown, "Ann Asker", "other")

    response = admin_client.post(URL, save_data(shown, **{other: "nobody-at-all"}))

    assert response.status_code == 200
    assert "No speaker has the slug or name “nobody-at-all”." in (
        response.content.decode()
    )
    assert Interview.objects.count() == 0
    assert Speaker.objects.count() == 0


def test_creating_a_new_speaker_despite_a_match_is_honoured(admin_client):
    namesake = Speaker.objects.create(name="Ben Answerer")
    shown = preview(admin_client, LABELLED)
    choice = mapping_field(shown, "Ben Answerer")

    admin_client.post(URL, save_data(shown, **{choice: "new"}))

    interview = Interview.objects.get()
    speaker = interview.turns.get(position=2).speaker
    assert speaker.name == "Ben Answerer"
    assert speaker != namesake
    assert Speaker.objects.filter(name="Ben Answerer").count() == 2


def test_an_ambiguous_name_is_shown_and_the_chosen_speaker_is_used(admin_client):
    first = Speaker.objects.create(name="Ben Answerer", slug="ben-answerer")
    second = Speaker.objects.create(name="Ben Answerer", slug="ben-answerer-cia")
    shown = preview(admin_client, LABELLED)
    page = shown.content.decode()
    assert "<strong>ambiguous</strong>: matches" in page
    assert "(ben-answerer)" in page
    assert "(ben-answerer-cia)" in page
    choice = mapping_field(shown, "Ben Answerer")

    admin_client.post(URL, save_data(shown, **{choice: str(second.pk)}))

    interview = Interview.objects.get()
    assert interview.turns.get(position=2).speaker == second
    assert not first.turns.exists()


def test_a_q_and_a_paste_uses_the_interviewer_and_interviewee_names(admin_client):
    text = (
        "Some words of introduction.\n\n"
        "**What worries you most?**\n\n"
        "Ransomware against hospitals.\n\n"
        "Why hospitals?\n\n"
        "They pay.\n"
    )
    shown = preview(
        admin_client,
        text,
        format="qa",
        interviewer="Ida Interviewer",
        interviewee="Gil Guest",
        title="Ransomware and hospitals",
    )
    page = shown.content.decode()
    assert "Ida Interviewer" in page
    assert "Gil Guest" in page

    admin_client.post(URL, save_data(shown))

    interview = Interview.objects.get(title="Ransomware and hospitals")
    turns = interview.turns.order_by("position")
    assert [(t.speaker.name, t.kind) for t in turns] == [
        ("Ida Interviewer", "question"),
        ("Gil Guest", "answer"),
        ("Ida Interviewer", "question"),
        ("Gil Guest", "answer"),
    ]
    roles = dict(interview.participants.values_list("speaker__name", "role"))
    assert roles == {"Ida Interviewer": "interviewer", "Gil Guest": "guest"}
    assert interview.lede == "Some words of introduction."


def test_an_uploaded_windows_1252_file_is_read_and_saved(admin_client, client):
    text = "Ann Asker: Isn’t it “too late”?\r\n\r\nBen Answerer: No – not yet.\r\n"
    shown = preview(admin_client, upload=upload("late.txt", text.encode("cp1252")))
    page = shown.content.decode()
    assert "cp1252" in page
    assert "Isn’t it “too late”?" in page
    assert "late.txt" in page

    admin_client.post(URL, save_data(shown))

    interview = Interview.objects.get(source_name="late.txt")
    assert interview.title == "Late"
    assert interview.turns.get(position=2).body == "No – not yet."


def test_an_uploaded_word_document_is_read_and_saved(admin_client):
    import docx

    document = docx.Document()
    document.add_paragraph("Ann Asker: Is Word still everywhere?")
    document.add_paragraph("Ben Answerer: Sadly, yes.")
    buffer = io.BytesIO()
    document.save(buffer)
    shown = preview(admin_client, upload=upload("word-talk.docx", buffer.getvalue()))
    assert shown.context.get("preview"), shown_errors(shown)
    assert "Is Word still everywhere?" in shown.content.decode()

    admin_client.post(URL, save_data(shown))

    interview = Interview.objects.get(source_name="word-talk.docx")
    assert [t.speaker.name for t in interview.turns.order_by("position")] == [
        "Ann Asker",
        "Ben Answerer",
    ]


def form_error_text(response):
    form = response.context["form"]
    return " ".join(" ".join(errors) for errors in form.errors.values())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"upload": upload("noise.txt", bytes(range(256)) * 8)},
            "this is a binary file, not a text transcript",
        ),
        ({"upload": upload("empty.txt", b"")}, "The submitted file is empty."),
        ({"text": "   \n\n  "}, "Paste a transcript or upload a file."),
        ({}, "Paste a transcript or upload a file."),
        (
            {"text": "Just a remark, and no one answering it.", "format": "qa"},
            "no questions found",
        ),
        (
            {"text": LABELLED, "upload": upload("norms.txt", LABELLED)},
            "Paste the transcript or upload a file, not both.",
        ),
    ],
)
def test_input_that_is_not_a_transcript_is_an_error_on_the_page(
    admin_client, data, message
):
    response = admin_client.post(URL, {"_preview": "Preview", **data})

    assert response.status_code == 200
    assert message in form_error_text(response)
    assert message in response.content.decode()
    assert Interview.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused(admin_client, monkeypatch):
    monkeypatch.setattr(ImportForm, "MAX_UPLOAD", 100)

    response = preview(admin_client, upload=upload("long.txt", LABELLED * 3))

    assert "The file is 0.0 MB; the limit is 0 MB." in form_error_text(response)


def test_a_tampered_source_is_refused_and_nothing_saved(admin_client):
    shown = preview(admin_client, LABELLED)
    data = save_data(shown)
    value, signature = data["source"].rsplit(":", 1)
    other = save_data(preview(admin_client, LABELLED.replace("Ann", "Eve")))
    tampered = [
        f"{other['source'].rsplit(':', 1)[0]}:{signature}",
        value[:-4] + "AAAA:" + signature,
        "not even base64",
        "",
    ]

    for source in tampered:
        response = admin_client.post(URL, {**data, "source": source})

        assert response.status_code == 200
        assert "was changed or is damaged; nothing was saved" in (
            " ".join(page_errors(response))
        )
    assert Interview.objects.count() == 0
    assert Speaker.objects.count() == 0


def test_changing_an_option_without_previewing_again_does_not_save(admin_client):
    shown = preview(admin_client, LABELLED)

    response = admin_client.post(URL, save_data(shown, title="Another title"))

    assert response.status_code == 200
    assert page_errors(response) == [
        "The reading options changed: check this preview again."
    ]
    assert "Another title" in response.content.decode()
    assert Interview.objects.count() == 0
    response = admin_client.post(URL, save_data(response))
    assert Interview.objects.get().title == "Another title"


def test_the_preview_of_a_long_transcript_shows_300_turns_in_constant_queries(
    admin_client,
):
    def transcript(n):
        return "\n\n".join(
            f"{'Ann Asker' if i % 2 else 'Ben Answerer'}: Point number {i}."
            for i in range(1, n + 1)
        )

    counts = []
    for n in (4, 420):
        with CaptureQueriesContext(connection) as queries:
            response = preview(admin_client, transcript(n))
        counts.append(len(queries))

    # Only the dry run's bulk inserts grow, by one query a batch: SQLite
    # takes 999 values an INSERT, 99 turns of ten columns.
    assert counts[1] - counts[0] <= -(-420 // 99), counts
    page = response.content.decode()
    assert "Turns: the first 300 of 420" in page
    assert "Point number 300." in page
    assert "Point number 301." not in page
    assert "and 120 more turns, not shown." in page
    assert Interview.objects.count() == 0


def test_a_captions_file_previews_each_turn_with_its_start_time(admin_client):
    captions = (
        "WEBVTT\n\n"
        "00:00:05.000 --> 00:00:09.000\n<v Ann Asker>Why now?\n\n"
        "00:01:10.000 --> 00:01:15.000\n<v Ben Answerer>Because it is late.\n"
    )

    shown = preview(admin_client, upload=upload("late-night.vtt", captions))

    page = shown.content.decode()
    assert "<td>vtt</td>" in page
    assert "<td>0:05</td>" in page
    assert "<td>1:10</td>" in page
    admin_client.post(URL, save_data(shown, "_draft"))
    interview = Interview.objects.get(source_name="late-night.vtt")
    assert [t.start for t in interview.turns.order_by("position")] == [5.0, 70.0]


def test_previewing_again_with_a_format_that_does_not_fit_shows_why(admin_client):
    shown = preview(admin_client, LABELLED)

    response = admin_client.post(URL, save_data(shown, "_reparse", format="srt"))

    assert response.status_code == 200
    errors = page_errors(response)
    assert len(errors) == 1
    assert errors[0].startswith("The transcript cannot be read: ")
    page = response.content.decode()
    assert 'name="_publish"' not in page
    assert 'name="_reparse"' in page
    response = admin_client.post(URL, save_data(response, "_reparse", format=""))
    assert "Why do norms matter now?" in response.content.decode()


def test_a_transcript_the_archive_cannot_store_is_shown_but_cannot_be_saved(
    admin_client,
):
    too_long = LABELLED.replace("Norms after the hack", "Norms " * 60)

    shown = preview(admin_client, too_long)

    assert page_errors(shown) == [
        "The transcript cannot be saved: title: Ensure this value has at most 300 "
        "characters (it has 359)."
    ]
    assert 'name="_publish"' not in shown.content.decode()
    assert Interview.objects.count() == 0


def test_a_transcript_too_large_to_send_back_says_how_to_import_it(
    admin_client, settings
):
    # The preview's form must carry the transcript in a request Django accepts.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200_100

    shown = preview(admin_client, LABELLED)

    assert (
        "This transcript is too large to save from this page" in (page_errors(shown)[0])
    )
    assert "manage.py import_transcript" in page_errors(shown)[0]
    assert 'name="_publish"' not in shown.content.decode()
