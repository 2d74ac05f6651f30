"""How to cite an interview, or one turn of it: Chicago (18th ed.), APA (7th
ed.) and MLA (9th ed.) as text, BibTeX and RIS as files, and the metadata
reference managers read (Highwire ``citation_*`` tags, schema.org JSON-LD).

Everything comes from one ``Work``, built from an interview and its
participants (and a turn, for a quote): interviewees are the authors, the
interviewer is named with "Interview by", and a turn spoken by someone else
(a host's question) names its speaker as author and the interviewees with
"Interview with". Dates keep their known precision: an interview known only
to be from 2016 is cited as 2016, never as 1 January 2016. Titles are kept
as the archive has them; turning them into sentence case for APA would
lowercase proper nouns (U.S., China) that no rule can tell apart.

An access date is asked for by MLA always and by Chicago only when the work
has no date; APA needs none for an archived, unchanging transcript. It is
never written into a page (pages are cached): the text carries ``ACCESSED``
where it goes, the page shows a placeholder, and the page's script fills in
the day the reader copies it.
"""

import datetime
import json
import re
from dataclasses import dataclass, field

from django.db.models import prefetch_related_objects
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from archive.models import ANSWERING_ROLES, DatePrecision, Interview, Medium, Turn

STYLES = (("chicago", "Chicago"), ("apa", "APA"), ("mla", "MLA"))
ACCESSED = "\u2063accessed\u2063"  # stands for the access date until copied

_MLA_MONTHS = (
    "Jan.",
    "Feb.",
    "Mar.",
    "Apr.",
    "May",
    "June",
    "July",
    "Aug.",
    "Sept.",
    "Oct.",
    "Nov.",
    "Dec.",
)
# How each style names what the interview was, where it is not printed text.
_MEDIUM_WORDS = {
    Medium.PODCAST: "podcast",
    Medium.VIDEO: "video",
    Medium.RADIO: "radio broadcast",
    Medium.HEARING: "hearing",
    Medium.EVENT: "event",
}
_APA_MEDIUM = {
    Medium.PODCAST: "Audio podcast episode",
    Medium.VIDEO: "Video",
    Medium.RADIO: "Radio broadcast",
    Medium.HEARING: "Hearing",
    Medium.EVENT: "Event",
}
_RIS_TYPES = {
    Medium.ARTICLE: "NEWS",
    Medium.PODCAST: "SOUND",
    Medium.RADIO: "SOUND",
    Medium.VIDEO: "VIDEO",
    Medium.HEARING: "HEAR",
}
_NAME_SUFFIXES = {"jr.", "jr", "sr.", "sr", "ii", "iii", "iv"}


@dataclass(frozen=True)
class Person:
    name: str
    # An organisation credited as a person ("China Real Time") is never
    # turned into "Time, C. R.".
    organisation: bool = False

    def parts(self) -> tuple[str, str]:
        """(given names, family name with any suffix)."""
        words = self.name.split()
        if self.organisation or len(words) < 2:
            return "", self.name
        cut = len(words) - 1
        if words[-1].casefold() in _NAME_SUFFIXES and len(words) > 2:
            cut -= 1
        return " ".join(words[:cut]), " ".join(words[cut:])

    def inverted(self) -> str:
        given, family = self.parts()
        return f"{family}, {given}" if given else family

    def initials(self) -> str:
        """APA: "Maurer, T." for Tim Maurer, "Haenle, P. J." for Paul J. Haenle."""
        given, family = self.parts()
        if not given:
            return family
        letters = " ".join(
            "-".join(f"{piece[0]}." for piece in word.split("-") if piece)
            for word in given.replace(".", " ").split()
        )
        return f"{family}, {letters}"

    def initials_first(self) -> str:
        """APA's "P. Haenle", for people who are not authors."""
        given, family = self.parts()
        if not given:
            return family
        letters = " ".join(f"{w[0]}." for w in given.replace(".", " ").split())
        return f"{letters} {family}"


