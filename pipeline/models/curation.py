"""What organisers use to keep Pipeline true: the audit log, themes, requests for new email domains, and
what the organisers' daily email has already told them about."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.extensions import db
from pipeline.models.project import Project
from pipeline.models.user import User
from pipeline.timeutil import utcnow


class AuditEntry(db.Model):
    """One organiser or admin action: who, when, what, on what, and why. Never changed or deleted."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[int | None]
    # A readable name for the target as it was at the time ("Leeds City Council", a project title).
    target_label: Mapped[str] = mapped_column(String(300), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()


class Theme(db.Model):
    """A curated set of projects, such as "Adult social care" or "Local Digital Fund round 7"."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(150))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    projects: Mapped[list[Project]] = relationship(secondary="theme_projects", order_by=Project.title)


class ThemeProject(db.Model):
    __tablename__ = "theme_projects"

    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class DomainRequest(db.Model):
    """Someone who tried to register from an email domain no council has, waiting for an organiser."""

    __tablename__ = "domain_requests"
    __table_args__ = (UniqueConstraint("email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    domain: Mapped[str] = mapped_column(String(253), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    council_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when an organiser adds the domain (the person is emailed) or dismisses the request.
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str] = mapped_column(String(20), default="")


class OrganiserAlert(db.Model):
    """An item of a workbench queue that the organisers' daily email has told them about, so it is told once."""

    __tablename__ = "organiser_alerts"
    __table_args__ = (UniqueConstraint("queue", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    queue: Mapped[str] = mapped_column(String(30))
    # Names the item and, where an item can come back (a project dormant again), the spell: "project:12:2027-03-01".
    item_key: Mapped[str] = mapped_column(String(120))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
