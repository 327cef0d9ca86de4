"""What Pipeline publishes about projects, councils, services, phase changes, pledges, updates and comments.

Every public record is built here, field by field, so the API, the downloads and the
JSON Lines file show the same fields and nothing else: no email address, no account
id, no private state. People are named by their council, never by name: open data is
under the Open Government Licence, which does not cover personal data. Each function
reads in a fixed number of SQL statements.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from math import ceil

from flask import url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from pipeline.extensions import db
from pipeline.models import (
    NATIONS,
    Comment,
    Council,
    Function,
    PhaseChange,
    Pledge,
    PledgeEvent,
    Project,
    ProjectCouncil,
    ProjectService,
    ProjectUpdate,
    Service,
    User,
)
from pipeline.models.pledge import FIELD_LABELS
from pipeline.services import project_lists
from pipeline.services.errors import InvalidInput, NotFound
from pipeline.services.pledges import Totals
from pipeline.services.projects import is_dormant

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
# Partners who asked to take part and were not yet accepted are not shown anywhere public.
TAKING_PART = ProjectCouncil.state != "requested"


@dataclass
class ResultPage:
    """One page of public records and where it sits in the whole list."""

    items: list[dict]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


def check_page(total: int, page: int, per_page: int) -> None:
    """Refuse a page past the end of the list (page 1 of an empty list is fine)."""
    pages = max(1, ceil(total / per_page))
    if page > pages:
        raise InvalidInput(f"Page {page} is past the end of the list: there {_are(pages)}.", field="page")


def _are(pages: int) -> str:
    return "is 1 page" if pages == 1 else f"are {pages:,} pages"


def timestamp(value: datetime | None) -> str | None:
    """A stored (naive UTC) time as RFC 3339, to the second: '2027-03-01T09:30:00Z'."""
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def absolute_url(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


# ---- projects -------------------------------------------------------------------------------


def project_options(detail: bool) -> list:
    options = [
        selectinload(Project.lead_council),
        selectinload(Project.councils).selectinload(ProjectCouncil.council),
        selectinload(Project.services),
        selectinload(Project.tags),
    ]
    if detail:
        options += [
            selectinload(Project.links),
            selectinload(Project.people_needs),
            selectinload(Project.phase_changes),
        ]
    return options


def council_reference(council: Council) -> dict:
    return {"code": council.code, "slug": council.slug, "name": council.name}


def project_reference(project: Project) -> dict:
    return {
        "id": project.id,
        "slug": project.slug,
        "title": project.title,
        "phase": project.phase,
        "url": absolute_url("projects.show", slug=project.slug),
        "api_url": absolute_url("api.project", slug=project.slug),
    }


def taking_part(project: Project) -> list[ProjectCouncil]:
    return [partner for partner in project.councils if partner.state != "requested"]


def project_summary(project: Project) -> dict:
    """A project as it appears in lists."""
    return {
        **project_reference(project),
        "summary": project.summary,
        "dormant": is_dormant(project),
        "lead_council": council_reference(project.lead_council),
        "councils": [
            {**council_reference(partner.council), "role": partner.role, "state": partner.state}
            for partner in taking_part(project)
        ],
        "services": [{"lgsl_id": s.id, "label": s.label} for s in project.services],
        "tags": [{"slug": t.slug, "name": t.name} for t in project.tags],
        "created_at": timestamp(project.created_at),
        "updated_at": timestamp(project.updated_at),
        "feed_url": absolute_url("opendata.project_feed", slug=project.slug),
    }


def phase_step(change: PhaseChange) -> dict:
    return {
        "from_phase": change.from_phase,
        "to_phase": change.to_phase,
        "note": change.note,
        "evidence_url": change.evidence_url or None,
        "changed_at": timestamp(change.changed_at),
    }


def project_details(projects: list[Project]) -> list[dict]:
    """Whole public records of projects (loaded with `project_options(detail=True)`), with the registered extras."""
    from pipeline.services.open_data import PROJECT_FIELDS

    extras = {field.name: field.load([p.id for p in projects]) for field in PROJECT_FIELDS}
    records = []
    for project in projects:
        record = project_summary(project) | {
            "problem": project.problem,
            "description": project.description,
            "outcome": project.outcome,
            "lessons": project.lessons,
            "links": [{"kind": link.kind, "title": link.title, "url": link.url} for link in project.links],
            "asks": {
                "money_target": project.money_target,
                "people_needs": [
                    {"role": n.role, "days": n.days, "start_date": day(n.start_date), "end_date": day(n.end_date)}
                    for n in project.people_needs
                ],
            },
            "phase_history": [phase_step(change) for change in project.phase_changes],
            "active_at": timestamp(project.active_at),
        }
        for field in PROJECT_FIELDS:
            record[field.name] = extras[field.name].get(project.id, field.default)
        records.append(record)
    return records


def project_page(filters: project_lists.ProjectFilters, per_page: int) -> ResultPage:
    """One page of the projects list, filtered and sorted as the web list is."""
    page = project_lists.list_projects(filters, per_page=per_page)
    check_page(page.total, filters.page, per_page)
    if page.items:
        # The list loaded each project's councils for its cards; load the rest of what a summary shows.
        ids = [p.id for p in page.items]
        db.session.scalars(
            select(Project)
            .where(Project.id.in_(ids))
            .options(selectinload(Project.lead_council), selectinload(Project.services), selectinload(Project.tags))
        ).all()
    return ResultPage([project_summary(p) for p in page.items], page.total, filters.page, per_page)


def find_project_id(slug: str) -> int:
    project_id = db.session.scalar(select(Project.id).where(Project.slug == slug))
    if project_id is None:
        raise NotFound(f"There is no project at {slug}.")
    return project_id


def newest_project_slug() -> str | None:
    """A real project to use in examples."""
    return db.session.scalar(select(Project.slug).order_by(Project.id.desc()).limit(1))


def project_detail(slug: str) -> dict:
    """The whole public record of one project."""
    project = db.session.scalar(select(Project).options(*project_options(detail=True)).where(Project.slug == slug))
    if project is None:
        raise NotFound(f"There is no project at {slug}.")
    return project_details([project])[0]


# ---- councils -------------------------------------------------------------------------------


def council_project_counts(council_ids: Iterable[int]) -> dict[int, int]:
    """How many projects each council takes part in (lead, partner or observer)."""
    ids = list(council_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ProjectCouncil.council_id, func.count())
        .where(TAKING_PART, ProjectCouncil.council_id.in_(ids))
        .group_by(ProjectCouncil.council_id)
    )
    return dict(rows.all())


def council_record(council: Council, project_count: int) -> dict:
    return {
        **council_reference(council),
        "gss_code": council.gss_code,
        "type": council.type,
        "nation": council.nation,
        "region": council.region,
        "website_domain": council.website_domain,
        "project_count": project_count,
        "url": absolute_url("councils.show", slug=council.slug),
        "api_url": absolute_url("api.council", slug=council.slug),
        "feed_url": absolute_url("opendata.council_feed", slug=council.slug),
    }


def council_records(councils: list[Council]) -> list[dict]:
    counts = council_project_counts(c.id for c in councils)
    return [council_record(c, counts.get(c.id, 0)) for c in councils]


def regions() -> list[str]:
    """Every region a council is in (a nation stands for its own region outside England)."""
    return list(db.session.scalars(select(Council.region).distinct().order_by(Council.region)))


def council_page(nation: str, region: str, page: int, per_page: int) -> ResultPage:
    query = select(Council)
    if nation:
        query = query.where(Council.nation == nation)
    if region:
        query = query.where(Council.region == region)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    check_page(total, page, per_page)
    councils = db.session.scalars(
        query.order_by(Council.name, Council.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return ResultPage(council_records(list(councils)), total, page, per_page)


def council_detail(slug: str) -> dict:
    """A council with the projects it takes part in and its role in each."""
    council = db.session.scalar(select(Council).where(Council.slug == slug))
    if council is None:
        raise NotFound(f"There is no council at {slug}.")
    rows = db.session.execute(
        select(Project, ProjectCouncil.role)
        .join(ProjectCouncil, ProjectCouncil.project_id == Project.id)
        .where(ProjectCouncil.council_id == council.id, TAKING_PART)
        .order_by(Project.title, Project.id)
    ).all()
    record = council_record(council, len(rows))
    record["projects"] = [{**project_reference(project), "role": role} for project, role in rows]
    return record


# ---- LGSL services --------------------------------------------------------------------------


def service_project_counts(service_ids: Iterable[int]) -> dict[int, int]:
    ids = list(service_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ProjectService.service_id, func.count())
        .where(ProjectService.service_id.in_(ids))
        .group_by(ProjectService.service_id)
    )
    return dict(rows.all())


def function_record(function: Function | None) -> dict | None:
    if function is None:
        return None
    return {"id": function.id, "label": function.label, "parent": function_record(function.parent)}


def service_records(services: list[Service]) -> list[dict]:
    counts = service_project_counts(s.id for s in services)
    return [
        {
            "lgsl_id": s.id,
            "label": s.label,
            "description": s.description,
            "function": function_record(s.function),
            "project_count": counts.get(s.id, 0),
            "url": absolute_url("services.show", lgsl_id=s.id),
            "api_url": absolute_url("api.service", lgsl_id=s.id),
            "feed_url": absolute_url("opendata.service_feed", lgsl_id=s.id),
        }
        for s in services
    ]


SERVICE_OPTIONS = (selectinload(Service.function).selectinload(Function.parent).selectinload(Function.parent),)


def service_page(function_id: int | None, page: int, per_page: int) -> ResultPage:
    query = select(Service)
    if function_id:
        in_function = select(Function.id).where(or_(Function.id == function_id, Function.parent_id == function_id))
        query = query.where(Service.function_id.in_(in_function))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    check_page(total, page, per_page)
    services = db.session.scalars(
        query.options(*SERVICE_OPTIONS).order_by(Service.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return ResultPage(service_records(list(services)), total, page, per_page)


def service_detail(lgsl_id: int) -> dict:
    """An LGSL service with its function and the projects working on it."""
    service = db.session.scalar(select(Service).options(*SERVICE_OPTIONS).where(Service.id == lgsl_id))
    if service is None:
        raise NotFound(f"There is no service with LGSL id {lgsl_id}.")
    record = service_records([service])[0]
    projects = db.session.scalars(
        select(Project)
        .join(ProjectService, ProjectService.project_id == Project.id)
        .where(ProjectService.service_id == service.id)
        .order_by(Project.title, Project.id)
    ).all()
    record["projects"] = [project_reference(p) for p in projects]
    return record


# ---- phase changes --------------------------------------------------------------------------


def phase_change_records(changes: list[PhaseChange]) -> list[dict]:
    return [{"id": c.id, "project": project_reference(c.project), **phase_step(c)} for c in changes]


# ---- pledges ---------------------------------------------------------------------------------

# Each pledge has one project and one council, and each ledger entry one pledge: joined into the same statement.
PLEDGE_OPTIONS = (joinedload(Pledge.project), joinedload(Pledge.council))
PLEDGE_EVENT_OPTIONS = (joinedload(PledgeEvent.pledge).options(*PLEDGE_OPTIONS),)


def pledge_totals(totals: Totals) -> dict:
    """A project's (or every project's) counted pledges, as public_schemas.PLEDGE_TOTALS describes them."""
    return {
        "count": totals.count,
        "money_pledged": totals.pounds,
        "money_delivered": totals.delivered_pounds,
        "people_days_pledged": totals.days,
        "people_days_delivered": totals.delivered_days,
        "skill_hours_pledged": totals.hours,
        "skill_hours_delivered": totals.delivered_hours,
    }


def _ledger_url(project: Project, anchor: str) -> str:
    return absolute_url("pledges.ledger", slug=project.slug, _anchor=anchor)


def pledge_records(pledges: list[Pledge]) -> list[dict]:
    """Pledges as they stand, loaded with PLEDGE_OPTIONS: what the ledger page's table shows, but not who pledged."""
    return [
        {
            "id": p.id,
            "project": project_reference(p.project),
            "council": council_reference(p.council),
            "kind": p.kind,
            "state": p.state,
            "description": p.description,
            "amount": p.amount,
            "role": p.role if p.kind == "people" else None,
            "days": p.days,
            "skill": p.skill if p.kind == "skills" else None,
            "hours": p.hours,
            "start_date": day(p.start_date),
            "end_date": day(p.end_date),
            "note": p.note,
            "created_at": timestamp(p.created_at),
            "updated_at": timestamp(p.updated_at),
            "url": _ledger_url(p.project, f"pledge-{p.id}"),
        }
        for p in pledges
    ]