@dataclass(frozen=True)
class Work:
    """What every citation of one interview or turn is made from."""

    title: str
    url: str
    authors: tuple[Person, ...]
    # "by": the interviewers; "with": the interviewees, when the author
    # quoted is someone else (a host's question).
    interview_by: tuple[Person, ...] = ()
    interview_with: tuple[Person, ...] = ()
    series: str = ""
    episode: str = ""
    outlet: str = ""
    medium: str = Medium.OTHER
    date: datetime.date | None = None
    precision: str = DatePrecision.DAY
    slug: str = ""
    keywords: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, interview: Interview, url: str, turn: Turn | None = None) -> "Work":
        """The work for ``interview`` (participants and topics prefetched or
        not), or for ``turn`` of it; ``url`` is the permanent link."""
        # Already fetched by a page, this costs nothing; otherwise two queries.
        prefetch_related_objects([interview], "participants__speaker", "topics")
        series = interview.series.name if interview.series_id else ""
        organisations = {series.casefold(), interview.outlet.casefold()} - {""}

        def person(speaker) -> Person:
            return Person(speaker.name, speaker.name.casefold() in organisations)

        participants = list(interview.participants.all())
        guests = tuple(person(p.speaker) for p in participants if _answers(p))
        askers = tuple(person(p.speaker) for p in participants if not _answers(p))
        authors, by, with_ = guests, askers, ()
        if not guests:
            # A panel or talk with nobody interviewed: everyone speaking.
            authors, by = askers, ()
        if turn is not None:
            speaker = person(turn.speaker)
            if speaker in guests or not guests:
                authors = (speaker,)
            else:
                authors, by, with_ = (speaker,), (), guests
        return cls(
            title=interview.title,
            url=url,
            authors=authors,
            interview_by=by,
            interview_with=with_,
            series=series,
            episode=interview.episode,
            outlet=interview.outlet,
            medium=interview.medium,
            date=interview.date,
            precision=interview.date_precision,
            slug=interview.slug,
            keywords=tuple(t.name for t in interview.topics.all()),
        )

    @property
    def medium_word(self) -> str:
        return _MEDIUM_WORDS.get(self.medium, "")

    @property
    def year(self) -> str:
        return str(self.date.year) if self.date else ""

    @property
    def has_month(self) -> bool:
        return self.date is not None and self.precision != DatePrecision.YEAR

    @property
    def has_day(self) -> bool:
        return self.date is not None and self.precision == DatePrecision.DAY


def _answers(participant) -> bool:
    return participant.role in ANSWERING_ROLES


def _join(names: list[str], conjunction: str = "and") -> str:
    if len(names) <= 1:
        return "".join(names)
    if len(names) == 2:
        return f"{names[0]} {conjunction} {names[1]}"
    return f"{', '.join(names[:-1])}, {conjunction} {names[-1]}"


def _sentence(text: str) -> str:
    """Text ending in a full stop, not two (a title ending in "?" keeps it)."""
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else text + "."


def _quoted_title(title: str) -> str:
    """“Title.” with the stop inside the quotes, as US styles put it."""
    return f"“{_sentence(title)}”"


def _names_chicago(people: tuple[Person, ...]) -> str:
    names = [people[0].inverted(), *(p.name for p in people[1:])]
    return _join(names)


def _names_mla(people: tuple[Person, ...]) -> str:
    if len(people) >= 3:
        return f"{people[0].inverted()}, et al"
    return _join([people[0].inverted(), *(p.name for p in people[1:])])


def _names_apa(people: tuple[Person, ...]) -> str:
    names = [p.initials() for p in people]
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])}, & {names[-1]}"


def _date_chicago(work: Work) -> str:
    if work.date is None:
        return "n.d."
    if work.has_day:
        return f"{work.date:%B} {work.date.day}, {work.date.year}"
    if work.has_month:
        return f"{work.date:%B} {work.date.year}"
    return work.year


def _date_mla(work: Work) -> str:
    if work.has_day:
        return f"{work.date.day} {_MLA_MONTHS[work.date.month - 1]} {work.date.year}"
    if work.has_month:
        return f"{_MLA_MONTHS[work.date.month - 1]} {work.date.year}"
    return work.year


def _date_apa(work: Work) -> str:
    if work.date is None:
        return "n.d."
    if work.has_day:
        return f"{work.date.year}, {work.date:%B} {work.date.day}"
    if work.has_month:
        return f"{work.date.year}, {work.date:%B}"
    return work.year


