"""Every model, imported so that Alembic and the app see the whole schema."""

from pipeline.models.activity import ACTIVITY_KINDS, Activity
from pipeline.models.comment import Comment, CommentReport, CommentVersion
from pipeline.models.council import NATIONS, Council, CouncilDomain, Function, Service
from pipeline.models.curation import AuditEntry, DomainRequest, OrganiserAlert, Theme, ThemeProject
from pipeline.models.follow import FOLLOW_TARGETS, FREQUENCIES, Follow
from pipeline.models.merge import DuplicateCandidate, DuplicateCheck, PledgeMove, ProjectMerge, ProjectPair
from pipeline.models.notification import Digest, Notification, NotificationSettings
from pipeline.models.outbox import OutboxMessage
from pipeline.models.pledge import COUNTED_STATES, PLEDGE_KINDS, PLEDGE_STATES, Pledge, PledgeEvent
from pipeline.models.project import (
    ACTIVE_PHASES,
    CLOSED_PHASES,
    LINK_KINDS,
    PHASES,
    JoinRequest,
    PeopleNeed,
    PhaseChange,
    Project,
    ProjectCouncil,
    ProjectEdit,
    ProjectLink,
    ProjectMember,
    ProjectService,
    ProjectTag,
    Tag,
)
from pipeline.models.search import (
    DOCUMENT_KINDS,
    ListingChange,
    ListingVersion,
    SavedSearch,
    SearchDocument,
    document_id,
)
from pipeline.models.update import UPDATE_KINDS, ProjectUpdate, UpdateReport
from pipeline.models.user import ROLES, SignInAttempt, User

__all__ = [
    "ACTIVITY_KINDS",
    "Activity",
    "AuditEntry",
    "DomainRequest",
    "Theme",
    "ThemeProject",
    "ACTIVE_PHASES",
    "CLOSED_PHASES",
    "LINK_KINDS",
    "PHASES",
    "JoinRequest",
    "PeopleNeed",
    "PhaseChange",
    "Project",
    "ProjectCouncil",
    "ProjectEdit",
    "ProjectLink",
    "ProjectMember",
    "ProjectService",
    "ProjectTag",
    "Tag",
    "DOCUMENT_KINDS",
    "ListingChange",
    "ListingVersion",
    "SavedSearch",
    "SearchDocument",
    "document_id",
    "NATIONS",
    "ROLES",
    "Council",
    "CouncilDomain",
    "Function",
    "OutboxMessage",
    "COUNTED_STATES",
    "PLEDGE_KINDS",
    "PLEDGE_STATES",
    "Pledge",
    "PledgeEvent",
    "Service",
    "SignInAttempt",
    "User",
    "Comment",
    "CommentReport",
    "CommentVersion",
    "Digest",
    "FOLLOW_TARGETS",
    "FREQUENCIES",
    "Follow",
    "Notification",
    "NotificationSettings",
    "UPDATE_KINDS",
    "ProjectUpdate",
    "UpdateReport",
    "OrganiserAlert",
    "DuplicateCandidate",
    "DuplicateCheck",
    "PledgeMove",
    "ProjectMerge",
    "ProjectPair",
]
