"""Who may change what. Every write in the service layer asks one of these first."""

from pipeline.models import Project, User
from pipeline.services.errors import PermissionDenied


def is_team_member(user: User | None, project: Project) -> bool:
    """Whether the user is on the project's team (an owner or a member)."""
    if user is None or not user.is_authenticated:
        return False
    return any(member.user_id == user.id for member in project.members)


def is_owner(user: User | None, project: Project) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return any(member.user_id == user.id and member.role == "owner" for member in project.members)


def can_edit_project(user: User | None, project: Project) -> bool:
    """The team edits a project and moves its phase; organisers may too."""
    return bool(user is not None and user.is_authenticated and (user.is_organiser or is_team_member(user, project)))


def can_manage_team(user: User | None, project: Project) -> bool:
    """Owners (and organisers) decide who joins the team."""
    return bool(user is not None and user.is_authenticated and (user.is_organiser or is_owner(user, project)))


def require_signed_in(user: User | None) -> User:
    if user is None or not user.is_authenticated:
        raise PermissionDenied("Sign in to do that.")
    return user


def require_edit(user: User | None, project: Project) -> None:
    if not can_edit_project(user, project):
        raise PermissionDenied("Only the project team can do that.")


def require_team_manager(user: User | None, project: Project) -> None:
    if not can_manage_team(user, project):
        raise PermissionDenied("Only the project's owners can do that.")


def is_council_officer(user: User | None, council_id: int) -> bool:
    """Whether the user works for the council: only its own officers act for a council."""
    return bool(user is not None and user.is_authenticated and user.council_id == council_id)


def require_council_officer(user: User | None, council_id: int) -> None:
    if not is_council_officer(user, council_id):
        raise PermissionDenied("Only an officer of that council can do that.")


def can_decide_pledges(user: User | None, project: Project) -> bool:
    """The project team accepts, declines and marks pledges delivered."""
    return is_team_member(user, project)


def is_pledger(user: User | None, pledge) -> bool:
    """Only the officer who made a pledge changes or withdraws it."""
    return bool(user is not None and user.is_authenticated and pledge.pledged_by_id == user.id)
