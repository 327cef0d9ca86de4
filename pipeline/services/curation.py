"""Organisers' work: email domains, organisations, roles, suspensions, featuring and themes.

Every action here is an organiser's or admin's, checked here, and written to the audit log
in the same transaction. The workbench's queues are in `workbench`.
"""

import re

from flask import current_app, render_template
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.models import (
    NATIONS,
    ROLES,
    Council,
    CouncilDomain,
    DomainRequest,
    Project,
    ProjectCouncil,
    Theme,
    User,
)
from pipeline.models.user import new_session_token
from pipeline.services import audit
from pipeline.services.errors import InvalidInput, NotFound, PermissionDenied
from pipeline.services.outbox import queue_email
from pipeline.services.reference_data import slugify
from pipeline.timeutil import utcnow

DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def require_organiser(user: User | None) -> User:
    if user is None or not user.is_authenticated or not user.is_organiser:
        raise PermissionDenied("Only organisers can do that.")
    return user


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise InvalidInput("Reason must be 2,000 characters or fewer", field="reason")
    return reason


# ---- email domains and organisations ------------------------------------------------------


def normalise_domain(text: str) -> str:
    domain = (text or "").strip().lower().removeprefix("@").removeprefix("www.")
    if not DOMAIN.match(domain):
        raise InvalidInput("Enter a domain like leeds.gov.uk, without @ or https://", field="domain")
    return domain


def add_domain(actor: User, council_id: int, text: str, shared: bool = False, reason: str = "") -> CouncilDomain:
    """Add an email domain to a council; tell anyone waiting on it that they can now register."""
    require_organiser(actor)
    domain = normalise_domain(text)
    reason = _reason(reason)
    begin_write()
    council = db.session.get(Council, council_id)
    if council is None:
        raise NotFound()
    owners = db.session.scalars(
        select(Council).join(CouncilDomain).where(CouncilDomain.domain == domain).order_by(Council.name)
    ).all()
    if council in owners:
        raise InvalidInput(f"{council.name} already has the domain {domain}", field="domain")
    if owners and not shared:
        names = ", ".join(c.name for c in owners)
        raise InvalidInput(
            f"{domain} already belongs to {names}. If the councils really share it, tick the box to say so",
            field="domain",
        )
    record = CouncilDomain(domain=domain, council_id=council.id)
    db.session.add(record)
    db.session.flush()
    audit.record(actor, "domain_added", "council", council.id, council.name, reason, domain=domain, shared=bool(owners))
    waiting = db.session.scalars(
        select(DomainRequest).where(DomainRequest.domain == domain, DomainRequest.resolved_at.is_(None))
    ).all()
    for request in waiting:
        request.resolved_at = utcnow()
        request.resolution = "added"
        body = render_template(
            "email/domain_added.txt", request=request, council=council, base_url=current_app.config["BASE_URL"]
        )
        queue_email(request.email, "You can now create a Pipeline account", body)
    db.session.commit()
    return record


def remove_domain(actor: User, council_id: int, domain: str, reason: str = "") -> None:
    """Remove an email domain from a council. Existing accounts stay; nobody new can register with it."""
    require_organiser(actor)
    reason = _reason(reason)
    begin_write()
    record = db.session.scalar(
        select(CouncilDomain)
        .options(selectinload(CouncilDomain.council))
        .where(CouncilDomain.council_id == council_id, CouncilDomain.domain == domain)
    )
    if record is None:
        raise InvalidInput("That council does not have that domain", field="domain")
    audit.record(actor, "domain_removed", "council", council_id, record.council.name, reason, domain=domain)
    db.session.delete(record)
    db.session.commit()


def request_domain(email: str, name: str, council_name: str) -> DomainRequest:
    """Someone whose email domain no council has asks organisers to add it."""
    from pipeline.services.accounts import email_domain, normalise_email

    email = normalise_email(email)
    name, council_name = name.strip(), council_name.strip()
    if not council_name:
        raise InvalidInput("Enter the name of the council or organisation you work for", field="council_name")
    if len(council_name) > 200 or len(name) > 100:
        raise InvalidInput("Council name must be 200 characters or fewer", field="council_name")
    begin_write()
    existing = db.session.scalar(select(DomainRequest).where(DomainRequest.email == email))
    if existing is not None:
        existing.name, existing.council_name = name or existing.name, council_name
        existing.resolved_at, existing.resolution = None, ""
        db.session.commit()
        return existing
    request = DomainRequest(email=email, domain=email_domain(email), name=name, council_name=council_name)
    db.session.add(request)
    db.session.commit()
    return request


def get_domain_request(request_id: int) -> DomainRequest:
    """A request that is still waiting."""
    request = db.session.get(DomainRequest, request_id)
    if request is None or request.resolved_at is not None:
        raise NotFound()
    return request


