"""Merging one project into another, and moving pledges once their councils agree.

A merged project is stopped and flagged (`Project.merged_into_id`), never deleted: its address redirects
to the project it went into and it leaves every list. Its comments, updates, followers, team and partner
councils move over in the merge's transaction; each pledge moves only when the council that made it says so.
"""

from dataclasses import dataclass

from flask import current_app, render_template
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload, selectinload

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.models import (
    COUNTED_STATES,
    Comment,
    Follow,
    JoinRequest,
    PeopleNeed,
    PhaseChange,
    Pledge,
    PledgeEvent,
    PledgeMove,
    Project,
    ProjectCouncil,
    ProjectMember,
    ProjectMerge,
    ProjectPair,
    ProjectUpdate,
    ThemeProject,
    User,
)
from pipeline.services import activity, audit, duplicates, projects, search
from pipeline.services.curation import require_organiser
from pipeline.services.errors import InvalidInput, NotFound, PermissionDenied
from pipeline.services.outbox import queue_email
from pipeline.services.permissions import is_pledger, require_signed_in
from pipeline.timeutil import utcnow

MAX_REASON = 2000
# How firmly a council is in, weakest first: a merge keeps the firmer of the two.
PARTNER_STRENGTH = {"requested": 0, "interested": 1, "committed": 2}


def _lock(project_id: int) -> Project:
    project = db.session.scalar(
        select(Project)
        .options(
            selectinload(Project.members),
            selectinload(Project.councils).selectinload(ProjectCouncil.council),
        )
        .where(Project.id == project_id)
        .with_for_update(of=Project)
    )
    if project is None:
        raise NotFound()
    return project


def _closed_word(project: Project) -> str:
    return "stopped" if project.phase == "stopped" else "been retired"


@dataclass
class MergePlan:
    """What a merge would move, for the organiser to check before confirming."""

    source: Project
    target: Project
    comments: int
    updates: int
    followers: int
    members: int
    councils: int
    pledges: int


def check_merge(source: Project, target: Project | None) -> None:
    """Refuse a merge that cannot happen, with a message that says why; writes nothing."""
    if target is None:
        raise InvalidInput("Enter the web address or short name of the project to merge into", field="into")
    if source.id == target.id:
        raise InvalidInput("You cannot merge a project into itself. Choose another project", field="into")
    if source.is_merged:
        destination = projects.merged_destination(source)
        raise InvalidInput(f"{source.title} has already been merged into {destination.title}", field="into")
    if target.is_merged:
        destination = projects.merged_destination(target)
        raise InvalidInput(
            f"{target.title} has already been merged into {destination.title}. Merge into {destination.title} instead",
            field="into",
        )
    if source.is_closed:
        raise InvalidInput(
            f"{source.title} has {_closed_word(source)}, so it cannot be merged. Link the projects as related instead",
            field="into",
        )
    if target.is_closed:
        raise InvalidInput(
            f"{target.title} has {_closed_word(target)}, so nothing can be merged into it. "
            "Link the projects as related instead",
            field="into",
        )


def find_target(text: str) -> Project | None:
    """The project named by its address or short name, as typed into a form."""
    slug = (text or "").strip().rstrip("/").rsplit("/", 1)[-1]
    return db.session.scalar(select(Project).where(Project.slug == slug)) if slug else None


def plan(source: Project, target: Project) -> MergePlan:
    """Count what a merge would move (a handful of statements), after `check_merge` allowed it."""

    def count(query) -> int:
        return db.session.scalar(select(func.count()).select_from(query.subquery()))

    on_target = select(ProjectMember.user_id).where(ProjectMember.project_id == target.id)
    following_target = select(Follow.user_id).where(Follow.target_type == "project", Follow.target_id == target.id)
    target_councils = select(ProjectCouncil.council_id).where(ProjectCouncil.project_id == target.id)
    return MergePlan(
        source=source,
        target=target,
        comments=count(select(Comment.id).where(Comment.project_id == source.id)),
        updates=count(select(ProjectUpdate.id).where(ProjectUpdate.project_id == source.id)),
        followers=count(
            select(Follow.id).where(
                Follow.target_type == "project",
                Follow.target_id == source.id,
                Follow.unfollowed_at.is_(None),
                Follow.user_id.not_in(following_target),
            )
        ),
        members=count(
            select(ProjectMember.id).where(
                ProjectMember.project_id == source.id, ProjectMember.user_id.not_in(on_target)
            )
        ),
        councils=count(
            select(ProjectCouncil.id).where(
                ProjectCouncil.project_id == source.id, ProjectCouncil.council_id.not_in(target_councils)
            )
        ),
        pledges=count(select(Pledge.id).where(Pledge.project_id == source.id, Pledge.state.in_(COUNTED_STATES))),
    )


