"""Moderation: reports on comments and updates, hiding and restoring them, dismissing reports, and hidden
content kept out of pages, feeds, notifications and digests."""

import pytest
from sqlalchemy import func, select

from pipeline.extensions import db
from pipeline.models import AuditEntry, Comment, CommentReport, Notification, ProjectUpdate, UpdateReport, User
from pipeline.services import comments, moderation, updates
from pipeline.services.errors import InvalidInput, PermissionDenied
from pipeline.timeutil import utcnow
from tests.conftest import sign_in
from tests.conversation_factories import comment, follow, set_frequency
from tests.conversation_factories import update as post_update
from tests.factories import make_project
from tests.mail import body
from tests.pages import assert_statement_count_is_flat, error_messages, soup_of
from tests.routes.test_curation import set_up_two_factor

SPAM = "Buy **cheap** watches at example dot com"


@pytest.fixture
def organiser(make_officer, client):
    person = make_officer("LDS", name="Olu Organiser", role="organiser")
    person.secret = set_up_two_factor(client, person)
    return person


@pytest.fixture
def project(app, make_officer):
    """A project posted by Priya of Birmingham; returns (slug, id, owner)."""
    owner = make_officer("BIR", name="Priya Owner")
    slug, project_id = make_project(app, owner, title="Bulky waste booking")
    return slug, project_id, owner


