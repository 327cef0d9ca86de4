"""Pledging money, people and skills to projects, moving pledges to delivery, and reading totals and the ledger."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import wraps
from typing import TypeVar

from flask import current_app, render_template
from sqlalchemy import and_, case, func, literal, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.models import (
    COUNTED_STATES,
    PLEDGE_KINDS,
    PLEDGE_STATES,
    Council,
    PeopleNeed,
    Pledge,
    PledgeEvent,
    Project,
    ProjectCouncil,
    ProjectMember,
    User,
)
from pipeline.models.pledge import FIELD_LABELS, FINAL_STATES, format_value
from pipeline.services import activity
from pipeline.services.errors import InvalidInput, NotFound, PermissionDenied, ServiceError
from pipeline.services.outbox import queue_email
from pipeline.services.permissions import can_decide_pledges, is_pledger, require_signed_in
from pipeline.timeutil import utcnow

MAX_AMOUNT = 100_000_000
MAX_DAYS = 10_000
MAX_HOURS = 80_000  # 10,000 days of 8 hours
MAX_TEXT = 2000
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# How many pledges the council page lists on each side; the totals above them count every pledge.
COUNCIL_PAGE_LIMIT = 50

# The moves a pledge may make; anything else is refused.
TRANSITIONS = {
    ("offered", "accepted"),
    ("offered", "declined"),
    ("accepted", "declined"),
    ("accepted", "delivered"),
    ("offered", "withdrawn"),
    ("accepted", "withdrawn"),
}
# Who makes a move to each state: the project team, or the officer who made the pledge.
MOVED_BY = {"accepted": "team", "declined": "team", "delivered": "team", "withdrawn": "pledger"}
REASON_NEEDED = {
    "declined": "Enter a reason for declining the pledge",
    "withdrawn": "Enter a reason for withdrawing the pledge",
}
CHANGEABLE_STATES = ("offered", "accepted")


@dataclass
class PledgeInput:
    """What an officer typed to make a pledge, before it is checked."""

    kind: str
    council_id: int | None = None
    amount: int | None = None
    need_id: int | None = None
    role: str = ""
    days: int | None = None
    skill: str = ""
    hours: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    note: str = ""
    idempotency_key: str = ""


@dataclass
class PledgeChange:
    """New values for a pledge; only those that fit its kind are read."""

    amount: int | None = None
    days: int | None = None
    hours: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    reason: str = ""


# ---- checking input -------------------------------------------------------------------------


def _whole_number(value, *, field: str, missing: str, not_whole: str, out_of_range: str, high: int) -> int:
    if value is None:
        raise InvalidInput(missing, field=field)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(not_whole, field=field)
    if not 1 <= value <= high:
        raise InvalidInput(out_of_range, field=field)
    return value


def _check_amount(amount) -> int:
    if isinstance(amount, int) and not isinstance(amount, bool) and amount < 1:
        raise InvalidInput("Enter an amount of £1 or more", field="amount")
    return _whole_number(
        amount,
        field="amount",
        missing="Enter how much money you are pledging, in whole pounds",
        not_whole="Enter the amount as a whole number of pounds, like 5000",
        out_of_range="Amount must be £100,000,000 or less",
        high=MAX_AMOUNT,
    )


def _check_days(days) -> int:
    return _whole_number(
        days,
        field="days",
        missing="Enter how many days you are pledging",
        not_whole="Enter the number of days as a whole number, like 10",
        out_of_range="Days must be between 1 and 10,000",
        high=MAX_DAYS,
    )


def _check_hours(hours) -> int:
    return _whole_number(
        hours,
        field="hours",
        missing="Enter how many hours you are pledging",
        not_whole="Enter the number of hours as a whole number, like 12",
        out_of_range="Hours must be between 1 and 80,000",
        high=MAX_HOURS,
    )


def _check_dates(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise InvalidInput("The end date must be on or after the start date", field="end_date")


def _check_text(text: str, field: str, label: str) -> str:
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{label} must be 2,000 characters or fewer", field=field)
    return text


def _check_offer(data: PledgeInput) -> None:
    """Raise InvalidInput, naming the field, for the first rule the offer breaks that needs no database."""
    if data.kind not in PLEDGE_KINDS:
        raise InvalidInput("Select what you are pledging: money, people or skills", field="kind")
    if data.kind == "money":
        _check_amount(data.amount)
    elif data.kind == "people":
        if data.need_id is None:
            if not data.role.strip():
                raise InvalidInput("Enter the role you are pledging, like user researcher", field="role")
            if len(data.role.strip()) > 100:
                raise InvalidInput("Role must be 100 characters or fewer", field="role")
        _check_days(data.days)
        _check_dates(data.start_date, data.end_date)
    else:
        if not data.skill.strip():
            raise InvalidInput("Enter the skill you are offering, like accessibility testing", field="skill")
        if len(data.skill.strip()) > 100:
            raise InvalidInput("Skill must be 100 characters or fewer", field="skill")
        _check_hours(data.hours)
    _check_text(data.note, "note", "Note")


F = TypeVar("F", bound=Callable)


def _write(function: F) -> F:
    """A service write that ends its transaction when it refuses, so no lock is held while the page renders."""

    @wraps(function)
    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ServiceError:
            db.session.rollback()
            raise

    return wrapped


# ---- writing --------------------------------------------------------------------------------


def _lock_project(project_id: int) -> Project:
    # FOR UPDATE on PostgreSQL: offers to one project queue here, so the phase and the
    # idempotency key they check cannot change under them. SQLite already holds its write lock.
    project = db.session.scalar(
        select(Project)
        .options(selectinload(Project.members).selectinload(ProjectMember.user))
        .where(Project.id == project_id)
        .with_for_update(of=Project)
        .execution_options(populate_existing=True)
    )
    if project is None:
        raise NotFound()
    return project


def _lock_pledge(pledge_id: int) -> Pledge:
    pledge = db.session.scalar(
        select(Pledge)
        .options(
            selectinload(Pledge.project).selectinload(Project.members).selectinload(ProjectMember.user),
            selectinload(Pledge.council),
            selectinload(Pledge.pledged_by),
        )
        .where(Pledge.id == pledge_id)
        .with_for_update(of=Pledge)
        .execution_options(populate_existing=True)
    )
    if pledge is None:
        raise NotFound()
    return pledge


def _record(pledge: Pledge, actor: User, action: str, from_state: str | None, changes: dict, reason: str = "") -> None:
    db.session.add(
        PledgeEvent(
            pledge_id=pledge.id,
            project_id=pledge.project_id,
            actor_id=actor.id,
            action=action,
            from_state=from_state,
            to_state=pledge.state,
            changes=changes,
            reason=reason,
            description=pledge.description[:300],
        )
    )


def _existing_offer(key: str, user: User) -> Pledge | None:
    pledge = db.session.scalar(select(Pledge).where(Pledge.idempotency_key == key))
    if pledge is not None and pledge.pledged_by_id != user.id:
        raise InvalidInput("This form has already been used. Start a new pledge.")
    return pledge


@_write
def offer_pledge(user: User, project_id: int, data: PledgeInput) -> Pledge:
    """Pledge on behalf of the officer's council. The same form sent again returns the pledge it made."""
    require_signed_in(user)
    if not IDEMPOTENCY_KEY.match(data.idempotency_key or ""):
        raise InvalidInput("This form is out of date. Check your answers and send it again.")
    _check_offer(data)
    begin_write()
    user = db.session.get(User, user.id)
    if data.council_id != user.council_id:
        raise InvalidInput(f"You can only pledge on behalf of your own council, {user.council.name}")
    project = _lock_project(project_id)
    existing = _existing_offer(data.idempotency_key, user)
    if existing is not None:
        db.session.rollback()
        return existing
    if project.is_closed:
        state = "stopped" if project.phase == "stopped" else "been retired"
        raise InvalidInput(f"This project has {state}, so it no longer takes pledges")
    role = data.role.strip()
    if data.kind == "people" and data.need_id is not None:
        need = db.session.get(PeopleNeed, data.need_id)
        if need is None or need.project_id != project.id:
            raise InvalidInput("Select a role the project has asked for, or another role", field="need")
        role = need.role
    pledge = Pledge(
        project_id=project.id,
        council_id=user.council_id,
        pledged_by_id=user.id,
        kind=data.kind,
        state="offered",
        amount=data.amount if data.kind == "money" else None,
        need_id=data.need_id if data.kind == "people" else None,
        role=role if data.kind == "people" else "",
        days=data.days if data.kind == "people" else None,
        skill=data.skill.strip() if data.kind == "skills" else "",
        hours=data.hours if data.kind == "skills" else None,
        start_date=data.start_date if data.kind == "people" else None,
        end_date=data.end_date if data.kind == "people" else None,
        note=data.note.strip(),
        idempotency_key=data.idempotency_key,
    )
    db.session.add(pledge)
    try:
        db.session.flush()
    except IntegrityError:
        # The same form landed twice at once and the other copy won: return what it made.
        db.session.rollback()
        existing = _existing_offer(data.idempotency_key, db.session.get(User, user.id))
        if existing is None:
            raise
        return existing
    changes = {name: {"before": None, "after": value} for name, value in pledge.values().items() if value}
    _record(pledge, user, "offered", None, changes, pledge.note)
    council = user.council
    activity.record(
        "pledge_offered",
        project,
        user,
        f"{council.name} pledged {pledge.description} to {project.title}",
        "pledge",
        pledge.id,
        council_id=council.id,
    )
    _tell_team(project, pledge, user, "offered")
    db.session.commit()
    return pledge


