"""Suspected duplicate projects: the scan that finds them, the workbench queue, and organisers' decisions
on a pair (related, shown on both pages; or not duplicates, kept out of the queue).

Similarity is `projects.possible_duplicates`, the same check people see before posting. A pair is suspected
when the two projects are open, share an LGSL service and read alike (it gives both a "Same service" and a
"Similar words" reason). The scan runs from `flask organisers daily` (and the workbench's button), compares
only projects that changed since they were last compared, and stores pairs, so the workbench reads them in a
fixed number of statements however many projects there are.
"""

from dataclasses import dataclass, field

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.models import (
    CLOSED_PHASES,
    DuplicateCandidate,
    DuplicateCheck,
    Project,
    ProjectMerge,
    ProjectPair,
    User,
)
from pipeline.services import audit, projects
from pipeline.services.curation import require_organiser
from pipeline.services.errors import InvalidInput, NotFound
from pipeline.timeutil import utcnow

QUEUE_LIMIT = 50
# How many similar projects the scan asks possible_duplicates for, per project.
SCAN_LIMIT = 10
SCAN_BATCH = 100
MAX_REASON = 2000
SAME_SERVICE = "Same service"
SIMILAR_WORDS = "Similar words"


def _ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _open():
    return and_(Project.phase.not_in(CLOSED_PHASES), projects.listed())


def is_suspected(reasons: list[str]) -> bool:
    """Same LGSL service and similar words: what makes a pair worth an organiser's look."""
    return any(r.startswith(SAME_SERVICE) for r in reasons) and any(r.startswith(SIMILAR_WORDS) for r in reasons)


# ---- the scan -------------------------------------------------------------------------------


@dataclass
class ScanReport:
    checked: int = 0
    pairs: int = 0


def _due(limit: int) -> list[int]:
    """Open projects never compared, or changed since they were last compared."""
    return list(
        db.session.scalars(
            select(Project.id)
            .outerjoin(DuplicateCheck, DuplicateCheck.project_id == Project.id)
            .where(_open(), or_(DuplicateCheck.checked_at.is_(None), DuplicateCheck.checked_at < Project.updated_at))
            .order_by(Project.id)
            .limit(limit)
        )
    )


def _suspected_of(project: Project) -> dict[int, object]:
    """{other project id: PossibleDuplicate} for the open projects this one is suspected to duplicate."""
    found = projects.possible_duplicates(
        project.title, project.problem, [s.id for s in project.services], exclude_id=project.id, limit=SCAN_LIMIT
    )
    return {
        d.project.id: d
        for d in found
        if is_suspected(d.reasons) and not d.project.is_closed and not d.project.is_merged
    }


def _check(project: Project, now) -> int:
    """Compare one project with the others and store what it is suspected to duplicate; return how many."""
    suspected = {_ordered(project.id, other_id): d for other_id, d in _suspected_of(project).items()}
    existing = {
        (c.first_id, c.second_id): c
        for c in db.session.scalars(
            select(DuplicateCandidate)
            .options(selectinload(DuplicateCandidate.first).selectinload(Project.services))
            .options(selectinload(DuplicateCandidate.second).selectinload(Project.services))
            .where(or_(DuplicateCandidate.first_id == project.id, DuplicateCandidate.second_id == project.id))
        )
    }
    for pair, candidate in existing.items():
        if pair in suspected:
            continue
        # Similarity need not be symmetric (each side sees its closest few): ask from the other side before forgetting.
        other = candidate.second if candidate.first_id == project.id else candidate.first
        from_other = _suspected_of(other).get(project.id) if not other.is_closed and not other.is_merged else None
        if from_other is None:
            db.session.delete(candidate)
        else:
            candidate.score, candidate.reasons = from_other.score, from_other.reasons
    for pair, duplicate in suspected.items():
        candidate = existing.get(pair)
        if candidate is None:
            db.session.add(
                DuplicateCandidate(
                    first_id=pair[0], second_id=pair[1], score=duplicate.score, reasons=duplicate.reasons, found_at=now
                )
            )
        else:
            candidate.score, candidate.reasons = duplicate.score, duplicate.reasons
    check = db.session.get(DuplicateCheck, project.id)
    if check is None:
        db.session.add(DuplicateCheck(project_id=project.id, checked_at=now))
    else:
        check.checked_at = now
    return len(suspected)


