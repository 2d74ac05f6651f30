"""Parsed transcripts into the database, one interview per transaction.

``import_file`` reads a transcript and its sidecar, parses them (pure code in
``archive.parsing``) and writes the result with ``save_parsed``. Re-importing
is safe: an unchanged source does nothing, a changed one updates the interview
while keeping the anchors of turns that are still there, and an interview a
curator edited since its import is left alone unless forced.
"""

import datetime
import difflib
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.text import slugify

from archive import parsing
from archive.models import (
    DatePrecision,
    Interview,
    InterviewSource,
    Medium,
    Participant,
    Revision,
    Role,
    Series,
    Speaker,
    Topic,
    Turn,
    unique_slug,
)
from archive.parsing import ParsedInterview, ParseError
from archive.parsing.text import decode
from archive.shapes import interview_document

log = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".toml"


@dataclass
class Overrides:
    """Metadata given on the command line or the admin's import page; it
    wins over sidecar and header."""

    title: str = ""
    date: str = ""
    series: str = ""
    medium: str = ""
    topics: tuple[str, ...] = ()
    format: str = ""
    markup: str = ""
    interviewer: str = ""  # names for a Q&A that does not say who asks
    interviewee: str = ""
    # Names for the ids a diarizer gives: {"SPEAKER_00": "Ann Lee"}.
    speakers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_options(cls, options: dict[str, str]) -> "Overrides":
        """From the admin's options (all strings; topics comma-separated)."""
        topics = options.get("topics", "").replace("\n", ",").split(",")
        speakers = []
        for line in options.get("speakers", "").splitlines():
            speaker_id, _, name = line.partition("=")
            if speaker_id.strip() and name.strip():
                speakers.append((speaker_id.strip(), name.strip().strip('"')))
        return cls(
            **{
                name: options.get(name, "")
                for name in (
                    "title",
                    "date",
                    "series",
                    "medium",
                    "format",
                    "markup",
                    "interviewer",
                    "interviewee",
                )
            },
            topics=tuple(t.strip() for t in topics if t.strip()),
            speakers=tuple(speakers),
        )

    def as_meta(self) -> dict:
        meta = {k: v for k, v in self.__dict__.items() if v and k != "speakers"}
        if self.topics:
            meta["topics"] = list(self.topics)
        if self.speakers:
            meta["speakers"] = dict(self.speakers)
        return meta

    def name_speakers(self, parsed: ParsedInterview) -> None:
        """Give the people behind speaker ids ("SPEAKER_00") their names."""
        names = {Speaker.name_key(k): v for k, v in self.speakers}
        for person in parsed.participants:
            if (name := names.get(Speaker.name_key(person.name))) is not None:
                person.name, person.placeholder = name, False
        for turn in parsed.turns:
            if (name := names.get(Speaker.name_key(turn.speaker))) is not None:
                turn.speaker = name

    def participants(self) -> list[parsing.ParsedSpeaker]:
        people = [(self.interviewer, "interviewer"), (self.interviewee, "guest")]
        return [parsing.ParsedSpeaker(name=n, role=r) for n, r in people if n]


def read_source(
    raw: bytes,
    filename: str,
    *,
    sidecar_raw: bytes = b"",
    sidecar_name: str = "",
    overrides: Overrides | None = None,
) -> tuple[ParsedInterview, dict]:
    """A transcript's bytes (and its sidecar's) read into a parsed interview
    with every warning an import shows, and the metadata it was given: the
    one reading of a source, for the command line and the admin alike.

    Raises ParseError (also when no one speaks) or NotATranscript.
    """
    overrides = overrides or Overrides()
    meta = (
        parsing.read_sidecar(decode(sidecar_raw), name=sidecar_name)
        if sidecar_raw
        else {"participants": []}
    )
    meta.update(overrides.as_meta())
    meta.pop("speakers", None)
    parsed = parsing.parse(
        raw,
        filename=filename,
        format=meta.get("format", ""),
        markup=meta.get("markup", ""),
        participants=[*overrides.participants(), *meta["participants"]],
    )
    if not parsed.turns:
        raise ParseError("no turns found")
    overrides.name_speakers(parsed)
    parsing.apply_metadata(parsed, meta)
    if not parsed.title:
        parsed.title = title_from_file_name(Path(filename))
        parsed.warnings.append(
            f"no title in the transcript: “{parsed.title}” is made from the "
            "file name (give one as the title option)"
        )
    return parsed, meta


