"""Posting, editing and reading projects; their phases, freshness and edit history."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from pipeline.database import begin_write, insert_ignoring_duplicates
from pipeline.extensions import db
from pipeline.models import (
    ACTIVE_PHASES,
    CLOSED_PHASES,
    LINK_KINDS,
    PHASES,
    Council,
    PeopleNeed,
    PhaseChange,
    Project,
    ProjectCouncil,
    ProjectEdit,
    ProjectLink,
    ProjectMember,
    Service,
    Tag,
    User,
)
from pipeline.models.project import DORMANT_AFTER_DAYS, PHASE_LABELS
from pipeline.services import activity, search, similar
from pipeline.services.errors import InvalidInput, NotFound
from pipeline.services.permissions import require_edit, require_signed_in
from pipeline.services.reference_data import slugify
from pipeline.timeutil import utcnow

MAX_MONEY_TARGET = 100_000_000
MAX_DAYS = 10_000
MAX_TAGS = 10
MAX_SERVICES = 10
MAX_LINKS = 20
MAX_NEEDS = 20


@dataclass
class LinkInput:
    kind: str
    title: str
    url: str


@dataclass
class NeedInput:
    role: str
    days: int
    start_date: date | None = None
    end_date: date | None = None


@dataclass
class ProjectInput:
    """What someone typed to post or edit a project, before it is checked."""

    title: str
    summary: str
    problem: str
    description: str = ""
    lead_council_id: int | None = None
    service_ids: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    links: list[LinkInput] = field(default_factory=list)
    money_target: int | None = None
    people_needs: list[NeedInput] = field(default_factory=list)
    phase: str = "idea"


# ---- checking input -------------------------------------------------------------------------


def normalise_tag(text: str) -> str:
    """'  Bin  Collection!' -> 'bin collection'."""
    return " ".join(re.sub(r"[^\w\s-]", " ", text.lower()).split())[:40].strip(" -")


def parse_tags(text: str) -> list[str]:
    """Tags from a comma-separated string, normalised and without repeats."""
    tags = [normalise_tag(part) for part in text.split(",")]
    return list(dict.fromkeys(tag for tag in tags if tag))


def is_web_address(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and " " not in url


def _check(data: ProjectInput, *, posting: bool) -> None:
    """Raise InvalidInput, naming the field, for the first rule the input breaks."""
    rules = [
        (not data.title.strip(), "title", "Enter a project title"),
        (len(data.title.strip()) > 150, "title", "Project title must be 150 characters or fewer"),
        (not data.summary.strip(), "summary", "Enter a one-line summary"),
        (len(data.summary.strip()) > 200, "summary", "Summary must be 200 characters or fewer"),
        (not data.problem.strip(), "problem", "Enter the problem the project is trying to solve"),
        (len(data.problem) > 5000, "problem", "Problem statement must be 5,000 characters or fewer"),
        (len(data.description) > 20000, "description", "Description must be 20,000 characters or fewer"),
        (posting and data.phase not in ACTIVE_PHASES, "phase", "Select the phase the project is in"),
        (len(data.service_ids) > MAX_SERVICES, "services", f"Select {MAX_SERVICES} services or fewer"),
        (len(data.tags) > MAX_TAGS, "tags", f"Enter {MAX_TAGS} tags or fewer"),
        (len(data.links) > MAX_LINKS, "links", f"Add {MAX_LINKS} links or fewer"),
        (len(data.people_needs) > MAX_NEEDS, "people_needs", f"Add {MAX_NEEDS} people needs or fewer"),
    ]
    if data.money_target is not None:
        rules += [
            (data.money_target < 0, "money_target", "Money target must be £0 or more"),
            (data.money_target > MAX_MONEY_TARGET, "money_target", "Money target must be £100,000,000 or less"),
        ]
    for broken, field_name, message in rules:
        if broken:
            raise InvalidInput(message, field=field_name)
    for link in data.links:
        if link.kind not in LINK_KINDS:
            raise InvalidInput("Select what kind of output each link is", field="links")
        if not link.title.strip() or len(link.title) > 150:
            raise InvalidInput("Enter a title of 150 characters or fewer for each link", field="links")
        if not is_web_address(link.url) or len(link.url) > 500:
            raise InvalidInput("Enter each link as a web address starting with https://", field="links")
    for need in data.people_needs:
        if not need.role.strip() or len(need.role) > 100:
            raise InvalidInput("Enter a role of 100 characters or fewer for each people need", field="people_needs")
        if not 0 < need.days <= MAX_DAYS:
            raise InvalidInput("Days for each people need must be between 1 and 10,000", field="people_needs")
        if need.start_date and need.end_date and need.end_date < need.start_date:
            raise InvalidInput("The end date of a people need must be on or after its start date", field="people_needs")


def _services(ids: list[int]) -> list[Service]:
    ids = list(dict.fromkeys(ids))
    services = db.session.scalars(select(Service).where(Service.id.in_(ids))).all() if ids else []
    if len(services) != len(ids):
        raise InvalidInput("Select services from the Local Government Services List", field="services")
    return sorted(services, key=lambda s: s.label)


def _tags(names: list[str]) -> list[Tag]:
    names = list(dict.fromkeys(normalise_tag(n) for n in names if normalise_tag(n)))
    if not names:
        return []
    existing = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    new = [name for name in names if name not in existing]
    if new:
        # Added unless another officer adds the same tag at the same moment, whose tag this project then takes.
        rows = [
            {"name": name, "slug": slugify(name) or f"tag-{len(existing) + number}"} for number, name in enumerate(new)
        ]
        db.session.execute(insert_ignoring_duplicates(Tag, rows, ["name"]))
        existing.update((t.name, t) for t in db.session.scalars(select(Tag).where(Tag.name.in_(new))))
    return [existing[name] for name in names]


def _unique_slug(title: str) -> str:
    base = slugify(title)[:100] or "project"
    if db.session.get_bind().dialect.name == "postgresql":
        # Two officers posting the same title at the same moment take turns here, so the second sees the first's
        # slug taken (SQLite's writes take turns already).
        db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext("project slug " + base))))
    taken = set(db.session.scalars(select(Project.slug).where(Project.slug.like(f"{base}%"))))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


# ---- writing --------------------------------------------------------------------------------


def create_project(user: User, data: ProjectInput) -> Project:
    """Post a project: the poster becomes its owner and their council takes part."""
    require_signed_in(user)
    _check(data, posting=True)
    begin_write()
    user = db.session.get(User, user.id)
    lead_council_id = data.lead_council_id or user.council_id
    if db.session.get(Council, lead_council_id) is None:
        raise InvalidInput("Select the lead council", field="lead_council_id")
    project = Project(
        slug=_unique_slug(data.title),
        title=data.title.strip(),
        summary=data.summary.strip(),
        problem=data.problem.strip(),
        description=data.description.strip(),
        phase=data.phase,
        lead_council_id=lead_council_id,
        created_by=user,
        money_target=data.money_target,
    )
    project.services = _services(data.service_ids)
    project.tags = _tags(data.tags)
    project.links = [ProjectLink(kind=link.kind, title=link.title.strip(), url=link.url.strip()) for link in data.links]
    project.people_needs = [
        PeopleNeed(role=n.role.strip(), days=n.days, start_date=n.start_date, end_date=n.end_date)
        for n in data.people_needs
    ]
    # Only the poster's own council is committed: naming another council as lead commits nobody there.
    own = "committed"
    if lead_council_id == user.council_id:
        project.councils = [ProjectCouncil(council_id=lead_council_id, role="lead", state=own, added_by_id=user.id)]
    else:
        project.councils = [
            ProjectCouncil(council_id=lead_council_id, role="lead", state="interested", added_by_id=user.id),
            ProjectCouncil(council_id=user.council_id, role="partner", state=own, added_by_id=user.id),
        ]
    project.members = [ProjectMember(user_id=user.id, role="owner")]
    project.phase_changes = [PhaseChange(from_phase=None, to_phase=data.phase, note="Project posted", changed_by=user)]
    db.session.add(project)
    db.session.flush()
    search.index_project(project)
    activity.record("project_posted", project, user, f"{user.name} posted {project.title}")
    db.session.commit()
    return project


EDITABLE_FIELDS = {
    "title": "Title",
    "summary": "Summary",
    "problem": "Problem statement",
    "description": "Description",
    "lead_council": "Lead council",
    "services": "Services",
    "tags": "Tags",
    "links": "Links to outputs",
    "money_target": "Money target",
    "people_needs": "People needed",
}


def _snapshot(project: Project) -> dict[str, str]:
    """Each editable field as readable text, for the edit history."""
    return {
        "title": project.title,
        "summary": project.summary,
        "problem": project.problem,
        "description": project.description,
        "lead_council": project.lead_council.name,
        "services": "; ".join(s.label for s in sorted(project.services, key=lambda s: s.label)),
        "tags": ", ".join(sorted(t.name for t in project.tags)),
        "links": "\n".join(f"{LINK_KINDS[link.kind]}: {link.title} <{link.url}>" for link in project.links),
        "money_target": f"£{project.money_target:,}" if project.money_target is not None else "",
        "people_needs": "\n".join(
            f"{n.role}: {n.days} days"
            + (f" ({n.start_date:%d/%m/%Y} to {n.end_date:%d/%m/%Y})" if n.start_date and n.end_date else "")
            for n in project.people_needs
        ),
    }


def _load_for_write(project_id: int) -> Project:
    project = db.session.scalar(
        select(Project)
        .options(
            selectinload(Project.members),
            selectinload(Project.services),
            selectinload(Project.tags),
            selectinload(Project.links),
            selectinload(Project.people_needs),
            selectinload(Project.councils),
        )
        .where(Project.id == project_id)
    )
    if project is None:
        raise NotFound()
    return project


def update_project(user: User, project_id: int, data: ProjectInput) -> Project:
    """Edit a project and keep the before and after of each changed field."""
    require_signed_in(user)
    _check(data, posting=False)
    begin_write()
    project = _load_for_write(project_id)
    require_edit(user, project)
    lead_council = db.session.get(Council, data.lead_council_id or project.lead_council_id)
    if lead_council is None:
        raise InvalidInput("Select the lead council", field="lead_council_id")
    before = _snapshot(project)
    project.title = data.title.strip()
    project.summary = data.summary.strip()
    project.problem = data.problem.strip()
    project.description = data.description.strip()
    if lead_council.id != project.lead_council_id:
        _move_lead(project, lead_council, user)
    project.services = _services(data.service_ids)
    project.tags = _tags(data.tags)
    project.links = [ProjectLink(kind=link.kind, title=link.title.strip(), url=link.url.strip()) for link in data.links]
    project.people_needs = _edited_needs(project.people_needs, data.people_needs)
    project.money_target = data.money_target
    db.session.flush()
    db.session.refresh(project, ["lead_council"])
    search.index_project(project)
    after = _snapshot(project)
    changes = {
        name: {"label": label, "before": before[name], "after": after[name]}
        for name, label in EDITABLE_FIELDS.items()
        if before[name] != after[name]
    }
    if changes:
        edit = ProjectEdit(project_id=project.id, user_id=user.id, changes=changes)
        db.session.add(edit)
        db.session.flush()
        project.updated_at = utcnow()
        fields_changed = ", ".join(change["label"].lower() for change in changes.values())
        activity.record(
            "project_edited", project, user, f"{user.name} edited the {fields_changed}", "project_edit", edit.id
        )
    db.session.commit()
    return project


def _edited_needs(current: list[PeopleNeed], wanted: list[NeedInput]) -> list[PeopleNeed]:
    """The needs as edited, keeping the row of each need whose role is unchanged, so pledges to it stay linked."""
    spare = list(current)
    needs = []
    for n in wanted:
        need = next((s for s in spare if s.role.lower() == n.role.strip().lower()), None)
        if need is None:
            need = PeopleNeed(role=n.role.strip())
        else:
            spare.remove(need)
        need.role, need.days, need.start_date, need.end_date = n.role.strip(), n.days, n.start_date, n.end_date
        needs.append(need)
    return needs


def _move_lead(project: Project, council: Council, user: User) -> None:
    for partner in project.councils:
        if partner.role == "lead":
            partner.role = "partner"
    existing = next((p for p in project.councils if p.council_id == council.id), None)
    if existing is None:
        project.councils.append(
            ProjectCouncil(council_id=council.id, role="lead", state="interested", added_by_id=user.id)
        )
    else:
        existing.role = "lead"
        if existing.state == "requested":
            existing.state = "interested"
    project.lead_council_id = council.id


def allowed_next_phases(project: Project) -> list[str]:
    """Where a project may go from its phase: any other open phase, retired once it has been live, or stopped."""
    if project.phase in CLOSED_PHASES:
        return []
    phases = [p for p in ACTIVE_PHASES if p != project.phase]
    if project.phase in ("beta", "live"):
        phases.append("retired")
    phases.append("stopped")
    return phases


def change_phase(
    user: User,
    project_id: int,
    to_phase: str,
    note: str,
    evidence_url: str = "",
    outcome: str = "",
    lessons: str = "",
) -> PhaseChange:
    """Move a project to another phase with a note; stopping or retiring needs an outcome and lessons."""
    require_signed_in(user)
    note, evidence_url, outcome, lessons = note.strip(), evidence_url.strip(), outcome.strip(), lessons.strip()
    if to_phase not in PHASES:
        raise InvalidInput("Select the phase to move the project to", field="to_phase")
    if not note:
        raise InvalidInput("Enter a note saying why the project is changing phase", field="note")
    if len(note) > 5000:
        raise InvalidInput("Note must be 5,000 characters or fewer", field="note")
    if evidence_url and (not is_web_address(evidence_url) or len(evidence_url) > 500):
        raise InvalidInput("Enter the evidence link as a web address starting with https://", field="evidence_url")
    if to_phase in CLOSED_PHASES:
        verb = "stopping" if to_phase == "stopped" else "retiring"
        if not outcome:
            raise InvalidInput(f"Enter the outcome of the project before {verb} it", field="outcome")
        if not lessons:
            raise InvalidInput(f"Enter the lessons learnt before {verb} the project", field="lessons")
        if len(outcome) > 5000 or len(lessons) > 5000:
            raise InvalidInput("Outcome and lessons learnt must be 5,000 characters or fewer each", field="lessons")
    begin_write()
    project = _load_for_write(project_id)
    require_edit(user, project)
    if to_phase not in allowed_next_phases(project):
        if project.is_closed:
            raise InvalidInput(f"This project is {project.phase}: its phase can no longer change", field="to_phase")
        if to_phase == project.phase:
            raise InvalidInput(f"The project is already in {PHASE_LABELS[to_phase].lower()}", field="to_phase")
        raise InvalidInput("A project can only be retired once it is in beta or live", field="to_phase")
    change = PhaseChange(
        project_id=project.id,
        from_phase=project.phase,
        to_phase=to_phase,
        note=note,
        evidence_url=evidence_url,
        changed_by_id=user.id,
    )
    db.session.add(change)
    db.session.flush()
    activity.record(
        "phase_changed",
        project,
        user,
        f"{project.title} moved from {project.phase} to {to_phase}",
        "phase_change",
        change.id,
        from_phase=project.phase,
        to_phase=to_phase,
    )
    project.phase = to_phase
    if to_phase in CLOSED_PHASES:
        project.outcome, project.lessons = outcome, lessons
    mark_active(project)
    db.session.commit()
    return change


def mark_active(project: Project) -> None:
    """Record a sign of life (an update, a phase change or a check-in) in the caller's transaction."""
    now = utcnow()
    project.updated_at = now
    project.active_at = now


