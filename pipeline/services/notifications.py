"""Telling followers: every activity fans out to the people who follow its project (or, for a new project,
its councils, services and tags, and the saved searches it matches), as in-app notifications and, for
those who chose it, an email at once.

Fan-out runs inside `activity.record`, in the transaction of the change itself: an activity and its
notifications are committed together or not at all, and areas that record activities need know nothing
about following.
"""

from dataclasses import dataclass
from datetime import datetime
from math import ceil

from flask import current_app, render_template
from sqlalchemy import and_, func, insert, or_, select

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.markdown import plain_text
from pipeline.models import (
    ACTIVITY_KINDS,
    Activity,
    Comment,
    Follow,
    Notification,
    NotificationSettings,
    Project,
    ProjectCouncil,
    ProjectService,
    ProjectTag,
    ProjectUpdate,
    SavedSearch,
    User,
)
from pipeline.services import comments as comments_service
from pipeline.services import follows
from pipeline.services import updates as updates_service
from pipeline.services.outbox import queue_email
from pipeline.timeutil import utcnow

# Taking part in a project in these ways follows it (the actor can unfollow).
AUTO_FOLLOW_KINDS = frozenset({"project_posted", "member_joined", "pledge_offered", "comment_posted", "reply_posted"})
# When several follows lead to the same activity, the notification names the closest one.
TARGET_PRIORITY = ("project", "council", "service", "tag", "search")
TEXT_LIMIT = 300
PER_PAGE = 30
UNREAD_CAP = 99


# ---- what an activity says ------------------------------------------------------------------


@dataclass
class Item:
    """An activity as a person reads it: a heading, the text (of a comment or update, trimmed), a link."""

    activity_id: int
    kind: str
    when: datetime
    project_id: int
    project_title: str
    project_slug: str
    heading: str
    text: str
    path: str

    @property
    def kind_label(self) -> str:
        return ACTIVITY_KINDS.get(self.kind, "News")


def comment_path(slug: str, comment: Comment) -> str:
    """A comment's permalink (a reply's leads on to the page of its thread that shows it)."""
    return f"/projects/{slug}/comments/{comment.id}#comment-{comment.id}"


def update_path(slug: str, update_id: int) -> str:
    return f"/projects/{slug}/updates/{update_id}"


def _path(activity: Activity, slug: str) -> str:
    project = f"/projects/{slug}"
    return {
        "phase_change": f"{project}#timeline",
        "project_edit": f"{project}/history",
    }.get(activity.subject_type, project)


def describe(rows: list[tuple[Activity, str, str]]) -> dict[int, Item]:
    """Items for (activity, project title, project slug) rows, in two statements however many there are.

    An activity whose comment or update is no longer public (deleted, or hidden by an organiser) has no
    item: it is not shown or sent.
    """
    comment_ids = {a.subject_id for a, _, _ in rows if a.subject_type == "comment" and a.subject_id}
    update_ids = {a.subject_id for a, _, _ in rows if a.subject_type == "update" and a.subject_id}
    comments = (
        {c.id: c for c in db.session.scalars(select(Comment).where(Comment.id.in_(comment_ids)))} if comment_ids else {}
    )
    updates = (
        {u.id: u for u in db.session.scalars(select(ProjectUpdate).where(ProjectUpdate.id.in_(update_ids)))}
        if update_ids
        else {}
    )
    items = {}
    for activity, title, slug in rows:
        if activity.id in items:
            continue  # a digest batch names the same activity for many readers: describe it once
        text, path = "", _path(activity, slug)
        if activity.subject_type == "comment":
            comment = comments.get(activity.subject_id)
            if comment is None or not comments_service.is_public(comment):
                continue
            text, path = plain_text(comment.body, TEXT_LIMIT), comment_path(slug, comment)
        elif activity.subject_type == "update":
            found = updates.get(activity.subject_id)
            if found is None or not updates_service.is_public(found):
                continue
            text, path = plain_text(found.body, TEXT_LIMIT), update_path(slug, found.id)
        items[activity.id] = Item(
            activity_id=activity.id,
            kind=activity.kind,
            when=activity.created_at,
            project_id=activity.project_id,
            project_title=title,
            project_slug=slug,
            heading=activity.summary,
            text=text,
            path=path,
        )
    return items


# ---- fan-out --------------------------------------------------------------------------------


def after_activity(activity: Activity, project: Project | None, actor: User | None) -> None:
    """Follow the project for whoever took part, then tell its followers. In the caller's transaction."""
    if project is None:
        return
    if actor is not None and activity.kind in AUTO_FOLLOW_KINDS:
        follows.auto_follow(actor.id, project.id)
    fan_out(activity, project)


def _followers_of(activity: Activity):
    project_id = activity.project_id
    reached = [and_(Follow.target_type == "project", Follow.target_id == project_id)]
    if activity.kind == "project_posted":
        reached += [
            and_(
                Follow.target_type == "council",
                Follow.target_id.in_(
                    select(ProjectCouncil.council_id).where(
                        ProjectCouncil.project_id == project_id, ProjectCouncil.state != "requested"
                    )
                ),
            ),
            and_(
                Follow.target_type == "service",
                Follow.target_id.in_(select(ProjectService.service_id).where(ProjectService.project_id == project_id)),
            ),
            and_(
                Follow.target_type == "tag",
                Follow.target_id.in_(select(ProjectTag.tag_id).where(ProjectTag.project_id == project_id)),
            ),
        ]
    found = db.session.execute(_active_follows(activity, or_(*reached))).all()
    if activity.kind == "project_posted":
        found += _saved_search_followers(activity)
    return found