def audit(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(e.action, e.reason) for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def report(app, officer, comment_id: int, reason: str) -> None:
    with app.app_context():
        comments.report_comment(db.session.get(User, officer.id), comment_id, reason)


def row(app, model, item_id: int):
    with app.app_context():
        found = db.session.get(model, item_id)
        db.session.expunge(found)
        return found


def test_an_organiser_hides_a_reported_comment_from_the_workbench(
    app, client, anon, organiser, project, make_officer, mailbox
):
    slug, project_id, owner = project
    author = make_officer("MAN", name="Sam Spammer")
    spam = comment(app, author, project_id, SPAM)
    reply = comment(app, owner, project_id, "Please keep to the topic", parent_id=spam)
    reporter = make_officer("CRF", name="Rhys Reporter")
    reporter_client = app.test_client()
    sign_in(reporter_client, reporter)
    response = reporter_client.submit(f"/projects/{slug}/comments/{spam}/report", {"reason": "Advertising watches"})
    assert response.status_code == 302

    workbench = client.page("/organise")
    entry = workbench.select_one(f"#reported-comment-{spam}")
    assert "cheap" in entry.select_one(".app-markdown strong").get_text()
    assert "Advertising watches" in entry.get_text() and "Rhys Reporter" in entry.get_text()
    assert workbench.select_one("a[href='#reported'] span").get_text() == "1"

    hide = entry.select_one("form")["action"]
    response = client.submit(
        hide, {"reason": "Advertising is not allowed", "next": "/organise#reported"}, page="/organise"
    )
    assert response.status_code == 302 and response.headers["Location"] == "/organise#reported"
    assert not client.page("/organise").select(f"#reported-comment-{spam}")

    # The public sees a marker in its place; the thread stays readable.
    page = anon.page(f"/projects/{slug}")
    hidden = page.select_one(f"#comment-{spam}")
    assert hidden.get_text(" ", strip=True) == "Hidden by an organiser"
    assert "cheap" not in page.get_text()
    assert "Please keep to the topic" in page.select_one(f"#comment-{reply}").get_text()
    assert "cheap" not in anon.page(f"/projects/{slug}/comments/{spam}").get_text()
    assert "cheap" not in anon.page(f"/projects/{slug}/comments/{spam}/history").get_text()

    # Its author is told why, by email.
    [message] = mailbox.wait_for(author.email)
    assert message["Subject"] == "An organiser has hidden your comment on Bulky waste booking"
    assert "Advertising is not allowed" in body(message)
    assert audit(app)[-1] == ("comment_hidden", "Advertising is not allowed")
    with app.app_context():
        assert db.session.scalar(select(CommentReport.resolution)) == "hidden"


def test_hiding_needs_a_reason_and_doing_it_twice_writes_nothing(app, client, organiser, project, make_officer):
    slug, project_id, _ = project
    spam = comment(app, make_officer("MAN"), project_id, SPAM)
    url = f"/organise/comments/{spam}/hide"
    page = client.page(url)
    assert "cheap" in page.select_one(".govuk-inset-text").get_text()

    missing = client.submit(url, {"reason": "  "})
    assert "Enter the reason for hiding the comment. Its author is told it" in error_messages(missing)
    assert row(app, Comment, spam).hidden_at is None

    assert client.submit(url, {"reason": "Spam"}).status_code == 302
    before = audit(app)
    again = client.submit(url, {"reason": "Spam again"})
    assert "This comment is already hidden" in error_messages(again)
    assert soup_of(again).select_one("textarea[name=reason]").get_text().strip() == "Spam again"
    assert audit(app) == before

    restore = f"/organise/comments/{spam}/restore"
    assert client.submit(restore, {"reason": "Cleared on appeal"}).status_code == 302
    assert row(app, Comment, spam).hidden_at is None
    before = audit(app)
    twice = client.submit(restore, {})
    assert "This comment is not hidden, so there is nothing to restore" in error_messages(twice)
    assert audit(app) == before
    assert [action for action, _ in audit(app)][-2:] == ["comment_hidden", "comment_restored"]


def test_restoring_tells_the_author_and_shows_the_comment_again(app, client, anon, organiser, project, make_officer):
    slug, project_id, _ = project
    author = make_officer("MAN")
    said = comment(app, author, project_id, "A fair point, put **strongly**")
    client.submit(f"/organise/comments/{said}/hide", {"reason": "Too strong"})
    organiser_view = client.page(f"/projects/{slug}")
    restore_link = organiser_view.select_one(f"#comment-{said} a[href^='/organise/comments/{said}/restore']")
    assert restore_link is not None
    assert client.submit(restore_link["href"].split("?")[0], {}).status_code == 302
    assert "strongly" in anon.page(f"/projects/{slug}").select_one(f"#comment-{said}").get_text()


def test_dismissing_reports_closes_those_seen_and_twice_is_refused(app, client, organiser, project, make_officer):
    _, project_id, _ = project
    said = comment(app, make_officer("MAN"), project_id, "An opinion")
    report(app, make_officer("CRF"), said, "I disagree")
    with app.app_context():
        seen = db.session.scalar(select(func.max(CommentReport.id)))
    report(app, make_officer("BRD"), said, "Me too")  # arrives after the organiser loaded the page
    url = f"/organise/comments/{said}/dismiss-reports"
    response = client.submit(url, {"seen": str(seen), "reason": "Disagreement is fine"}, page="/organise")
    assert response.status_code == 302
    assert "Dismissed 1 report about the comment" in client.page("/organise").get_text()
    assert "Me too" in client.page("/organise").select_one(f"#reported-comment-{said}").get_text()
    before = audit(app)
    client.submit(url, {"seen": str(seen)}, page="/organise")
    assert "The reports on this comment have already been dealt with" in client.page("/organise").get_text()
    assert audit(app) == before
    assert before[-1] == ("report_dismissed", "Disagreement is fine")
    assert row(app, Comment, said).hidden_at is None


def test_officers_report_updates_and_organisers_hide_them(app, client, anon, organiser, project, make_officer, mailbox):
    slug, project_id, owner = project
    posted = post_update(app, owner, project_id, "Weeknotes 4: our supplier is rubbish", "They are **awful**.")
    reporter = make_officer("MAN", name="Rhys Reporter")
    reporter_client = app.test_client()
    sign_in(reporter_client, reporter)
    page = reporter_client.page(f"/projects/{slug}/updates/{posted}")
    assert page.select_one(f"a[href='/projects/{slug}/updates/{posted}/report']").get_text() == "Report this update"
    url = f"/projects/{slug}/updates/{posted}/report"
    assert "Enter why you are reporting this update" in error_messages(reporter_client.submit(url, {"reason": ""}))
    assert reporter_client.submit(url, {"reason": "Names a supplier unfairly"}).status_code == 302
    assert reporter_client.submit(url, {"reason": "Again"}).status_code == 302  # one report a person
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UpdateReport)) == 1
    owner_client = app.test_client()
    sign_in(owner_client, owner)
    assert "You cannot report your own update" in error_messages(
        owner_client.submit(url, {"reason": "Oops"}, page=f"/projects/{slug}/updates/{posted}")
    )

    entry = client.page("/organise").select_one(f"#reported-update-{posted}")
    assert "Names a supplier unfairly" in entry.get_text() and "awful" in entry.get_text()
    response = client.submit(
        f"/organise/updates/{posted}/hide", {"reason": "Names a supplier", "next": "/organise"}, page="/organise"
    )
    assert response.status_code == 302

    listed = anon.page(f"/projects/{slug}")
    assert "rubbish" not in listed.get_text() and "Hidden by an organiser" in listed.select_one(".app-card").get_text()
    hidden_page = anon.page(f"/projects/{slug}/updates/{posted}")
    assert hidden_page.h1.get_text() == "Hidden by an organiser" and "awful" not in hidden_page.get_text()
    assert "rubbish" not in anon.page(f"/projects/{slug}/updates").get_text()
    [message] = mailbox.wait_for(owner.email)
    assert message["Subject"] == "An organiser has hidden your update on Bulky waste booking"
    assert "Weeknotes 4: our supplier is rubbish" in body(message)
    refused = reporter_client.submit(url, {"reason": "More"}, page=f"/projects/{slug}/updates")
    assert "An organiser has already hidden this update" in error_messages(refused)

    assert client.submit(f"/organise/updates/{posted}/restore", {}).status_code == 302
    assert anon.page(f"/projects/{slug}/updates/{posted}").h1.get_text() == "Weeknotes 4: our supplier is rubbish"
    assert [action for action, _ in audit(app)][-2:] == ["update_hidden", "update_restored"]


