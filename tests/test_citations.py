# ruff: noqa: E501 (the expected BibTeX records are long lines, as written)
"""Citations: the exact strings for both seed interviews in every style, the
metadata reference managers read, and the downloads."""

import datetime
import json
import re
from html.parser import HTMLParser

import pytest

from archive import citations
from archive.models import DatePrecision, Interview

SITE = "https://archive.example.org"
PODCAST = "cyber-norms-in-us-china-relations"
ARTICLE = "tim-maurer-china-real-time-2016"
A = citations.ACCESSED

EXPECTED = {
    PODCAST: {
        "chicago": "Maurer, Tim. “Cyber Norms in U.S.-China Relations.” Interview by "
        "Paul Haenle. China in the World, podcast, episode 92. Carnegie–Tsinghua "
        "Center for Global Policy, September 18, 2017. "
        f"{SITE}/interviews/{PODCAST}/.",
        "apa": "Maurer, T. (2017, September 18). Cyber Norms in U.S.-China Relations "
        "(No. 92) [Interview by P. Haenle; Audio podcast episode]. In China in the "
        "World. Carnegie–Tsinghua Center for Global Policy. "
        f"{SITE}/interviews/{PODCAST}/",
        "mla": "Maurer, Tim. “Cyber Norms in U.S.-China Relations.” Interview "
        "conducted by Paul Haenle. China in the World, episode 92, Carnegie–Tsinghua "
        "Center for Global Policy, 18 Sept. 2017, "
        f"archive.example.org/interviews/{PODCAST}/. Accessed {A}.",
    },
    ARTICLE: {
        # Known only to the year: cited as 2016, never as a day.
        "chicago": "Maurer, Tim. “Tim Maurer on what comes next for the U.S. and "
        "China in cyberspace.” Interview by China Real Time. China Real Time. The "
        f"Wall Street Journal, 2016. {SITE}/interviews/{ARTICLE}/.",
        "apa": "Maurer, T. (2016). Tim Maurer on what comes next for the U.S. and "
        "China in cyberspace [Interview by China Real Time]. In China Real Time. The "
        f"Wall Street Journal. {SITE}/interviews/{ARTICLE}/",
        "mla": "Maurer, Tim. “Tim Maurer on what comes next for the U.S. and China in "
        "cyberspace.” Interview conducted by China Real Time. China Real Time, The "
        f"Wall Street Journal, 2016, archive.example.org/interviews/{ARTICLE}/. "
        f"Accessed {A}.",
    },
}

BIBTEX = {
    PODCAST: f"""@misc{{maurer2017cyber,
  author = {{Maurer, Tim}},
  title = {{{{Cyber Norms in U.S.-China Relations}}}},
  howpublished = {{Interview by Paul Haenle; China in the World, episode 92, Carnegie–Tsinghua Center for Global Policy}},
  year = {{2017}},
  month = {{9}},
  date = {{2017-09-18}},
  url = {{{SITE}/interviews/{PODCAST}/}},
  note = {{Podcast}},
}}
""",
    ARTICLE: f"""@misc{{maurer2016tim,
  author = {{Maurer, Tim}},
  title = {{{{Tim Maurer on what comes next for the U.S. and China in cyberspace}}}},
  howpublished = {{Interview by China Real Time; China Real Time, The Wall Street Journal}},
  year = {{2016}},
  date = {{2016}},
  url = {{{SITE}/interviews/{ARTICLE}/}},
}}
""",
}

RIS = {
    PODCAST: [
        "TY  - SOUND",
        "AU  - Maurer, Tim",
        "A2  - Haenle, Paul",
        "TI  - Cyber Norms in U.S.-China Relations",
        "T2  - China in the World",
        "IS  - 92",
        "PB  - Carnegie–Tsinghua Center for Global Policy",
        "PY  - 2017",
        "DA  - 2017/09/18/",
        "M3  - Interview",
        "KW  - Arms control",
        "KW  - Cyber espionage",
        "KW  - Cyber norms",
        "KW  - U.S.–China relations",
        f"UR  - {SITE}/interviews/{PODCAST}/",
        "ER  -",
    ],
    ARTICLE: [
        "TY  - NEWS",
        "AU  - Maurer, Tim",
        "A2  - China Real Time",
        "TI  - Tim Maurer on what comes next for the U.S. and China in cyberspace",
        "T2  - China Real Time",
        "PB  - The Wall Street Journal",
        "PY  - 2016",
        "DA  - 2016///",
        "M3  - Interview",
        "KW  - Cyber norms",
        "KW  - Data integrity",
        "KW  - Internet sovereignty",
        "KW  - U.S.–China relations",
        f"UR  - {SITE}/interviews/{ARTICLE}/",
        "ER  -",
    ],
}


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.ARCHIVE_PUBLIC_URL = SITE


