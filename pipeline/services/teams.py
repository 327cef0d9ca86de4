"""Co-owning a project: join requests, the team, partner councils, check-ins and the daily reminders."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app, render_template
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.models import CLOSED_PHASES, Council, JoinRequest, Project, ProjectCouncil, ProjectMember, User
from pipeline.models.project import JOIN_REMINDER_DAYS
from pipeline.services import activity, search
from pipeline.services.errors import InvalidInput, NotFound, PermissionDenied
from pipeline.services.outbox import queue_email
from pipeline.services.permissions import (
    can_edit_project,
    can_manage_team,
    is_team_member,
    require_council_officer,
    require_edit,
    require_signed_in,
    require_team_manager,
)
from pipeline.services.projects import dormant_before, mark_active
from pipeline.timeutil import utcnow

JOIN_MESSAGE_MAX = 500
# After a decline the same officer may ask again only after this long, so owners are not asked over and over.
ASK_AGAIN_AFTER_DAYS = 30
PARTNER_ROLE_LABELS = {"partner": "Partner", "observer": "Observer"}
CHECK_IN_SALT = "check-in"
CHECK_IN_LINK_DAYS = 30


# ---- reading --------------------------------------------------------------------------------


@dataclass
class Viewer:
    """What the person looking at a project page may do about its team."""

    signed_in: bool = False
    on_team: bool = False
    can_manage: bool = False
    own_request: JoinRequest | None = None
    waiting_requests: int = 0
    waiting_long: int = 0

    @property
    def pending(self) -> bool:
        return self.own_request is not None and self.own_request.state == "pending"

    @property
    def ask_again_on(self) -> datetime | None:
        """When an officer whose request was declined may ask again, if that is still to come."""
        request = self.own_request
        if request is None or request.state != "declined" or request.decided_at is None:
            return None
        again = request.decided_at + timedelta(days=ASK_AGAIN_AFTER_DAYS)
        return again if again > utcnow() else None


def waiting_long_before() -> datetime:
    return utcnow() - timedelta(days=JOIN_REMINDER_DAYS)


def viewer(user: User | None, project: Project) -> Viewer:
    """The viewer's own latest join request, or for the team how many requests are waiting."""
    if user is None or not user.is_authenticated:
        return Viewer()
    on_team = is_team_member(user, project)
    result = Viewer(signed_in=True, on_team=on_team, can_manage=can_manage_team(user, project))
    if on_team or user.is_organiser:
        waiting, waiting_long = db.session.execute(
            select(func.count(), func.count().filter(JoinRequest.created_at < waiting_long_before())).where(
                JoinRequest.project_id == project.id, JoinRequest.state == "pending"
            )
        ).one()
        result.waiting_requests, result.waiting_long = waiting, waiting_long
    if not on_team:
        result.own_request = db.session.scalar(
            select(JoinRequest)
            .where(JoinRequest.project_id == project.id, JoinRequest.user_id == user.id)
            .order_by(JoinRequest.id.desc())
            .limit(1)
        )
    return result


@dataclass
class TeamPage:
    project: Project
    viewer: Viewer
    can_edit: bool
    join_requests: list[JoinRequest] = field(default_factory=list)
    councils: list[Council] = field(default_factory=list)

    @property
    def taking_part(self) -> list[ProjectCouncil]:
        return [p for p in self.project.councils if p.state != "requested"]

    @property
    def council_requests(self) -> list[ProjectCouncil]:
        return [p for p in self.project.councils if p.state == "requested"]

    @property
    def owner_count(self) -> int:
        return sum(1 for m in self.project.members if m.role == "owner")

    def own_council(self, user: User | None) -> ProjectCouncil | None:
        """The viewer's council's place on the project, if it has one."""
        if user is None or not user.is_authenticated:
            return None
        return next((p for p in self.project.councils if p.council_id == user.council_id), None)


def team_page(user: User | None, slug: str) -> TeamPage:
    """Everything the team page shows, in a fixed number of statements."""
    project = db.session.scalar(
        select(Project)
        .options(
            selectinload(Project.lead_council),
            selectinload(Project.councils).selectinload(ProjectCouncil.council),
            selectinload(Project.councils).selectinload(ProjectCouncil.added_by),
            selectinload(Project.members).selectinload(ProjectMember.user).selectinload(User.council),
        )
        .where(Project.slug == slug)
    )
    if project is None:
        raise NotFound()
    page = TeamPage(project=project, viewer=viewer(user, project), can_edit=can_edit_project(user, project))
    if page.can_edit:
        page.join_requests = list(
            db.session.scalars(
                select(JoinRequest)
                .options(selectinload(JoinRequest.user).selectinload(User.council))
                .where(JoinRequest.project_id == project.id, JoinRequest.state == "pending")
                .order_by(JoinRequest.created_at, JoinRequest.id)
            )
        )
        taking_part = {p.council_id for p in project.councils}
        councils = db.session.scalars(select(Council).order_by(Council.name))
        page.councils = [council for council in councils if council.id not in taking_part]
    return page


