"""Digests: grouped by project, newest first, with the text; never repeated; not sent when there is nothing new."""

import time
from datetime import date, datetime, timedelta

from sqlalchemy import select

from pipeline.database import statement_counter
from pipeline.extensions import db
from pipeline.filters import format_date
from pipeline.models import (
    Activity,
    Digest,
    Follow,
    Notification,
    NotificationSettings,
    Project,
    ProjectMember,
    ProjectUpdate,
    User,
)
from pipeline.services import comments, digests, follows
from pipeline.services.outbox import deliver_pending
from pipeline.timeutil import utcnow
from tests.conversation_factories import comment, follow, set_frequency, update
from tests.factories import make_project
from tests.mail import body, links


def today() -> date:
    return utcnow().date()


def send(app, frequency: str = "daily", day: date | None = None) -> digests.DigestRun:
    """Send the digests for the period containing `day` (today by default) and deliver them."""
    result = app.test_cli_runner().invoke(args=["digests", "send", frequency, "--period", (day or today()).isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def digests_to(mailbox, address: str, count: int = 1) -> list:
    """The digests sent to an address (other email, such as account confirmations, left out)."""
    deadline = time.monotonic() + 10
    while True:
        found = [m for m in mailbox.to(address) if m["Subject"].startswith(("Your daily digest", "Your weekly digest"))]
        if len(found) >= count or time.monotonic() > deadline:
            assert len(found) == count, [m["Subject"] for m in mailbox.to(address)]
            return found
        time.sleep(0.05)


def test_periods():
    with_day = digests.period_for("daily", date(2026, 11, 21))
    assert (with_day.start, with_day.end) == (datetime(2026, 11, 21), datetime(2026, 11, 22))
    assert with_day.description == "on 21 November 2026"
    week = digests.period_for("weekly", date(2026, 11, 21))  # a Saturday
    assert (week.start, week.end) == (datetime(2026, 11, 16), datetime(2026, 11, 23))
    assert week.description == "in the week of 16 November 2026"
    assert digests.period_for("daily").end == datetime.combine(today(), datetime.min.time())


def test_a_daily_digest_groups_by_project_newest_first_with_the_text(app, officer, make_officer, mailbox):
    owner = make_officer("BIR", name="Priya Owner")
    _, first = make_project(app, owner, title="Bulky waste booking")
    _, second = make_project(app, owner, title="Parking permits")
    follow(app, officer, "project", first)
    follow(app, officer, "project", second)
    update(app, owner, first, "Weeknotes 1", "We met **five** residents. " + "More detail. " * 50)
    comment(app, owner, second, "Parking question")
    comment(app, owner, first, "Latest on bulky waste")

    output = send(app)
    assert "1 queued with 3 items" in output
    [message] = digests_to(mailbox, officer.email)
    assert message["Subject"] == f"Your daily digest: 3 new items on {format_date(utcnow())}"
    text = body(message).replace("\r\n", "\n")
    assert text.index("Bulky waste booking\n===") < text.index("Parking permits\n===")
    bulky = text.split("Bulky waste booking\n===", 1)[1].split("Parking permits\n===", 1)[0]
    assert bulky.index("Latest on bulky waste") < bulky.index("We met five residents.")  # newest first
    assert "More detail. More detail." in bulky and "…" in bulky  # the update's text, trimmed
    assert "More detail. " * 30 not in bulky
    found = links(message)
    assert any("/projects/bulky-waste-booking/updates/" in link for link in found)
    assert any("/projects/parking-permits/comments/" in link for link in found)
    assert "http://localhost/notifications/settings" in found
    per_project = [link for link in found if "/unsubscribe/" in link]
    assert len(per_project) == 3  # one for each project followed, and one for the whole digest
    assert message["List-Unsubscribe"] == f"<{per_project[-1]}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not [m for m in mailbox.to(owner.email) if "digest" in m["Subject"]]  # the owner wrote it all


def test_a_digest_never_repeats_an_item_and_is_not_sent_when_there_is_nothing_new(app, officer, make_officer, mailbox):
    owner = make_officer("BIR")
    _, project_id = make_project(app, owner)
    follow(app, officer, "project", project_id)
    comment(app, owner, project_id, "First news")
    send(app)
    digests_to(mailbox, officer.email)
    assert "0 queued with 0 items" in send(app)  # the same period again: nothing twice
    assert "0 queued" in send(app, day=today() + timedelta(days=1))  # nothing new since
    comment(app, owner, project_id, "Second news")
    assert "0 queued with 0 items (1 already sent)" in send(app)
    send(app, day=today() + timedelta(days=1))
    first, second = digests_to(mailbox, officer.email, count=2)
    assert "First news" in body(first) and "Second news" not in body(first)
    assert "Second news" in body(second) and "First news" not in body(second)
    with app.app_context():
        assert db.session.scalars(select(Digest.item_count).order_by(Digest.id)).all() == [1, 1]
        assert None not in db.session.scalars(select(Notification.digest_id)).all()


def test_each_follow_goes_in_the_digest_it_chose(app, officer, make_officer, mailbox):
    owner = make_officer("BIR")
    projects = {name: make_project(app, owner, title=name)[1] for name in ("Daily", "Weekly", "Instant", "Silent")}
    followed = {name: follow(app, officer, "project", project_id) for name, project_id in projects.items()}
    choices = {followed["Weekly"]: "weekly", followed["Instant"]: "instantly", followed["Silent"]: "off"}
    set_frequency(app, officer, "daily", choices)
    for name, project_id in projects.items():
        comment(app, owner, project_id, f"News on {name}")
    [instant] = _deliver(app, mailbox, officer.email, 1)
    assert "News on Instant" in body(instant)
    send(app)
    send(app, "weekly")
    daily, weekly = digests_to(mailbox, officer.email, count=2)
    assert "News on Daily" in body(daily)
    assert "Weekly" not in body(daily) and "Silent" not in body(daily) and "Instant" not in body(daily)
    assert weekly["Subject"].startswith("Your weekly digest: 1 new item in the week of")
    assert "News on Weekly" in body(weekly) and "News on Daily" not in body(weekly)


def _deliver(app, mailbox, address, count):
    with app.app_context():
        deliver_pending()
    mailbox.wait_for(address, count=count)
    return [m for m in mailbox.to(address) if "Confirm your email" not in m["Subject"]]


def test_deleted_comments_and_ended_follows_are_left_out(app, officer, make_officer, mailbox):
    owner = make_officer("BIR")
    _, kept = make_project(app, owner, title="Kept")
    _, dropped = make_project(app, owner, title="Dropped")
    follow(app, officer, "project", kept)
    dropped_follow = follow(app, officer, "project", dropped)
    gone = comment(app, owner, kept, "Regrettable")
    comment(app, owner, kept, "Fine")
    comment(app, owner, dropped, "On the dropped project")
    with app.app_context():
        comments.delete_comment(db.session.get(User, owner.id), gone)
        follows.unfollow(db.session.get(User, officer.id), dropped_follow)
    send(app)
    [message] = digests_to(mailbox, officer.email)
    text = body(message)
    assert "Fine" in text
    assert "Regrettable" not in text and "Dropped" not in text


def test_the_digest_link_stops_the_digest(app, anon, officer, make_officer, mailbox):
    owner = make_officer("BIR")
    _, first = make_project(app, owner, title="First")
    _, second = make_project(app, owner, title="Second")
    follow(app, officer, "project", first)
    instant = follow(app, officer, "project", second)
    set_frequency(app, officer, "daily", {instant: "instantly"})
    comment(app, owner, first, "News")
    send(app)
    [message] = digests_to(mailbox, officer.email)
    stop = message["List-Unsubscribe"].strip("<>").removeprefix("http://localhost")
    assert anon.page(stop).h1.get_text() == "Stop the daily digest"
    assert anon.post(stop, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with app.app_context():
        frequencies = db.session.scalars(select(Follow.frequency).order_by(Follow.target_id)).all()
        assert db.session.get(NotificationSettings, officer.id).frequency == "off"
    assert "instantly" in frequencies  # other email the officer chose is untouched


def _bulk_follows(app, officer, owner, number: int) -> None:
    """`number` projects the officer follows, each with an update and a notification of it."""
    with app.app_context():
        now = utcnow()
        projects = [
            Project(
                slug=f"p-{officer.id}-{i}", title=f"Project {i}", summary="s", problem="p", phase="idea",
                lead_council_id=owner.council_id, created_by_id=owner.id,
            )
            for i in range(number)
        ]  # fmt: skip
        db.session.add_all(projects)
        db.session.flush()
        db.session.add_all(ProjectMember(project_id=p.id, user_id=owner.id, role="owner") for p in projects)
        updates = [
            ProjectUpdate(project_id=p.id, author_id=owner.id, title="Weeknotes", body=f"Update {i}", created_at=now)
            for i, p in enumerate(projects)
        ]
        follows = [Follow(user_id=officer.id, target_type="project", target_id=p.id) for p in projects]
        db.session.add_all(updates + follows)
        db.session.flush()
        activities = [
            Activity(kind="update_posted", project_id=p.id, actor_id=owner.id, subject_type="update",
                     subject_id=u.id, summary="An update", data={}, created_at=now)
            for p, u in zip(projects, updates)
        ]  # fmt: skip
        db.session.add_all(activities)
        db.session.flush()
        db.session.add_all(
            Notification(user_id=officer.id, activity_id=a.id, follow_id=f.id, created_at=now)
            for a, f in zip(activities, follows)
        )
        db.session.commit()


def test_a_digest_runs_a_fixed_number_of_statements_however_much_is_followed(app, make_officer, mailbox):
    owner = make_officer("BIR")
    counts = {}
    for number in (5, 500):
        reader = make_officer("LDS")
        _bulk_follows(app, reader, owner, number)
        with app.app_context(), statement_counter() as statements:
            run = digests.send_digests(digests.period_for("daily", today()), user_ids=[reader.id])
        assert (run.sent, run.items) == (1, number)
        counts[number] = statements[0]
    assert counts[5] == counts[500], counts
    assert counts[500] <= 12, counts


def test_a_busy_project_shows_its_newest_items_and_how_many_more(app, officer, make_officer, mailbox):
    owner = make_officer("BIR")
    _, project_id = make_project(app, owner, title="Busy project")
    follow(app, officer, "project", project_id)
    for number in range(1, 13):
        comment(app, owner, project_id, f"Comment number {number}.")
    send(app)
    [message] = digests_to(mailbox, officer.email)
    assert message["Subject"].startswith("Your daily digest: 12 new items")
    text = body(message).replace("\r\n", "\n")
    assert "Comment number 12." in text and "Comment number 3." in text
    assert "Comment number 2." not in text
    assert "And 2 more on the project page:\nhttp://localhost/projects/busy-project\n" in text


def test_new_projects_from_a_followed_council_come_with_their_own_unsubscribe_link(
    app, anon, officer, make_officer, mailbox
):
    birmingham = make_officer("BIR")
    council_follow = follow(app, officer, "council", birmingham.council_id)
    make_project(app, birmingham, title="Library app")
    send(app)
    [message] = digests_to(mailbox, officer.email)
    text = body(message).replace("\r\n", "\n")
    assert "Library app\n====" in text
    assert "posted Library app" in text
    assert "Stop email about new projects from Birmingham City Council:" in text
    stop = text.split("Stop email about new projects from Birmingham City Council:\n", 1)[1].split("\n", 1)[0]
    assert anon.page(stop.removeprefix("http://localhost")).h1.get_text() == (
        "Stop email about new projects from Birmingham City Council"
    )
    anon.post(stop.removeprefix("http://localhost"), data={"List-Unsubscribe": "One-Click"})
    with app.app_context():
        assert db.session.get(Follow, council_follow).frequency == "off"
