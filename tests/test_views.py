"""Reading pages: what a reader sees, what stays hidden, and query counts."""

import datetime
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from archive.models import Series, Speaker, Topic


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_home_lists_newest_interviews_speakers_topics_and_a_search_box(seeds, client):
    page = client.get("/").content.decode()
    assert "Cyber Norms in U.S.-China Relations" in page
    assert "Tim Maurer" in page and "Paul Haenle" in page
    assert "Internet sovereignty" in page
    assert 'role="search"' in page and 'name="q"' in page


def test_interview_page_shows_metadata_transcript_and_provenance(seeds, client):
    podcast = seeds["001"]
    page = client.get(podcast.get_absolute_url()).content.decode()
    assert "<h1>Cyber Norms in U.S.-China Relations</h1>" in page
    assert "September 18, 2017" in page
    assert "Episode 92" in page
    assert "China in the World" in page
    assert 'Paul Haenle</a>, <span class="role">host' in page
    assert 'Tim Maurer</a>, <span class="role">guest' in page
    for anchor in range(1, 26):
        assert f'id="t-{anchor}"' in page
    assert page.count("turn--question") >= 9
    # Maurer's replies to Haenle's questions; his reply to a remark and his
    # closing thanks are remarks.
    assert page.count("turn--answer") == 10
    assert "<em>Cyber Mercenaries: The State, Hackers, and Power</em>" in page
    assert '<link rel="canonical" href="http://testserver/interviews/' in page
    assert "Transcript of the China in the World podcast" in page  # attribution
    assert "Carnegie Endowment for International Peace. Reproduced" in page  # rights


def test_article_page_shows_the_lede_and_the_inferred_year(seeds, client):
    page = client.get(seeds["000"].get_absolute_url()).content.decode()
    assert "It took the threat of sanctions" in page
    assert '<time datetime="2016">2016</time>' in page
    assert "Inferred from the text" in page
    assert "This article originally appeared in the Wall Street Journal" in page


def test_unknown_and_unpublished_interviews_are_friendly_404s(make_interview, client):
    draft = make_interview("Secret talk", turns=[("Ann", "Hush.")], published=False)
    for url in ("/interviews/nope/", draft.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 404
        assert "Not found" in response.content.decode()


def test_staff_see_drafts_marked_as_drafts(make_interview, admin_client):
    draft = make_interview("Secret talk", turns=[("Ann", "Hush.")], published=False)
    page = admin_client.get(draft.get_absolute_url()).content.decode()
    assert "Draft: only staff can see this interview." in page
    assert "Hush." in page


def test_drafts_leak_nowhere_public(make_interview, client):
    make_interview("Public talk", turns=[("Ann Public", "Open words.")])
    draft = make_interview(
        "Secret talk", turns=[("Zed Hidden", "Hush.")], published=False
    )
    topic = Topic.objects.create(name="Hidden topic", slug="hidden-topic")
    draft.topics.add(topic)
    hidden = Speaker.objects.get(name="Zed Hidden")
    for url in ("/", "/interviews/", "/speakers/", "/topics/", "/api/interviews"):
        body = client.get(url).content.decode()
        assert "Secret talk" not in body, url
        assert "Zed Hidden" not in body, url
        assert "Hidden topic" not in body, url
    assert client.get(hidden.get_absolute_url()).status_code == 404
    assert client.get(topic.get_absolute_url()).status_code == 404
    assert client.get(f"/api/interviews/{draft.slug}").status_code == 404
    assert (
        client.get(f"/interviews/?speaker={hidden.slug}")
        .context["page"]
        .paginator.count
        == 0
    )
    home = client.get("/").content.decode()
    assert "1 interview and 1 turn of conversation" in home


@pytest.fixture
def shelf(make_interview):
    """Interviews across years, series and topics, for the list filters."""
    norms = Topic.objects.create(name="Cyber norms", slug="cyber-norms")
    show = Series.objects.create(name="Cyber Hour", slug="cyber-hour")
    made = {}
    for year, title, series, speaker in [
        (2015, "Old one", show, "Ann Lee"),
        (2016, "Middle one", None, "Bob Chen"),
        (2017, "New one", show, "Bob Chen"),
        (None, "Undated one", None, "Ann Lee"),
    ]:
        interview = make_interview(
            title,
            turns=[(speaker, f"{title} words.")],
            date=datetime.date(year, 1, 1) if year else None,
            date_precision="year",
            series=series,
        )
        made[title] = interview
    made["Old one"].topics.add(norms)
    made["New one"].topics.add(norms)
    return made


def _titles(response):
    return [i.title for i in response.context["page"]]


def test_interview_list_is_newest_first_with_unknown_dates_last(shelf, client):
    assert _titles(client.get("/interviews/")) == [
        "New one",
        "Middle one",
        "Old one",
        "Undated one",
    ]


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("speaker=bob-chen", ["New one", "Middle one"]),
        ("series=cyber-hour", ["New one", "Old one"]),
        ("topic=cyber-norms", ["New one", "Old one"]),
        ("year=2016", ["Middle one"]),
        ("speaker=ann-lee&topic=cyber-norms", ["Old one"]),
        ("speaker=nobody", []),
    ],
)
def test_interview_list_filters(shelf, client, query, titles):
    assert _titles(client.get(f"/interviews/?{query}")) == titles


