"""Telling followers: fan-out from activities, instant email with one-click unsubscribe, and in-app notifications."""

import time

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import event, select

from pipeline.extensions import db
from pipeline.models import Follow, Notification, Project, User
from pipeline.services import activity, follows
from tests.conftest import sign_in
from tests.conversation_factories import comment, follow, set_frequency, update
from tests.factories import make_project
from tests.mail import body, links
from tests.pages import assert_statement_count_is_flat


def notified(app, officer) -> list[str]:
    with app.app_context():
        return [
            n.activity.kind
            for n in db.session.scalars(
                select(Notification).where(Notification.user_id == officer.id).order_by(Notification.id)
            )
        ]


def frequency_of(app, follow_id: int) -> str | None:
    with app.app_context():
        return db.session.get(Follow, follow_id).frequency


def test_followers_hear_of_every_kind_of_activity_but_not_their_own(app, officer, make_officer):
    owner = make_officer("BIR")
    _, project_id = make_project(app, owner)
    follow(app, officer, "project", project_id)
    comment(app, officer, project_id, "My own comment")  # the actor is not told of it
    update(app, owner, project_id)
    top = comment(app, owner, project_id, "A question")
    comment(app, owner, project_id, "An answer", parent_id=top)
    # Kinds this branch does not record reach followers too: pledges, joins, check-ins.
    pledging = make_officer("MAN")
    with app.app_context():
        project = db.session.get(Project, project_id)
        pledger = db.session.get(User, pledging.id)
        activity.record("pledge_offered", project, pledger, f"{pledger.name} offered 5 days", "pledge", 1)
        activity.record("checked_in", project, db.session.get(User, owner.id), "Still going")
        db.session.commit()
        pledger_follows = db.session.scalars(select(Follow.target_id).where(Follow.user_id == pledger.id)).all()
    assert pledger_follows == [project_id]  # pledging follows the project
    assert notified(app, officer) == ["update_posted", "comment_posted", "reply_posted", "pledge_offered", "checked_in"]
    assert notified(app, owner) == ["comment_posted", "pledge_offered"]


def test_instant_email_with_one_click_unsubscribe_for_that_follow_only(
    client, anon, app, officer, make_officer, mailbox
):
    owner = make_officer("BIR")
    slug, project_id = make_project(app, owner, title="Bulky waste booking")
    _, other_id = make_project(app, owner, title="Another project")
    project_follow = follow(app, officer, "project", project_id)
    other_follow = follow(app, officer, "project", other_id)
    set_frequency(app, officer, "instantly")
    commenter = app.test_client()
    sign_in(commenter, owner)
    commenter.submit(f"/projects/{slug}/comments/new", {"body": "We chose **Granicus**. " + "Long text. " * 60})

    [message] = mailbox.wait_for(officer.email)
    assert message["Subject"] == "New comment: Bulky waste booking"
    text = body(message)
    assert f"{owner.name} commented on Bulky waste booking." in text
    assert '"We chose Granicus. Long text.' in text and "…" in text  # the text, trimmed
    [comment_link] = [link for link in links(message) if "/comments/" in link]
    assert comment_link.startswith("http://localhost/projects/bulky-waste-booking/comments/")
    assert "http://localhost/notifications/settings" in links(message)
    [unsubscribe_link] = [link for link in links(message) if "/unsubscribe/" in link]
    assert message["List-Unsubscribe"] == f"<{unsubscribe_link}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with app.app_context():
        assert db.session.scalars(select(Notification.emailed_at)).one() is not None

    # Following the link only asks; it works without signing in.
    path = unsubscribe_link.removeprefix("http://localhost")
    page = anon.page(path)
    assert page.h1.get_text() == "Stop email about Bulky waste booking"
    assert frequency_of(app, project_follow) is None
    # A mail program's one-click POST carries no CSRF token.
    response = anon.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert frequency_of(app, project_follow) == "off"
    assert frequency_of(app, other_follow) is None  # only that follow
    assert anon.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # twice is harmless


def test_the_unsubscribe_page_button_needs_its_csrf_token(anon, app, officer):
    _, project_id = make_project(app, officer)
    [(follow_id,)] = _follow_ids(app, officer)
    with app.app_context():
        token = follows.unsubscribe_token(db.session.get(Follow, follow_id))
    path = f"/unsubscribe/{token}"
    response = anon.post(path, data={}, headers={"Referer": "https://localhost/"})
    assert response.status_code == 400 and "The form you sent has expired" in response.get_data(as_text=True)
    assert frequency_of(app, follow_id) is None
    response = anon.submit(path, {})
    assert response.status_code == 200
    assert "You have unsubscribed" in response.get_data(as_text=True)
    assert frequency_of(app, follow_id) == "off"


