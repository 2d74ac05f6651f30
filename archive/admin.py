"""The curators' admin: edit interviews turn by turn, merge speakers.

Long transcripts (1,100 turns and more) open and save in a fixed number of
queries: the turn inline looks speakers up in one prefetched dictionary
instead of one query per row, for display and for validation, and each
row's id is checked against the turns already loaded.
"""

from collections import Counter
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
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
    Overrides,
    find_existing,
    import_fingerprint,
    match_speakers,
    save_parsed,
    title_from_file_name,
    validation_message,
)
from archive.models import (
    FeaturedQuote,
    Interview,
    InterviewSlug,
    Participant,
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


class TurnInlineForm(forms.ModelForm):
    class Meta:
        model = Turn
        fields = ["position", "speaker", "label", "kind", "start", "body"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 3, "cols": 70}),
            "label": forms.TextInput(attrs={"size": 12}),
            "position": forms.NumberInput(attrs={"style": "width: 5em"}),
            "start": forms.NumberInput(attrs={"style": "width: 6em", "step": "any"}),
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
        return form


class TurnInline(admin.TabularInline):
    model = Turn
    form = TurnInlineForm
    formset = TurnInlineFormSet
    extra = 1
    # Django's default of 1,000 rows would leave a longer transcript without
    # its blank row or an "Add another Turn" link. About 4,000 rows of ten
    # fields is what DATA_UPLOAD_MAX_NUMBER_FIELDS (40,000) accepts.
    max_num = 4_000
    readonly_fields = ["anchor"]
    fields = ["position", "anchor", "speaker", "label", "kind", "start", "body"]
    ordering = ["position", "anchor"]
    view_on_site = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("speaker")

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


@admin.register(Interview)
class InterviewAdmin(admin.ModelAdmin):
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
        "turn_count",
        "source_name",
        "source_sha256",
        "created_at",
        "updated_at",
        "imported_at",
        "edited_at",
    ]
    fieldsets = [
        (None, {"fields": ["title", "slug", "published"]}),
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

    def save_model(self, request, obj, form, change):
        # Marks the interview as edited so that a re-import does not
        # silently overwrite the curator's corrections.
        obj.edited_at = timezone.now()
        super().save_model(request, obj, form, change)

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
        existing = find_existing(
            source_name=filename, parsed=parsed, source_text=parsed.source_text
        )
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
            with transaction.atomic():
                outcome = _save(
                    parsed,
                    source,
                    filename,
                    options,
                    draft=draft,
                    force=force,
                    speakers=chosen,
                )
                interview = outcome.interview
                # The button says what the interview becomes, also when the
                # importer would keep an existing one's state.
                if (
                    outcome.status in ("created", "updated", "unchanged")
                    and interview.published == draft
                ):
                    interview.published = not draft
                    Interview.objects.filter(pk=interview.pk).update(
                        published=not draft, updated_at=timezone.now()
                    )
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
    """Parse a transcript given to the import page, with the page's options.

    Raises ParseError, also for a transcript in which no one speaks.
    """
    people = Overrides(
        interviewer=options.get("interviewer", ""),
        interviewee=options.get("interviewee", ""),
    ).participants()
    parsed = parsing.parse(
        source,
        filename=filename,
        format=options.get("format", ""),
        markup=options.get("markup", ""),
        participants=people,
    )
    if not parsed.turns:
        raise parsing.ParseError("no turns found")
    if options.get("title"):
        parsed.title = options["title"]
    if not parsed.title:
        parsed.title = title_from_file_name(PurePath(filename))
        parsed.warnings.append(
            f"no title in the transcript: “{parsed.title}” is made from the "
            "file name (give one under Title)"
        )
    return parsed


def _save(parsed, source: bytes, filename: str, options: dict, **kwargs):
    """``save_parsed`` for the import page: a preview (``dry_run``) and the
    save run the same call."""
    return save_parsed(
        parsed,
        source_name=filename,
        source_text=parsed.source_text,
        import_hash=import_fingerprint(source, b"", options),
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


@admin.register(Turn)
class TurnAdmin(admin.ModelAdmin):
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
    ]
    actions = [
        "mark_question",
        "mark_answer",
        "mark_remark",
        "feature",
        "merge_into_first",
    ]

    @admin.display(description="turn")
    def excerpt(self, obj):
        return obj.body[:80]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
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
            for turn in rest:
                turn.merge_into(first)
        self.message_user(
            request,
            f"{len(rest)} turn(s) merged into turn {first.anchor}; their links "
            "now lead there.",
            messages.SUCCESS,
        )


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
admin.site.site_title = "Archive admin"
admin.site.index_title = "Curate the archive"
