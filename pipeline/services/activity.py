"""Recording what happened, for notifications, digests and feeds to read."""

from pipeline.extensions import db
from pipeline.models import Activity, Project, User
from pipeline.services import notifications


def record(
    kind: str,
    project: Project | None,
    actor: User | None,
    summary: str,
    subject_type: str = "",
    subject_id: int | None = None,
    **data,
) -> Activity:
    """Add an activity in the caller's transaction (the caller commits with its own change).

    In the same transaction, the actor follows the project when taking part in it, and the
    project's followers are notified (see `notifications.after_activity`).
    """
    activity = Activity(
        kind=kind,
        project_id=project.id if project is not None else None,
        actor_id=actor.id if actor is not None else None,
        subject_type=subject_type,
        subject_id=subject_id,
        summary=summary[:500],
        data=data,
    )
    db.session.add(activity)
    notifications.after_activity(activity, project, actor)
    return activity
