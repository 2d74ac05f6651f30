"""The cached transcript of an interview page is dropped by every change it shows."""

import pytest

from archive.models import Participant, Speaker, Turn


@pytest.fixture
def talk(make_interview):
    return make_interview(
        "Cached talk",
        turns=[("Ida Host", "Original question?"), ("Jon Guest", "Original answer.")],
    )


def content(client, interview) -> str:
    response = client.get(interview.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def second(interview) -> Turn:
    return interview.turns.order_by("position")[1]


def test_the_page_is_the_same_from_the_cache(client, talk):
    first = content(client, talk)
    assert "Original answer." in first
    assert content(client, talk) == first


@pytest.mark.parametrize(
    "change",
    [
        lambda talk: (
            second(talk)
            .__class__.objects.filter(pk=second(talk).pk)
            .update(body="Edited by update.")
        ),
        lambda talk: Turn.objects.bulk_update(
            [_with_body(second(talk), "Edited by update.")], ["body"]
        ),
        lambda talk: _with_body(second(talk), "Edited by update.").save(),
    ],
    ids=["queryset update", "bulk update", "save"],
)
def test_an_edited_turn_shows_at_once(client, talk, change):
    content(client, talk)
    change(talk)
    page = content(client, talk)
    assert "Edited by update." in page
    assert "Original answer." not in page


def _with_body(turn, body):
    turn.body = body
    return turn


def test_a_renamed_speaker_shows_at_once(client, talk):
    content(client, talk)
    speaker = Speaker.objects.get(name="Jon Guest")
    speaker.name = "Jonas Guest"
    speaker.save()
    assert "Jonas Guest" in content(client, talk)


def test_a_changed_role_shows_at_once(client, talk):
    assert "guest" in content(client, talk)
    Participant.objects.filter(interview=talk, speaker__name="Jon Guest").update(
        role="moderator"
    )
    page = content(client, talk)
    assert '<span class="role">moderator</span>' in page


def test_a_deleted_turn_disappears_at_once(client, talk):
    content(client, talk)
    second(talk).delete()
    assert "Original answer." not in content(client, talk)


def test_a_new_affiliation_shows_at_once(client, talk):
    content(client, talk)
    speaker = Speaker.objects.get(name="Jon Guest")
    speaker.affiliation = "Carnegie Endowment"
    speaker.save()
    assert "Carnegie Endowment" in content(client, talk)


def test_a_renamed_interview_shows_its_new_title(client, talk):
    content(client, talk)
    talk.title = "Renamed talk"
    talk.save()
    assert "Renamed talk" in content(client, talk)


def test_a_speaker_page_shows_an_edited_turn_at_once(client, talk):
    speaker = Speaker.objects.get(name="Jon Guest")
    assert "Original answer." in client.get(speaker.get_absolute_url()).content.decode()
    _with_body(second(talk), "Answer corrected.").save()
    page = client.get(speaker.get_absolute_url()).content.decode()
    assert "Answer corrected." in page
    assert "Original answer." not in page
