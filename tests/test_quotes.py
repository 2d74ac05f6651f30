"""Quote pages (/q/<turn id>): lasting short links, and featured quotes."""

import pytest
from django.urls import reverse

from archive.importer import import_file
from archive.models import FeaturedQuote, Interview, Turn

SITE = "https://archive.example.org"


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.ARCHIVE_PUBLIC_URL = SITE


@pytest.fixture
def talk(make_interview):
    return make_interview(
        "On norms",
        turns=[
            ("Paul Haenle", "What should states agree on first?"),
            ("Tim Maurer", "Norms against attacking **critical infrastructure**."),
            ("Paul Haenle", "And espionage?"),
            ("Tim Maurer", "Espionage is where agreement is hardest."),
        ],
        roles={"Paul Haenle": "host", "Tim Maurer": "guest"},
    )


def turn_of(interview, position):
    return interview.turns.get(position=position)


def test_quote_page_shows_the_quote_its_question_speaker_and_citation(talk, client):
    Turn.objects.filter(interview=talk, position=1).update(kind="question")
    answer = turn_of(talk, 2)
    response = client.get(f"/q/{answer.pk}")
    assert response.status_code == 200
    content = response.content.decode()
    assert "<strong>critical infrastructure</strong>" in content
    assert "Paul Haenle asked:" in content
    assert "What should states agree on first?" in content
    assert f'href="{SITE}/interviews/{talk.slug}/#t-{answer.anchor}"' in content
    assert "Cite this quote" in content
    assert (
        '<meta property="og:description" content="“Norms against attacking' in content
    )
    assert f'<link rel="canonical" href="{SITE}/q/{answer.pk}">' in content
    assert f'href="/q/{answer.pk}/cite.bib"' in content


def test_every_turn_links_to_its_quote_page(talk, client):
    content = client.get(talk.get_absolute_url()).content.decode()
    for turn in talk.turns.all():
        assert f'href="/q/{turn.pk}"' in content


def test_quote_link_survives_a_slug_change_and_reordering(talk, client):
    answer = turn_of(talk, 2)
    talk.slug = "renamed"
    talk.save()
    Turn.objects.filter(pk=answer.pk).update(position=40)
    content = client.get(f"/q/{answer.pk}").content.decode()
    assert f"{SITE}/interviews/renamed/#t-{answer.anchor}" in content


def test_draft_quote_is_not_found(talk, client):
    Interview.objects.filter(pk=talk.pk).update(published=False)
    answer = turn_of(talk, 2)
    assert client.get(f"/q/{answer.pk}").status_code == 404
    assert client.get(f"/q/{answer.pk}/cite.ris").status_code == 404


def test_deleted_turn_is_gone_and_a_never_used_id_not_found(talk, client):
    answer = turn_of(talk, 4)
    pk = answer.pk
    answer.delete()
    response = client.get(f"/q/{pk}")
    assert response.status_code == 410
    assert "removed from its transcript" in response.content.decode()
    assert client.get(f"/q/{pk + 1000}").status_code == 404


def test_turns_of_a_deleted_interview_are_gone(talk, client):
    pks = list(talk.turns.values_list("pk", flat=True))
    Interview.objects.filter(pk=talk.pk).delete()
    assert {client.get(f"/q/{pk}").status_code for pk in pks} == {410}


def test_a_turn_only_ever_in_a_draft_stays_not_found_once_deleted(talk, client):
    Interview.objects.filter(pk=talk.pk).update(published=False)
    answer = turn_of(talk, 2)
    pk = answer.pk
    answer.delete()
    assert client.get(f"/q/{pk}").status_code == 404


def test_merged_turn_redirects_to_the_turn_it_joined(talk, client):
    first, second = turn_of(talk, 2), turn_of(talk, 4)
    second.merge_into(first)
    response = client.get(f"/q/{second.pk}")
    assert response.status_code == 301
    assert response["Location"] == f"/q/{first.pk}"
    first.refresh_from_db()
    assert "Espionage is where agreement is hardest." in first.body
    # And a merge of the survivor later still leads to the words.
    third = turn_of(talk, 3)
    first.merge_into(third)
    assert client.get(f"/q/{second.pk}")["Location"] == f"/q/{third.pk}"


def test_reimport_joining_two_turns_redirects_the_dropped_one(db, tmp_path, client):
    source = tmp_path / "joined.txt"
    source.write_text(
        "Ann Lee: First question here?\n\nBo Chen: One part.\n\n"
        "Ann Lee: Interruption.\n\nBo Chen: Other part.\n"
    )
    interview = import_file(source).interview
    before = {t.body: t.pk for t in interview.turns.all()}
    source.write_text(
        "Ann Lee: First question here?\n\nBo Chen: One part. Other part.\n"
    )
    import_file(source)
    survivor = before["One part."]
    assert Turn.objects.filter(pk=survivor).exists()
    for dropped in (before["Interruption."], before["Other part."]):
        response = client.get(f"/q/{dropped}")
        assert response.status_code == 301
        assert response["Location"] == f"/q/{survivor}"


def test_admin_merge_action_joins_turns_and_keeps_links(talk, admin_client, client):
    first, second = turn_of(talk, 2), turn_of(talk, 4)
    response = admin_client.post(
        reverse("admin:archive_turn_changelist"),
        {"action": "merge_into_first", "_selected_action": [first.pk, second.pk]},
    )
    assert response.status_code == 302
    assert not Turn.objects.filter(pk=second.pk).exists()
    assert client.get(f"/q/{second.pk}")["Location"] == f"/q/{first.pk}"
    talk.refresh_from_db()
    assert talk.turn_count == 3


# Featured quotes ------------------------------------------------------------


