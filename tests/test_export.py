"""Exports: each format downloads, and imports back as the same interview."""

import datetime
import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive import parsing
from archive.export import reader_lines
from archive.importer import save_parsed
from archive.markdown import escape_plain, unescape_plain
from archive.models import Interview, Participant, Series, Speaker, Topic, Turn
from archive.shapes import interview_document

SUFFIXES = ("md", "txt", "json", "vtt")


def _build(title, turns, people, **fields):
    """An interview with ``people`` as (name, role) and ``turns`` as
    (name, body, start) triples."""
    interview = Interview.objects.create(title=title, **fields)
    speakers = {}
    for position, (name, role) in enumerate(people):
        speakers[name] = Speaker.objects.create(name=name)
        Participant.objects.create(
            interview=interview, speaker=speakers[name], role=role, position=position
        )
    for position, (name, body, start) in enumerate(turns, start=1):
        Turn.objects.create(
            interview=interview,
            position=position,
            speaker=speakers[name],
            label=name.split()[-1],
            body=body,
            start=start,
        )
    interview.refresh_turn_count()
    return interview


@pytest.fixture
def rich(db):
    """A Markdown interview with three roles, paragraphs and timings."""
    interview = _build(
        "Treaties & tools: a panel",
        turns=[
            ("Ann Host", "Welcome to the panel. Who wants to start?", 0.0),
            (
                "Bo Guest",
                "I will, thanks. The **first** point is simple.\n\n"
                "The second needs a [link](https://example.org/norms) to explain.",
                12.5,
            ),
            ("Cy Panel", "Let me add one thing about *attribution*.", 75.25),
            (
                "Bo Guest",
                "Agreed. It matters a lot.\n\nAnd a third paragraph, for good measure.",
                3725.004,
            ),
            ("Ann Host", "Thank you both.", 3800.0),
        ],
        people=[("Ann Host", "host"), ("Bo Guest", "guest"), ("Cy Panel", "panelist")],
        date=datetime.date(2019, 3, 1),
        date_precision="month",
        series=Series.objects.create(name="Norms Hour", slug="norms-hour"),
        episode="7",
        outlet="Example Radio",
        medium="podcast",
        source_url="https://example.org/norms-hour/7",
        lede="A panel on *norms*.\n\nRecorded live.",
        attribution="Transcript courtesy of Example Radio.",
        rights="© 2019 Example Radio.",
    )
    interview.topics.add(Topic.objects.create(name="Cyber norms", slug="cyber-norms"))
    return interview


@pytest.fixture
def plain(db):
    """A plain-text interview whose text looks like Markdown and HTML."""
    said = [
        ("Dee Asker", "Was it in 1970? <sigh> Tell me.", 1.0),
        ("Eve Answer", "1970.  Now that was a year.\n\nPrices rose 5 * 3 times.", 9.0),
        ("Dee Asker", "# of hackers: snake_case [sic] & more?", 20.0),
        ("Eve Answer", "- not a list, and > not a quote.", 31.0),
    ]
    return _build(
        "Plain talk",
        turns=[(name, escape_plain(text), start) for name, text, start in said],
        people=[("Dee Asker", "interviewer"), ("Eve Answer", "guest")],
        date=datetime.date(2021, 5, 4),
        markup="plain",
    )


def _download(client, interview, suffix):
    response = client.get(f"/interviews/{interview.slug}/export.{suffix}")
    assert response.status_code == 200, response.content.decode()[:500]
    return response


def _roundtrip(client, interview, suffix) -> Interview:
    data = _download(client, interview, suffix).content
    parsed = parsing.parse(data, filename=f"{interview.slug}.{suffix}")
    outcome = save_parsed(
        parsed,
        source_name=f"roundtrip.{suffix}",
        source_text=parsed.source_text,
        import_hash="x",
    )
    assert outcome.status == "created", outcome.message
    assert outcome.interview.pk != interview.pk
    return outcome.interview


def _metadata(interview):
    return {
        "title": interview.title,
        "date": (interview.date, interview.date_precision if interview.date else ""),
        "series": interview.series.name if interview.series else "",
        "episode": interview.episode,
        "outlet": interview.outlet,
        "source_url": interview.source_url,
        "attribution": interview.attribution,
        "rights": interview.rights,
    }


def _people(interview):
    return [
        (p.speaker.name, p.role)
        for p in interview.participants.select_related("speaker")
    ]


def _turns(interview):
    return list(interview.turns.select_related("speaker").order_by("position"))


