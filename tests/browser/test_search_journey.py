"""Search with a phrase and a filter, see the highlights and facet counts, save the search and hear of a new
matching project, in a real browser."""

from tests.factories import make_project

BULKY_WASTE, HOUSEHOLD_WASTE = 528, 524


def test_search_filter_and_save(journey, app, make_officer):
    leeds, cardiff = make_officer("LDS"), make_officer("CRF")
    make_project(
        app, leeds, title="Book a bulky waste collection online", phase="alpha", service_ids=[BULKY_WASTE],
        problem="Residents phone the contact centre to book bulky waste collections.", tags=["waste"],
    )  # fmt: skip
    make_project(
        app, cardiff, title="Bulky waste in Cardiff", phase="beta", service_ids=[BULKY_WASTE],
        problem="Bulky waste bookings are changed by phone.",
    )  # fmt: skip
    make_project(app, leeds, title="Bin collection day finder", phase="discovery", service_ids=[HOUSEHOLD_WASTE])

    journey.goto("/sign-in")
    journey.fill("Email address", leeds.email)
    journey.fill("Password", leeds.password)
    journey.click("Sign in")

    journey.goto("/projects")
    page = journey.page
    journey.fill("Search projects", '"bulky waste"')
    page.get_by_label("Nation", exact=True).select_option("England")
    journey.click("Search")
    assert journey.heading() == "Projects"
    assert page.locator("#result-count").inner_text() == '1 project matches ‘"bulky waste"’ with your filters'
    result = page.locator(".app-search-result")
    assert result.locator("h2").inner_text() == "Book a bulky waste collection online"
    # SQLite marks the phrase as one run, PostgreSQL each word: either way both words are marked.
    marked = " ".join(result.locator("mark").all_inner_texts()).lower()
    assert "bulky" in marked and "waste" in marked
    # Facet counts: the other nation and the other phases still say what they would give.
    assert page.get_by_label("Nation", exact=True).locator("option[value='Wales']").inner_text() == "Wales (1)"
    assert page.locator("label[for='filter-phase-alpha']").inner_text() == "Alpha (1)"
    assert page.locator("label[for='filter-phase-beta']").inner_text() == "Beta (0)"

    journey.click("Save this search")
    assert journey.heading() == "Your saved searches"
    saved = page.locator("#saved-searches li").first
    assert saved.locator("h2").inner_text() == '‘"bulky waste"’; Nation: England'

    banner = page.locator(".govuk-notification-banner").inner_text()
    assert "We will tell you about new projects that match it." in banner
    assert saved.get_by_role("button", name="Unfollow").count() == 1  # saving follows it

    # Another English council posts a project the search finds: it comes in the notifications.
    make_project(
        app, make_officer("MAN"), title="Bulky waste collections in Manchester", service_ids=[BULKY_WASTE],
        problem="Booking a bulky waste collection takes three phone calls.",
    )  # fmt: skip
    make_project(app, cardiff, title="More bulky waste in Cardiff")  # Wales: the saved filter leaves it out
    journey.goto("/saved-searches")
    assert page.get_by_role("link", name="Notifications 1 new").count() == 1
    journey.click("Notifications 1 new", role="link")
    assert journey.heading() == "Your notifications"
    notices = page.locator("main").inner_text()
    assert "posted Bulky waste collections in Manchester" in notices
    assert "More bulky waste in Cardiff" not in notices

    journey.goto("/saved-searches")
    journey.click('‘"bulky waste"’; Nation: England', role="link")
    results = page.locator(".app-search-result h2").all_inner_texts()
    assert sorted(results) == ["Book a bulky waste collection online", "Bulky waste collections in Manchester"]

    # The project page shows the similar projects, and why.
    journey.click("Book a bulky waste collection online", role="link")
    similar = page.locator("#similar + ul")
    assert "Bulky waste in Cardiff" in similar.inner_text()
    assert "Same service: Bulky household waste collections" in similar.inner_text()


def test_a_search_that_finds_nothing_passes_axe(journey, app, make_officer):
    make_project(app, make_officer("LDS"), title="Bin collection day finder", phase="alpha")
    journey.goto("/projects?q=zebra&phase=alpha")
    assert journey.page.locator("#remove-filters a").inner_text() == "Remove ‘Phase: Alpha’"
    journey.goto("/projects?q=" + "bins+" * 100)
    assert "only its first 200 characters" in journey.page.locator(".app-search-notice").inner_text()
