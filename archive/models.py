"""The archive's data: interviews, the people in them, and what each one said.

Derived data is computed on write: ``Turn.body_html`` (and the other ``*_html``
fields) are rendered and sanitized whenever the Markdown is saved, including
through ``bulk_create`` and ``QuerySet.update``, so pages never render Markdown.
"""

import datetime
import html
from urllib.parse import quote

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator, slugify

from archive import markdown
from archive.parsing.text import printable


def _printable_text(instance) -> None:
    """Control characters typed or pasted into any text field are dropped
    on save: a feed or sitemap cannot carry them (XML refuses them)."""
    for field in instance._meta.concrete_fields:
        if isinstance(field, models.CharField | models.TextField):
            value = getattr(instance, field.attname)
            if isinstance(value, str):
                setattr(instance, field.attname, printable(value))


class DatePrecision(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"


class Medium(models.TextChoices):
    ARTICLE = "article", "Article Q&A"
    PODCAST = "podcast", "Podcast"
    VIDEO = "video", "Video"
    RADIO = "radio", "Radio"
    HEARING = "hearing", "Hearing"
    EVENT = "event", "Event or panel"
    OTHER = "other", "Other"


class Role(models.TextChoices):
    HOST = "host", "Host"
    INTERVIEWER = "interviewer", "Interviewer"
    GUEST = "guest", "Guest"
    MODERATOR = "moderator", "Moderator"
    PANELIST = "panelist", "Panelist"
    WITNESS = "witness", "Witness"
    SPEAKER = "speaker", "Speaker"


# Roles whose turns are answers; questions come from everyone else.
ANSWERING_ROLES = {Role.GUEST, Role.PANELIST, Role.WITNESS}


class TurnKind(models.TextChoices):
    QUESTION = "question", "Question"
    ANSWER = "answer", "Answer"
    REMARK = "remark", "Remark"


def unique_slug(model, text: str, *, exclude_pk=None, max_length: int = 80) -> str:
    """A slug for ``text`` not yet used by ``model`` (suffixes -2, -3, …)."""
    base = slugify(text)[:max_length].strip("-") or "untitled"
    taken = model.objects.filter(slug__startswith=base)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    taken = set(taken.values_list("slug", flat=True))
    if model is Interview:
        taken |= set(
            InterviewSlug.objects.filter(slug__startswith=base).values_list(
                "slug", flat=True
            )
        )
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug


def format_partial_date(date: datetime.date | None, precision: str) -> str | None:
    """ISO text at the date's precision: "2017-09-18", "2016-07", "2016"."""
    if date is None:
        return None
    if precision == DatePrecision.YEAR:
        return f"{date.year:04d}"
    if precision == DatePrecision.MONTH:
        return f"{date.year:04d}-{date.month:02d}"
    return date.isoformat()


class IndexQueue(models.Model):
    """A change the search index has yet to take in.

    Rows are written in the same transaction as the change itself, so the
    index can never silently miss one; a single consumer
    (``archive.search.queue``) applies them in batches and deletes them only
    after the index has committed. A row names what changed, not how: the
    consumer reads the current state from the database.
    """

    class Kind(models.TextChoices):
        INTERVIEW = "interview"
        TURN = "turn"
        SPEAKER = "speaker"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.kind} {self.object_id}"


class TopicQuerySet(models.QuerySet):
    def in_published(self):
        """Topics of at least one published interview, with ``interview_count``."""
        return self.annotate(
            interview_count=models.Count(
                "interviews", filter=Q(interviews__published=True)
            )
        ).filter(interview_count__gt=0)