def _councils_of(user_ids: Iterable[int]) -> dict[int, Council]:
    """Each person's council, read without reading the people themselves."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(User.id, Council).join(Council, Council.id == User.council_id).where(User.id.in_(ids))
    )
    return dict(rows.all())


def pledge_event_records(events: list[PledgeEvent]) -> list[dict]:
    """Ledger entries, loaded with PLEDGE_EVENT_OPTIONS: who did what to a pledge, by council, and why."""
    actors = _councils_of(e.actor_id for e in events)
    return [
        {
            "id": e.id,
            "pledge_id": e.pledge_id,
            "project": project_reference(e.pledge.project),
            "council": council_reference(e.pledge.council),
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "description": e.description,
            "changes": [
                {"field": name, "before": e.changes[name].get("before"), "after": e.changes[name].get("after")}
                for name in FIELD_LABELS
                if name in (e.changes or {})
            ],
            "reason": e.reason,
            "actor_council": council_reference(actors[e.actor_id]),
            "created_at": timestamp(e.created_at),
            "url": _ledger_url(e.pledge.project, f"event-{e.id}"),
        }
        for e in events
    ]


# ---- updates and comments -------------------------------------------------------------------


def _projects_of(project_ids: Iterable[int]) -> dict[int, Project]:
    ids = set(project_ids)
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(select(Project).where(Project.id.in_(ids)))}


def update_records(updates: list[ProjectUpdate]) -> list[dict]:
    """Project updates, with their author's council."""
    projects = _projects_of(u.project_id for u in updates)
    councils = _councils_of(u.author_id for u in updates)
    return [
        {
            "id": u.id,
            "project": project_reference(projects[u.project_id]),
            "kind": u.kind,
            "title": u.title,
            "body": u.body,
            "author_council": council_reference(councils[u.author_id]),
            "created_at": timestamp(u.created_at),
            "url": absolute_url("conversation.update", slug=projects[u.project_id].slug, update_id=u.id),
        }
        for u in updates
    ]


