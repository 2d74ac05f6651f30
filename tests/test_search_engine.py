"""The search engine at its edges: hostile queries, its budget, an index that
is empty, missing or built by an older version, words that stemming or
hyphens used to lose, and totals and facets checked against a plain count."""

import io
import random
import re
import shutil
from collections import Counter
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.models import Interview, Turn
from archive.search import (
    analysis,
    backend,
    engine,
    highlight,
    index,
    postgres,
    search,
    vectors,
    writer,
)
from archive.search import query as q
from archive.search.documents import plain_text
from archive.search.engine import Budget
from archive.search.queue import drain


def api(client, query, **params):
    response = client.get("/api/search", {"q": query, "page_size": 100, **params})
    assert response.status_code == 200, response.content
    return response.json()


def anchors(data) -> set[int]:
    return {hit["anchor"] for hit in data["hits"]}


# An index that cannot serve ---------------------------------------------------


@pytest.mark.whoosh
def test_an_archive_never_indexed_answers_searches_with_a_notice(client, db):
    data = api(client, "norms")
    assert data["total"] == 0
    assert any("being built" in n for n in data["notices"])
    response = client.get("/search/", {"q": "norms"})
    assert response.status_code == 200
    assert "being built" in response.content.decode()


@pytest.mark.whoosh
def test_a_deleted_index_is_refilled_by_the_consumer(indexed, client):
    before = api(client, "norms")["total"]
    assert before > 0
    shutil.rmtree(index.root())
    data = api(client, "norms")
    assert data["total"] == 0
    assert any("being built" in n for n in data["notices"])

    drain()  # what the consumer does on its next round

    data = api(client, "norms")
    assert data["total"] == before
    assert data["notices"] == []


@pytest.mark.whoosh
def test_an_index_built_by_another_version_says_so_until_rebuilt(indexed, client):
    before = api(client, "norms")["total"]
    build = index.current_build()
    (index.build_path(build) / "VERSION").write_text(f"{index.INDEX_VERSION - 1}\n")
    index.searchers.reset()

    data = api(client, "norms")
    assert data["total"] == 0
    assert any("older version" in n and "rebuild_index" in n for n in data["notices"])

    call_command("rebuild_index", stderr=io.StringIO())
    assert api(client, "norms")["total"] == before


@pytest.mark.whoosh
def test_the_consumer_rebuilds_an_index_of_another_version(indexed, client):
    before = api(client, "sovereignty")["total"]
    (index.build_path(index.current_build()) / "VERSION").write_text("0\n")
    index.searchers.reset()
    drain()
    assert api(client, "sovereignty")["total"] == before


# Hostile queries -----------------------------------------------------------------

HOSTILE = [
    " ".join(["ab*"] * 64),
    " OR ".join(["se*"] * 64),
    " OR ".join(["a"] * 64),
    '"' + " ".join(["norms"] * 100) + '"',
    " ".join(f"zqx{chr(97 + i % 26)}{chr(97 + i // 26)}word" for i in range(64)),
    "x" * 500,
    " ".join(["(norms OR treaty* OR -cyber)"] * 20),
    '"' + " ".join(["the"] * 60) + '" OR ' + " OR ".join(["th*"] * 30),
]


