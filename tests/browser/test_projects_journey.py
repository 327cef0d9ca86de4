"""Projects in a real browser, with axe on every page: posting past a duplicate warning, joining a team,
moving and stopping a project, browsing with filters, checking in from an email, and the service picker."""

import re

from playwright.sync_api import expect

from tests.factories import make_project
from tests.mail import body, links

BULKY_WASTE = 528


def sign_in(journey, person):
    journey.goto("/sign-in")
    journey.fill("Email address", person.email)
    journey.fill("Password", person.password)
    journey.click("Sign in")
    assert journey.heading() == "Your account"


def sign_out(journey):
    journey.click("Sign out")


def tick_service_by_keyboard(journey, query: str, label: str):
    """Type in the service search, wait for the live region, and tick a result with the keyboard alone."""
    page = journey.page
    page.get_by_label("Search for a service", exact=True).fill(query)
    expect(page.locator(".app-service-status")).to_contain_text("found for")
    journey.check()  # axe on the page with its results showing
    page.get_by_label("Search for a service", exact=True).press("ArrowDown")
    while page.evaluate("document.activeElement.labels?.[0]?.textContent") != label:
        page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(page.get_by_label(label, exact=True)).to_be_checked()


def test_post_a_project_after_seeing_a_duplicate_warning(journey, app, make_officer):
    make_project(
        app,
        make_officer("BIR"),
        title="Bulky waste booking",
        problem="Residents phone to book bulky waste collections",
        service_ids=[BULKY_WASTE],
    )
    sign_in(journey, make_officer("LDS"))
    journey.goto("/projects/new")
    journey.fill("Project title", "Book a bulky waste collection online")
    journey.fill("One-line summary", "Residents book and pay online")
    journey.fill("What problem are you trying to solve?", "Residents phone us to book bulky waste collections.")
    tick_service_by_keyboard(journey, "bulky", "Bulky household waste collections")
    journey.click("Post project")

    banner = journey.page.locator("#duplicates")
    expect(banner).to_contain_text("Has another council already solved this?")
    expect(banner).to_contain_text("Bulky waste booking")
    expect(banner.get_by_role("link", name="Ask to join this project instead")).to_have_attribute(
        "href", "/projects/bulky-waste-booking#join"
    )
    # What was typed and ticked is kept.
    expect(journey.page.get_by_label("Bulky household waste collections", exact=True)).to_be_checked()

    journey.click("Post mine anyway")
    assert journey.heading() == "Book a bulky waste collection online"
    expect(journey.page.locator("main")).to_contain_text("Bulky household waste collections")


def test_a_second_councils_officer_asks_to_join_and_is_accepted(journey, app, make_officer, mailbox):
    owner = make_officer("LDS", name="Jo Owner")
    slug, _ = make_project(app, owner, title="Bulky waste booking", phase="discovery")
    joiner = make_officer("BIR", name="Sam Lee")
    mailbox.clear()

    # The duplicate warning's link lands on the join section.
    sign_in(journey, joiner)
    journey.goto(f"/projects/{slug}#join")
    journey.fill("Your message to the team", "Birmingham runs the same service and could share user research.")
    journey.click("Ask to join")
    expect(journey.page.locator(".govuk-notification-banner")).to_contain_text("Your request to join has been sent")
    expect(journey.page.locator("#join")).to_contain_text("You asked to join on")
    sign_out(journey)

    [request_email] = mailbox.wait_for(owner.email)
    [team_link] = [link for link in links(request_email) if "/team" in link]
    sign_in(journey, owner)
    journey.goto(team_link)
    assert journey.heading() == "Team and councils"
    expect(journey.page.locator("#requests + ul")).to_contain_text("could share user research")
    journey.click("Accept request from Sam Lee")
    expect(journey.page.locator(".govuk-notification-banner")).to_contain_text("Sam Lee is now on the team")
    expect(journey.page.locator("#members ~ table").first).to_contain_text("Sam Lee")
    expect(journey.page.locator("#councils ~ table").first).to_contain_text("Birmingham City Council")
    sign_out(journey)

    [decision] = mailbox.wait_for(joiner.email)
    assert "You are now on the team" in body(decision)
    sign_in(journey, joiner)
    journey.goto([link for link in links(decision) if "/projects/" in link][0])
    expect(journey.page.get_by_role("button", name="Edit project")).to_be_visible()
    # Birmingham's own officer commits Birmingham.
    journey.click("Manage the team and councils", role="link")
    journey.click("Mark as committed Birmingham City Council")
    expect(journey.page.locator(".govuk-notification-banner")).to_contain_text("now committed")


