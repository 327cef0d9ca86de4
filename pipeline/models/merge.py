"""Duplicate projects: suspected pairs, organisers' decisions on them, merges, and pledges asked to move."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.extensions import db
from pipeline.models.pledge import Pledge
from pipeline.models.project import Project
from pipeline.models.user import User
from pipeline.timeutil import utcnow

# What organisers decided about two projects: shown on both pages as related, or not duplicates after all.
PAIR_KINDS = {"related": "Related", "not_duplicates": "Not duplicates"}
PLEDGE_MOVE_STATES = ("asked", "accepted", "declined")


class ProjectPair(db.Model):
    """An organiser's decision about two projects, stored once with the lower id first."""

    __tablename__ = "project_pairs"
    __table_args__ = (
        UniqueConstraint("first_id", "second_id"),
        CheckConstraint("first_id < second_id", name="ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    second_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    first: Mapped[Project] = relationship(foreign_keys=[first_id])
    second: Mapped[Project] = relationship(foreign_keys=[second_id])


class DuplicateCandidate(db.Model):
    """Two open projects on the same LGSL service that read alike, found by the duplicate scan."""

    __tablename__ = "duplicate_candidates"
    __table_args__ = (
        UniqueConstraint("first_id", "second_id"),
        CheckConstraint("first_id < second_id", name="ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    second_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    score: Mapped[int]
    # Why they look alike, as possible_duplicates says it: "Same service: ...", "Similar words: ...".
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)

    first: Mapped[Project] = relationship(foreign_keys=[first_id])
    second: Mapped[Project] = relationship(foreign_keys=[second_id])


class DuplicateCheck(db.Model):
    """When the scan last compared a project with the others, so it only looks again after the project changes."""

    __tablename__ = "duplicate_checks"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProjectMerge(db.Model):
    """One project merged into another by an organiser: shown on the timeline of the project it went into."""

    __tablename__ = "project_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    merged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    # What moved, for the timeline and the audit log: {"comments": 3, "followers": 2, ...}.
    moved: Mapped[dict] = mapped_column(JSON, default=dict)
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)

    source: Mapped[Project] = relationship(foreign_keys=[source_id])
    target: Mapped[Project] = relationship(foreign_keys=[target_id])
    merged_by: Mapped[User] = relationship()


class PledgeMove(db.Model):
    """A pledge to a merged project, and whether its council agreed to move it to the project it was merged into."""

    __tablename__ = "pledge_moves"
    __table_args__ = (CheckConstraint("state IN ('asked', 'accepted', 'declined')", name="state_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    from_project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    to_project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="asked", index=True)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    pledge: Mapped[Pledge] = relationship()
    from_project: Mapped[Project] = relationship(foreign_keys=[from_project_id])
    to_project: Mapped[Project] = relationship(foreign_keys=[to_project_id])