def work(slug, turn=None):
    interview = Interview.objects.get(slug=slug)
    url = f"{SITE}{interview.get_absolute_url()}"
    if turn is not None:
        url = f"{SITE}{turn.get_absolute_url()}"
    return citations.Work.of(interview, url, turn)


@pytest.mark.parametrize("slug", [PODCAST, ARTICLE])
@pytest.mark.parametrize("style", ["chicago", "apa", "mla"])
def test_each_seed_is_cited_exactly_in_each_style(seeds, slug, style):
    made = {s["key"]: s["text"] for s in citations.styles(work(slug))}
    assert made[style] == EXPECTED[slug][style]


@pytest.mark.parametrize("slug", [PODCAST, ARTICLE])
def test_bibtex_of_each_seed(seeds, slug):
    assert citations.bibtex(work(slug)) == BIBTEX[slug]


@pytest.mark.parametrize("slug", [PODCAST, ARTICLE])
def test_ris_of_each_seed_has_crlf_lines(seeds, slug):
    text = citations.ris(work(slug))
    assert text.endswith("ER  -\r\n")
    assert text.split("\r\n")[:-1] == RIS[slug]


def test_mla_access_date_is_filled_in_mla_form_and_chicago_only_without_a_date(
    seeds,
):
    mla = EXPECTED[PODCAST]["mla"]
    day = datetime.date(2026, 9, 3)
    assert citations.filled(mla, day, "mla").endswith("Accessed 3 Sept. 2026.")
    assert "Accessed" not in EXPECTED[PODCAST]["chicago"]
    Interview.objects.filter(slug=PODCAST).update(date=None)
    chicago = citations.chicago(work(PODCAST))
    assert ", n.d. Accessed " in chicago
    assert citations.filled(chicago, day, "chicago").endswith(
        f"Accessed September 3, 2026. {SITE}/interviews/{PODCAST}/."
    )


def test_a_month_precision_date_is_never_given_a_day(seeds):
    Interview.objects.filter(slug=PODCAST).update(
        date=datetime.date(2017, 9, 1), date_precision=DatePrecision.MONTH
    )
    made = {s["key"]: s["text"] for s in citations.styles(work(PODCAST))}
    assert "Global Policy, September 2017." in made["chicago"]
    assert "(2017, September)." in made["apa"]
    assert "Global Policy, Sept. 2017," in made["mla"]
    assert "DA  - 2017/09//" in citations.ris(work(PODCAST))


def test_a_turn_is_cited_as_its_speaker_with_its_own_link(seeds):
    interview = seeds["001"]
    answer = interview.turns.filter(speaker__name="Tim Maurer").order_by("position")[0]
    question = interview.turns.filter(speaker__name="Paul Haenle").order_by("position")[
        0
    ]
    chicago = citations.chicago(work(PODCAST, answer))
    assert chicago.startswith("Maurer, Tim. “Cyber Norms in U.S.-China Relations.” ")
    assert chicago.endswith(f"/interviews/{PODCAST}/#t-{answer.anchor}.")
    # A host's question: the host is the author, the interview is with the guest.
    host = citations.chicago(work(PODCAST, question))
    assert host.startswith(
        "Haenle, Paul. “Cyber Norms in U.S.-China Relations.” Interview with Tim "
        "Maurer. "
    )
    assert "Interview by" not in host


def test_names_of_several_authors_follow_each_style(make_interview):
    interview = make_interview(
        "A panel",
        turns=[("Ann Lee", "Hello."), ("Bo Chen", "Hi."), ("Cy Diaz Jr.", "Yes.")],
        date=datetime.date(2020, 1, 2),
    )
    made = citations.Work.of(interview, "https://x.example/i/")
    assert citations.chicago(made).startswith("Lee, Ann, Bo Chen, and Cy Diaz Jr. “")
    assert citations.apa(made).startswith("Lee, A., Chen, B., & Diaz Jr., C. (2020,")
    assert citations.mla(made).startswith("Lee, Ann, et al. “")


def test_bibtex_escapes_what_latex_would_misread(make_interview):
    interview = make_interview(
        "Bugs & 100% {fixes} for C_programs", turns=[("Ann Lee", "Hi.")]
    )
    text = citations.bibtex(citations.Work.of(interview, "https://x.example/a_b"))
    assert r"title = {{Bugs \& 100\% \{fixes\} for C\_programs}}," in text
    assert "url = {https://x.example/a_b}," in text