def refusal(from_state: str, to_state: str) -> str:
    """Why a pledge cannot move from one state to another, in plain English."""
    if from_state == to_state:
        return f"This pledge is already {from_state}"
    if from_state in FINAL_STATES:
        return f"This pledge has been {from_state}, so it cannot be {to_state} or changed any more"
    if to_state == "delivered":
        return "Accept the pledge before marking it delivered"
    return f"A pledge that is {from_state} cannot be {to_state}"


@_write
def move_pledge(user: User, pledge_id: int, to_state: str, reason: str = "") -> Pledge:
    """Accept, decline, mark delivered or withdraw a pledge, keeping who, when and why in the ledger."""
    require_signed_in(user)
    if to_state not in PLEDGE_STATES:
        raise InvalidInput("Select what to do with the pledge")
    reason = _check_text(reason, "reason", "Note" if to_state == "delivered" else "Reason")
    begin_write()
    pledge = _lock_pledge(pledge_id)
    project = pledge.project
    team, pledger = can_decide_pledges(user, project), is_pledger(user, pledge)
    moved_by = MOVED_BY.get(to_state)
    if moved_by == "team" and not team:
        raise PermissionDenied("Only the project team can do that.")
    if moved_by == "pledger" and not pledger:
        raise PermissionDenied("Only the officer who made the pledge can do that.")
    if moved_by is None and not (team or pledger):
        raise PermissionDenied("Only the project team or the officer who made the pledge can do that.")
    if (pledge.state, to_state) not in TRANSITIONS:
        raise InvalidInput(refusal(pledge.state, to_state))
    if to_state in REASON_NEEDED and not reason:
        raise InvalidInput(REASON_NEEDED[to_state], field="reason")
    user = db.session.get(User, user.id)
    from_state = pledge.state
    pledge.state = to_state
    pledge.updated_at = utcnow()
    _record(pledge, user, to_state, from_state, {}, reason)
    council = pledge.council
    summaries = {
        "accepted": f"{project.title} accepted {council.name}'s pledge of {pledge.description}",
        "declined": f"{project.title} declined {council.name}'s pledge of {pledge.description}",
        "delivered": f"{council.name} delivered {pledge.description} to {project.title}",
        "withdrawn": f"{council.name} withdrew its pledge of {pledge.description} to {project.title}",
    }
    activity.record(
        f"pledge_{to_state}", project, user, summaries[to_state], "pledge", pledge.id, council_id=council.id
    )
    if to_state == "withdrawn":
        _tell_team(project, pledge, user, "withdrawn", reason)
    else:
        _tell_pledger(pledge, user, to_state, reason)
    db.session.commit()
    return pledge


