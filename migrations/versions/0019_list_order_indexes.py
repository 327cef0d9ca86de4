"""list order indexes: the listed projects in each order the projects list sorts by

Revision ID: 0019_list_order_indexes
Revises: 0018_search_words
Create Date: 2026-12-06 03:00:00

The projects list without a search shows the listed projects (merged_into_id IS NULL) most recently updated first,
newest first or by title, twenty at a time. SQLite found them through the index on merged_into_id and then sorted
every listed project (70 ms for 70,000) to show twenty, and PostgreSQL did the same by title. An index on
merged_into_id and each order lets both read only the rows shown: the list's order leads with merged_into_id, the
same for every listed project, so PostgreSQL sees that the index is in its order and sorts only ties by id, and
SQLite's indexes hold the id already. The id is left out, or PostgreSQL would take such an index for the quickest
way to find projects by id. It also finds the projects merged into another, so the index on merged_into_id alone
goes.
"""
from alembic import op


revision = '0019_list_order_indexes'
down_revision = '0018_search_words'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_projects_listed_by_updated_at": ["merged_into_id", "updated_at"],
    "ix_projects_listed_by_created_at": ["merged_into_id", "created_at"],
    "ix_projects_listed_by_title": ["merged_into_id", "title"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "projects", columns, unique=False)
    op.drop_index("ix_projects_merged_into_id", table_name="projects")


def downgrade():
    op.create_index("ix_projects_merged_into_id", "projects", ["merged_into_id"], unique=False)
    for name in INDEXES:
        op.drop_index(name, table_name="projects")
