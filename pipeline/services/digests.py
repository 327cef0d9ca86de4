"""Daily and weekly digests: what happened on what each officer follows, grouped by project, newest first.

A digest never repeats an item: each notification it carries is marked with the digest. It is not sent
when there is nothing new. Each officer gets at most one digest per period (a unique row per officer,
frequency and period), so running the command twice for the same period sends nothing twice.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from flask import render_template
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.filters import format_date
from pipeline.models import Activity, Digest, Follow, Notification, NotificationSettings, Project, User
from pipeline.services import follows
from pipeline.services.errors import InvalidInput
from pipeline.services.notifications import Item, base_url, describe, unsubscribe_headers
from pipeline.services.outbox import queue_email
from pipeline.timeutil import utcnow

DIGEST_FREQUENCIES = ("daily", "weekly")
BATCH_SIZE = 500
ITEMS_PER_PROJECT = 10


@dataclass(frozen=True)
class Period:
    """The time a digest covers, in UTC: a day, or a week from Monday."""

    frequency: str
    start: datetime
    end: datetime

    @property
    def earliest(self) -> datetime:
        # Items from the period before are still sent if a run was missed, but nothing older:
        # switching email back on does not bring months of old news.
        return self.start - (self.end - self.start)

    @property
    def description(self) -> str:
        if self.frequency == "daily":
            return f"on {format_date(self.start)}"
        return f"in the week of {format_date(self.start)}"


def period_for(frequency: str, day: date | None = None) -> Period:
    """The period containing `day`; by default the last complete one (yesterday, or last week)."""
    if frequency not in DIGEST_FREQUENCIES:
        raise InvalidInput("Digests are daily or weekly")
    today = utcnow().date()
    if frequency == "daily":
        day = day or today - timedelta(days=1)
        start = datetime.combine(day, time())
        return Period(frequency, start, start + timedelta(days=1))
    day = day or today - timedelta(days=7)
    start = datetime.combine(day - timedelta(days=day.weekday()), time())
    return Period(frequency, start, start + timedelta(days=7))


@dataclass
class Unsubscribe:
    description: str
    url: str


@dataclass
class Group:
    """One project's items in a digest, newest first."""

    title: str
    path: str
    items: list[Item] = field(default_factory=list)
    more: int = 0
    unsubscribes: list[Unsubscribe] = field(default_factory=list)


@dataclass
class DigestRun:
    sent: int = 0
    items: int = 0
    already_sent: int = 0


def _pending(period: Period):
    return (
        Notification.emailed_at.is_(None),
        Notification.created_at >= period.earliest,
        Notification.created_at < period.end,
    )


def recipients(period: Period) -> list[int]:
    """Officers with anything not yet emailed from the period (their choices are checked per batch)."""
    ids = list(
        db.session.scalars(
            select(Notification.user_id).where(*_pending(period)).distinct().order_by(Notification.user_id)
        )
    )
    db.session.rollback()  # end the read, so each batch writes from a fresh snapshot
    return ids


def send_digests(period: Period, batch_size: int = BATCH_SIZE, user_ids: list[int] | None = None) -> DigestRun:
    """Queue the period's digest for everyone who has something new, a batch of officers at a time."""
    run = DigestRun()
    ids = recipients(period) if user_ids is None else sorted(user_ids)
    described: dict[int, Item | None] = {}  # each activity is described once for the whole run
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        try:
            _send_batch(period, batch, run, described)
        except IntegrityError:
            # Another run sent some of these digests between our check and our write: try again, skipping them.
            db.session.rollback()
            _send_batch(period, batch, run, described)
    return run


class Pending(NamedTuple):
    """A notification waiting for a digest, with the follow it came through (columns, not ORM objects)."""

    id: int
    user_id: int
    activity_id: int
    follow: "FollowRef"


class FollowRef(NamedTuple):
    id: int
    user_id: int
    target_type: str
    target_id: int


def _pending_for(period: Period, user_ids: list[int]) -> list[Pending]:
    """Each officer's notifications waiting for this kind of digest, newest first."""
    rows = db.session.execute(
        select(
            Notification.id,
            Notification.user_id,
            Notification.activity_id,
            Follow.id,
            Follow.target_type,
            Follow.target_id,
            Follow.frequency,
            NotificationSettings.frequency,
        )
        .join(Follow, Follow.id == Notification.follow_id)
        .outerjoin(NotificationSettings, NotificationSettings.user_id == Notification.user_id)
        .where(Notification.user_id.in_(user_ids), *_pending(period), Follow.unfollowed_at.is_(None))
        .order_by(Notification.user_id, Notification.created_at.desc(), Notification.id.desc())
    ).all()
    return [
        Pending(row[0], row[1], row[2], FollowRef(row[3], row[1], row[4], row[5]))
        for row in rows
        if follows.effective_frequency(row[6], row[7]) == period.frequency
    ]