@pytest.mark.parametrize("query", HOSTILE)
def test_a_hostile_query_gets_a_page_and_a_json_answer(indexed, client, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert '<p class="understood">' in response.content.decode()
    data = api(client, query)
    assert data["total"] is None or data["total"] >= 0


@pytest.mark.parametrize("query", HOSTILE)
@pytest.mark.parametrize("work", [200_000_000, 500, 5])
def test_a_hostile_query_stops_within_its_budget_and_says_so(indexed, query, work):
    budget = Budget(work=work)
    results = search(query, budget=budget)
    # Every step checks the budget before going on: at most one step over.
    assert budget.used <= work + 20_000
    if results.total is None:
        assert engine.get().TOO_BROAD in results.notices
        assert results.facets == {}
    else:
        assert engine.get().TOO_BROAD not in results.notices


@pytest.mark.parametrize("clause", ["norm*", "sovereignty", '"voluntary norms"'])
def test_a_clause_repeated_64_times_costs_what_it_costs_once(indexed, clause):
    once = Budget()
    single = search(clause, budget=once)
    assert single.total
    # Twice what one copy needs: enough only if the copies are merged.
    repeated = search(" ".join([clause] * 64), budget=Budget(work=2 * once.used + 10))
    assert repeated.total == single.total
    assert [h.url for h in repeated.hits] == [h.url for h in single.hits]
    assert engine.get().TOO_BROAD not in repeated.notices


def test_a_search_out_of_budget_says_it_was_too_broad_and_counts_nothing(
    indexed, client, settings
):
    settings.ARCHIVE_SEARCH_WORK = 1
    data = api(client, "norms")
    assert data["total"] is None
    assert data["facets"] == {}
    assert engine.get().TOO_BROAD in data["notices"]
    content = client.get("/search/", {"q": "norms"}).content.decode()
    assert "too broad" in content
    assert '<p class="total">' not in content
    assert 'class="facets"' not in content


@pytest.mark.whoosh
def test_out_of_budget_keeps_the_hits_ranked_before_it_ran_out(make_interview):
    for n in range(2):
        make_interview(f"Talk {n}", turns=[("Ola Osei", f"Quorum vote {n}.")])
        drain()  # one segment per interview
    everything = search("quorum")
    assert everything.total == 2
    view = index.searchers.get()
    assert len(view.segments) == 2
    # Enough for the first segment's postings, not for the second's.
    first = Budget()
    backend.search(q.Word("quorum"), budget=first)
    partial = search("quorum", budget=Budget(work=first.used // 2 + 1))
    assert partial.total is None
    assert partial.hits
    assert {h.url for h in partial.hits} <= {h.url for h in everything.hits}
    assert engine.get().TOO_BROAD in partial.notices


def test_only_the_first_misspelt_words_get_suggestions(indexed):
    words = "soverignty " + " ".join(f"qqzz{i}" for i in range(63))
    results = search(words)
    assert results.total == 0
    assert results.suggestion is None or results.suggestion.startswith("sovereignty")


# Words that analysis used to lose -------------------------------------------------


@pytest.fixture
def security_talk(make_interview):
    interview = make_interview(
        "Security talk",
        turns=[
            ("Ada Host", "We turned on two-factor authentication."),
            ("Bo Guest", "Twofactor codes came by text."),
            ("Ada Host", "And two factor logins elsewhere?"),
            ("Bo Guest", "DNS spoofing hit the resolver."),
            ("Ada Host", "Our dns servers were fine, and the news was old news."),
            ("Bo Guest", "The ads were new."),
        ],
    )
    drain()
    return interview


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"two factor"', {1, 2, 3}),
        ("two-factor", {1, 2, 3}),
        ("twofactor", {1, 2}),
        ('"two factor authentication"', {1}),
        ('"two-factor authentication"', {1}),
        ("dns", {4, 5}),
        ("DNS", {4, 5}),
        ("dns spoofing", {4}),
        ('"dns servers"', {5}),
        ("news", {5}),
        ("new", {6}),
        ("ad", {6}),
    ],
)
def test_compounds_acronyms_and_short_words_find_every_spelling(
    security_talk, client, query, expected
):
    positions = {hit["position"] for hit in api(client, query)["hits"] if hit["anchor"]}
    assert positions == expected


def test_a_phrase_written_apart_marks_the_hyphenated_word(security_talk, client):
    hits = api(client, '"two factor"')["hits"]
    first = next(h for h in hits if h["position"] == 1)
    assert "<mark>two-factor</mark>" in first["snippet"]


# Totals and facets against a plain count ----------------------------------------

VOCABULARY = ["treaty", "norms", "espionage", "data", "integrity", "alpha"]
SPEAKERS = ["Ana Lima", "Ben Roth", "Cai Wen"]


@pytest.fixture
def random_archive(make_interview, monkeypatch):
    """Interviews written over several index commits, some turns edited and
    deleted afterwards, with merging made eager: documents live in several
    segments, some deleted, some merged."""
    monkeypatch.setattr(writer, "MERGE_FACTOR", 2)
    rng = random.Random(5)
    for n in range(6):
        turns = [
            (
                rng.choice(SPEAKERS),
                " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 7))),
            )
            for _ in range(rng.randint(2, 8))
        ]
        make_interview(f"Meeting {n}", turns=turns, published=n != 5)
        drain()
    for turn in Turn.objects.order_by("pk")[::4]:
        turn.body = " ".join(rng.choice(VOCABULARY) for _ in range(4))
        turn.save()
    drain()
    Turn.objects.filter(pk__in=Turn.objects.order_by("pk").values("pk")[5:7]).delete()
    drain()


def _documents():
    """Every published document as (speaker slug, kind, {position: terms})."""
    documents = []
    for interview in Interview.objects.published():
        lede = f"{interview.title}\n\n{plain_text(interview.lede_html)}".strip()
        documents.append((None, "lede", _positions(lede)))
        for turn in interview.turns.select_related("speaker"):
            documents.append(
                (turn.speaker.slug, turn.kind, _positions(plain_text(turn.body_html)))
            )
    return documents


def _positions(text):
    positions = {}
    for term, pos, _, _ in analysis.index_spans(text):
        positions.setdefault(pos, set()).add(term)
    return positions


def _matches(node, speaker, positions) -> bool:
    if isinstance(node, q.Word | q.Phrase):
        terms = analysis.terms(node.text)
        return any(
            all(terms[i] in positions.get(start + i, ()) for i in range(len(terms)))
            for start in positions
        )
    if isinstance(node, q.Filter):
        return speaker is not None and all(
            word in speaker.split("-") for word in node.value.split()
        )
    if isinstance(node, q.Not):
        return not _matches(node.child, speaker, positions)
    if isinstance(node, q.And):
        return all(_matches(c, speaker, positions) for c in node.children)
    if isinstance(node, q.Or):
        return any(_matches(c, speaker, positions) for c in node.children)
    raise TypeError(node)


_leaf = st.one_of(
    st.sampled_from(VOCABULARY),
    st.builds(lambda a, b: f'"{a} {b}"', *[st.sampled_from(VOCABULARY)] * 2),
    st.sampled_from(["speaker:ana", "speaker:roth", "speaker:cai"]),
)
_queries = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"{a} {b}", inner, inner),
        st.builds(lambda a, b: f"({a}) OR ({b})", inner, inner),
        st.builds(lambda a, b: f"{a} -({b})", inner, inner),
    ),
    max_leaves=5,
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(query=_queries)
def test_totals_and_facets_equal_a_plain_count(random_archive, query):
    tree = q.parse_query(query).tree
    expected = [
        (speaker, kind)
        for speaker, kind, positions in _documents()
        if _matches(tree, speaker, positions)
    ]
    results = search(query, page_size=1000)
    assert results.total == len(expected), query
    assert len(results.hits) == len(expected)
    speakers = {f.value: f.count for f in results.facets["speaker"]}
    assert speakers == dict(Counter(s for s, _ in expected if s)), query


