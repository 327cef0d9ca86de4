"""Moderation: organisers hide a comment or an update with a reason (its author is told by email), restore it,
and deal with the reports people send about them.

Whether a comment or update is public is decided by `comments.is_public` and `updates.is_public`; this module
only changes what they read. Every action is an organiser's, checked here, and written to the audit log in the
same transaction.
"""

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, render_template
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.models import Activity, Comment, CommentReport, Notification, Project, ProjectUpdate, UpdateReport, User
from pipeline.services import audit, comments, updates
from pipeline.services.curation import require_organiser
from pipeline.services.errors import InvalidInput, NotFound
from pipeline.services.outbox import queue_email
from pipeline.timeutil import utcnow

MAX_REASON = 2000
QUEUE_LIMIT = 50


@dataclass(frozen=True)
class Kind:
    """What moderation needs to know about comments or updates."""

    name: str  # "comment" or "update"
    model: type
    report_model: type
    report_item: object  # the report's column naming the item
    is_public: object  # the service's visibility rule for one item
    public_condition: object  # the same rule in SQL


KINDS = {
    "comment": Kind(
        "comment", Comment, CommentReport, CommentReport.comment_id, comments.is_public, comments.public_condition
    ),
    "update": Kind(
        "update", ProjectUpdate, UpdateReport, UpdateReport.update_id, updates.is_public, updates.public_condition
    ),
}


def _kind(name: str) -> Kind:
    if name not in KINDS:
        raise NotFound()
    return KINDS[name]


def _check_reason(reason: str, missing: str = "") -> str:
    reason = (reason or "").strip()
    if missing and not reason:
        raise InvalidInput(missing, field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"Reason must be {MAX_REASON:,} characters or fewer", field="reason")
    return reason


def _item_for_write(kind: Kind, item_id: int):
    item = db.session.scalar(
        select(kind.model)
        .options(joinedload(kind.model.author))
        .where(kind.model.id == item_id)
        .with_for_update(of=kind.model)
    )
    if item is None:
        raise NotFound()
    return item


def _label(kind: Kind, item, project: Project) -> str:
    if kind.name == "comment":
        return f"Comment by {item.author.name} on {project.title}"
    return f"Update “{item.title}” on {project.title}"


def _link(kind: Kind, item, project: Project) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    if kind.name == "comment":
        return f"{base}/projects/{project.slug}/comments/{item.id}#comment-{item.id}"
    return f"{base}/projects/{project.slug}/updates/{item.id}"


def _tell_author(kind: Kind, item, project: Project, hidden: bool, reason: str) -> None:
    body = render_template(
        "email/content_moderated.txt",
        kind=kind.name,
        item=item,
        project=project,
        hidden=hidden,
        reason=reason,
        link=_link(kind, item, project),
        contact=current_app.config["ORGANISER_CONTACT"],
    )
    what = "comment" if kind.name == "comment" else "update"
    subject = (
        f"An organiser has hidden your {what} on {project.title}"
        if hidden
        else f"Your {what} on {project.title} can be seen again"
    )
    queue_email(item.author.email, subject, body)


def hide(actor: User, kind_name: str, item_id: int, reason: str) -> object:
    """Hide a comment or update: the public sees "Hidden by an organiser" in its place; the author is told why."""
    require_organiser(actor)
    kind = _kind(kind_name)
    reason = _check_reason(reason, f"Enter the reason for hiding the {kind.name}. Its author is told it")
    begin_write()
    item = _item_for_write(kind, item_id)
    if kind.name == "comment" and item.is_deleted:
        raise InvalidInput("Its author has deleted this comment, so there is nothing to hide", field="reason")
    if item.is_hidden:
        raise InvalidInput(f"This {kind.name} is already hidden", field="reason")
    project = db.session.get(Project, item.project_id)
    now = utcnow()
    item.hidden_at, item.hidden_by_id, item.hidden_reason = now, actor.id, reason
    resolved = db.session.execute(
        update(kind.report_model)
        .where(kind.report_item == item.id, kind.report_model.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by_id=actor.id, resolution="hidden")
    ).rowcount
    # Nobody is told of it any more, in the app or in a digest still to come.
    db.session.execute(
        delete(Notification).where(
            Notification.activity_id.in_(
                select(Activity.id).where(Activity.subject_type == kind.name, Activity.subject_id == item.id)
            )
        )
    )
    audit.record(
        actor,
        f"{kind.name}_hidden",
        kind.name,
        item.id,
        _label(kind, item, project),
        reason,
        project=project.slug,
        reports_closed=resolved,
    )
    _tell_author(kind, item, project, True, reason)
    db.session.commit()
    return item