def test_interview_list_paginates_and_keeps_filters_in_page_links(
    make_interview, client, settings
):
    settings.ARCHIVE_PAGE_SIZE = 2
    for i in range(5):
        make_interview(
            f"Talk {i}", turns=[("Ann", "x")], date=datetime.date(2010 + i, 1, 1)
        )
    first = client.get("/interviews/?speaker=ann")
    assert _titles(first) == ["Talk 4", "Talk 3"]
    assert "?speaker=ann&amp;page=2" in first.content.decode()
    assert _titles(client.get("/interviews/?speaker=ann&page=3")) == ["Talk 0"]


@pytest.mark.parametrize(
    "query", ["year=abc", "year=99999", "speaker=not%20a%20slug!", "topic=%00"]
)
def test_bad_filters_are_a_clear_400(client, db, query):
    response = client.get(f"/interviews/?{query}")
    assert response.status_code == 400
    assert "could not be understood" in response.content.decode()


@pytest.mark.parametrize("page", ["0", "99", "abc", "-1"])
def test_bad_page_numbers_are_404s_not_errors(shelf, client, page):
    response = client.get(f"/interviews/?page={page}")
    assert response.status_code == 404
    assert "There is no page" in response.content.decode()


def test_speaker_page_lists_interviews_and_turns_linking_into_context(seeds, client):
    page = client.get("/speakers/tim-maurer/").content.decode()
    assert "Cyber Norms in U.S.-China Relations" in page
    assert "Tim Maurer on what comes next" in page
    assert "Dr. Tim Maurer was director" in page  # his bio, from the sidebar
    assert "18 turns" in page  # 12 in the podcast, 6 in the article
    podcast = seeds["001"]
    first_answer = podcast.turns.get(position=2)
    assert f'href="{podcast.get_absolute_url()}#t-{first_answer.anchor}"' in page


def test_speaker_turns_page_in_reading_order_newest_interview_first(
    make_interview, client, settings
):
    settings.ARCHIVE_SPEAKER_TURNS_PAGE_SIZE = 2
    for year, count in [(2015, 3), (2019, 2), (2017, 4)]:
        make_interview(
            f"Talk {year}",
            date=datetime.date(year, 1, 1),
            turns=[(t, f"Ann {year} turn {i}") for i, t in enumerate(["Ann"] * count)]
            + [("Host", "A question")],
        )
    said = []
    for number in range(1, 6):
        page = client.get(f"/speakers/ann/?page={number}").content.decode()
        said += re.findall(r"Ann (\d{4}) turn (\d)", page)
    assert "9 turns" in page
    assert said == [
        ("2019", "0"), ("2019", "1"),
        ("2017", "0"), ("2017", "1"), ("2017", "2"), ("2017", "3"),
        ("2015", "0"), ("2015", "1"), ("2015", "2"),
    ]  # fmt: skip
    assert client.get("/speakers/ann/?page=6").status_code == 404


