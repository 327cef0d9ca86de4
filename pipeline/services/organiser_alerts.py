"""The organisers' daily email: what is new in the workbench's queues since they were last told.

Each item of a queue has a key; a key is written to `organiser_alerts` in the transaction that queues the
email, with INSERT ... ON CONFLICT DO NOTHING, so an item is told once however often (or however many
copies of) the command runs, and a run with nothing new sends nothing. An item that can come back (a
project dormant again after a sign of life) has a new key for each spell.
"""

from dataclasses import dataclass, field

from flask import current_app, render_template
from sqlalchemy import select

from pipeline.database import begin_write, insert_ignoring_duplicates
from pipeline.extensions import db
from pipeline.models import OrganiserAlert, User
from pipeline.services import workbench
from pipeline.services.outbox import queue_email
from pipeline.timeutil import utcnow

# How far down each queue the email looks; the workbench shows the rest.
ALERT_LIMIT = 1000
# How many new items of each queue the email names.
NAMED_PER_QUEUE = 10


@dataclass(frozen=True)
class Item:
    key: str
    text: str


@dataclass
class AlertRun:
    new: dict[str, list[Item]] = field(default_factory=dict)
    recipients: int = 0

    @property
    def new_count(self) -> int:
        return sum(len(items) for items in self.new.values())


def _items(queues: workbench.Queues) -> dict[str, list[Item]]:
    """Each queue's items with their keys and a line of text naming them."""
    return {
        "reported": [
            Item(
                f"{entry.kind}-report:{report.id}",
                f"A {entry.kind} on {entry.project.title} reported by {report.reporter.name}: {report.reason[:120]}",
            )
            for entry in queues.reported
            for report in entry.reports
        ],
        "duplicates": [
            Item(f"pair:{pair.first.id}-{pair.second.id}", f"{pair.first.title} and {pair.second.title}")
            for pair in queues.duplicates
        ],
        "domain_requests": [
            Item(f"domain-request:{request.id}", f"{request.council_name} ({request.domain})")
            for request in queues.domain_requests
        ],
        "waiting_joins": [
            Item(f"join:{join.id}", f"{join.user.name} asked to join {join.project.title}")
            for join in queues.waiting_joins
        ],
        "dormant": [
            Item(f"project:{project.id}:{project.active_at:%Y-%m-%dT%H:%M:%S}", project.title)
            for project in queues.dormant
        ],
    }


def _claim(queue: str, items: list[Item], now) -> list[Item]:
    """Record the items not told before and return them; another run's items are left to it."""
    if not items:
        return []
    told = set(
        db.session.scalars(
            select(OrganiserAlert.item_key).where(
                OrganiserAlert.queue == queue, OrganiserAlert.item_key.in_([item.key for item in items])
            )
        )
    )
    fresh = [item for item in items if item.key not in told]
    if not fresh:
        return []
    rows = [{"queue": queue, "item_key": item.key, "sent_at": now} for item in fresh]
    claimed = set(
        db.session.scalars(
            insert_ignoring_duplicates(OrganiserAlert, rows, ["queue", "item_key"]).returning(OrganiserAlert.item_key)
        )
    )
    return [item for item in fresh if item.key in claimed]


def organisers() -> list[User]:
    """Everyone the email goes to: organisers and admins who can sign in."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role.in_(("organiser", "admin")),
                User.suspended_at.is_(None),
                User.email_verified_at.is_not(None),
            )
            .order_by(User.id)
        )
    )


def send_daily() -> AlertRun:
    """Email every organiser what is new in the queues; nothing when nothing is new, nothing twice."""
    items = _items(workbench.queues(limit=ALERT_LIMIT))
    begin_write()
    now = utcnow()
    run = AlertRun()
    recipients = organisers()
    if not recipients:
        # Nobody to tell: keep everything new for when there is.
        db.session.rollback()
        return run
    for queue in workbench.QUEUE_LABELS:
        claimed = _claim(queue, items[queue], now)
        if claimed:
            run.new[queue] = claimed
    if not run.new:
        db.session.rollback()
        return run
    base_url = current_app.config["BASE_URL"].rstrip("/")
    count = run.new_count
    subject = f"Organiser workbench: {count} new item{'s' if count != 1 else ''} to look at"
    for organiser in recipients:
        body = render_template(
            "email/organiser_daily.txt",
            organiser=organiser,
            new=run.new,
            labels=workbench.QUEUE_LABELS,
            named=NAMED_PER_QUEUE,
            link=f"{base_url}/organise",
        )
        queue_email(organiser.email, subject, body)
    run.recipients = len(recipients)
    db.session.commit()
    return run
