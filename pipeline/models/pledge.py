"""Pledges: a council's commitment of money, people or skills to a project, and the ledger of every change."""

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.extensions import db
from pipeline.models.council import Council
from pipeline.models.project import PeopleNeed, Project
from pipeline.models.user import User
from pipeline.timeutil import utcnow

PLEDGE_KINDS = {"money": "Money", "people": "People", "skills": "Skills"}
PLEDGE_STATES = {
    "offered": "Offered",
    "accepted": "Accepted",
    "delivered": "Delivered",
    "withdrawn": "Withdrawn",
    "declined": "Declined",
}
# Withdrawn and declined pledges stay in the ledger but no longer count towards any total.
COUNTED_STATES = ("offered", "accepted", "delivered")
FINAL_STATES = ("delivered", "withdrawn", "declined")
# "moved": the pledging council agreed to move the pledge to the project its project was merged into.
PLEDGE_ACTIONS = ("offered", "changed", "accepted", "declined", "delivered", "withdrawn", "moved")

# What a ledger row may record the before and after of, with how a person reads it.
FIELD_LABELS = {
    "amount": "Amount",
    "role": "Role",
    "days": "Days",
    "skill": "Skill",
    "hours": "Hours",
    "start_date": "From",
    "end_date": "To",
}


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Pledge(db.Model):
    """One council's commitment to a project, as it stands now; its `events` say how it got here."""

    __tablename__ = "pledges"
    __table_args__ = (
        CheckConstraint(_in("kind", PLEDGE_KINDS), name="kind_known"),
        CheckConstraint(_in("state", PLEDGE_STATES), name="state_known"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        CheckConstraint("days IS NULL OR days > 0", name="days_positive"),
        CheckConstraint("hours IS NULL OR hours > 0", name="hours_positive"),
        CheckConstraint("kind != 'money' OR amount IS NOT NULL", name="money_has_amount"),
        CheckConstraint("kind != 'people' OR days IS NOT NULL", name="people_have_days"),
        CheckConstraint("kind != 'skills' OR hours IS NOT NULL", name="skills_have_hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    pledged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), default="offered")
    # Money, in whole pounds.
    amount: Mapped[int | None]
    # People: the ask it answers (kept as the role text too, should the ask be removed), and days.
    need_id: Mapped[int | None] = mapped_column(ForeignKey("people_needs.id", ondelete="SET NULL"), index=True)
    role: Mapped[str] = mapped_column(String(100), default="")
    days: Mapped[int | None]
    # Skills: what, and hours.
    skill: Mapped[str] = mapped_column(String(100), default="")
    hours: Mapped[int | None]
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")
    # From a hidden field on the pledge form: the same form sent twice makes one pledge.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship()
    council: Mapped[Council] = relationship()
    pledged_by: Mapped[User] = relationship()
    need: Mapped[PeopleNeed | None] = relationship()
    events: Mapped[list["PledgeEvent"]] = relationship(
        back_populates="pledge", order_by="PledgeEvent.id", passive_deletes=True
    )

    @property
    def is_counted(self) -> bool:
        return self.state in COUNTED_STATES

    @property
    def state_label(self) -> str:
        return PLEDGE_STATES[self.state]

    @property
    def description(self) -> str:
        """'£5,000', 'User researcher, 10 days' or 'Accessibility testing, 12 hours'."""
        return describe(
            self.kind, amount=self.amount, role=self.role, days=self.days, skill=self.skill, hours=self.hours
        )

    def values(self) -> dict:
        """The fields a ledger row records, as stored in its JSON."""
        return {name: _plain(getattr(self, name)) for name in FIELD_LABELS}

    def __repr__(self) -> str:
        return f"<Pledge {self.id} {self.kind} {self.state}>"


def describe(kind: str, *, amount=None, role="", days=None, skill="", hours=None) -> str:
    """A pledge's substance in a few words."""
    if kind == "money":
        return f"£{amount or 0:,}"
    if kind == "people":
        return f"{role}, {days} day{'s' if days != 1 else ''}"
    return f"{skill}, {hours} hour{'s' if hours != 1 else ''}"


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def format_value(name: str, value) -> str:
    """A recorded value as a person reads it: '£5,000', '12', '1 March 2027'."""
    if value is None or value == "":
        return "(none)"
    if name == "amount":
        return f"£{value:,}"
    if name in ("start_date", "end_date"):
        day = date.fromisoformat(value)
        return f"{day.day} {day:%B %Y}"
    return str(value)


class PledgeEvent(db.Model):
    """One line of a project's pledge ledger: who did what to a pledge, when, why, and what changed.

    Written in the same transaction as the change to the pledge; never updated or deleted.
    """

    __tablename__ = "pledge_events"
    __table_args__ = (CheckConstraint(_in("action", PLEDGE_ACTIONS), name="action_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    # The project too, so a project's ledger is read in one indexed query, oldest first.
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    # {"days": {"before": 10, "after": 12}}; an offer records every field with before None.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    # The pledge as it stood after this event, so the ledger reads without replaying it.
    description: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    pledge: Mapped[Pledge] = relationship(back_populates="events")
    actor: Mapped[User] = relationship()

    def change_lines(self) -> list[tuple[str, str, str]]:
        """(label, before, after) for each field this event changed, in a fixed order."""
        return [
            (label, format_value(name, self.changes[name]["before"]), format_value(name, self.changes[name]["after"]))
            for name, label in FIELD_LABELS.items()
            if name in self.changes
        ]


@event.listens_for(PledgeEvent, "before_update")
@event.listens_for(PledgeEvent, "before_delete")
def _ledger_is_append_only(_mapper, _connection, target):
    raise RuntimeError(f"The pledge ledger is append-only: event {target.id} cannot be changed or deleted")