def merge(actor: User, source_id: int, into: str, reason: str = "") -> ProjectMerge:
    """Merge one open project into another, moving what can move now and asking pledgers about their pledges."""
    require_organiser(actor)
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"Reason must be {MAX_REASON:,} characters or fewer", field="reason")
    begin_write()
    found = find_target(into)
    source = _lock(source_id)
    target = _lock(found.id) if found is not None else None
    check_merge(source, target)
    actor = db.session.get(User, actor.id)
    now = utcnow()
    moved = {
        "comments": _move_rows(Comment, source, target),
        "updates": _move_rows(ProjectUpdate, source, target),
        "followers": _move_followers(source, target, now),
        "team_members": _move_members(source, target),
        "councils": _move_councils(source, target, actor),
        "join_requests": _move_join_requests(source, target, now),
    }
    _move_themes_and_links(source, target, actor)
    # Projects merged into this one before now redirect straight to where the work goes on.
    db.session.execute(update(Project).where(Project.merged_into_id == source.id).values(merged_into_id=target.id))
    db.session.execute(
        update(PledgeMove)
        .where(PledgeMove.to_project_id == source.id, PledgeMove.state == "asked")
        .values(to_project_id=target.id)
    )
    asked = _ask_pledgers(source, target, now)
    moved["pledges_asked"] = len(asked)

    note = f"Merged into {target.title} by an organiser."
    if reason:
        note += f" Reason: {reason}"
    source.phase_changes.append(
        PhaseChange(from_phase=source.phase, to_phase="stopped", note=note, changed_by_id=actor.id, changed_at=now)
    )
    source.phase = "stopped"
    source.outcome = f"Merged into {target.title}, where the work continues."
    source.lessons = source.lessons or "See the project it was merged into."
    source.merged_into_id = target.id
    source.featured_at = None
    source.updated_at = now
    target.updated_at = now
    duplicates.forget_candidates(source.id)
    merge_row = ProjectMerge(
        source_id=source.id, target_id=target.id, merged_by_id=actor.id, reason=reason, moved=moved, merged_at=now
    )
    db.session.add(merge_row)
    db.session.flush()
    search.move_documents(source.id, target.id)  # the updates that moved
    search.index_project(target)  # it names the councils that moved over
    audit.record(actor, "project_merged", "project", source.id, source.title, reason, into=target.title, **moved)
    summary = f"{source.title} was merged into {target.title}"
    activity.record("project_merged", target, actor, summary, "project_merge", merge_row.id, source_id=source.id)
    activity.record("project_merged", source, actor, summary, "project_merge", merge_row.id, target_id=target.id)
    for pledger, pledges in asked.items():
        _ask_email(pledger, pledges, source, target)
    db.session.commit()
    return merge_row


def _move_rows(model, source: Project, target: Project) -> int:
    return db.session.execute(update(model).where(model.project_id == source.id).values(project_id=target.id)).rowcount