@dataclass
class Outcome:
    path: str
    status: str  # created, updated, unchanged, kept, skipped, failed
    message: str = ""
    interview: Interview | None = None
    warnings: list[str] = field(default_factory=list)
    document: dict | None = None  # the archive's JSON shape, for --dry-run

    @property
    def failed(self) -> bool:
        return self.status == "failed"


# Files in a transcript folder that are about the folder, not transcripts.
_NOT_TRANSCRIPTS = ("readme", "license", "licence", "copying", "changelog", "notice")


def transcript_files(path: Path) -> list[Path]:
    """The transcripts a path names: itself, or the files under a directory.

    In a directory, only files with a transcript's suffix count (see
    ``parsing.SUFFIXES``), without hidden ones, sidecars, READMEs and licences.
    """
    if path.is_dir():
        return sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix.lower() in parsing.SUFFIXES
            and not p.stem.lower().startswith(_NOT_TRANSCRIPTS)
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    return [path]


def source_name_for(path: Path, root: Path) -> str:
    """What identifies a file across imports: its path inside the folder
    imported ("podcast/episode-1.md"), or its name when imported alone.

    Two folders of one import may hold the same file name (the Changelog's
    shows do); the relative path keeps them apart.
    """
    if root.is_dir():
        return path.relative_to(root).as_posix()
    return path.name


def import_file(
    path: Path,
    *,
    draft: bool = False,
    force: bool = False,
    dry_run: bool = False,
    overrides: Overrides | None = None,
    source_name: str = "",
    update: str = "",
    replace: bool = False,
) -> Outcome:
    """Import one transcript file; never raises for a bad file.

    ``source_name`` identifies the file across imports (see
    ``source_name_for``); it defaults to the file's name.
    """
    overrides = overrides or Overrides()
    try:
        raw = path.read_bytes()
        sidecar_path = path.with_suffix(SIDECAR_SUFFIX)
        sidecar_raw = sidecar_path.read_bytes() if sidecar_path.is_file() else b""
        parsed, meta = read_source(
            raw,
            path.name,
            sidecar_raw=sidecar_raw,
            sidecar_name=sidecar_path.name,
            overrides=overrides,
        )
    except OSError as exc:
        return Outcome(str(path), "failed", f"cannot read the file ({exc.strerror})")
    except parsing.NotATranscript as exc:
        return Outcome(str(path), "skipped", str(exc))
    except ParseError as exc:
        return Outcome(str(path), "failed", str(exc))

    try:
        return save_parsed(
            parsed,
            source_name=source_name or path.name,
            source_text=parsed.source_text,
            import_hash=import_fingerprint(raw, sidecar_raw, overrides.as_meta()),
            slug=meta.get("slug", ""),
            draft=draft or not meta.get("published", True),
            force=force,
            dry_run=dry_run,
            path=str(path),
            update=update,
            replace=replace,
        )
    except ValidationError as exc:
        return Outcome(str(path), "failed", validation_message(exc))


def import_fingerprint(raw: bytes, sidecar_raw: bytes, options: dict) -> str:
    """What tells an unchanged re-import from a changed one: the source, its
    sidecar, the options given, and the parser's version (a better parser
    reads an old file anew)."""
    fingerprint = hashlib.sha256(parsing.VERSION.encode())
    given = {key: value for key, value in options.items() if value}
    for part in (raw, sidecar_raw, json.dumps(given, sort_keys=True).encode()):
        fingerprint.update(hashlib.sha256(part).digest())
    return fingerprint.hexdigest()


def title_from_file_name(path: Path) -> str:
    words = path.stem.replace("_", " ").replace("-", " ").split()
    return " ".join(words).capitalize() or "Untitled"


def validation_message(exc: ValidationError) -> str:
    """A model validation error as one line for a curator."""
    if hasattr(exc, "message_dict"):
        return "; ".join(
            f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items()
        )
    return " ".join(exc.messages)


class ImportRefused(Exception):
    """An import that would lose or misplace something; nothing is written."""