@_write
def change_pledge(user: User, pledge_id: int, change: PledgeChange) -> Pledge:
    """Change an offered or accepted pledge's amount, days, hours or dates; the ledger keeps before and after."""
    require_signed_in(user)
    begin_write()
    pledge = _lock_pledge(pledge_id)
    if not is_pledger(user, pledge):
        raise PermissionDenied("Only the officer who made the pledge can change it.")
    if pledge.state not in CHANGEABLE_STATES:
        raise InvalidInput(f"This pledge has been {pledge.state}, so it can no longer be changed")
    if pledge.kind == "money":
        new = {"amount": _check_amount(change.amount)}
    elif pledge.kind == "people":
        new = {"days": _check_days(change.days), "start_date": change.start_date, "end_date": change.end_date}
        _check_dates(change.start_date, change.end_date)
    else:
        new = {"hours": _check_hours(change.hours)}
    reason = _check_text(change.reason, "reason", "Reason")
    before = pledge.values()
    for name, value in new.items():
        setattr(pledge, name, value)
    after = pledge.values()
    changes = {
        name: {"before": before[name], "after": after[name]} for name in FIELD_LABELS if before[name] != after[name]
    }
    if not changes:
        raise InvalidInput("You have not changed anything. Change a value, or go back to the pledges.")
    user = db.session.get(User, user.id)
    pledge.updated_at = utcnow()
    _record(pledge, user, "changed", pledge.state, changes, reason)
    project = pledge.project
    activity.record(
        "pledge_changed",
        project,
        user,
        f"{pledge.council.name} changed its pledge to {project.title}: now {pledge.description}",
        "pledge",
        pledge.id,
        council_id=pledge.council_id,
    )
    _tell_team(project, pledge, user, "changed", reason, changes=changes)
    db.session.commit()
    return pledge