def dismiss_domain_request(actor: User, request_id: int, reason: str = "") -> None:
    require_organiser(actor)
    reason = _reason(reason)
    begin_write()
    request = db.session.get(DomainRequest, request_id)
    if request is None:
        raise NotFound()
    if request.resolved_at is not None:
        raise InvalidInput("That request has already been dealt with")
    request.resolved_at, request.resolution = utcnow(), "dismissed"
    audit.record(actor, "domain_request_dismissed", "domain_request", request.id, request.domain, reason)
    db.session.commit()


def add_organisation(actor: User, name: str, nation: str, region: str, domain: str = "", reason: str = "") -> Council:
    """Add an organisation that is not on the council register, such as a national body."""
    require_organiser(actor)
    name, region = (name or "").strip(), (region or "").strip()
    reason = _reason(reason)
    if not name:
        raise InvalidInput("Enter the organisation's name", field="name")
    if len(name) > 200:
        raise InvalidInput("Name must be 200 characters or fewer", field="name")
    if nation not in NATIONS:
        raise InvalidInput("Select the nation the organisation works in", field="nation")
    domain = normalise_domain(domain) if domain.strip() else ""
    begin_write()
    slug = slugify(name)
    if db.session.scalar(select(Council.id).where(or_(Council.slug == slug, func.lower(Council.name) == name.lower()))):
        raise InvalidInput(f"There is already an organisation called {name}", field="name")
    if domain and db.session.scalar(select(CouncilDomain.id).where(CouncilDomain.domain == domain)):
        raise InvalidInput(f"{domain} already belongs to another organisation", field="domain")
    count = db.session.scalar(select(func.count()).select_from(Council).where(Council.code.like("ORG%")))
    organisation = Council(
        code=f"ORG{count + 1}",
        name=name,
        slug=slug,
        type="Other organisation",
        nation=nation,
        region=region or nation,
    )
    db.session.add(organisation)
    db.session.flush()
    if domain:
        db.session.add(CouncilDomain(domain=domain, council_id=organisation.id))
    audit.record(actor, "organisation_added", "council", organisation.id, name, reason, domain=domain)
    db.session.commit()
    return organisation


# ---- people ---------------------------------------------------------------------------------


def find_people(query: str, limit: int = 25) -> list[User]:
    query = (query or "").strip().lower()
    if not query:
        return []
    pattern = f"%{query}%"
    return list(
        db.session.scalars(
            select(User)
            .options(selectinload(User.council))
            .where(or_(func.lower(User.email).like(pattern), func.lower(User.name).like(pattern)))
            .order_by(User.name)
            .limit(limit)
        )
    )


def get_person(user_id: int) -> User:
    user = db.session.scalar(select(User).options(selectinload(User.council)).where(User.id == user_id))
    if user is None:
        raise NotFound()
    return user


def set_role(actor: User, user_id: int, role: str, reason: str = "") -> User:
    """Organisers grant and remove the organiser role; only admins change who is an admin; the last admin stays."""
    require_organiser(actor)
    reason = _reason(reason)
    if role not in ROLES:
        raise InvalidInput("Select a role", field="role")
    begin_write()
    person = db.session.get(User, user_id)
    if person is None:
        raise NotFound()
    if person.role == role:
        raise InvalidInput(f"{person.name} is already {'an' if role[0] in 'aeiou' else 'a'} {role}", field="role")
    if "admin" in (role, person.role) and not actor.is_admin:
        raise PermissionDenied("Only an admin can make someone an admin or remove an admin.")
    if person.role == "admin":
        admins = db.session.scalar(
            select(func.count()).select_from(User).where(User.role == "admin", User.suspended_at.is_(None))
        )
        if admins <= 1:
            raise InvalidInput("Pipeline must keep at least one admin. Make someone else an admin first", field="role")
    audit.record(actor, "role_changed", "user", person.id, person.name, reason, before=person.role, after=role)
    person.role = role
    db.session.commit()
    return person


def suspend(actor: User, user_id: int, reason: str) -> User:
    """Stop an account signing in or acting, and end its sessions. What it wrote stays unless hidden."""
    require_organiser(actor)
    reason = _reason(reason)
    if not reason:
        raise InvalidInput("Enter the reason for suspending the account", field="reason")
    begin_write()
    person = db.session.get(User, user_id)
    if person is None:
        raise NotFound()
    if person.id == actor.id:
        raise InvalidInput("You cannot suspend your own account", field="reason")
    if person.suspended_at is not None:
        raise InvalidInput(f"{person.name}'s account is already suspended", field="reason")
    if person.role == "admin" and not actor.is_admin:
        raise PermissionDenied("Only an admin can suspend an admin.")
    person.suspended_at = utcnow()
    person.session_token = new_session_token()
    audit.record(actor, "account_suspended", "user", person.id, person.name, reason)
    db.session.commit()
    return person