def test_the_team_moves_a_project_to_alpha_then_stops_it(journey, app, make_officer):
    owner = make_officer("LDS")
    slug, _ = make_project(app, owner, title="Chatbot for council tax", phase="discovery")
    sign_in(journey, owner)
    journey.goto(f"/projects/{slug}")

    journey.click("Change phase", role="button")
    journey.page.get_by_label("Alpha", exact=True).check()
    journey.fill("Note", "Discovery showed residents want to ask questions out of hours.")
    journey.fill("Evidence link (optional)", "https://example.org/discovery-report")
    journey.click("Change phase")
    assert journey.heading() == "Chatbot for council tax"
    timeline = journey.page.locator(".app-timeline")
    expect(timeline).to_contain_text("Moved from discovery to alpha")
    expect(timeline).to_contain_text("out of hours")

    journey.click("Change phase", role="button")
    journey.page.get_by_label("Stopped", exact=True).check()
    journey.fill("Note", "Funding ended.")
    journey.click("Change phase")
    assert journey.page.title().startswith("Error: ")
    expect(journey.page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the outcome of the project before stopping it"
    )
    journey.page.get_by_label("Stopped", exact=True).check()
    journey.fill("Outcome", "We stopped after alpha: the supplier market was not ready.")
    journey.fill("Lessons learnt", "Test with residents in week one.")
    journey.click("Change phase")
    main = journey.page.locator("main")
    expect(main).to_contain_text("Test with residents in week one.")
    expect(journey.page.locator(".app-timeline")).to_contain_text("Moved from alpha to stopped")
    # A stopped project takes no new members and has no Check in button.
    expect(journey.page.get_by_role("button", name="Check in")).to_have_count(0)


def test_browse_projects_with_filters(journey, app, make_officer):
    make_project(app, make_officer("LDS"), title="Leeds housing repairs", phase="alpha", tags=["housing"])
    make_project(app, make_officer("CRF"), title="Cardiff parking permits", phase="beta", service_ids=[BULKY_WASTE])
    journey.goto("/projects")
    cards = journey.page.locator(".app-card h2")
    expect(cards).to_have_count(2)

    journey.page.get_by_label(re.compile(r"^Beta \(\d+\)$")).check()  # each phase shows its count
    journey.click("Apply filters")
    expect(cards).to_have_text(["Cardiff parking permits"])
    assert "phase=beta" in journey.page.url

    journey.page.get_by_label(re.compile(r"^Beta \(\d+\)$")).uncheck()
    journey.page.get_by_label("Nation", exact=True).select_option("England")
    journey.page.get_by_label("Tag", exact=True).select_option(label="housing")
    journey.click("Apply filters")
    expect(cards).to_have_text(["Leeds housing repairs"])
    expect(journey.page.locator("#result-count")).to_have_text("1 project matches your filters")

    # The filtered view is a URL that can be shared.
    journey.goto(journey.page.url.removeprefix(journey.base_url))
    expect(cards).to_have_text(["Leeds housing repairs"])
    journey.click("Clear search and filters", role="link")
    expect(cards).to_have_count(2)


def test_an_owner_checks_in_from_the_still_active_email(journey, app, make_officer, mailbox):
    from datetime import timedelta

    from pipeline.extensions import db
    from pipeline.models import Project
    from pipeline.timeutil import utcnow

    owner = make_officer("LDS")
    slug, project_id = make_project(app, owner, title="Quiet project")
    with app.app_context():
        db.session.get(Project, project_id).active_at = utcnow() - timedelta(days=120)
        db.session.commit()
    mailbox.clear()
    result = app.test_cli_runner().invoke(args=["projects", "daily"])
    assert result.exit_code == 0, result.output
    [email] = [m for m in mailbox.wait_for(owner.email) if m["Subject"] == "Is Quiet project still active?"]
    [link] = [link for link in links(email) if "/check-in/" in link]

    # Not signed in: the link shows a button and changes nothing until it is pressed.
    journey.goto(link)
    assert journey.heading() == "Is Quiet project still active?"
    journey.click("Yes, it’s still active")
    assert journey.heading() == "Quiet project"
    banner = journey.page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("Quiet project is marked as still active")
    expect(journey.page.locator("main")).not_to_contain_text("Dormant")


def test_the_service_picker_by_keyboard_and_its_live_region(journey, make_officer):
    sign_in(journey, make_officer("LDS"))
    journey.goto("/projects/new")
    page = journey.page
    search = page.get_by_label("Search for a service", exact=True)
    expect(search).to_have_attribute("aria-controls", "service-results")

    search.fill("zzzz no such service")
    status = page.locator(".app-service-status")
    expect(status).to_have_text("No services match “zzzz no such service”. Try another word.")
    expect(status).to_have_attribute("role", "status")

    # Enter searches at once instead of sending the form.
    search.fill("parking permit")
    search.press("Enter")
    expect(status).to_contain_text("found for “parking permit”")
    assert journey.heading() == "Post a project"
    results = page.locator("#service-results input")
    first_label = page.locator("#service-results label").first.inner_text()
    search.press("ArrowDown")
    expect(results.first).to_be_focused()
    page.keyboard.press("Space")

    # A new search keeps what was ticked: it moves up into the chosen services.
    search.fill("bulky")
    expect(status).to_contain_text("found for “bulky”")
    expect(page.locator("#service-choices").get_by_label(first_label, exact=True)).to_be_checked()
    journey.check()
