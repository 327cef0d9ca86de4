"""Making comments, updates and follows for tests: through the service layer, or in bulk for size tests."""

from datetime import timedelta

from pipeline.extensions import db
from pipeline.models import Comment, User
from pipeline.services import comments, follows, updates
from pipeline.timeutil import utcnow


def comment(app, officer, project_id: int, body: str = "A comment", parent_id: int | None = None) -> int:
    """Post a comment (or reply) as `officer` through the service; returns its id."""
    with app.app_context():
        user = db.session.get(User, officer.id)
        return comments.post_comment(user, project_id, body, parent_id=parent_id).id


def update(app, officer, project_id: int, title: str = "Weeknotes 1", body: str = "We did things.") -> int:
    with app.app_context():
        user = db.session.get(User, officer.id)
        return updates.post_update(user, project_id, "weeknotes", title, body).id


def follow(app, officer, target_type: str, key) -> int:
    with app.app_context():
        user = db.session.get(User, officer.id)
        found, _ = follows.follow(user, target_type, key)
        return found.id


def set_frequency(app, officer, frequency: str, per_follow: dict[int, str] | None = None) -> None:
    with app.app_context():
        user = db.session.get(User, officer.id)
        follows.save_settings(user, frequency, per_follow or {})


def bulk_comments(app, project_id: int, author_id: int, threads: int, replies_each: int) -> None:
    """Add many comments at once (without notifications), spread over the last few days."""
    with app.app_context():
        start = utcnow() - timedelta(days=3)
        tops = [
            Comment(
                project_id=project_id,
                author_id=author_id,
                body=f"Thread {i} with **Markdown**",
                created_at=start + timedelta(seconds=i),
                active_at=start + timedelta(seconds=i),
            )
            for i in range(threads)
        ]
        db.session.add_all(tops)
        db.session.flush()
        db.session.add_all(
            Comment(
                project_id=project_id,
                parent_id=top.id,
                author_id=author_id,
                body=f"Reply {j}",
                created_at=top.created_at + timedelta(milliseconds=j + 1),
                active_at=top.created_at + timedelta(milliseconds=j + 1),
            )
            for top in tops
            for j in range(replies_each)
        )
        db.session.commit()
