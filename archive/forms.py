"""Forms: what readers send (list filters, checked before any query), and
the admin's transcript import."""

import base64
import hashlib
import json
import zlib
from pathlib import PurePath

from django import forms
from django.core import signing

from archive import parsing
from archive import search as archive_search
from archive.models import Interview, Medium, Speaker
from archive.parsing.text import parse_date


class _PlainErrors:
    def problems(self) -> str:
        """The validation errors as one plain sentence."""
        return "; ".join(
            f"{name}: {' '.join(errors)}" for name, errors in self.errors.items()
        )


class InterviewFilterForm(_PlainErrors, forms.Form):
    speaker = forms.SlugField(required=False, max_length=120)
    series = forms.SlugField(required=False, max_length=120)
    topic = forms.SlugField(required=False, max_length=120)
    year = forms.IntegerField(required=False, min_value=1000, max_value=9999)


class SearchForm(_PlainErrors, forms.Form):
    """A search request: the query text is free, everything else is checked.

    The query is never refused: the parser cuts long input (and says so) and
    drops control characters; this form only bounds what it reads.
    """

    MAX_QUERY = 10_000

    def __init__(self, data=None, **kwargs):
        if data is not None:
            data = data.copy()
            data["q"] = data.get("q", "").replace("\x00", "")[: self.MAX_QUERY]
        super().__init__(data, **kwargs)

    q = forms.CharField(required=False, strip=False)
    sort = forms.ChoiceField(
        required=False, choices=[(s, s) for s in ("relevance", "newest", "oldest")]
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)
    page_size = forms.IntegerField(required=False, min_value=1, max_value=100)
    format = forms.ChoiceField(required=False, choices=[("", "page"), ("csv", "CSV")])
    # "as-typed": no automatic respelling (the "search instead for" link).
    spelling = forms.ChoiceField(
        required=False, choices=[("", "respell"), ("as-typed", "as typed")]
    )

    # A CSV of results holds at most this many rows, and says when it stops.
    CSV_ROWS = 10_000

    def clean(self):
        data = super().clean()
        data["q"] = data.get("q") or ""
        data["sort"] = data.get("sort") or "relevance"
        data["page"] = data.get("page") or 1
        data["page_size"] = data.get("page_size") or 20
        return data

    def search(self):
        """Run the validated search (raises ``SearchError`` for a bad page)."""
        wanted = self.cleaned_data
        respell = wanted.get("spelling") != "as-typed"
        if wanted.get("format") == "csv":
            return archive_search.search(
                wanted["q"],
                sort=wanted["sort"],
                page_size=self.CSV_ROWS,
                spans=False,
                respell=respell,
            )
        return archive_search.search(
            wanted["q"],
            sort=wanted["sort"],
            page=wanted["page"],
            page_size=wanted["page_size"],
            respell=respell,
        )


_FORMAT_NAMES = {
    "labels": "Speaker labels (“Name: text”)",
    "hearing": "Hearing record",
    "qa": "Q&A without names",
    "rev": "Rev.com text (“Name (00:01:23):”)",
    "otter": "Otter.ai text (“Name  0:03”)",
    "event": "Event transcript (NAME in capitals on its own line)",
    "vtt": "WebVTT captions",
    "srt": "SRT captions",
    "sbv": "YouTube SBV captions",
    "json": "JSON (ours, Oyez, WhisperX/pyannote segments)",
    "csv": "CSV",
}