def scan(batch: int = SCAN_BATCH) -> ScanReport:
    """Compare every open project that changed since it was last compared; safe to run at any time."""
    report = ScanReport()
    while True:
        begin_write()
        due = _due(batch)
        if not due:
            db.session.rollback()
            return report
        now = utcnow()
        batch_projects = db.session.scalars(
            select(Project).options(selectinload(Project.services)).where(Project.id.in_(due)).order_by(Project.id)
        ).all()
        for project in batch_projects:
            report.pairs += _check(project, now)
            report.checked += 1
        db.session.commit()


# ---- the workbench queue --------------------------------------------------------------------


@dataclass
class SuspectedPair:
    first: Project
    second: Project
    score: int
    reasons: list[str] = field(default_factory=list)


def _decided(first, second):
    return exists().where(ProjectPair.first_id == first, ProjectPair.second_id == second)


def suspected_pairs(limit: int = QUEUE_LIMIT) -> list[SuspectedPair]:
    """Pairs of open projects suspected to be duplicates that no organiser has decided on, most alike first."""
    first, second = aliased(Project), aliased(Project)
    rows = db.session.execute(
        select(DuplicateCandidate, first, second)
        .join(first, first.id == DuplicateCandidate.first_id)
        .join(second, second.id == DuplicateCandidate.second_id)
        .options(selectinload(first.lead_council), selectinload(second.lead_council))
        .where(
            first.phase.not_in(CLOSED_PHASES),
            second.phase.not_in(CLOSED_PHASES),
            first.merged_into_id.is_(None),
            second.merged_into_id.is_(None),
            ~_decided(DuplicateCandidate.first_id, DuplicateCandidate.second_id),
        )
        .order_by(DuplicateCandidate.score.desc(), DuplicateCandidate.found_at, DuplicateCandidate.id)
        .limit(limit)
    ).all()
    return [SuspectedPair(a, b, candidate.score, list(candidate.reasons)) for candidate, a, b in rows]


# ---- organisers' decisions about two projects -----------------------------------------------


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"Reason must be {MAX_REASON:,} characters or fewer", field="reason")
    return reason


def _other(project: Project, other_slug: str) -> Project:
    other = db.session.scalar(select(Project).where(Project.slug == (other_slug or "").strip()))
    if other is None:
        raise InvalidInput("Enter the web address or short name of a project on Pipeline", field="project")
    if other.id == project.id:
        raise InvalidInput("Enter a different project: a project cannot be paired with itself", field="project")
    for found in (project, other):
        if found.is_merged:
            destination = projects.merged_destination(found)
            raise InvalidInput(
                f"{found.title} has been merged into {destination.title}. Use {destination.title} instead",
                field="project",
            )
    return other


def _pair(a: int, b: int) -> ProjectPair | None:
    first, second = _ordered(a, b)
    return db.session.scalar(
        select(ProjectPair).where(ProjectPair.first_id == first, ProjectPair.second_id == second).with_for_update()
    )


