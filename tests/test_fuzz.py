"""Hostile input, generated: every transcript format read and imported from
text shaped like it and from anything at all. The budget is fixed (a set
number of examples per test, no deadline), so the suite's length does not
depend on the machine.

What must hold: a parser answers with an interview or a ParseError with a
reason, never another exception; an import either creates one whole
interview or fails with a message and writes nothing.
"""

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive import parsing
from archive.importer import import_file
from archive.models import Interview, Participant, Speaker, Turn
from archive.parsing import ParseError

# Fragments of every format staff send, so that generated text often looks
# enough like one to reach deep into its reader.
PIECES = st.sampled_from(
    [
        "WEBVTT\n\n", "00:00:01.000 --> 00:00:04.000\n", "1\n00:00:01,000 --> ",
        "0:00:01.000,0:00:04.000\n", ">> ANN:", "<v Ann Lee>", "</v>",
        "Ann Lee:", "ANN LEE:", "MS. LEE", "Q:", "A:", "Q.", "Mr. Chairman.",
        "Ann Lee (00:01:23):", "(00:03:10):", "Ann Lee  0:03", "[00:00:27]",
        "Transcribed by https://otter.ai", "PROCEEDINGS", "- 2 -", "______",
        "---\ntitle: x\n---\n", "# Heading\n", "**Ann:**", "> quote",
        '{"segments": [{"speaker": "SPEAKER_00", "text": "hi", "start": 1}]}',
        '{"turns": [{"speaker": "A", "text": "b"}]}', "speaker,text\n", "A,b\n",
        "\n", "\n\n", " ", "\t", "\x0c", "\u00ad", "-\n", "—", "?", ":", "<script>",
        "&amp;", "\ufeff", "\x00", "\u202e", "é", "中文",
    ]
)  # fmt: skip
SHAPED = st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=40).map("".join)
ANY_TEXT = st.one_of(SHAPED, st.text(max_size=600))
FORMATS = ["", *parsing.FORMATS]


@pytest.mark.parametrize("format", FORMATS)
@settings(max_examples=250, deadline=None)
@given(source=ANY_TEXT)
def test_every_reader_gives_an_interview_or_a_reason(format, source):
    with contextlib.suppress(ParseError):
        parsed = parsing.parse(source, format=format)
        assert parsed.turns
        assert all(turn.body.strip() and turn.speaker for turn in parsed.turns)


@settings(max_examples=300, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=400),
        SHAPED.map(lambda s: s.encode("utf-16")),
        SHAPED.map(lambda s: s.encode("latin-1", "replace")),
        st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b),
    ),
    name=st.sampled_from(
        ["t.txt", "t.md", "t.vtt", "t.srt", "t.sbv", "t.json", "t.csv", "t.docx"]
    ),
)
def test_any_bytes_under_any_name_give_an_interview_or_a_reason(data, name):
    with contextlib.suppress(ParseError):
        parsing.parse(data, filename=name)


def _rows() -> tuple[int, int, int, int]:
    return (
        Interview.objects.count(),
        Turn.objects.count(),
        Speaker.objects.count(),
        Participant.objects.count(),
    )


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    source=ANY_TEXT,
    name=st.sampled_from(["t.txt", "t.md", "t.vtt", "t.srt", "t.json", "t.csv"]),
)
def test_an_import_is_whole_or_writes_nothing(tmp_path, source, name):
    path = tmp_path / name
    path.write_text(source, encoding="utf-8", errors="surrogatepass")
    before = _rows()
    outcome = import_file(path, force=True)
    after = _rows()
    if outcome.status in {"failed", "skipped"}:
        assert outcome.message
        assert after == before
    else:
        interview = outcome.interview
        assert outcome.status in {"created", "updated", "unchanged"}
        assert interview.turns.exists()
        speakers = set(interview.turns.values_list("speaker_id", flat=True))
        assert speakers <= set(
            interview.participants.values_list("speaker_id", flat=True)
        )
        interview.delete()  # the next example starts from the same archive
