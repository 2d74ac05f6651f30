"""Models: permanent anchors, HTML rendered on every kind of write, slugs."""

import pytest

from archive.models import Interview, InterviewSlug, Speaker, Turn


@pytest.fixture
def interview(make_interview):
    return make_interview(
        "Norms", turns=[("Ann", "One."), ("Bob", "Two."), ("Ann", "Three.")]
    )


def test_anchors_are_numbered_in_creation_order(interview):
    assert list(interview.turns.values_list("anchor", flat=True)) == [1, 2, 3]


def test_anchors_survive_reordering_and_are_never_reused(interview, client):
    one, two, three = interview.turns.order_by("position")
    three.position, one.position = 1, 3
    three.save()
    one.save()
    two.delete()
    new = Turn.objects.create(
        interview=interview, position=2, speaker=one.speaker, body="Inserted."
    )
    assert new.anchor == 4  # never 2 again, although turn 2 is gone
    page = client.get(interview.get_absolute_url()).content.decode()
    order = [page.index(f'id="t-{n}"') for n in (3, 4, 1)]
    assert order == sorted(order)
    assert 'id="t-2"' not in page


def test_bulk_create_renders_html_and_assigns_fresh_anchors(interview):
    speaker = Speaker.objects.get(name="Ann")
    created = Turn.objects.bulk_create(
        [
            Turn(interview=interview, position=10 + i, speaker=speaker, body=f"*{i}*")
            for i in range(3)
        ]
    )
    stored = Turn.objects.filter(pk__in=[t.pk for t in created]).order_by("anchor")
    assert [t.anchor for t in stored] == [4, 5, 6]
    assert [t.body_html for t in stored] == [f"<p><em>{i}</em></p>" for i in range(3)]


def test_queryset_update_of_body_renders_html(interview):
    interview.turns.filter(anchor=1).update(body="**Bold** claim")
    assert (
        interview.turns.get(anchor=1).body_html == "<p><strong>Bold</strong> claim</p>"
    )


def test_bulk_update_of_body_renders_html(interview):
    turns = list(interview.turns.all())
    for turn in turns:
        turn.body = f"_{turn.anchor}_"
    Turn.objects.bulk_update(turns, ["body"])
    assert list(interview.turns.values_list("body_html", flat=True)) == [
        "<p><em>1</em></p>",
        "<p><em>2</em></p>",
        "<p><em>3</em></p>",
    ]


def test_update_with_an_expression_for_body_is_refused(interview):
    from django.db.models import F

    with pytest.raises(TypeError, match="body_html"):
        interview.turns.update(body=F("label"))


def test_html_is_sanitized_on_save(interview):
    turn = interview.turns.get(anchor=1)
    turn.body = 'Hi <script>alert(1)</script><a href="javascript:x()">x</a>'
    turn.save()
    assert "<script" not in turn.body_html
    assert "javascript:" not in turn.body_html


def test_lede_and_bio_render_on_save_and_update(interview):
    interview.lede = "A *lede*."
    interview.save()
    assert interview.lede_html == "<p>A <em>lede</em>.</p>"
    Interview.objects.filter(pk=interview.pk).update(lede="**New**")
    assert (
        Interview.objects.get(pk=interview.pk).lede_html
        == "<p><strong>New</strong></p>"
    )
    Speaker.objects.filter(name="Ann").update(bio="*Bio*")
    assert Speaker.objects.get(name="Ann").bio_html == "<p><em>Bio</em></p>"


def test_renaming_a_slug_keeps_the_old_one_as_a_redirect(interview, client):
    old = interview.slug
    interview.slug = "norms-renamed"
    interview.save()
    assert InterviewSlug.objects.filter(slug=old, interview=interview).exists()
    response = client.get(f"/interviews/{old}/")
    assert response.status_code == 301
    assert response["Location"] == "/interviews/norms-renamed/"
    api = client.get(f"/api/interviews/{old}")
    assert (api.status_code, api["Location"]) == (301, "/api/interviews/norms-renamed")
    # Renaming back makes the first slug current again, not a redirect.
    interview.slug = old
    interview.save()
    assert client.get(f"/interviews/{old}/").status_code == 200
    assert client.get("/interviews/norms-renamed/").status_code == 301


def test_new_slugs_avoid_old_slugs_of_other_interviews(interview):
    interview.slug = "moved"
    interview.save()
    other = Interview.objects.create(title="Norms")
    assert other.slug not in {"norms", "moved"}


def test_speaker_matching_uses_full_names_and_aliases_only(db):
    tim = Speaker.objects.create(name="Tim Maurer", aliases="Dr. Tim Maurer")
    assert Speaker.objects.matching("tim  maurer") == [tim]
    assert Speaker.objects.matching("Dr. Tim Maurer") == [tim]
    assert Speaker.objects.matching("Maurer") == []
    assert Speaker.objects.matching("Tim") == []


def test_merging_speakers_moves_turns_and_keeps_names_as_aliases(make_interview):
    interview = make_interview("A", turns=[("T. Maurer", "Hi."), ("Ann", "Yo.")])
    tim = Speaker.objects.create(name="Tim Maurer")
    Speaker.objects.get(name="T. Maurer").merge_into(tim)
    assert interview.turns.get(anchor=1).speaker == tim
    assert interview.participants.filter(speaker=tim).exists()
    assert Speaker.objects.matching("T. Maurer") == [Speaker.objects.get(pk=tim.pk)]
    assert not Speaker.objects.filter(name="T. Maurer").exists()


def test_dates_display_at_their_precision(db):
    import datetime

    day = Interview(date=datetime.date(2017, 9, 18), date_precision="day")
    month = Interview(date=datetime.date(2016, 7, 1), date_precision="month")
    year = Interview(date=datetime.date(2016, 1, 1), date_precision="year")
    unknown = Interview(date=None)
    assert [i.date_display for i in (day, month, year, unknown)] == [
        "September 18, 2017",
        "July 2016",
        "2016",
        "date unknown",
    ]
    assert [i.date_iso for i in (day, month, year, unknown)] == [
        "2017-09-18",
        "2016-07",
        "2016",
        None,
    ]
