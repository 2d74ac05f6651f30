"""Database rows to index documents: one per published turn, one per
published interview (its title and lede, returned as a hit of kind "lede")."""

import html
import re
from collections.abc import Iterable, Iterator

from archive.models import Interview, Participant, Speaker, Turn

_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[\w'’.&-]+")


def plain_text(rendered_html: str) -> str:
    """The text a reader sees in sanitized HTML: tags dropped, entities read.

    The index stores and highlights this text, so character offsets in it can
    be mapped back onto the same HTML (``archive.search.highlight``).
    """
    return html.unescape(_TAG.sub("", rendered_html))


def _date_fields(interview: Interview) -> dict:
    if interview.date is None:
        return {"date": 0, "date_asc": 99_991_231}
    value = int(interview.date.strftime("%Y%m%d"))
    return {"date": value, "date_asc": value}


def speaker_name_words(speaker: Speaker) -> list[str]:
    """The words a ``speaker:`` filter matches: the slug and each word of
    the name and aliases, lower case."""
    words = {speaker.slug}
    for name in [speaker.name, *speaker.alias_list()]:
        words.update(w.strip(".").lower() for w in _WORD.findall(name))
    return sorted(w for w in words if w)


def _speaker_names(speaker: Speaker) -> str:
    return " ".join(speaker_name_words(speaker))


def _interview_fields(interview: Interview, topic_slugs: list[str]) -> dict:
    return {
        "interview": str(interview.pk),
        "interview_slug": interview.slug,
        "series": interview.series.slug if interview.series_id else "",
        "topics": " ".join(topic_slugs),
        **_date_fields(interview),
    }


def interview_documents(interview: Interview) -> Iterator[dict]:
    """Every document of a published interview: its lede, then its turns."""
    topic_slugs = [t.slug for t in interview.topics.all()]
    roles = dict(
        Participant.objects.filter(interview=interview).values_list(
            "speaker_id", "role"
        )
    )
    common = _interview_fields(interview, topic_slugs)
    lede = plain_text(interview.lede_html)
    yield {
        "id": f"i{interview.pk}",
        "kind": "lede",
        "speaker": "",
        "speaker_names": "",
        "role": "",
        "anchor": 0,
        "position": 0,
        "text": f"{interview.title}\n\n{lede}".strip(),
        "words": f"{interview.title} {lede}",
        **common,
    }
    for turn in interview.ordered_turns().iterator(chunk_size=2000):
        yield _turn_document(turn, common, roles)


def turn_documents(turn_ids: Iterable[int]) -> tuple[list[dict], set[int]]:
    """(documents of the published turns among ``turn_ids``, ids to delete)."""
    wanted = set(turn_ids)
    turns = list(
        Turn.objects.filter(pk__in=wanted)
        .select_related("speaker", "interview__series")
        .order_by("interview_id")
    )
    interview_ids = {t.interview_id for t in turns}
    topics: dict[int, list[str]] = {}
    for interview_id, slug in Interview.topics.through.objects.filter(
        interview_id__in=interview_ids
    ).values_list("interview_id", "topic__slug"):
        topics.setdefault(interview_id, []).append(slug)
    roles = {
        (i, s): r
        for i, s, r in Participant.objects.filter(
            interview_id__in=interview_ids
        ).values_list("interview_id", "speaker_id", "role")
    }
    documents, found = [], set()
    for turn in turns:
        if not turn.interview.published:
            continue
        found.add(turn.pk)
        common = _interview_fields(
            turn.interview, sorted(topics.get(turn.interview_id, []))
        )
        turn_roles = {
            turn.speaker_id: roles.get((turn.interview_id, turn.speaker_id), "")
        }
        documents.append(_turn_document(turn, common, turn_roles))
    return documents, wanted - found


def _turn_document(turn: Turn, common: dict, roles: dict) -> dict:
    text = plain_text(turn.body_html)
    return {
        "id": f"t{turn.pk}",
        "kind": turn.kind,
        "speaker": turn.speaker.slug,
        "speaker_names": _speaker_names(turn.speaker),
        "role": roles.get(turn.speaker_id, "") or "",
        "anchor": turn.anchor,
        "position": turn.position,
        "text": text,
        "words": text,
        **common,
    }