def chicago(work: Work) -> str:
    """Bibliography entry, notes-and-bibliography system."""
    parts = []
    if work.authors:
        parts.append(_sentence(_names_chicago(work.authors)))
    parts.append(_quoted_title(work.title))
    if work.interview_by:
        parts.append(f"Interview by {_join([p.name for p in work.interview_by])}.")
    if work.interview_with:
        parts.append(f"Interview with {_join([p.name for p in work.interview_with])}.")
    container = ", ".join(
        piece
        for piece in (
            work.series,
            work.medium_word if work.series else "",
            f"episode {work.episode}" if work.episode else "",
        )
        if piece
    )
    if container:
        parts.append(container + ".")
    published = ", ".join(
        piece for piece in (work.outlet, _date_chicago(work)) if piece
    )
    if not work.series and work.medium_word:
        published = f"{work.medium_word.capitalize()}, {published}"
    parts.append(_sentence(published))
    if work.date is None:
        parts.append(f"Accessed {ACCESSED}.")
    parts.append(work.url + ".")
    return " ".join(parts)


def apa(work: Work) -> str:
    parts = []
    if work.authors:
        parts.append(_sentence(_names_apa(work.authors)))
    parts.append(f"({_date_apa(work)}).")
    described = []
    if work.interview_by:
        askers = [p.initials_first() for p in work.interview_by]
        described.append(f"Interview by {_join(askers, '&')}")
    if work.interview_with:
        described.append(
            f"Interview with {_join([p.name for p in work.interview_with], '&')}"
        )
    if work.medium in _APA_MEDIUM:
        described.append(_APA_MEDIUM[work.medium])
    title = work.title.strip()
    if work.episode:
        title += f" (No. {work.episode})"
    if described:
        title += f" [{'; '.join(described)}]"
    parts.append(_sentence(title))
    if work.series:
        parts.append(_sentence(f"In {work.series}"))
    if work.outlet:
        parts.append(_sentence(work.outlet))
    parts.append(work.url)
    return " ".join(parts)


def mla(work: Work) -> str:
    parts = []
    if work.authors:
        parts.append(_sentence(_names_mla(work.authors)))
    parts.append(_quoted_title(work.title))
    if work.interview_by:
        parts.append(
            f"Interview conducted by {_join([p.name for p in work.interview_by])}."
        )
    if work.interview_with:
        parts.append(f"Interview with {_join([p.name for p in work.interview_with])}.")
    container = [
        piece
        for piece in (
            work.series,
            f"episode {work.episode}" if work.episode else "",
            work.outlet,
            _date_mla(work),
            re.sub(r"^https?://", "", work.url),
        )
        if piece
    ]
    parts.append(", ".join(container) + ".")
    parts.append(f"Accessed {ACCESSED}.")
    return " ".join(parts)


def styles(work: Work) -> list[dict]:
    """Each style's name, key and text (with ``ACCESSED`` where it goes)."""
    made = {"chicago": chicago, "apa": apa, "mla": mla}
    return [{"key": key, "name": name, "text": made[key](work)} for key, name in STYLES]


def as_html(text: str, style: str) -> SafeString:
    """The citation for a page: the access date is a placeholder that the
    page's script fills in with the reader's day."""
    placeholder = f'<span class="accessed" data-style="{style}">[date accessed]</span>'
    return mark_safe(escape(text).replace(ACCESSED, placeholder))


def for_page(work: Work) -> list[dict]:
    """Each style with its HTML, for the "Cite this" block."""
    return [
        {**style, "html": as_html(style["text"], style["key"])}
        for style in styles(work)
    ]


def filled(text: str, accessed: datetime.date, style: str) -> str:
    """``text`` with its access date written the way ``style`` writes dates."""
    if style == "mla":
        day = f"{accessed.day} {_MLA_MONTHS[accessed.month - 1]} {accessed.year}"
    else:
        day = f"{accessed:%B} {accessed.day}, {accessed.year}"
    return text.replace(ACCESSED, day)


def _bibtex_escape(text: str) -> str:
    for char in "\\{}":
        text = text.replace(char, {"\\": r"\textbackslash{}"}.get(char, "\\" + char))
    return re.sub(r"([&%$#_])", r"\\\1", text).replace("~", r"\textasciitilde{}")


def bibtex_key(work: Work) -> str:
    surname = work.authors[0].parts()[1] if work.authors else ""
    first_word = next(iter(re.findall(r"[A-Za-z0-9]+", work.title)), "")
    key = f"{surname}{work.year}{first_word}".casefold()
    return re.sub(r"[^a-z0-9]", "", key) or "interview"


