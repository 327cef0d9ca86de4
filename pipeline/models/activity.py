"""The activity log: one row for each thing that happened that people may be told about."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.extensions import db
from pipeline.models.user import User
from pipeline.timeutil import utcnow

# What can happen. Areas add their own kinds here as they are built.
ACTIVITY_KINDS = {
    "project_posted": "New project",
    "project_edited": "Project edited",
    "phase_changed": "Phase changed",
    "checked_in": "Still active",
    "join_requested": "Asked to join",
    "member_joined": "New team member",
    "council_joined": "New partner council",
    "pledge_offered": "New pledge",
    "pledge_changed": "Pledge changed",
    "pledge_withdrawn": "Pledge withdrawn",
    "pledge_accepted": "Pledge accepted",
    "pledge_declined": "Pledge declined",
    "pledge_delivered": "Pledge delivered",
    "comment_posted": "New comment",
    "reply_posted": "New reply",
    "update_posted": "New update",
    "project_merged": "Projects merged",
    "pledge_moved": "Pledge moved",
}


class Activity(db.Model):
    """Something that happened on a project, written in the same transaction as the change itself.

    Notifications, digests and feeds read from here, so every area records what
    happened once and in one shape.
    """

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # What the activity is about, when it is a row of its own: ("phase_change", 12), ("comment", 40) ...
    subject_type: Mapped[str] = mapped_column(String(40), default="")
    subject_id: Mapped[int | None]
    # A short public summary shown in notifications, digests and feeds.
    summary: Mapped[str] = mapped_column(String(500), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()
