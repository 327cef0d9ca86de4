"""Atom feeds, read from the activity log, so every new kind of activity appears in them by itself.

Each feed runs a fixed number of SQL statements: one to find what it is about (a project,
council, service or tag), one for its entries with their projects, and one for each kind
of subject that can stop being public (see open_data.FEED_HIDDEN_SUBJECTS).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app, url_for
from sqlalchemy import select

from pipeline.extensions import db
from pipeline.models import ACTIVITY_KINDS, Activity, Council, Project, ProjectCouncil, ProjectService, ProjectTag, Tag
from pipeline.services import open_data, project_lists
from pipeline.services.errors import NotFound
from pipeline.services.public_data import TAKING_PART

FEED_SIZE = 50
# Feeds began in 2026: the date part of every tag: URI that identifies a feed or an entry.
TAG_DATE = "2026"
# The updated time of a feed with no entries yet.
EPOCH = datetime(2026, 1, 1)


@dataclass
class Entry:
    id: str
    title: str
    summary: str
    url: str
    kind: str
    kind_label: str
    published: datetime


@dataclass
class Feed:
    id: str
    title: str
    subtitle: str
    self_url: str
    page_url: str
    entries: list[Entry]

    @property
    def updated(self) -> datetime:
        return max((e.published for e in self.entries), default=EPOCH)


def tag_uri(specific: str) -> str:
    """A permanent identifier (RFC 4151) under the service's own domain."""
    authority = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    return f"tag:{authority},{TAG_DATE}:{specific}"


def _entries(condition, *, new_projects: bool = False) -> list[Entry]:
    rows = db.session.execute(
        select(Activity, Project)
        .join(Project, Project.id == Activity.project_id)
        .where(condition, Activity.kind.not_in(open_data.FEED_HIDDEN_KINDS))
        .order_by(Activity.created_at.desc(), Activity.id.desc())
        .limit(FEED_SIZE)
    ).all()
    subjects = defaultdict(set)
    for activity, _ in rows:
        if activity.subject_type in open_data.FEED_HIDDEN_SUBJECTS and activity.subject_id is not None:
            subjects[activity.subject_type].add(activity.subject_id)
    hidden = {kind: open_data.FEED_HIDDEN_SUBJECTS[kind](ids) for kind, ids in subjects.items()}
    entries = []
    for activity, project in rows:
        if activity.subject_id in hidden.get(activity.subject_type, ()):
            continue
        link = open_data.FEED_ANCHORS.get(activity.subject_type) if activity.subject_id is not None else None
        link = link or open_data.FeedLink()
        values = {link.id_argument: activity.subject_id} if link.id_argument else {}
        label = ACTIVITY_KINDS.get(activity.kind, activity.kind.replace("_", " ").capitalize())
        entries.append(
            Entry(
                id=tag_uri(f"activity/{activity.id}"),
                title=project.title if new_projects else f"{label}: {project.title}",
                summary=project.summary if new_projects else activity.summary,
                url=url_for(
                    link.endpoint,
                    slug=project.slug,
                    _anchor=link.anchor.format(id=activity.subject_id) if link.anchor else None,
                    _external=True,
                    **values,
                ),
                kind=activity.kind,
                kind_label=label,
                published=activity.created_at,
            )
        )
    return entries


def _feed(specific: str, title: str, subtitle: str, endpoint: str, page_url: str, entries, **values) -> Feed:
    return Feed(
        id=tag_uri(specific),
        title=title,
        subtitle=subtitle,
        self_url=url_for(endpoint, _external=True, **values),
        page_url=page_url,
        entries=entries,
    )


def new_projects_feed() -> Feed:
    """Every project as it is posted, newest first."""
    return _feed(
        "feeds/projects",
        "New projects on Pipeline",
        "Projects councils have posted on Pipeline, newest first.",
        "opendata.new_projects_feed",
        url_for("projects.index", sort="newest", _external=True),
        _entries(Activity.kind == "project_posted", new_projects=True),
    )


def project_feed(slug: str) -> Feed:
    """Everything that happens on one project: phase changes, edits, and each kind recorded later."""
    project = db.session.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        raise NotFound()
    return _feed(
        f"feeds/project/{project.id}",
        f"{project.title}: activity on Pipeline",
        f"What happens on {project.title}, newest first.",
        "opendata.project_feed",
        url_for("projects.show", slug=project.slug, _external=True),
        _entries(Activity.project_id == project.id),
        slug=slug,
    )


def council_feed(slug: str) -> Feed:
    """Activity on every project a council takes part in."""
    council = db.session.scalar(select(Council).where(Council.slug == slug))
    if council is None:
        raise NotFound()
    projects = select(ProjectCouncil.project_id).where(ProjectCouncil.council_id == council.id, TAKING_PART)
    return _feed(
        f"feeds/council/{council.code}",
        f"{council.name}: projects on Pipeline",
        f"What happens on the projects {council.name} takes part in, newest first.",
        "opendata.council_feed",
        url_for("councils.show", slug=council.slug, _external=True),
        _entries(Activity.project_id.in_(projects)),
        slug=slug,
    )


def service_feed(lgsl_id: int) -> Feed:
    """Activity on every project working on an LGSL service."""
    service = project_lists.get_service(lgsl_id)
    if service is None:
        raise NotFound()
    projects = select(ProjectService.project_id).where(ProjectService.service_id == service.id)
    return _feed(
        f"feeds/service/{service.id}",
        f"{service.label}: projects on Pipeline",
        f"What happens on projects working on {service.label} (LGSL {service.id}), newest first.",
        "opendata.service_feed",
        url_for("services.show", lgsl_id=service.id, _external=True),
        _entries(Activity.project_id.in_(projects)),
        lgsl_id=lgsl_id,
    )


def tag_feed(slug: str) -> Feed:
    """Activity on every project with a tag."""
    tag = db.session.scalar(select(Tag).where(Tag.slug == slug))
    if tag is None:
        raise NotFound()
    projects = select(ProjectTag.project_id).where(ProjectTag.tag_id == tag.id)
    return _feed(
        f"feeds/tag/{tag.slug}",
        f"Projects tagged {tag.name} on Pipeline",
        f"What happens on projects tagged {tag.name}, newest first.",
        "opendata.tag_feed",
        url_for("projects.index", tag=tag.slug, dormant="include", _external=True),
        _entries(Activity.project_id.in_(projects)),
        slug=slug,
    )