def _follow_ids(app, officer):
    with app.app_context():
        return db.session.execute(select(Follow.id).where(Follow.user_id == officer.id)).all()


class OldSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 60 * 60 * 24 * 91


def test_tampered_expired_and_foreign_tokens_get_a_clear_page(anon, app, officer, make_officer):
    _, project_id = make_project(app, officer)
    [(follow_id,)] = _follow_ids(app, officer)
    with app.app_context():
        good = follows.unsubscribe_token(db.session.get(Follow, follow_id))
        expired = URLSafeTimedSerializer(
            app.config["SECRET_KEY"], salt=follows.UNSUBSCRIBE_SALT, signer=OldSigner
        ).dumps({"u": officer.id, "f": follow_id})
        # A validly signed token naming someone else's follow is refused too.
        forged = follows._serializer().dumps({"u": make_officer("BIR").id, "f": follow_id})
    for token, message in [
        (good[:-3] + "abc", "This unsubscribe link is not valid"),
        ("nonsense", "This unsubscribe link is not valid"),
        (expired, "This unsubscribe link has expired"),
        (forged, "This unsubscribe link is not valid"),
    ]:
        response = anon.get(f"/unsubscribe/{token}")
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
        response = anon.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 400
    assert frequency_of(app, follow_id) is None


def test_followers_who_chose_digests_or_no_email_are_not_emailed_at_once(app, officer, make_officer, mailbox):
    owner = make_officer("BIR")
    _, project_id = make_project(app, owner)
    follow_id = follow(app, officer, "project", project_id)
    for frequency in ("daily", "weekly", "off"):
        set_frequency(app, officer, "instantly", {follow_id: frequency})
        comment(app, owner, project_id, f"While {frequency}")
    with app.app_context():
        assert db.session.scalars(select(Notification.emailed_at)).all() == [None, None, None]
    assert notified(app, officer) == ["comment_posted"] * 3


def test_notifications_page_and_unread_count(client, app, officer, make_officer):
    owner = make_officer("BIR")
    slug, project_id = make_project(app, owner, title="Bulky waste booking")
    follow(app, officer, "project", project_id)
    assert not client.page("/").select(".app-count")
    update(app, owner, project_id, "Weeknotes 1", "We met **five** residents.")
    comment(app, owner, project_id, "Deleted soon")
    comment(app, owner, project_id, "A question for you")
    with app.app_context():
        gone = db.session.scalars(select(Notification)).all()[1].activity.subject_id
    owner_client = client.application.test_client()
    sign_in(owner_client, owner)
    owner_client.submit(f"/projects/{slug}/comments/{gone}/delete", {"submit": "y"})

    count = client.page("/").select_one(".app-count")
    assert " ".join(count.get_text().split()) == "2 new"  # the deleted comment is not news any more
    page = client.page("/notifications")
    entries = page.select(".app-card")
    assert len(entries) == 2
    assert entries[0].select_one(".govuk-tag").get_text() == "New"
    assert "A question for you" in entries[0].get_text()
    assert "We met five residents." in entries[1].get_text()
    assert entries[1].select_one("h2 a")["href"].startswith(f"/projects/{slug}/updates/")
    # Once seen, they are no longer new and the count goes.
    assert not client.page("/").select(".app-count")
    assert not client.page("/notifications").select(".govuk-tag--blue")


def test_the_unread_count_adds_one_statement_to_a_page(client, app, officer, make_officer):
    owner = make_officer("BIR")
    _, project_id = make_project(app, owner)
    follow(app, officer, "project", project_id)
    with app.app_context():
        engine = db.engine
    seen = []

    def log(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", log)
    try:
        client.get("/")
    finally:
        event.remove(engine, "before_cursor_execute", log)
    assert len([s for s in seen if "notifications" in s]) == 1

    def add_rows():
        for number in range(40):
            comment(app, owner, project_id, f"Comment {number}")

    assert_statement_count_is_flat(client, "/", add_rows)
    assert " ".join(client.page("/").select_one(".app-count").get_text().split()) == "40 new"
    assert_statement_count_is_flat(client, "/notifications", add_rows)
