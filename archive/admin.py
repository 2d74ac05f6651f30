"""The curators' admin: edit interviews turn by turn, merge speakers.

Long transcripts (1,100 turns and more) open and save in a fixed number of
queries: the turn inline looks speakers up in one prefetched dictionary
instead of one query per row, for display and for validation, and each
row's id is checked against the turns already loaded.
"""

import hashlib
import json
from collections import Counter

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count
from django.forms.models import BaseInlineFormSet, InlineForeignKeyField
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from archive import markdown, parsing
from archive.forms import (
    ImportForm,
    ImportOptionsForm,
    ImportSourceForm,
    SpeakerMappingForm,
    pack_source,
)
from archive.importer import (
    ImportRefused,
    Overrides,
    find_existing,
    import_fingerprint,
    match_speakers,
    read_source,
    save_parsed,
    validation_message,
)
from archive.models import (
    FeaturedQuote,
    Interview,
    InterviewSlug,
    Participant,
    Revision,
    Series,
    Speaker,
    Topic,
    Turn,
    TurnKind,
)


class KnownSpeakersSelect(AutocompleteSelect):
    """An autocomplete that renders its selected speaker from a dictionary.

    Django's widget runs a query per rendered row to find the selected
    option's label; a transcript has hundreds of rows.
    """

    known: dict[str, Speaker] | None = None

    def optgroups(self, name, value, attr=None):
        if self.known is None:
            return super().optgroups(name, value, attr)
        options = []
        if not self.is_required:
            options.append(self.create_option(name, "", "", False, 0))
        for v in value:
            speaker = self.known.get(str(v))
            if speaker is not None:
                options.append(
                    self.create_option(name, str(speaker.pk), str(speaker), True, 0)
                )
        return [(None, options, 0)]


class KnownChoiceField(forms.ModelChoiceField):
    """A model choice checked against prefetched objects when it can be.

    Used for each turn row's speaker and for its hidden id: Django checks
    both with a query per row.
    """

    known: dict[str, object] | None = None

    def to_python(self, value):
        if self.known is not None and str(value) in self.known:
            return self.known[str(value)]
        return super().to_python(value)


class VersionCheck(forms.ModelForm):
    """An edit form that remembers which version of its object it started
    from, so that a save over someone else's newer save is refused (with
    both versions shown) instead of silently undoing it.

    The check runs inside the admin's transaction, with the row locked on
    PostgreSQL (SQLite's IMMEDIATE transactions serialize the whole save).
    """

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # What the form showed, as a digest: a row the curator did not touch is
    # not saved, even when someone else changed it meanwhile (the posted
    # values are then stale, and saving them would undo the other's edit).
    seen_digest = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_version"].initial = self.instance.version
            if not self.is_bound:
                self.fields["seen_digest"].initial = self._digest(
                    {name: self[name].value() for name in self._edited_fields()}
                )

    def _edited_fields(self) -> list[str]:
        # The model's fields the form edits, as declared: a formset adds its
        # own (the row's id, DELETE) after the form is made.
        names = self._meta.fields or list(self.fields)
        return [
            n
            for n in names
            if n in self.fields
            and not n.startswith("seen_")
            and not isinstance(self.fields[n], InlineForeignKeyField)
        ]

    @staticmethod
    def _digest(values: dict) -> str:
        def plain(value):
            if isinstance(value, list | tuple):
                return sorted(plain(v) for v in value)
            # An unticked box is None when shown and False when posted.
            text = "" if value is None or value is False else str(value)
            return text.replace("\r\n", "\n").strip()

        encoded = json.dumps({k: plain(v) for k, v in sorted(values.items())})
        return hashlib.sha256(encoded.encode()).hexdigest()

    def untouched(self) -> bool:
        """Whether the curator posted back exactly what the form showed."""
        if not (self.is_bound and self.instance.pk):
            return False
        seen = self.data.get(self.add_prefix("seen_digest"))
        if not seen:
            return False
        posted = {}
        for name in self._edited_fields():
            field = self.fields[name]
            posted[name] = field.widget.value_from_datadict(
                self.data, self.files, self.add_prefix(name)
            )
        return self._digest(posted) == seen

    def has_changed(self) -> bool:
        return not self.untouched() and super().has_changed()

    def clean(self):
        data = super().clean()
        if (
            self.instance.pk
            and self.has_changed()
            and not getattr(self, "version_checked_by_formset", False)
        ):
            current = (
                type(self.instance)
                .objects.select_for_update()
                .filter(pk=self.instance.pk)
                .first()
            )
            self.check_version(current)
        return data

    def check_version(self, current) -> None:
        """Refuse the save if ``current`` (the stored object) is newer than
        the version this form started from."""
        seen = self.cleaned_data.get("seen_version")
        if current is None or seen is None or current.version == seen:
            return
        theirs = Revision.snapshot(current)
        differ = [
            name
            for name in Revision.fields_for(current)
            if name.removesuffix("_id") in self.cleaned_data
            and _plain(self.cleaned_data[name.removesuffix("_id")]) != theirs[name]
        ]
        last = (
            Revision.objects.filter(
                **(
                    {"turn_id": current.pk}
                    if isinstance(current, Turn)
                    else {"interview_id": current.pk, "turn_id": None}
                )
            )
            .select_related("user")
            .first()
        )
        who = ""
        if last:
            when = timezone.localtime(last.created_at)
            who = f" ({last.user or 'an import'}, at {when:%H:%M})"
        shown = "; ".join(
            f"{name.removesuffix('_id')}: “{_short(theirs[name])}”" for name in differ
        )
        self.add_error(
            None,
            f"Someone else saved this {current._meta.verbose_name} while you were "
            f"editing it{who}, and your save would undo theirs, so it was not saved. "
            f"Their version, as it is now: {shown or 'the same fields, saved again'}. "
            "Your version is still in the form below: reload the page to start "
            "from theirs, then make your change again.",
        )