# ---- email ----------------------------------------------------------------------------------

TEAM_SUBJECTS = {
    "offered": "New pledge to {title}",
    "changed": "A pledge to {title} has changed",
    "withdrawn": "A pledge to {title} has been withdrawn",
}
PLEDGER_SUBJECTS = {
    "accepted": "Your pledge to {title} has been accepted",
    "declined": "Your pledge to {title} has been declined",
    "delivered": "Your pledge to {title} has been marked delivered",
}


def _ledger_link(pledge: Pledge, project: Project) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/projects/{project.slug}/pledges#pledge-{pledge.id}"


def _tell_team(
    project: Project, pledge: Pledge, actor: User, what: str, reason: str = "", changes: dict | None = None
) -> None:
    """Email each team member (but not whoever did it) about a new, changed or withdrawn pledge."""
    recipients = sorted({m.user.email for m in project.members if m.user_id != actor.id})
    if not recipients:
        return
    lines = [(FIELD_LABELS[name], name, change) for name, change in (changes or {}).items()]
    body = render_template(
        "email/pledge_to_team.txt",
        what=what,
        project=project,
        pledge=pledge,
        actor=actor,
        reason=reason,
        changes=[(label, format_value(n, c["before"]), format_value(n, c["after"])) for label, n, c in lines],
        link=_ledger_link(pledge, project),
    )
    for recipient in recipients:
        queue_email(recipient, TEAM_SUBJECTS[what].format(title=project.title), body)


def _tell_pledger(pledge: Pledge, actor: User, what: str, reason: str = "") -> None:
    """Email the officer who made a pledge when the team accepts, declines or marks it delivered."""
    if pledge.pledged_by_id == actor.id:
        return
    project = pledge.project
    body = render_template(
        "email/pledge_to_pledger.txt",
        what=what,
        project=project,
        pledge=pledge,
        actor=actor,
        reason=reason,
        link=_ledger_link(pledge, project),
    )
    queue_email(pledge.pledged_by.email, PLEDGER_SUBJECTS[what].format(title=project.title), body)


# ---- reading --------------------------------------------------------------------------------


@dataclass
class Tally:
    """Asked, pledged and delivered of one thing (money, a role, a skill), in one unit."""

    label: str
    unit: str  # "pounds", "days" or "hours"
    asked: int | None = None
    pledged: int = 0
    delivered: int = 0
    need: PeopleNeed | None = None

    @property
    def pledged_percent(self) -> int | None:
        return self.pledged * 100 // self.asked if self.asked else None

    @property
    def delivered_percent(self) -> int | None:
        return self.delivered * 100 // self.pledged if self.pledged else None

    @property
    def still_needed(self) -> int:
        return max(0, (self.asked or 0) - self.pledged)


@dataclass
class CouncilTally:
    """What one council has pledged to a project, in counted pledges."""

    name: str
    slug: str
    pounds: int = 0
    days: int = 0
    hours: int = 0


@dataclass
class PledgeSummary:
    """A project's pledge totals: money against the target, days against each need, and who pledged."""

    money: Tally
    needs: list[Tally]
    other_people: list[Tally]
    skills: list[Tally]
    councils: list[CouncilTally]

    @property
    def has_pledges(self) -> bool:
        return bool(self.councils)


def _counted_totals(project_id: int):
    """Sums of counted pledges to a project, grouped so no row is per pledge."""
    return db.session.execute(
        select(
            Pledge.council_id,
            Council.name,
            Council.slug,
            Pledge.kind,
            Pledge.need_id,
            Pledge.role,
            Pledge.skill,
            Pledge.state,
            func.coalesce(func.sum(Pledge.amount), 0).label("pounds"),
            func.coalesce(func.sum(Pledge.days), 0).label("days"),
            func.coalesce(func.sum(Pledge.hours), 0).label("hours"),
        )
        .join(Council, Council.id == Pledge.council_id)
        .where(Pledge.project_id == project_id, Pledge.state.in_(COUNTED_STATES))
        .group_by(
            Pledge.council_id,
            Council.name,
            Council.slug,
            Pledge.kind,
            Pledge.need_id,
            Pledge.role,
            Pledge.skill,
            Pledge.state,
        )
    ).all()


