"""sitemap.xml: every page a search engine should know, drafts never."""

from django.contrib.sitemaps import Sitemap

from archive.models import Interview, Speaker, Topic


class InterviewSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return Interview.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, interview):
        return interview.updated_at


class SpeakerSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return (
            Speaker.objects.public()
            .filter(placeholder=False)
            .only("slug")
            .order_by("pk")
        )


class TopicSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return Topic.objects.in_published().only("slug").order_by("pk")


SITEMAPS = {
    "interviews": InterviewSitemap,
    "speakers": SpeakerSitemap,
    "topics": TopicSitemap,
}
