"""`manage.py import_transcript`: files, folders, re-imports and bad input."""

import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from archive.models import Interview, Speaker, Turn
from tests.conftest import SEEDS

pytestmark = pytest.mark.django_db

PLAIN = "Alice Wong: Hello and welcome.\n\nBob Stone: Thanks for having me.\n"


def run(*args):
    """Run the command; return (stdout, stderr)."""
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("import_transcript", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_plain_file_without_header_or_sidecar_is_titled_from_its_name(tmp_path):
    path = tmp_path / "talk_with_bob.txt"
    path.write_text(PLAIN)
    run(path)
    interview = Interview.objects.get()
    assert interview.title == "Talk with bob"
    assert interview.published
    assert [t.speaker.name for t in interview.turns.order_by("position")] == [
        "Alice Wong",
        "Bob Stone",
    ]


def test_title_date_and_series_options_set_metadata(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text(PLAIN)
    run(path, "--title", "Norms talk", "--date", "2016-07", "--series", "Cyber Hour")
    interview = Interview.objects.get()
    assert interview.title == "Norms talk"
    assert (interview.date_iso, interview.date_precision) == ("2016-07", "month")
    assert interview.date_display == "July 2016"
    assert interview.series.name == "Cyber Hour"


def test_per_file_options_need_exactly_one_file(tmp_path):
    with pytest.raises(CommandError, match="exactly one file"):
        run(SEEDS, "--title", "Nope")
    assert not Interview.objects.exists()


def test_a_bad_date_option_is_refused(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text(PLAIN)
    with pytest.raises(CommandError, match="YYYY"):
        run(path, "--date", "last fall")
    assert not Interview.objects.exists()


def test_draft_imports_are_unpublished(tmp_path, client):
    path = tmp_path / "secret.txt"
    path.write_text(PLAIN)
    run(path, "--draft")
    interview = Interview.objects.get()
    assert not interview.published
    assert client.get(interview.get_absolute_url()).status_code == 404


def test_reimporting_an_unchanged_source_does_nothing(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text(PLAIN)
    run(path)
    before = Interview.objects.get()
    out, _ = run(path)
    after = Interview.objects.get()
    assert "unchanged" in out
    assert after.updated_at == before.updated_at
    assert after.imported_at == before.imported_at


def test_a_changed_source_updates_and_keeps_anchors_of_unchanged_turns(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text(PLAIN + "\nAlice Wong: Last words.\n")
    run(path)
    interview = Interview.objects.get()
    anchors = {t.body: t.anchor for t in interview.turns.all()}
    path.write_text(
        "Alice Wong: A new opening.\n\n"
        + PLAIN
        + "\nAlice Wong: Last words, corrected.\n"
    )
    out, _ = run(path)
    assert "updated" in out
    turns = list(Interview.objects.get().turns.order_by("position"))
    assert [t.body for t in turns] == [
        "A new opening.",
        "Hello and welcome.",
        "Thanks for having me.",
        "Last words, corrected.",
    ]
    # Unchanged turns keep their anchors; an edited one keeps its own; the
    # inserted turn gets a new anchor never used before.
    assert turns[1].anchor == anchors["Hello and welcome."]
    assert turns[2].anchor == anchors["Thanks for having me."]
    assert turns[3].anchor == anchors["Last words."]
    assert turns[0].anchor == 4
    assert Interview.objects.get().turn_count == 4


def test_an_interview_edited_in_the_admin_is_left_alone_unless_forced(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text(PLAIN)
    run(path)
    Interview.objects.update(edited_at=timezone.now())
    Turn.objects.filter(body="Hello and welcome.").update(body="Hello, welcome!")
    path.write_text(PLAIN.replace("Thanks", "Many thanks"))
    _, err = run(path)
    assert "edited in the admin" in err
    assert Turn.objects.filter(body="Hello, welcome!").exists()
    assert not Turn.objects.filter(body__startswith="Many thanks").exists()
    run(path, "--force")
    assert set(Turn.objects.values_list("body", flat=True)) == {
        "Hello and welcome.",
        "Many thanks for having me.",
    }


def test_a_directory_import_goes_on_past_a_bad_file_and_fails_at_the_end(tmp_path):
    (tmp_path / "a_good.txt").write_text(PLAIN)
    (tmp_path / "b_empty.txt").write_text("")
    (tmp_path / "c_binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04")
    (tmp_path / "d_prose.txt").write_text("Just prose, no turns at all in this file.")
    (tmp_path / "e_good.txt").write_text(PLAIN.replace("Hello", "Hi"))
    with pytest.raises(CommandError, match="3 of 5 files failed"):
        run(tmp_path)
    assert Interview.objects.count() == 2


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02\x03binary", "binary"),
        (b"A paragraph of prose.\n\nAnother one, still no speakers.", "no questions"),
    ],
)
def test_a_bad_file_fails_with_a_one_line_reason_and_writes_nothing(
    tmp_path, content, reason
):
    from io import StringIO

    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_transcript", str(path), stdout=StringIO(), stderr=err)
    line = next(line for line in err.getvalue().splitlines() if "error" in line)
    assert str(path) in line and reason in line
    assert not Interview.objects.exists()
    assert not Speaker.objects.exists()


def test_a_missing_path_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "nope.txt")


def test_dry_run_json_writes_nothing_and_prints_the_api_shape(tmp_path, client):
    seed = SEEDS / "001_5075a96642471ac2.txt"
    out, _ = run(seed, "--dry-run", "--json")
    assert not Interview.objects.exists()
    assert not Speaker.objects.exists()
    printed = json.loads(out)
    assert len(printed["turns"]) == 25

    run(seed)
    api = client.get(f"/api/interviews/{printed['slug']}").json()
    # The API's shape, with the import's warnings beside it.
    assert printed.pop("warnings") == []
    assert printed == api


def test_a_sidecar_with_an_unknown_key_fails_the_file(tmp_path):
    (tmp_path / "x.txt").write_text(PLAIN)
    (tmp_path / "x.toml").write_text('titel = "typo"\n')
    with pytest.raises(CommandError):
        run(tmp_path / "x.txt")
    assert not Interview.objects.exists()


def test_speakers_match_across_the_archive_on_full_names_and_aliases(tmp_path):
    Speaker.objects.create(name="Tim Maurer", aliases="Dr. Tim Maurer")
    Speaker.objects.create(name="Jane Smith")
    path = tmp_path / "x.txt"
    path.write_text("Dr. Tim Maurer: Hello.\n\nSmith: Hi there.\n")
    run(path)
    turns = list(Turn.objects.order_by("position").select_related("speaker"))
    assert turns[0].speaker.name == "Tim Maurer"
    # A bare surname never matches an existing speaker.
    assert turns[1].speaker.name == "Smith"
    assert Speaker.objects.count() == 3


def test_the_source_text_and_its_hash_are_kept_for_provenance(tmp_path):
    import hashlib

    path = tmp_path / "x.txt"
    path.write_text(PLAIN)
    run(path)
    source = Interview.objects.get().source
    assert source.text == PLAIN
    assert source.sha256 == hashlib.sha256(PLAIN.encode()).hexdigest()


# --- Folders of real-world files ---------------------------------------------


def test_a_folder_import_shows_progress_and_ends_with_a_summary(tmp_path):
    (tmp_path / "one.txt").write_text(PLAIN)
    (tmp_path / "two.md").write_text("**Ann Lee:** Hi.\n\n**Bo Chen:** Hello.\n")
    (tmp_path / "three.vtt").write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann Lee>Hi.\n\n"
        "00:00:02.000 --> 00:00:04.000\n<v Bo Chen>Hello there.\n"
    )
    (tmp_path / "README.md").write_text("# About these files\n\nNot a transcript.\n")
    (tmp_path / "LICENSE").write_text("CC BY 4.0")
    _, err = run(tmp_path)
    assert re.search(r"\[#+\] 3/3 files +[\d.,]+/s +[\d.,]+ turns/s +0:00 left", err)
    assert "3 files: 3 created; 6 turns" in err
    assert Interview.objects.count() == 3

    _, err = run(tmp_path)
    assert "3 files: 3 unchanged; 6 turns" in err
    assert Interview.objects.count() == 3


def test_files_of_one_name_in_two_folders_are_two_interviews(tmp_path):
    for show, speaker in (("podcast", "Ann Lee"), ("shipit", "Bo Chen")):
        (tmp_path / show).mkdir()
        (tmp_path / show / "episode-1.md").write_text(
            f"**{speaker}:** Hi.\n\n**Cy Doe:** Hello.\n"
        )
    run(tmp_path)
    assert sorted(Interview.objects.values_list("source_name", flat=True)) == [
        "podcast/episode-1.md",
        "shipit/episode-1.md",
    ]
    # The file alone, later, updates the interview it came from.
    (tmp_path / "shipit" / "episode-1.md").write_text(
        "**Bo Chen:** Hi again.\n\n**Cy Doe:** Hello.\n"
    )
    _, err = run(tmp_path / "shipit" / "episode-1.md")
    assert "1 updated" in err
    assert Interview.objects.count() == 2


def test_a_draft_folder_import_publishes_nothing(tmp_path, client):
    (tmp_path / "a.txt").write_text(PLAIN)
    (tmp_path / "b.txt").write_text(PLAIN.replace("Hello", "Hi"))
    run(tmp_path, "--draft")
    assert not Interview.objects.filter(published=True).exists()
    assert client.get("/api/interviews").json() == []


def test_placeholder_speakers_are_never_shared_between_interviews(tmp_path):
    for name in ("e01.txt", "e02.txt"):
        (tmp_path / name).write_text(
            f"Amit Varma: Welcome to {name}.\n\nGuest 2: Thanks.\n"
        )
    run(tmp_path)
    guests = Speaker.objects.filter(name="Guest 2")
    assert guests.count() == 2
    assert Speaker.objects.filter(name="Amit Varma").count() == 1

    # A corrected re-import keeps the interview's own placeholder.
    (tmp_path / "e01.txt").write_text("Amit Varma: Welcome.\n\nGuest 2: Thanks!\n")
    run(tmp_path)
    assert Speaker.objects.filter(name="Guest 2").count() == 2


def test_a_label_matches_an_existing_speaker_by_alias(tmp_path):
    padre = Speaker.objects.create(name="Fr. Robert Ballecer", aliases="Padre")
    path = tmp_path / "sn.txt"
    path.write_text("PADRE:  Welcome.\n\nSTEVE:  Thanks.\n\nPADRE:  Go on.\n")
    run(path)
    turn = Turn.objects.order_by("position").first()
    assert turn.speaker == padre


def test_interviewer_and_interviewee_name_the_people_of_a_qa(tmp_path):
    path = tmp_path / "qa.txt"
    path.write_text(
        "A short introduction to the talk.\n\n**What are norms?**\n\n"
        "Rules of the road.\n"
    )
    run(path, "--interviewer", "Ann Lee", "--interviewee", "Tim Maurer")
    interview = Interview.objects.get()
    assert [(t.speaker.name, t.kind) for t in interview.turns.order_by("position")] == [
        ("Ann Lee", "question"),
        ("Tim Maurer", "answer"),
    ]
    roles = {p.speaker.name: p.role for p in interview.participants.all()}
    assert roles == {"Ann Lee": "interviewer", "Tim Maurer": "guest"}


def test_a_windows_1252_file_imports_with_its_curly_quotes(tmp_path, client):
    path = tmp_path / "cp.txt"
    path.write_bytes(
        "Ann Lee: It\u2019s \u201cnorms\u201d.\n\nBo Chen: Caf\u00e9.\n".encode(
            "cp1252"
        )
    )
    run(path)
    page = client.get(Interview.objects.get().get_absolute_url()).content.decode()
    assert "It\u2019s \u201cnorms\u201d." in page
    assert "Caf\u00e9." in page


def test_files_that_are_not_transcripts_are_skipped_not_failed(tmp_path):
    (tmp_path / "21-376-t01.json").write_text(
        json.dumps(
            {
                "title": "Oral Argument - November 09, 2022",
                "transcript": {
                    "sections": [
                        {
                            "turns": [
                                {
                                    "start": 0.37,
                                    "speaker": {"name": "John G. Roberts, Jr."},
                                    "text_blocks": [{"text": "We will hear argument."}],
                                }
                            ]
                        }
                    ]
                },
            }
        )
    )
    (tmp_path / "21-376.json").write_text(
        json.dumps({"docket_number": "21-376", "name": "Biden v. Nebraska"})
    )
    _, err = run(tmp_path)
    assert "2 files: 1 created, 1 skipped" in err
    assert "skipped: " in err and "21-376.json" in err and "not a transcript" in err
    assert Interview.objects.get().title == "Oral Argument - November 09, 2022"


def test_markup_option_overrides_the_detection(tmp_path, client):
    path = tmp_path / "stars.txt"
    path.write_text("Ann Lee: The **Tallinn** manual.\n\nBo Chen: Yes.\n")
    run(path, "--markup", "plain")
    page = client.get(Interview.objects.get().get_absolute_url()).content.decode()
    assert "The **Tallinn** manual." in page
    assert "<strong>Tallinn</strong>" not in page


def test_a_format_option_reads_a_hearing(tmp_path):
    path = tmp_path / "hearing.txt"
    path.write_text(
        "The Chairman. The committee will come to order.\n\n"
        "Mr. Smith. Thank you, Mr. Chairman.\n\n"
        "The Chairman. Proceed.\n"
    )
    run(path, "--format", "hearing")
    assert [
        t.speaker.name for t in Interview.objects.get().turns.order_by("position")
    ] == ["The Chairman", "Mr. Smith", "The Chairman"]


def test_placeholder_speakers_stay_out_of_the_speaker_directory(tmp_path, client):
    (tmp_path / "e01.txt").write_text("Amit Varma: Welcome.\n\nGuest 2: Thanks.\n")
    run(tmp_path / "e01.txt")
    guest = Speaker.objects.get(name="Guest 2")
    assert guest.placeholder
    directory = client.get("/speakers/").content.decode()
    assert "Amit Varma" in directory and "Guest 2" not in directory
    page = client.get(Interview.objects.get().get_absolute_url()).content.decode()
    assert "Guest 2" in page


def test_a_new_speaker_named_like_part_of_an_existing_one_is_a_warning(tmp_path):
    Speaker.objects.create(name="Tim Maurer")
    path = tmp_path / "x.txt"
    path.write_text("Maurer: Hello.\n\nAnn Lee: Hi.\n\nMaurer: Bye.\n")
    _, err = run(path)
    assert "“Maurer” is a new speaker, but the archive has Tim Maurer" in err
    assert Speaker.objects.filter(name="Maurer").exists()
