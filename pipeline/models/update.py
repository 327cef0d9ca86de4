"""Project updates: dated posts by the team (weeknotes, show-and-tells, decisions), their reports and moderation."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.extensions import db
from pipeline.models.user import User
from pipeline.timeutil import utcnow

UPDATE_KINDS = {
    "weeknotes": "Weeknotes",
    "show_and_tell": "Show and tell",
    "decision": "Decision",
    "other": "Update",
}


class ProjectUpdate(db.Model):
    __tablename__ = "project_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20), default="other")
    title: Mapped[str] = mapped_column(String(150))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Set by an organiser: the public sees "Hidden by an organiser" in its place until it is restored.
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    author: Mapped[User] = relationship(foreign_keys=[author_id])

    @property
    def kind_label(self) -> str:
        return UPDATE_KINDS.get(self.kind, "Update")

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class UpdateReport(db.Model):
    """Someone signed in telling the organisers an update breaks the rules, and why."""

    __tablename__ = "update_reports"
    __table_args__ = (UniqueConstraint("update_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("project_updates.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Set when an organiser hides the update ("hidden") or dismisses the report ("dismissed").
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str] = mapped_column(String(20), default="")

    project_update: Mapped[ProjectUpdate] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
