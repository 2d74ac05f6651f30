"""Captions, JSON, CSV and Word documents, read through ``parse`` as an
import reads them: detection, the reader, then the shared post-processing."""

import contextlib
import json

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.importer import save_parsed
from archive.markdown import render
from archive.parsing import ParseError, parse
from archive.parsing.captions import parse_srt, parse_vtt
from archive.parsing.docx import docx_to_text
from archive.parsing.structured import parse_csv, parse_json
from archive.parsing.text import is_placeholder_name
from archive.shapes import interview_document


def _speakers(parsed) -> list[str]:
    return [turn.speaker for turn in parsed.turns]


def _html(parsed) -> str:
    return "".join(render(turn.body) for turn in parsed.turns)


# WebVTT


def test_vtt_voice_tags_name_speakers_and_consecutive_cues_make_one_turn():
    parsed = parse(
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:04.000\n<v Ann Lee>Welcome to the show.\n\n"
        "00:00:04.500 --> 00:00:06.000\n<v Ann Lee>Our guest is here.\n\n"
        "00:01:02.250 --> 00:01:05.000\n<v.loud Bo Chen>Thanks</v> for having me.\n",
        filename="episode.vtt",
    )
    assert parsed.format == "vtt"
    assert _speakers(parsed) == ["Ann Lee", "Bo Chen"]
    assert parsed.turns[0].paragraphs == ["Welcome to the show. Our guest is here."]
    assert [turn.start for turn in parsed.turns] == [1.0, 62.25]
    assert parsed.turns[1].body == "Thanks for having me."


def test_vtt_is_detected_by_its_header_without_a_file_name():
    parsed = parse("WEBVTT\n\n00:01.000 --> 00:02.000\nAnn: Hello.\n")
    assert parsed.format == "vtt"
    assert parsed.turns[0].start == 1.0