# ---- reading --------------------------------------------------------------------------------


def listed():
    """The condition for a project to appear in lists, facets and counts: not merged into another project.

    A merged project keeps its row and its history, and its address redirects to the project it went into.
    """
    return Project.merged_into_id.is_(None)


def merged_destination(project: Project) -> Project | None:
    """The project a merged project now lives on, or None when it was not merged."""
    if project.merged_into_id is None:
        return None
    return db.session.get(Project, project.merged_into_id)


def dormant_before() -> datetime:
    """A project not closed with no activity since this time is dormant: the start of the day DORMANT_AFTER_DAYS
    ago, so the cut-off, and with it what lists show and count, moves once a day."""
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=DORMANT_AFTER_DAYS)


def is_dormant(project: Project) -> bool:
    return not project.is_closed and project.active_at < dormant_before()


def not_dormant():
    """The condition for a project not to be dormant (`is_dormant`): closed, or active since the cut-off."""
    return or_(Project.phase.in_(CLOSED_PHASES), Project.active_at >= dormant_before())


def get_project(slug: str) -> Project:
    """A project with everything its page shows, in a fixed number of statements."""
    project = db.session.scalar(
        select(Project)
        .options(
            selectinload(Project.lead_council),
            selectinload(Project.councils).selectinload(ProjectCouncil.council),
            selectinload(Project.members).selectinload(ProjectMember.user).selectinload(User.council),
            selectinload(Project.services),
            selectinload(Project.tags),
            selectinload(Project.links),
            selectinload(Project.people_needs),
            selectinload(Project.phase_changes).selectinload(PhaseChange.changed_by),
        )
        .where(Project.slug == slug)
    )
    if project is None:
        raise NotFound()
    return project