def _plain(value):
    """A form value as a revision snapshot holds it."""
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _short(value, limit: int = 400) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


class TurnInlineForm(VersionCheck):
    class Meta:
        model = Turn
        fields = ["position", "speaker", "label", "kind", "start", "body"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 3, "cols": 70}),
            "label": forms.TextInput(attrs={"size": 12}),
            # Widths in static/archive/admin.css: no style attributes,
            # which the Content-Security-Policy refuses.
            "start": forms.NumberInput(attrs={"step": "any"}),
        }

    def _get_validation_exclusions(self):
        # Both foreign keys are already checked: the speaker by its form field
        # (against the prefetched speakers), the interview by the inline.
        # Checking them again in the model costs two queries per turn.
        return {*super()._get_validation_exclusions(), "speaker", "interview"}


class TurnInlineFormSet(BaseInlineFormSet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        turns = self.get_queryset()
        self.known_turns = {str(t.pk): t for t in turns}
        self.known_speakers = {str(t.speaker_id): t.speaker for t in turns}
        if self.instance.pk:
            for p in self.instance.participants.select_related("speaker"):
                self.known_speakers.setdefault(str(p.speaker_id), p.speaker)

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        field = form.fields["speaker"]
        # The admin wraps the widget in a RelatedFieldWidgetWrapper (the
        # add/change links); the select that renders the options is inside.
        widget = getattr(field.widget, "widget", field.widget)
        field.known = widget.known = self.known_speakers
        pk_name = self.model._meta.pk.name
        pk = form.fields[pk_name]
        form.fields[pk_name] = KnownChoiceField(
            pk.queryset, initial=pk.initial, required=False, widget=pk.widget
        )
        form.fields[pk_name].known = self.known_turns
        form.version_checked_by_formset = True
        return form

    def clean(self):
        super().clean()
        # One query for every changed turn, not one per turn.
        changed = [
            form
            for form in self.forms
            if form.instance.pk
            and form.has_changed()
            and not self._should_delete_form(form)
            and hasattr(form, "cleaned_data")
        ]
        if changed:
            current = Turn.objects.select_for_update().in_bulk(
                [form.instance.pk for form in changed]
            )
            for form in changed:
                form.check_version(current.get(form.instance.pk))


def rows_start(request) -> int:
    """The first transcript row the interview's change page edits
    (``?rows=201``), 1 by default."""
    value = request.GET.get("rows", "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


class TurnInline(admin.TabularInline):
    model = Turn
    form = TurnInlineForm
    formset = TurnInlineFormSet
    extra = 1
    # Django's default of 1,000 rows would leave a longer transcript without
    # its blank row or an "Add another Turn" link. About 4,000 rows of ten
    # fields is what DATA_UPLOAD_MAX_NUMBER_FIELDS (40,000) accepts.
    max_num = 4_000
    readonly_fields = ["on_page"]
    fields = [
        "position",
        "on_page",
        "speaker",
        "label",
        "kind",
        "start",
        "body",
        "seen_version",
        "seen_digest",
    ]
    ordering = ["position", "anchor"]
    view_on_site = False
    show_change_link = False

    class Media:
        css = {"all": ["archive/admin.css"]}

    @admin.display(description="#")
    def on_page(self, obj):
        """The turn's number, linking to its place on the public page."""
        if not obj.pk:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">#{}</a>',
            obj.get_absolute_url(),
            obj.anchor,
        )

    # A long transcript is edited this many rows at a time: Django renders
    # every field of every row as a template, about 8 ms a row, so 1,100
    # turns at once took 9 s to open; 150 take about 1.5 s.
    ROWS = 150

    def get_queryset(self, request):
        turns = super().get_queryset(request).select_related("speaker", "interview")
        object_id = request.resolver_match.kwargs.get("object_id")
        if object_id is None:
            return turns
        first = rows_start(request)
        window = (
            Turn.objects.filter(interview_id=object_id)
            .order_by("position", "anchor")
            .values_list("pk", flat=True)[first - 1 : first - 1 + self.ROWS]
        )
        return turns.filter(pk__in=list(window))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "speaker":
            return KnownChoiceField(
                queryset=Speaker.objects.all(),
                widget=KnownSpeakersSelect(db_field, self.admin_site),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    autocomplete_fields = ["speaker"]
    fields = ["position", "speaker", "role"]


class InterviewSlugInline(admin.TabularInline):
    model = InterviewSlug
    extra = 0
    verbose_name = "former slug (redirects here)"
    verbose_name_plural = "former slugs (redirect here)"


class InterviewForm(VersionCheck):
    class Meta:
        model = Interview
        # The admin's fieldsets decide what is shown; these are the defaults.
        fields = ["title", "slug", "published", "lede"]


@admin.register(Interview)
class InterviewAdmin(admin.ModelAdmin):
    form = InterviewForm
    # Curators paste addresses without a scheme; https is the right guess.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = [
        "title",
        "series",
        "date_display",
        "turn_count",
        "published",
        "view",
    ]
    list_filter = ["published", "medium", "series", "topics"]
    list_select_related = ["series"]
    search_fields = ["title", "slug", "source_name"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["topics"]
    date_hierarchy = "date"
    actions = ["publish", "unpublish"]
    inlines = [ParticipantInline, TurnInline, InterviewSlugInline]
    readonly_fields = [
        "history",
        "turn_count",
        "source_name",
        "source_sha256",
        "created_at",
        "updated_at",
        "imported_at",
        "edited_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "published",
                    "history",
                    "seen_version",
                    "seen_digest",
                ]
            },
        ),
        (
            "Where and when",
            {
                "fields": [
                    ("series", "episode"),
                    "outlet",
                    "medium",
                    ("date", "date_precision"),
                    "date_note",
                    "source_url",
                ]
            },
        ),
        ("Introduction", {"fields": ["lede", "topics"]}),
        ("Credits", {"fields": ["attribution", "rights"]}),
        (
            "Provenance",
            {
                "classes": ["collapse"],
                "fields": [
                    "source_name",
                    "source_sha256",
                    "turn_count",
                    ("created_at", "updated_at"),
                    ("imported_at", "edited_at"),
                ],
            },
        ),
    ]

    @admin.display(description="date", ordering="date")
    def date_display(self, obj):
        return obj.date_display

    @admin.display(description="source SHA-256")
    def source_sha256(self, obj):
        source = getattr(obj, "source", None)
        return source.sha256 if source else "—"

    @admin.display(description="page")
    def view(self, obj):
        return format_html('<a href="{}">view</a>', obj.get_absolute_url())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "transcript_rows": self._row_windows(request, object_id),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    def _row_windows(request, object_id) -> str:
        """Links to each window of a long transcript's rows, or ""."""
        total = Turn.objects.filter(interview_id=object_id).count()
        size, current = TurnInline.ROWS, rows_start(request)
        if total <= size:
            return ""
        links = [
            format_html("<strong>{}–{}</strong>", first, min(first + size - 1, total))
            if first == current
            else format_html(
                '<a href="?rows={}">{}–{}</a>',
                first,
                first,
                min(first + size - 1, total),
            )
            for first in range(1, total + 1, size)
        ]
        return format_html(
            "{} of {} turns; each window saves on its own.",
            format_html_join(" · ", "{}", ((link,) for link in links)),
            total,
        )

    @admin.display(description="history")
    def history(self, obj):
        if not obj.pk:
            return "—"
        count = obj.revisions.count()
        return format_html(
            '<a href="{}?interview__id__exact={}">{} change{} recorded</a>',
            reverse("admin:archive_revision_changelist"),
            obj.pk,
            count,
            "" if count == 1 else "s",
        )

    def save_model(self, request, obj, form, change):
        # Marks the interview as edited so that a re-import does not
        # silently overwrite the curator's corrections.
        obj.edited_at = timezone.now()
        if change and not form.has_changed():
            # Only its turns changed: the interview's own version stays, so
            # a colleague editing its title meanwhile is not refused.
            Interview.objects.filter(pk=obj.pk).update(edited_at=obj.edited_at)
            return
        before = Revision.snapshots(Interview, [obj.pk]).get(obj.pk) if change else None
        super().save_model(request, obj, form, change)
        Revision.record(obj, before, user=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Turn:
            return super().save_formset(request, form, formset, change)
        editing = [
            f.instance.pk for f in formset.forms if f.instance.pk and f.has_changed()
        ]
        before = Revision.snapshots(Turn, editing)
        saved = formset.save()
        for turn in saved:
            Revision.record(turn, before.get(turn.pk), user=request.user)
        for turn in formset.deleted_objects:
            Revision.objects.create(
                interview_id=turn.interview_id,
                turn_id=turn.pk,
                turn_anchor=turn.anchor,
                user=request.user,
                via="admin",
                changes={
                    name: [value, None]
                    for name, value in before.get(turn.pk, {}).items()
                },
            )
        return saved

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.instance.refresh_turn_count()

    @admin.action(description="Publish the selected interviews")
    def publish(self, request, queryset):
        n = queryset.update(published=True, updated_at=timezone.now())
        self.message_user(request, f"Published {n} interview(s).", messages.SUCCESS)

    @admin.action(description="Unpublish the selected interviews (make drafts)")
    def unpublish(self, request, queryset):
        n = queryset.update(published=False, updated_at=timezone.now())
        self.message_user(request, f"Unpublished {n} interview(s).", messages.SUCCESS)

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [
            path("import/", view, name="archive_interview_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Import a transcript: paste or upload it, check the preview, save.

        The preview carries the transcript's bytes in a signed hidden field;
        saving parses them again with the same options, so what is saved is
        what was shown, and nothing is written before the curator saves.
        """
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return self._import_page(request, form=ImportForm())
        if "_preview" in request.POST:
            form = ImportForm(request.POST, request.FILES)
            if not form.is_valid():
                return self._import_page(request, form=form)
            data = form.cleaned_data
            return self._import_preview(
                request, data["source"], data["filename"], form.options(), form=form
            )

        carried = ImportSourceForm(request.POST)
        if not carried.is_valid():
            return self._import_page(
                request, form=ImportForm(), errors=carried.errors.get("source", [])
            )
        source, filename, options = carried.cleaned_data["source"]
        force = carried.cleaned_data["force"]
        options_form = ImportOptionsForm(request.POST)
        if not options_form.is_valid():
            return self._import_page(
                request,
                source=carried.data["source"],
                filename=filename,
                options_form=options_form,
            )
        if options_form.options() != options:
            # Never save what was not previewed.
            return self._import_preview(
                request,
                source,
                filename,
                options_form.options(),
                force=force,
                errors=["The reading options changed: check this preview again."]
                if "_reparse" not in request.POST
                else [],
            )
        if "_draft" in request.POST or "_publish" in request.POST:
            return self._import_save(
                request,
                source,
                filename,
                options,
                force,
                draft="_draft" in request.POST,
            )
        return self._import_preview(request, source, filename, options, force=force)

    def _import_page(self, request, **context):
        return TemplateResponse(
            request,
            "admin/archive/interview/import.html",
            {
                **self.admin_site.each_context(request),
                "title": "Import transcript",
                "opts": self.model._meta,
                **context,
            },
        )

    def _import_preview(
        self,
        request,
        source: bytes,
        filename: str,
        options: dict,
        *,
        form=None,
        mapping_data=None,
        force=False,
        errors=(),
    ):
        """The page that shows what saving would do, having written nothing."""
        errors = list(errors)
        packed = pack_source(source, filename, options)
        context = {
            "source": packed,
            "filename": filename,
            "size": len(source),
            "options_form": ImportOptionsForm(initial=options),
            "errors": errors,
        }
        try:
            parsed = read_transcript(source, filename, options)
        except parsing.ParseError as exc:
            message = f"The transcript cannot be read: {exc}."
            if form is not None:
                form.add_error(None, message)
                return self._import_page(request, form=form)
            _add_error(errors, message)
            return self._import_page(request, **context)

        people = match_speakers(parsed)
        mapping = SpeakerMappingForm(mapping_data, people=people)
        chosen = mapping.speakers() if mapping.is_bound and mapping.is_valid() else {}
        try:
            existing = find_existing(
                source_name=filename,
                parsed=parsed,
                source_text=parsed.source_text,
                update=options.get("update") or "",
            )
        except ImportRefused:
            existing = None
        outcome = None
        try:
            outcome = _save(
                parsed,
                source,
                filename,
                options,
                force=force,
                dry_run=True,
                speakers=chosen,
            )
        except ValidationError as exc:
            _add_error(
                errors, "The transcript cannot be saved: " + validation_message(exc)
            )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        # The preview's form sends the transcript back; a request over the
        # limit would be refused before it reached this view.
        if limit is not None and len(packed) > limit - 200_000:
            _add_error(
                errors,
                f"This transcript is too large to save from this page "
                f"({len(packed) / 2**20:.1f} MB once packed; a form may send "
                f"{limit / 2**20:.1f} MB). Import it with "
                f"“manage.py import_transcript” instead.",
            )
            outcome = None

        counts = Counter(turn.speaker for turn in parsed.turns)
        participants = [
            {
                "person": person,
                "turns": counts[person.name],
                "matches": matches,
                "choice": mapping[f"speaker-{i}"],
                "other": mapping[f"other-{i}"],
            }
            for i, (person, (_name, matches)) in enumerate(
                zip(parsed.participants, people, strict=True)
            )
        ]
        shown = parsed.turns[:PREVIEW_TURNS]
        context["preview"] = {
            "parsed": parsed,
            "outcome": outcome,
            "slug": (outcome.document or {}).get("slug", "") if outcome else "",
            "existing": existing,
            "edited": existing is not None and existing.was_edited_since_import(),
            "participants": participants,
            # Rendered and sanitised, and the start time written, as the
            # interview's page will show them.
            "turns": [
                (
                    turn,
                    mark_safe(markdown.render(turn.body)),
                    Turn(start=turn.start).start_display,
                )
                for turn in shown
            ],
            "hidden_turns": len(parsed.turns) - len(shown),
        }
        context["can_save"] = outcome is not None
        context["force"] = force
        context["mapping"] = mapping
        return self._import_page(request, **context)

    def _import_save(self, request, source, filename, options, force, *, draft):
        try:
            parsed = read_transcript(source, filename, options)
        except parsing.ParseError:
            return self._import_preview(request, source, filename, options, force=force)
        people = match_speakers(parsed)
        mapping = SpeakerMappingForm(request.POST, people=people)
        if not mapping.is_valid():
            return self._import_preview(
                request,
                source,
                filename,
                options,
                mapping_data=request.POST,
                force=force,
                errors=["Check the speakers below."],
            )
        chosen = mapping.speakers()
        known = {s.pk for _name, matches in people for s in matches}
        known |= {s.pk for s in chosen.values() if s.pk}
        try:
            outcome = _save(
                parsed,
                source,
                filename,
                options,
                # The button says what the interview becomes, also when an
                # existing one would otherwise keep its state.
                published=not draft,
                force=force,
                speakers=chosen,
            )
            interview = outcome.interview
        except ValidationError as exc:
            error = "Nothing was saved: " + validation_message(exc)
        else:
            if outcome.status == "kept":
                error = (
                    f"Nothing was saved: “{interview.title}” was edited in the "
                    "admin since its last import. Tick “Overwrite…” to replace "
                    "those edits with this transcript."
                )
            elif outcome.failed:
                error = f"Nothing was saved: {outcome.message}"
            else:
                error = None
        if error:
            return self._import_preview(
                request,
                source,
                filename,
                options,
                mapping_data=request.POST,
                force=force,
                errors=[error],
            )

        state = "a draft" if draft else "published"
        if outcome.status == "unchanged":
            text = (
                f"“{interview.title}” was already imported from this transcript; "
                f"its text is unchanged, and it is {state}."
            )
        else:
            used = set(interview.participants.values_list("speaker_id", flat=True))
            created = len(used - known)
            verb = "Imported" if outcome.status == "created" else "Updated"
            text = (
                f"{verb} “{interview.title}”: {interview.turn_count} turns, "
                f"created {created} speaker(s), matched {len(used) - created} "
                f"existing; {state}."
            )
        self.message_user(request, text, messages.SUCCESS)
        return redirect("admin:archive_interview_change", interview.pk)


# The preview shows this many turns; a long transcript's rest is counted.
PREVIEW_TURNS = 300


def read_transcript(
    source: bytes, filename: str, options: dict[str, str]
) -> parsing.ParsedInterview:
    """A transcript given to the import page, read as the command line reads
    it (``importer.read_source``), with the page's options.

    Raises ParseError, also for a transcript in which no one speaks.
    """
    parsed, _meta = read_source(
        source, filename, overrides=Overrides.from_options(options)
    )
    return parsed


def _save(parsed, source: bytes, filename: str, options: dict, **kwargs):
    """``save_parsed`` for the import page: a preview (``dry_run``) and the
    save run the same call, with the fingerprint the command line computes
    for the same file and options."""
    return save_parsed(
        parsed,
        source_name=filename,
        source_text=parsed.source_text,
        import_hash=import_fingerprint(
            source, b"", Overrides.from_options(options).as_meta()
        ),
        update=options.get("update") or "",
        replace=bool(options.get("replace")),
        **kwargs,
    )


def _add_error(errors: list[str], message: str) -> None:
    if message not in errors:
        errors.append(message)


class MergeSpeakersForm(forms.Form):
    target = forms.ModelChoiceField(
        queryset=Speaker.objects.none(), label="Merge into", empty_label=None
    )

    def __init__(self, *args, exclude=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = Speaker.objects.exclude(pk__in=exclude)


@admin.register(Speaker)
class SpeakerAdmin(admin.ModelAdmin):
    list_display = ["name", "affiliation", "slug", "turns", "placeholder"]
    list_filter = ["placeholder"]
    search_fields = ["name", "aliases", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "aliases", "affiliation", "placeholder", "bio"]
    actions = ["merge"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(turn_total=Count("turns"))

    @admin.display(description="turns", ordering="turn_total")
    def turns(self, obj):
        return obj.turn_total

    @admin.action(description="Merge the selected speakers into another…")
    def merge(self, request, queryset):
        selected = list(queryset)
        form = MergeSpeakersForm(
            request.POST if "target" in request.POST else None,
            exclude=[s.pk for s in selected],
        )
        if form.is_valid():
            target = form.cleaned_data["target"]
            for speaker in selected:
                speaker.merge_into(target)
            self.message_user(
                request,
                f"Merged {len(selected)} speaker(s) into {target}.",
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/archive/speaker/merge.html",
            {
                **self.admin_site.each_context(request),
                "title": "Merge speakers",
                "opts": self.model._meta,
                "speakers": selected,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


class TurnForm(VersionCheck):
    class Meta:
        model = Turn
        fields = ["interview", "position", "speaker", "label", "kind", "start", "body"]


@admin.register(Turn)
class TurnAdmin(admin.ModelAdmin):
    form = TurnForm
    list_display = ["excerpt", "interview", "anchor", "position", "speaker", "kind"]
    list_filter = ["kind"]
    list_select_related = ["interview", "speaker"]
    search_fields = ["body", "interview__title", "speaker__name"]
    autocomplete_fields = ["speaker", "interview"]
    readonly_fields = ["anchor"]
    fields = [
        "interview",
        "position",
        "anchor",
        "speaker",
        "label",
        "kind",
        "start",
        "body",
        "seen_version",
        "seen_digest",
    ]
    actions = [
        "mark_question",
        "mark_answer",
        "mark_remark",
        "feature",
        "merge_into_first",
        "split",
    ]

    @admin.display(description="turn")
    def excerpt(self, obj):
        return obj.body[:80]

    def save_model(self, request, obj, form, change):
        before = Revision.snapshots(Turn, [obj.pk]).get(obj.pk) if change else None
        super().save_model(request, obj, form, change)
        Revision.record(obj, before, user=request.user)
        Interview.objects.filter(pk=obj.interview_id).update(edited_at=timezone.now())
        obj.interview.refresh_turn_count()

    def delete_model(self, request, obj):
        interview = obj.interview
        super().delete_model(request, obj)
        interview.refresh_turn_count()

    def _set_kind(self, request, queryset, kind):
        interviews = set(queryset.values_list("interview_id", flat=True))
        n = queryset.update(kind=kind)
        Interview.objects.filter(pk__in=interviews).update(edited_at=timezone.now())
        self.message_user(request, f"{n} turn(s) marked as {kind}.", messages.SUCCESS)

    @admin.action(description="Mark as questions")
    def mark_question(self, request, queryset):
        self._set_kind(request, queryset, TurnKind.QUESTION)

    @admin.action(description="Mark as answers")
    def mark_answer(self, request, queryset):
        self._set_kind(request, queryset, TurnKind.ANSWER)

    @admin.action(description="Mark as remarks")
    def mark_remark(self, request, queryset):
        self._set_kind(request, queryset, TurnKind.REMARK)

    @admin.action(description="Feature as quotes (whole turns)")
    def feature(self, request, queryset):
        already = set(
            FeaturedQuote.objects.filter(turn__in=queryset, passage="").values_list(
                "turn_id", flat=True
            )
        )
        added = [
            FeaturedQuote.objects.create(turn=turn)
            for turn in queryset
            if turn.pk not in already
        ]
        self.message_user(
            request,
            f"{len(added)} turn(s) featured; edit them under Featured quotes to "
            "narrow one to a passage or add a note.",
            messages.SUCCESS,
        )

    @admin.action(description="Split in two at a paragraph")
    def split(self, request, queryset):
        return _split_turn(self, request, queryset)

    @admin.action(description="Merge into the first selected turn")
    def merge_into_first(self, request, queryset):
        turns = list(queryset.order_by("interview_id", "position", "anchor"))
        if len({t.interview_id for t in turns}) != 1 or len(turns) < 2:
            self.message_user(
                request,
                "Select two or more turns of one interview to merge.",
                messages.ERROR,
            )
            return
        first, *rest = turns
        with transaction.atomic():
            before = Revision.snapshot(first)
            for turn in rest:
                turn.merge_into(first)
            Revision.record(first, before, user=request.user)
        self.message_user(
            request,
            f"{len(rest)} turn(s) merged into turn {first.anchor}; their links "
            "now lead there.",
            messages.SUCCESS,
        )


def _split_turn(modeladmin, request, queryset):
    """The "split" action: choose the paragraph where the second turn begins."""
    turns = list(queryset.select_related("interview", "speaker")[:2])
    if len(turns) != 1:
        modeladmin.message_user(request, "Select one turn to split.", messages.ERROR)
        return None
    turn = turns[0]
    paragraphs = [p for p in turn.body.split("\n\n") if p.strip()]
    if len(paragraphs) < 2:
        modeladmin.message_user(
            request,
            f"{turn} has one paragraph: split it by editing it into two first.",
            messages.ERROR,
        )
        return None
    error = ""
    if "split" in request.POST:
        at = request.POST.get("at", "")
        if at.isdigit() and 0 < int(at) < len(paragraphs):
            before = Revision.snapshot(turn)
            rest = turn.split(int(at))
            Revision.record(turn, before, user=request.user)
            Revision.record(rest, None, user=request.user)
            modeladmin.message_user(
                request,
                f"Split: #{turn.anchor} keeps the start; the rest is #{rest.anchor}.",
                messages.SUCCESS,
            )
            return None
        error = "Choose where the new turn begins."
    return TemplateResponse(
        request,
        "admin/archive/turn/split.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": "Split a turn",
            "opts": modeladmin.model._meta,
            "turn": turn,
            "paragraphs": paragraphs,
            "error": error,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    """Every recorded change, readable and restorable; nothing is edited here."""

    list_display = ["created_at", "interview", "what", "changed_fields", "user", "via"]
    list_filter = ["via"]
    list_select_related = ["interview", "user"]
    search_fields = ["interview__title"]
    date_hierarchy = "created_at"
    actions = ["restore"]
    fields = ["interview", "what", "user", "via", "created_at", "comparison"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="what")
    def what(self, obj):
        return f"turn #{obj.turn_anchor}" if obj.turn_id else "the interview"

    @admin.display(description="fields changed")
    def changed_fields(self, obj):
        return ", ".join(name.removesuffix("_id") for name in obj.changes)

    @admin.display(description="before and after")
    def comparison(self, obj):
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            (
                (name.removesuffix("_id"), _short(old, 5000), _short(new, 5000))
                for name, (old, new) in obj.changes.items()
            ),
        )
        return format_html(
            '<table class="revision"><thead><tr><th>field</th><th>before</th>'
            "<th>after</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.action(description="Restore what was there before these changes")
    def restore(self, request, queryset):
        restored, gone = 0, 0
        # Newest first, so that restoring several changes to one field ends
        # with what it held before the oldest of them.
        for revision in queryset.order_by("-created_at", "-pk"):
            if (
                revision.restore(user=request.user) is None
                and revision.target() is None
            ):
                gone += 1
            else:
                restored += 1
        message = f"{restored} change(s) undone; each undoing is itself recorded."
        if gone:
            message += f" {gone} could not be: the turn no longer exists."
        self.message_user(request, message, messages.SUCCESS)


@admin.register(FeaturedQuote)
class FeaturedQuoteAdmin(admin.ModelAdmin):
    list_display = ["__str__", "speaker", "interview", "created_at"]
    list_select_related = ["turn__speaker", "turn__interview"]
    autocomplete_fields = ["turn"]
    search_fields = ["passage", "note", "turn__body", "turn__interview__title"]
    fields = ["turn", "passage", "note"]

    @admin.display(description="speaker")
    def speaker(self, obj):
        return obj.turn.speaker

    @admin.display(description="interview")
    def interview(self, obj):
        return obj.turn.interview


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["name", "outlet", "slug"]
    search_fields = ["name", "outlet"]
    prepopulated_fields = {"slug": ["name"]}


admin.site.site_header = "Cyber-policy interview archive"
# The sidebar takes a third of a laptop screen that long transcripts need.
admin.site.enable_nav_sidebar = False
admin.site.site_title = "Archive admin"
admin.site.index_title = "Curate the archive"
