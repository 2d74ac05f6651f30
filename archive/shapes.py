"""The shape of an interview as data: the API's JSON, what the import
command's ``--dry-run --json`` prints and what the JSON export writes, so
that exports and imports round-trip. Below the views: the importer, the
exports and the API all read it from here.
"""

from archive.models import Interview


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
    turns = interview.ordered_turns()
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
        # What "text" is: Markdown source, plain text escaped into Markdown
        # ("plain"), so a re-import knows how the text was written.
        "markup": interview.markup,
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
