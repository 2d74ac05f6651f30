"""The JSON API: the archive's interviews as data.

``interview_document`` is the archive's JSON shape for one interview; the
import command's ``--dry-run --json`` prints the same shape, so exports and
imports can round-trip. URLs are site-relative paths.
"""

from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_safe

from archive.models import Interview, InterviewSlug


def _series_name(interview: Interview) -> str | None:
    return interview.series.name if interview.series_id else None


def interview_summary(interview: Interview) -> dict:
    return {
        "slug": interview.slug,
        "title": interview.title,
        "date": interview.date_iso,
        "date_precision": interview.date_precision if interview.date else None,
        "series": _series_name(interview),
        "url": interview.get_absolute_url(),
        "turn_count": interview.turn_count,
    }


def interview_document(interview: Interview) -> dict:
    """The whole interview: metadata, participants and every turn.

    Runs a fixed number of queries whatever the number of turns.
    """
    participants = interview.participants.select_related("speaker")
    turns = interview.turns.select_related("speaker").order_by("position", "anchor")
    return {
        "slug": interview.slug,
        "title": interview.title,
        "date": interview.date_iso,
        "date_precision": interview.date_precision if interview.date else None,
        "series": _series_name(interview),
        "outlet": interview.outlet,
        "episode": interview.episode,
        "medium": interview.medium,
        "source_url": interview.source_url,
        "lede": interview.lede,
        "attribution": interview.attribution,
        "rights": interview.rights,
        "topics": [t.name for t in interview.topics.all()],
        "participants": [
            {"name": p.speaker.name, "slug": p.speaker.slug, "role": p.role}
            for p in participants
        ],
        "turns": [
            {
                "anchor": t.anchor,
                "position": t.position,
                "speaker": {"name": t.speaker.name, "slug": t.speaker.slug},
                "label": t.label,
                "kind": t.kind,
                "start": t.start,
                "text": t.body,
                "html": t.body_html,
            }
            for t in turns
        ],
    }


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
    found = (
        Interview.objects.published().select_related("series").filter(slug=slug).first()
    )
    if found is None:
        old = get_object_or_404(
            InterviewSlug.objects.filter(interview__published=True), slug=slug
        )
        return redirect("archive-api-interview", old.interview.slug, permanent=True)
    return _json(interview_document(found))
