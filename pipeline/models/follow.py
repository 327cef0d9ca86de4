"""Following: an officer follows a project, a council, an LGSL service or a tag."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.extensions import db
from pipeline.timeutil import utcnow

# What can be followed. A target is (type, id); a new kind needs no change to the table. Following a
# council, service, tag or saved search means hearing of new projects on it.
FOLLOW_TARGETS = {
    "project": "Project",
    "council": "Council",
    "service": "Service",
    "tag": "Tag",
    "search": "Saved search",
}
# How often someone hears by email; the order is the order the choices are offered in.
FREQUENCIES = {
    "instantly": "Instantly",
    "daily": "Daily digest",
    "weekly": "Weekly digest",
    "off": "No email",
}
DEFAULT_FREQUENCY = "daily"


class Follow(db.Model):
    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("user_id", "target_type", "target_id"),
        Index("ix_follows_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int]
    # None: as the officer's overall choice (NotificationSettings.frequency).
    frequency: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Kept after unfollowing, so that commenting again does not quietly follow it again.
    unfollowed_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:
        return self.unfollowed_at is None