def is_waiting_long(request: JoinRequest) -> bool:
    return request.state == "pending" and request.created_at < waiting_long_before()


# ---- helpers for writing --------------------------------------------------------------------


def _lock_project(project_id: int) -> Project:
    """The project with its team and councils, locked so concurrent team changes queue behind each other."""
    project = db.session.scalar(
        select(Project)
        .options(
            selectinload(Project.members).selectinload(ProjectMember.user),
            selectinload(Project.councils).selectinload(ProjectCouncil.council),
        )
        .where(Project.id == project_id)
        .with_for_update()
    )
    if project is None:
        raise NotFound()
    return project


def _owners(project: Project) -> list[User]:
    return [m.user for m in project.members if m.role == "owner"]


def _link(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def _email(recipient: User, subject: str, template: str, headers: dict | None = None, **context) -> None:
    body = render_template(f"email/{template}.txt", base_url=current_app.config["BASE_URL"], **context)
    queue_email(recipient.email, subject, body, headers=headers)


def _check_message(message: str) -> str:
    message = message.strip()
    if not message:
        raise InvalidInput("Enter a short message to the team saying why you want to join", field="message")
    if len(message) > JOIN_MESSAGE_MAX:
        raise InvalidInput(f"Message must be {JOIN_MESSAGE_MAX} characters or fewer", field="message")
    return message


def _add_council(project: Project, council_id: int, role: str, state: str, user: User) -> ProjectCouncil:
    partner = ProjectCouncil(council_id=council_id, role=role, state=state, added_by_id=user.id)
    project.councils.append(partner)
    db.session.flush()
    return partner


def _councils_changed(project: Project) -> None:
    """A project's search document and facet key name the councils taking part: bring them up to date."""
    db.session.flush()
    search.index_project(project)


def _record_council_joined(project: Project, partner: ProjectCouncil, actor: User) -> None:
    _councils_changed(project)
    activity.record(
        "council_joined",
        project,
        actor,
        f"{partner.council.name} joined {project.title} as {partner.role}",
        "project_council",
        partner.id,
        council_id=partner.council_id,
    )


# ---- joining the team -----------------------------------------------------------------------


def request_to_join(user: User, project_id: int, message: str) -> JoinRequest:
    """An officer asks to join a project's team; its owners are emailed."""
    require_signed_in(user)
    message = _check_message(message)
    begin_write()
    project = _lock_project(project_id)
    user = db.session.get(User, user.id)
    if project.is_closed:
        raise InvalidInput(f"This project has {project.phase}, so it is not taking new team members")
    if is_team_member(user, project):
        raise InvalidInput("You are already on this project's team")
    latest = db.session.scalar(
        select(JoinRequest)
        .where(JoinRequest.project_id == project.id, JoinRequest.user_id == user.id)
        .order_by(JoinRequest.id.desc())
        .limit(1)
    )
    if latest is not None and latest.state == "pending":
        raise InvalidInput("You have already asked to join this project. The team has not decided yet")
    if latest is not None and latest.state == "declined" and latest.decided_at is not None:
        again = latest.decided_at + timedelta(days=ASK_AGAIN_AFTER_DAYS)
        if again > utcnow():
            raise InvalidInput(
                f"The team declined your request to join. You can ask again from {again.day} {again:%B %Y}"
            )
    join_request = JoinRequest(project_id=project.id, user_id=user.id, message=message)
    db.session.add(join_request)
    db.session.flush()
    activity.record(
        "join_requested",
        project,
        user,
        f"{user.name} asked to join the team of {project.title}",
        "join_request",
        join_request.id,
    )
    for owner in _owners(project):
        _email(
            owner,
            f"{user.name} asked to join {project.title}",
            "join_requested",
            headers={"Reply-To": user.email},
            owner=owner,
            requester=user,
            project=project,
            message=message,
            link=_link(f"/projects/{project.slug}/team#requests"),
        )
    db.session.commit()
    return join_request


def withdraw_join_request(user: User, project_id: int) -> JoinRequest:
    """An officer takes back their own request to join before the team decides."""
    require_signed_in(user)
    begin_write()
    project = _lock_project(project_id)
    join_request = db.session.scalar(
        select(JoinRequest).where(
            JoinRequest.project_id == project.id, JoinRequest.user_id == user.id, JoinRequest.state == "pending"
        )
    )
    if join_request is None:
        raise InvalidInput("You have no request to join this project waiting")
    join_request.state = "withdrawn"
    join_request.decided_at = utcnow()
    join_request.decided_by_id = user.id
    db.session.commit()
    return join_request


def decide_join_request(user: User, project_id: int, request_id: int, accept: bool) -> JoinRequest:
    """An owner (or organiser) accepts or declines a request to join; the requester is emailed."""
    require_signed_in(user)
    begin_write()
    project = _lock_project(project_id)
    require_team_manager(user, project)
    join_request = db.session.scalar(
        select(JoinRequest)
        .options(selectinload(JoinRequest.user).selectinload(User.council))
        .where(JoinRequest.id == request_id, JoinRequest.project_id == project.id)
    )
    if join_request is None:
        raise NotFound()
    if join_request.state != "pending":
        raise InvalidInput(f"This request has already been {join_request.state}")
    decider = db.session.get(User, user.id)
    requester = join_request.user
    join_request.state = "accepted" if accept else "declined"
    join_request.decided_at = utcnow()
    join_request.decided_by_id = decider.id
    if accept:
        _accept_member(project, requester, decider)
    _email(
        requester,
        f"Your request to join {project.title} was {join_request.state}",
        "join_decided",
        requester=requester,
        project=project,
        accepted=accept,
        link=_link(f"/projects/{project.slug}"),
    )
    db.session.commit()
    return join_request


def _accept_member(project: Project, requester: User, decider: User) -> None:
    if not is_team_member(requester, project):
        member = ProjectMember(user_id=requester.id, role="member")
        project.members.append(member)
        db.session.flush()
        activity.record(
            "member_joined",
            project,
            requester,
            f"{requester.name} joined the team of {project.title}",
            "project_member",
            member.id,
            accepted_by=decider.id,
        )
    partner = next((p for p in project.councils if p.council_id == requester.council_id), None)
    if partner is None:
        partner = _add_council(project, requester.council_id, "partner", "interested", decider)
        _record_council_joined(project, partner, decider)
    elif partner.state == "requested":
        # The council had asked to take part; a member from it joining settles that.
        partner.state = "interested"
        _record_council_joined(project, partner, decider)


def _member(project: Project, member_id: int) -> ProjectMember:
    member = next((m for m in project.members if m.id == member_id), None)
    if member is None:
        raise NotFound()
    return member


def make_owner(user: User, project_id: int, member_id: int) -> ProjectMember:
    """An owner (or organiser) makes a team member an owner too."""
    require_signed_in(user)
    begin_write()
    project = _lock_project(project_id)
    require_team_manager(user, project)
    member = _member(project, member_id)
    if member.role == "owner":
        raise InvalidInput(f"{member.user.name} is already an owner")
    member.role = "owner"
    db.session.commit()
    return member


def remove_member(user: User, project_id: int, member_id: int) -> ProjectMember:
    """An owner (or organiser) removes someone from the team, or a member leaves it; never the last owner."""
    require_signed_in(user)
    begin_write()
    project = _lock_project(project_id)
    member = _member(project, member_id)
    if member.user_id != user.id:
        require_team_manager(user, project)
    owners = [m for m in project.members if m.role == "owner"]
    if member.role == "owner" and len(owners) == 1:
        raise InvalidInput("A project must always have an owner. Make someone else an owner first")
    project.members.remove(member)
    db.session.commit()
    return member


# ---- partner councils -----------------------------------------------------------------------


def _check_role(role: str) -> str:
    if role not in PARTNER_ROLE_LABELS:
        raise InvalidInput("Select whether the council is a partner or an observer", field="role")
    return role


def add_council(user: User, project_id: int, council_id: int | None, role: str) -> ProjectCouncil:
    """The team adds a council as a partner or observer; it is interested until its own officers commit."""
    require_signed_in(user)
    role = _check_role(role)
    begin_write()
    project = _lock_project(project_id)
    require_edit(user, project)
    council = db.session.get(Council, council_id) if council_id else None
    if council is None:
        raise InvalidInput("Select a council", field="council_id")
    existing = next((p for p in project.councils if p.council_id == council.id), None)
    if existing is not None and existing.state != "requested":
        raise InvalidInput(f"{council.name} is already taking part in this project", field="council_id")
    actor = db.session.get(User, user.id)
    if existing is not None:
        # It had asked to take part: adding it is saying yes.
        existing.role, existing.state = role, "interested"
        partner = existing
        _email_council_decision(project, partner, accepted=True)
    else:
        partner = _add_council(project, council.id, role, "interested", actor)
    _record_council_joined(project, partner, actor)
    db.session.commit()
    return partner


def ask_for_council(user: User, project_id: int, role: str) -> ProjectCouncil:
    """An officer asks for their own council to take part; the team decides and the owners are emailed."""
    require_signed_in(user)
    role = _check_role(role)
    begin_write()
    project = _lock_project(project_id)
    user = db.session.get(User, user.id)
    if project.is_closed:
        raise InvalidInput(f"This project has {project.phase}, so councils can no longer join it")
    existing = next((p for p in project.councils if p.council_id == user.council_id), None)
    if existing is not None and existing.state == "requested":
        raise InvalidInput(f"{user.council.name} has already asked to take part. The team has not decided yet")
    if existing is not None:
        raise InvalidInput(f"{user.council.name} is already taking part in this project")
    partner = _add_council(project, user.council_id, role, "requested", user)
    for owner in _owners(project):
        _email(
            owner,
            f"{user.council.name} asked to take part in {project.title}",
            "council_requested",
            headers={"Reply-To": user.email},
            owner=owner,
            requester=user,
            council=user.council,
            role=PARTNER_ROLE_LABELS[role].lower(),
            project=project,
            link=_link(f"/projects/{project.slug}/team#council-requests"),
        )
    db.session.commit()
    return partner


def _partner(project: Project, partner_id: int) -> ProjectCouncil:
    partner = next((p for p in project.councils if p.id == partner_id), None)
    if partner is None:
        raise NotFound()
    return partner


def _email_council_decision(project: Project, partner: ProjectCouncil, accepted: bool) -> None:
    requester = db.session.get(User, partner.added_by_id) if partner.added_by_id else None
    if requester is None:
        return
    decision = "accepted" if accepted else "declined"
    _email(
        requester,
        f"{partner.council.name}'s request to take part in {project.title} was {decision}",
        "council_decided",
        requester=requester,
        council=partner.council,
        partner_role=partner.role,
        project=project,
        accepted=accepted,
        link=_link(f"/projects/{project.slug}/team"),
    )


def decide_council_request(user: User, project_id: int, partner_id: int, accept: bool) -> ProjectCouncil:
    """The team says yes (the council becomes interested) or no (its request is removed) to a council's request."""
    require_signed_in(user)
    begin_write()
    project = _lock_project(project_id)
    require_edit(user, project)
    partner = _partner(project, partner_id)
    if partner.state != "requested":
        raise InvalidInput(f"{partner.council.name}'s request has already been accepted")
    _email_council_decision(project, partner, accepted=accept)
    if accept:
        partner.state = "interested"
        _record_council_joined(project, partner, db.session.get(User, user.id))
    else:
        project.councils.remove(partner)
    db.session.commit()
    return partner


def commit_council(user: User, project_id: int, partner_id: int) -> ProjectCouncil:
    """An officer of a taking-part council marks it committed: only that council's officers may."""
    require_signed_in(user)
    begin_write()
    project = _lock_project(project_id)
    partner = _partner(project, partner_id)
    require_council_officer(user, partner.council_id)
    if partner.state == "requested":
        raise InvalidInput(f"The team has not yet accepted {partner.council.name}'s request to take part")
    if partner.state == "committed":
        raise InvalidInput(f"{partner.council.name} is already committed to this project")
    partner.state = "committed"
    db.session.commit()
    return partner


def withdraw_council(user: User, project_id: int, partner_id: int) -> ProjectCouncil:
    """An officer of a council takes it out of a project (or takes back its request); never the lead council."""
    require_signed_in(user)
    begin_write()
    project = _lock_project(project_id)
    partner = _partner(project, partner_id)
    require_council_officer(user, partner.council_id)
    if partner.role == "lead":
        raise InvalidInput(
            f"{partner.council.name} leads this project. The team must choose another lead council before it can "
            "withdraw"
        )
    project.councils.remove(partner)
    _councils_changed(project)
    db.session.commit()
    return partner


# ---- freshness ------------------------------------------------------------------------------


def check_in(user: User, project_id: int) -> Project:
    """The team says the project is still active: it stops being dormant."""
    require_signed_in(user)
    begin_write()
    project = _lock_project(project_id)
    require_edit(user, project)
    _check_in(project, db.session.get(User, user.id))
    db.session.commit()
    return project


def _check_in(project: Project, actor: User) -> None:
    if project.is_closed:
        raise InvalidInput(f"This project has {project.phase}: there is nothing to check in")
    activity.record("checked_in", project, actor, f"{actor.name} confirmed {project.title} is still active")
    mark_active(project)


def _check_in_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CHECK_IN_SALT)


