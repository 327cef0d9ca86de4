"""Open data downloads: CSV files that round-trip with their documented columns, and the JSON Lines file."""

import csv
import io
import json

import pytest

from pipeline.services.downloads import safe_cell
from tests.factories import make_project
from tests.opendata import make_sample

DOWNLOADS = {"projects": 4, "councils": 382, "phase-changes": 5, "pledges": 4}
FORMULA_STARTS = ("=", "+", "-", "@")


@pytest.fixture
def sample(app, make_officer):
    sample = make_sample(app, make_officer)
    # Text that is not ASCII, and a title with a comma, quotes and a line break in its problem.
    make_project(
        app,
        sample.leeds_officer,
        title='Gwasanaeth "Café" – ysgolion, Cymru',
        problem="Line one, with a comma.\nLine two: ‘quoted’.",
        phase="beta",
    )
    return sample


def documented_columns(client, path: str) -> list[tuple[str, str, str, str]]:
    soup = client.page(f"/data/{path}")
    rows = []
    for row in soup.select("#columns tbody tr"):
        cells = [" ".join(cell.get_text().split()) for cell in row.select("th, td")]
        rows.append(tuple(cells))
    return rows


@pytest.mark.parametrize(("path", "rows"), DOWNLOADS.items())
def test_each_csv_round_trips_through_the_csv_module_with_its_documented_columns(client, sample, path, rows):
    response = client.get(f"/data/{path}.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="pipeline-{path}.csv"'
    body = response.get_data()
    assert not body.startswith(b"\xef\xbb\xbf")  # no byte-order mark: the header is the first row
    text = body.decode("utf-8")
    table = list(csv.reader(io.StringIO(text, newline="")))
    columns = documented_columns(client, path)
    names = [name for name, *_ in columns]
    assert table[0] == names
    assert len(table) == rows + 1
    assert all(len(row) == len(names) for row in table)
    assert table[0] not in table[1:]  # one header row
    for name, kind, meaning, example in columns:
        assert kind and meaning and example, name
    for row in table[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell


def test_the_projects_csv_holds_what_the_project_page_shows(client, sample):
    rows = list(csv.DictReader(io.StringIO(client.get("/data/projects.csv").get_data(as_text=True), newline="")))
    by_slug = {row["slug"]: row for row in rows}
    bulky = by_slug[sample.bulky[0]]
    assert bulky["title"] == "Book a bulky waste collection online"
    assert (bulky["phase"], bulky["lead_council_code"], bulky["partner_council_codes"]) == ("alpha", "LDS", "")
    assert (bulky["lgsl_ids"], bulky["tags"]) == ("528", "online payments; waste")
    assert (bulky["money_target"], bulky["people_days_needed"]) == ("25000", "30")
    assert bulky["people_roles_needed"] == "User researcher; Developer"
    assert bulky["url"].endswith(f"/projects/{sample.bulky[0]}")
    tipping = by_slug[sample.tipping[0]]
    assert (tipping["lgsl_ids"], tipping["money_target"]) == ("528; 524", "")  # by label, A to Z
    welsh = by_slug["gwasanaeth-caf-ysgolion-cymru"]
    assert welsh["title"] == 'Gwasanaeth "Café" – ysgolion, Cymru'
    assert welsh["problem"] == "Line one, with a comma.\nLine two: ‘quoted’."


def test_the_projects_csv_has_each_projects_pledge_totals_as_the_api_does(client, sample):
    rows = list(csv.DictReader(io.StringIO(client.get("/data/projects.csv").get_data(as_text=True), newline="")))
    for row in rows:
        totals = client.get(f"/api/v1/projects/{row['slug']}").json["pledge_totals"]
        assert row["pledge_count"] == str(totals["count"])
        for name in ("money", "people_days", "skill_hours"):
            for which in ("pledged", "delivered"):
                assert row[f"{name}_{which}"] == str(totals[f"{name}_{which}"]), (row["slug"], name, which)
    bulky = next(row for row in rows if row["slug"] == sample.bulky[0])
    assert (bulky["pledge_count"], bulky["money_pledged"], bulky["money_delivered"]) == ("2", "5000", "5000")
    assert (bulky["people_days_pledged"], bulky["people_days_delivered"]) == ("12", "0")


def test_the_pledges_csv_holds_what_the_ledger_shows(client, sample):
    rows = list(csv.DictReader(io.StringIO(client.get("/data/pledges.csv").get_data(as_text=True), newline="")))
    api = {p["id"]: p for p in client.get("/api/v1/pledges?per_page=100").json["items"]}
    assert sorted(int(row["id"]) for row in rows) == sorted(api)
    for row in rows:
        pledge = api[int(row["id"])]
        assert row["project_slug"] == pledge["project"]["slug"] and row["council_code"] == pledge["council"]["code"]
        assert (row["kind"], row["state"], row["description"]) == (
            pledge["kind"],
            pledge["state"],
            pledge["description"],
        )
        for name in ("amount", "days", "hours", "role", "skill", "start_date", "end_date", "created_at", "url"):
            assert row[name] == ("" if pledge[name] is None else str(pledge[name])), name
    people = next(row for row in rows if row["kind"] == "people")
    assert (people["council_name"], people["role"], people["days"]) == (
        "Birmingham City Council",
        "User researcher",
        "12",
    )
    assert (people["start_date"], people["end_date"]) == ("2027-03-01", "2027-04-30")
    assert people["note"] == "Our researcher can start in March."
    assert people["url"].endswith(f"/projects/{sample.bulky[0]}/pledges#pledge-{people['id']}")
    skills = next(row for row in rows if row["kind"] == "skills")
    assert (skills["state"], skills["note"]) == ("withdrawn", "'=SUM(A1:A9) hours")
    assert skills["project_title"] == '\'=HYPERLINK("https://evil.example", "click")'


def test_cells_that_would_run_as_formulas_are_neutralised(client, sample):
    rows = list(csv.DictReader(io.StringIO(client.get("/data/projects.csv").get_data(as_text=True), newline="")))
    formula = next(row for row in rows if row["slug"] == sample.formula[0])
    assert formula["title"] == '\'=HYPERLINK("https://evil.example", "click")'
    assert formula["summary"] == "'+1 then -1 and @SUM(A1)"
    assert formula["problem"] == "'-starts with a minus"
    changes = client.get("/data/phase-changes.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in changes and "\n=HYPERLINK" not in changes


def test_safe_cell():
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("\tTAB") == "'\tTAB"
    assert safe_cell("plain") == "plain"
    assert safe_cell(25000) == 25000
    assert safe_cell(None) == ""
    assert safe_cell(True) == "true"


def test_downloads_are_streamed(client, sample):
    for url in (*(f"/data/{path}.csv" for path in DOWNLOADS), "/data/pipeline.jsonl"):
        response = client.get(url, buffered=False)
        assert response.is_streamed, url
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        response.close()


def test_the_json_lines_file_holds_everything_public(client, sample):
    response = client.get("/data/pipeline.jsonl")
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    records = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert records[0]["type"] == "dataset"
    assert "Open Government Licence v3.0" in records[0]["data"]["licences"]["project"]
    assert "CC BY 4.0" in records[0]["data"]["licences"]["council"]
    counts = {}
    for record in records[1:]:
        counts[record["type"]] = counts.get(record["type"], 0) + 1
    assert counts == {
        "project": 4,
        "phase_change": 5,
        "pledge": 4,
        "pledge_event": 9,
        "update": 1,
        "comment": 4,
        "council": 382,
        "service": 1519,
    }
    project = next(r["data"] for r in records if r["type"] == "project" and r["data"]["slug"] == sample.bulky[0])
    assert project == client.get(f"/api/v1/projects/{sample.bulky[0]}").json
    # Every record of a kind the API lists is in the file as the API shows it.
    for kind, path in (("pledge", "pledges"), ("update", "updates"), ("comment", "comments")):
        listed = client.get(f"/api/v1/{path}?per_page=100").json["items"]
        assert sorted((r["data"] for r in records if r["type"] == kind), key=lambda r: -r["id"]) == listed, kind
    ledger = client.get(f"/api/v1/projects/{sample.bulky[0]}/pledge-events?per_page=100").json["items"]
    in_file = [
        r["data"] for r in records if r["type"] == "pledge_event" and r["data"]["project"]["id"] == sample.bulky[1]
    ]
    assert sorted(in_file, key=lambda r: -r["id"]) == ledger
    council = next(r["data"] for r in records if r["type"] == "council" and r["data"]["code"] == "LDS")
    leeds = client.get("/api/v1/councils/leeds-city-council").json
    assert council == {k: v for k, v in leeds.items() if k != "projects"}


def test_the_open_data_page_and_dictionaries_state_their_licences(client, sample):
    page = client.page("/data").get_text(" ")
    assert "Open Government Licence v3.0" in page
    assert "mySociety" in page and "Local Government Services List" in page
    for path in DOWNLOADS:
        assert client.page("/data").select_one(f"a[href='/data/{path}.csv']")
        assert client.page("/data").select_one(f"a[href='/data/{path}']")
    dictionary = client.page("/data/projects")
    assert dictionary.select_one("a[href*='open-government-licence']").get_text() == "Open Government Licence v3.0"
    assert "<a" not in dictionary.get_text()
    assert "Open Government Licence v3.0" in client.page("/data/phase-changes").get_text(" ")
    assert "Open Government Licence v3.0" in client.page("/data/pledges").get_text(" ")
    councils = client.page("/data/councils").get_text(" ")
    assert "CC BY 4.0" in councils and "mySociety" in councils


@pytest.mark.parametrize(
    "url", ["/data/nothing.csv", "/data/services.csv", "/data/nothing", "/data/pledge-events.csv", "/data/comments"]
)
def test_unknown_downloads_are_not_found(client, url):
    assert client.get(url).status_code == 404
