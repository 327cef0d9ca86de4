"""Comments on projects: posting, one level of replies, editing with kept versions, deleting with a marker,
official responses and reports; and reading threads a page at a time in a fixed number of statements."""

from collections.abc import Iterable
from dataclasses import dataclass
from math import ceil

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import joinedload

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.models import (
    Activity,
    Comment,
    CommentReport,
    CommentVersion,
    Follow,
    Notification,
    Project,
    ProjectUpdate,
    User,
)
from pipeline.services import activity, follows, permissions
from pipeline.services.errors import InvalidInput, NotFound, PermissionDenied
from pipeline.services.permissions import require_signed_in
from pipeline.timeutil import utcnow

MAX_COMMENT = 5000
MAX_REASON = 1000
THREADS_PER_PAGE = 20
# A list of threads shows each thread's latest replies; the thread's own page shows them all, a page at a time.
REPLIES_SHOWN = 3
REPLIES_PER_PAGE = 50
LATEST_UPDATES = 3


# ---- what the public may see ------------------------------------------------------------------
# The one rule for whether a comment's words may be shown, sent or published: not deleted by its
# author and not hidden by an organiser. Pages, notifications, digests, feeds and open data all ask
# one of these three, which say the same thing in Python, in SQL, and for a set of ids.


def is_public(comment: Comment) -> bool:
    """Whether a comment's text may be shown to everyone, emailed, or published."""
    return comment.deleted_at is None and comment.hidden_at is None


def public_condition():
    """`is_public` as a SQL condition on Comment, for queries that publish comments."""
    return and_(Comment.deleted_at.is_(None), Comment.hidden_at.is_(None))


def not_public_ids(ids: Iterable[int]) -> set[int]:
    """Which of these comments are not public (deleted, hidden or gone), in one statement."""
    wanted = set(ids)
    if not wanted:
        return set()
    public = set(db.session.scalars(select(Comment.id).where(Comment.id.in_(wanted), public_condition())))
    return wanted - public


def _check_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidInput("Enter your comment", field="body")
    if len(body) > MAX_COMMENT:
        raise InvalidInput(f"Comment must be {MAX_COMMENT:,} characters or fewer", field="body")
    return body


def _comment_for_write(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound()
    return comment


# ---- writing --------------------------------------------------------------------------------


def post_comment(user: User, project_id: int, body: str, parent_id: int | None = None) -> Comment:
    """Comment on a project, or reply to a comment: a reply to a reply joins the thread of its top comment."""
    require_signed_in(user)
    body = _check_body(body)
    begin_write()
    project = db.session.get(Project, project_id)
    if project is None:
        raise NotFound()
    user = db.session.get(User, user.id)
    top = None
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id)
        if parent is None or parent.project_id != project.id:
            raise InvalidInput("The comment you are replying to is not on this project", field="body")
        top = db.session.get(Comment, parent.parent_id) if parent.parent_id else parent
        for replied_to in (parent, top):
            if replied_to.is_deleted:
                raise InvalidInput("You cannot reply to a deleted comment", field="body")
            if replied_to.is_hidden:
                raise InvalidInput("You cannot reply to a comment an organiser has hidden", field="body")
    now = utcnow()
    comment = Comment(
        project_id=project.id,
        parent_id=top.id if top else None,
        author_id=user.id,
        body=body,
        created_at=now,
        active_at=now,
    )
    db.session.add(comment)
    db.session.flush()
    if top is None:
        activity.record(
            "comment_posted", project, user, f"{user.name} commented on {project.title}", "comment", comment.id
        )
    else:
        top.active_at = now
        activity.record(
            "reply_posted",
            project,
            user,
            f"{user.name} replied to a comment by {top.author.name} on {project.title}",
            "comment",
            comment.id,
            thread_id=top.id,
        )
    db.session.commit()
    return comment


def edit_comment(user: User, comment_id: int, body: str) -> Comment:
    """Change your own comment, keeping what it said before."""
    require_signed_in(user)
    body = _check_body(body)
    begin_write()
    comment = _comment_for_write(comment_id)
    if comment.author_id != user.id:
        raise PermissionDenied("Only the person who wrote a comment can edit it.")
    if comment.is_deleted:
        raise InvalidInput("This comment has been deleted and cannot be edited", field="body")
    if comment.is_hidden:
        raise InvalidInput("An organiser has hidden this comment, so it cannot be edited", field="body")
    if body != comment.body:
        now = utcnow()
        db.session.add(
            CommentVersion(comment_id=comment.id, body=comment.body, written_at=comment.edited_at or comment.created_at)
        )
        comment.body = body
        comment.edited_at = now
    db.session.commit()
    return comment