def check_in_token(project: Project, user: User) -> str:
    """A signed token for one owner to check one project in, for the "still active?" email."""
    return _check_in_serializer().dumps({"project": project.id, "user": user.id})


@dataclass
class CheckInLink:
    project: Project
    user: User
    issued_at: datetime

    @property
    def already_done(self) -> bool:
        """Someone has checked in (or updated the project) since the email was sent."""
        return self.project.active_at >= self.issued_at


def read_check_in_token(token: str) -> CheckInLink:
    """What a check-in link is for, without changing anything (mail scanners open links)."""
    bad = "This link is not valid. Check you copied the whole link from the email."
    try:
        data, issued = _check_in_serializer().loads(
            token, max_age=CHECK_IN_LINK_DAYS * 24 * 60 * 60, return_timestamp=True
        )
    except SignatureExpired:
        raise InvalidInput(
            "This link has expired. Sign in and use the Check in button on the project page instead."
        ) from None
    except BadSignature:
        raise InvalidInput(bad) from None
    if not isinstance(data, dict):
        raise InvalidInput(bad)
    project = db.session.scalar(
        select(Project).options(selectinload(Project.members)).where(Project.id == data.get("project"))
    )
    user = db.session.get(User, data.get("user")) if project is not None else None
    if project is None or user is None:
        raise InvalidInput(bad)
    if not is_team_member(user, project):
        raise PermissionDenied("You are no longer on this project's team, so this link no longer works.")
    return CheckInLink(project, user, issued.astimezone(UTC).replace(tzinfo=None))