class Topic(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        _printable_text(self)
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            hooks.interviews_changed(self.interviews.values_list("pk", flat=True))

    def get_absolute_url(self):
        return reverse("archive-topic", args=[self.slug])


class Series(models.Model):
    """A show, column or hearing series that interviews belong to."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    outlet = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "series"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        _printable_text(self)
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            hooks.interviews_changed(self.interviews.values_list("pk", flat=True))


class SpeakerQuerySet(models.QuerySet):
    def public(self):
        """Speakers who appear in at least one published interview."""
        return self.filter(
            Exists(
                Participant.objects.filter(
                    speaker=OuterRef("pk"), interview__published=True
                )
            )
            | Exists(
                Turn.objects.filter(speaker=OuterRef("pk"), interview__published=True)
            )
        )

    def listed(self):
        """Named speakers of published interviews, with ``interview_count``
        (published interviews they take part in), for directories."""
        return (
            self.public()
            .filter(placeholder=False)
            .annotate(
                interview_count=models.Count(
                    "participations",
                    filter=Q(participations__interview__published=True),
                )
            )
        )

    def matching(self, name: str):
        """Speakers whose full name or a listed alias is ``name``.

        Matching is on whole names only (case and spacing aside): a surname
        alone never matches, so two people called Smith stay apart.
        """
        key = Speaker.name_key(name)
        if not key:
            return self.none()
        candidates = self.filter(
            Q(name__iexact=name.strip()) | Q(aliases__icontains=key)
        )
        return [s for s in candidates if key in s.name_keys()]

    def update(self, **kwargs):
        _render_on_update(kwargs, "bio", "bio_html")
        with (
            transaction.atomic(using=self.db, savepoint=False),
            hooks.speakers_updating(self, kwargs),
        ):
            return super().update(**kwargs)


class Speaker(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True)
    aliases = models.TextField(
        blank=True,
        help_text="Other full names transcripts use for this person, one per line "
        "(for example “Dr. Tim Maurer”).",
    )
    affiliation = models.CharField(max_length=300, blank=True)
    placeholder = models.BooleanField(
        default=False,
        help_text="A stand-in for someone a transcript does not name (“Guest 2”, "
        "“Unknown”): kept out of the speaker directory, never matched by name.",
    )
    bio = models.TextField(blank=True, help_text="Markdown.")
    bio_html = models.TextField(blank=True, editable=False)

    objects = SpeakerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        _printable_text(self)
        if not self.slug:
            self.slug = unique_slug(Speaker, self.name, exclude_pk=self.pk)
        self.bio_html = markdown.render(self.bio)
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "bio_html"}
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            # Turns carry their speaker's name and slug in the index; a bio
            # change (the importer fills blanks) need not re-index them.
            hooks.speaker_saved(self, getattr(self, "_indexed", None))
        self._indexed = hooks.speaker_key(self)

    def get_absolute_url(self):
        return reverse("archive-speaker", args=[self.slug])

    @classmethod
    def from_db(cls, db, field_names, values):
        speaker = super().from_db(db, field_names, values)
        # Loaded with some fields deferred (``only()``), what the index holds is
        # unknown: a save re-indexes their turns to be safe.
        deferred = speaker.get_deferred_fields() & set(hooks.INDEXED_SPEAKER_FIELDS)
        speaker._indexed = "unknown" if deferred else hooks.speaker_key(speaker)
        return speaker

    def published_turns(self) -> "SpeakerTurns":
        """Everything they said in published interviews, newest interview
        first, in the order of each transcript; sliceable, for a paginator."""
        return SpeakerTurns(self)

    @staticmethod
    def name_key(name: str) -> str:
        return " ".join(name.replace("\u00a0", " ").split()).casefold()

    def alias_list(self) -> list[str]:
        return [a.strip() for a in self.aliases.splitlines() if a.strip()]

    def name_keys(self) -> set[str]:
        return {self.name_key(n) for n in [self.name, *self.alias_list()]}

    def add_alias(self, name: str) -> None:
        if self.name_key(name) not in self.name_keys():
            self.aliases = "\n".join([*self.alias_list(), name.strip()])

    @transaction.atomic
    def merge_into(self, target: "Speaker") -> None:
        """Move every turn and participation to ``target``, then delete self.

        The merged person's names become aliases of the target, so later
        imports that use them match the target.
        """
        if target.pk == self.pk:
            raise ValueError("A speaker cannot be merged into itself.")
        Turn.objects.filter(speaker=self).update(speaker=target)
        for participant in Participant.objects.filter(speaker=self):
            duplicate = Participant.objects.filter(
                interview_id=participant.interview_id, speaker=target
            ).exists()
            if duplicate:
                participant.delete()
            else:
                participant.speaker = target
                participant.save(update_fields=["speaker"])
        for name in [self.name, *self.alias_list()]:
            target.add_alias(name)
        if not target.bio and self.bio:
            target.bio = self.bio
        if not target.affiliation and self.affiliation:
            target.affiliation = self.affiliation
        target.save()
        Interview.objects.filter(
            Q(turns__speaker=target) | Q(participants__speaker=target)
        ).update(updated_at=timezone.now())
        self.delete()


class InterviewQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)

    def visible_to(self, user):
        """Published interviews, plus drafts for staff."""
        if user is not None and user.is_active and user.is_staff:
            return self.all()
        return self.published()

    def newest_first(self):
        return self.order_by(F("date").desc(nulls_last=True), "-created_at", "-pk")

    def with_speaker(self, speaker):
        """Interviews ``speaker`` takes part in: listed as a participant, or
        speaking in the transcript."""
        return self.filter(
            Exists(
                Participant.objects.filter(interview=OuterRef("pk"), speaker=speaker)
            )
            | Exists(Turn.objects.filter(interview=OuterRef("pk"), speaker=speaker))
        )

    def find(self, slug: str) -> tuple["Interview | None", str | None]:
        """(the interview of these with ``slug``, None), or (None, its current
        slug) when ``slug`` is an old slug of one of these, or (None, None)."""
        found = self.filter(slug=slug).first()
        if found is not None:
            return found, None
        moved = (
            InterviewSlug.objects.filter(slug=slug, interview__in=self)
            .values_list("interview__slug", flat=True)
            .first()
        )
        return None, moved

    def update(self, **kwargs):
        _render_on_update(kwargs, "lede", "lede_html")
        if set(kwargs) - BOOKKEEPING_FIELDS and "version" not in kwargs:
            kwargs["version"] = F("version") + 1
        with (
            transaction.atomic(using=self.db, savepoint=False),
            hooks.interviews_updating(self, kwargs),
        ):
            if kwargs.get("published") is True:
                # First publication is dated once; republishing keeps it.
                models.QuerySet.update(
                    self.filter(published_at__isnull=True),
                    published_at=timezone.now(),
                )
            return super().update(**kwargs)

    def delete(self):
        with transaction.atomic(using=self.db, savepoint=False):
            hooks.interviews_changed(self.values_list("pk", flat=True))
            RetiredTurn.record(Turn.objects.filter(interview__in=self))
            return super().delete()


# Interview fields the archive keeps for itself: changing them is not a
# change to what a curator edits.
BOOKKEEPING_FIELDS = frozenset(
    {"updated_at", "imported_at", "edited_at", "turn_count", "next_anchor"}
)


class Interview(models.Model):
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=120, unique=True)
    series = models.ForeignKey(
        Series,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interviews",
    )
    outlet = models.CharField(max_length=200, blank=True)
    episode = models.CharField(max_length=40, blank=True)
    date = models.DateField(
        null=True,
        blank=True,
        help_text="For month or year precision, the first day of the month or year.",
    )
    date_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    date_note = models.CharField(
        max_length=300, blank=True, help_text="How the date is known, if not stated."
    )
    source_url = models.URLField(max_length=500, blank=True)
    medium = models.CharField(
        max_length=20, choices=Medium.choices, default=Medium.OTHER
    )
    lede = models.TextField(blank=True, help_text="Markdown.")
    lede_html = models.TextField(blank=True, editable=False)
    attribution = models.TextField(blank=True)
    rights = models.TextField(blank=True)
    topics = models.ManyToManyField(Topic, blank=True, related_name="interviews")

    source_name = models.CharField(
        max_length=255, blank=True, help_text="File the interview was imported from."
    )
    markup = models.CharField(
        max_length=10,
        choices=[("markdown", "Markdown"), ("plain", "Plain text")],
        default="markdown",
        editable=False,
    )

    published = models.BooleanField(default=True)
    # When it first went public: what feeds date it by (created_at can be
    # long before, for a draft).
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    turn_count = models.PositiveIntegerField(default=0, editable=False)
    next_anchor = models.PositiveIntegerField(default=1, editable=False)
    # Goes up with every change a curator could have made; an edit form
    # carries the version it started from, and a save over a newer one is
    # refused (admin.VersionCheck).
    version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    imported_at = models.DateTimeField(null=True, blank=True, editable=False)
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = InterviewQuerySet.as_manager()

    class Meta:
        ordering = [F("date").desc(nulls_last=True), "-created_at"]
        indexes = [
            models.Index(fields=["published", "date"]),
            models.Index(fields=["source_name"]),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        _printable_text(self)
        if not self.slug:
            self.slug = unique_slug(Interview, self.title, exclude_pk=self.pk)
        self.lede_html = markdown.render(self.lede)
        if self.published and self.published_at is None:
            self.published_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "published_at"}
        self.version += 1
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        previous_slug = None
        if self.pk:
            previous_slug = (
                Interview.objects.filter(pk=self.pk)
                .values_list("slug", flat=True)
                .first()
            )
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            hooks.interview_saved(self)
            if previous_slug and previous_slug != self.slug:
                # The old slug keeps answering with a permanent redirect.
                InterviewSlug.objects.update_or_create(
                    slug=previous_slug, defaults={"interview": self}
                )
            InterviewSlug.objects.filter(slug=self.slug).delete()

    def get_absolute_url(self):
        return reverse("archive-interview", args=[self.slug])

    @property
    def summary(self) -> str:
        """The lede as plain text, about forty words (for cards and feeds)."""
        plain = html.unescape(strip_tags(self.lede_html))
        return Truncator(" ".join(plain.split())).words(40)

    def delete(self, *args, **kwargs):
        with transaction.atomic(savepoint=False):
            hooks.interviews_changed([self.pk])
            RetiredTurn.record(self.turns.all())
            return super().delete(*args, **kwargs)

    @property
    def date_iso(self) -> str | None:
        return format_partial_date(self.date, self.date_precision)

    @property
    def date_display(self) -> str:
        if self.date is None:
            return "date unknown"
        if self.date_precision == DatePrecision.YEAR:
            return str(self.date.year)
        if self.date_precision == DatePrecision.MONTH:
            return f"{self.date:%B} {self.date.year}"
        return f"{self.date:%B} {self.date.day}, {self.date.year}"

    def was_edited_since_import(self) -> bool:
        return bool(
            self.edited_at
            and (self.imported_at is None or self.edited_at > self.imported_at)
        )

    def allocate_anchors(self, count: int) -> range:
        """Reserve ``count`` new anchor numbers, never handed out before.

        The counter lives on the interview row and only goes up, so a deleted
        turn's anchor is never reused and a citation never points elsewhere.
        """
        with transaction.atomic(savepoint=False):
            Interview.objects.filter(pk=self.pk).update(
                next_anchor=F("next_anchor") + count
            )
            end = Interview.objects.filter(pk=self.pk).values_list(
                "next_anchor", flat=True
            )[0]
        self.next_anchor = end
        return range(end - count, end)

    def ordered_turns(self):
        """The turns in reading order, each with its speaker, in one query."""
        return self.turns.select_related("speaker").order_by("position", "anchor")

    def refresh_turn_count(self) -> None:
        self.turn_count = self.turns.count()
        Interview.objects.filter(pk=self.pk).update(turn_count=self.turn_count)


class InterviewSource(models.Model):
    """The text an interview was imported from, kept for provenance.

    A table of its own so that listing and sorting interviews never reads
    whole transcripts (on SQLite a long text on the interview row slows
    every scan of it).
    """

    interview = models.OneToOneField(
        Interview, primary_key=True, on_delete=models.CASCADE, related_name="source"
    )
    text = models.TextField()
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the source text.")
    import_hash = models.CharField(
        max_length=64,
        help_text="Fingerprint of the source file, its sidecar and the import options.",
    )

    def __str__(self):
        return f"source of {self.interview_id}"


class InterviewSlug(models.Model):
    """A slug an interview had before, kept so old links redirect."""

    interview = models.ForeignKey(
        Interview, on_delete=models.CASCADE, related_name="old_slugs"
    )
    slug = models.SlugField(max_length=120, unique=True)

    def __str__(self):
        return self.slug


class ParticipantQuerySet(models.QuerySet):
    # Roles are indexed with each turn ("role:guest"): bulk writes queue the
    # interviews they touch, as save() and delete() do.
    def update(self, **kwargs):
        with transaction.atomic(using=self.db, savepoint=False):
            hooks.interviews_changed(self.values_list("interview_id", flat=True))
            return super().update(**kwargs)

    def delete(self):
        with transaction.atomic(using=self.db, savepoint=False):
            hooks.interviews_changed(self.values_list("interview_id", flat=True))
            return super().delete()

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            created = super().bulk_create(objs, *args, **kwargs)
            hooks.interviews_changed(p.interview_id for p in created)
            return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            hooks.interviews_changed(p.interview_id for p in objs)
            return super().bulk_update(objs, fields, *args, **kwargs)


class Participant(models.Model):
    interview = models.ForeignKey(
        Interview, on_delete=models.CASCADE, related_name="participants"
    )
    speaker = models.ForeignKey(
        Speaker, on_delete=models.PROTECT, related_name="participations"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.GUEST)
    position = models.PositiveIntegerField(default=0)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["interview", "speaker"], name="participant_once_per_interview"
            )
        ]

    def __str__(self):
        return f"{self.speaker} ({self.get_role_display()})"

    def save(self, *args, **kwargs):
        # Roles are indexed with each turn ("role:guest").
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            hooks.interviews_changed([self.interview_id])

    def delete(self, *args, **kwargs):
        with transaction.atomic(savepoint=False):
            hooks.interviews_changed([self.interview_id])
            return super().delete(*args, **kwargs)


def _render_on_update(kwargs: dict, field: str, html_field: str) -> None:
    """Keep ``html_field`` right when ``field`` is set through ``update()``.

    ``bulk_update`` passes both, already rendered; anything else must give
    the new Markdown as a string so that it can be rendered here.
    """
    if field not in kwargs or html_field in kwargs:
        return
    value = kwargs[field]
    if not isinstance(value, str):
        raise TypeError(
            f"update({field}=…) needs a string so that {html_field} can be "
            "rendered; save each object instead."
        )
    kwargs[html_field] = markdown.render(value)


class TurnQuerySet(models.QuerySet):
    def published(self):
        return self.filter(interview__published=True)

    def for_quotes(self):
        """Published turns with what a quote or its citation shows."""
        return self.published().select_related("interview__series", "speaker")

    def update(self, **kwargs):
        _render_on_update(kwargs, "body", "body_html")
        kwargs.setdefault("version", F("version") + 1)
        with (
            transaction.atomic(using=self.db, savepoint=False),
            hooks.turn_rows_changing(self),
        ):
            return super().update(**kwargs)

    def delete(self, *, successor: "Turn | None" = None):
        """Delete these turns; their quote links answer 410 Gone, or
        redirect to ``successor`` when they were merged into it."""
        with transaction.atomic(using=self.db, savepoint=False):
            hooks.turn_rows_changed(self)
            RetiredTurn.record(self, successor=successor)
            return super().delete()

    def bulk_create(self, objs, *args, **kwargs):
        """Render ``body_html`` and assign anchors, as ``save()`` would."""
        objs = list(objs)
        by_interview: dict[int, list[Turn]] = {}
        for turn in objs:
            turn.body_html = markdown.render(turn.body)
            if turn.anchor is None:
                by_interview.setdefault(turn.interview_id, []).append(turn)
        with transaction.atomic(using=self.db, savepoint=False):
            for interview_id, turns in by_interview.items():
                interview = Interview(pk=interview_id)
                for turn, anchor in zip(
                    turns, interview.allocate_anchors(len(turns)), strict=True
                ):
                    turn.anchor = anchor
            created = super().bulk_create(objs, *args, **kwargs)
            hooks.turns_created(created)
            return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        if "body" in fields:
            for turn in objs:
                turn.body_html = markdown.render(turn.body)
            fields = [*fields, "body_html"]
        for turn in objs:
            turn.version = F("version") + 1
        fields = [*fields, "version"]
        with (
            transaction.atomic(using=self.db, savepoint=False),
            hooks.turns_changing(t.pk for t in objs),
        ):
            return super().bulk_update(objs, fields, *args, **kwargs)


class Turn(models.Model):
    """One speaker's uninterrupted statement.

    ``position`` orders turns for display and may change; ``anchor`` is the
    permanent number in citation links (``#t-<anchor>``) and never does.
    """

    interview = models.ForeignKey(
        Interview, on_delete=models.CASCADE, related_name="turns"
    )
    position = models.PositiveIntegerField()
    anchor = models.PositiveIntegerField(editable=False)
    speaker = models.ForeignKey(Speaker, on_delete=models.PROTECT, related_name="turns")
    label = models.CharField(
        max_length=200,
        blank=True,
        help_text="The speaker label as written in the source.",
    )
    body = models.TextField(help_text="Markdown.")
    body_html = models.TextField(editable=False)
    kind = models.CharField(
        max_length=10, choices=TurnKind.choices, default=TurnKind.REMARK
    )
    start = models.FloatField(
        null=True, blank=True, help_text="Start time in seconds, for recordings."
    )
    version = models.PositiveIntegerField(default=0, editable=False)
    # Anchors of turns joined into this one: the page keeps an empty target
    # for each, so that an old "#t-<anchor>" link still lands on the words.
    joined_anchors = models.JSONField(default=list, blank=True, editable=False)

    objects = TurnQuerySet.as_manager()

    class Meta:
        ordering = ["interview", "position", "anchor"]
        constraints = [
            models.UniqueConstraint(
                fields=["interview", "anchor"], name="turn_anchor_unique_in_interview"
            )
        ]
        indexes = [
            models.Index(fields=["interview", "position"]),
            models.Index(fields=["speaker", "interview"]),
            # The question an answer replies to, shown with each search hit:
            # the nearest one before it, found without walking every turn
            # between (a podcast may ask few questions).
            models.Index(
                fields=["interview", "position"],
                condition=Q(kind="question"),
                name="turn_questions",
            ),
        ]

    def __str__(self):
        # The admin's caption for each row of a transcript.
        who = self.speaker.name if self.speaker_id else "nobody yet"
        return f"Turn {self.position} · #{self.anchor} · {who}"

    def save(self, *args, **kwargs):
        _printable_text(self)
        self.body_html = markdown.render(self.body)
        self.version += 1
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "body_html", "version"}
        with transaction.atomic(savepoint=False):
            if self.anchor is None:
                (self.anchor,) = self.interview.allocate_anchors(1)
            super().save(*args, **kwargs)
            hooks.turn_saved(self)

    def get_absolute_url(self):
        return f"{self.interview.get_absolute_url()}#t-{self.anchor}"

    def get_quote_url(self):
        """The short link to this turn's quote page, which outlives slug
        changes, reordering and merges."""
        return reverse("archive-quote", args=[self.pk])

    def delete(self, *args, **kwargs):
        with transaction.atomic(savepoint=False):
            hooks.turns_changed([self.pk])
            RetiredTurn.record(Turn.objects.filter(pk=self.pk))
            return super().delete(*args, **kwargs)

    @transaction.atomic
    def merge_into(self, target: "Turn") -> None:
        """Append this turn's words to ``target`` (the same interview) and
        delete it; its links then lead to ``target``."""
        if target.pk == self.pk or target.interview_id != self.interview_id:
            raise ValueError("A turn merges only into another turn of its interview.")
        target.body = f"{target.body.rstrip()}\n\n{self.body.strip()}"
        target.joined_anchors = [
            *target.joined_anchors,
            self.anchor,
            *self.joined_anchors,
        ]
        target.save()
        FeaturedQuote.objects.filter(turn=self).update(turn=target)
        Turn.objects.filter(pk=self.pk).delete(successor=target)
        Interview.objects.filter(pk=self.interview_id).update(edited_at=timezone.now())
        self.interview.refresh_turn_count()

    @transaction.atomic
    def split(self, at: int) -> "Turn":
        """Split before paragraph ``at`` (1 or more): this turn keeps its
        anchor and the paragraphs before; a new turn, with a new anchor and
        the same speaker, takes the rest and follows it."""
        paragraphs = [p for p in self.body.split("\n\n") if p.strip()]
        if not 0 < at < len(paragraphs):
            raise ValueError("A turn splits between two of its paragraphs.")
        Turn.objects.filter(
            interview_id=self.interview_id, position__gt=self.position
        ).update(position=F("position") + 1)
        rest = Turn(
            interview_id=self.interview_id,
            position=self.position + 1,
            speaker_id=self.speaker_id,
            label=self.label,
            kind=self.kind,
            body="\n\n".join(paragraphs[at:]),
        )
        self.body = "\n\n".join(paragraphs[:at])
        self.save()
        rest.save()
        Interview.objects.filter(pk=self.interview_id).update(edited_at=timezone.now())
        self.interview.refresh_turn_count()
        return rest

    def question(self) -> "Turn | None":
        """The nearest question before this turn in its interview."""
        return (
            Turn.objects.filter(
                interview_id=self.interview_id,
                kind=TurnKind.QUESTION,
                position__lt=self.position,
            )
            .select_related("speaker")
            .order_by("-position", "-anchor")
            .first()
        )

    @property
    def plain_text(self) -> str:
        """The turn as one line of plain text (for quotes, cards, citations)."""
        return " ".join(html.unescape(strip_tags(self.body_html)).split())

    @property
    def start_display(self) -> str | None:
        if self.start is None:
            return None
        seconds = int(self.start)
        h, rest = divmod(seconds, 3600)
        m, s = divmod(rest, 60)
        return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Revision(models.Model):
    """One change to an interview's own fields or to one of its turns: who,
    when, through what, and each changed field's value before and after.

    Django's admin log says only that something changed; this keeps the
    words, so any change can be read and undone (``restore``).
    """

    INTERVIEW_FIELDS = (
        "title",
        "slug",
        "published",
        "series_id",
        "episode",
        "outlet",
        "medium",
        "date",
        "date_precision",
        "date_note",
        "source_url",
        "lede",
        "attribution",
        "rights",
    )
    TURN_FIELDS = ("position", "speaker_id", "label", "kind", "start", "body")

    interview = models.ForeignKey(
        Interview, on_delete=models.CASCADE, related_name="revisions"
    )
    # Not foreign keys: the history of a deleted turn stays readable.
    turn_id = models.BigIntegerField(null=True, blank=True)
    turn_anchor = models.PositiveIntegerField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    via = models.CharField(
        max_length=20,
        choices=[
            ("admin", "Admin"),
            ("import", "Re-import"),
            ("restore", "Restore"),
        ],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    changes = models.JSONField(help_text="{field: [before, after]}")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["interview", "-created_at"])]

    def __str__(self):
        what = f"turn #{self.turn_anchor}" if self.turn_id else "interview"
        return f"{what}: {', '.join(self.changes)}"

    @classmethod
    def fields_for(cls, obj) -> tuple[str, ...]:
        return cls.TURN_FIELDS if isinstance(obj, Turn) else cls.INTERVIEW_FIELDS

    @classmethod
    def snapshot(cls, obj) -> dict:
        """The tracked fields of ``obj`` as JSON-ready values."""
        return _jsonable({name: getattr(obj, name) for name in cls.fields_for(obj)})

    @classmethod
    def snapshots(cls, model, pks) -> dict:
        """Snapshots of ``model`` rows as stored now, by primary key (one
        query)."""
        fields = cls.TURN_FIELDS if model is Turn else cls.INTERVIEW_FIELDS
        rows = model.objects.filter(pk__in=list(pks)).values("pk", *fields)
        return {row.pop("pk"): _jsonable(row) for row in rows}

    @classmethod
    def record(cls, obj, before: dict | None, *, user=None, via="admin"):
        """A revision for ``obj`` if any tracked field differs from
        ``before`` (None: it is new). Returns it, or None."""
        after = cls.snapshot(obj)
        before = before or {}
        changes = {
            name: [before.get(name), value]
            for name, value in after.items()
            if before.get(name) != value
        }
        if not changes:
            return None
        is_turn = isinstance(obj, Turn)
        return cls.objects.create(
            interview_id=obj.interview_id if is_turn else obj.pk,
            turn_id=obj.pk if is_turn else None,
            turn_anchor=obj.anchor if is_turn else None,
            user=user if user is not None and user.is_authenticated else None,
            via=via,
            changes=changes,
        )

    def target(self):
        """The turn or interview this changed, if it still exists."""
        if self.turn_id:
            return Turn.objects.filter(pk=self.turn_id).first()
        return Interview.objects.filter(pk=self.interview_id).first()

    @transaction.atomic
    def restore(self, user=None) -> "Revision | None":
        """Put back what the changed fields held before this change; the
        restoring is itself a revision. None if the object is gone."""
        obj = self.target()
        if obj is None:
            return None
        before = self.snapshot(obj)
        for name, (old, _new) in self.changes.items():
            field = obj._meta.get_field(name.removesuffix("_id"))
            setattr(obj, name, field.to_python(old) if old is not None else None)
        obj.save()
        if isinstance(obj, Interview):
            Interview.objects.filter(pk=obj.pk).update(edited_at=timezone.now())
        else:
            Interview.objects.filter(pk=obj.interview_id).update(
                edited_at=timezone.now()
            )
        return Revision.record(obj, before, user=user, via="restore")


def _jsonable(values: dict) -> dict:
    return {
        name: value.isoformat() if hasattr(value, "isoformat") else value
        for name, value in values.items()
    }


class RetiredTurn(models.Model):
    """A turn that no longer exists, remembered so that its short link
    (``/q/<id>``) answers 410 Gone, or redirects to the turn it was merged
    into, instead of a bare 404.

    Turn ids are never reused (AUTOINCREMENT on SQLite, sequences on
    PostgreSQL), so the id alone is enough. A turn that was only ever in a
    draft is remembered as such and answers 404, like any draft.
    """

    turn_id = models.BigIntegerField(primary_key=True)
    interview_id = models.BigIntegerField()
    anchor = models.PositiveIntegerField()
    # Not a foreign key: the successor may itself be retired later.
    successor_id = models.BigIntegerField(null=True, blank=True)
    was_public = models.BooleanField()
    retired_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"retired turn {self.turn_id}"

    @classmethod
    def record(cls, turns, successor: "Turn | None" = None) -> None:
        rows = [
            cls(
                turn_id=pk,
                interview_id=interview_id,
                anchor=anchor,
                successor_id=successor.pk if successor else None,
                was_public=published,
            )
            for pk, interview_id, anchor, published in turns.values_list(
                "pk", "interview_id", "anchor", "interview__published"
            ).iterator(chunk_size=2000)
        ]
        cls.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)

    @classmethod
    def successor_of(cls, turn_id: int) -> "tuple[int | None, bool]":
        """(the live turn that ``turn_id`` was merged into, or None;
        whether ``turn_id`` was ever a public turn)."""
        seen = set()
        retired = cls.objects.filter(turn_id=turn_id).first()
        if retired is None or not retired.was_public:
            return None, False
        while retired is not None and retired.successor_id not in seen:
            if retired.successor_id is None:
                return None, True
            seen.add(retired.successor_id)
            if Turn.objects.filter(pk=retired.successor_id).exists():
                return retired.successor_id, True
            retired = cls.objects.filter(turn_id=retired.successor_id).first()
        return None, True


class FeaturedQuoteQuerySet(models.QuerySet):
    def public(self):
        """Featured quotes of published interviews, newest first, with what
        a card shows."""
        return (
            self.filter(turn__interview__published=True)
            .select_related("turn__interview__series", "turn__speaker")
            .order_by("-created_at", "-pk")
        )


class FeaturedQuote(models.Model):
    """A turn, or a passage inside one, that staff pull out for readers."""

    turn = models.ForeignKey(Turn, on_delete=models.CASCADE, related_name="featured")
    passage = models.TextField(
        blank=True,
        help_text="Words from the turn to feature, exactly as they appear in it; "
        "leave empty to feature the whole turn.",
    )
    note = models.CharField(
        max_length=300, blank=True, help_text="Why it matters, in a sentence."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FeaturedQuoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return Truncator(self.text).words(12)

    def get_absolute_url(self):
        """The turn in its transcript; a passage is a text fragment on it."""
        url = self.turn.get_absolute_url()
        if self.passage:
            url += ":~:text=" + text_fragment(self.passage)
        return url

    def clean(self):
        has_passage = self.passage and self.turn_id
        if has_passage and _words(self.passage) not in _words(self.turn.plain_text):
            raise ValidationError(
                {"passage": "These words are not in the turn, as written there."}
            )

    @property
    def text(self) -> str:
        """What the card quotes: the passage, or the whole turn."""
        return " ".join(self.passage.split()) or self.turn.plain_text


def _words(text: str) -> str:
    return " ".join(text.casefold().split())


def text_fragment(passage: str) -> str:
    """The ``start,end`` of a text fragment for ``passage`` (or the whole
    passage when it is short), percent-encoded as the standard asks."""
    words = passage.split()
    if len(words) > 10:
        parts = [" ".join(words[:4]), " ".join(words[-4:])]
    else:
        parts = [" ".join(words)]
    # ",", "-" and "&" have meanings inside a fragment directive.
    return ",".join(quote(part, safe="") for part in parts).replace("-", "%2D")


class SpeakerTurns:
    """A speaker's published turns in reading order, paged in three queries.

    Ordering 100,000 turns by their interview's date makes the database sort
    them all for every page. Instead: how many turns the speaker has in each
    interview (an index scan), which interviews a slice covers, the turn
    numbers there, and only then the turns of the page.
    """

    _ORDER = ("-interview__date", "interview_id")

    def __init__(self, speaker: Speaker):
        self.turns = Turn.objects.published().filter(speaker=speaker)
        self._counts: list[tuple[int, int]] | None = None

    def counts(self) -> list[tuple[int, int]]:
        """(interview pk, turns there) in reading order."""
        if self._counts is None:
            self._counts = list(
                self.turns.values("interview_id", "interview__date")
                .annotate(n=models.Count("pk"))
                .order_by(*self._ORDER)
                .values_list("interview_id", "n")
            )
        return self._counts

    def count(self) -> int:
        return sum(n for _, n in self.counts())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list:
        start = window.start or 0
        stop = self.count() if window.stop is None else window.stop
        covered, offset, skipped = [], 0, 0
        for interview_id, n in self.counts():
            if offset + n <= start:
                skipped += n  # wholly before the slice
            elif offset < stop:
                covered.append(interview_id)
            offset += n
        rank = {pk: i for i, pk in enumerate(covered)}
        numbers = sorted(
            self.turns.filter(interview_id__in=covered).values_list(
                "interview_id", "position", "pk"
            ),
            key=lambda row: (rank[row[0]], row[1], row[2]),
        )
        wanted = [pk for _, _, pk in numbers[start - skipped : stop - skipped]]
        turns = self.turns.filter(pk__in=wanted).select_related("interview").in_bulk()
        return [turns[pk] for pk in wanted]


class RequestCount(models.Model):
    """How many limited requests one client made in one window of time.

    Counted by ``archive.throttle`` with one atomic upsert per request, so
    every worker and every app server sharing the database counts together.
    """

    client = models.CharField(max_length=64)
    scope = models.CharField(max_length=16)
    window_start = models.BigIntegerField(help_text="In Unix seconds.")
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "scope", "window_start"], name="request_count_once"
            )
        ]
        indexes = [models.Index(fields=["window_start"])]

    def __str__(self) -> str:
        return f"{self.client} {self.scope}@{self.window_start}: {self.hits}"


class SearchEntry(models.Model):
    """A turn, or an interview's title and lede (``turn`` empty), as the
    PostgreSQL search engine finds it: the terms of our own analyzer with
    their positions (``archive.search.vectors``), and the columns a search
    filters, counts and sorts by.

    Written in the same transaction as the change it follows, so a commit is
    searchable at once from every app server. Entries exist for drafts too:
    a search leaves out unpublished interviews, and publishing costs nothing.
    Only the PostgreSQL engine reads these; with Whoosh they stay empty.
    """

    turn = models.OneToOneField(
        Turn, null=True, on_delete=models.CASCADE, related_name="+"
    )
    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="+")
    speaker_id = models.BigIntegerField(null=True)
    kind = models.CharField(max_length=10)
    position = models.PositiveIntegerField(default=0)
    vector = SearchVectorField()
    # Each word position's characters in the text, for marking hits without
    # analysing it again (``vectors.offsets``); empty when they cannot be
    # packed, and then marking analyses the text.
    offsets = models.BinaryField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["interview"],
                condition=Q(turn__isnull=True),
                name="search_entry_one_lede",
            )
        ]

    def __str__(self) -> str:
        return f"search entry of turn {self.turn_id or '-'} in {self.interview_id}"


class SearchTerm(models.Model):
    """A word the PostgreSQL engine has seen, as written (``field`` "w", for
    spelling suggestions and wildcards) or as an index term ("t"). Added
    with each write, never removed but by ``rebuild_index``: a stale word
    costs a wildcard one of its places, never a wrong result."""

    field = models.CharField(max_length=1)
    term = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["field", "term"], name="search_term_once")
        ]

    def __str__(self) -> str:
        return f"{self.field}:{self.term}"


class SearchName(models.Model):
    """A word of a speaker's name, alias or slug, for ``speaker:`` filters
    and for speakers named in a query (PostgreSQL engine)."""

    speaker = models.ForeignKey(Speaker, on_delete=models.CASCADE, related_name="+")
    word = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["speaker", "word"], name="search_name_once")
        ]
        indexes = [models.Index(fields=["word"])]

    def __str__(self) -> str:
        return f"{self.word} ({self.speaker_id})"


class PageGeneration(models.Model):
    """The generation of cached pages that every app server shares (one
    row; ``archive.pages``)."""

    value = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.value


# The search package's hooks are called by the methods above; it imports these
# models, so it is imported once they exist.
from archive.search import hooks  # noqa: E402
