"""Reading pages. Each runs a fixed number of queries, whatever the sizes."""

import re
import sys
import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import InvalidPage, Paginator
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.models import Count, Sum, prefetch_related_objects
from django.http import (
    Http404,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import http_date
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from archive import citations, export, pages
from archive import search as archive_search
from archive.forms import InterviewFilterForm, SearchForm
from archive.models import (
    FeaturedQuote,
    Interview,
    RetiredTurn,
    Role,
    Series,
    Speaker,
    Topic,
    Turn,
    TurnKind,
)
from archive.search import highlight


def _page(request, items, per_page):
    """The requested page of ``items``; a bad page number is a 404."""
    paginator = Paginator(items, per_page)
    number = request.GET.get("page", "1")
    try:
        return paginator.page(number)
    except InvalidPage:
        raise Http404(f"There is no page “{number[:20]}” here.") from None


def interview_or_moved(request, url_name: str, slug: str, *rest, published=False):
    """The interview a reader may see at ``slug``; a permanent redirect,
    keeping the query string (a search's marks), when ``slug`` is an old one;
    404 otherwise."""
    visible = (
        Interview.objects.published()
        if published
        else Interview.objects.visible_to(request.user)
    )
    interview, moved = visible.select_related("series").find(slug)
    if moved:
        return moved_permanently(request, url_name, moved, *rest)
    if interview is None:
        raise Http404("No interview here.")
    return interview


def moved_permanently(request, url_name: str, *args) -> HttpResponsePermanentRedirect:
    target = reverse(url_name, args=args)
    if request.GET:
        target += "?" + request.GET.urlencode()
    return HttpResponsePermanentRedirect(target)


def public_url(request) -> str:
    """The archive's address for permanent links (ARCHIVE_PUBLIC_URL)."""
    return settings.ARCHIVE_PUBLIC_URL or f"{request.scheme}://{request.get_host()}"


def _published_interview_cards(queryset):
    """Interviews with what a list shows, in three queries."""
    return queryset.select_related("series").prefetch_related(
        "topics", "participants__speaker"
    )


@require_safe
def home(request):
    # The same for every reader, and its counts cost tens of milliseconds at
    # a thousand interviews: kept until anything it shows changes.
    return _cached(request, ("home",), _home_page)


def _home_page(request):
    interviews = Interview.objects.published()
    context = {
        "newest": _published_interview_cards(interviews.newest_first())[:8],
        "speakers": Speaker.objects.listed()
        .filter(interview_count__gt=0)
        .order_by("-interview_count", "name")[:12],
        "topics": Topic.objects.in_published().order_by("name"),
        "totals": interviews.aggregate(
            interviews=Count("pk"), turns=Sum("turn_count", default=0)
        ),
        "featured": FeaturedQuote.objects.public()[:6],
    }
    return render(request, "archive/home.html", context)


@require_safe
def interview_list(request):
    form = InterviewFilterForm(request.GET)
    if not form.is_valid():
        return bad_request(request, message=form.problems())
    wanted = form.cleaned_data
    interviews = Interview.objects.published().newest_first()
    filters = []
    if slug := wanted["speaker"]:
        speaker = Speaker.objects.public().filter(slug=slug).first()
        interviews = interviews.with_speaker(speaker)
        filters.append(("speaker", speaker.name if speaker else slug, speaker))
    if slug := wanted["series"]:
        # Named only when a published interview is in it: a draft never
        # lends its series or topic name to a public page.
        series = (
            Series.objects.filter(slug=slug, interviews__published=True)
            .distinct()
            .first()
        )
        interviews = interviews.filter(series=series)
        filters.append(("series", series.name if series else slug, series))
    if slug := wanted["topic"]:
        topic = Topic.objects.in_published().filter(slug=slug).first()
        interviews = interviews.filter(topics=topic)
        filters.append(("topic", topic.name if topic else slug, topic))
    if year := wanted["year"]:
        interviews = interviews.filter(date__year=year)
        filters.append(("year", str(year), year))
    page = _page(
        request, _published_interview_cards(interviews), settings.ARCHIVE_PAGE_SIZE
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "archive/interview_list.html",
        {"page": page, "filters": filters, "query": query.urlencode()},
    )


@require_safe
def interview_detail(request, slug):
    interview = interview_or_moved(request, "archive-interview", slug)
    if not isinstance(interview, Interview):
        return interview
    query = request.GET.get("q", "")[: SearchForm.MAX_QUERY]
    if query.strip() or not interview.published:
        return _interview_page(request, interview, query)
    return _cached(
        request, ("interview", interview.pk), _interview_page, interview, query
    )


def _cached(request, what: tuple, render_page, *args):
    """A page that is the same for every reader, kept until anything it
    shows changes (archive/pages.py)."""
    key = pages.key(*what, request.scheme, request.get_host())
    cached = cache.get(key)
    if not isinstance(cached, tuple):
        response = render_page(request, *args)
        if response.status_code == 200:
            rendered = time.time()
            cache.set(key, (response.content, rendered), timeout=None)
            response["Last-Modified"] = http_date(rendered)
        return response
    content, rendered = cached
    # With the ETag that ConditionalGetMiddleware adds, a reader reloading a
    # page that has not changed gets a 304 and no body.
    response = HttpResponse(content)
    response["Last-Modified"] = http_date(rendered)
    return response


def _interview_page(request, interview, query: str):
    prefetch_related_objects([interview], "participants__speaker", "topics")
    participants = list(interview.participants.all())
    marks = (
        archive_search.marks_for_interview(query, interview)
        if query.strip() and interview.published
        else archive_search.Marks()
    )
    if marks.lede:
        interview.lede_html = highlight.mark_html(interview.lede_html, marks.lede)
    roles = {p.speaker_id: p.get_role_display() for p in participants}
    turns = list(interview.ordered_turns())
    # Per speaker, not per turn: a hearing has thousands of turns.
    speaker_urls = {}
    for turn in turns:
        turn.role = roles.get(turn.speaker_id, "")
        if turn.speaker_id not in speaker_urls:
            speaker_urls[turn.speaker_id] = turn.speaker.get_absolute_url()
        turn.speaker_url = speaker_urls[turn.speaker_id]
        if turn.pk in marks.turns:
            turn.body_html = highlight.mark_html(turn.body_html, marks.turns[turn.pk])
            turn.matched = True
    permalink = public_url(request) + interview.get_absolute_url()
    work = citations.Work.of(interview, permalink)
    featured = (
        list(
            FeaturedQuote.objects.public()
            .filter(turn__interview=interview)
            .select_related(None)
            .select_related("turn__speaker")
        )
        if interview.published
        else []
    )
    return render(
        request,
        "archive/interview_detail.html",
        {
            "interview": interview,
            "participants": participants,
            "turns": turns,
            "topics": list(interview.topics.all()),
            "query": query,
            "matched_turns": len(marks.turns),
            "lede_matched": bool(marks.lede),
            "first_hit": next((t.anchor for t in turns if t.pk in marks.turns), None),
            "downloads": _downloads(any(turn.start is not None for turn in turns)),
            "permalink": permalink,
            "citations": citations.for_page(work),
            "highwire": citations.highwire(work),
            "json_ld": citations.json_ld(work),
            "featured": featured,
        },
    )


@require_safe
def quote(request, turn_id):
    """One turn on a page of its own: ``/q/<turn id>``, the short link that
    outlives slug changes, reordering and merges."""
    turn = Turn.objects.for_quotes().filter(pk=turn_id).first()
    if turn is None:
        return _retired_quote(request, turn_id)
    return _cached(request, ("quote", turn.pk), _quote_page, turn)


def _retired_quote(request, turn_id):
    if Turn.objects.filter(pk=turn_id).exists():
        raise Http404("No quote here.")  # a draft's
    successor, was_public = RetiredTurn.successor_of(turn_id)
    if successor is not None:
        return HttpResponsePermanentRedirect(reverse("archive-quote", args=[successor]))
    if was_public:
        return render(
            request,
            "410.html",
            {"message": "This turn was removed from its transcript."},
            status=410,
        )
    raise Http404("No quote here.")


def _quote_page(request, turn):
    interview = turn.interview
    prefetch_related_objects([interview], "participants__speaker", "topics")
    roles = {p.speaker_id: p.get_role_display() for p in interview.participants.all()}
    turn.role = roles.get(turn.speaker_id, "")
    permalink = public_url(request) + turn.get_absolute_url()
    work = citations.Work.of(interview, permalink, turn)
    return render(
        request,
        "archive/quote.html",
        {
            "turn": turn,
            "interview": interview,
            "question": turn.question() if turn.kind != TurnKind.QUESTION else None,
            "permalink": permalink,
            "short_link": public_url(request) + turn.get_quote_url(),
            "citations": citations.for_page(work),
            "highwire": citations.highwire(work),
            "json_ld": citations.json_ld(work),
        },
    )


_CITATION_FILES = {
    "bib": (citations.bibtex, "application/x-bibtex; charset=utf-8"),
    "ris": (citations.ris, "application/x-research-info-systems; charset=utf-8"),
}


def _citation_file(work: citations.Work, suffix: str, name: str) -> HttpResponse:
    if suffix not in _CITATION_FILES:
        raise Http404("Citations come as .bib or .ris.")
    make, content_type = _CITATION_FILES[suffix]
    response = HttpResponse(make(work), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{suffix}"'
    return response


@require_safe
def interview_citation(request, slug, suffix):
    """``/interviews/<slug>/cite.bib`` and ``cite.ris``."""
    interview = interview_or_moved(
        request, "archive-interview-citation", slug, suffix, published=True
    )
    if not isinstance(interview, Interview):
        return interview
    work = citations.Work.of(
        interview, public_url(request) + interview.get_absolute_url()
    )
    return _citation_file(work, suffix, interview.slug)


@require_safe
def quote_citation(request, turn_id, suffix):
    """``/q/<turn id>/cite.bib`` and ``cite.ris``."""
    turn = get_object_or_404(Turn.objects.for_quotes(), pk=turn_id)
    work = citations.Work.of(
        turn.interview, public_url(request) + turn.get_absolute_url(), turn
    )
    return _citation_file(work, suffix, f"{turn.interview.slug}-t{turn.anchor}")


def _downloads(timed: bool) -> list[tuple[str, str]]:
    """(suffix, label) of each export the page offers; WebVTT needs timings."""
    return [
        (suffix, found.label)
        for suffix, found in export.FORMATS.items()
        if suffix != "vtt" or timed
    ]


@require_safe
def interview_export(request, slug, suffix):
    """The interview as a file: ``/interviews/<slug>/export.md`` and so on."""
    interview = interview_or_moved(request, "archive-interview-export", slug, suffix)
    if not isinstance(interview, Interview):
        return interview
    return export.response(interview, suffix)


@require_safe
def speaker_list(request):
    speakers = Speaker.objects.listed().order_by("name")
    page = _page(request, speakers, 100)
    return render(request, "archive/speaker_list.html", {"page": page})


@require_safe
def speaker_detail(request, slug):
    speaker = get_object_or_404(Speaker.objects.public(), slug=slug)
    number = request.GET.get("page", "1")[:20]
    # "page=01" is page 1: one cached copy, not one per spelling.
    number = int(number) if number.isdigit() else number
    return _cached(request, ("speaker", speaker.pk, number), _speaker_page, speaker)


def _speaker_page(request, speaker):
    interviews = list(
        Interview.objects.published()
        .with_speaker(speaker)
        .select_related("series")
        .newest_first()
    )
    page = _page(
        request, speaker.published_turns(), settings.ARCHIVE_SPEAKER_TURNS_PAGE_SIZE
    )
    roles = dict(
        speaker.participations.filter(interview__published=True).values_list(
            "interview_id", "role"
        )
    )
    for interview in interviews:
        interview.speaker_role = (
            Role(roles[interview.pk]).label if interview.pk in roles else ""
        )
    return render(
        request,
        "archive/speaker_detail.html",
        {
            "speaker": speaker,
            "interviews": interviews,
            "topics": Topic.objects.filter(interviews__in=[i.pk for i in interviews])
            .annotate(interview_count=Count("interviews", distinct=True))
            .order_by("-interview_count", "name"),
            "featured": FeaturedQuote.objects.public().filter(turn__speaker=speaker),
            "page": page,
            "site": public_url(request),
        },
    )


@require_safe
def topic_list(request):
    topics = Topic.objects.in_published().order_by("name")
    return render(request, "archive/topic_list.html", {"topics": topics})


@require_safe
def topic_detail(request, slug):
    topic = get_object_or_404(Topic.objects.in_published(), slug=slug)
    interviews = _published_interview_cards(
        Interview.objects.published().filter(topics=topic).newest_first()
    )
    page = _page(request, interviews, settings.ARCHIVE_PAGE_SIZE)
    return render(request, "archive/topic_detail.html", {"topic": topic, "page": page})


_SCOPE = re.compile(r"^(interview|speaker):[\w-]+$")


@require_safe
def search(request):
    scope = request.GET.get("within", "")
    if scope and _SCOPE.match(scope):
        # A search box on an interview or speaker page: the reader's words,
        # grouped, within that scope, so "a OR b" cannot escape it.
        words = request.GET.get("q", "").strip()
        combined = f"{scope} ({words})" if words else scope
        return redirect(f"{request.path}?{urlencode({'q': combined})}")
    form = SearchForm(request.GET)
    if not form.is_valid():
        return bad_request(request, message=form.problems())
    wanted = form.cleaned_data
    context = {"form": form, "query": wanted["q"], "results": None}
    if wanted["q"].strip():
        try:
            results = form.search()
        except archive_search.SearchError as exc:
            raise Http404(str(exc)) from None
        if wanted["format"] == "csv":
            return export.search_csv(results, public_url(request))
        # After a respelling, everything below goes on from the respelled
        # query; the page offers the reader's own words as typed.
        wanted = {**wanted, "q": results.query}
        context["query"] = results.query
        if results.respelled_from is not None:
            context["as_typed"] = urlencode(
                {"q": results.respelled_from, "spelling": "as-typed"}
            )
        context["results"] = results
        context["facets"] = []
        for key, name in (
            ("speaker", "Speakers"),
            ("series", "Series"),
            ("topic", "Topics"),
            ("year", "Years"),
        ):
            facets = results.facets.get(key, [])
            for facet in facets:
                # Clicking a facet adds its filter to the query.
                facet.link = "?" + urlencode(
                    {
                        "q": f"{wanted['q'].strip()} {facet.filter}",
                        "sort": wanted["sort"],
                    }
                )
            context["facets"].append((name, facets))
        context["years"] = _year_bars(results, wanted)
        paging = {"q": wanted["q"], "sort": wanted["sort"]}
        if wanted.get("spelling"):
            paging["spelling"] = wanted["spelling"]
        context["page_query"] = urlencode(paging)
        context["context_query"] = urlencode({"q": wanted["q"]})
    return render(request, "archive/search.html", context)


# The hits-per-year chart on the search page, in SVG user units.
_BAR, _GAP, _CHART_HEIGHT = 14, 3, 60


def _year_bars(results, wanted) -> dict | None:
    """Bars of hits per year, every year from the first to the last with a
    hit, each linking to the query narrowed to its year."""
    counts = {int(f.value): f.count for f in (results.facets or {}).get("year", [])}
    if len(counts) < 2:
        return None
    tallest = max(counts.values())
    bars = []
    for i, year in enumerate(range(min(counts), max(counts) + 1)):
        count = counts.get(year, 0)
        height = round(_CHART_HEIGHT * count / tallest) if count else 0
        bars.append(
            {
                "year": year,
                "count": count,
                "x": i * (_BAR + _GAP),
                "y": _CHART_HEIGHT - height,
                "height": height,
                "link": "?"
                + urlencode(
                    {"q": f"{wanted['q'].strip()} year:{year}", "sort": wanted["sort"]}
                ),
            }
        )
    return {
        "bars": bars,
        "first": min(counts),
        "last": max(counts),
        "width": len(bars) * (_BAR + _GAP),
        "height": _CHART_HEIGHT,
        "bar": _BAR,
    }


@require_safe
def robots_txt(request):
    """Crawlers read the transcripts, not endless result pages or the admin."""
    lines = [
        "User-agent: *",
        "Disallow: /search/",
        "Disallow: /api/search",
        "Disallow: /admin/",
        f"Sitemap: {public_url(request)}{reverse('archive-sitemap')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


@require_safe
def search_help(request):
    return render(
        request, "archive/search_help.html", {"prefix_cap": archive_search.PREFIX_CAP}
    )


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception=None, message=""):
    message = message or "The request could not be understood."
    if _wants_json(request):
        return JsonResponse({"error": message}, status=400)
    return render(request, "400.html", {"message": message}, status=400)


def page_not_found(request, exception=None):
    message = ""
    if exception is not None and exception.args and isinstance(exception.args[0], str):
        # Our own Http404 messages are written for readers; Django's
        # resolver messages are dicts and stay out of the page.
        message = exception.args[0]
    if _wants_json(request):
        return JsonResponse({"error": message or "Not found."}, status=404)
    return render(request, "404.html", {"message": message}, status=404)


def server_error(request):
    if _database_trouble(sys.exception()):
        return _unavailable(
            request, "The archive's database is not answering just now."
        )
    if _wants_json(request):
        return JsonResponse({"error": "Something went wrong on our side."}, status=500)
    return render(request, "500.html", status=500)


def _database_trouble(exc) -> bool:
    """Whether ``exc`` comes from a database that stopped answering
    (restarting, unreachable, busy past its timeout) rather than from a
    query of ours being wrong."""
    if isinstance(exc, OperationalError | InterfaceError):
        connection.close()  # a broken connection must not be reused
        return True
    if not isinstance(exc, DatabaseError):
        return False
    try:
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except (DatabaseError, InterfaceError):
        return True
    return False


def _unavailable(request, message: str) -> HttpResponse:
    """503 in plain text (nothing that could need the database to render),
    with a hint of when to come back."""
    message = f"{message} Please try again in a minute."
    if _wants_json(request):
        response = JsonResponse({"error": message}, status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain")
    response["Retry-After"] = "30"
    return response


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer once an (account, address) pair has failed to
    sign in too often: a pause, said plainly, with when it ends."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = (
        "Too many failed sign-ins to this account from your address. Signing "
        f"in from here is paused for {minutes} minutes after the last attempt; "
        "please try again then."
    )
    response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


@never_cache
@require_safe
def healthz(request):
    """For load balancers and monitors: 200 when the database and the search
    index can be read, else 503 naming what cannot."""
    problems = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {Interview._meta.db_table} LIMIT 1")
    except (DatabaseError, InterfaceError) as exc:
        problems["database"] = (str(exc).strip().splitlines() or ["error"])[0][:200]
        connection.close()
    if reason := archive_search.health():
        problems["search"] = reason
    status = 503 if problems else 200
    return JsonResponse({"ok": not problems, **problems}, status=status)
