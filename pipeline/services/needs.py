"""The needs board: every open ask across open projects, with what is still unpledged.

Like the projects list, it leaves out dormant projects (no activity for `DORMANT_AFTER_DAYS`) unless asked:
their teams have gone quiet, so time or money offered there is least likely to help."""

from dataclasses import dataclass, fields
from math import ceil

from sqlalchemy import and_, exists, func, or_, select
from werkzeug.datastructures import MultiDict

from pipeline.extensions import db
from pipeline.models import (
    ACTIVE_PHASES,
    COUNTED_STATES,
    Council,
    PeopleNeed,
    Pledge,
    Project,
    ProjectCouncil,
    ProjectService,
    Service,
)
from pipeline.services import project_lists
from pipeline.services.pledges import Tally
from pipeline.services.projects import is_dormant, not_dormant

# The projects list's choices, less "only dormant": the board is for asks someone may still take up.
DORMANCY = {value: label for value, label in project_lists.DORMANCY.items() if value != "only"}

PER_PAGE = 20


@dataclass
class NeedFilters:
    """What the needs board is filtered by; every value comes from and goes back to the URL."""

    role: str = ""
    service: int | None = None
    region: str = ""
    dormant: str = "hide"
    page: int = 1

    @classmethod
    def from_args(cls, args: MultiDict) -> "NeedFilters":
        """Read filters from a query string, ignoring values that make no sense rather than failing."""

        def number(name: str) -> int | None:
            value = args.get(name, "").strip()
            return int(value) if value.isdigit() and len(value) < 10 else None

        return cls(
            role=" ".join(args.get("role", "").split())[:100],
            service=number("service"),
            region=args.get("region", "").strip()[:60],
            dormant=args.get("dormant") if args.get("dormant") in DORMANCY else "hide",
            page=max(1, min(number("page") or 1, 100_000)),
        )

    def to_args(self, **changes) -> dict:
        values = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        defaults = NeedFilters()
        return {k: v for k, v in values.items() if v not in (None, "") and v != getattr(defaults, k)}

    @property
    def active(self) -> bool:
        return bool(self.to_args(page=1))


@dataclass
class OpenAsks:
    """One project's asks that are not yet pledged in full."""

    project: Project
    money: Tally | None
    needs: list[Tally]
    dormant: bool = False


@dataclass
class NeedsPage:
    items: list[OpenAsks]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


def _days_pledged():
    """Days pledged (and not withdrawn or declined) against the PeopleNeed of the enclosing query."""
    return (
        select(func.coalesce(func.sum(Pledge.days), 0))
        .where(Pledge.need_id == PeopleNeed.id, Pledge.state.in_(COUNTED_STATES))
        .correlate(PeopleNeed)
        .scalar_subquery()
    )


def _pounds_pledged():
    """Money pledged (and not withdrawn or declined) to the Project of the enclosing query."""
    return (
        select(func.coalesce(func.sum(Pledge.amount), 0))
        .where(Pledge.project_id == Project.id, Pledge.kind == "money", Pledge.state.in_(COUNTED_STATES))
        .correlate(Project)
        .scalar_subquery()
    )


def _open_need_conditions(filters: NeedFilters) -> list:
    conditions = [PeopleNeed.days > _days_pledged()]
    if filters.role:
        conditions.append(func.lower(PeopleNeed.role) == filters.role.lower())
    return conditions


def _board_query(filters: NeedFilters):
    open_need = exists().where(PeopleNeed.project_id == Project.id, *_open_need_conditions(filters))
    money_unmet = and_(Project.money_target > 0, Project.money_target > _pounds_pledged())
    # A role filter asks about people, so money asks drop out.
    query = select(Project).where(
        Project.phase.in_(ACTIVE_PHASES), open_need if filters.role else or_(open_need, money_unmet)
    )
    if filters.dormant == "hide":
        query = query.where(not_dormant())
    if filters.service:
        query = query.where(
            exists().where(ProjectService.project_id == Project.id, ProjectService.service_id == filters.service)
        )
    if filters.region:
        query = query.where(
            exists().where(
                ProjectCouncil.project_id == Project.id,
                ProjectCouncil.state != "requested",
                ProjectCouncil.council_id == Council.id,
                Council.region == filters.region,
            )
        )
    return query


def needs_board(filters: NeedFilters, per_page: int = PER_PAGE) -> NeedsPage:
    """One page of open projects with unmet asks, each with its unmet asks, in a fixed number of statements."""
    query = _board_query(filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    projects = db.session.scalars(
        query.options(*project_lists.card_options())
        .order_by(Project.updated_at.desc(), Project.id.desc())
        .limit(per_page)
        .offset((filters.page - 1) * per_page)
    ).all()
    ids = [project.id for project in projects]
    needs: dict[int, list[Tally]] = {}
    pounds: dict[int, int] = {}
    if ids:
        rows = db.session.execute(
            select(PeopleNeed, _days_pledged())
            .where(PeopleNeed.project_id.in_(ids), *_open_need_conditions(filters))
            .order_by(PeopleNeed.id)
        ).all()
        for need, pledged in rows:
            needs.setdefault(need.project_id, []).append(
                Tally(need.role, "days", asked=need.days, pledged=pledged, need=need)
            )
        if not filters.role:
            pounds = dict(
                db.session.execute(
                    select(Pledge.project_id, func.sum(Pledge.amount))
                    .where(Pledge.project_id.in_(ids), Pledge.kind == "money", Pledge.state.in_(COUNTED_STATES))
                    .group_by(Pledge.project_id)
                ).all()
            )
    items = []
    for project in projects:
        money = None
        if not filters.role and project.money_target and project.money_target > pounds.get(project.id, 0):
            money = Tally("Money", "pounds", asked=project.money_target, pledged=pounds.get(project.id, 0))
        items.append(OpenAsks(project, money, needs.get(project.id, []), dormant=is_dormant(project)))
    return NeedsPage(items, total, filters.page, per_page)


@dataclass
class NeedChoices:
    roles: list[tuple[str, str]]
    services: list[tuple[int, str]]
    regions: list[tuple[str, str]]


def needs_filter_choices() -> NeedChoices:
    """Roles and services that open projects ask about, and every region (nations outside England)."""
    roles: dict[str, str] = {}
    open_projects = select(Project.id).where(Project.phase.in_(ACTIVE_PHASES))
    for (role,) in db.session.execute(
        select(PeopleNeed.role).where(PeopleNeed.project_id.in_(open_projects)).distinct()
    ):
        roles.setdefault(role.lower(), role)
    services = db.session.execute(
        select(Service.id, Service.label)
        .where(exists().where(ProjectService.service_id == Service.id, ProjectService.project_id.in_(open_projects)))
        .order_by(Service.label)
    ).all()
    regions = db.session.scalars(select(Council.region).distinct().order_by(Council.region)).all()
    return NeedChoices(
        roles=sorted(((key, label) for key, label in roles.items()), key=lambda pair: pair[0]),
        services=[tuple(row) for row in services],
        regions=[(region, region) for region in regions],
    )
