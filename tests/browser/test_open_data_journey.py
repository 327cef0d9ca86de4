"""Open data in a real browser: the dashboard, the downloads and the API documentation pass axe."""

from tests.opendata import make_sample


def test_someone_finds_the_figures_and_the_open_data(journey, app, make_officer):
    make_sample(app, make_officer)
    journey.goto("/")
    journey.click("Dashboard", role="link")
    assert journey.heading() == "Dashboard"
    page = journey.page
    assert page.locator("svg[role=img]").count() == 6
    page.get_by_text("Projects by phase as a table").click()
    assert page.locator("#phases-table").is_visible()
    page.get_by_text("Pledged and delivered as a table").click()
    assert page.locator("#pledges-table").is_visible()
    journey.check()

    journey.click("Open data", role="link")
    assert journey.heading() == "Open data"
    journey.click("Projects: data dictionary", role="link")
    assert journey.heading() == "Projects: data dictionary"
    journey.goto("/data/councils")
    journey.goto("/data/phase-changes")
    journey.goto("/data/pledges")
    journey.goto("/api")
    assert journey.heading() == "Pipeline API"
    page.get_by_text("Fields of a 200 response").first.click()
    journey.check()
    journey.goto("/projects/book-a-bulky-waste-collection-online")
    journey.goto("/services/528")


def test_the_dashboard_works_without_javascript(browser, live_server, app, make_officer, artifacts_dir):
    make_sample(app, make_officer)
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/dashboard")
        charts = page.locator("svg[role=img]")
        assert charts.count() == 6
        for index in range(6):
            box = charts.nth(index).bounding_box()
            assert box and box["width"] > 300 and box["height"] > 40
        page.get_by_text("Most-shared services as a table").click()
        assert page.locator("#services-table").is_visible()
        assert "Bulky household waste collections" in page.locator("#services-table").inner_text()
        page.screenshot(path=str(artifacts_dir / "browser" / "dashboard-no-javascript.png"), full_page=True)
    finally:
        context.close()
