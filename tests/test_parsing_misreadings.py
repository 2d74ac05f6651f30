"""The importer's last misreadings on real transcripts, each reproduced with
text the project writes itself."""

from archive.parsing import parse


def turns(parsed):
    return [(turn.speaker, " ".join(turn.paragraphs)) for turn in parsed.turns]


# Hyphens and dashes at the end of a wrapped line -------------------------------


def test_a_hyphen_or_dash_at_a_line_break_joins_without_a_space():
    parsed = parse(
        "Ann Lee: The talks were hard-\nnosed, and al-\nQaeda came up, and the "
        "assets--\ninnovation link, and the assets—\ninnovation link again.\n\n"
        "Bo Chen: Fine.\n"
    )
    (_, said), _ = turns(parsed)
    assert "hard-nosed" in said
    assert "al-Qaeda" in said
    assert "assets--innovation" in said
    assert "assets—innovation" in said


def test_a_spaced_dash_at_a_line_break_keeps_its_space():
    parsed = parse("Ann Lee: Look —\nit was a breach.\n\nBo Chen: Fine.\n")
    assert turns(parsed)[0][1] == "Look — it was a breach."


def test_a_pdfs_soft_hyphenation_is_undone_where_the_word_is_known():
    parsed = parse(
        "Ann Lee: Data integ-\nrity is the worry.\n\n"
        "Bo Chen: Yes, integrity of records, and a co-\noperative approach.\n"
    )
    said = " ".join(text for _, text in turns(parsed))
    assert "Data integrity is the worry." in said
    # "cooperative" is written nowhere whole, so the hyphen stays.
    assert "co-operative" in said


# Labels that describe a speaker -------------------------------------------------


ROLES = (
    "Ann Lee: Welcome, everyone.\n\n"
    "Announcer offscreen: Please take your seats.\n\n"
    "Ann Lee: The problem is simple: nobody agrees. Questions?\n\n"
    "Unidentified speaker: What about espionage?\n\n"
    "Member of the audience: And sovereignty?\n\n"
    "Ann Lee: Both matter.\n"
)


def test_role_descriptions_are_speakers_and_a_colon_in_prose_is_text():
    parsed = parse(ROLES)
    assert [speaker for speaker, _ in turns(parsed)] == [
        "Ann Lee",
        "Announcer offscreen",
        "Ann Lee",
        "Unidentified speaker",
        "Member of the audience",
        "Ann Lee",
    ]
    assert turns(parsed)[2][1] == "The problem is simple: nobody agrees. Questions?"


def test_unidentified_speakers_are_placeholders_and_an_announcer_is_warned_of():
    parsed = parse(ROLES)
    placeholders = {p.name: p.placeholder for p in parsed.participants}
    assert placeholders["Unidentified speaker"] is True
    assert placeholders["Member of the audience"] is True
    assert placeholders["Announcer offscreen"] is False
    assert any(
        "“Announcer offscreen” describes a speaker" in w for w in parsed.warnings
    )


# WebVTT voice tags ----------------------------------------------------------------


def test_a_voice_tag_wins_over_a_word_and_colon_in_its_cue():
    parsed = parse(
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Ann Lee>Note: this is about "
        "norms.\n\n00:00:04.000 --> 00:00:06.000\n<v Bo Chen>Right: and espionage.\n",
        filename="talk.vtt",
    )
    assert turns(parsed) == [
        ("Ann Lee", "Note: this is about norms."),
        ("Bo Chen", "Right: and espionage."),
    ]


def test_without_voice_tags_a_name_prefix_still_names_the_speaker():
    parsed = parse(
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nAnn Lee: Hello.\n\n"
        "00:00:04.000 --> 00:00:06.000\nBo Chen: Hi.\n",
        filename="talk.vtt",
    )
    assert [speaker for speaker, _ in turns(parsed)] == ["Ann Lee", "Bo Chen"]


# Titles the file states -------------------------------------------------------------


