"""Forms for what readers send: list filters, checked before any query."""

from django import forms

from archive import search as archive_search


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
        return archive_search.search(
            wanted["q"],
            sort=wanted["sort"],
            page=wanted["page"],
            page_size=wanted["page_size"],
        )