def test_topic_page_lists_its_interviews(seeds, client):
    page = client.get("/topics/internet-sovereignty/").content.decode()
    assert "Tim Maurer on what comes next" in page
    assert "Cyber Norms in U.S.-China Relations" not in page


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/interviews/",
        "/interviews/{slug}/",
        "/speakers/",
        "/speakers/ann/",
        "/topics/",
        "/topics/cyber-norms/",
        "/api/interviews",
        "/api/interviews/{slug}",
    ],
)
def test_pages_run_a_constant_number_of_queries(make_interview, client, url):
    """The same page for a small and a much larger archive costs the same."""
    topic = Topic.objects.create(name="Cyber norms", slug="cyber-norms")

    def grow(n):
        interview = make_interview(
            f"Talk {n}",
            turns=[
                ("Ann", f"Turn {i}") if i % 2 else (f"Guest {n}", "x") for i in range(n)
            ],
        )
        interview.topics.add(topic)
        return interview

    small = grow(3)
    before = _queries(client, url.format(slug=small.slug))
    big = grow(40)
    for n in range(5, 12):
        grow(n)
    after = _queries(client, url.format(slug=big.slug))
    assert after == before


def test_friendly_404_for_unknown_urls_and_json_404_under_the_api(client, db):
    page = client.get("/no/such/page/")
    assert page.status_code == 404 and "Not found" in page.content.decode()
    api = client.get("/api/interviews/nope")
    assert api.status_code == 404
    assert api["Content-Type"] == "application/json"
    assert set(api.json()) == {"error"}


def test_pages_only_answer_get_and_head(seeds, client):
    assert client.post("/interviews/").status_code == 405
    assert client.head("/").status_code == 200


def test_an_old_slug_redirects_keeping_the_search_marks(make_interview, client):
    talk = make_interview("First title", turns=[("Ann", "Sovereignty matters.")])
    old = talk.slug
    talk.title, talk.slug = "Second title", "second-title"
    talk.save()

    response = client.get(f"/interviews/{old}/", {"q": "sovereignty"})
    assert response.status_code == 301
    assert response["Location"] == "/interviews/second-title/?q=sovereignty"
    response = client.get(f"/interviews/{old}/export.md", {"download": "1"})
    assert response["Location"] == "/interviews/second-title/export.md?download=1"
    response = client.get(f"/api/interviews/{old}")
    assert response.status_code == 301
    assert response["Location"] == "/api/interviews/second-title"
    assert client.get("/interviews/never-a-slug/").status_code == 404


def test_an_old_slug_of_a_draft_is_not_found(make_interview, client):
    talk = make_interview("Draft title", turns=[("Ann", "Hidden.")], published=False)
    old = talk.slug
    talk.slug = "renamed-draft"
    talk.save()
    assert client.get(f"/interviews/{old}/").status_code == 404
    assert client.get(f"/api/interviews/{old}").status_code == 404


def test_each_turn_links_its_permanent_address_never_a_search(
    make_interview, client, settings
):
    talk = make_interview("Linked talk", turns=[("Ann", "Norms matter.")])
    anchor = talk.turns.get().anchor
    settings.ARCHIVE_PUBLIC_URL = "https://archive.example.org"
    for params in ({}, {"q": "norms"}):
        page = client.get(talk.get_absolute_url(), params).content.decode()
        link = re.search(r'<a class="turn__link" href="([^"]+)"[^>]*>([^<]+)</a>', page)
        assert (
            link[1] == f"https://archive.example.org/interviews/{talk.slug}/#t-{anchor}"
        )
        # The link's name is the text it shows (no aria-label that hides it).
        assert link[2] == f"#{anchor}" and "aria-label" not in link[0]
    assert (
        f'<link rel="canonical" href="https://archive.example.org/interviews/{talk.slug}/">'
        in page
    )