def check_in_with_token(token: str) -> CheckInLink:
    """Check a project in from the link in a "still active?" email; a second use changes nothing."""
    begin_write()
    link = read_check_in_token(token)
    project = _lock_project(link.project.id)
    if not link.already_done:
        _check_in(project, link.user)
    db.session.commit()
    return link


@dataclass
class DailyReport:
    dormant_projects: int = 0
    join_reminders: int = 0


def ask_dormant_projects() -> int:
    """Ask the owners of each open project dormant for 90 days, once per dormant spell, if it is still active."""
    begin_write()
    projects = db.session.scalars(
        select(Project)
        .options(selectinload(Project.members).selectinload(ProjectMember.user))
        .where(
            Project.phase.not_in(CLOSED_PHASES),
            Project.active_at < dormant_before(),
            or_(Project.dormancy_notified_at.is_(None), Project.dormancy_notified_at < Project.active_at),
        )
        .order_by(Project.id)
        .with_for_update(of=Project)
    ).all()
    now = utcnow()
    for project in projects:
        for owner in _owners(project):
            _email(
                owner,
                f"Is {project.title} still active?",
                "still_active",
                owner=owner,
                project=project,
                link=_link(f"/check-in/{check_in_token(project, owner)}"),
                phase_link=_link(f"/projects/{project.slug}/phase"),
                days=CHECK_IN_LINK_DAYS,
            )
        project.dormancy_notified_at = now
    db.session.commit()
    return len(projects)