def _assert_same_turns(new, old, *, kinds=False, exact_start=False):
    new_turns, old_turns = _turns(new), _turns(old)
    assert [t.speaker.name for t in new_turns] == [t.speaker.name for t in old_turns]
    for a, b in zip(new_turns, old_turns, strict=True):
        assert a.body_html == b.body_html, b.anchor
        if exact_start or a.start is None or b.start is None:
            assert a.start == b.start, b.anchor
        else:
            assert a.start == pytest.approx(b.start, abs=0.001), b.anchor
        if kinds:
            assert a.kind == b.kind, b.anchor


def _visible(body_html: str) -> str:
    return " ".join(reader_lines(body_html))


# -- Round trips ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["rich", "plain"])
def test_markdown_export_imports_back_as_the_same_interview(name, db, client, request):
    original = request.getfixturevalue(name)
    copy = _roundtrip(client, original, "md")
    assert _metadata(copy) == _metadata(original)
    assert copy.medium == original.medium
    assert copy.lede_html == original.lede_html
    assert [t.name for t in copy.topics.all()] == [
        t.name for t in original.topics.all()
    ]
    assert _people(copy) == _people(original)
    _assert_same_turns(copy, original)


@pytest.mark.parametrize("name", ["rich", "plain"])
def test_text_export_imports_back_as_the_same_interview(name, db, client, request):
    original = request.getfixturevalue(name)
    copy = _roundtrip(client, original, "txt")
    assert _metadata(copy) == _metadata(original)
    # One line of plain text: the lede's paragraphs are joined.
    assert _visible(copy.lede_html) == _visible(original.lede_html)
    # The header lists people by role, so their order can change.
    assert sorted(_people(copy)) == sorted(_people(original))
    _assert_same_turns(copy, original)


@pytest.mark.parametrize("name", ["rich", "plain"])
def test_json_export_imports_back_as_the_same_interview(name, db, client, request):
    original = request.getfixturevalue(name)
    copy = _roundtrip(client, original, "json")
    assert _metadata(copy) == _metadata(original)
    assert copy.medium == original.medium
    assert copy.lede_html == original.lede_html
    assert _people(copy) == _people(original)
    _assert_same_turns(copy, original, kinds=True, exact_start=True)
    assert [t.label for t in _turns(copy)] == [t.label for t in _turns(original)]
    # Plain stays plain, so its text export still reads as written.
    assert copy.markup == original.markup


@pytest.mark.parametrize("name", ["rich", "plain"])
def test_vtt_export_imports_back_with_paragraphs_joined(name, db, client, request):
    original = request.getfixturevalue(name)
    copy = _roundtrip(client, original, "vtt")
    assert copy.title == original.title
    assert {p.speaker.name for p in copy.participants.all()} == {
        p.speaker.name for p in original.participants.all()
    }
    new_turns, old_turns = _turns(copy), _turns(original)
    assert [t.speaker.name for t in new_turns] == [t.speaker.name for t in old_turns]
    for a, b in zip(new_turns, old_turns, strict=True):
        assert a.start == pytest.approx(b.start, abs=0.001)
        # WebVTT's one loss: a turn's paragraphs come back as one.
        assert a.body_html == f"<p>{html.escape(_visible(b.body_html), False)}</p>"


@pytest.mark.parametrize("suffix", ["md", "txt", "json"])
@pytest.mark.parametrize("seed", ["000", "001"])
def test_seed_interviews_survive_a_round_trip(seeds, client, seed, suffix):
    original = seeds[seed]
    copy = _roundtrip(client, original, suffix)
    assert _metadata(copy) == _metadata(original)
    assert sorted(_people(copy)) == sorted(_people(original))
    _assert_same_turns(copy, original, kinds=suffix == "json")


# -- What the files say -----------------------------------------------------------


def test_markdown_export_has_front_matter_and_labelled_turns(rich, client):
    text = _download(client, rich, "md").content.decode()
    assert text.startswith(
        "---\n"
        "title: 'Treaties & tools: a panel'\n"
        "date: '2019-03'\n"
        "series: Norms Hour\n"
        "episode: '7'\n"
        "outlet: Example Radio\n"
        "medium: podcast\n"
        "source_url: https://example.org/norms-hour/7\n"
        "lede: |-\n"
        "  A panel on *norms*.\n"
        "\n"
        "  Recorded live.\n"
        "attribution: Transcript courtesy of Example Radio.\n"
        "rights: © 2019 Example Radio.\n"
        "topics:\n"
        "- Cyber norms\n"
        "participants:\n"
        "- name: Ann Host\n"
        "  role: host\n"
        "- name: Bo Guest\n"
        "  role: guest\n"
        "- name: Cy Panel\n"
        "  role: panelist\n"
        "markup: markdown\n"
        "---\n"
        "\n"
        "**Ann Host:** [00:00:00] Welcome to the panel. Who wants to start?\n"
        "\n"
        "**Bo Guest:** [00:00:12.500] I will, thanks. The **first** point is simple.\n"
        "\n"
        "The second needs a [link](https://example.org/norms) to explain.\n"
    )
    assert "**Bo Guest:** [01:02:05.004] Agreed." in text
    assert "published" not in text


