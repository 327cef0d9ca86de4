"""The organiser workbench: what needs an organiser's attention, queue by queue.

The page and the organisers' daily email (`organiser_alerts`) read the same queues from here.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pipeline.extensions import db
from pipeline.models import CLOSED_PHASES, DomainRequest, JoinRequest, Project, User
from pipeline.models.project import JOIN_REMINDER_DAYS
from pipeline.services import duplicates, moderation, projects
from pipeline.services.duplicates import SuspectedPair
from pipeline.services.moderation import Reported
from pipeline.timeutil import utcnow

QUEUE_LIMIT = 50
# The queues, in the order the page and the email show them.
QUEUE_LABELS = {
    "reported": "Reported comments and updates",
    "duplicates": "Suspected duplicate projects",
    "domain_requests": "Officers waiting on an email domain",
    "waiting_joins": "Join requests waiting more than 7 days",
    "dormant": "Dormant projects",
}


@dataclass
class Queues:
    reported: list[Reported] = field(default_factory=list)
    duplicates: list[SuspectedPair] = field(default_factory=list)
    domain_requests: list[DomainRequest] = field(default_factory=list)
    waiting_joins: list[JoinRequest] = field(default_factory=list)
    dormant: list[Project] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in QUEUE_LABELS}


def dormant(limit: int = QUEUE_LIMIT) -> list[Project]:
    return list(
        db.session.scalars(
            select(Project)
            .options(selectinload(Project.lead_council))
            .where(
                Project.phase.not_in(CLOSED_PHASES),
                projects.listed(),
                Project.active_at < projects.dormant_before(),
            )
            .order_by(Project.active_at, Project.id)
            .limit(limit)
        )
    )


def waiting_joins(limit: int = QUEUE_LIMIT) -> list[JoinRequest]:
    return list(
        db.session.scalars(
            select(JoinRequest)
            .join(Project, Project.id == JoinRequest.project_id)
            .options(selectinload(JoinRequest.project), selectinload(JoinRequest.user).selectinload(User.council))
            .where(
                JoinRequest.state == "pending",
                JoinRequest.created_at < utcnow() - timedelta(days=JOIN_REMINDER_DAYS),
                projects.listed(),
            )
            .order_by(JoinRequest.created_at, JoinRequest.id)
            .limit(limit)
        )
    )


def domain_requests(limit: int = QUEUE_LIMIT) -> list[DomainRequest]:
    return list(
        db.session.scalars(
            select(DomainRequest)
            .where(DomainRequest.resolved_at.is_(None))
            .order_by(DomainRequest.created_at, DomainRequest.id)
            .limit(limit)
        )
    )


def queues(limit: int = QUEUE_LIMIT) -> Queues:
    """What needs an organiser's attention, oldest (or most alike) first, each queue capped."""
    return Queues(
        reported=moderation.reported(limit),
        duplicates=duplicates.suspected_pairs(limit),
        domain_requests=domain_requests(limit),
        waiting_joins=waiting_joins(limit),
        dormant=dormant(limit),
    )
