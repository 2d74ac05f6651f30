"""Search results as CSV, from the page and the API."""

import csv
import io

from archive.search.queue import drain


def rows(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_csv_has_a_row_per_hit_with_its_permanent_link(
    make_interview, client, settings
):
    settings.ARCHIVE_PUBLIC_URL = "https://archive.example.org"
    talk = make_interview(
        "Quorum talk",
        turns=[("Ann Lee", "The quorum rules."), ("Bo Chen", "No quorum today.")],
    )
    make_interview("Draft", turns=[("Zed", "Quorum secret.")], published=False)
    drain()
    for url in ("/search/", "/api/search"):
        table = rows(
            client.get(url, {"q": "quorum", "format": "csv", "sort": "oldest"})
        )
        assert table[0] == ["date", "speaker", "interview", "text", "permalink"]
        turns = [r for r in table[1:] if r[1]]
        assert {r[1] for r in turns} == {"Ann Lee", "Bo Chen"}
        anchors = {t.anchor for t in talk.turns.all()}
        assert {r[4] for r in turns} == {
            f"https://archive.example.org/interviews/{talk.slug}/#t-{a}"
            for a in anchors
        }
        assert "The quorum rules." in {r[3] for r in turns}
        assert not any("secret" in cell for row in table for cell in row)


def test_csv_cells_cannot_start_a_formula(make_interview, client):
    make_interview(
        "=HYPERLINK(1)", turns=[("Ann", "=1+1 quorum"), ("Bo", "@quorum sum")]
    )
    drain()
    table = rows(client.get("/search/", {"q": "quorum", "format": "csv"}))
    cells = [cell for row in table[1:] for cell in row]
    assert "'=1+1 quorum" in cells and "'@quorum sum" in cells
    assert "'=HYPERLINK(1)" in cells
    assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)


def test_csv_says_when_it_stops_short(make_interview, client, monkeypatch):
    from archive.forms import SearchForm

    monkeypatch.setattr(SearchForm, "CSV_ROWS", 2)
    make_interview("Many", turns=[("Ann", f"Quorum {n}.") for n in range(5)])
    drain()
    table = rows(client.get("/search/", {"q": "quorum", "format": "csv"}))
    assert len(table) == 1 + 2 + 1
    assert table[-1][0].startswith("# truncated: the first 2 of 5 results")
