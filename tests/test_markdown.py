"""Markdown rendering and the escaping of plain-text sources."""

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from archive.markdown import escape_plain, render


def _visible_text(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


def test_markdown_renders_emphasis_and_keeps_editorial_brackets():
    assert render("*Cyber Mercenaries* and [the] book") == (
        "<p><em>Cyber Mercenaries</em> and [the] book</p>"
    )


def test_dangerous_html_is_removed():
    rendered = render('<img src=x onerror=alert(1)><iframe src="x"></iframe>**ok**')
    assert "onerror" not in rendered and "<iframe" not in rendered
    assert "<strong>ok</strong>" in rendered


def test_links_get_nofollow_and_keep_safe_schemes_only():
    rendered = render("[a](https://example.org) [b](javascript:alert(1))")
    assert 'href="https://example.org"' in rendered
    assert "javascript" not in rendered
    assert 'rel="nofollow noopener"' in rendered


@given(
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
            blacklist_characters="\n\r",
        ),
        min_size=1,
        max_size=80,
    )
)
def test_escaped_plain_text_renders_exactly_as_written(text):
    text = text.strip()
    if not text:
        return
    assert _visible_text(render(escape_plain(text))) == text
