"""The dashboard: charts people read at a glance, each with words and a table, and figures equal to the API's."""

from collections import Counter
from datetime import timedelta

import pytest

from pipeline.extensions import db
from pipeline.models import Project
from pipeline.timeutil import utcnow
from tests.opendata import add_conversation_and_pledges, add_projects, make_sample
from tests.pages import assert_statement_count_is_flat


@pytest.fixture
def sample(app, make_officer):
    sample = make_sample(app, make_officer)
    with app.app_context():
        # One project went quiet (dormant: hidden from lists by default) and one was posted two months ago.
        db.session.get(Project, sample.tipping[1]).active_at = utcnow() - timedelta(days=200)
        db.session.get(Project, sample.formula[1]).created_at = utcnow() - timedelta(days=62)
        db.session.commit()
    return sample


def table(soup, name: str) -> list[list[str]]:
    rows = soup.select(f"#{name}-table tbody tr")
    return [[" ".join(cell.get_text().split()) for cell in row.select("th, td")] for row in rows]


def number(text: str) -> int:
    return int(text.replace(",", ""))


def money(text: str) -> int:
    return number(text.removeprefix("£"))


def test_the_dashboards_figures_equal_the_apis(client, sample):
    soup = client.page("/dashboard")
    stats = client.get("/api/v1/statistics").json

    phases = {label.removesuffix(" (closed)").lower(): number(count) for label, count in table(soup, "phases")}
    assert phases == {p["phase"]: p["count"] for p in stats["projects"]["by_phase"]}
    for phase, count in phases.items():
        assert client.get(f"/api/v1/projects?phase={phase}&dormant=include").json["total"] == count
    assert sum(phases.values()) == stats["projects"]["total"] == 3

    months = [(label, number(count)) for label, count in table(soup, "months")]
    assert [count for _, count in months] == [m["count"] for m in stats["new_projects_by_month"]]
    everything = client.get("/api/v1/projects?dormant=include&per_page=100").json["items"]
    posted = Counter(p["created_at"][:7] for p in everything)
    assert {m["month"]: m["count"] for m in stats["new_projects_by_month"] if m["count"]} == posted
    assert len(posted) == 2

    regions = [(nation, region, number(taking), number(n)) for nation, region, taking, n in table(soup, "councils")]
    assert regions == [(r["nation"], r["region"], r["taking_part"], r["total"]) for r in stats["councils"]["by_region"]]
    for nation, region, taking_part, total in regions:
        councils = client.get(f"/api/v1/councils?nation={nation}&region={region}&per_page=100").json
        assert councils["total"] == total
        assert sum(1 for c in councils["items"] if c["project_count"]) == taking_part
    assert stats["councils"]["taking_part"] == 2 and stats["councils"]["total"] == 382

    services = [(label, number(lgsl_id), number(count)) for label, lgsl_id, count in table(soup, "services")]
    assert services == [(s["label"], s["lgsl_id"], s["project_count"]) for s in stats["most_shared_services"]]
    for _, lgsl_id, count in services:
        assert client.get(f"/api/v1/services/{lgsl_id}").json["project_count"] == count
        assert client.get(f"/api/v1/projects?service={lgsl_id}&dormant=include").json["total"] == count
    assert services[0] == ("Bulky household waste collections", 528, 2)

    key_figures = " ".join(soup.select_one(".app-key-figures").get_text(" ").split())
    assert "3 projects" in key_figures and "2 of 382 councils" in key_figures and "2 pledges" in key_figures

    pledged = {what: (money(p), money(d)) for what, p, d in table(soup, "pledges")}
    figures = stats["pledges"]
    assert pledged == {
        "Money": (figures["money_pledged"], figures["money_delivered"]),
        "People (days)": (figures["people_days_pledged"], figures["people_days_delivered"]),
        "Skills (hours)": (figures["skill_hours_pledged"], figures["skill_hours_delivered"]),
    }
    # The totals are every project's totals added up, as the API gives them.
    added = Counter()
    for project in everything:
        added.update(client.get(f"/api/v1/projects/{project['slug']}").json["pledge_totals"])
    assert {k: v for k, v in figures.items() if k != "by_month"} == {k: added[k] for k in figures if k != "by_month"}
    assert (figures["count"], figures["money_pledged"], figures["money_delivered"]) == (2, 5_000, 5_000)

    by_month = [number(count) for _, count in table(soup, "pledge-months")]
    assert by_month == [m["count"] for m in figures["by_month"]]
    pledges = client.get("/api/v1/pledges?per_page=100").json["items"]
    made = Counter(p["created_at"][:7] for p in pledges)
    assert {m["month"]: m["count"] for m in figures["by_month"] if m["count"]} == made
    assert sum(by_month) == len(pledges) == 4


def test_each_chart_is_a_picture_with_words_and_a_table(client, sample):
    soup = client.page("/dashboard")
    for name in ("phases", "months", "councils", "services", "pledges", "pledge-months"):
        section = soup.select_one(f"#{name}")
        summary = section.select_one(f"#{name}-summary").get_text(strip=True)
        svg = section.select_one("svg[role=img]")
        title = svg.select_one(f"title#{svg['aria-labelledby']}")
        assert summary and summary in title.get_text()
        assert svg.select("rect"), name
        assert section.select_one("details table.govuk-table"), name
    assert "3 projects in all. Open: idea 1, discovery 0, alpha 2, beta 0, live 0." in soup.get_text()
    assert soup.select_one("#phases svg").select("rect.app-chart__bar--muted") == []  # no closed project has a bar
    assert (
        "2 pledges to projects, not counting withdrawn or declined ones: £5,000, 12 days of people’s time and "
        "0 hours of skills. "
        "Delivered so far: £5,000 (100%), 0 days (0%) and 0 hours." in soup.get_text()
    )
    # Money and people's time were pledged, so each has a track; only the money is filled.
    delivered = soup.select_one("#pledges svg")
    assert len(delivered.select("rect.app-chart__track")) == 2 and len(delivered.select("rect.app-chart__bar")) == 1
    assert "4 pledges made in the last 12 months" in soup.select_one("#pledge-months-summary").get_text()


def test_an_empty_dashboard_says_so(client):
    soup = client.page("/dashboard")
    text = soup.get_text(" ")
    assert "No projects have been posted yet." in text
    assert "No projects were posted in the last 12 months." in text
    assert "None of the 382 councils takes part in a project yet." in text
    assert "No project names a service yet." in text
    assert "No council has pledged to a project yet." in text
    assert "No pledges were made in the last 12 months." in text


def test_the_dashboard_runs_a_fixed_number_of_statements(app, client, sample):
    def more_rows():
        for _, project_id in add_projects(app, sample.birmingham_officer, 4):
            add_conversation_and_pledges(app, sample.birmingham_officer, sample.leeds_officer, project_id, 2)

    assert_statement_count_is_flat(client, "/dashboard", more_rows, budget=8)


def test_every_page_links_to_the_dashboard_and_open_data(client):
    footer = client.page("/").select_one(".govuk-footer")
    assert footer.select_one("a[href='/dashboard']").get_text() == "Dashboard"
    assert footer.select_one("a[href='/data']").get_text() == "Open data"