def restore(actor: User, user_id: int, reason: str = "") -> User:
    require_organiser(actor)
    reason = _reason(reason)
    begin_write()
    person = db.session.get(User, user_id)
    if person is None:
        raise NotFound()
    if person.suspended_at is None:
        raise InvalidInput(f"{person.name}'s account is not suspended", field="reason")
    person.suspended_at = None
    audit.record(actor, "account_restored", "user", person.id, person.name, reason)
    db.session.commit()
    return person


# ---- featuring and themes -------------------------------------------------------------------


def set_featured(actor: User, project_id: int, featured: bool, reason: str = "") -> Project:
    require_organiser(actor)
    reason = _reason(reason)
    begin_write()
    project = db.session.get(Project, project_id)
    if project is None:
        raise NotFound()
    if featured and project.is_merged:
        raise InvalidInput("That project has been merged into another. Feature the project it was merged into")
    if featured == (project.featured_at is not None):
        raise InvalidInput("That project is already featured" if featured else "That project is not featured")
    project.featured_at = utcnow() if featured else None
    action = "project_featured" if featured else "project_unfeatured"
    audit.record(actor, action, "project", project.id, project.title, reason)
    db.session.commit()
    return project


def featured_projects(limit: int = 6) -> list[Project]:
    return list(
        db.session.scalars(
            select(Project)
            .options(selectinload(Project.councils).selectinload(ProjectCouncil.council))
            .where(Project.featured_at.is_not(None))
            .order_by(Project.featured_at.desc())
            .limit(limit)
        )
    )


def _check_theme(title: str, description: str) -> tuple[str, str]:
    title, description = (title or "").strip(), (description or "").strip()
    if not title:
        raise InvalidInput("Enter a title for the theme", field="title")
    if len(title) > 150:
        raise InvalidInput("Title must be 150 characters or fewer", field="title")
    if len(description) > 5000:
        raise InvalidInput("Description must be 5,000 characters or fewer", field="description")
    return title, description


def create_theme(actor: User, title: str, description: str) -> Theme:
    require_organiser(actor)
    title, description = _check_theme(title, description)
    begin_write()
    slug = slugify(title)[:100] or "theme"
    if db.session.scalar(select(Theme.id).where(Theme.slug == slug)):
        raise InvalidInput("There is already a theme with that title", field="title")
    theme = Theme(slug=slug, title=title, description=description)
    db.session.add(theme)
    db.session.flush()
    audit.record(actor, "theme_created", "theme", theme.id, title)
    db.session.commit()
    return theme


def edit_theme(actor: User, theme_id: int, title: str, description: str) -> Theme:
    require_organiser(actor)
    title, description = _check_theme(title, description)
    begin_write()
    theme = db.session.get(Theme, theme_id)
    if theme is None:
        raise NotFound()
    audit.record(actor, "theme_edited", "theme", theme.id, title, before=theme.title)
    theme.title, theme.description, theme.updated_at = title, description, utcnow()
    db.session.commit()
    return theme


def set_theme_project(actor: User, theme_id: int, project_slug: str, include: bool) -> Theme:
    require_organiser(actor)
    begin_write()
    theme = db.session.scalar(select(Theme).options(selectinload(Theme.projects)).where(Theme.id == theme_id))
    if theme is None:
        raise NotFound()
    project = db.session.scalar(select(Project).where(Project.slug == (project_slug or "").strip()))
    if project is None:
        raise InvalidInput("Enter the web address or short name of a project on Pipeline", field="project")
    if include and project.is_merged:
        raise InvalidInput(
            "That project has been merged into another. Add the project it was merged into", field="project"
        )
    if include == (project in theme.projects):
        raise InvalidInput("That project is already in the theme" if include else "That project is not in the theme")
    if include:
        theme.projects.append(project)
    else:
        theme.projects.remove(project)
    theme.updated_at = utcnow()
    action = "theme_project_added" if include else "theme_project_removed"
    audit.record(actor, action, "theme", theme.id, theme.title, project=project.title)
    db.session.commit()
    return theme


def themes() -> list[Theme]:
    return list(db.session.scalars(select(Theme).order_by(Theme.title)))


def get_theme(slug: str) -> Theme:
    theme = db.session.scalar(
        select(Theme)
        .options(selectinload(Theme.projects).selectinload(Project.councils).selectinload(ProjectCouncil.council))
        .where(Theme.slug == slug)
    )
    if theme is None:
        raise NotFound()
    return theme
