"""search words: on PostgreSQL, each search document's words without their positions, in a narrow table of its own

Revision ID: 0018_search_words
Revises: 0017_listing_changes
Create Date: 2026-12-06 03:45:00

Finding which projects a search matches (for the facet counts and the list's filters) reads every matching row
that the GIN index points to. search_documents' rows carry the text and two weighted tsvectors, about 1.5 kB a
document, so a common word read most of the table (151 MB for 100,000 projects), more than PostgreSQL's usual
shared buffers hold. The same words stripped of positions and weights (strip()) take about a third as much, in a
table of their own kept in step by a trigger. They answer any query but a phrase, which needs the positions.
SQLite's FTS5 index gives the matching rowids from the index alone, so it needs nothing.
"""
from alembic import op


revision = '0018_search_words'
down_revision = '0017_listing_changes'
branch_labels = None
depends_on = None

POSTGRESQL_WORDS = [
    """CREATE TABLE search_index_words (
        id bigint PRIMARY KEY REFERENCES search_documents (id) ON DELETE CASCADE,
        project_id integer NOT NULL,
        words tsvector NOT NULL
    )""",
    """CREATE FUNCTION search_index_words_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO search_index_words (id, project_id, words) VALUES (NEW.id, NEW.project_id, strip(NEW.search_vector))
        ON CONFLICT (id) DO UPDATE SET project_id = EXCLUDED.project_id, words = EXCLUDED.words;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER search_documents_words AFTER INSERT OR UPDATE ON search_documents
        FOR EACH ROW EXECUTE FUNCTION search_index_words_keep()""",
    """INSERT INTO search_index_words (id, project_id, words)
        SELECT id, project_id, strip(search_vector) FROM search_documents""",
    "CREATE INDEX ix_search_index_words_words ON search_index_words USING gin (words)",
]


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_WORDS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS search_documents_words ON search_documents")
        op.execute("DROP FUNCTION IF EXISTS search_index_words_keep()")
        op.execute("DROP TABLE IF EXISTS search_index_words")
