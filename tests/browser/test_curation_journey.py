"""An organiser's journeys: two factors, a reported comment, a duplicate merged, featuring, a waiting officer's
domain, and the audit log; and a pledger moving a pledge after a merge."""

import pyotp

from pipeline.extensions import db
from pipeline.models import User
from pipeline.services import comments, pledges
from tests.conversation_factories import comment
from tests.factories import make_project
from tests.mail import links

BULKY_WASTE = 528


def sign_in_with_two_factors(journey, person) -> pyotp.TOTP:
    journey.goto("/sign-in")
    journey.fill("Email address", person.email)
    journey.fill("Password", person.password)
    journey.click("Sign in")
    journey.goto("/organise")
    assert journey.heading() == "Set up two-factor sign-in"
    journey.click("Set up two-factor sign-in")
    totp = pyotp.TOTP(journey.page.locator("#totp-secret").inner_text().strip())
    journey.fill("Code", totp.now())
    journey.click("Continue")
    assert journey.heading() == "Two-factor sign-in is set up"
    journey.click("Continue")  # a link styled, and announced, as a button
    assert journey.heading() == "Organiser workbench"
    return totp


def test_organiser_adds_a_domain_features_a_project_and_finds_it_in_the_audit_log(
    journey, app, make_officer, mailbox, browser, live_server
):
    # Someone from a council whose domain Pipeline lacks asks for it to be added.
    waiting = browser.new_context(base_url=live_server).new_page()
    waiting.goto(live_server + "/register/request-domain?email=sam@harbourcouncil.gov.uk")
    waiting.get_by_label("Full name", exact=True).fill("Sam Harbour")
    waiting.get_by_label("Council or organisation you work for", exact=True).fill("Harbour Council")
    waiting.get_by_role("button", name="Ask an organiser").click()
    waiting.wait_for_load_state()

    person = make_officer("LDS", name="Olu Organiser", role="organiser")
    slug, _ = make_project(app, make_officer("BIR"), title="Shared digital front door")
    sign_in_with_two_factors(journey, person)

    assert "sam@harbourcouncil.gov.uk" in journey.page.locator("#domain-requests ~ table").inner_text()
    journey.page.get_by_label("Add harbourcouncil.gov.uk to", exact=True).select_option(label="Leeds City Council")
    journey.click("Add domain for sam@harbourcouncil.gov.uk")
    assert "Added harbourcouncil.gov.uk." in journey.page.content()
    [message] = mailbox.wait_for("sam@harbourcouncil.gov.uk")
    assert any(link.endswith("/register") for link in links(message))

    journey.goto(f"/projects/{slug}")
    journey.click("Feature on the home page")
    journey.goto("/")
    assert "Shared digital front door" in journey.page.locator("#featured").inner_text()

    journey.goto("/organise/audit")
    log = journey.page.locator("tbody").inner_text()
    assert "Added an email domain" in log and "Featured a project" in log and "Turned on two-factor sign-in" in log
    journey.page.get_by_label("Action", exact=True).select_option(label="Featured a project")
    journey.click("Filter")
    assert journey.page.locator("tbody tr").count() == 1


