"""Project updates: the team's dated posts (weeknotes, show-and-tells, decisions), and reports about them."""

from collections.abc import Iterable
from dataclasses import dataclass
from math import ceil

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.models import UPDATE_KINDS, Project, ProjectUpdate, UpdateReport, User
from pipeline.services import activity, permissions, projects, search
from pipeline.services.errors import InvalidInput, NotFound, PermissionDenied
from pipeline.services.permissions import require_signed_in

MAX_TITLE = 150
MAX_BODY = 20000
MAX_REASON = 1000
PER_PAGE = 10


# ---- what the public may see ------------------------------------------------------------------
# The one rule for whether an update's title and text may be shown, sent or published: not hidden
# by an organiser. Pages, notifications, digests, feeds and open data all ask one of these three.


def is_public(found: ProjectUpdate) -> bool:
    """Whether an update may be shown to everyone, emailed, or published."""
    return found.hidden_at is None


def public_condition():
    """`is_public` as a SQL condition on ProjectUpdate, for queries that publish updates."""
    return ProjectUpdate.hidden_at.is_(None)


def not_public_ids(ids: Iterable[int]) -> set[int]:
    """Which of these updates are not public (hidden or gone), in one statement."""
    wanted = set(ids)
    if not wanted:
        return set()
    public = set(db.session.scalars(select(ProjectUpdate.id).where(ProjectUpdate.id.in_(wanted), public_condition())))
    return wanted - public


def post_update(user: User, project_id: int, kind: str, title: str, body: str) -> ProjectUpdate:
    """Post an update as a member of the project's team; it counts as a sign of life."""
    require_signed_in(user)
    title, body = (title or "").strip(), (body or "").strip()
    rules = [
        (kind not in UPDATE_KINDS, "kind", "Select what kind of update this is"),
        (not title, "title", "Enter a title for the update"),
        (len(title) > MAX_TITLE, "title", f"Title must be {MAX_TITLE} characters or fewer"),
        (not body, "body", "Enter the update"),
        (len(body) > MAX_BODY, "body", f"Update must be {MAX_BODY:,} characters or fewer"),
    ]
    for broken, field, message in rules:
        if broken:
            raise InvalidInput(message, field=field)
    begin_write()
    project = db.session.scalar(select(Project).where(Project.id == project_id))
    if project is None:
        raise NotFound()
    if not permissions.is_team_member(user, project):
        raise PermissionDenied("Only the project team can post updates.")
    user = db.session.get(User, user.id)
    posted = ProjectUpdate(project_id=project.id, author_id=user.id, kind=kind, title=title, body=body)
    db.session.add(posted)
    db.session.flush()
    search.index_document("update", posted.id, project_id=project.id, title=title, body=body)
    projects.mark_active(project)
    activity.record(
        "update_posted", project, user, f"{user.name} posted an update: {title}", "update", posted.id, update_kind=kind
    )
    db.session.commit()
    return posted


def report_update(user: User, update_id: int, reason: str) -> UpdateReport | None:
    """Tell the organisers an update breaks the rules; None when the user had already reported it."""
    require_signed_in(user)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Enter why you are reporting this update", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"Reason must be {MAX_REASON:,} characters or fewer", field="reason")
    begin_write()
    found = db.session.get(ProjectUpdate, update_id)
    if found is None:
        raise NotFound()
    if found.is_hidden:
        raise InvalidInput("An organiser has already hidden this update", field="reason")
    if found.author_id == user.id:
        raise InvalidInput("You cannot report your own update", field="reason")
    existing = db.session.scalar(
        select(UpdateReport).where(UpdateReport.update_id == found.id, UpdateReport.reporter_id == user.id)
    )
    if existing is not None:
        db.session.rollback()
        return None
    report = UpdateReport(update_id=found.id, reporter_id=user.id, reason=reason)
    db.session.add(report)
    db.session.commit()
    return report


def get_update(project: Project, update_id: int) -> ProjectUpdate:
    found = db.session.scalar(
        select(ProjectUpdate)
        .options(joinedload(ProjectUpdate.author).joinedload(User.council))
        .where(ProjectUpdate.id == update_id, ProjectUpdate.project_id == project.id)
    )
    if found is None:
        raise NotFound()
    return found


@dataclass
class UpdatePage:
    updates: list[ProjectUpdate]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


def list_updates(project: Project, page: int = 1, per_page: int = PER_PAGE) -> UpdatePage:
    """A project's updates, newest first, a page at a time."""
    total = db.session.scalar(select(func.count()).where(ProjectUpdate.project_id == project.id))
    found = db.session.scalars(
        select(ProjectUpdate)
        .options(joinedload(ProjectUpdate.author).joinedload(User.council))
        .where(ProjectUpdate.project_id == project.id)
        .order_by(ProjectUpdate.created_at.desc(), ProjectUpdate.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return UpdatePage(list(found), total, page, per_page)
