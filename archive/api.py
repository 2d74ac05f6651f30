"""The JSON API: the archive's interviews as data (their shape is
``archive.shapes``'s); URLs are site-relative paths."""

from django.http import JsonResponse
from django.views.decorators.http import require_safe

from archive import export
from archive import search as archive_search
from archive.forms import SearchForm
from archive.models import Interview
from archive.shapes import interview_document, interview_summary
from archive.views import interview_or_moved, public_url


def _json(data, status: int = 200) -> JsonResponse:
    return JsonResponse(
        data, status=status, safe=False, json_dumps_params={"ensure_ascii": False}
    )


@require_safe
def interviews(request):
    rows = Interview.objects.published().select_related("series").newest_first()
    return _json([interview_summary(i) for i in rows])


@require_safe
def interview(request, slug):
    found = interview_or_moved(request, "archive-api-interview", slug, published=True)
    if not isinstance(found, Interview):
        return found
    return _json(interview_document(found))


@require_safe
def interview_export(request, slug, suffix):
    """The interview as a file: ``/api/interviews/<slug>.md`` (see export.FORMATS)."""
    found = interview_or_moved(
        request, "archive-api-interview-export", slug, suffix, published=True
    )
    if not isinstance(found, Interview):
        return found
    return export.response(found, suffix)


def _facet_json(facets):
    return {
        name: [{"value": f.value, "label": f.label, "count": f.count} for f in items]
        for name, items in facets.items()
    }


def _hit_json(hit) -> dict:
    interview = hit.interview
    return {
        "url": hit.url,
        "text": hit.text,
        "snippet": str(hit.snippet),
        "speaker": (
            {"name": hit.speaker.name, "slug": hit.speaker.slug}
            if hit.speaker
            else None
        ),
        "interview": {
            "title": interview.title,
            "slug": interview.slug,
            "url": interview.get_absolute_url(),
            "date": interview.date_iso,
        },
        "anchor": hit.anchor,
        "position": hit.position,
        "kind": hit.kind,
        "question": (
            {
                "anchor": hit.question.anchor,
                "text": hit.question.body,
                "speaker": {
                    "name": hit.question.speaker.name,
                    "slug": hit.question.speaker.slug,
                },
            }
            if hit.question
            else None
        ),
    }


@require_safe
def search(request):
    form = SearchForm(request.GET)
    if not form.is_valid():
        return _json({"error": form.problems()}, status=400)
    wanted = form.cleaned_data
    try:
        results = form.search()
    except archive_search.SearchError as exc:
        return _json({"error": str(exc)}, status=400)
    if wanted["format"] == "csv":
        return export.search_csv(results, public_url(request))
    return _json(
        {
            # Respelled: the results are for "query"; the reader typed
            # "respelled_from", which found nothing.
            "query": results.query,
            "respelled_from": results.respelled_from,
            "understood": results.understood,
            "notices": results.notices,
            "total": results.total,
            "page": results.page,
            "page_size": results.page_size,
            "hits": [_hit_json(h) for h in results.hits],
            "facets": _facet_json(results.facets),
            "suggestion": results.suggestion,
        }
    )