def comment_records(comments: list[Comment]) -> list[dict]:
    """Comments and replies with their author's council; a deleted or hidden one is only a marker, as on the page."""
    from pipeline.services.comments import is_public

    projects = _projects_of(c.project_id for c in comments)
    councils = _councils_of(c.author_id for c in comments if is_public(c))
    return [
        {
            "id": c.id,
            "project": project_reference(projects[c.project_id]),
            "reply_to": c.parent_id,
            # "deleted" covers both: the text is gone from public view, by its author or an organiser.
            "deleted": not is_public(c),
            "body": c.body if is_public(c) else None,
            "author_council": council_reference(councils[c.author_id]) if is_public(c) else None,
            "official_response": c.is_official,
            "created_at": timestamp(c.created_at),
            "edited_at": timestamp(c.edited_at) if is_public(c) else None,
            # A reply's address takes you to the page of its thread it is on.
            "url": absolute_url("conversation.thread", slug=projects[c.project_id].slug, comment_id=c.id),
        }
        for c in comments
    ]


# ---- lists of any registered record type ----------------------------------------------------


def record_page(query, id_column, to_public: Callable[[list], list[dict]], page: int, per_page: int) -> ResultPage:
    """One page of records, newest first (by id)."""
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    check_page(total, page, per_page)
    rows = db.session.scalars(query.order_by(id_column.desc()).limit(per_page).offset((page - 1) * per_page)).all()
    return ResultPage(to_public(list(rows)), total, page, per_page)


def batches(query, id_column, size: int = 200) -> Iterator[list]:
    """Every row of a query, oldest first, a batch at a time, so memory stays flat however many rows there are.

    Each batch is read by key (id > last id seen), and forgotten by the session once the
    caller has moved on to the next one.
    """
    last = None
    while True:
        statement = query if last is None else query.where(id_column > last)
        rows = db.session.scalars(statement.order_by(id_column).limit(size)).all()
        if not rows:
            return
        last = getattr(rows[-1], id_column.key)
        yield list(rows)
        del rows
        db.session.expunge_all()


NATION_ORDER = {nation: i for i, nation in enumerate(NATIONS)}
