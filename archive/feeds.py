"""Atom feeds (Django's syndication framework): new interviews, a speaker's
new turns, and any search as a feed. Entries are dated by when an interview
first went public; drafts never appear."""

from urllib.parse import urlencode

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import strip_tags
from django.utils.text import Truncator

from archive import search as archive_search
from archive.models import Interview, Speaker, Turn
from archive.parsing.text import printable
from archive.search.query import MAX_LENGTH

SIZE = 30


class _AtomFeed(Feed):
    feed_type = Atom1Feed

    def item_pubdate(self, item):
        interview = item if isinstance(item, Interview) else item.interview
        return interview.published_at or interview.created_at

    def item_updateddate(self, item):
        return self.item_pubdate(item)


class NewInterviews(_AtomFeed):
    title = "New interviews · Cyber-policy interview archive"
    subtitle = "Interviews as they are published."

    def link(self):
        return reverse("archive-interviews")

    def items(self):
        return (
            Interview.objects.published()
            .select_related("series")
            .order_by("-published_at", "-pk")[:SIZE]
        )

    def item_title(self, interview):
        return interview.title

    def item_description(self, interview):
        return interview.summary


class SpeakerTurns(_AtomFeed):
    """What one speaker said, newest interview first."""

    def get_object(self, request, slug):
        return get_object_or_404(Speaker.objects.public(), slug=slug)

    def title(self, speaker):
        return f"{speaker.name} · Cyber-policy interview archive"

    def subtitle(self, speaker):
        return f"What {speaker.name} says in newly published interviews."

    def link(self, speaker):
        return speaker.get_absolute_url()

    def items(self, speaker):
        return (
            Turn.objects.published()
            .filter(speaker=speaker)
            .select_related("interview", "speaker")
            .order_by("-interview__published_at", "-interview_id", "position")[:SIZE]
        )

    def item_title(self, turn):
        return f"{turn.speaker.name} in “{turn.interview.title}”"

    def item_description(self, turn):
        return Truncator(strip_tags(turn.body_html)).words(120)

    def item_link(self, turn):
        return turn.get_absolute_url()


class SearchResults(_AtomFeed):
    """A saved search: its newest hits, so a reader hears when a speaker
    speaks on a topic."""

    def get_object(self, request):
        # XML cannot carry control characters; they mean nothing in a query.
        query = printable(request.GET.get("q", ""))[:MAX_LENGTH]
        if not query.strip():
            raise Http404("A search feed needs a query: /feeds/search/?q=…")
        return query

    def title(self, query):
        return f"“{query}” · Cyber-policy interview archive"

    def subtitle(self, query):
        return f"New passages matching “{query}”."

    def link(self, query):
        return reverse("archive-search") + "?" + urlencode({"q": query})

    def items(self, query):
        results = archive_search.search(query, sort="newest", page_size=SIZE)
        return results.hits

    def item_title(self, hit):
        if hit.speaker is None:  # the match is in the title or introduction
            return f"“{hit.interview.title}”, introduction"
        return f"{hit.speaker.name} in “{hit.interview.title}”"

    def item_description(self, hit):
        return str(hit.snippet)

    def item_link(self, hit):
        return hit.url

    def item_pubdate(self, hit):
        return hit.interview.published_at or hit.interview.created_at
