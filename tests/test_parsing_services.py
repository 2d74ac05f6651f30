"""The formats staff receive from transcription services and meeting tools,
each built from text the project writes itself, the way the service lays it
out."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from archive.models import Interview
from archive.parsing import FORMATS, parse


def turns(parsed):
    return [(turn.speaker, turn.paragraphs, turn.start) for turn in parsed.turns]


REV = """Norms after the hack

Ann Lee (00:00:01):
Welcome to the show. Today,
norms.

Bo Chen (00:00:05):
Thanks. [crosstalk 00:00:06] Norms are expectations.

(00:00:12):
They take time to form.

Ann Lee (01:00:20):
And who enforces them?
"""


def test_rev_text_export():
    parsed = parse(REV.encode(), filename="rev-export.txt")
    assert parsed.format == "rev"
    assert parsed.title == "Norms after the hack"
    assert turns(parsed) == [
        ("Ann Lee", ["Welcome to the show. Today, norms."], 1.0),
        (
            "Bo Chen",
            [
                "Thanks. \\[crosstalk 00:00:06\\] Norms are expectations.",
                "They take time to form.",
            ],
            5.0,
        ),
        ("Ann Lee", ["And who enforces them?"], 3620.0),
    ]


OTTER = """Ann Lee  0:03
Welcome to the show.

Bo Chen  0:07
Thanks for having me.

Bo Chen  0:15
Norms take time.

Ann Lee  1:02:03
Who enforces them?

Transcribed by https://otter.ai
"""


def test_otter_text_export():
    parsed = parse(OTTER.encode(), filename="otter.txt")
    assert parsed.format == "otter"
    assert turns(parsed) == [
        ("Ann Lee", ["Welcome to the show."], 3.0),
        ("Bo Chen", ["Thanks for having me.", "Norms take time."], 7.0),
        ("Ann Lee", ["Who enforces them?"], 3723.0),
    ]
    assert "otter.ai" not in " ".join(p for t in parsed.turns for p in t.paragraphs)


SONIX = """Ann Lee: [00:00:01] Welcome to the show.

Bo Chen: [00:00:05] Thanks for having me.

Bo Chen: [00:00:09] Norms take time to form.

Ann Lee: [00:00:20] Who enforces them?

Bo Chen: [00:00:24] Nobody.

Transcribed by Sonix.ai
"""


def test_sonix_descript_trint_paragraphs_of_one_speaker_are_one_turn():
    parsed = parse(SONIX.encode(), filename="sonix.txt")
    assert turns(parsed) == [
        ("Ann Lee", ["Welcome to the show."], 1.0),
        ("Bo Chen", ["Thanks for having me.", "Norms take time to form."], 5.0),
        ("Ann Lee", ["Who enforces them?"], 20.0),
        ("Bo Chen", ["Nobody."], 24.0),
    ]


SBV = """0:00:01.000,0:00:04.000
>> ANN LEE: Welcome. >> BO CHEN: Thanks.

0:00:04.500,0:00:07.000
Norms take time.