@pytest.mark.whoosh
def test_a_backlog_as_big_as_the_archive_is_applied_by_a_rebuild(
    make_interview, monkeypatch, client
):
    from archive.search import queue

    make_interview("First talk", turns=[("Ola Osei", "Quorum one.")])
    drain()
    build = index.current_build()
    monkeypatch.setattr(queue, "BACKLOG_REBUILD", 2)
    for n in range(3):
        make_interview(f"Talk {n}", turns=[("Ola Osei", f"Quorum {n}.")] * 2)

    drain()

    assert index.current_build() != build
    assert api(client, "quorum")["total"] == 7


@pytest.mark.whoosh
def test_check_index_finds_segment_arrays_unlike_whoosh_and_repairs_them(
    make_interview, client
):
    import numpy as np

    from archive.search import queue, segments

    talk = make_interview("Arrays talk", turns=[("Ola Osei", "Quorum vote.")] * 3)
    drain()
    view = index.searchers.get()
    arrays, _, _ = view.segments[0]
    columns = np.array(arrays.cols)
    columns[segments.COLUMNS.index("position")] += 7  # arrays out of step
    folder = index.build_path(index.current_build())
    (cols,) = folder.glob("*.ax.cols.npy")
    index.searchers.reset()
    np.save(cols, columns)

    report = queue.check()
    assert len(report["stale"]) == 4  # three turns and the lede
    queue.check(repair=True)
    assert queue.check() == {"missing": [], "stale": [], "orphaned": []}
    assert api(client, "quorum")["total"] == 3
    assert {h["position"] for h in api(client, "quorum")["hits"]} == {1, 2, 3}
    assert talk.turns.count() == 3


