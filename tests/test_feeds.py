"""Atom feeds: new interviews, a speaker's turns, a search; never a draft."""

import datetime
import xml.etree.ElementTree as ET

from django.utils import timezone

from archive.models import Interview
from archive.search.queue import drain

ATOM = "{http://www.w3.org/2005/Atom}"


def entries(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    return [
        {
            "title": entry.find(f"{ATOM}title").text,
            "link": entry.find(f"{ATOM}link").get("href"),
            "updated": entry.find(f"{ATOM}updated").text,
        }
        for entry in feed.findall(f"{ATOM}entry")
    ]


def test_new_interviews_newest_published_first_without_drafts(make_interview, client):
    old = make_interview("Old talk", turns=[("Ann", "Treaty talk.")])
    draft = make_interview("Secret draft", turns=[("Ann", "Hush.")], published=False)
    new = make_interview("New talk", turns=[("Ann", "Norms talk.")])
    Interview.objects.filter(pk=old.pk).update(
        published_at=timezone.now() - datetime.timedelta(days=3)
    )
    titles = [e["title"] for e in entries(client, "/feeds/interviews/")]
    assert titles == ["New talk", "Old talk"]
    assert draft.title not in titles
    assert new.published_at is not None


def test_an_interview_is_dated_by_when_it_first_went_public(make_interview, client):
    talk = make_interview("Late talk", turns=[("Ann", "Hi.")], published=False)
    assert talk.published_at is None
    Interview.objects.filter(pk=talk.pk).update(published=True)
    talk.refresh_from_db()
    first = talk.published_at
    assert first is not None
    talk.published = False
    talk.save()
    talk.published = True
    talk.save()
    talk.refresh_from_db()
    assert talk.published_at == first  # republishing keeps the first date


def test_a_speakers_feed_lists_their_turns_linking_into_context(make_interview, client):
    talk = make_interview(
        "Feed talk", turns=[("Host", "What now?"), ("Ann Lee", "Norms, now.")]
    )
    make_interview("Hidden", turns=[("Ann Lee", "Draft words.")], published=False)
    found = entries(client, "/feeds/speakers/ann-lee/")
    assert len(found) == 1
    anchor = talk.turns.get(position=2).anchor
    assert found[0]["link"].endswith(f"{talk.get_absolute_url()}#t-{anchor}")
    assert client.get("/feeds/speakers/nobody/").status_code == 404


def test_a_search_is_a_feed_of_its_newest_hits(make_interview, client):
    make_interview("Quorum talk", turns=[("Ann", "Quorum rules.")])
    make_interview("Hidden quorum", turns=[("Ann", "Quorum too.")], published=False)
    drain()
    found = entries(client, "/feeds/search/", q="quorum")
    titles = {e["title"] for e in found}
    assert titles == {"Ann in “Quorum talk”", "“Quorum talk”, introduction"}
    assert client.get("/feeds/search/").status_code == 404


def test_pages_advertise_their_feeds(make_interview, client):
    make_interview("Talk", turns=[("Ann Lee", "Words.")])
    drain()
    home = client.get("/").content.decode()
    assert 'type="application/atom+xml"' in home and "/feeds/interviews/" in home
    speaker = client.get("/speakers/ann-lee/").content.decode()
    assert "/feeds/speakers/ann-lee/" in speaker
    search = client.get("/search/", {"q": "words"}).content.decode()
    assert "/feeds/search/?q=words" in search