def test_organiser_clears_a_report_merges_a_duplicate_features_a_project_and_adds_a_domain(
    journey, app, make_officer, mailbox, browser, live_server
):
    # Sam's council has no domain on Pipeline yet: Sam asks for it.
    waiting = browser.new_context(base_url=live_server).new_page()
    waiting.goto(live_server + "/register/request-domain?email=sam@harbourcouncil.gov.uk")
    waiting.get_by_label("Full name", exact=True).fill("Sam Harbour")
    waiting.get_by_label("Council or organisation you work for", exact=True).fill("Harbour Council")
    waiting.get_by_role("button", name="Ask an organiser").click()
    waiting.wait_for_load_state()

    # Two councils started the same project; a comment on one is reported.
    priya, marta = make_officer("BIR", name="Priya Owner"), make_officer("MAN", name="Marta Owner")
    target, target_id = make_project(
        app,
        priya,
        title="Book a bulky waste collection online",
        problem="Residents phone us to book bulky waste collections.",
        service_ids=[BULKY_WASTE],
    )
    source, source_id = make_project(
        app,
        marta,
        title="Bulky waste collection booking",
        problem="Residents cannot book a bulky waste collection online.",
        service_ids=[BULKY_WASTE],
    )
    spammer = make_officer("CRF", name="Sam Spammer")
    spam = comment(app, spammer, source_id, "Buy cheap watches")
    comment(app, marta, source_id, "We have a supplier shortlist")
    with app.app_context():
        comments.report_comment(db.session.get(User, priya.id), spam, "Advertising")
    person = make_officer("LDS", name="Olu Organiser", role="organiser")

    sign_in_with_two_factors(journey, person)

    # The reported comment: read it and why it was reported, then hide it with a reason.
    reported = journey.page.locator(f"#reported-comment-{spam}")
    assert "Buy cheap watches" in reported.inner_text() and "Advertising" in reported.inner_text()
    journey.fill("Reason", "Advertising is not allowed on Pipeline")
    journey.click("Hide comment by Sam Spammer on Bulky waste collection booking")
    assert "The comment is hidden. Its author has been told why." in journey.page.content()
    assert journey.page.locator(f"#reported-comment-{spam}").count() == 0
    [told] = [m for m in mailbox.wait_for(spammer.email) if "hidden" in m["Subject"]]
    assert "Advertising is not allowed on Pipeline" in told.get_body().get_content()

    # The duplicate: look, check what moves, merge.
    journey.click("Look for duplicates now")
    pair = journey.page.locator("#duplicates ~ .app-card").first
    assert "Same service: Bulky household waste collections" in pair.inner_text()
    journey.click("Merge Bulky waste collection booking into Book a bulky waste collection online", role="link")
    assert journey.heading() == "Merge Bulky waste collection booking into another project"
    assert "Comments" in journey.page.locator(".govuk-summary-list").inner_text()
    journey.fill("Reason (optional)", "Manchester and Birmingham are doing the same thing")
    journey.click("Merge projects")
    assert journey.heading() == "Book a bulky waste collection online"
    merged = journey.page.locator("#merged-in + ol")
    assert "Bulky waste collection booking was merged into this project" in merged.inner_text()
    assert "We have a supplier shortlist" in journey.page.content()
    assert "Hidden by an organiser" in journey.page.content() and "Buy cheap watches" not in journey.page.content()

    # The old address leads here; the old project's history says where it went.
    journey.goto(f"/projects/{source}")
    assert journey.page.url.endswith(f"/projects/{target}")
    journey.click("The history of Bulky waste collection booking", role="link")
    assert "Merged into Book a bulky waste collection online" in journey.page.locator("#timeline + ol").inner_text()

    # Feature the project that carries on.
    journey.goto(f"/projects/{target}")
    journey.click("Feature on the home page")
    journey.goto("/")
    assert "Book a bulky waste collection online" in journey.page.locator("#featured").inner_text()

    # Add Sam's domain: Sam is told, and can now register.
    journey.goto("/organise")
    journey.page.get_by_label("Add harbourcouncil.gov.uk to", exact=True).select_option(label="Leeds City Council")
    journey.click("Add domain for sam@harbourcouncil.gov.uk")
    [message] = mailbox.wait_for("sam@harbourcouncil.gov.uk")
    [register] = [link for link in links(message) if link.endswith("/register")]
    waiting.goto(register)
    waiting.get_by_label("Full name", exact=True).fill("Sam Harbour")
    waiting.get_by_label("Work email address", exact=True).fill("sam@harbourcouncil.gov.uk")
    waiting.get_by_label("Create a password", exact=True).fill("a perfectly long passphrase")
    waiting.get_by_role("button", name="Create account").click()
    waiting.wait_for_load_state()
    assert waiting.locator("h1").inner_text() == "Check your email"

    # Every action is in the audit log, with its reason.
    journey.goto("/organise/audit")
    log = journey.page.locator("tbody").inner_text()
    for action in (
        "Turned on two-factor sign-in",
        "Hid a comment",
        "Merged a project into another",
        "Featured a project",
        "Added an email domain",
    ):
        assert action in log, action
    assert "Advertising is not allowed on Pipeline" in log
    assert "Manchester and Birmingham are doing the same thing" in log
    journey.page.get_by_label("Action", exact=True).select_option(label="Merged a project into another")
    journey.click("Filter")
    assert journey.page.locator("tbody tr").count() == 1


def test_a_pledger_moves_a_pledge_after_a_merge(journey, app, make_officer, mailbox, client):
    from tests.routes.test_curation import set_up_two_factor

    priya, marta = make_officer("BIR", name="Priya Owner"), make_officer("MAN", name="Marta Owner")
    target, target_id = make_project(app, priya, title="Book a bulky waste collection online")
    source, source_id = make_project(app, marta, title="Bulky waste collection booking", money_target=9000)
    gwen = make_officer("GLG", name="Gwen Glasgow")
    with app.app_context():
        data = pledges.PledgeInput("money", gwen.council_id, amount=5000, idempotency_key="journey-pledge-to-move")
        pledges.offer_pledge(db.session.get(User, gwen.id), source_id, data)
    organiser = make_officer("LDS", role="organiser")
    set_up_two_factor(client, organiser)
    response = client.submit(
        f"/organise/projects/{source}/merge", {"into": target, "submit": "y"}, page=f"/organise/projects/{source}/merge"
    )
    assert response.status_code == 302

    [asked] = [m for m in mailbox.wait_for(gwen.email) if m["Subject"].startswith("Move your pledge")]
    [link] = [link for link in links(asked) if link.endswith("/my-pledges#moves")]
    journey.goto(link)
    journey.fill("Email address", gwen.email)
    journey.fill("Password", gwen.password)
    journey.click("Sign in")
    assert journey.heading() == "Your pledges"
    assert "Pledged to Bulky waste collection booking" in journey.page.locator("#moves ~ .app-card").inner_text()
    journey.click("Move it to Book a bulky waste collection online (your pledge of £5,000)")
    assert "Your pledge has moved to Book a bulky waste collection online." in journey.page.content()
    journey.goto(f"/projects/{target}/pledges")
    assert "Glasgow City Council moved its pledge of £5,000" in journey.page.locator("#ledger ~ ol").inner_text()