def test_featured_quote_appears_on_home_interview_and_speaker_pages(talk, client):
    answer = turn_of(talk, 2)
    quote = FeaturedQuote.objects.create(turn=answer, note="The first ask.")
    home = client.get("/").content.decode()
    assert "Featured quotes" in home
    assert "Norms against attacking critical infrastructure." in home
    assert f'href="{quote.get_absolute_url()}"' in home
    assert "The first ask." in home
    page = client.get(talk.get_absolute_url()).content.decode()
    assert "Featured quote" in page
    speaker = client.get(answer.speaker.get_absolute_url()).content.decode()
    assert "Norms against attacking critical infrastructure." in speaker


def test_featured_passage_links_to_its_words_with_a_text_fragment(talk, client):
    answer = turn_of(talk, 4)
    quote = FeaturedQuote.objects.create(turn=answer, passage="agreement is hardest")
    assert quote.get_absolute_url() == (
        f"/interviews/{talk.slug}/#t-{answer.anchor}:~:text=agreement%20is%20hardest"
    )
    home = client.get("/").content.decode()
    assert "agreement is hardest" in home
    assert "Espionage is where" not in home


def test_passage_must_be_words_of_the_turn(talk):
    from django.core.exceptions import ValidationError

    quote = FeaturedQuote(turn=turn_of(talk, 4), passage="agreement is easy")
    with pytest.raises(ValidationError):
        quote.clean()
    FeaturedQuote(turn=turn_of(talk, 4), passage="Agreement  is\nhardest").clean()


def test_drafts_quotes_are_never_featured(talk, client):
    FeaturedQuote.objects.create(turn=turn_of(talk, 2))
    Interview.objects.filter(pk=talk.pk).update(published=False)
    home = client.get("/").content.decode()
    assert "Featured quotes" not in home
    assert "critical infrastructure" not in home


def test_admin_feature_action_features_each_turn_once(talk, admin_client, client):
    answer = turn_of(talk, 2)
    for _ in range(2):
        admin_client.post(
            reverse("admin:archive_turn_changelist"),
            {"action": "feature", "_selected_action": [answer.pk]},
        )
    assert FeaturedQuote.objects.filter(turn=answer).count() == 1
    # The home page was cached before; featuring shows at once.
    assert "critical infrastructure" in client.get("/").content.decode()


def test_featuring_renews_the_cached_interview_page(talk, client):
    client.get(talk.get_absolute_url())
    FeaturedQuote.objects.create(turn=turn_of(talk, 2))
    assert "Featured quote" in client.get(talk.get_absolute_url()).content.decode()


def test_long_passage_link_uses_start_and_end(talk):
    from archive.models import text_fragment

    words = "one two three four five six seven eight nine ten eleven twelve"
    assert (
        text_fragment(words) == "one%20two%20three%20four,nine%20ten%20eleven%20twelve"
    )
    assert text_fragment("state-run, hacked") == "state%2Drun%2C%20hacked"


# Splitting and joining turns ---------------------------------------------------


def test_a_joined_turns_old_anchor_still_lands_on_its_words(talk, client):
    first, second = turn_of(talk, 2), turn_of(talk, 4)
    second.merge_into(first)
    page = client.get(talk.get_absolute_url()).content.decode()
    # The old "#t-<anchor>" is an empty target inside the turn that has the words.
    article = page[page.index(f'id="t-{first.anchor}"') :]
    article = article[: article.index("</article>")]
    assert f'<span id="t-{second.anchor}" class="turn__joined"></span>' in article
    assert "Espionage is where agreement is hardest." in article


def test_splitting_a_turn_keeps_its_anchor_and_gives_the_rest_a_new_one(talk, client):
    turn = turn_of(talk, 2)
    turn.body = "First point.\n\nSecond point.\n\nThird point."
    turn.save()
    later = turn_of(talk, 3)
    rest = turn.split(2)
    turn.refresh_from_db()
    later.refresh_from_db()
    assert turn.body == "First point.\n\nSecond point."
    assert rest.body == "Third point."
    assert rest.anchor > max(a for a in [turn.anchor, later.anchor])
    assert (turn.position, rest.position, later.position) == (2, 3, 4)
    assert rest.speaker_id == turn.speaker_id
    talk.refresh_from_db()
    assert talk.turn_count == 5
    page = client.get(talk.get_absolute_url()).content.decode()
    assert page.index(f'id="t-{turn.anchor}"') < page.index(f'id="t-{rest.anchor}"')
    assert page.index(f'id="t-{rest.anchor}"') < page.index(f'id="t-{later.anchor}"')


def test_admin_split_action_asks_where_then_splits(talk, admin_client):
    from archive.models import Revision

    turn = turn_of(talk, 2)
    turn.body = "First point.\n\nSecond point."
    turn.save()
    url = reverse("admin:archive_turn_changelist")
    asked = admin_client.post(url, {"action": "split", "_selected_action": [turn.pk]})
    assert asked.status_code == 200
    assert "Start the new turn here" in asked.content.decode()
    done = admin_client.post(
        url,
        {"action": "split", "_selected_action": [turn.pk], "at": "1", "split": "Split"},
    )
    assert done.status_code == 302
    assert Turn.objects.get(pk=turn.pk).body == "First point."
    assert Turn.objects.filter(interview=talk, body="Second point.").exists()
    assert Revision.objects.filter(turn_id=turn.pk).exists()


def test_admin_transcript_rows_are_captioned_and_link_to_the_page(talk, admin_client):
    content = admin_client.get(
        f"/admin/archive/interview/{talk.pk}/change/"
    ).content.decode()
    turn = turn_of(talk, 2)
    assert f"Turn 2 · #{turn.anchor} · Tim Maurer" in content
    assert f'href="/interviews/{talk.slug}/#t-{turn.anchor}"' in content
    assert "archive/admin.css" in content
