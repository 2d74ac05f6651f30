"""The two seed interviews, imported as `make run` imports them, turn by turn."""

import itertools

import pytest

from archive.models import Speaker


@pytest.fixture
def podcast(seeds):
    return seeds["001"]


@pytest.fixture
def article(seeds):
    return seeds["000"]


def _turns(interview):
    return list(interview.turns.select_related("speaker").order_by("position"))


def test_podcast_has_25_alternating_turns_13_by_haenle_12_by_maurer(podcast):
    turns = _turns(podcast)
    assert len(turns) == 25
    names = [t.speaker.name for t in turns]
    assert names == ["Paul Haenle", "Tim Maurer"] * 12 + ["Paul Haenle"]
    assert {t.label for t in turns} == {"Haenle", "Maurer"}
    assert [t.anchor for t in turns] == list(range(1, 26))


def test_podcast_header_is_metadata_not_turns(podcast):
    assert podcast.title == "Cyber Norms in U.S.-China Relations"
    assert podcast.episode == "92"
    assert podcast.date_iso == "2017-09-18"
    assert podcast.date_display == "September 18, 2017"
    assert podcast.series.name == "China in the World"
    assert podcast.medium == "podcast"
    roles = {p.speaker.name: p.role for p in podcast.participants.all()}
    assert roles == {"Paul Haenle": "host", "Tim Maurer": "guest"}
    bodies = " ".join(t.body for t in podcast.turns.all())
    for header_text in (
        "CENTER FOR GLOBAL POLICY",
        "Transcript",
        "Episode 92",
        "Host:",
    ):
        assert header_text not in bodies


def test_podcast_unlabelled_paragraphs_continue_the_turn(podcast):
    turns = _turns(podcast)
    first = turns[0].body.split("\n\n")
    assert len(first) == 3
    assert first[0].startswith("Recently I had the opportunity")
    assert first[2].startswith("Tim, before we delve into issues")
    last = turns[-1].body.split("\n\n")
    assert len(last) == 2
    assert last[0] == "Thank you."
    assert last[1].startswith("That's it for this edition")


@pytest.mark.parametrize(
    "joined",
    [
        "to the discussions of the nuclear space in the 1950s",
        "for where things stand in this regard",
        "How did that develop?",
    ],
)
def test_podcast_paragraphs_split_by_page_breaks_come_back_whole(podcast, joined):
    paragraphs = [p for t in podcast.turns.all() for p in t.body.split("\n\n")]
    assert sum(joined in p for p in paragraphs) == 1


def test_podcast_kinds_maurer_answers_haenle_asks(podcast):
    turns = _turns(podcast)
    # Each reply to a question is an answer; a reply to a remark, and the
    # closing "Thank you, Paul", are remarks.
    for before, turn in itertools.pairwise(turns):
        if turn.speaker.name == "Tim Maurer":
            expected = "answer" if before.kind == "question" else "remark"
            assert turn.kind == expected, turn.body[:60]
    assert [t.kind for t in turns if t.speaker.name == "Tim Maurer"].count(
        "answer"
    ) == 10
    assert turns[-2].kind == "remark"  # "Thank you, Paul. And I look forward…"
    haenle = [t for t in turns if t.speaker.name == "Paul Haenle"]
    for turn in haenle:
        if "?" in turn.body:
            assert turn.kind == "question", turn.body[:60]
    assert haenle[-1].kind == "remark"  # "Thank you. That's it for this edition…"


def test_article_lede_and_twelve_alternating_qa_turns(article):
    assert article.lede.split("\n\n")[0].startswith("It took the threat of sanctions")
    assert len(article.lede.split("\n\n")) == 3
    turns = _turns(article)
    assert len(turns) == 12
    assert [t.kind for t in turns] == ["question", "answer"] * 6
    assert [t.speaker.name for t in turns] == ["China Real Time", "Tim Maurer"] * 6
    assert len(turns[-1].body.split("\n\n")) == 2
    assert all(len(t.body.split("\n\n")) == 1 for t in turns[:-1])
    roles = {p.speaker.name: p.role for p in article.participants.all()}
    assert roles == {"China Real Time": "interviewer", "Tim Maurer": "guest"}


def test_article_sidebar_is_the_bio_and_credit_is_the_attribution(article):
    maurer = Speaker.objects.get(slug="tim-maurer")
    bodies = " ".join(t.body for t in article.turns.all())
    assert "More >" not in bodies
    assert "Dr. Tim Maurer was director" not in bodies
    assert "originally appeared" not in bodies
    assert article.attribution == (
        "This article originally appeared in the Wall Street Journal"
    )
    assert "Dr. Tim Maurer" in maurer.alias_list()


def test_article_is_dated_2016_at_year_precision_marked_inferred(article):
    assert article.date_iso == "2016"
    assert article.date_precision == "year"
    assert article.date_display == "2016"
    assert "Inferred" in article.date_note


def test_both_seeds_share_one_tim_maurer(seeds):
    assert Speaker.objects.filter(name="Tim Maurer").count() == 1


def test_seed_topics(podcast, article):
    podcast_topics = {t.name for t in podcast.topics.all()}
    article_topics = {t.name for t in article.topics.all()}
    assert {"Cyber norms", "U.S.–China relations"} <= podcast_topics
    assert {
        "Cyber norms",
        "U.S.–China relations",
        "Internet sovereignty",
        "Data integrity",
    } <= article_topics


@pytest.mark.parametrize(
    ("seed", "words"),
    [
        ("000", "raised by [NSA leaker Edward] Snowden"),
        ("000", "the \u201cfifth domain\u201d \u2014 after land"),
        ("000", "Chinese President Xi Jinping\u2019s"),
        ("000", "sovereignty\u2013that national borders"),
        ("000", "to meet\u00a0with Chinese"),
        ("001", "if you like [the] China in the World podcast"),
        ("001", "Carnegie\u2013Tsinghua website"),
        ("001", "Meng Jianzhu [\u5b5f\u5efa\u67f1]"),
        ("001", "*Cyber Mercenaries: The State, Hackers, and Power*"),
    ],
)
def test_words_survive_exactly(seeds, client, seed, words):
    interview = seeds[seed]
    stored = interview.lede + "".join(t.body for t in interview.turns.all())
    assert words in stored
    data = client.get(f"/api/interviews/{interview.slug}").json()
    exported = data["lede"] + "".join(t["text"] for t in data["turns"])
    assert words in exported
