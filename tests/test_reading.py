"""The reading pages' furniture: hit navigation, speaker pages, the page
script and the accessible turn links (the browser tests check behaviour)."""

import re

from archive.models import Interview, Topic

PODCAST = "cyber-norms-in-us-china-relations"


def test_search_arrival_offers_previous_next_and_back(indexed, client):
    content = client.get(f"/interviews/{PODCAST}/", {"q": "norms"}).content.decode()
    nav = re.search(r'<nav class="hits-nav".*?</nav>', content, re.S)[0]
    first = re.search(r'class="turn turn--\w+ turn--matched" id="t-(\d+)"', content)[1]
    assert f'href="#t-{first}" data-hit="next"' in nav
    assert 'href="/search/?q=norms">Back to the results</a>' in nav


def test_no_hit_navigation_without_matching_turns(indexed, client):
    content = client.get(f"/interviews/{PODCAST}/", {"q": "zzzqqq"}).content.decode()
    assert "data-hit=" not in content
    assert "Back to the results" in content


def test_turn_link_text_is_its_whole_accessible_name(seeds, client):
    content = client.get(f"/interviews/{PODCAST}/").content.decode()
    links = re.findall(r'<a class="turn__link"([^>]*)>([^<]*)</a>', content)
    assert links
    for attributes, text in links:
        assert re.fullmatch(r"#\d+", text)
        assert "aria-label" not in attributes and "title=" not in attributes


def test_every_page_loads_the_script_without_inline_code(seeds, client):
    for url in ["/", f"/interviews/{PODCAST}/", "/search/?q=norms", "/speakers/"]:
        content = client.get(url).content.decode()
        assert re.search(r'<script src="[^"]*archive/archive[^"]*\.js" defer>', content)
        # Only data blocks inline (JSON-LD), never code.
        for attributes in re.findall(r"<script([^>]*)>", content):
            assert "src=" in attributes or 'type="application/ld+json"' in attributes


def test_speaker_page_shows_roles_topics_and_feed(seeds, client):
    content = client.get("/speakers/tim-maurer/").content.decode()
    assert "September 18, 2017, as guest" in content
    assert "2016, as guest" in content
    topics = re.search(r"<h2>Topics</h2>(.*?)</section>", content, re.S)[1]
    # Cyber norms is a topic of both interviews, the others of one.
    assert re.search(r"Cyber norms</a> <span class=\"count\">2 interviews", topics)
    assert 'Arms control</a> <span class="count">1 interview<' in topics
    assert 'href="/search/?q=speaker%3Atim-maurer%20topic%3Acyber-norms"' in topics
    assert 'href="/feeds/speakers/tim-maurer/"' in content


def test_speaker_page_topics_leave_out_drafts(seeds, client):
    draft = Interview.objects.create(title="Secret", published=False)
    draft.topics.add(Topic.objects.create(name="Hidden matters", slug="hidden"))
    draft.participants.create(speaker=seeds["001"].participants.last().speaker)
    assert "Hidden matters" not in client.get("/speakers/tim-maurer/").content.decode()
