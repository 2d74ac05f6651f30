"""Hostile requests: markup payloads carried through import, the admin and
search into every page, feed and export; broken encodings, paths and
multipart bodies; oversized uploads. No 500, nothing half-written, and no
markup of a payload ever live in a page."""

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from archive import parsing
from archive.forms import ImportForm
from archive.importer import import_file
from archive.models import Interview, Speaker, Turn
from archive.parsing import ParseError
from archive.search.queue import drain

# Markup that runs script or loads something when it is live, in the shapes
# filter-evasion lists collect: tags, attributes, URLs, broken and encoded.
PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "<svg onload=alert(3)>",
    '"><script>alert(4)</script>',
    "'><img src=x onerror=alert(5)>",
    '<a href="javascript:alert(6)">click</a>',
    "<iframe src=javascript:alert(7)>",
    "<body onload=alert(8)>",
    "<scr<script>ipt>alert(9)</script>",
    "<IMG SRC=JaVaScRiPt:alert(10)>",
    '<div style="background:url(javascript:alert(11))">',
    '<math><mi xlink:href="javascript:alert(12)">x</mi></math>',
    "[link](javascript:alert(13))",
    '![img](x" onerror="alert(14))',
    "<details open ontoggle=alert(15)>",
    "&lt;script&gt;alert(16)&lt;/script&gt;",
    '<object data="data:text/html,<script>alert(17)</script>">',
    "</title><script>alert(18)</script>",
    "<input autofocus onfocus=alert(19)>",
    '<a href="&#106;avascript:alert(20)">x</a>',
]