def _move_followers(source: Project, target: Project, now) -> int:
    """Followers of the merged project follow the other one; those who already had a say about it keep theirs."""
    has_row = select(Follow.user_id).where(Follow.target_type == "project", Follow.target_id == target.id)
    moved = db.session.execute(
        update(Follow)
        .where(
            Follow.target_type == "project",
            Follow.target_id == source.id,
            Follow.unfollowed_at.is_(None),
            Follow.user_id.not_in(has_row),
        )
        .values(target_id=target.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    # Those left already follow the other project (or chose not to): nothing more comes from the merged one.
    db.session.execute(
        update(Follow)
        .where(Follow.target_type == "project", Follow.target_id == source.id, Follow.unfollowed_at.is_(None))
        .values(unfollowed_at=now)
        .execution_options(synchronize_session=False)
    )
    return moved


def _move_members(source: Project, target: Project) -> int:
    """The merged project's team joins the other team as members (its owners decide who else owns it)."""
    on_target = {member.user_id for member in target.members}
    moving = [member for member in source.members if member.user_id not in on_target]
    if moving:
        db.session.execute(
            update(ProjectMember)
            .where(ProjectMember.id.in_([m.id for m in moving]))
            .values(project_id=target.id, role="member")
            .execution_options(synchronize_session=False)
        )
    return len(moving)


def _move_councils(source: Project, target: Project, actor: User) -> int:
    """Partner councils of the merged project take part in the other one, as firmly as they did (never as lead)."""
    on_target = {partner.council_id: partner for partner in target.councils}
    added = 0
    for partner in source.councils:
        existing = on_target.get(partner.council_id)
        if existing is None:
            target.councils.append(
                ProjectCouncil(
                    council_id=partner.council_id,
                    role="partner" if partner.role == "lead" else partner.role,
                    state=partner.state,
                    added_by_id=actor.id,
                )
            )
            added += 1
        elif PARTNER_STRENGTH[partner.state] > PARTNER_STRENGTH[existing.state]:
            existing.state = partner.state
    return added


def _move_join_requests(source: Project, target: Project, now) -> int:
    """Requests to join the merged project wait on the other one, unless the person is on its team or asked there."""
    on_target = {member.user_id for member in target.members} | {member.user_id for member in source.members}
    waiting_there = set(
        db.session.scalars(
            select(JoinRequest.user_id).where(JoinRequest.project_id == target.id, JoinRequest.state == "pending")
        )
    )
    moved = 0
    for request in db.session.scalars(
        select(JoinRequest).where(JoinRequest.project_id == source.id, JoinRequest.state == "pending")
    ):
        if request.user_id in on_target or request.user_id in waiting_there:
            request.state, request.decided_at = "withdrawn", now
        else:
            request.project_id = target.id
            moved += 1
    return moved


def _move_themes_and_links(source: Project, target: Project, actor: User) -> None:
    """Themes that listed the merged project list the other one; projects related to it are related to the other."""
    in_themes = set(db.session.scalars(select(ThemeProject.theme_id).where(ThemeProject.project_id == target.id)))
    for row in db.session.scalars(select(ThemeProject).where(ThemeProject.project_id == source.id)):
        if row.theme_id not in in_themes:
            db.session.add(ThemeProject(theme_id=row.theme_id, project_id=target.id, added_at=row.added_at))
        db.session.delete(row)
    pairs = db.session.scalars(
        select(ProjectPair).where(
            ProjectPair.kind == "related", (ProjectPair.first_id == source.id) | (ProjectPair.second_id == source.id)
        )
    ).all()
    linked = {
        pair.first_id if pair.second_id == target.id else pair.second_id
        for pair in db.session.scalars(
            select(ProjectPair).where((ProjectPair.first_id == target.id) | (ProjectPair.second_id == target.id))
        )
    }
    for pair in pairs:
        other = pair.second_id if pair.first_id == source.id else pair.first_id
        if other in (target.id, *linked):
            continue
        first, second = sorted((other, target.id))
        db.session.add(ProjectPair(first_id=first, second_id=second, kind="related", created_by_id=actor.id))
        linked.add(other)


def _ask_pledgers(source: Project, target: Project, now) -> dict[User, list[Pledge]]:
    """Ask about each counted pledge to the merged project; {pledger: their pledges} to email."""
    pledges = db.session.scalars(
        select(Pledge)
        .options(joinedload(Pledge.pledged_by), joinedload(Pledge.council))
        .where(Pledge.project_id == source.id, Pledge.state.in_(COUNTED_STATES))
        .order_by(Pledge.id)
    ).all()
    asked: dict[User, list[Pledge]] = {}
    for pledge in pledges:
        db.session.add(
            PledgeMove(pledge_id=pledge.id, from_project_id=source.id, to_project_id=target.id, asked_at=now)
        )
        asked.setdefault(pledge.pledged_by, []).append(pledge)
    return asked


def _base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def _ask_email(pledger: User, pledges: list[Pledge], source: Project, target: Project) -> None:
    body = render_template(
        "email/pledge_move_asked.txt",
        pledger=pledger,
        pledges=pledges,
        source=source,
        target=target,
        link=f"{_base_url()}/my-pledges#moves",
        target_link=f"{_base_url()}/projects/{target.slug}",
    )
    queue_email(pledger.email, f"Move your pledge from {source.title} to {target.title}?", body)


# ---- pledges asked to move ------------------------------------------------------------------


def waiting_moves(user: User | None) -> list[PledgeMove]:
    """The officer's pledges waiting for them to say whether they move: one statement."""
    if user is None or not user.is_authenticated:
        return []
    return list(
        db.session.scalars(
            select(PledgeMove)
            .join(Pledge, Pledge.id == PledgeMove.pledge_id)
            .options(
                joinedload(PledgeMove.pledge).joinedload(Pledge.council),
                joinedload(PledgeMove.from_project),
                joinedload(PledgeMove.to_project),
            )
            .where(Pledge.pledged_by_id == user.id, PledgeMove.state == "asked")
            .order_by(PledgeMove.id)
        )
    )


def decide_move(user: User, move_id: int, accept: bool) -> PledgeMove:
    """The officer who made a pledge says whether it moves to the project its project was merged into."""
    require_signed_in(user)
    begin_write()
    move = db.session.scalar(
        select(PledgeMove)
        .options(
            joinedload(PledgeMove.pledge).joinedload(Pledge.council),
            joinedload(PledgeMove.from_project),
            joinedload(PledgeMove.to_project),
        )
        .where(PledgeMove.id == move_id)
        .with_for_update(of=PledgeMove)
    )
    if move is None:
        raise NotFound()
    pledge = db.session.scalar(select(Pledge).where(Pledge.id == move.pledge_id).with_for_update())
    if not is_pledger(user, pledge):
        raise PermissionDenied("Only the officer who made the pledge can decide whether it moves.")
    source, target = move.from_project, move.to_project
    if move.state != "asked":
        where = target.title if move.state == "accepted" else source.title
        raise InvalidInput(f"You have already decided: the pledge is on {where}")
    actor = db.session.get(User, user.id)
    now = utcnow()
    if accept:
        if pledge.project_id != source.id:
            raise InvalidInput(f"This pledge is no longer on {source.title}, so it cannot move")
        if target.is_closed or target.is_merged:
            raise InvalidInput(f"{target.title} has closed, so the pledge cannot move to it. It stays where it is")
        _move_pledge(pledge, source, target, actor)
    move.state, move.decided_at, move.decided_by_id = ("accepted" if accept else "declined"), now, actor.id
    db.session.commit()
    return move


def _move_pledge(pledge: Pledge, source: Project, target: Project, actor: User) -> None:
    # A people pledge answers the ask on the project it is on: the same role on the other project, if it asks for it.
    if pledge.kind == "people":
        pledge.need_id = db.session.scalar(
            select(PeopleNeed.id)
            .where(PeopleNeed.project_id == target.id, func.lower(PeopleNeed.role) == pledge.role.lower())
            .order_by(PeopleNeed.id)
            .limit(1)
        )
    pledge.project_id = target.id
    pledge.updated_at = utcnow()
    council = pledge.council.name
    for project_id, reason in (
        (source.id, f"Moved to {target.title}, which this project was merged into. {council} agreed."),
        (target.id, f"Moved from {source.title}, which was merged into this project. {council} agreed."),
    ):
        db.session.add(
            PledgeEvent(
                pledge_id=pledge.id,
                project_id=project_id,
                actor_id=actor.id,
                action="moved",
                from_state=pledge.state,
                to_state=pledge.state,
                changes={},
                reason=reason,
                description=pledge.description[:300],
            )
        )
    activity.record(
        "pledge_moved",
        target,
        actor,
        f"{council} moved its pledge of {pledge.description} from {source.title} to {target.title}",
        "pledge",
        pledge.id,
        council_id=pledge.council_id,
    )