class ImportOptionsForm(forms.Form):
    """How to read a transcript in the admin's import: what detection may get
    wrong, and the names a Q&A without speaker labels cannot give."""

    format = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Detect"),
            *((f, _FORMAT_NAMES.get(f, f)) for f in parsing.FORMATS),
        ],
        help_text="Word documents (.docx) are recognised from the file itself.",
    )
    markup = forms.ChoiceField(
        required=False,
        choices=[("", "Detect"), ("plain", "Plain text"), ("markdown", "Markdown")],
    )
    interviewer = forms.CharField(
        required=False,
        max_length=200,
        help_text="For a Q&A without names: who asks the questions.",
    )
    interviewee = forms.CharField(
        required=False,
        max_length=200,
        help_text="For a Q&A without names: who answers them.",
    )
    title = forms.CharField(
        required=False,
        max_length=300,
        help_text="Leave empty to use the title the transcript gives (or its "
        "file name).",
    )
    date = forms.CharField(
        required=False,
        max_length=10,
        help_text="YYYY, YYYY-MM or YYYY-MM-DD, at the precision known; leave "
        "empty to use the transcript's.",
    )
    series = forms.CharField(required=False, max_length=200)
    medium = forms.ChoiceField(
        required=False, choices=[("", "From the transcript"), *Medium.choices]
    )
    topics = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Comma-separated; new ones are created.",
    )

    speakers = forms.CharField(
        required=False,
        max_length=2000,
        label="Names for speaker ids",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        help_text="For diarized transcripts: one per line, “SPEAKER_00 = Ann Lee”.",
    )

    update = forms.SlugField(
        required=False,
        label="Update interview",
        help_text="The slug of the interview this transcript replaces; leave "
        "empty to update one only when it is recognisably the same.",
    )
    replace = forms.BooleanField(
        required=False,
        label="Allow replacing most turns",
        help_text="A re-import that would drop more than half of an interview's "
        "turns (and break the links to them) stops unless this is ticked.",
    )

    def clean_update(self):
        slug = self.cleaned_data.get("update", "")
        if slug and not Interview.objects.filter(slug=slug).exists():
            raise forms.ValidationError(f"There is no interview “{slug}”.")
        return slug

    def clean_speakers(self):
        text = self.cleaned_data.get("speakers", "")
        for line in text.splitlines():
            speaker_id, equals, name = line.partition("=")
            if line.strip() and not (equals and speaker_id.strip() and name.strip()):
                raise forms.ValidationError(
                    f"“{line.strip()[:60]}”: write each as “SPEAKER_00 = Ann Lee”."
                )
        return text

    def clean_date(self):
        date = self.cleaned_data.get("date", "").strip()
        if date and not parse_date(date):
            raise forms.ValidationError("Use YYYY, YYYY-MM or YYYY-MM-DD.")
        return parse_date(date) if date else ""

    def options(self) -> dict[str, str]:
        """The options as given, for ``pack_source`` and the parse."""
        return {
            name: self.cleaned_data.get(name) or ""
            for name in ImportOptionsForm.base_fields
        }


class ImportForm(ImportOptionsForm):
    """The first step of the admin's import: a pasted or uploaded transcript."""

    MAX_UPLOAD = 20 * 1024 * 1024

    text = forms.CharField(
        required=False,
        strip=False,
        label="Paste the transcript",
        widget=forms.Textarea(attrs={"rows": 16, "cols": 100}),
    )
    upload = forms.FileField(
        required=False,
        label="or upload a file",
        help_text="Text (.txt, .md), Word (.docx), captions (.vtt, .srt), "
        "JSON or CSV; up to 20 MB.",
    )
    field_order = ["text", "upload"]

    def clean(self):
        data = super().clean()
        text, upload = data.get("text") or "", data.get("upload")
        if "upload" in self.errors:
            return data
        if text.strip() and upload:
            raise forms.ValidationError(
                "Paste the transcript or upload a file, not both."
            )
        if upload:
            if upload.size > self.MAX_UPLOAD:
                raise forms.ValidationError(
                    f"The file is {upload.size / 2**20:.1f} MB; the limit is "
                    f"{self.MAX_UPLOAD // 2**20} MB."
                )
            data["source"] = upload.read()
            data["filename"] = PurePath(upload.name).name
        elif text.strip():
            data["source"] = text.encode()
            digest = hashlib.sha256(data["source"]).hexdigest()
            data["filename"] = f"pasted-{digest[:12]}.txt"
        else:
            raise forms.ValidationError("Paste a transcript or upload a file.")
        return data


_SOURCE_SALT = "archive.admin.import-source"


