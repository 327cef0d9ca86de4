"""Projects: a shared problem, the councils and people working on it, its asks and its phases."""

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.extensions import db
from pipeline.models.council import Council, Service
from pipeline.models.user import User
from pipeline.timeutil import utcnow

PHASES = ("idea", "discovery", "alpha", "beta", "live", "retired", "stopped")
ACTIVE_PHASES = ("idea", "discovery", "alpha", "beta", "live")
CLOSED_PHASES = ("retired", "stopped")
PHASE_LABELS = {phase: phase.capitalize() for phase in PHASES}

PARTNER_ROLES = ("lead", "partner", "observer")
PARTNER_STATES = ("requested", "interested", "committed")
MEMBER_ROLES = ("owner", "member")
JOIN_STATES = ("pending", "accepted", "declined", "withdrawn")
LINK_KINDS = {
    "report": "Report",
    "user_research": "User research",
    "prototype": "Prototype",
    "code": "Code repository",
    "data_standard": "Data standard",
    "video": "Video",
    "other": "Other",
}

DORMANT_AFTER_DAYS = 90
JOIN_REMINDER_DAYS = 7


class Project(db.Model):
    __tablename__ = "projects"
    __table_args__ = (CheckConstraint("money_target IS NULL OR money_target >= 0", name="money_target_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Set once from the title and never changed, so links keep working.
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(150))
    summary: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    # Indexed with what lists filter by (ix_projects_facets, in models/search.py).
    phase: Mapped[str] = mapped_column(String(20))
    lead_council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    money_target: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The last edit, update, phase change or check-in: what "last updated" shows.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The last sign of life (update, phase change or check-in): 90 days without one is dormant.
    active_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # When the owners were last asked "still active?", so they are asked once per dormant spell.
    dormancy_notified_at: Mapped[datetime | None]
    # Set by an organiser to show the project on the home page.
    featured_at: Mapped[datetime | None] = mapped_column(index=True)
    # Set when an organiser merges the project into another: it is stopped, leaves every list,
    # and its address redirects to the project it was merged into.
    # Indexed with each order the projects list sorts by (ix_projects_listed_by_*, in models/search.py).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    # What the list's facets count, as "|c:England/Yorkshire and The Humber|f:42|": the nation and region of
    # each council taking part and the LGSL function (and parent) of each service. Kept in step with them by
    # search.index_project, and indexed with what lists filter by (ix_projects_facets, in models/search.py).
    facets: Mapped[str] = mapped_column(Text, default="", server_default="")

    lead_council: Mapped[Council] = relationship()
    created_by: Mapped[User] = relationship()
    councils: Mapped[list["ProjectCouncil"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectCouncil.id"
    )
    members: Mapped[list["ProjectMember"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectMember.id"
    )
    services: Mapped[list[Service]] = relationship(secondary="project_services", order_by=Service.label)
    tags: Mapped[list["Tag"]] = relationship(secondary="project_tags", order_by="Tag.name")
    links: Mapped[list["ProjectLink"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectLink.id"
    )
    people_needs: Mapped[list["PeopleNeed"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="PeopleNeed.id"
    )
    phase_changes: Mapped[list["PhaseChange"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="PhaseChange.id"
    )

    @property
    def is_closed(self) -> bool:
        return self.phase in CLOSED_PHASES

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    @property
    def phase_label(self) -> str:
        return PHASE_LABELS[self.phase]

    def __repr__(self) -> str:
        return f"<Project {self.slug}>"


class ProjectCouncil(db.Model):
    """A council taking part in a project, with its role and how firmly it is in."""

    __tablename__ = "project_councils"
    __table_args__ = (UniqueConstraint("project_id", "council_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="partner")
    # requested: the council asked to take part and the team has not yet said yes.
    state: Mapped[str] = mapped_column(String(20), default="interested")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship(back_populates="councils")
    council: Mapped[Council] = relationship()
    # Who added the council, or who asked for it to take part.
    added_by: Mapped[User | None] = relationship()


class ProjectMember(db.Model):
    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="member")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class JoinRequest(db.Model):
    """An officer asking to join a project's team; the owner decides."""

    __tablename__ = "join_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # When the owners were reminded of a request left waiting for a week.
    reminded_at: Mapped[datetime | None]

    project: Mapped[Project] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class ProjectService(db.Model):
    __tablename__ = "project_services"
    # The projects with a service, read from the index alone (similar projects, filters): migration 0014.
    __table_args__ = (Index("ix_project_services_service_project", "service_id", "project_id"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised: lower case, single spaces, no punctuation at the ends.
    name: Mapped[str] = mapped_column(String(40), unique=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)


class ProjectTag(db.Model):
    __tablename__ = "project_tags"
    # The projects with a tag, read from the index alone (similar projects, filters): migration 0014.
    __table_args__ = (Index("ix_project_tags_tag_project", "tag_id", "project_id"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), primary_key=True)


class ProjectLink(db.Model):
    """A link to something the project produced: a report, research, a prototype, code."""

    __tablename__ = "project_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(150))
    url: Mapped[str] = mapped_column(String(500))

    project: Mapped[Project] = relationship(back_populates="links")

    @property
    def kind_label(self) -> str:
        return LINK_KINDS.get(self.kind, "Other")


class PeopleNeed(db.Model):
    """An ask for people: a role, a number of days, and when."""

    __tablename__ = "people_needs"
    __table_args__ = (CheckConstraint("days > 0", name="days_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(100), index=True)
    days: Mapped[int]
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]

    project: Mapped[Project] = relationship(back_populates="people_needs")


class PhaseChange(db.Model):
    """One step on a project's timeline: from, to, when, who, why and the evidence."""

    __tablename__ = "phase_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    from_phase: Mapped[str | None] = mapped_column(String(20))
    to_phase: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    evidence_url: Mapped[str] = mapped_column(String(500), default="")
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship(back_populates="phase_changes")
    changed_by: Mapped[User] = relationship()


class ProjectEdit(db.Model):
    """One edit to a project: who, when, and each field's value before and after."""

    __tablename__ = "project_edits"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)
    # {"field": {"label": "Title", "before": "...", "after": "..."}}
    changes: Mapped[dict] = mapped_column(JSON)

    user: Mapped[User] = relationship()