def _describe(activity_ids: set[int], described: dict[int, Item | None]) -> None:
    """Describe the activities not yet described in this run (two or three statements, whatever the number)."""
    missing = activity_ids - described.keys()
    if not missing:
        return
    rows = db.session.execute(
        select(Activity, Project.title, Project.slug)
        .join(Project, Project.id == Activity.project_id)
        .where(Activity.id.in_(missing))
    ).all()
    found = describe([tuple(row) for row in rows])
    for activity_id in missing:
        described[activity_id] = found.get(activity_id)


def _send_batch(period: Period, user_ids: list[int], run: DigestRun, described: dict[int, Item | None]) -> None:
    """Build, record and queue digests for some officers in a fixed number of statements (plus one per email)."""
    begin_write()
    already = set(
        db.session.scalars(
            select(Digest.user_id).where(
                Digest.user_id.in_(user_ids), Digest.frequency == period.frequency, Digest.period_start == period.start
            )
        )
    )
    run.already_sent += len(already)
    pending = [row for row in _pending_for(period, user_ids) if row.user_id not in already]
    _describe({row.activity_id for row in pending}, described)
    per_user: dict[int, list[Pending]] = {}
    for row in pending:
        per_user.setdefault(row.user_id, []).append(row)
    # Nothing new (a deleted comment is not news): no digest.
    wanted = [user_id for user_id, rows in per_user.items() if any(described[r.activity_id] for r in rows)]
    if not wanted:
        db.session.rollback()
        return
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(wanted)))}
    targets = follows.targets_for(
        [row.follow for user_id in wanted for row in per_user[user_id] if row.follow.target_type != "project"]
    )
    now = utcnow()
    entries = {
        user_id: [(described[r.activity_id], r.follow) for r in per_user[user_id] if described[r.activity_id]]
        for user_id in wanted
    }
    # Inserted in one statement and read back in another: row-by-row INSERTs would grow with the batch.
    db.session.execute(
        insert(Digest),
        [
            {
                "user_id": user_id,
                "frequency": period.frequency,
                "period_start": period.start,
                "item_count": len(entries[user_id]),
                "created_at": now,
            }
            for user_id in wanted
        ],
    )
    digest_ids = dict(
        db.session.execute(
            select(Digest.user_id, Digest.id).where(
                Digest.user_id.in_(wanted), Digest.frequency == period.frequency, Digest.period_start == period.start
            )
        ).all()
    )
    table = Notification.__table__
    db.session.execute(
        update(table).where(table.c.id == bindparam("notification")).values(emailed_at=now, digest_id=bindparam("d")),
        [{"notification": r.id, "d": digest_ids[user_id]} for user_id in wanted for r in per_user[user_id]],
    )
    for user_id in wanted:
        _queue_digest(users[user_id], period, entries[user_id], targets)
        run.sent += 1
        run.items += len(entries[user_id])
    db.session.commit()


def group_items(entries: list[tuple[Item, FollowRef]], targets: dict) -> list[Group]:
    """Items grouped by project, the project with the newest item first, each group newest first.

    A busy project shows its newest items and says how many more there are, so one lively thread
    does not bury everything else.
    """
    groups: dict[int, Group] = {}
    follows_seen: dict[int, set[int]] = {}
    for item, follow in sorted(entries, key=lambda e: (e[0].when, e[0].activity_id), reverse=True):
        group = groups.setdefault(item.project_id, Group(item.project_title, f"/projects/{item.project_slug}"))
        if len(group.items) < ITEMS_PER_PROJECT:
            group.items.append(item)
        else:
            group.more += 1
        if follow.id not in follows_seen.setdefault(item.project_id, set()):
            follows_seen[item.project_id].add(follow.id)
            target = targets.get((follow.target_type, follow.target_id))
            group.unsubscribes.append(
                Unsubscribe(
                    target.description if target else item.project_title,
                    f"{base_url()}/unsubscribe/{follows.unsubscribe_token(follow)}",
                )
            )
    return list(groups.values())


def _queue_digest(user: User, period: Period, entries: list[tuple[Item, FollowRef]], targets: dict) -> None:
    groups = group_items(entries, targets)
    count = len(entries)
    stop_url = f"{base_url()}/unsubscribe/{follows.digest_unsubscribe_token(user.id, period.frequency)}"
    body = render_template(
        "email/digest.txt",
        user=user,
        period=period,
        groups=groups,
        count=count,
        base_url=base_url(),
        settings_url=f"{base_url()}/notifications/settings",
        stop_url=stop_url,
    )
    things = "1 new item" if count == 1 else f"{count} new items"
    subject = f"Your {period.frequency} digest: {things} {period.description}"
    queue_email(user.email, subject, body, unsubscribe_headers(stop_url))
