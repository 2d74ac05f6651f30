"""A draft lends nothing to the public: not its title, words, series, topic
or speaker names, not through any page, parameter, API, feed, export,
suggestion or count. Every public address a reader could try with the
draft's slugs is fetched, and none of the draft's names may appear."""

import re

import pytest

from archive.models import Series, Speaker, Topic
from archive.search.queue import drain

SECRETS = ("Zanzibar", "Quokka", "Draftonly", "Nebulous", "Clandestine")


@pytest.fixture
def archive(make_interview):
    public = make_interview(
        "Open talk on norms",
        turns=[("Ann Public", "Norms matter for cyber espionage."), ("Bo Ask", "Why?")],
    )
    public.topics.add(Topic.objects.create(name="Norms", slug="norms"))
    draft = make_interview(
        "Clandestine talk",
        turns=[
            ("Xavier Draftonly", "Nebulous plans for cyber espionage and norms."),
            ("Ann Public", "Tell me more about nebulous plans?"),
        ],
        published=False,
    )
    draft.series = Series.objects.create(name="Zanzibar Quarterly", slug="zq")
    draft.save()
    draft.topics.add(Topic.objects.create(name="Quokka Studies", slug="qs"))
    Speaker.objects.filter(name="Xavier Draftonly").update(slug="xd")
    drain()
    return public, draft


def public_addresses(draft) -> list[str]:
    turn = draft.turns.first()
    slugs = {"series": "zq", "topic": "qs", "speaker": "xd"}
    urls = [
        "/",
        "/interviews/",
        "/speakers/",
        "/topics/",
        "/sitemap.xml",
        "/feeds/interviews/",
        "/api/interviews",
        "/speakers/xd/",
        "/topics/qs/",
        "/feeds/speakers/xd/",
        f"/interviews/{draft.slug}/",
        f"/interviews/{draft.slug}/export.txt",
        f"/interviews/{draft.slug}/cite.bib",
        f"/api/interviews/{draft.slug}",
        f"/api/interviews/{draft.slug}.json",
        f"/q/{turn.pk}",
        f"/q/{turn.pk}/cite.ris",
    ]
    for key, slug in slugs.items():
        urls += [
            f"/interviews/?{key}={slug}",
            f"/api/interviews?{key}={slug}",
            f"/search/?q={key}:{slug}",
            f"/search/?q=espionage+{key}:{slug}",
            f"/api/search?q={key}:{slug}",
            f"/api/search?q=norms+{key}:{slug}",
            f"/feeds/search/?q={key}:{slug}",
            f"/search/?q=norms&format=csv&{key}={slug}",
        ]
    urls += [
        # Searches whose words only the draft has, misspelt, for suggestions.
        "/search/?q=nebulus",
        "/search/?q=nebulus&spelling=as-typed",
        "/api/search?q=nebulus",
        "/search/?q=zanzibr",
        "/search/?q=quoka+studies",
        "/search/?q=xavier+draftonli",
        # Broad searches: facets and counts must leave the draft out.
        "/search/?q=espionage",
        "/api/search?q=espionage",
        "/search/?q=norms&format=csv",
        "/feeds/search/?q=espionage",
        "/search/?q=cyber*",
        "/api/search?q=cyber*&sort=newest",
    ]
    return urls


def test_no_public_address_shows_anything_of_a_draft(archive, client):
    _, draft = archive
    for url in public_addresses(draft):
        response = client.get(url)
        assert response.status_code in {200, 400, 404}, (url, response.status_code)
        body = b"".join(response) if response.streaming else response.content
        text = body.decode()
        for secret in SECRETS:
            assert secret.lower() not in text.lower(), (url, secret)


def test_counts_leave_drafts_out(archive, client):
    data = client.get("/api/search?q=espionage").json()
    assert data["total"] == 1
    speakers = {f["label"] for f in data["facets"]["speaker"]}
    assert speakers == {"Ann Public"}
    # The public speaker who also spoke in the draft: only the public turn.
    ann = Speaker.objects.get(name="Ann Public")
    page = client.get(ann.get_absolute_url()).content.decode()
    assert "1 interview" in re.sub(r"\s+", " ", page)
    home = client.get("/").content.decode()
    assert "1 interview and 2 turns of conversation" in home
