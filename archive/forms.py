"""Forms for what readers send: list filters, checked before any query."""

from django import forms


class InterviewFilterForm(forms.Form):
    speaker = forms.SlugField(required=False, max_length=120)
    series = forms.SlugField(required=False, max_length=120)
    topic = forms.SlugField(required=False, max_length=120)
    year = forms.IntegerField(required=False, min_value=1000, max_value=9999)

    def problems(self) -> str:
        """The validation errors as one plain sentence."""
        return "; ".join(
            f"{name}: {' '.join(errors)}" for name, errors in self.errors.items()
        )