def project_summary(project: Project) -> PledgeSummary:
    """Totals for a project's page in one SQL statement; `project.people_needs` must already be loaded."""
    money = Tally("Money", "pounds", asked=project.money_target or None)
    needs = {need.id: Tally(need.role, "days", asked=need.days, need=need) for need in project.people_needs}
    other_people: dict[str, Tally] = {}
    skills: dict[str, Tally] = {}
    councils: dict[int, CouncilTally] = {}
    for row in _counted_totals(project.id):
        if row.kind == "money":
            tally, value = money, row.pounds
        elif row.kind == "people":
            tally = needs.get(row.need_id) or other_people.setdefault(row.role.lower(), Tally(row.role, "days"))
            value = row.days
        else:
            tally, value = skills.setdefault(row.skill.lower(), Tally(row.skill, "hours")), row.hours
        tally.pledged += value
        if row.state == "delivered":
            tally.delivered += value
        council = councils.setdefault(row.council_id, CouncilTally(row.name, row.slug))
        council.pounds += row.pounds
        council.days += row.days
        council.hours += row.hours
    return PledgeSummary(
        money=money,
        needs=list(needs.values()),
        other_people=sorted(other_people.values(), key=lambda t: t.label.lower()),
        skills=sorted(skills.values(), key=lambda t: t.label.lower()),
        councils=sorted(councils.values(), key=lambda c: c.name),
    )


def pledge_page_project(slug: str) -> Project:
    """A project with what its pledge pages need: the team, and the asks."""
    project = db.session.scalar(
        select(Project)
        .options(selectinload(Project.members), selectinload(Project.people_needs))
        .where(Project.slug == slug)
    )
    if project is None:
        raise NotFound()
    return project


def project_pledges(project: Project) -> list[Pledge]:
    """Every pledge to a project, oldest first, with its council and who made it."""
    return list(
        db.session.scalars(
            select(Pledge)
            .options(joinedload(Pledge.council), joinedload(Pledge.pledged_by))
            .where(Pledge.project_id == project.id)
            .order_by(Pledge.id)
        )
    )


def ledger(project: Project) -> list[PledgeEvent]:
    """Every event on a project's pledges, oldest first: the public ledger.

    Load `project_pledges` first in the same session so each event's pledge comes from the identity map.
    """
    return list(
        db.session.scalars(
            select(PledgeEvent)
            .options(
                joinedload(PledgeEvent.actor).joinedload(User.council),
                joinedload(PledgeEvent.pledge).joinedload(Pledge.council),
            )
            .where(PledgeEvent.project_id == project.id)
            .order_by(PledgeEvent.id)
        )
    )


def get_pledge(pledge_id: int) -> Pledge:
    """A pledge with its project (and team), council, and who made it."""
    pledge = db.session.scalar(
        select(Pledge)
        .options(
            joinedload(Pledge.project).selectinload(Project.members),
            joinedload(Pledge.council),
            joinedload(Pledge.pledged_by),
        )
        .where(Pledge.id == pledge_id)
    )
    if pledge is None:
        raise NotFound()
    return pledge


def allowed_actions(user: User | None, pledge: Pledge, project: Project | None = None) -> list[str]:
    """What the user may do to a pledge now: 'accept', 'decline', 'deliver', 'change', 'withdraw'."""
    project = project or pledge.project
    actions = []
    if can_decide_pledges(user, project):
        for action, to_state in (("accept", "accepted"), ("deliver", "delivered"), ("decline", "declined")):
            if (pledge.state, to_state) in TRANSITIONS:
                actions.append(action)
    if is_pledger(user, pledge) and pledge.state in CHANGEABLE_STATES:
        actions += ["change", "withdraw"]
    return actions


def _listed():
    """What a list of pledges shows, with each project's team to say who may act on it."""
    return (joinedload(Pledge.project).selectinload(Project.members), joinedload(Pledge.council))


def my_pledges(user: User) -> list[Pledge]:
    """The officer's own pledges, newest first, with their projects."""
    return list(
        db.session.scalars(
            select(Pledge).options(*_listed()).where(Pledge.pledged_by_id == user.id).order_by(Pledge.id.desc())
        )
    )