def pack_source(data: bytes, filename: str, options: dict[str, str]) -> str:
    """The transcript's bytes, name and read options, for a hidden field.

    Signed, so that what is saved is exactly what was previewed; compressed,
    because the whole request must stay under DATA_UPLOAD_MAX_MEMORY_SIZE.
    """
    header = json.dumps({"filename": filename, "options": options}).encode()
    packed = base64.urlsafe_b64encode(zlib.compress(header + b"\n" + data))
    return signing.Signer(salt=_SOURCE_SALT).sign(packed.decode())


def unpack_source(value: str) -> tuple[bytes, str, dict[str, str]]:
    """The inverse of ``pack_source``; BadSignature if it was changed."""
    packed = signing.Signer(salt=_SOURCE_SALT).unsign(value)
    header, _, data = zlib.decompress(base64.urlsafe_b64decode(packed)).partition(b"\n")
    meta = json.loads(header)
    return data, meta["filename"], meta["options"]


_CHANGED_SOURCE = (
    "The transcript sent back with this form was changed or is damaged; "
    "nothing was saved. Start the import again."
)


class ImportSourceForm(forms.Form):
    """The transcript carried from the preview to the save, in a hidden field."""

    source = forms.CharField(
        widget=forms.HiddenInput,
        strip=False,
        error_messages={"required": _CHANGED_SOURCE},
    )
    # Shown only when the interview was edited in the admin since its import.
    force = forms.BooleanField(required=False)

    def clean_source(self):
        try:
            return unpack_source(self.cleaned_data["source"])
        except (signing.BadSignature, ValueError, zlib.error, KeyError):
            raise forms.ValidationError(_CHANGED_SOURCE) from None


class SpeakerMappingForm(forms.Form):
    """Who each person in a parsed transcript is in the archive.

    One choice per participant: one of the existing speakers their name
    matches, a new speaker, or any other existing speaker by slug or name.
    """

    NEW = "new"

    def __init__(self, *args, people, **kwargs):
        """``people``: (participant name, matching speakers) pairs, in order."""
        super().__init__(*args, **kwargs)
        self.people = people
        for i, (_name, matches) in enumerate(people):
            self.fields[f"speaker-{i}"] = forms.ChoiceField(
                choices=[
                    *((str(s.pk), f"{s.name} ({s.slug})") for s in matches),
                    (self.NEW, "Create a new speaker"),
                ],
                initial=str(matches[0].pk) if matches else self.NEW,
                label="Speaker",
            )
            self.fields[f"other-{i}"] = forms.CharField(
                required=False,
                max_length=200,
                label="or another existing speaker",
                widget=forms.TextInput(
                    attrs={"placeholder": "slug or name", "size": 18}
                ),
            )

    def clean(self):
        data = super().clean()
        for i, _person in enumerate(self.people):
            other = (data.get(f"other-{i}") or "").strip()
            if not other:
                continue
            speaker = Speaker.objects.filter(slug=other).first()
            if speaker is None:
                found = Speaker.objects.matching(other)
                if len(found) > 1:
                    slugs = ", ".join(s.slug for s in found)
                    self.add_error(
                        f"other-{i}",
                        f"Several speakers are called “{other}” ({slugs}): "
                        "give the slug.",
                    )
                    continue
                speaker = found[0] if found else None
            if speaker is None:
                self.add_error(
                    f"other-{i}", f"No speaker has the slug or name “{other}”."
                )
            else:
                data[f"other-{i}"] = speaker
        return data

    def speakers(self) -> dict[str, Speaker]:
        """The mapping for ``save_parsed``; fresh objects on every call.

        A new, unsaved Speaker for "create" makes the importer create one even
        when the name matches an existing speaker.
        """
        chosen: dict[str, Speaker] = {}
        for i, (name, matches) in enumerate(self.people):
            other = self.cleaned_data.get(f"other-{i}")
            choice = self.cleaned_data[f"speaker-{i}"]
            if isinstance(other, Speaker):
                chosen[name] = other
            elif choice == self.NEW:
                if matches:
                    chosen[name] = Speaker(name=name)
            else:
                chosen[name] = next(s for s in matches if str(s.pk) == choice)
        return chosen