def test_text_export_has_a_header_and_reads_as_written(plain, client):
    text = _download(client, plain, "txt").content.decode()
    assert text == (
        "TITLE:  Plain talk\n"
        "DATE:  2021-05-04\n"
        "GUESTS:  Eve Answer\n"
        "INTERVIEWER:  Dee Asker\n"
        "\n"
        "Dee Asker: [00:00:01] Was it in 1970? <sigh> Tell me.\n"
        "\n"
        "Eve Answer: [00:00:09] 1970.  Now that was a year.\n"
        "\n"
        "Prices rose 5 * 3 times.\n"
        "\n"
        "Dee Asker: [00:00:20] # of hackers: snake_case [sic] & more?\n"
        "\n"
        "Eve Answer: [00:00:31] - not a list, and > not a quote.\n"
    )


def test_text_export_names_people_by_role(rich, client):
    text = _download(client, rich, "txt").content.decode()
    header = text.split("\n\n", 1)[0]
    assert header.splitlines() == [
        "TITLE:  Treaties & tools: a panel",
        "DATE:  2019-03",
        "SERIES:  Norms Hour",
        "EPISODE:  7",
        "OUTLET:  Example Radio",
        "SOURCE:  https://example.org/norms-hour/7",
        "HOSTS:  Ann Host",
        "GUESTS:  Bo Guest",
        "PANELISTS:  Cy Panel",
        "DESCRIPTION:  A panel on *norms*. Recorded live.",
        "RIGHTS:  © 2019 Example Radio.",
        "ATTRIBUTION:  Transcript courtesy of Example Radio.",
    ]


def test_vtt_export_has_one_cue_per_turn_with_escaped_text(plain, client):
    text = _download(client, plain, "vtt").content.decode()
    assert text == (
        "WEBVTT\n"
        "\n"
        "NOTE\n"
        "Title: Plain talk\n"
        "Date: 2021-05-04\n"
        "\n"
        "00:00:01.000 --> 00:00:09.000\n"
        "<v Dee Asker>Was it in 1970? &lt;sigh&gt; Tell me.\n"
        "\n"
        "00:00:09.000 --> 00:00:20.000\n"
        "<v Eve Answer>1970. Now that was a year.\n"
        "Prices rose 5 * 3 times.\n"
        "\n"
        "00:00:20.000 --> 00:00:31.000\n"
        "<v Dee Asker># of hackers: snake_case [sic] &amp; more?\n"
        "\n"
        # The last cue lasts as long as its nine words take to say.
        "00:00:31.000 --> 00:00:34.600\n"
        "<v Eve Answer>- not a list, and &gt; not a quote.\n"
    )


def test_vtt_cues_show_what_readers_see_of_markdown(rich, client):
    text = _download(client, rich, "vtt").content.decode()
    assert (
        "00:00:12.500 --> 00:01:15.250\n"
        "<v Bo Guest>I will, thanks. The first point is simple.\n"
        "The second needs a link to explain.\n\n"
    ) in text
    assert "\n\n\n" not in text


def test_json_export_is_the_api_document(rich, client):
    response = _download(client, rich, "json")
    assert response.json() == interview_document(rich)
    assert response.json()["markup"] == "markdown"


# -- Responses --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "content_type"),
    [
        ("md", "text/markdown; charset=utf-8"),
        ("txt", "text/plain; charset=utf-8"),
        ("json", "application/json; charset=utf-8"),
        ("vtt", "text/vtt; charset=utf-8"),
    ],
)
def test_exports_download_as_named_files(rich, client, suffix, content_type):
    for url in (
        f"/interviews/{rich.slug}/export.{suffix}",
        f"/api/interviews/{rich.slug}.{suffix}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"] == (
            f'attachment; filename="{rich.slug}.{suffix}"'
        )
    assert response.content == _download(client, rich, suffix).content


def test_the_api_document_url_is_unchanged(rich, client):
    response = client.get(f"/api/interviews/{rich.slug}")
    assert response["Content-Type"] == "application/json"
    assert "Content-Disposition" not in response
    assert response.json()["title"] == "Treaties & tools: a panel"


