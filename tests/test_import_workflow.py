"""One import workflow: the command line, its JSON dry run and the admin's
import page read a source the same way and say the same things about it."""

import json
from io import StringIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from archive.models import Interview, Speaker
from tests.test_admin_import import URL, preview, save_data

UNTITLED = "Ann Lee: Is this a norm?\n\nMaurer: It is becoming one.\n"


def dry_run_json(path, *args):
    out, err = StringIO(), StringIO()
    call_command(
        "import_transcript", str(path), "--dry-run", "--json", *args, stdout=out,
        stderr=err,
    )  # fmt: skip
    return json.loads(out.getvalue())


def preview_warnings(response) -> list[str]:
    return list(response.context["preview"]["outcome"].warnings)


def test_the_dry_run_and_the_preview_give_the_same_warnings(admin_client, tmp_path):
    # A file with no title, and a new speaker whose name is part of an
    # existing one's ("Maurer" beside Tim Maurer).
    Speaker.objects.create(name="Tim Maurer")
    path = tmp_path / "untitled-talk.txt"
    path.write_text(UNTITLED)
    document = dry_run_json(path)
    shown = preview(
        admin_client, upload=SimpleUploadedFile(path.name, UNTITLED.encode())
    )
    assert document["warnings"] == preview_warnings(shown)
    assert any(w.startswith("no title in the transcript") for w in document["warnings"])
    assert any("Maurer" in w for w in document["warnings"])
    assert not Interview.objects.exists()


def test_the_admin_sees_a_command_line_import_as_unchanged(admin_client, tmp_path):
    path = tmp_path / "talk.txt"
    path.write_text(UNTITLED)
    call_command("import_transcript", str(path), stdout=StringIO(), stderr=StringIO())
    shown = preview(
        admin_client, upload=SimpleUploadedFile("talk.txt", UNTITLED.encode())
    )
    assert shown.context["preview"]["outcome"].status == "unchanged"
    assert shown.context["preview"]["existing"] == Interview.objects.get()


def test_the_import_page_sets_date_series_medium_and_topics(admin_client, client):
    options = {
        "date": "2019-04",
        "series": "Policy Hour",
        "medium": "podcast",
        "topics": "Cyber norms, Espionage",
    }
    shown = preview(admin_client, text=UNTITLED, **options)
    response = admin_client.post(URL, save_data(shown, "_publish"))
    assert response.status_code == 302
    interview = Interview.objects.get()
    assert (interview.date_iso, interview.date_precision) == ("2019-04", "month")
    assert interview.series.name == "Policy Hour"
    assert interview.medium == "podcast"
    assert sorted(t.name for t in interview.topics.all()) == [
        "Cyber norms",
        "Espionage",
    ]
    page = client.get(interview.get_absolute_url()).content.decode()
    assert "April 2019" in page


def test_a_bad_date_on_the_import_page_is_refused_plainly(admin_client):
    response = preview(admin_client, text=UNTITLED, date="sometime")
    assert "Use YYYY, YYYY-MM or YYYY-MM-DD." in response.content.decode()
    assert not Interview.objects.exists()


def test_the_command_line_sets_medium_and_topics(db, tmp_path):
    path = tmp_path / "talk.txt"
    path.write_text(UNTITLED)
    call_command(
        "import_transcript", str(path), "--medium", "video", "--topic", "Sovereignty",
        "--topic", "Espionage", stdout=StringIO(), stderr=StringIO(),
    )  # fmt: skip
    interview = Interview.objects.get()
    assert interview.medium == "video"
    assert sorted(t.name for t in interview.topics.all()) == [
        "Espionage",
        "Sovereignty",
    ]


def test_the_import_page_names_diarized_speaker_ids(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    segments = {
        "segments": [
            {"speaker": "SPEAKER_00", "start": 0, "text": "Is it a norm?"},
            {"speaker": "SPEAKER_01", "start": 2, "text": "It is becoming one."},
        ]
    }
    shown = preview(
        admin_client,
        upload=SimpleUploadedFile("wx.json", json.dumps(segments).encode()),
        speakers="SPEAKER_00 = Ann Lee\nSPEAKER_01 = Bo Chen",
    )
    names = [p["person"].name for p in shown.context["preview"]["participants"]]
    assert names == ["Ann Lee", "Bo Chen"]
    assert admin_client.post(URL, save_data(shown, "_publish")).status_code == 302
    interview = Interview.objects.get()
    assert [t.speaker.name for t in interview.ordered_turns()] == ["Ann Lee", "Bo Chen"]


def test_a_malformed_speaker_naming_is_refused_plainly(admin_client):
    response = preview(admin_client, text=UNTITLED, speakers="SPEAKER_00 Ann Lee")
    assert "write each as “SPEAKER_00 = Ann Lee”" in response.content.decode()


def test_the_import_page_can_name_the_interview_to_update(admin_client, tmp_path):
    path = tmp_path / "first.txt"
    path.write_text(UNTITLED)
    call_command("import_transcript", str(path), stdout=StringIO(), stderr=StringIO())
    slug = Interview.objects.get().slug
    other = "Ann Lee: Is this a norm?\n\nMaurer: It is becoming one, slowly.\n"
    shown = preview(
        admin_client,
        upload=SimpleUploadedFile("different-name.txt", other.encode()),
        update=slug,
    )
    assert shown.context["preview"]["existing"].slug == slug
    assert admin_client.post(URL, save_data(shown, "_publish")).status_code == 302
    assert Interview.objects.count() == 1
    assert "slowly" in Interview.objects.get().turns.last().body


def test_the_import_page_refuses_to_replace_most_turns_unless_ticked(
    admin_client, tmp_path
):
    first = "".join(
        f"Ann Lee: Question {n}?\n\nBo Chen: Answer {n}.\n\n" for n in range(4)
    )
    shown = preview(admin_client, upload=SimpleUploadedFile("talk.txt", first.encode()))
    admin_client.post(URL, save_data(shown, "_publish"))
    second = "".join(
        f"Ann Lee: Other {n}?\n\nBo Chen: Reply {n}.\n\n" for n in range(4)
    )
    shown = preview(
        admin_client, upload=SimpleUploadedFile("talk.txt", second.encode())
    )
    refused = admin_client.post(URL, save_data(shown, "_publish"))
    assert "this would replace" in refused.content.decode()
    assert Interview.objects.get().turns.filter(body="Answer 0.").exists()
    shown = preview(
        admin_client,
        upload=SimpleUploadedFile("talk.txt", second.encode()),
        replace="on",
    )
    assert admin_client.post(URL, save_data(shown, "_publish")).status_code == 302
    assert Interview.objects.get().turns.filter(body="Reply 0.").exists()