0:00:08.000,0:00:10.000
>> ANN LEE: Who enforces them?
"""


@pytest.mark.parametrize("filename", ["talk.sbv", "talk.txt"])
def test_youtube_sbv_captions_change_speaker_at_each_marker(filename):
    parsed = parse(SBV.encode(), filename=filename)
    assert parsed.format == "sbv"
    assert turns(parsed) == [
        ("Ann Lee", ["Welcome."], 1.0),
        ("Bo Chen", ["Thanks. Norms take time."], 1.0),
        ("Ann Lee", ["Who enforces them?"], 8.0),
    ]


WHISPERX = {
    "segments": [
        {"speaker": "SPEAKER_00", "start": 0.5, "end": 2.0, "text": " Welcome."},
        {"speaker": "SPEAKER_01", "start": 2.1, "end": 4.0, "text": " Thanks."},
        {"speaker": "SPEAKER_01", "start": 4.1, "end": 6.0, "text": " Norms."},
        {"start": 6.1, "end": 7.0, "text": " Indeed."},
        {"speaker": "SPEAKER_00", "start": 7.5, "end": 9.0, "text": " Why?"},
    ]
}


def test_diarized_json_gives_turns_by_speaker_id():
    parsed = parse(json.dumps(WHISPERX).encode(), filename="whisperx.json")
    assert [(s, p) for s, p, _ in turns(parsed)] == [
        ("Speaker_00", ["Welcome."]),
        ("Speaker_01", ["Thanks. Norms. Indeed."]),
        ("Speaker_00", ["Why?"]),
    ]
    assert all(person.placeholder for person in parsed.participants)


def test_the_command_line_names_diarized_speakers(db, tmp_path):
    path = tmp_path / "whisperx.json"
    path.write_text(json.dumps(WHISPERX))
    call_command(
        "import_transcript", str(path), '--speaker', 'SPEAKER_00="Ann Lee"',
        "--speaker", "SPEAKER_01=Bo Chen", stdout=StringIO(), stderr=StringIO(),
    )  # fmt: skip
    interview = Interview.objects.get()
    assert [t.speaker.name for t in interview.ordered_turns()] == [
        "Ann Lee",
        "Bo Chen",
        "Ann Lee",
    ]
    assert not any(p.speaker.placeholder for p in interview.participants.all())


def test_every_format_can_be_chosen():
    for name in ("rev", "otter", "sbv"):
        assert name in FORMATS
    assert parse(REV, format="rev").format == "rev"
    assert parse(OTTER, format="otter").format == "otter"


EVENT = (
    "THE CENTER FOR POLICY STUDIES\n\nNORMS IN CYBERSPACE: WHAT COMES NEXT\n\n"
    "Washington, D.C.\n\nTuesday, March 5, 2019\n\nPARTICIPANTS:\n\n"
    "ANN LEE\nSenior Fellow, Center for Policy Studies\n\n"
    "BO CHEN\nDirector, Cyber Program\n\n* * * * *\n\nP R O C E E D I N G S\n\n"
    "MS. LEE\nGood morning, everyone, and welcome. We are here to talk about\n"
    "norms.\n\nBo, let me start with you. Where do the talks stand?\n\n"
    "MR. CHEN\nThank you, Ann. The talks are stalled. The parties disagree on\n"
    "attribution.\n- 2 -\nBut there is progress on hospitals.\n\n"
    "MS. LEE\nThank you. That is all we have time for.\n\n* * * * *\n"
)


def test_an_event_transcript_from_a_pdf():
    parsed = parse(EVENT.encode(), filename="event.txt")
    assert parsed.format == "event"
    assert parsed.title == "Norms In Cyberspace: What Comes Next"
    assert parsed.date == "2019-03-05"
    people = {p.name: p.affiliation for p in parsed.participants}
    assert people == {
        "Ann Lee": "Senior Fellow, Center for Policy Studies",
        "Bo Chen": "Director, Cyber Program",
    }
    assert [(s, p) for s, p, _ in turns(parsed)] == [
        (
            "Ann Lee",
            [
                "Good morning, everyone, and welcome. We are here to talk about norms.",
                "Bo, let me start with you. Where do the talks stand?",
            ],
        ),
        (
            "Bo Chen",
            [
                "Thank you, Ann. The talks are stalled. The parties disagree on "
                "attribution. But there is progress on hospitals."
            ],
        ),
        ("Ann Lee", ["Thank you. That is all we have time for."]),
    ]
    assert [t.kind for t in parsed.turns] == ["question", "answer", "remark"]


def test_a_word_documents_subtitle_is_no_speaker():
    import io

    import docx

    document = docx.Document()
    document.add_paragraph("Cyber Norms Debate", style="Title")
    document.add_paragraph("Debate: Should states hack back?", style="Subtitle")
    for line in ["Ann Lee: Should they?", "Bo Chen: No.", "Ann Lee: Why not?"]:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    parsed = parse(buffer.getvalue(), filename="debate.docx")
    assert parsed.title == "Cyber Norms Debate"
    assert [p.name for p in parsed.participants] == ["Ann Lee", "Bo Chen"]
    assert [s for s, _, _ in turns(parsed)] == ["Ann Lee", "Bo Chen", "Ann Lee"]