def test_a_markdown_heading_above_the_turns_is_the_title():
    parsed = parse("# Norms After the Hack\n\nAnn Lee: Hello?\n\nBo Chen: Hi.\n")
    assert parsed.title == "Norms After the Hack"
    assert parsed.warnings == []


def test_a_line_in_capitals_above_the_turns_is_the_title_not_the_letterhead():
    parsed = parse(
        "CENTER FOR POLICY STUDIES\n\nNORMS AFTER THE HACK\n\n"
        "Ann Lee: Hello?\n\nBo Chen: Hi.\n"
    )
    assert parsed.title == "Norms After The Hack"


def test_a_header_title_wins_over_capitals():
    parsed = parse(
        "CENTER FOR POLICY STUDIES\n\nTitle: Norms after the hack\n\n"
        "Ann Lee: Hello?\n\nBo Chen: Hi.\n"
    )
    assert parsed.title == "Norms after the hack"


# Someone the header did not name --------------------------------------------------


def test_a_one_off_capitals_label_after_a_header_is_a_turn_with_a_warning():
    parsed = parse(
        "Hosts: Ann Lee, Cy Diaz\n\nAnn Lee: Welcome.\n\nCy Diaz: Hello.\n\n"
        "Ann Lee: Over to our guest.\n\nBO CHEN: Hi.\n\nAnn Lee: Bye.\n"
    )
    assert turns(parsed)[3] == ("Bo Chen", "Hi.")
    assert turns(parsed)[2] == ("Ann Lee", "Over to our guest.")
    assert parsed.warnings == [
        "“Bo Chen” speaks but is not among the people the header names: check the name"
    ]


# Hearing records -----------------------------------------------------------------


def test_a_hearing_record_is_detected_from_its_labels():
    parsed = parse(
        "Chairman SMITH. The committee will come to order.\n\n"
        "Mr. JONES. Thank you, Mr. Chairman.\n\n"
        "Ms. LEE. Mr. Jones, what would readiness look like?\n\n"
        "Mr. JONES. Paper ballots.\n"
    )
    assert parsed.format == "hearing"
    assert [s for s, _ in turns(parsed)] == [
        "Chairman SMITH",
        "Mr. JONES",
        "Ms. LEE",
        "Mr. JONES",
    ]


# Questions, answers and remarks ---------------------------------------------------


def test_a_long_introduction_with_a_question_inside_is_a_remark():
    intro = (
        "Welcome to the programme. Why does this matter? Because every state now "
        "has a cyber command, and the rules are unwritten, and we have spent the "
        "last year talking to the people who write them, in capitals and in "
        "companies, about what they expect of each other and of us."
    )
    parsed = parse(
        "Host: Ann Lee\n\nGuest: Bo Chen\n\n"
        f"Ann Lee: {intro}\n\nBo Chen: Glad to be here.\n\n"
        "Ann Lee: So, what is a norm?\n\nBo Chen: An expectation.\n"
    )
    assert [turn.kind for turn in parsed.turns] == [
        "remark",
        "remark",
        "question",
        "answer",
    ]


def test_an_opening_statement_is_a_remark_and_a_reply_to_a_question_an_answer():
    parsed = parse(
        "Chairman SMITH. The committee will come to order. We meet on election "
        "security. Who is responsible? That is today's subject, and I thank the "
        "witnesses for appearing before us this morning.\n\n"
        "Mr. JONES. Thank you, Mr. Chairman.\n\n"
        "Chairman SMITH. How many states have paper ballots?\n\n"
        "Mr. JONES. Five.\n"
    )
    assert [turn.kind for turn in parsed.turns] == [
        "remark",
        "remark",
        "question",
        "answer",
    ]


def test_a_request_in_the_last_sentence_is_a_question():
    parsed = parse(
        "Ann Lee: You wrote a book on this. Can you talk about the main argument.\n\n"
        "Bo Chen: Gladly.\n\n"
        "Ann Lee: I want to talk about the history first, and then we'll turn to "
        "what comes next.\n\nBo Chen: Sure.\n"
    )
    assert [turn.kind for turn in parsed.turns] == [
        "question",
        "answer",
        "remark",
        "remark",
    ]