def restore(actor: User, kind_name: str, item_id: int, reason: str = "") -> object:
    """Show a hidden comment or update again; the author is told."""
    require_organiser(actor)
    kind = _kind(kind_name)
    reason = _check_reason(reason)
    begin_write()
    item = _item_for_write(kind, item_id)
    if not item.is_hidden:
        raise InvalidInput(f"This {kind.name} is not hidden, so there is nothing to restore", field="reason")
    project = db.session.get(Project, item.project_id)
    audit.record(
        actor,
        f"{kind.name}_restored",
        kind.name,
        item.id,
        _label(kind, item, project),
        reason,
        project=project.slug,
        hidden_because=item.hidden_reason,
    )
    item.hidden_at, item.hidden_by_id, item.hidden_reason = None, None, ""
    _tell_author(kind, item, project, False, reason)
    db.session.commit()
    return item


def dismiss_reports(actor: User, kind_name: str, item_id: int, seen_up_to: int | None, reason: str = "") -> int:
    """Close the open reports on a comment or update (those the organiser saw) and leave it as it is."""
    require_organiser(actor)
    kind = _kind(kind_name)
    reason = _check_reason(reason)
    begin_write()
    item = _item_for_write(kind, item_id)
    report = kind.report_model
    query = select(report).where(kind.report_item == item.id, report.resolved_at.is_(None))
    if seen_up_to is not None:
        query = query.where(report.id <= seen_up_to)
    waiting = list(db.session.scalars(query.with_for_update()))
    if not waiting:
        raise InvalidInput(f"The reports on this {kind.name} have already been dealt with")
    now = utcnow()
    for found in waiting:
        found.resolved_at, found.resolved_by_id, found.resolution = now, actor.id, "dismissed"
    project = db.session.get(Project, item.project_id)
    audit.record(
        actor,
        "report_dismissed",
        kind.name,
        item.id,
        _label(kind, item, project),
        reason,
        project=project.slug,
        reports=len(waiting),
    )
    db.session.commit()
    return len(waiting)


# ---- reading --------------------------------------------------------------------------------


def get_item(kind_name: str, item_id: int) -> tuple[object, Project]:
    """A comment or update with its author, and its project, for an organiser's page."""
    kind = _kind(kind_name)
    row = db.session.execute(
        select(kind.model, Project)
        .join(Project, Project.id == kind.model.project_id)
        .options(joinedload(kind.model.author).joinedload(User.council))
        .where(kind.model.id == item_id)
    ).first()
    if row is None:
        raise NotFound()
    return row[0], row[1]


@dataclass
class Reported:
    """A comment or update with the open reports about it, for the workbench."""

    kind: str
    item: object
    project: Project
    reports: list = field(default_factory=list)

    @property
    def first_reported_at(self) -> datetime:
        return min(report.created_at for report in self.reports)

    @property
    def latest_report_id(self) -> int:
        return max(report.id for report in self.reports)


def reported(limit: int = QUEUE_LIMIT) -> list[Reported]:
    """Public comments and updates with open reports, the longest waiting first: two statements a kind."""
    found: list[Reported] = []
    for kind in KINDS.values():
        report = kind.report_model
        waiting = report.resolved_at.is_(None)
        oldest_first = (
            select(kind.report_item)
            .join(kind.model, kind.model.id == kind.report_item)
            .where(waiting, kind.public_condition())
            .group_by(kind.report_item)
            .order_by(func.min(report.created_at), kind.report_item)
            .limit(limit)
        )
        rows = db.session.execute(
            select(report, kind.model, Project)
            .join(kind.model, kind.model.id == kind.report_item)
            .join(Project, Project.id == kind.model.project_id)
            .options(
                joinedload(report.reporter).joinedload(User.council),
                joinedload(kind.model.author).joinedload(User.council),
            )
            .where(waiting, kind.report_item.in_(oldest_first))
            .order_by(report.id)
        ).all()
        items: dict[int, Reported] = {}
        for found_report, item, project in rows:
            items.setdefault(item.id, Reported(kind.name, item, project)).reports.append(found_report)
        found += items.values()
    found.sort(key=lambda entry: entry.first_reported_at)
    return found[:limit]
