"""Search: the documents the full-text index is built from, and officers' saved searches."""

import secrets
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.extensions import db
from pipeline.models.project import Project
from pipeline.models.user import User
from pipeline.timeutil import utcnow

# What a document can be, and where its kind's ids start: a document's id is its kind's start plus
# the id of what it was made from, so a project's document has the project's own id and search goes
# from the index to the project without a lookup. Each kind belongs to a project.
DOCUMENT_KINDS = {"project": 0, "update": 1 << 40}


def document_id(kind: str, ref_id: int) -> int:
    return DOCUMENT_KINDS[kind] + ref_id


class SearchDocument(db.Model):
    """One thing search can find (a project, or a project's update), as the text of its fields.

    The database indexes these rows itself, in a way the ORM does not see (migrations 0007_search and
    0016_title_vector): on SQLite an external-content FTS5 table `search_index` kept in step by triggers,
    and on PostgreSQL generated `search_vector` and `title_vector` tsvector columns with GIN indexes.
    """

    __tablename__ = "search_documents"
    __table_args__ = (UniqueConstraint("kind", "ref_id"),)

    # document_id(kind, ref_id); SQLite's INTEGER PRIMARY KEY is 64 bits already and is the FTS5 rowid.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    kind: Mapped[str] = mapped_column(String(20))
    # The id of the project, update ... the document was made from.
    ref_id: Mapped[int]
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    # The fields, strongest first: a match in the title counts most, one in the body least.
    title: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(Text, default="")
    places: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)


# What the projects list filters, sorts and counts by (listed, dormant, phase, recently updated, facets), read
# from the index alone rather than from the projects' long rows (migrations 0012_listing_index, 0013_project_facets):
# by id, for the projects a search found,
Index(
    "ix_projects_listing",
    Project.id,
    Project.merged_into_id,
    Project.phase,
    Project.active_at,
    Project.updated_at,
    Project.facets,
)
# and in the order facet counts group by, for every listed project (the unsearched list, the home page);
Index("ix_projects_facets", Project.merged_into_id, Project.phase, Project.facets, Project.active_at)
# and by whether listed, in each order the list sorts by (migration 0019_list_order_indexes).
Index("ix_projects_listed_by_updated_at", Project.merged_into_id, Project.updated_at)
Index("ix_projects_listed_by_created_at", Project.merged_into_id, Project.created_at)
Index("ix_projects_listed_by_title", Project.merged_into_id, Project.title)


def new_saved_search_token() -> str:
    return secrets.token_urlsafe(16)


class SavedSearch(db.Model):
    """A query and filters an officer saved, to run again, read as a feed, or follow."""

    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable and unguessable, for links in email and feeds.
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_saved_search_token)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The projects list's URL arguments (q and filters; no page), as ProjectFilters.to_args gives them.
    args: Mapped[dict] = mapped_column(JSON, default=dict)
    # The arguments in a canonical order, so the same search is not saved twice.
    key: Mapped[str] = mapped_column(String(1000))
    # What the search is, in words, as it was when saved: "“bulky waste” in Wales, in alpha".
    description: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()

    @property
    def path(self) -> str:
        """The projects list with this search and its filters."""
        return f"/projects?{self.key}" if self.key else "/projects"


class ListingVersion(db.Model):
    """Which version of the projects lists' data the database holds: one row, whose version counts on in the
    same transaction as any write that could change what a list counts (see pipeline.database). The token
    names the run of versions: a new row (after the table is emptied) starts a new run under a new token."""

    __tablename__ = "listing_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(BigInteger, server_default="1")


class ListingChange(db.Model):
    """A project a listing version changed; no project means any number of them (data changed by hand, say).

    Kept for the last thousand versions (pipeline.database.VERSIONS_LOGGED), so that a process's kept facet
    counts are brought up to date by reading only the projects changed since they were counted.
    """

    __tablename__ = "listing_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, index=True)
    project_id: Mapped[int | None]
