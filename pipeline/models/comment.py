"""Comments on a project: one level of replies, kept versions, deletion markers, reports and moderation."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.extensions import db
from pipeline.models.user import User
from pipeline.timeutil import utcnow


class Comment(db.Model):
    """A signed-in officer's comment on a project, or a reply to one (never a reply to a reply)."""

    __tablename__ = "comments"
    __table_args__ = (
        # The threads of a project, most recently active first.
        Index("ix_comments_project_threads", "project_id", "parent_id", "active_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # The thread's top comment; None for a top comment itself.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    # For a top comment, its latest reply (or itself): threads are listed by it.
    active_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A reply the team marked as the project's official response to the thread.
    official_at: Mapped[datetime | None]
    official_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set by an organiser: the public sees "Hidden by an organiser" in its place until it is restored.
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    official_by: Mapped[User | None] = relationship(foreign_keys=[official_by_id])

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_official(self) -> bool:
        return self.official_at is not None and not self.is_deleted and not self.is_hidden

    @property
    def thread_id(self) -> int:
        return self.parent_id or self.id


class CommentVersion(db.Model):
    """A comment's text before an edit, so that an "edited" mark can show what it said."""

    __tablename__ = "comment_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    # When this text was written (the comment's creation or an earlier edit).
    written_at: Mapped[datetime]
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommentReport(db.Model):
    """Someone signed in telling the organisers a comment breaks the rules, and why."""

    __tablename__ = "comment_reports"
    __table_args__ = (UniqueConstraint("comment_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Set when an organiser hides the comment ("hidden") or dismisses the report ("dismissed").
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str] = mapped_column(String(20), default="", server_default="")

    comment: Mapped[Comment] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
