"""The audit log of organiser and admin actions."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from pipeline.extensions import db
from pipeline.models import AuditEntry, User

ACTIONS = {
    "two_factor_enabled": "Turned on two-factor sign-in",
    "domain_added": "Added an email domain",
    "domain_removed": "Removed an email domain",
    "domain_request_dismissed": "Dismissed a domain request",
    "organisation_added": "Added an organisation",
    "role_changed": "Changed a role",
    "account_suspended": "Suspended an account",
    "account_restored": "Restored an account",
    "project_featured": "Featured a project",
    "project_unfeatured": "Stopped featuring a project",
    "theme_created": "Created a theme",
    "theme_edited": "Edited a theme",
    "theme_project_added": "Added a project to a theme",
    "theme_project_removed": "Removed a project from a theme",
    "comment_hidden": "Hid a comment",
    "comment_restored": "Restored a comment",
    "update_hidden": "Hid an update",
    "update_restored": "Restored an update",
    "report_dismissed": "Dismissed a report",
    "projects_linked": "Linked projects as related",
    "projects_unlinked": "Removed a related link",
    "duplicates_dismissed": "Marked projects as not duplicates",
    "project_merged": "Merged a project into another",
}
PER_PAGE = 50


def record(
    actor: User, action: str, target_type: str, target_id: int | None, target_label: str, reason: str = "", **data
) -> AuditEntry:
    """Add an audit entry in the caller's transaction."""
    entry = AuditEntry(
        actor_id=actor.id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:300],
        reason=reason,
        data=data,
    )
    db.session.add(entry)
    return entry


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))


def entries(action: str = "", actor_id: int | None = None, page: int = 1) -> AuditPage:
    """Audit entries, newest first, filtered by action and by who did it."""
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor_id:
        query = query.where(AuditEntry.actor_id == actor_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.options(selectinload(AuditEntry.actor))
        .order_by(AuditEntry.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return AuditPage(list(rows), total, page)


def actors() -> list[User]:
    """Everyone who appears in the audit log, for the filter."""
    ids = select(AuditEntry.actor_id).distinct()
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name)))