# Re-imports that would drop more than this share of an interview's turns
# (and so break the links to them) stop unless asked to replace.
REPLACE_SHARE = 0.5
# Imports are serialized (PostgreSQL: this advisory lock; SQLite: IMMEDIATE
# transactions), so two imports of one file cannot both create it.
_IMPORT_LOCK = 0x5EED_1A70


def _lock_imports() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK])


def find_existing(
    *,
    source_name: str = "",
    slug: str = "",
    path: str = "",
    update: str = "",
    parsed: ParsedInterview | None = None,
    source_text: str = "",
    warnings: list[str] | None = None,
) -> Interview | None:
    """The interview an import of ``source_name`` updates, if any.

    - ``update``: the curator names it by slug (``--update``, the admin).
    - A file of an imported folder is known by its path in that folder; a
      file imported alone finds the folder import it came from.
    - A file known only by its name (imported alone, or uploaded) is the
      same interview only when its content says so too: the same source
      text, or the same title and speakers. Two different ``input.txt``
      stay two interviews.
    - ``slug``: a sidecar's slug.
    """
    candidates = Interview.objects.select_related("source")
    if update:
        chosen = candidates.filter(slug=update).first()
        if chosen is None:
            raise ImportRefused(f"there is no interview “{update}” to update")
        return chosen
    existing = None
    if source_name:
        existing = candidates.filter(source_name=source_name).first()
        if "/" not in source_name:
            same = [
                c
                for c in candidates.filter(source_name=source_name)
                if _same_content(c, parsed, source_text)
            ]
            if existing is not None and not same and warnings is not None:
                warnings.append(
                    f"another transcript named {source_name} is already in the "
                    f"archive ({existing.slug}) and says something else: this one "
                    f"becomes a new interview (to replace that one, update "
                    f"{existing.slug})"
                )
            existing = same[0] if same else None
        if existing is None and "/" not in source_name:
            # The file alone, first imported as part of a folder.
            where = "/" + Path(path).as_posix().lstrip("/")
            inside = [
                c
                for c in candidates.filter(source_name__endswith="/" + source_name)
                if where.endswith("/" + c.source_name)
            ]
            existing = inside[0] if len(inside) == 1 else None
    if existing is None and slug:
        existing = candidates.filter(slug=slug).first()
    return existing


def _same_content(
    interview: Interview, parsed: ParsedInterview | None, source_text: str
) -> bool:
    source = getattr(interview, "source", None)
    digest = hashlib.sha256(source_text.encode()).hexdigest()
    if source is not None and source_text and source.sha256 == digest:
        return True
    if parsed is None:
        return False
    names = {Speaker.name_key(p.name) for p in parsed.participants}
    have = {
        Speaker.name_key(name)
        for name in interview.participants.values_list("speaker__name", flat=True)
    }
    return interview.title.casefold() == parsed.title.casefold() and names == have


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def save_parsed(
    parsed: ParsedInterview,
    *,
    source_name: str,
    source_text: str,
    import_hash: str,
    slug: str = "",
    draft: bool = False,
    force: bool = False,
    dry_run: bool = False,
    path: str = "",
    speakers: dict[str, Speaker] | None = None,
    update: str = "",
    replace: bool = False,
    published: bool | None = None,
) -> Outcome:
    """Write a parsed interview (create or update) in one transaction.

    ``published`` True or False sets the interview's state whatever else
    happens (the admin's "Save and publish" and "Save as draft"); None
    publishes a new interview unless ``draft`` and keeps an existing one's.

    Which interview it updates, if any, is ``find_existing``'s to say
    (``update`` names one). A re-import that would drop more than half of
    the interview's turns is refused unless ``replace``.

    A new interview is published unless ``draft``; an existing one keeps
    its state unless ``draft`` makes it a draft. A dry run does the same
    work and rolls it back, so what it prints is exactly what an import
    would store. ``speakers`` maps participant names to existing speakers
    a curator chose; other names are matched or created as usual.
    """
    path = path or source_name
    outcome = Outcome(path, "created", warnings=list(parsed.warnings))
    try:
        with transaction.atomic():
            _lock_imports()
            existing = find_existing(
                source_name=source_name,
                slug=slug,
                path=path,
                update=update,
                parsed=parsed,
                source_text=source_text,
                warnings=outcome.warnings,
            )
            if existing is not None:
                source = getattr(existing, "source", None)
                unchanged = source is not None and source.import_hash == import_hash
                if unchanged and not force:
                    outcome.status, outcome.interview = "unchanged", existing
                elif existing.was_edited_since_import() and not force:
                    outcome.status, outcome.interview = "kept", existing
                    outcome.warnings.append(
                        "edited in the admin since its last import; left as it is "
                        "(force the import to overwrite the edits)"
                    )
                else:
                    outcome.status = "updated"
                restate = published not in (None, existing.published)
                if outcome.status == "unchanged" and restate and not dry_run:
                    Interview.objects.filter(pk=existing.pk).update(
                        published=published, updated_at=timezone.now()
                    )
                    existing.published = published
                if outcome.status != "updated":
                    if dry_run:
                        outcome.document = interview_document(existing)
                    return outcome
            interview = _write(
                parsed,
                existing,
                outcome,
                source_name=source_name,
                source_text=source_text,
                import_hash=import_hash,
                slug=slug,
                draft=draft if published is None else not published,
                chosen=speakers or {},
                replace=replace,
            )
            if published and not interview.published:
                interview.published = True
                interview.save(update_fields=["published"])
            outcome.interview = interview
            if dry_run:
                outcome.document = interview_document(interview)
                raise _DryRun
    except _DryRun:
        outcome.interview = None
    except ImportRefused as exc:
        outcome.status, outcome.message, outcome.interview = "failed", str(exc), None
    except (IntegrityError, OperationalError) as exc:
        # Another writer at the same moment (a lock that stayed busy, a slug
        # taken meanwhile): nothing was written; the curator can run it again.
        log.warning("import of %s failed: %s", path, exc)
        outcome.status, outcome.interview = "failed", None
        outcome.message = (
            "the database was busy with another change and nothing was written; "
            f"run the import again ({exc})"
        )
    return outcome