def bibtex(work: Work) -> str:
    howpublished = "; ".join(
        piece
        for piece in (
            f"Interview by {_join([p.name for p in work.interview_by])}"
            if work.interview_by
            else "",
            f"Interview with {_join([p.name for p in work.interview_with])}"
            if work.interview_with
            else "",
            ", ".join(
                p
                for p in (
                    work.series,
                    f"episode {work.episode}" if work.episode else "",
                    work.outlet,
                )
                if p
            ),
        )
        if piece
    )
    fields = [
        (
            "author",
            " and ".join(
                "{" + p.name + "}" if p.organisation else p.inverted()
                for p in work.authors
            ),
        ),
        ("title", "{" + work.title + "}"),
        ("howpublished", howpublished),
        ("year", work.year),
    ]
    if work.has_month:
        fields.append(("month", str(work.date.month)))
    if work.date:
        fields.append(("date", _iso(work)))
    fields += [("url", work.url), ("note", work.medium_word.capitalize())]
    lines = [f"@misc{{{bibtex_key(work)},"]
    for name, value in fields:
        if value:
            escaped = value if name == "url" else _bibtex_escape(value)
            if name == "title":
                escaped = "{" + _bibtex_escape(work.title) + "}"
            lines.append(f"  {name} = {{{escaped}}},")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _iso(work: Work) -> str:
    if work.has_day:
        return work.date.isoformat()
    if work.has_month:
        return f"{work.date.year:04d}-{work.date.month:02d}"
    return work.year


def ris(work: Work) -> str:
    """RIS, one record; lines end in CRLF as the format asks."""
    lines = [("TY", _RIS_TYPES.get(work.medium, "GEN"))]
    lines += [("AU", p.name if p.organisation else p.inverted()) for p in work.authors]
    lines += [("A2", p.inverted()) for p in work.interview_by]
    lines.append(("TI", work.title))
    if work.series:
        lines.append(("T2", work.series))
    if work.episode:
        lines.append(("IS", work.episode))
    if work.outlet:
        lines.append(("PB", work.outlet))
    if work.date:
        lines.append(("PY", work.year))
        month = f"{work.date.month:02d}" if work.has_month else ""
        day = f"{work.date.day:02d}" if work.has_day else ""
        lines.append(("DA", f"{work.year}/{month}/{day}/"))
    lines.append(("M3", "Interview"))
    lines += [("KW", keyword) for keyword in work.keywords]
    lines.append(("UR", work.url))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {value}".rstrip() + "\r\n" for tag, value in lines)


def highwire(work: Work) -> list[tuple[str, str]]:
    """(name, content) of the ``citation_*`` meta tags Zotero and Google
    Scholar read."""
    tags = [("citation_title", work.title)]
    tags += [("citation_author", p.inverted()) for p in work.authors]
    if work.date:
        tags.append(("citation_publication_date", _iso(work).replace("-", "/")))
        tags.append(("citation_date", _iso(work)))
    if work.outlet:
        tags.append(("citation_publisher", work.outlet))
    if work.series:
        tags.append(("citation_series_title", work.series))
    tags += [("citation_keywords", keyword) for keyword in work.keywords]
    tags.append(("citation_public_url", work.url))
    return tags


def json_ld(work: Work) -> str:
    """schema.org JSON-LD, escaped to sit inside a ``<script>`` element."""
    data = {
        "@context": "https://schema.org",
        "@type": "PodcastEpisode" if work.medium == Medium.PODCAST else "CreativeWork",
        "genre": "Interview",
        "name": work.title,
        "url": work.url,
        "author": [_ld_person(p) for p in work.authors],
    }
    if work.interview_by:
        data["contributor"] = [_ld_person(p) for p in work.interview_by]
    if work.date:
        data["datePublished"] = _iso(work)
    if work.series:
        data["isPartOf"] = {"@type": "CreativeWorkSeries", "name": work.series}
    if work.episode:
        data["episodeNumber"] = work.episode
    if work.outlet:
        data["publisher"] = {"@type": "Organization", "name": work.outlet}
    if work.keywords:
        data["keywords"] = ", ".join(work.keywords)
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _ld_person(person: Person) -> dict:
    return {
        "@type": "Organization" if person.organisation else "Person",
        "name": person.name,
    }