def test_vtt_without_timings_is_a_404_that_says_why(make_interview, client):
    talk = make_interview("Untimed", turns=[("Ann", "Hello.")])
    for url in (
        f"/interviews/{talk.slug}/export.vtt",
        f"/api/interviews/{talk.slug}.vtt",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert "no timings" in response.content.decode()
    assert client.get(f"/interviews/{talk.slug}/export.md").status_code == 200


def test_unknown_formats_are_404s(rich, client):
    for url in (
        f"/interviews/{rich.slug}/export.docx",
        f"/interviews/{rich.slug}/export.",
        f"/api/interviews/{rich.slug}.html",
    ):
        assert client.get(url).status_code == 404, url


def test_unpublished_interviews_export_nothing_publicly(make_interview, client):
    draft = make_interview("Secret talk", turns=[("Ann", "Hush.")], published=False)
    for suffix in SUFFIXES:
        for url in (
            f"/interviews/{draft.slug}/export.{suffix}",
            f"/api/interviews/{draft.slug}.{suffix}",
        ):
            response = client.get(url)
            assert response.status_code == 404, url
            assert "Hush" not in response.content.decode()
            assert "Secret" not in response.content.decode()


def test_staff_can_export_drafts_from_the_page_but_not_the_api(
    make_interview, admin_client
):
    draft = make_interview("Secret talk", turns=[("Ann", "Hush.")], published=False)
    response = admin_client.get(f"/interviews/{draft.slug}/export.md")
    assert response.status_code == 200
    assert "**Ann:** Hush." in response.content.decode()
    assert admin_client.get(f"/api/interviews/{draft.slug}.md").status_code == 404


def test_old_slugs_redirect_to_the_new_export_url(rich, client):
    old = rich.slug
    rich.slug = "treaties-and-tools"
    rich.save()
    response = client.get(f"/interviews/{old}/export.md")
    assert response.status_code == 301
    assert response["Location"] == "/interviews/treaties-and-tools/export.md"
    response = client.get(f"/api/interviews/{old}.vtt")
    assert response.status_code == 301
    assert response["Location"] == "/api/interviews/treaties-and-tools.vtt"


def test_old_slugs_of_drafts_do_not_redirect(rich, client):
    old = rich.slug
    rich.slug = "treaties-and-tools"
    rich.published = False
    rich.save()
    assert client.get(f"/interviews/{old}/export.md").status_code == 404
    assert client.get(f"/api/interviews/{old}.md").status_code == 404


# The interview, then what each format reads: participants, turns, topics.
QUERIES = {"md": 4, "txt": 3, "json": 4, "vtt": 2}


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("size", [10, 200])
def test_exports_run_a_fixed_number_of_queries(
    make_interview, client, django_assert_num_queries, suffix, size
):
    names = ["Ann Host", "Bo Guest", "Cy Panel"]
    talk = make_interview(
        "Long talk",
        turns=[(names[i % 3], f"Turn {i} says something.") for i in range(size)],
    )
    Turn.objects.filter(interview=talk).update(start=1.5)
    with django_assert_num_queries(QUERIES[suffix]):
        response = client.get(f"/interviews/{talk.slug}/export.{suffix}")
    assert response.status_code == 200
    with django_assert_num_queries(QUERIES[suffix]):
        assert client.get(f"/api/interviews/{talk.slug}.{suffix}").status_code == 200


# -- The page -----------------------------------------------------------------------


def test_the_page_offers_downloads_and_webvtt_only_with_timings(rich, seeds, client):
    page = client.get(rich.get_absolute_url()).content.decode()
    for suffix, label in [
        ("md", "Markdown"),
        ("txt", "Plain text"),
        ("json", "JSON"),
        ("vtt", "WebVTT"),
    ]:
        assert (
            f'<a href="/interviews/{rich.slug}/export.{suffix}" download>{label}</a>'
        ) in page
    untimed = seeds["001"]
    page = client.get(untimed.get_absolute_url()).content.decode()
    assert f"/interviews/{untimed.slug}/export.md" in page
    assert "export.vtt" not in page and "WebVTT" not in page


# -- unescape_plain -------------------------------------------------------------------

_LINES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"),
    max_size=60,
)


@given(st.lists(_LINES, min_size=1, max_size=4))
def test_unescape_plain_gives_back_the_paragraphs_escape_plain_was_given(paras):
    text = "\n\n".join(paras)
    assert unescape_plain(escape_plain(text)) == text


@given(
    st.text(
        alphabet=st.sampled_from(list("\\`*_[]#>+-.)&;<amplt#0123 x\n")), max_size=40
    )
)
def test_unescape_plain_undoes_escape_plain_for_tricky_text(text):
    assert unescape_plain(escape_plain(text)) == text


def test_unescape_plain_examples():
    for text in ["1970.  Now", "<sigh>", "a * b", "&amp;", "# 1", "\\*", "- x"]:
        assert unescape_plain(escape_plain(text)) == text
    assert unescape_plain(r"\*\*bold\*\*") == "**bold**"
    assert re.fullmatch(r"1970\\\.  Now", escape_plain("1970.  Now"))