@pytest.mark.parametrize(
    "cue",
    [
        "Ann Lee: Hello.",
        "[Ann Lee]: Hello.",
        ">> Ann Lee: Hello.",
        "<b>Ann Lee:</b> Hello.",
    ],
)
def test_vtt_prefixes_name_the_speaker(cue):
    parsed = parse(f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n{cue}\n")
    assert _speakers(parsed) == ["Ann Lee"]
    assert parsed.turns[0].label == "Ann Lee"
    assert parsed.turns[0].body == "Hello."


def test_vtt_cue_without_a_name_continues_the_previous_speaker():
    parsed = parse(
        "WEBVTT\n\n"
        "1\n00:00:01.000 --> 00:00:02.000\n[Ann Lee]: The question is\n\n"
        "2\n00:00:02.000 --> 00:00:03.000\nwhat comes next?\n\n"
        "3\n00:00:03.000 --> 00:00:04.000\n[Bo Chen]: Nobody knows.\n\n"
        "4\n00:00:04.000 --> 00:00:05.000\nReally.\n"
    )
    assert _speakers(parsed) == ["Ann Lee", "Bo Chen"]
    assert [turn.body for turn in parsed.turns] == [
        "The question is what comes next?",
        "Nobody knows. Really.",
    ]
    assert [turn.kind for turn in parsed.turns] == ["question", "answer"]


def test_vtt_a_sentence_with_a_colon_is_not_a_speaker():
    parsed = parse(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann>Then he said: no.\n"
    )
    assert _speakers(parsed) == ["Ann"]
    assert parsed.turns[0].body == "Then he said: no."


def test_vtt_cues_before_anyone_is_named_are_an_unidentified_placeholder():
    parsed = parse(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nMusic plays.\n\n"
        "00:00:03.000 --> 00:00:04.000\n<v Ann>Hello.\n"
    )
    assert _speakers(parsed) == ["Unidentified speaker", "Ann"]
    assert parsed.turns[0].label == ""
    unidentified = parsed.participant("Unidentified speaker")
    assert unidentified.placeholder
    assert not parsed.participant("Ann").placeholder


def test_vtt_skips_note_style_and_region_blocks_and_keeps_cue_settings_out():
    parsed = parse(
        "WEBVTT - a podcast\nKind: captions\n\n"
        "NOTE written by hand\nover two lines\n\n"
        "STYLE\n::cue { color: red }\n\n"
        "REGION\nid:left width:40%\n\n"
        "intro\n00:00:01.000 --> 00:00:02.000 align:start position:10%\n"
        "<v Ann>Hello.\n"
    )
    assert [turn.body for turn in parsed.turns] == ["Hello."]
    assert parsed.warnings == []


def test_vtt_strips_tags_and_timestamps_and_decodes_entities():
    parsed = parse(
        "WEBVTT\n\n00:00:01.000 --> 00:00:05.000\n"
        "<v Ann><c.yellow>Tom</c> &amp; <i>Jerry</i> <00:00:02.000>said\n"
        "&lt;sigh&gt; 3&nbsp;&gt;&nbsp;2&lrm; <laughs>\n"
    )
    html = _html(parsed)
    assert html.startswith("<p>Tom &amp; Jerry said &lt;sigh&gt; 3")
    assert "<i>" not in html
    assert "00:00:02" not in html
    assert "3&nbsp;&gt;&nbsp;2\u200e &lt;laughs&gt;" in html


def test_vtt_two_voices_in_one_cue_are_two_turns():
    parsed = parse(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann>Ready?\n<v Bo>Yes.\n"
    )
    assert _speakers(parsed) == ["Ann", "Bo"]
    assert [turn.start for turn in parsed.turns] == [1.0, 1.0]


def test_vtt_placeholder_names_are_marked_so_they_match_no_one_elsewhere():
    parsed = parse(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n[Guest 2]: Hi.\n\n"
        "00:00:02.000 --> 00:00:03.000\n[Speaker 1]: Hello.\n\n"
        "00:00:03.000 --> 00:00:04.000\n[Guest]: Hey.\n"
    )
    assert _speakers(parsed) == ["Guest 2", "Speaker 1", "Guest"]
    assert all(p.placeholder for p in parsed.participants)


@pytest.mark.parametrize(
    "name",
    ["Guest", "Guest 2", "GUEST 2", "Unknown", "Speaker 1", "Speaker A", "SPEAKER_01",
     "Unidentified speaker", "Unknown Speaker", "Interviewer"],
)  # fmt: skip
def test_stand_in_names_are_placeholders(name):
    assert is_placeholder_name(name)


@pytest.mark.parametrize(
    "name", ["Amit Varma", "Guesta", "Mana", "Speaker Pelosi", "Hostetler"]
)
def test_real_names_are_not_placeholders(name):
    assert not is_placeholder_name(name)


def test_vtt_without_the_header_is_refused():
    with pytest.raises(ParseError, match="WEBVTT"):
        parse("00:00:01.000 --> 00:00:02.000\nHello.\n", filename="a.vtt")


def test_vtt_bad_timing_names_its_line():
    with pytest.raises(ParseError, match="line 3"):
        parse("WEBVTT\n\n00:01 --> 00:02\nHello.\n", filename="a.vtt")


def test_vtt_without_cues_is_refused():
    with pytest.raises(ParseError, match="no cues"):
        parse("WEBVTT\n\nNOTE nothing here\n", filename="a.vtt")


# SRT


def test_srt_prefixes_and_carry_over_group_cues_into_turns():
    parsed = parse(
        "1\n00:00:01,000 --> 00:00:04,000\n- Ann Lee: How did it start?\n\n"
        "2\n00:00:04,000 --> 00:00:06,000\nTell us.\n\n"
        "3\n01:00:06,500 --> 01:00:09,000\n>> BO CHEN: By accident.\n\n"
        "4\n01:00:09,000 --> 01:00:10,000\n[Ann Lee]: <i>Really?</i>\n",
        filename="talk.srt",
    )
    assert parsed.format == "srt"
    assert parsed.markup == "plain"
    assert _speakers(parsed) == ["Ann Lee", "Bo Chen", "Ann Lee"]
    assert [turn.label for turn in parsed.turns] == ["Ann Lee", "BO CHEN", "Ann Lee"]
    assert [turn.start for turn in parsed.turns] == [1.0, 3606.5, 3609.0]
    assert parsed.turns[0].body == "How did it start? Tell us."
    assert parsed.turns[2].body == "Really?"


def test_srt_is_detected_by_content():
    parsed = parse("1\n00:00:01,000 --> 00:00:02,000\nAnn: Hi.\n")
    assert parsed.format == "srt"
    assert _speakers(parsed) == ["Ann"]


def test_srt_text_renders_as_written():
    parsed = parse(
        "1\n00:00:01,000 --> 00:00:02,000\nAnn: 1970. A *star* <i><sigh></i>\n",
        filename="a.srt",
    )
    html = _html(parsed)
    assert "&lt;sigh&gt;" in html
    assert "*star*" in html
    assert "<ol>" not in html
    assert "<i>" not in html


def test_srt_without_a_timing_is_refused():
    with pytest.raises(ParseError, match="not an SRT file"):
        parse("Hello there\n\nGeneral Kenobi\n", filename="a.srt")


# JSON


def test_json_list_of_speaker_and_text_groups_consecutive_entries():
    rows = [
        {"speaker": "Ann", "text": "First point.", "start": 1.5},
        {"speaker": "Ann", "text": "Second point?", "start": "00:02"},
        {"speaker": "Bo", "text": "<Agreed>.", "start": "1:00:00"},
    ]
    parsed = parse(json.dumps(rows).encode(), filename="t.json")
    assert parsed.format == "json"
    assert parsed.markup == "plain"
    assert _speakers(parsed) == ["Ann", "Bo"]
    assert parsed.turns[0].paragraphs == ["First point.", "Second point?"]
    assert [turn.start for turn in parsed.turns] == [1.5, 3600.0]
    assert "&lt;Agreed&gt;" in _html(parsed)


def test_json_is_detected_by_content():
    parsed = parse('[{"speaker": "Ann", "text": "Hi."}]')
    assert parsed.format == "json"


def test_json_entry_without_text_is_named_in_the_error():
    with pytest.raises(ParseError, match="entry 2 should be an object with"):
        parse('[{"speaker": "Ann", "text": "Hi."}, {"who": "Bo"}]', filename="a.json")


def test_json_syntax_error_says_line_and_column():
    with pytest.raises(ParseError, match=r"not a transcript.*line 2, column 1"):
        parse('[{"speaker": "Ann",\n}]', filename="a.json")


@pytest.mark.parametrize(
    "source,why",
    [
        ('{"name": "x"}', "found the keys name"),
        ("42", "found a number"),
        ('[{"speaker": "Ann", "text": "Hi.", "start": "soon"}]', "not seconds"),
        ('{"turns": [{"speaker": {"name": "Ann"}, "text": 5}]}', "turn 1"),
        ('{"turns": []}', "no turns"),
    ],
)
def test_json_that_is_not_a_transcript_says_why(source, why):
    with pytest.raises(ParseError, match=why):
        parse(source, filename="a.json")


def _oyez(turns, title="Oral Argument - February 21, 1967"):
    return json.dumps(
        {
            "id": 1,
            "title": title,
            "transcript": {"title": title, "sections": [{"turns": turns}]},
        }
    )


def _oyez_turn(name, start, *texts):
    speaker = {"name": name, "identifier": name.lower()} if name else None
    blocks = [{"text": text, "start": start} for text in texts]
    return {"start": start, "speaker": speaker, "text_blocks": blocks}


def test_oyez_transcript_reads_speakers_blocks_and_title():
    parsed = parse(
        _oyez(
            [
                _oyez_turn("Earl Warren", 0, "Case 914.", "Mr. Turner?"),
                _oyez_turn("Donald F. Turner", 12.5, "Thank you."),
                _oyez_turn("Donald F. Turner", 20, "As I said --"),
                _oyez_turn(None, 31, "(Inaudible)"),
            ]
        ),
        filename="1966.914-t01.json",
    )
    assert parsed.title == "Oral Argument - February 21, 1967"
    assert parsed.date == "1967-02-21"
    assert _speakers(parsed) == [
        "Earl Warren",
        "Donald F. Turner",
        "Unidentified speaker",
    ]
    assert parsed.turns[0].paragraphs == ["Case 914.", "Mr. Turner?"]
    assert parsed.turns[1].paragraphs == ["Thank you.", "As I said --"]
    assert [turn.start for turn in parsed.turns] == [0.0, 12.5, 31.0]
    assert parsed.participant("Unidentified speaker").placeholder


def test_oyez_case_metadata_is_not_a_transcript():
    case = {"ID": 1, "name": "A v. B", "docket_number": "914", "heard_by": []}
    with pytest.raises(ParseError, match="case metadata, not a transcript"):
        parse(json.dumps(case), filename="1966.914.json")


def test_archive_json_reads_metadata_participants_and_turns():
    document = {
        "slug": "maurer",
        "title": "Cyber norms",
        "date": "2016-07",
        "date_precision": "month",
        "series": "Carnegie Podcast",
        "outlet": "Carnegie",
        "episode": "12",
        "medium": "podcast",
        "source_url": "https://example.org/maurer",
        "lede": "A talk about *norms*.",
        "attribution": "",
        "rights": None,
        "topics": ["norms", "China"],
        "participants": [
            {"name": "Paul Haenle", "slug": "paul-haenle", "role": "host"},
            {"name": "Tim Maurer", "slug": "tim-maurer", "role": "guest"},
        ],
        "turns": [
            {
                "anchor": 1,
                "position": 1,
                "speaker": {"name": "Paul Haenle", "slug": "paul-haenle"},
                "label": "Haenle",
                "kind": "remark",
                "start": 3.0,
                "text": "What are *norms*?\n\nAnd who sets them?",
                "html": "<p>…</p>",
            },
            {
                "speaker": {"name": "Tim Maurer", "slug": "tim-maurer"},
                "label": "",
                "kind": "answer",
                "start": None,
                "text": "Rules **of the road**.",
            },
        ],
    }
    parsed = parse(json.dumps(document), filename="export.json")
    assert parsed.markup == "markdown"
    assert (parsed.title, parsed.date, parsed.series, parsed.episode) == (
        "Cyber norms",
        "2016-07",
        "Carnegie Podcast",
        "12",
    )
    assert parsed.topics == ["norms", "China"]
    assert [(p.name, p.role) for p in parsed.participants] == [
        ("Paul Haenle", "host"),
        ("Tim Maurer", "guest"),
    ]
    assert _speakers(parsed) == ["Paul Haenle", "Tim Maurer"]
    assert [turn.label for turn in parsed.turns] == ["Haenle", ""]
    # Kinds are kept, not classified again: the first would be a question.
    assert [turn.kind for turn in parsed.turns] == ["remark", "answer"]
    assert parsed.turns[0].paragraphs == ["What are *norms*?", "And who sets them?"]
    assert "<em>norms</em>" in render(parsed.turns[0].body)


def test_archive_json_date_is_cut_to_its_precision():
    document = {
        "date": "2016-01-01",
        "date_precision": "year",
        "turns": [{"speaker": {"name": "Ann"}, "text": "Hi."}],
    }
    assert parse(json.dumps(document), filename="a.json").date == "2016"


def test_exported_interview_imports_as_the_same_interview(seeds):
    for interview in seeds.values():
        exported = interview_document(interview)
        parsed = parse(json.dumps(exported).encode(), filename="export.json")
        outcome = save_parsed(
            parsed,
            source_name="export.json",
            source_text=parsed.source_text,
            import_hash="export",
            dry_run=True,
        )
        assert outcome.status == "created", outcome.message
        reimported = outcome.document
        assert reimported.pop("slug") != exported.pop("slug")
        assert reimported == exported


# CSV


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_csv_delimiter_is_sniffed_and_rows_of_one_speaker_are_one_turn(delimiter):
    rows = [
        ["Start", "Speaker", "Text"],
        ["0:01", "Ann", "Hello, everyone; welcome."],
        ["0:05", "Ann", "Let us begin."],
        ["1:02:03", "Bo", "Thanks."],
    ]
    source = "\n".join(delimiter.join(f'"{cell}"' for cell in row) for row in rows)
    parsed = parse(source, filename="t.csv")
    assert parsed.format == "csv"
    assert _speakers(parsed) == ["Ann", "Bo"]
    assert parsed.turns[0].paragraphs == ["Hello, everyone; welcome.", "Let us begin."]
    assert [turn.start for turn in parsed.turns] == [1.0, 3723.0]


def test_csv_column_names_are_case_insensitive_and_empty_speaker_carries_over():
    parsed = parse("WHO,Utterance\nAnn,One.\n,Two.\nBo,Three.\n", filename="t.csv")
    assert _speakers(parsed) == ["Ann", "Bo"]
    assert parsed.turns[0].paragraphs == ["One.", "Two."]
    assert parsed.turns[0].start is None


def test_csv_missing_column_error_names_the_columns_found():
    with pytest.raises(ParseError, match="found “Person”, “Words”"):
        parse("Person,Words\nAnn,Hi.\n", filename="t.csv")


def test_csv_bad_start_names_its_line():
    with pytest.raises(ParseError, match="CSV line 3"):
        parse("speaker,text,time\nAnn,Hi.,1\nBo,Yo.,noon\n", filename="t.csv")


# Word documents


def _docx(tmp_path, build) -> bytes:
    document = docx.Document()
    build(document)
    path = tmp_path / "interview.docx"
    document.save(path)
    return path.read_bytes()


def _bold_label(document, label, text):
    paragraph = document.add_paragraph()
    paragraph.add_run(label).bold = True
    paragraph.add_run(text)


def test_docx_bold_labels_make_turns(tmp_path):
    def build(document):
        _bold_label(document, "Ann Lee:", " What happened in 1970?")
        paragraph = document.add_paragraph()
        paragraph.add_run("Bo").bold = True
        paragraph.add_run(" ")
        paragraph.add_run("Chen: ").bold = True
        paragraph.add_run("It began.")
        document.add_paragraph("1970.  Now it goes on <sigh> with 2 * 3 = 6.")

    parsed = parse(_docx(tmp_path, build), filename="interview.docx")
    assert parsed.encoding == "docx"
    assert _speakers(parsed) == ["Ann Lee", "Bo Chen"]
    assert len(parsed.turns[1].paragraphs) == 2
    html = _html(parsed)
    assert "&lt;sigh&gt;" in html
    assert "2 * 3 = 6" in html
    assert "<ol>" not in html
    assert "<strong>" not in html


def test_docx_bold_questions_make_a_q_and_a(tmp_path):
    def build(document):
        document.add_paragraph("An introduction to the guest.")
        document.add_paragraph().add_run("How did you start").bold = True
        document.add_paragraph("By accident, in *1999*.")

    parsed = parse(_docx(tmp_path, build), filename="interview.docx")
    assert parsed.format == "qa"
    assert [turn.kind for turn in parsed.turns] == ["question", "answer"]
    assert "<strong>How did you start</strong>" in render(parsed.turns[0].body)
    assert "*1999*" in render(parsed.turns[1].body)


def test_docx_emphasis_markers_hug_the_words_and_escape_what_is_inside(tmp_path):
    def build(document):
        paragraph = document.add_paragraph("Plain")
        paragraph.add_run(" a_b * c ").italic = True
        paragraph.add_run("and ")
        paragraph.add_run("[bold] ").bold = True
        paragraph.add_run("end.")

    html = render(docx_to_text(_docx(tmp_path, build)))
    assert html == "<p>Plain <em>a_b * c</em> and <strong>[bold]</strong> end.</p>"


def test_docx_two_column_table_becomes_speaker_lines(tmp_path):
    def build(document):
        table = document.add_table(rows=3, cols=2)
        rows = [("Speaker", "Text"), ("Ann", "Hello <you>."), ("Bo", "Hi.")]
        for row, cells in zip(table.rows, rows, strict=True):
            for cell, text in zip(row.cells, cells, strict=True):
                cell.text = text

    parsed = parse(_docx(tmp_path, build), filename="interview.docx")
    assert _speakers(parsed) == ["Ann", "Bo"]
    assert "Hello &lt;you&gt;." in _html(parsed)


def test_a_file_that_is_not_a_word_document_is_refused():
    with pytest.raises(ParseError, match="not a Word document"):
        parse(b"PK\x03\x04 not really a zip", filename="broken.docx")


# Any text at all: a reason, never a crash.

_READERS = [parse_vtt, parse_srt, parse_json, parse_csv]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(_READERS),
    st.text(alphabet=st.sampled_from('WEBVT\n :->0123456789.,[]{}"<>&;vA-z\t')),
)
def test_readers_raise_only_parse_errors_on_caption_like_text(reader, source):
    with contextlib.suppress(ParseError):
        reader(source)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_READERS), st.text())
def test_readers_raise_only_parse_errors_on_any_text(reader, source):
    with contextlib.suppress(ParseError):
        reader(source)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            ["turns", "transcript", "sections", "speaker", "name", "text", "start",
             "text_blocks", "date", "date_precision", "participants", "topics"]
        ) | st.text(max_size=5),
        inner,
        max_size=5,
    ),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_json_reader_raises_only_parse_errors_on_any_json(value):
    with contextlib.suppress(ParseError):
        parse_json(json.dumps(value))


@settings(max_examples=50, deadline=None)
@given(st.binary())
def test_docx_reader_raises_only_parse_errors_on_any_bytes(data):
    with contextlib.suppress(ParseError):
        docx_to_text(b"PK\x03\x04" + data)