def _active_follows(activity: Activity, reached, *also):
    """(follow, overall frequency, user, *also) for the follows reached: not ended, by confirmed officers
    other than the actor."""
    query = (
        select(Follow, NotificationSettings.frequency, User, *also)
        .join(User, User.id == Follow.user_id)
        .outerjoin(NotificationSettings, NotificationSettings.user_id == Follow.user_id)
        .where(reached, Follow.unfollowed_at.is_(None), User.email_verified_at.is_not(None))
    )
    if activity.actor_id is not None:
        query = query.where(Follow.user_id != activity.actor_id)
    return query


def _saved_search_followers(activity: Activity) -> list:
    """Followers of the saved searches a new project matches (its search document is already indexed).

    One statement for the follows, one for the words of every search among them, and one for the filters
    of the searches whose words match, per 200 of them (see `saved_searches.matching_new_project`).
    """
    from pipeline.services import saved_searches  # it reads the projects list, which records activities

    query = _active_follows(activity, Follow.target_type == "search", SavedSearch).join(
        SavedSearch, and_(SavedSearch.id == Follow.target_id, SavedSearch.user_id == Follow.user_id)
    )
    rows = db.session.execute(query).all()
    matched = saved_searches.matching_new_project([saved for *_, saved in rows], activity.project_id)
    return [(follow, overall, user) for follow, overall, user, saved in rows if saved.key in matched]


def fan_out(activity: Activity, project: Project) -> int:
    """Write a notification for each follower and queue email for those who want it at once; return how many."""
    db.session.flush()  # the activity's id and time
    closest: dict[int, tuple[Follow, str | None, User]] = {}
    for follow, overall, user in _followers_of(activity):
        current = closest.get(user.id)
        if current is None or TARGET_PRIORITY.index(follow.target_type) < TARGET_PRIORITY.index(current[0].target_type):
            closest[user.id] = (follow, overall, user)
    if not closest:
        return 0
    now = utcnow()
    instant = [
        (follow, user)
        for follow, overall, user in closest.values()
        if follows.effective_frequency(follow.frequency, overall) == "instantly"
    ]
    item = describe([(activity, project.title, project.slug)]).get(activity.id) if instant else None
    emailed = {user.id for _, user in instant} if item else set()
    db.session.execute(
        insert(Notification),
        [
            {
                "user_id": user_id,
                "activity_id": activity.id,
                "follow_id": follow.id,
                "created_at": activity.created_at,
                "emailed_at": now if user_id in emailed else None,
            }
            for user_id, (follow, _, _) in closest.items()
        ],
    )
    if item:
        targets = follows.targets_for([follow for follow, _ in instant])
        for follow, user in instant:
            _queue_instant_email(user, follow, targets.get((follow.target_type, follow.target_id)), item)
    return len(closest)


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: mail programs POST to the link without opening it."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def _queue_instant_email(user: User, follow: Follow, target: follows.Target | None, item: Item) -> None:
    unsubscribe_url = f"{base_url()}/unsubscribe/{follows.unsubscribe_token(follow)}"
    body = render_template(
        "email/notification.txt",
        user=user,
        item=item,
        target=target,
        base_url=base_url(),
        unsubscribe_url=unsubscribe_url,
        settings_url=f"{base_url()}/notifications/settings",
    )
    queue_email(user.email, f"{item.kind_label}: {item.project_title}", body, unsubscribe_headers(unsubscribe_url))


# ---- in the app -----------------------------------------------------------------------------


@dataclass
class Entry:
    notification: Notification
    item: Item
    is_new: bool


@dataclass
class NotificationPage:
    entries: list[Entry]
    total: int
    page: int
    per_page: int
    newest_id: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


def notifications_page(user: User, page: int = 1, per_page: int = PER_PAGE) -> NotificationPage:
    """A page of what happened on what the user follows, newest first, marking what they have not seen."""
    seen_up_to = follows.settings_for(user.id).seen_up_to
    total = db.session.scalar(select(func.count()).where(Notification.user_id == user.id))
    rows = db.session.execute(
        select(Notification, Activity, Project.title, Project.slug)
        .join(Activity, Activity.id == Notification.activity_id)
        .join(Project, Project.id == Activity.project_id)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = describe([(activity, title, slug) for _, activity, title, slug in rows])
    entries = [
        Entry(notification, items[activity.id], notification.id > seen_up_to)
        for notification, activity, _, _ in rows
        if activity.id in items
    ]
    newest = rows[0][0].id if rows and page == 1 else 0
    return NotificationPage(entries, total, page, per_page, newest)


def mark_seen(user: User, up_to_id: int) -> None:
    """Remember that the user has seen their notifications up to this one."""
    if not up_to_id:
        return
    begin_write()
    settings = follows.ensure_settings(user.id)
    settings.seen_up_to = max(settings.seen_up_to, up_to_id)
    db.session.commit()


def unread_count(user: User | None) -> int:
    """How many notifications the user has not seen (counted up to 100): one statement."""
    if user is None or not user.is_authenticated:
        return 0
    seen = select(NotificationSettings.seen_up_to).where(NotificationSettings.user_id == user.id).scalar_subquery()
    unread = (
        select(Notification.id)
        .where(Notification.user_id == user.id, Notification.id > func.coalesce(seen, 0))
        .limit(UNREAD_CAP + 1)
        .subquery()
    )
    return db.session.scalar(select(func.count()).select_from(unread))