def remind_waiting_join_requests() -> int:
    """Remind owners, once, of each request to join that has waited 7 days."""
    begin_write()
    requests = db.session.scalars(
        select(JoinRequest)
        .options(
            selectinload(JoinRequest.user).selectinload(User.council),
            selectinload(JoinRequest.project).selectinload(Project.members).selectinload(ProjectMember.user),
        )
        .where(
            and_(
                JoinRequest.state == "pending",
                JoinRequest.created_at < waiting_long_before(),
                JoinRequest.reminded_at.is_(None),
            )
        )
        .order_by(JoinRequest.id)
        .with_for_update(of=JoinRequest)
    ).all()
    now = utcnow()
    for join_request in requests:
        project = join_request.project
        for owner in _owners(project):
            _email(
                owner,
                f"{join_request.user.name} is still waiting to join {project.title}",
                "join_reminder",
                headers={"Reply-To": join_request.user.email},
                owner=owner,
                requester=join_request.user,
                project=project,
                join_request=join_request,
                link=_link(f"/projects/{project.slug}/team#requests"),
            )
        join_request.reminded_at = now
    db.session.commit()
    return len(requests)


def run_daily() -> DailyReport:
    """The daily freshness jobs; running them again the same day sends nothing twice."""
    return DailyReport(dormant_projects=ask_dormant_projects(), join_reminders=remind_waiting_join_requests())
