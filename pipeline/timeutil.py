"""Times are stored as naive UTC, the same on SQLite and PostgreSQL."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time in UTC, without tzinfo."""
    return datetime.now(UTC).replace(tzinfo=None)