def pledges_to_decide(user: User) -> list[Pledge]:
    """Offered and accepted pledges to projects the officer is on the team of: theirs to act on."""
    on_team = select(ProjectMember.project_id).where(ProjectMember.user_id == user.id)
    return list(
        db.session.scalars(
            select(Pledge)
            .options(*_listed())
            .where(Pledge.project_id.in_(on_team), Pledge.state.in_(CHANGEABLE_STATES))
            .order_by(Pledge.id)
        )
    )


@dataclass
class Totals:
    """Counted pledges in each unit, and how much of each has been delivered."""

    pounds: int = 0
    days: int = 0
    hours: int = 0
    delivered_pounds: int = 0
    delivered_days: int = 0
    delivered_hours: int = 0
    count: int = 0

    @property
    def any(self) -> bool:
        return self.count > 0


def _totals_columns() -> list:
    """The sums a Totals holds, in its order, over whichever pledges a statement selects."""
    delivered = Pledge.state == "delivered"
    return [
        func.coalesce(func.sum(Pledge.amount), 0),
        func.coalesce(func.sum(Pledge.days), 0),
        func.coalesce(func.sum(Pledge.hours), 0),
        func.coalesce(func.sum(case((delivered, Pledge.amount), else_=0)), 0),
        func.coalesce(func.sum(case((delivered, Pledge.days), else_=0)), 0),
        func.coalesce(func.sum(case((delivered, Pledge.hours), else_=0)), 0),
        func.count(),
    ]


def _totals(values) -> Totals:
    return Totals(*(int(v) for v in values))


def totals_by_project(project_ids: list[int]) -> dict[int, Totals]:
    """Counted pledges to each of these projects, in one grouped statement; projects with none are left out."""
    if not project_ids:
        return {}
    rows = db.session.execute(
        select(Pledge.project_id, *_totals_columns())
        .where(Pledge.state.in_(COUNTED_STATES), Pledge.project_id.in_(project_ids))
        .group_by(Pledge.project_id)
    ).all()
    return {row[0]: _totals(row[1:]) for row in rows}


def overall_totals() -> Totals:
    """Counted pledges to every project, in one statement."""
    return _totals(db.session.execute(select(*_totals_columns()).where(Pledge.state.in_(COUNTED_STATES))).one())


@dataclass
class CouncilPledges:
    """What a council has pledged and to what, and what projects it takes part in have received."""

    given: list[Pledge] = field(default_factory=list)
    given_totals: Totals = field(default_factory=Totals)
    received: list[Pledge] = field(default_factory=list)
    received_totals: Totals = field(default_factory=Totals)
    limit: int = COUNCIL_PAGE_LIMIT


def _council_projects(council_id: int):
    return select(ProjectCouncil.project_id).where(
        ProjectCouncil.council_id == council_id, ProjectCouncil.state != "requested"
    )


def council_pledges(council: Council) -> CouncilPledges:
    """The council page's pledges in two statements: both sides' totals, then each side's latest pledges."""
    counted = Pledge.state.in_(COUNTED_STATES)
    given = Pledge.council_id == council.id
    received = and_(Pledge.project_id.in_(_council_projects(council.id)), Pledge.council_id != council.id, counted)

    def sums(side: str, where):
        return select(literal(side).label("side"), *_totals_columns()).where(counted, where)

    rows = db.session.execute(union_all(sums("given", given), sums("received", received))).all()
    totals = {row[0]: _totals(row[1:]) for row in rows}

    # The latest pledges on each side, ranked within their side so that neither crowds out the other.
    side = case((given, "given"), else_="received")
    ranked = (
        select(
            Pledge.id.label("id"),
            side.label("side"),
            func.row_number().over(partition_by=side, order_by=Pledge.id.desc()).label("rank"),
        )
        .where(or_(given, received))
        .subquery()
    )
    latest = db.session.execute(
        select(Pledge, ranked.c.side)
        .join(ranked, ranked.c.id == Pledge.id)
        .options(joinedload(Pledge.project), joinedload(Pledge.council))
        .where(ranked.c.rank <= COUNCIL_PAGE_LIMIT)
        .order_by(Pledge.id.desc())
    ).all()
    return CouncilPledges(
        given=[pledge for pledge, which in latest if which == "given"],
        given_totals=totals.get("given", Totals()),
        received=[pledge for pledge, which in latest if which == "received"],
        received_totals=totals.get("received", Totals()),
    )