def _project(project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None:
        raise NotFound()
    return project


def link_related(actor: User, project_id: int, other_slug: str, reason: str = "") -> ProjectPair:
    """Show two projects on each other's page as related (and take them out of the duplicates queue)."""
    require_organiser(actor)
    reason = _check_reason(reason)
    begin_write()
    project = _project(project_id)
    other = _other(project, other_slug)
    pair = _pair(project.id, other.id)
    if pair is not None and pair.kind == "related":
        raise InvalidInput(f"{project.title} and {other.title} are already linked as related", field="project")
    if pair is None:
        first, second = _ordered(project.id, other.id)
        pair = ProjectPair(first_id=first, second_id=second, kind="related", created_by_id=actor.id)
        db.session.add(pair)
    else:
        # They were marked not duplicates; related says more.
        pair.kind, pair.created_by_id, pair.created_at = "related", actor.id, utcnow()
    audit.record(
        actor, "projects_linked", "project", project.id, f"{project.title} and {other.title}", reason, other=other.slug
    )
    db.session.commit()
    return pair


def unlink_related(actor: User, project_id: int, other_slug: str, reason: str = "") -> None:
    """Stop showing two projects as related."""
    require_organiser(actor)
    reason = _check_reason(reason)
    begin_write()
    project = _project(project_id)
    other = db.session.scalar(select(Project).where(Project.slug == other_slug))
    pair = _pair(project.id, other.id) if other is not None else None
    if pair is None or pair.kind != "related":
        raise InvalidInput("Those projects are not linked as related")
    label = f"{project.title} and {other.title}"
    audit.record(actor, "projects_unlinked", "project", project.id, label, reason, other=other.slug)
    db.session.delete(pair)
    db.session.commit()


def dismiss_pair(actor: User, project_id: int, other_slug: str, reason: str = "") -> ProjectPair:
    """Say two suspected duplicates are not duplicates: the pair stays out of the queue."""
    require_organiser(actor)
    reason = _check_reason(reason)
    begin_write()
    project = _project(project_id)
    other = _other(project, other_slug)
    pair = _pair(project.id, other.id)
    if pair is not None:
        decided = "linked as related" if pair.kind == "related" else "marked as not duplicates"
        raise InvalidInput(f"{project.title} and {other.title} are already {decided}", field="project")
    first, second = _ordered(project.id, other.id)
    pair = ProjectPair(first_id=first, second_id=second, kind="not_duplicates", created_by_id=actor.id)
    db.session.add(pair)
    audit.record(
        actor,
        "duplicates_dismissed",
        "project",
        project.id,
        f"{project.title} and {other.title}",
        reason,
        other=other.slug,
    )
    db.session.commit()
    return pair


# ---- what a project page shows --------------------------------------------------------------


@dataclass
class Relations:
    related: list[Project]
    merged_in: list[ProjectMerge]


def relations(project: Project) -> Relations:
    """The projects linked to this one as related, and those merged into it, in one statement."""
    as_first = select(ProjectPair.second_id).where(ProjectPair.first_id == project.id, ProjectPair.kind == "related")
    as_second = select(ProjectPair.first_id).where(ProjectPair.second_id == project.id, ProjectPair.kind == "related")
    merged_by = aliased(User)
    rows = db.session.execute(
        select(Project, ProjectMerge, merged_by)
        .outerjoin(ProjectMerge, and_(ProjectMerge.source_id == Project.id, ProjectMerge.target_id == project.id))
        .outerjoin(merged_by, merged_by.id == ProjectMerge.merged_by_id)
        .options(joinedload(Project.lead_council))
        .where(
            or_(
                ProjectMerge.id.is_not(None),
                and_(or_(Project.id.in_(as_first), Project.id.in_(as_second)), projects.listed()),
            )
        )
        .order_by(ProjectMerge.merged_at, Project.title, Project.id)
    ).all()
    related, merged_in = [], []
    for other, merge, organiser in rows:
        if merge is None:
            related.append(other)
        else:
            # Hand the merge the rows just read, so the page names them without reading them again.
            set_committed_value(merge, "source", other)
            set_committed_value(merge, "merged_by", organiser)
            merged_in.append(merge)
    return Relations(related, merged_in)


def forget_candidates(project_id: int) -> None:
    """Drop a project's suspected pairs (in the caller's transaction), as when it is merged away."""
    db.session.execute(
        delete(DuplicateCandidate).where(
            or_(DuplicateCandidate.first_id == project_id, DuplicateCandidate.second_id == project_id)
        )
    )