def _write(
    parsed: ParsedInterview,
    interview: Interview | None,
    outcome: Outcome,
    *,
    source_name: str,
    source_text: str,
    import_hash: str,
    slug: str,
    draft: bool,
    chosen: dict[str, Speaker],
    replace: bool = False,
) -> Interview:
    if interview is None:
        interview = Interview()
    if draft:
        interview.published = False
    interview.title = parsed.title
    if slug:
        interview.slug = slug
    elif not interview.slug:
        # A slug the source asks for (our JSON export) when it is free; it
        # never makes the import update another interview.
        interview.slug = unique_slug(Interview, parsed.slug or parsed.title)
    interview.series = _series(parsed)
    interview.outlet = parsed.outlet or (
        interview.series.outlet if interview.series else ""
    )
    interview.episode = parsed.episode
    interview.date, interview.date_precision = _date(parsed.date)
    interview.date_note = parsed.date_note
    interview.medium = parsed.medium or Medium.OTHER
    interview.source_url = parsed.source_url
    interview.lede = parsed.lede
    interview.attribution = parsed.attribution
    interview.rights = parsed.rights
    interview.source_name = source_name
    interview.markup = parsed.markup
    interview.full_clean(exclude=["series", "topics"], validate_unique=True)
    interview.save()

    InterviewSource.objects.update_or_create(
        interview=interview,
        defaults={
            "text": source_text,
            "sha256": hashlib.sha256(source_text.encode()).hexdigest(),
            "import_hash": import_hash,
        },
    )
    interview.topics.set(_topics(parsed.topics))
    speakers = _speakers(parsed, outcome, chosen, interview)
    _participants(interview, parsed, speakers)
    _sync_turns(interview, parsed, speakers, replace=replace)
    interview.refresh_turn_count()
    interview.imported_at = timezone.now()
    Interview.objects.filter(pk=interview.pk).update(imported_at=interview.imported_at)
    return interview


def _rewritten(before: str, after: str) -> bool:
    """Whether a turn's new text is other words, not a correction of its old
    text (a corrected typo or a joined paragraph stays well above half)."""
    matcher = difflib.SequenceMatcher(a=before, b=after)
    return matcher.quick_ratio() < 0.5 or matcher.ratio() < 0.5


def _date(text: str) -> tuple[datetime.date | None, str]:
    if not text:
        return None, DatePrecision.DAY
    parts = [int(p) for p in text.split("-")]
    precision = [DatePrecision.YEAR, DatePrecision.MONTH, DatePrecision.DAY][
        len(parts) - 1
    ]
    return datetime.date(*[*parts, 1, 1][:3]), precision