def test_a_speaker_loaded_with_deferred_fields_renamed_reaches_the_index(
    make_interview, client
):
    from archive.models import Speaker

    make_interview("Talk", turns=[("Ola Osei", "Quorum vote.")])
    drain()
    speaker = Speaker.objects.only("slug").get(slug="ola-osei")
    speaker.name = "Ola Mensah"
    speaker.save()
    drain()
    assert api(client, "speaker:mensah quorum")["total"] == 1


# Words chosen for what stemming and the analyzer do to them: endings Porter
# rewrites, acronyms, the country and the pronoun, compounds, possessives,
# hyphens, digits, capitals, short words and words it leaves alone.
_TRICKY = (
    "relational",
    "conditional",
    "sensibility",
    "ability",
    "capability",
    "policy",
    "policies",
    "happily",
    "organization",
    "organizations",
    "generalization",
    "hopping",
    "hoped",
    "used",
    "using",
    "US",
    "us",
    "USA",
    "U.S.",
    "United",
    "States",
    "cyber",
    "security",
    "cyber-security",
    "Cybersecurity",
    "G-20",
    "G20",
    "Maurer's",
    "Maurer’s",
    "two-factor",
    "S&ED",
    "AT&T",
    "NSA",
    "OPM",
    "ads",
    "ad",
    "was",
    "news",
    "series",
    "analysis",
    "norms",
    "voluntary",
    "agreed",
    "agreement",
    "controlling",
    "controlled",
    "Valency",
    "valence",
    "izer",
    "sensible",
    "2016",
    "x86-64",
    "Ünïcode",
    "naïve",
    "CAPITALS",
    "SHOUTED",
    "HEADER",
)


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.sampled_from(_TRICKY), min_size=1, max_size=40),
    separators=st.lists(st.sampled_from([" ", ", ", ". ", " - ", "\n"]), min_size=1),
    picks=st.lists(st.integers(min_value=0, max_value=200), max_size=6),
)
def test_marking_finds_exactly_what_analysing_everything_finds(
    words, separators, picks
):
    """The PostgreSQL engine marks hits without analysing every word of a
    long turn: what it marks must be what full analysis marks."""
    text = "".join(w + separators[i % len(separators)] for i, w in enumerate(words))
    everything = analysis.index_spans(text)
    present = sorted({span[0] for span in everything})
    terms = {present[p % len(present)] for p in picks} if present else set()
    terms |= {analysis.stem(w.lower()) for w in words[:2]}
    assert analysis.marking_spans(text, terms) == [
        span for span in everything if span[0] in terms
    ]


def _vector_positions(literal: str) -> dict[str, list[int]]:
    """A tsvector literal's positions by term, as PostgreSQL's unnest()
    gives them."""
    return {
        term.replace("''", "'").replace("\\\\", "\\"): [
            int(p) for p in places.split(",")
        ]
        for term, places in re.findall(r"'((?:[^']|'')*)':([\d,]+)", literal)
    }


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.sampled_from(_TRICKY), min_size=1, max_size=40),
    separators=st.lists(st.sampled_from([" ", ", ", ". ", " - ", "\n"]), min_size=1),
    picks=st.lists(st.integers(min_value=0, max_value=200), max_size=6),
    phrase_at=st.integers(min_value=0, max_value=200),
)
def test_marking_from_stored_offsets_equals_analysing_the_text(
    words, separators, picks, phrase_at
):
    """The PostgreSQL engine marks a hit from the word positions its entry
    stores and the positions of the searched terms in its vector: the marks
    must be those that analysing the text gives, phrases and compounds
    included."""
    text = "".join(w + separators[i % len(separators)] for i, w in enumerate(words))
    everything = analysis.index_spans(text)
    present = sorted({span[0] for span in everything})
    terms = [present[p % len(present)] for p in picks] if present else []
    mains: dict[int, str] = {}
    for term, position, _, _ in everything:
        mains.setdefault(position, term)
    phrases = []
    if len(mains) > 1:
        first = sorted(mains)[phrase_at % (len(mains) - 1)]
        if first + 1 in mains:
            phrases.append((mains[first], mains[first + 1]))
    plan = SimpleNamespace(terms=terms, phrases=phrases)
    literal, _, packed = vectors.vector(text)
    positions = _vector_positions(literal)
    found = {t: positions[t] for t in postgres.marked_terms(plan) if t in positions}
    stored = postgres.stored_spans(text, plan, packed, found)
    assert stored is not None
    assert highlight.merge(stored) == highlight.merge(postgres.spans(text, plan))