def test_hidden_comments_and_updates_leave_feeds_notifications_and_digests(
    app, client, anon, organiser, project, make_officer, mailbox
):
    slug, project_id, owner = project
    follower = make_officer("CRF", name="Faye Follower")
    follow(app, follower, "project", project_id)
    set_frequency(app, follower, "daily")
    said = comment(app, make_officer("MAN", name="Sam Spammer"), project_id, SPAM)
    posted = post_update(app, owner, project_id, "Rude weeknotes", "Rude words")
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Notification.user_id == follower.id)) == 2
    feed = anon.get(f"/feeds/projects/{slug}.atom").get_data(as_text=True)
    assert "Sam Spammer commented" in feed and "Rude weeknotes" in feed

    client.submit(f"/organise/comments/{said}/hide", {"reason": "Spam"})
    client.submit(f"/organise/updates/{posted}/hide", {"reason": "Rude"})
    feed = anon.get(f"/feeds/projects/{slug}.atom").get_data(as_text=True)
    assert "Sam Spammer commented" not in feed and "Rude weeknotes" not in feed
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Notification.user_id == follower.id)) == 0
        # The rule the feeds, open data and notifications share.
        assert comments.not_public_ids([said]) == {said} and updates.not_public_ids([posted]) == {posted}
        assert db.session.scalar(select(func.count()).select_from(Comment).where(comments.public_condition())) == 0
        found = db.session.get(ProjectUpdate, posted)
        assert not updates.is_public(found)
    mailbox.clear()
    result = app.test_cli_runner().invoke(args=["digests", "send", "daily", "--period", utcnow().date().isoformat()])
    assert result.exit_code == 0, result.output
    assert not [m for m in mailbox.to(follower.email) if "digest" in m["Subject"]]


def test_replying_to_editing_reporting_or_marking_a_hidden_comment_is_refused(
    app, client, organiser, project, make_officer
):
    slug, project_id, owner = project
    author = make_officer("MAN")
    said = comment(app, author, project_id, SPAM)
    client.submit(f"/organise/comments/{said}/hide", {"reason": "Spam"})
    with app.app_context():
        for attempt, message in [
            (lambda: comments.post_comment(db.session.get(User, owner.id), project_id, "Hi", said), "hidden"),
            (lambda: comments.edit_comment(db.session.get(User, author.id), said, "Sorry"), "hidden"),
            (lambda: comments.report_comment(db.session.get(User, owner.id), said, "Bad"), "already hidden"),
        ]:
            with pytest.raises(InvalidInput, match=message):
                attempt()
            db.session.rollback()
    assert "cheap" not in client.page(f"/projects/{slug}/comments/{said}/reply").get_text()


def test_a_deleted_comment_cannot_be_hidden(app, client, organiser, project, make_officer):
    _, project_id, _ = project
    author = make_officer("MAN")
    said = comment(app, author, project_id, SPAM)
    with app.app_context():
        comments.delete_comment(db.session.get(User, author.id), said)
    response = client.submit(f"/organise/comments/{said}/hide", {"reason": "Spam"})
    assert "Its author has deleted this comment, so there is nothing to hide" in error_messages(response)
    assert [action for action, _ in audit(app)] == ["two_factor_enabled"]


def test_moderation_is_for_organisers_only(app, client, project, make_officer):
    _, project_id, owner = project
    said = comment(app, make_officer("MAN"), project_id, SPAM)
    posted = post_update(app, owner, project_id)
    sign_in(client, owner)  # the project's own owner is not an organiser
    token = client.csrf_token("/account")
    referer = {"Referer": "https://localhost/account"}
    for url in [
        f"/organise/comments/{said}/hide",
        f"/organise/comments/{said}/restore",
        f"/organise/updates/{posted}/hide",
        f"/organise/updates/{posted}/restore",
    ]:
        assert client.get(url).status_code == 403
        assert client.post(url, data={"csrf_token": token, "reason": "x"}, headers=referer).status_code == 403
    for url in [f"/organise/comments/{said}/dismiss-reports", f"/organise/updates/{posted}/dismiss-reports"]:
        assert client.post(url, data={"csrf_token": token}, headers=referer).status_code == 403
    assert row(app, Comment, said).hidden_at is None
    with app.app_context():
        user = db.session.get(User, owner.id)
        with pytest.raises(PermissionDenied):
            moderation.hide(user, "comment", said, "Because")


def test_unknown_items_are_not_found(client, organiser):
    assert client.get("/organise/comments/999/hide").status_code == 404
    assert client.get("/organise/updates/999/restore").status_code == 404


def test_the_reported_queue_reads_in_a_fixed_number_of_statements(app, client, organiser, project, make_officer):
    _, project_id, owner = project
    reporters = [make_officer("CRF"), make_officer("MAN"), make_officer("BRD")]

    def more_reports():
        for number in range(3):
            said = comment(app, owner, project_id, f"Comment {number}")
            posted = post_update(app, owner, project_id, f"Update {number}")
            for reporter in reporters:
                report(app, reporter, said, "Off topic")
                with app.app_context():
                    updates.report_update(db.session.get(User, reporter.id), posted, "Off topic")

    more_reports()
    assert_statement_count_is_flat(client, "/organise", more_reports, budget=22)