def _series(parsed: ParsedInterview) -> Series | None:
    if not parsed.series:
        return None
    series = Series.objects.filter(name__iexact=parsed.series).first()
    if series is None:
        series = Series.objects.create(
            name=parsed.series,
            slug=unique_slug(Series, parsed.series),
            outlet=parsed.outlet,
        )
    return series


def _topics(names: list[str]) -> list[Topic]:
    topics = []
    for name in names:
        slug = slugify(name) or "topic"
        topic = Topic.objects.filter(slug=slug).first() or Topic.objects.create(
            name=name, slug=unique_slug(Topic, name)
        )
        topics.append(topic)
    return topics


def match_speakers(parsed: ParsedInterview) -> list[tuple[str, list[Speaker]]]:
    """Each participant's name with the existing speakers it matches.

    Existing speakers match on a full name or a listed alias only; a
    placeholder ("Guest 2") matches nobody. An empty list means the import
    will create the speaker; more than one is an ambiguity to resolve.
    """
    result = []
    for person in parsed.participants:
        matches: list[Speaker] = []
        if not person.placeholder:
            for name in [person.name, *person.aliases]:
                for speaker in Speaker.objects.matching(name):
                    if speaker not in matches:
                        matches.append(speaker)
        result.append((person.name, matches))
    return result


def _speakers(
    parsed: ParsedInterview,
    outcome: Outcome,
    chosen: dict[str, Speaker],
    interview: Interview,
) -> dict[str, Speaker]:
    """The Speaker for each name in the transcript: chosen, matched or created.

    A chosen Speaker without a primary key means "create a new one even if
    the name matches". A placeholder ("Guest 2") is this interview's own: a
    re-import finds the one it made before, and no other interview's. What
    the source says about people fills blanks; a curator's text is never
    replaced.
    """
    found: dict[str, Speaker] = {}
    matched = dict(match_speakers(parsed))
    own = {}
    if any(person.placeholder for person in parsed.participants):
        own = {
            s.name: s
            for s in Speaker.objects.filter(
                Exists(
                    Participant.objects.filter(
                        interview=interview, speaker=OuterRef("pk")
                    )
                )
                | Exists(
                    Turn.objects.filter(interview=interview, speaker=OuterRef("pk"))
                )
            )
        }
    for person in parsed.participants:
        matches = matched[person.name]
        if person.name in chosen:
            matches = [chosen[person.name]]
        elif person.placeholder and person.name in own:
            matches = [own[person.name]]
        if len(matches) > 1:
            outcome.warnings.append(
                f"“{person.name}” matches several speakers "
                f"({', '.join(s.slug for s in matches)}); used {matches[0].slug}"
            )
        speaker = matches[0] if matches else Speaker(name=person.name)
        if speaker.pk is None:
            speaker.placeholder = person.placeholder
            if not person.placeholder and person.name not in chosen:
                _warn_of_namesakes(person.name, outcome)
        changed = speaker.pk is None
        for attr in ("bio", "affiliation"):
            if getattr(person, attr) and not getattr(speaker, attr):
                setattr(speaker, attr, getattr(person, attr))
                changed = True
        for alias in person.aliases:
            if Speaker.name_key(alias) not in speaker.name_keys():
                speaker.add_alias(alias)
                changed = True
        if changed:
            speaker.save()
        found[person.name] = speaker
    return found


def _warn_of_namesakes(name: str, outcome: Outcome) -> None:
    """A new speaker whose name is part of an existing one's ("Maurer", "Tim
    Maurer") is created, never merged; the curator is told, to merge or
    alias them if they are one person."""
    words = [w for w in Speaker.name_key(name).replace(".", " ").split() if len(w) > 1]
    if not words:
        return
    longest = max(words, key=len)
    namesakes = [
        s
        for s in Speaker.objects.filter(name__icontains=longest, placeholder=False)[:20]
        if set(words) < set(Speaker.name_key(s.name).replace(".", " ").split())
    ]
    if namesakes:
        outcome.warnings.append(
            f"“{name}” is a new speaker, but the archive has "
            f"{', '.join(f'{s.name} ({s.slug})' for s in namesakes)}: merge them, "
            "or add the name as an alias, if they are one person"
        )


