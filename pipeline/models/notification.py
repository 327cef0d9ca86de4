"""What followers are told: in-app notifications, their email, and the digests that carried them."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.extensions import db
from pipeline.models.activity import Activity
from pipeline.models.follow import DEFAULT_FREQUENCY
from pipeline.timeutil import utcnow


class NotificationSettings(db.Model):
    """An officer's overall email choice and how far they have read their notifications."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    frequency: Mapped[str] = mapped_column(String(10), default=DEFAULT_FREQUENCY)
    # The newest notification id the officer has seen on "Your notifications".
    seen_up_to: Mapped[int] = mapped_column(default=0)


class Digest(db.Model):
    """One digest email sent to one officer for one period: at most one per period, whatever reruns."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("user_id", "frequency", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    frequency: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[datetime]
    item_count: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(db.Model):
    """One activity, for one follower: what "Your notifications" lists and what email carries."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "activity_id"),
        # The unread count and the notifications page read a user's newest rows.
        Index("ix_notifications_user_newest", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    # The follow it came through: it sets how often to email, and its unsubscribe link.
    follow_id: Mapped[int] = mapped_column(ForeignKey("follows.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Set once the item has gone out by email (instantly or in a digest), so it never goes twice.
    emailed_at: Mapped[datetime | None]
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("digests.id", ondelete="SET NULL"), index=True)

    activity: Mapped[Activity] = relationship()
