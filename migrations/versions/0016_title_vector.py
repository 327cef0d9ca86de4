"""title vector: on PostgreSQL, each search document's title as a tsvector of its own, with a GIN index

Revision ID: 0016_title_vector
Revises: 0015_listing_versions
Create Date: 2026-11-23 12:00:00

Search ranks projects with the words in their titles first. PostgreSQL found those through the weights in
search_vector, which no index answers, so it read document after document when few titles had the words.
SQLite's FTS5 index already matches a column on its own, so it needs nothing.
"""
from alembic import op


revision = '0016_title_vector'
down_revision = '0015_listing_versions'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE search_documents ADD COLUMN title_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('english', title)) STORED"
        )
        op.execute("CREATE INDEX ix_search_documents_title_vector ON search_documents USING gin (title_vector)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_documents_title_vector")
        op.execute("ALTER TABLE search_documents DROP COLUMN IF EXISTS title_vector")