class Meta(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.ld, self._in_ld = [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and attrs.get("name", "").startswith("citation_"):
            self.tags.append((attrs["name"], attrs["content"]))
        self._in_ld = tag == "script" and attrs.get("type") == "application/ld+json"

    def handle_data(self, data):
        if self._in_ld:
            self.ld.append(data)

    def handle_endtag(self, tag):
        self._in_ld = False


def parsed(client, url):
    meta = Meta()
    meta.feed(client.get(url).content.decode())
    return meta


def test_interview_page_carries_highwire_tags_and_json_ld(seeds, client):
    meta = parsed(client, f"/interviews/{PODCAST}/")
    tags = dict(meta.tags)
    assert tags["citation_title"] == "Cyber Norms in U.S.-China Relations"
    assert [v for k, v in meta.tags if k == "citation_author"] == ["Maurer, Tim"]
    assert tags["citation_publication_date"] == "2017/09/18"
    assert tags["citation_publisher"] == "Carnegie–Tsinghua Center for Global Policy"
    assert tags["citation_public_url"] == f"{SITE}/interviews/{PODCAST}/"
    (ld,) = [json.loads(text) for text in meta.ld]
    assert ld["@type"] == "PodcastEpisode"
    assert ld["author"] == [{"@type": "Person", "name": "Tim Maurer"}]
    assert ld["contributor"] == [{"@type": "Person", "name": "Paul Haenle"}]
    assert ld["datePublished"] == "2017-09-18"
    assert ld["isPartOf"]["name"] == "China in the World"


def test_year_only_interview_is_tagged_with_its_year_alone(seeds, client):
    meta = parsed(client, f"/interviews/{ARTICLE}/")
    assert dict(meta.tags)["citation_publication_date"] == "2016"
    assert json.loads(meta.ld[0])["datePublished"] == "2016"


def test_json_ld_cannot_close_its_script_element(make_interview, client):
    interview = make_interview(
        "</script><script>alert(1)</script>", turns=[("Ann Lee", "Hi.")]
    )
    content = client.get(interview.get_absolute_url()).content.decode()
    (ld,) = re.findall(
        r'<script type="application/ld\+json">(.*?)</script>', content, re.S
    )
    assert json.loads(ld)["name"] == "</script><script>alert(1)</script>"
    assert "<script>alert(1)" not in content


def test_interview_page_shows_every_style_with_a_placeholder_access_date(seeds, client):
    content = client.get(f"/interviews/{PODCAST}/").content.decode()
    assert "Cite this interview" in content
    for key in ("chicago", "apa", "mla"):
        assert f'id="citation-interview-{key}"' in content
    # Filled in by the reader's browser, never frozen into the cached page.
    assert '<span class="accessed" data-style="mla">[date accessed]</span>' in content
    assert (
        str(datetime.date.today().year) + "." not in content.split("Accessed")[-1][:40]
    )


@pytest.mark.parametrize(
    ("suffix", "content_type", "first"),
    [
        ("bib", "application/x-bibtex", "@misc{maurer2017cyber,"),
        ("ris", "application/x-research-info-systems", "TY  - SOUND"),
    ],
)
def test_citation_downloads(seeds, client, suffix, content_type, first):
    response = client.get(f"/interviews/{PODCAST}/cite.{suffix}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert f'filename="{PODCAST}.{suffix}"' in response["Content-Disposition"]
    assert response.content.decode().startswith(first)


def test_citation_downloads_refuse_other_formats_and_drafts(seeds, client):
    assert client.get(f"/interviews/{PODCAST}/cite.docx").status_code == 404
    Interview.objects.filter(slug=PODCAST).update(published=False)
    assert client.get(f"/interviews/{PODCAST}/cite.bib").status_code == 404


def test_citation_files_take_a_fixed_number_of_queries(
    make_interview, client, django_assert_max_num_queries
):
    names = [f"Person {n} Example" for n in range(8)]
    interview = make_interview("A panel", turns=[(name, "Words.") for name in names])
    with django_assert_max_num_queries(4):
        text = client.get(f"/interviews/{interview.slug}/cite.ris").content.decode()
    assert text.count("AU  - ") == 8
    turn = interview.turns.first()
    with django_assert_max_num_queries(4):
        assert client.get(f"/q/{turn.pk}/cite.bib").status_code == 200