def delete_comment(user: User, comment_id: int) -> Comment:
    """Delete your own comment: its text and earlier versions go, a marker keeps the thread readable."""
    require_signed_in(user)
    begin_write()
    comment = _comment_for_write(comment_id)
    if comment.author_id != user.id:
        raise PermissionDenied("Only the person who wrote a comment can delete it.")
    if not comment.is_deleted:
        comment.deleted_at = utcnow()
        comment.body = ""
        comment.official_at = None
        comment.official_by_id = None
        db.session.execute(delete(CommentVersion).where(CommentVersion.comment_id == comment.id))
        # Nobody is told of it any more, in the app or in a digest still to come.
        db.session.execute(
            delete(Notification).where(
                Notification.activity_id.in_(
                    select(Activity.id).where(Activity.subject_type == "comment", Activity.subject_id == comment.id)
                )
            )
        )
    db.session.commit()
    return comment


def set_official(user: User, comment_id: int, official: bool) -> Comment:
    """Mark a reply as the project's official response to its thread (one per thread), or unmark it."""
    require_signed_in(user)
    begin_write()
    comment = _comment_for_write(comment_id)
    project = db.session.get(Project, comment.project_id)
    if not permissions.can_edit_project(user, project):
        raise PermissionDenied("Only the project team can mark an official response.")
    if comment.parent_id is None:
        raise InvalidInput("Only a reply can be marked as the official response")
    if not is_public(comment):
        raise InvalidInput("A deleted or hidden comment cannot be the official response")
    if official:
        db.session.execute(
            update(Comment)
            .where(Comment.parent_id == comment.parent_id, Comment.id != comment.id)
            .values(official_at=None, official_by_id=None)
        )
        comment.official_at = utcnow()
        comment.official_by_id = user.id
    else:
        comment.official_at = None
        comment.official_by_id = None
    db.session.commit()
    return comment


def report_comment(user: User, comment_id: int, reason: str) -> CommentReport | None:
    """Tell the organisers a comment breaks the rules; None when the user had already reported it."""
    require_signed_in(user)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Enter why you are reporting this comment", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"Reason must be {MAX_REASON:,} characters or fewer", field="reason")
    begin_write()
    comment = _comment_for_write(comment_id)
    if comment.is_deleted:
        raise InvalidInput("This comment has been deleted", field="reason")
    if comment.is_hidden:
        raise InvalidInput("An organiser has already hidden this comment", field="reason")
    if comment.author_id == user.id:
        raise InvalidInput("You cannot report your own comment. You can edit or delete it", field="reason")
    existing = db.session.scalar(
        select(CommentReport).where(CommentReport.comment_id == comment.id, CommentReport.reporter_id == user.id)
    )
    if existing is not None:
        db.session.rollback()
        return None
    report = CommentReport(comment_id=comment.id, reporter_id=user.id, reason=reason)
    db.session.add(report)
    db.session.commit()
    return report


# ---- reading --------------------------------------------------------------------------------


def _with_author():
    return joinedload(Comment.author).joinedload(User.council)


def get_comment(project: Project, comment_id: int) -> Comment:
    """A comment on this project, with its author."""
    comment = db.session.scalar(
        select(Comment).options(_with_author()).where(Comment.id == comment_id, Comment.project_id == project.id)
    )
    if comment is None:
        raise NotFound()
    return comment


def versions(comment: Comment) -> list[CommentVersion]:
    """What a comment said before each edit, newest first."""
    return list(
        db.session.scalars(
            select(CommentVersion).where(CommentVersion.comment_id == comment.id).order_by(CommentVersion.id.desc())
        )
    )


@dataclass
class Thread:
    comment: Comment
    replies: list[Comment]
    reply_count: int

    @property
    def more_replies(self) -> int:
        return self.reply_count - len(self.replies)

    @property
    def official(self) -> Comment | None:
        return next((reply for reply in self.replies if reply.is_official), None)


@dataclass
class ThreadPage:
    threads: list[Thread]
    thread_count: int
    comment_count: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.thread_count / self.per_page))


