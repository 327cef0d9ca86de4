"""Pledging people and money to another council's project, through acceptance, a change and delivery, in a real
browser; and the needs board showing an unmet ask until it is pledged in full. Axe checks every page."""

import re
from datetime import date, timedelta

from pipeline.extensions import db
from pipeline.models import Project
from pipeline.models.project import DORMANT_AFTER_DAYS
from pipeline.timeutil import utcnow
from tests.factories import NeedInput, make_project


def sign_in(journey, person) -> None:
    journey.goto("/sign-in")
    journey.fill("Email address", person.email)
    journey.fill("Password", person.password)
    journey.click("Sign in")
    assert journey.heading() == "Your account"


def sign_out(journey) -> None:
    journey.click("Sign out")


def text(journey, selector: str = "main") -> str:
    return " ".join(journey.page.locator(selector).first.inner_text().split())


def project_pledges(journey, slug: str) -> str:
    """The pledges section of the project page, as one line of text."""
    journey.goto(f"/projects/{slug}")
    return _section(journey)


def _section(journey) -> str:
    # Everything from the Pledges heading to the Timeline heading of the project page.
    return text(journey).split(" Pledges ", 1)[1].split(" Timeline ", 1)[0]


def ledger(journey, slug: str) -> list[str]:
    journey.goto(f"/projects/{slug}/pledges")
    return [" ".join(h.split()) for h in journey.page.locator("#ledger + ol h3").all_inner_texts()]


def test_pledge_accept_decline_change_and_deliver(journey, app, make_officer, mailbox):
    team = make_officer("LDS", name="Tara Team")
    pledger = make_officer("BIR", name="Priya Pledger")
    slug, _ = make_project(
        app,
        team,
        title="Bin collection reminders",
        money_target=20_000,
        people_needs=[NeedInput("User researcher", 10, date(2027, 3, 1), date(2027, 4, 30))],
    )
    page = journey.page

    # An officer of Birmingham pledges 10 days of a user researcher to Leeds's project.
    sign_in(journey, pledger)
    assert "0 days pledged of 10 days asked for (0%)" in project_pledges(journey, slug)
    journey.click("Pledge")
    assert journey.heading() == "Pledge to Bin collection reminders"
    journey.click("Continue")
    assert page.title().startswith("Error: ")
    page.get_by_label("People", exact=True).check()
    journey.click("Continue")
    assert journey.heading() == "Pledge people to Bin collection reminders"
    page.get_by_label(re.compile(r"User researcher \(")).check()
    journey.fill("How many days?", "10")
    journey.click("Send pledge")
    assert "You pledged User researcher, 10 days to Bin collection reminders." in text(journey)
    assert "10 days pledged of 10 days asked for (100%)" in _section(journey)

    # ... and £5,000, after first typing an amount that is not whole pounds.
    journey.click("Pledge")
    page.get_by_label("Money", exact=True).check()
    journey.click("Continue")
    journey.fill("How much are you pledging?", "5000.50")
    journey.click("Send pledge")
    assert "Enter the amount as a whole number of pounds, like 5000" in text(journey, ".govuk-error-summary")
    journey.fill("How much are you pledging?", "5000")
    journey.click("Send pledge")
    section = _section(journey)
    assert "£5,000 pledged of £20,000 asked for (25%)" in section
    assert "Birmingham City Council: £5,000, 10 days" in section
    assert ledger(journey, slug) == [
        "Birmingham City Council offered User researcher, 10 days",
        "Birmingham City Council offered £5,000",
    ]
    sign_out(journey)

    # The team accepts the people and declines the money.
    sign_in(journey, team)
    journey.goto("/my-pledges")
    journey.click("Accept the pledge of User researcher, 10 days from Birmingham City Council", role="link")
    assert journey.heading() == "Accept this pledge"
    journey.click("Accept pledge")
    assert journey.heading() == "Your pledges"
    journey.click("Decline the pledge of £5,000 from Birmingham City Council", role="link")
    journey.click("Decline pledge")
    assert "Enter a reason for declining the pledge" in text(journey, ".govuk-error-summary")
    journey.fill("Why are you declining it?", "A grant covers the money")
    journey.click("Decline pledge")
    section = project_pledges(journey, slug)
    assert "£0 pledged of £20,000 asked for (0%)" in section
    assert "10 days pledged of 10 days asked for (100%)" in section
    assert ledger(journey, slug)[2:] == [
        "The team accepted Birmingham City Council’s pledge of User researcher, 10 days",
        "The team declined Birmingham City Council’s pledge of £5,000",
    ]
    assert "A grant covers the money" in text(journey, "#ledger + ol")
    sign_out(journey)

    # The pledger changes the days.
    sign_in(journey, pledger)
    journey.click("Your pledges", role="link")
    journey.click("Change the pledge of User researcher, 10 days from Birmingham City Council", role="link")
    assert journey.heading() == "Change your pledge to Bin collection reminders"
    journey.fill("Days", "8")
    journey.fill("Why are you changing it? (optional)", "Our researcher is away for two days")
    journey.click("Save changes")
    assert journey.heading() == "Your pledges"
    assert "8 days pledged of 10 days asked for (80%)" in project_pledges(journey, slug)
    assert ledger(journey, slug)[-1] == "Birmingham City Council changed its pledge to User researcher, 8 days"
    assert "Days: 10 to 8" in text(journey, "#ledger + ol")
    sign_out(journey)

    # The team marks it delivered.
    sign_in(journey, team)
    journey.goto(f"/projects/{slug}/pledges")
    journey.click("Mark delivered the pledge of User researcher, 8 days from Birmingham City Council", role="link")
    journey.fill("Note (optional)", "Research round done")
    journey.click("Mark as delivered")
    assert journey.heading() == "Pledges to Bin collection reminders"
    section = project_pledges(journey, slug)
    assert "8 days pledged of 10 days asked for (80%)" in section
    assert "8 days delivered of 8 days pledged (100%)" in section
    assert ledger(journey, slug) == [
        "Birmingham City Council offered User researcher, 10 days",
        "Birmingham City Council offered £5,000",
        "The team accepted Birmingham City Council’s pledge of User researcher, 10 days",
        "The team declined Birmingham City Council’s pledge of £5,000",
        "Birmingham City Council changed its pledge to User researcher, 8 days",
        "The team marked Birmingham City Council’s pledge of User researcher, 8 days delivered",
    ]
    journey.goto("/councils/birmingham-city-council")
    assert "User researcher, 8 days Delivered" in text(journey, "main")
    subjects = [m["Subject"] for m in mailbox.wait_for(pledger.email, 3)]
    assert subjects[-1] == "Your pledge to Bin collection reminders has been marked delivered"