def test_sitemap_lists_published_pages_and_never_a_draft(make_interview, client):
    public = make_interview("Public talk", turns=[("Ann Open", "Hello.")])
    draft = make_interview(
        "Draft talk", turns=[("Zed Secret", "Hush.")], published=False
    )
    topic = Topic.objects.create(name="Cyber norms", slug="cyber-norms")
    public.topics.add(topic)
    draft.topics.add(Topic.objects.create(name="Hidden topic", slug="hidden-topic"))

    xml = client.get("/sitemap.xml").content.decode()
    assert f"{public.get_absolute_url()}</loc>" in xml
    assert "/speakers/ann-open/</loc>" in xml
    assert "/topics/cyber-norms/</loc>" in xml
    assert draft.slug not in xml
    assert "zed-secret" not in xml and "hidden-topic" not in xml


def test_robots_txt_keeps_crawlers_out_of_search_and_names_the_sitemap(
    client, db, settings
):
    settings.ARCHIVE_PUBLIC_URL = "https://archive.example.org"
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Disallow: /search/" in text
    assert "Sitemap: https://archive.example.org/sitemap.xml" in text


def test_interview_and_speaker_pages_carry_open_graph_cards(
    make_interview, client, settings
):
    settings.ARCHIVE_PUBLIC_URL = "https://archive.example.org"
    talk = make_interview(
        "Card talk", turns=[("Ann Lee", "Words.")], lede="On **norms** & treaties."
    )
    page = client.get(talk.get_absolute_url()).content.decode()
    assert '<meta property="og:title" content="Card talk">' in page
    assert (
        f'<meta property="og:url" content="https://archive.example.org/interviews/'
        f'{talk.slug}/">' in page
    )
    assert '<meta property="og:description" content="On norms &amp; treaties.">' in page
    speaker = client.get("/speakers/ann-lee/").content.decode()
    assert '<meta property="og:title" content="Ann Lee">' in speaker
    assert 'content="https://archive.example.org/speakers/ann-lee/"' in speaker


def test_search_page_charts_hits_per_year_each_bar_narrowing_to_its_year(
    make_interview, client
):
    from archive.search.queue import drain

    for year, n in [(2014, 2), (2016, 1)]:
        make_interview(
            f"Talk {year}",
            date=datetime.date(year, 5, 1),
            turns=[("Ann", f"Quorum {i}.") for i in range(n)],
        )
    drain()
    page = client.get("/search/", {"q": "quorum"}).content.decode()
    chart = re.search(r'<svg class="years".*?</svg>', page, re.S)[0]
    bars = re.findall(r'<a href="([^"]+)"><title>(\d{4}): (\d+)</title>', chart)
    assert [(year, count) for _, year, count in bars] == [
        ("2014", "2"),
        ("2015", "0"),
        ("2016", "1"),
    ]
    assert "year%3A2016" in bars[2][0]
    table = re.search(r'<details class="years-table">.*?</details>', page, re.S)[0]
    assert "<td>2015</td><td>0</td>" in table
    narrowed = client.get("/search/" + html.unescape(bars[2][0])).content.decode()
    assert '<p class="total">1 result' in narrowed


def test_a_drafts_series_and_topic_names_never_show_in_the_interview_list(
    make_interview, client
):
    from archive.models import Series, Topic

    draft = make_interview("Secret", turns=[("Ann Lee", "Hello.")], published=False)
    draft.series = Series.objects.create(name="Hidden Hour", slug="hidden-hour")
    draft.save()
    draft.topics.add(Topic.objects.create(name="Covert matters", slug="covert"))
    for query in ("?series=hidden-hour", "?topic=covert"):
        response = client.get("/interviews/" + query)
        assert response.status_code == 200
        content = response.content.decode()
        assert "Hidden Hour" not in content
        assert "Covert matters" not in content
        assert "Secret" not in content
