"""The JSON API's shapes, as documented in the README."""

import pytest


def test_interview_list_shape(seeds, client):
    data = client.get("/api/interviews").json()
    assert data == [
        {
            "slug": "cyber-norms-in-us-china-relations",
            "title": "Cyber Norms in U.S.-China Relations",
            "date": "2017-09-18",
            "date_precision": "day",
            "series": "China in the World",
            "url": "/interviews/cyber-norms-in-us-china-relations/",
            "turn_count": 25,
        },
        {
            "slug": "tim-maurer-china-real-time-2016",
            "title": (
                "Tim Maurer on what comes next for the U.S. and China in cyberspace"
            ),
            "date": "2016",
            "date_precision": "year",
            "series": "China Real Time",
            "url": "/interviews/tim-maurer-china-real-time-2016/",
            "turn_count": 12,
        },
    ]


def test_interview_detail_shape(seeds, client):
    data = client.get("/api/interviews/cyber-norms-in-us-china-relations").json()
    assert set(data) == {
        "slug", "title", "date", "date_precision", "series", "outlet", "episode",
        "medium", "source_url", "lede", "attribution", "rights", "topics",
        "participants", "turns", "markup",
    }  # fmt: skip
    assert data["participants"] == [
        {"name": "Paul Haenle", "slug": "paul-haenle", "role": "host"},
        {"name": "Tim Maurer", "slug": "tim-maurer", "role": "guest"},
    ]
    assert data["episode"] == "92" and data["medium"] == "podcast"
    first = data["turns"][0]
    assert set(first) == {
        "anchor", "position", "speaker", "label", "kind", "start", "text", "html"
    }  # fmt: skip
    assert first["speaker"] == {"name": "Paul Haenle", "slug": "paul-haenle"}
    assert first["label"] == "Haenle"
    assert first["kind"] == "question"
    assert first["text"].startswith("Recently I had the opportunity")
    assert first["html"].startswith("<p>Recently I had the opportunity")
    assert [t["anchor"] for t in data["turns"]] == list(range(1, 26))


def test_dates_at_month_precision_and_unknown(make_interview, client):
    import datetime

    make_interview("M", date=datetime.date(2016, 7, 1), date_precision="month")
    make_interview("U")
    rows = {r["title"]: r for r in client.get("/api/interviews").json()}
    assert (rows["M"]["date"], rows["M"]["date_precision"]) == ("2016-07", "month")
    assert (rows["U"]["date"], rows["U"]["date_precision"]) == (None, None)


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_api_is_read_only(seeds, client, method):
    response = getattr(client, method)("/api/interviews")
    assert response.status_code == 405
