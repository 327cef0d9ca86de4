"""Public council pages."""

from sqlalchemy import func, select

from pipeline.extensions import db
from pipeline.models import Council
from tests.pages import statement_count


def test_councils_are_grouped_by_nation_and_region(client, app):
    soup = client.page("/councils")
    nations = [h.get_text(strip=True) for h in soup.select("h2.govuk-heading-l")]
    assert nations == ["England", "Scotland", "Wales", "Northern Ireland"]
    assert "South East" in [h.get_text(strip=True) for h in soup.select("h3")]
    links = soup.select("main a[href^='/councils/']")
    with app.app_context():
        assert len(links) == db.session.scalar(select(func.count()).select_from(Council)) == 382


def test_council_page(client):
    soup = client.page("/councils/leeds-city-council")
    assert soup.h1.get_text(strip=True) == "Leeds City Council"
    text = soup.get_text(" ")
    assert "Yorkshire and The Humber" in text
    assert "leeds.gov.uk" in text


def test_unknown_council_is_a_404(client):
    client.page("/councils/not-a-council", status=404)


def test_council_pages_run_a_fixed_number_of_statements(client):
    assert statement_count(client.get("/councils")) <= 3
    assert statement_count(client.get("/councils/leeds-city-council")) <= 6


def test_council_website_is_a_link(client):
    soup = client.page("/councils/leeds-city-council")
    link = soup.select_one(".govuk-summary-list a[href='https://www.leeds.gov.uk']")
    assert link is not None and link.get_text() == "leeds.gov.uk"