def _participants(interview: Interview, parsed: ParsedInterview, speakers) -> None:
    interview.participants.all().delete()
    seen = set()
    rows = []
    for position, person in enumerate(parsed.participants):
        speaker = speakers[person.name]
        if speaker.pk in seen:
            continue
        seen.add(speaker.pk)
        role = person.role if person.role in Role.values else Role.SPEAKER
        if person.role == "interviewee":
            role = Role.GUEST
        rows.append(
            Participant(
                interview=interview, speaker=speaker, role=role, position=position
            )
        )
    Participant.objects.bulk_create(rows)


def _sync_turns(
    interview: Interview, parsed: ParsedInterview, speakers, *, replace: bool = False
) -> None:
    """Make the interview's turns those parsed, keeping anchors where we can.

    Turns that are unchanged or edited in place keep their anchor numbers, so
    citation links survive a corrected re-import; removed turns go, new ones
    get fresh anchors.
    """
    old = list(interview.turns.order_by("position", "anchor"))
    new = [
        Turn(
            interview=interview,
            position=i + 1,
            speaker=speakers[p.speaker],
            label=p.label,
            body=p.body,
            kind=p.kind,
            start=p.start,
        )
        for i, p in enumerate(parsed.turns)
    ]
    matcher = difflib.SequenceMatcher(
        a=[(t.speaker_id, t.body) for t in old],
        b=[(t.speaker_id, t.body) for t in new],
        autojunk=False,
    )
    keep, create, delete = [], [], []
    # Old turns whose words now live in a kept turn (a re-import that joins
    # two turns): their links lead there rather than to 410 Gone.
    merged: dict[int, list[int]] = {}
    rewritten = 0
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        pairs = min(a2 - a1, b2 - b1) if op in ("equal", "replace") else 0
        for old_turn, new_turn in zip(
            old[a1 : a1 + pairs], new[b1 : b1 + pairs], strict=True
        ):
            new_turn.pk, new_turn.anchor = old_turn.pk, old_turn.anchor
            keep.append(new_turn)
            if op == "replace" and _rewritten(old_turn.body, new_turn.body):
                # Its anchor would now point at other words.
                rewritten += 1
        if pairs and a2 - a1 > pairs:
            merged[old[a1 + pairs - 1].pk] = [t.pk for t in old[a1 + pairs : a2]]
        else:
            delete.extend(old[a1 + pairs : a2])
        create.extend(new[b1 + pairs : b2])
    dropped = len(delete) + sum(len(pks) for pks in merged.values()) + rewritten
    if not replace and len(old) > 1 and dropped > REPLACE_SHARE * len(old):
        raise ImportRefused(
            f"this would replace {dropped} of the interview's {len(old)} turns, "
            "and links to them would lead elsewhere or nowhere: is it the same "
            "interview? "
            "Import it as a new one, or replace it deliberately (--replace)"
        )
    for successor, pks in merged.items():
        Turn.objects.filter(pk__in=pks).delete(successor=Turn(pk=successor))
    if delete:
        Turn.objects.filter(pk__in=[t.pk for t in delete]).delete()
    fields = ["position", "speaker_id", "label", "body", "kind", "start"]
    before = {t.pk: [getattr(t, f) for f in fields] for t in old}
    changed = [t for t in keep if [getattr(t, f) for f in fields] != before[t.pk]]
    if changed:
        # Recorded like a curator's edit, so it can be read and undone.
        Revision.objects.bulk_create(
            [
                Revision(
                    interview=interview,
                    turn_id=turn.pk,
                    turn_anchor=turn.anchor,
                    via="import",
                    changes={
                        name: [old_value, getattr(turn, name)]
                        for name, old_value in zip(fields, before[turn.pk], strict=True)
                        if old_value != getattr(turn, name)
                    },
                )
                for turn in changed
            ],
            batch_size=500,
        )
        # Only what changed: a corrected re-import of a long transcript
        # rewrites (and re-renders) one turn, not all of them.
        Turn.objects.bulk_update(
            changed,
            ["position", "speaker", "label", "body", "kind", "start"],
            batch_size=500,
        )
    if create:
        Turn.objects.bulk_create(create, batch_size=500)