def test_the_needs_board_shows_an_ask_until_it_is_pledged_in_full(journey, app, make_officer):
    team = make_officer("LDS")
    pledger = make_officer("CRF")
    slug, _ = make_project(app, team, title="Street lighting faults", people_needs=[NeedInput("Developer", 6)])
    chatbot = make_project(app, team, title="Council tax chatbot", people_needs=[NeedInput("Content designer", 3)])

    sign_in(journey, pledger)
    journey.goto("/")
    journey.click("Needs", role="link")
    assert journey.heading() == "What projects need"
    assert "Developer: 6 days still needed of 6 days asked for." in text(journey)
    journey.page.get_by_label("Role", exact=True).select_option(label="Developer")
    journey.click("Apply filters")
    assert "Council tax chatbot" not in text(journey) and "Street lighting faults" in text(journey)
    journey.click("Pledge towards the Developer need of Street lighting faults", role="link")
    assert journey.heading() == "Pledge people to Street lighting faults"
    assert journey.page.get_by_label(re.compile(r"Developer \(")).is_checked()
    journey.fill("How many days?", "4")
    journey.click("Send pledge")
    journey.goto("/needs")
    assert "Developer: 2 days still needed of 6 days asked for." in text(journey)

    journey.goto(f"/projects/{slug}/pledge?kind=people")
    journey.page.get_by_label(re.compile(r"Developer \(")).check()
    journey.fill("How many days?", "2")
    journey.click("Send pledge")
    journey.goto("/needs")
    assert "Street lighting faults" not in text(journey)
    assert "Council tax chatbot" in text(journey)

    # A project nobody has touched for months leaves the board, until dormant projects are asked for.
    with app.app_context():
        db.session.get(Project, chatbot[1]).active_at = utcnow() - timedelta(days=DORMANT_AFTER_DAYS + 1)
        db.session.commit()
    journey.goto("/needs")
    assert "Council tax chatbot" not in text(journey)
    journey.page.get_by_label("Include dormant projects").check()
    journey.click("Apply filters")
    card = text(journey, ".app-card")
    assert card.startswith("Council tax chatbot") and "Dormant" in card
