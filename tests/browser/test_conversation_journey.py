"""Talking about a project in a real browser, and hearing about it by email: the conversation issue's journeys."""

import re

from sqlalchemy import select

from pipeline.extensions import db
from pipeline.models import CommentReport, Follow
from pipeline.timeutil import utcnow
from tests.conftest import sign_in
from tests.conversation_factories import comment
from tests.factories import make_project
from tests.mail import body, links


def sign_in_as(journey, officer):
    journey.goto("/sign-in")
    journey.fill("Email address", officer.email)
    journey.fill("Password", officer.password)
    journey.click("Sign in")


def click_in(journey, locator):
    """Click something that leads to a new page, then check that page."""
    with journey.page.expect_navigation():
        locator.click()
    journey.check()


def test_comment_reply_edit_delete_mark_official_and_report(journey, app, make_officer):
    owner = make_officer("BIR", name="Priya Owner")
    reader = make_officer("LDS", name="Sam Reader")
    slug, project_id = make_project(app, owner, title="Bulky waste booking")
    comment(app, reader, project_id, "Does it take **payments**?")
    page = journey.page
    sign_in_as(journey, owner)

    # Comment.
    journey.goto(f"/projects/{slug}")
    journey.fill("Add a comment", "We are starting discovery in March.")
    journey.click("Post comment")
    assert "Your comment has been posted." in page.content()
    assert journey.heading() == "Comment on Bulky waste booking"

    # Reply to Sam's comment from the project page (the form opens without JavaScript too).
    journey.goto(f"/projects/{slug}")
    thread = page.locator(".app-thread", has_text="Does it take payments?")
    thread.locator("summary").click()
    thread.get_by_label("Your reply").fill("Yes, by card. We use GOV.UK Pay.")
    click_in(journey, thread.get_by_role("button", name="Post reply"))
    assert "Your reply has been posted." in page.content()

    # Edit the reply: the earlier version stays visible behind an "edited" mark.
    click_in(journey, page.get_by_role("link", name=re.compile(r"^Edit your comment")))
    assert journey.heading() == "Edit your comment"
    journey.fill("Your comment", "Yes, by card and by phone. We use GOV.UK Pay.")
    journey.click("Save changes")
    assert "by card and by phone" in page.content()
    click_in(journey, page.get_by_role("link", name=re.compile(r"^edited")))
    assert journey.heading() == "Versions of a comment on Bulky waste booking"
    versions = page.locator(".app-markdown").all_inner_texts()
    assert versions == ["Yes, by card and by phone. We use GOV.UK Pay.", "Yes, by card. We use GOV.UK Pay."]

    # Mark it as the official response (Priya is on the team).
    journey.click("Back to the comment", role="link")
    click_in(journey, page.get_by_role("button", name=re.compile(r"^Mark as official response")))
    assert page.locator(".govuk-tag", has_text="Official response").count() == 1

    # Report Sam's comment.
    click_in(journey, page.get_by_role("link", name=re.compile(r"^Report the comment by Sam Reader")))
    assert journey.heading() == "Report a comment"
    journey.click("Report comment")  # no reason yet: an error that says what to do
    assert page.title().startswith("Error: ")
    assert "Enter why you are reporting this comment" in page.locator(".govuk-error-summary").inner_text()
    journey.fill("Why are you reporting this comment?", "It names a supplier's staff member.")
    journey.click("Report comment")
    assert "An organiser will look at it" in page.content()
    with app.app_context():
        assert db.session.scalars(select(CommentReport.reason)).all() == ["It names a supplier's staff member."]

    # Delete Priya's own comment: a marker keeps its place.
    journey.goto(f"/projects/{slug}")
    mine = page.locator(".app-thread", has_text="We are starting discovery")
    click_in(journey, mine.get_by_role("link", name=re.compile(r"^Delete your comment")))
    assert journey.heading() == "Delete your comment"
    journey.click("Delete comment")
    assert "Your comment has been deleted." in page.content()
    assert page.locator(".app-comment__deleted").inner_text() == "Comment deleted"
    journey.goto(f"/projects/{slug}")
    assert "We are starting discovery" not in page.content()


def digests_to(mailbox, address):
    return [m for m in mailbox.to(address) if m["Subject"].startswith("Your daily digest")]


def test_follow_get_an_instant_email_then_a_daily_digest_and_unsubscribe_without_signing_in(
    journey, app, make_officer, mailbox
):
    owner = make_officer("BIR", name="Priya Owner")
    reader = make_officer("LDS", name="Sam Reader")
    slug, project_id = make_project(app, owner, title="Bulky waste booking")
    team = app.test_client()
    sign_in(team, owner)
    page = journey.page
    sign_in_as(journey, reader)

    # Follow the project, and ask to hear about it instantly.
    journey.goto(f"/projects/{slug}")
    journey.click("Follow this project")
    assert "You are following Bulky waste booking" in page.content()
    journey.click("Change how often we email you", role="link")
    assert journey.heading() == "Your email settings"
    page.get_by_label("Email about Bulky waste booking").select_option("instantly")
    journey.click("Save settings")
    assert "Your email settings have been saved." in page.content()

    # The team comments: an instant email arrives, with the text and a link to it.
    team.submit(f"/projects/{slug}/comments/new", {"body": "We have chosen a supplier: **Granicus**."})
    mailbox.wait_for(reader.email)
    [instant] = [m for m in mailbox.to(reader.email) if m["Subject"] == "New comment: Bulky waste booking"]
    assert "We have chosen a supplier: Granicus." in body(instant)
    [comment_link] = [link for link in links(instant) if "/comments/" in link]
    journey.goto(comment_link)
    assert "We have chosen a supplier" in page.content()

    # The notification waits in the app too, with a count in the navigation.
    assert page.locator(".app-count").inner_text().split() == ["1", "new"]
    click_in(journey, page.get_by_role("link", name=re.compile(r"^Notifications")))
    assert journey.heading() == "Your notifications"
    assert "Priya Owner commented on Bulky waste booking" in page.content()

    # Switch the follow to a daily digest; the team posts an update; the digest carries it.
    journey.goto("/notifications/settings")
    page.get_by_label("Email about Bulky waste booking").select_option("daily")
    journey.click("Save settings")
    team.submit(
        f"/projects/{slug}/updates/new",
        {"kind": "weeknotes", "title": "Weeknotes 4", "body": "Five residents **tested** the booking form."},
    )
    result = app.test_cli_runner().invoke(args=["digests", "send", "daily", "--period", utcnow().date().isoformat()])
    assert "1 queued with 1 items" in result.output, result.output
    [digest] = digests_to(mailbox, reader.email)
    text = body(digest)
    assert "Bulky waste booking" in text and "Five residents tested the booking form." in text
    assert "We have chosen a supplier" not in text  # already sent instantly: never repeated

    # Its unsubscribe link works without signing in, for that follow only.
    journey.click("Sign out")
    [stop] = [link for link in links(digest) if "/unsubscribe/" in link][:1]
    journey.goto(stop)
    assert journey.heading() == "Stop email about Bulky waste booking"
    journey.click("Unsubscribe")
    assert journey.heading() == "You have unsubscribed"
    with app.app_context():
        assert db.session.scalars(select(Follow.frequency).where(Follow.user_id == reader.id)).all() == ["off"]
    result = app.test_cli_runner().invoke(args=["digests", "send", "daily", "--period", utcnow().date().isoformat()])
    assert "0 queued" in result.output
    assert len(digests_to(mailbox, reader.email)) == 1