def find_project(slug: str) -> Project:
    """Just the project row, for pages that show little of it."""
    project = db.session.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        raise NotFound()
    return project


def get_project_by_id(project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None:
        raise NotFound()
    return project


def edit_history(project: Project) -> list[ProjectEdit]:
    """Every edit to a project, newest first, with who made it."""
    return list(
        db.session.scalars(
            select(ProjectEdit)
            .options(selectinload(ProjectEdit.user).selectinload(User.council))
            .where(ProjectEdit.project_id == project.id)
            .order_by(ProjectEdit.id.desc())
        )
    )


# A possible duplicate, shown before posting: the project, why it is similar, and how similar.
PossibleDuplicate = similar.SimilarProject


def possible_duplicates(
    title: str, problem: str, service_ids: list[int], exclude_id: int | None = None, limit: int = 5
) -> list[PossibleDuplicate]:
    """Projects on the same LGSL services or with similar words in their title or problem, most similar first."""
    return similar.similar_projects(
        title=title,
        text=problem,
        service_ids=service_ids,
        exclude_id=exclude_id,
        limit=limit,
        min_score=similar.DUPLICATE_MIN_SCORE,
    )


def search_services(query: str, limit: int = 20) -> list[Service]:
    """LGSL services whose label contains every word of the query."""
    words = re.findall(r"\w+", query.lower())[:6]
    if not words:
        return []
    statement = select(Service).order_by(Service.label).limit(limit)
    for word in words:
        statement = statement.where(func.lower(Service.label).contains(word, autoescape=True))
    return list(db.session.scalars(statement))


def services_by_ids(ids: list[int]) -> list[Service]:
    if not ids:
        return []
    return list(db.session.scalars(select(Service).where(Service.id.in_(ids)).order_by(Service.label)))


def popular_tags(limit: int = 12) -> list[Tag]:
    from pipeline.models import ProjectTag

    return list(
        db.session.scalars(
            select(Tag)
            .join(ProjectTag, ProjectTag.tag_id == Tag.id)
            .group_by(Tag.id)
            .order_by(func.count().desc(), Tag.name)
            .limit(limit)
        )
    )


def all_councils() -> list[Council]:
    return list(db.session.scalars(select(Council).order_by(Council.name)))