class LiveMarkup(HTMLParser):
    """Collects what would run or load: script elements that are not ours,
    event-handler attributes, javascript: URLs, frames and objects."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        src = attrs.get("src") or ""
        ours = (src.startswith("/") and not src.startswith("//")) or attrs.get(
            "type"
        ) == "application/ld+json"
        if tag == "script" and not ours:
            self.found.append(f"<script {attrs}>")
        if tag in {"iframe", "object", "embed", "frame", "base"}:
            self.found.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"{tag} {name}")
            if name == "style":
                self.found.append(f"{tag} style")
            url = (value or "").strip().lower().replace("\t", "").replace("\n", "")
            if name in {"href", "src", "action", "data", "xlink:href"} and (
                url.startswith(("javascript:", "data:text", "vbscript:"))
            ):
                self.found.append(f"{tag} {name}={value}")


def live_markup(html: str) -> list[str]:
    parser = LiveMarkup()
    parser.feed(html)
    parser.close()
    return parser.found


def feed_live_markup(xml: bytes) -> list[str]:
    """Atom carries HTML escaped in its elements (type="html"): readers
    unescape it once, as the XML parser does here, and render it."""
    found = []
    for element in ET.fromstring(xml).iter():
        if element.text and element.get("type") == "html":
            found += live_markup(element.text)
    return found


@pytest.fixture
def hostile_archive(tmp_path, db):
    """One interview per payload, imported from a labelled transcript whose
    title, series, topic, speaker and words carry the payload."""
    interviews = []
    for n, payload in enumerate(PAYLOADS):
        path = tmp_path / f"hostile{n}.txt"
        path.write_text(
            "---\n"
            f"title: 'Talk {n} {payload.replace(chr(39), chr(39) * 2)}'\n"
            f"series: 'Series {n} {payload.replace(chr(39), chr(39) * 2)}'\n"
            f"topics: ['Topic {n} {payload.replace(chr(39), chr(39) * 2)}']\n"
            "---\n"
            f"Ann Lee: Quokka {n} asks {payload} and why?\n\n"
            f"Bo Chen {n}: Quokka answer {payload} here.\n"
        )
        outcome = import_file(path)
        assert outcome.status == "created", (payload, outcome.message)
        interviews.append(outcome.interview)
    drain()
    return interviews


def test_payloads_are_never_live_on_any_page_feed_or_export(hostile_archive, client):
    pages, feeds, others = [], ["/feeds/interviews/", "/feeds/search/?q=quokka"], []
    pages += ["/", "/interviews/", "/speakers/", "/topics/", "/search/?q=quokka"]
    pages += [f"/search/?q={p}" for p in PAYLOADS[:5]]
    for interview in hostile_archive:
        url = interview.get_absolute_url()
        turn = interview.turns.first()
        pages += [url, url + "?q=quokka", f"/q/{turn.pk}"]
        speaker = Speaker.objects.filter(participations__interview=interview).last()
        pages.append(speaker.get_absolute_url())
        feeds.append(f"/feeds/speakers/{speaker.slug}/")
        others += [f"{url}export.{s}" for s in ("txt", "md", "json", "vtt")]
        others += [
            f"{url}cite.bib",
            f"{url}cite.ris",
            f"/api/interviews/{interview.slug}",
        ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert live_markup(response.content.decode()) == [], url
    for url in feeds:
        response = client.get(url)
        assert response.status_code == 200, url
        assert feed_live_markup(response.content) == [], url
    for url in [*others, "/api/search?q=quokka", "/search/?q=quokka&format=csv"]:
        response = client.get(url)
        assert response.status_code in {200, 404}, url
        if response.status_code == 404:  # WebVTT of an untimed transcript
            continue
        body = b"".join(response) if response.streaming else response.content
        # Downloads are never sent as HTML a browser would run.
        assert "html" not in response["Content-Type"], url
        assert response.get("X-Content-Type-Options") == "nosniff", url
        assert body


def test_payloads_saved_through_the_admin_are_never_live(hostile_archive, admin_client):
    turn = Turn.objects.first()
    for payload in PAYLOADS:
        turn.refresh_from_db()
        data = {
            "interview": turn.interview_id,
            "position": turn.position,
            "speaker": turn.speaker_id,
            "label": payload[:40],
            "kind": turn.kind,
            "start": "",
            "body": f"Edited {payload}",
            "seen_version": turn.version,
        }
        response = admin_client.post(f"/admin/archive/turn/{turn.pk}/change/", data)
        assert response.status_code in {200, 302}
        for url in (turn.interview.get_absolute_url(), f"/q/{turn.pk}"):
            page = admin_client.get(url).content.decode()
            assert live_markup(page) == [], (payload, url)
        change = admin_client.get(f"/admin/archive/turn/{turn.pk}/change/")
        assert live_markup(change.content.decode()) == [], payload


@pytest.mark.parametrize(
    "url",
    [
        "/interviews/%ff%fe/",
        "/speakers/%c0%af/",
        "/q/99999999999999999999999",
        "/search/?q=%ff%fe%fd",
        "/search/?q=a%00b",
        "/search/?q=%ed%a0%80",
        "/api/search?q=%ff&page=%ff",
        "/api/search?q=x&page=99999999999999999999",
        "/api/search?q=x&page_size=-1",
        "/interviews/?page=%ff",
        "/interviews/?series=%00",
        "/interviews/?year=%ff",
        "/speakers/?page=99999999999",
        "/feeds/search/?q=%ff%00",
        "/search/?q=" + "a" * 100_000,
        "/search/?q=" + "(" * 5_000,
        "/search/?" + "&".join(f"q={n}" for n in range(2_000)),
        "/interviews/x/export.exe",
        "/%2e%2e/%2e%2e/etc/passwd",
    ],
)
def test_broken_urls_and_parameters_get_a_clear_answer(indexed, client, url):
    response = client.get(url)
    assert response.status_code in {200, 400, 404}, response.status_code


def test_a_malformed_multipart_body_is_a_400_and_changes_nothing(admin_client, db):
    before = Interview.objects.count()
    response = admin_client.generic(
        "POST",
        "/admin/archive/interview/import/",
        b'--xyz\r\nContent-Disposition: form-data; name="text"\r\n\r\nAnn: hi',
        content_type="multipart/form-data; boundary=xyz",
    )
    assert response.status_code in {200, 400}
    response = admin_client.generic(
        "POST",
        "/admin/archive/interview/import/",
        b"garbage",
        content_type="multipart/form-data",  # no boundary at all
    )
    assert response.status_code == 400
    assert Interview.objects.count() == before


def test_an_oversized_upload_is_refused_with_its_size(db):
    big = SimpleUploadedFile("huge.txt", b"Ann: " + b"x" * ImportForm.MAX_UPLOAD)
    form = ImportForm(data={}, files={"upload": big})
    assert not form.is_valid()
    assert "the limit is 20 MB" in str(form.errors)


def test_an_oversized_form_post_is_refused_and_changes_nothing(admin_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = Interview.objects.count()
    response = admin_client.post(
        "/admin/archive/interview/import/", {"text": "Ann: " + "x" * 5000}
    )
    assert response.status_code == 400
    assert Interview.objects.count() == before


def test_control_characters_pasted_into_text_never_break_a_feed(
    make_interview, client, tmp_path
):
    """XML cannot carry control characters; a title or words pasted with a
    bell or a vertical tab in them are saved without them."""
    make_interview("Bell\x07 ring", turns=[("Ann\x0b Lee", "Body \x07 here\x0cnext")])
    path = tmp_path / "t.txt"
    path.write_bytes(b"Bo Chen: Imported \x01words\x1f here.\n")
    assert import_file(path).status == "created"
    drain()
    for speaker in Speaker.objects.all():
        assert "\x0b" not in speaker.name
        response = client.get(f"/feeds/speakers/{speaker.slug}/")
        assert response.status_code == 200
        ET.fromstring(response.content)
    response = client.get("/feeds/interviews/")
    assert response.status_code == 200
    assert "Bell ring" in response.content.decode()
    assert Turn.objects.filter(body="Body  here\nnext").exists()
    assert Turn.objects.filter(body="Imported words here.").exists()


def test_an_event_transcript_with_nothing_after_proceedings_gets_a_reason():
    # Found by tests/test_fuzz.py: this crashed the event reader.
    with pytest.raises(ParseError, match="no speakers found"):
        parsing.parse("PROCEEDINGS", format="event")
