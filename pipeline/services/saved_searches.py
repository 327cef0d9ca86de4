"""Saved searches: an officer keeps a search and its filters, to run again, read as a feed or follow.

Saving a search follows it: new projects that match come in the officer's notifications and email, as
often as they choose, through the same machinery as every other follow (see `notifications`).
"""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import and_, func, select
from werkzeug.datastructures import MultiDict

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.models import Follow, Project, SavedSearch, User
from pipeline.services import follows, project_lists, search
from pipeline.services.errors import InvalidInput, NotFound
from pipeline.services.permissions import require_signed_in

MAX_SAVED_SEARCHES = 50


def filters_of(saved: SavedSearch) -> project_lists.ProjectFilters:
    """The search and filters a saved search stands for, read as the projects list reads its URL."""
    return project_lists.ProjectFilters.from_args(MultiDict(list(_pairs(saved.args))))


def _pairs(args: dict):
    for name, value in args.items():
        for item in value if isinstance(value, list) else [value]:
            yield name, str(item)


def _key(args: dict) -> str:
    return urlencode(sorted(_pairs(args)))


def save_search(user: User, filters: project_lists.ProjectFilters) -> tuple[SavedSearch, bool]:
    """Save a search and its filters for the user, and follow it; returns it, and False if they had already
    saved it (which changes nothing, not even a follow they ended)."""
    require_signed_in(user)
    args = filters.to_args(page=1)
    args.pop("page", None)
    key = _key(args)
    if len(key) > 1000:
        raise InvalidInput("This search is too long to save. Use fewer words or filters.")
    begin_write()
    existing = db.session.scalar(select(SavedSearch).where(SavedSearch.user_id == user.id, SavedSearch.key == key))
    if existing is not None:
        db.session.rollback()
        return existing, False
    count = db.session.scalar(select(func.count()).select_from(SavedSearch).where(SavedSearch.user_id == user.id))
    if count >= MAX_SAVED_SEARCHES:
        raise InvalidInput(f"You can save up to {MAX_SAVED_SEARCHES} searches. Delete one to save another.")
    description = project_lists.describe(filters, project_lists.filter_choices())
    saved = SavedSearch(user_id=user.id, args=args, key=key, description=description[:1000])
    db.session.add(saved)
    db.session.flush()
    follows.start_following(user.id, "search", saved.id)
    db.session.commit()
    return saved, True


@dataclass
class SavedRow:
    saved: SavedSearch
    # The user's follow of it, or None if they have stopped following it.
    follow: Follow | None


def saved_searches(user: User) -> list[SavedRow]:
    """The user's saved searches, newest first, each with whether they follow it: one statement."""
    require_signed_in(user)
    following = and_(
        Follow.user_id == SavedSearch.user_id,
        Follow.target_type == "search",
        Follow.target_id == SavedSearch.id,
        Follow.unfollowed_at.is_(None),
    )
    rows = db.session.execute(
        select(SavedSearch, Follow)
        .outerjoin(Follow, following)
        .where(SavedSearch.user_id == user.id)
        .order_by(SavedSearch.id.desc())
    ).all()
    return [SavedRow(saved, follow) for saved, follow in rows]


def get_saved_search(token: str) -> SavedSearch:
    """A saved search by its token (for links in email and notifications)."""
    saved = db.session.scalar(select(SavedSearch).where(SavedSearch.token == token[:32]))
    if saved is None:
        raise NotFound()
    return saved


def delete_saved_search(user: User, token: str) -> None:
    """Delete one of the user's saved searches; another person's is not found, as if it did not exist."""
    require_signed_in(user)
    begin_write()
    saved = db.session.scalar(
        select(SavedSearch).where(SavedSearch.token == token[:32], SavedSearch.user_id == user.id)
    )
    if saved is None:
        raise NotFound()
    # End the follow rather than delete it: what it brought stays in the officer's notifications.
    follows.stop_following(user.id, "search", saved.id)
    db.session.delete(saved)
    db.session.commit()


def new_matches(saved_search: SavedSearch, since: datetime, limit: int = 100) -> list[Project]:
    """Projects posted at or after `since` that match the saved search and its filters, oldest first.

    For the notification machinery: call it with the time the follower was last told, and tell them
    about what it returns.
    """
    return project_lists.matching_since(filters_of(saved_search), since, limit)


def matching_new_project(searches: list[SavedSearch], project_id: int) -> set[str]:
    """The keys of the saved searches a newly posted project matches.

    One statement tries every search's words on the project's document at once; then the searches whose
    words match (or that have none) check their filters together, in one statement per 200 of them.
    """
    filters = {saved.key: filters_of(saved) for saved in searches}
    queries = list({f.text_query for f in filters.values() if not f.text_query.empty})
    words_match = search.engine().queries_matching_own_document(queries, project_id)
    candidates = [(key, f) for key, f in filters.items() if f.text_query.empty or f.text_query in words_match]
    passed = project_lists.new_project_passes_filters([f for _, f in candidates], project_id)
    return {candidates[position][0] for position in passed}