def _counts(project_id: int) -> tuple[int, int, int]:
    """(comments, threads, updates) on a project, in one statement."""
    row = db.session.execute(
        select(
            select(func.count()).where(Comment.project_id == project_id).scalar_subquery(),
            select(func.count()).where(Comment.project_id == project_id, Comment.parent_id.is_(None)).scalar_subquery(),
            select(func.count()).where(ProjectUpdate.project_id == project_id).scalar_subquery(),
        )
    ).one()
    return row[0], row[1], row[2]


def _latest_replies(top_ids: list[int]) -> dict[int, tuple[list[Comment], int]]:
    """Each thread's latest replies (and its official response, however old) with its reply count."""
    if not top_ids:
        return {}
    ranked = (
        select(
            Comment.id.label("id"),
            func.row_number()
            .over(partition_by=Comment.parent_id, order_by=(Comment.created_at.desc(), Comment.id.desc()))
            .label("rank"),
            func.count().over(partition_by=Comment.parent_id).label("total"),
        )
        .where(Comment.parent_id.in_(top_ids))
        .subquery()
    )
    rows = db.session.execute(
        select(Comment, ranked.c.total)
        .join(ranked, ranked.c.id == Comment.id)
        .where(or_(ranked.c.rank <= REPLIES_SHOWN, Comment.official_at.is_not(None)))
        .options(_with_author())
        .order_by(Comment.created_at, Comment.id)
    ).all()
    found: dict[int, tuple[list[Comment], int]] = {}
    for reply, total in rows:
        replies, _ = found.setdefault(reply.parent_id, ([], total))
        replies.append(reply)
    return found


def thread_page(project: Project, page: int = 1, per_page: int = THREADS_PER_PAGE) -> ThreadPage:
    """A page of a project's threads, most recently active first, each with its latest replies."""
    comment_count, thread_count, _ = _counts(project.id)
    return _thread_page(project, page, per_page, comment_count, thread_count)


def _thread_page(project: Project, page: int, per_page: int, comment_count: int, thread_count: int) -> ThreadPage:
    tops = list(
        db.session.scalars(
            select(Comment)
            .options(_with_author())
            .where(Comment.project_id == project.id, Comment.parent_id.is_(None))
            .order_by(Comment.active_at.desc(), Comment.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    replies = _latest_replies([top.id for top in tops])
    threads = [Thread(top, *replies.get(top.id, ([], 0))) for top in tops]
    return ThreadPage(threads, thread_count, comment_count, page, per_page)


@dataclass
class ThreadReplies:
    thread: Thread
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.thread.reply_count / self.per_page))


def thread(project: Project, top: Comment, page: int = 1, per_page: int = REPLIES_PER_PAGE) -> ThreadReplies:
    """A thread's replies, oldest first, a page at a time."""
    count = db.session.scalar(select(func.count()).where(Comment.parent_id == top.id))
    replies = list(
        db.session.scalars(
            select(Comment)
            .options(_with_author())
            .where(Comment.parent_id == top.id)
            .order_by(Comment.created_at, Comment.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return ThreadReplies(Thread(top, replies, count), page, per_page)


def reply_page(top: Comment, reply_id: int, per_page: int = REPLIES_PER_PAGE) -> int:
    """Which page of its thread a reply is on."""
    reply = db.session.get(Comment, reply_id)
    before = db.session.scalar(
        select(func.count()).where(
            Comment.parent_id == top.id,
            or_(
                Comment.created_at < reply.created_at,
                (Comment.created_at == reply.created_at) & (Comment.id < reply.id),
            ),
        )
    )
    return before // per_page + 1


@dataclass
class Conversation:
    """Everything the project page shows of its conversation."""

    updates: list[ProjectUpdate]
    update_count: int
    threads: ThreadPage
    following: Follow | None
    can_post_update: bool
    can_mark_official: bool


def conversation(project: Project, viewer: User | None) -> Conversation:
    """The latest updates and the first page of comments for a project page: a fixed number of statements."""
    comment_count, thread_count, update_count = _counts(project.id)
    updates = list(
        db.session.scalars(
            select(ProjectUpdate)
            .options(joinedload(ProjectUpdate.author))
            .where(ProjectUpdate.project_id == project.id)
            .order_by(ProjectUpdate.created_at.desc(), ProjectUpdate.id.desc())
            .limit(LATEST_UPDATES)
        )
    )
    return Conversation(
        updates=updates,
        update_count=update_count,
        threads=_thread_page(project, 1, THREADS_PER_PAGE, comment_count, thread_count),
        following=follows.following(viewer, "project", project.id),
        can_post_update=permissions.is_team_member(viewer, project),
        can_mark_official=permissions.can_edit_project(viewer, project),
    )
