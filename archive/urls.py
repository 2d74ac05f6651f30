from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import path

from archive import api, feeds, views
from archive.sitemaps import SITEMAPS

urlpatterns = [
    path("", views.home, name="archive-home"),
    path("interviews/", views.interview_list, name="archive-interviews"),
    path("interviews/<slug:slug>/", views.interview_detail, name="archive-interview"),
    path(
        "interviews/<slug:slug>/export.<str:suffix>",
        views.interview_export,
        name="archive-interview-export",
    ),
    path(
        "interviews/<slug:slug>/cite.<str:suffix>",
        views.interview_citation,
        name="archive-interview-citation",
    ),
    path("q/<int:turn_id>", views.quote, name="archive-quote"),
    path(
        "q/<int:turn_id>/cite.<str:suffix>",
        views.quote_citation,
        name="archive-quote-citation",
    ),
    path("speakers/", views.speaker_list, name="archive-speakers"),
    path("speakers/<slug:slug>/", views.speaker_detail, name="archive-speaker"),
    path("topics/", views.topic_list, name="archive-topics"),
    path("topics/<slug:slug>/", views.topic_detail, name="archive-topic"),
    path("search/", views.search, name="archive-search"),
    path("search/help/", views.search_help, name="archive-search-help"),
    path("api/search", api.search, name="archive-api-search"),
    path("api/interviews", api.interviews, name="archive-api-interviews"),
    path("api/interviews/<slug:slug>", api.interview, name="archive-api-interview"),
    path(
        "api/interviews/<slug:slug>.<str:suffix>",
        api.interview_export,
        name="archive-api-interview-export",
    ),
    path("feeds/interviews/", feeds.NewInterviews(), name="archive-feed-interviews"),
    path(
        "feeds/speakers/<slug:slug>/",
        feeds.SpeakerTurns(),
        name="archive-feed-speaker",
    ),
    path("feeds/search/", feeds.SearchResults(), name="archive-feed-search"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="archive-sitemap"),
    path("robots.txt", views.robots_txt, name="archive-robots"),
    path("healthz", views.healthz, name="archive-healthz"),
    path("admin/", admin.site.urls),
]

handler400 = "archive.views.bad_request"
handler404 = "archive.views.page_not_found"
handler500 = "archive.views.server_error"
