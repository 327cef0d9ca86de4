"""search title words: on PostgreSQL, each document's title words beside its words, in the narrow table

Revision ID: 0020_search_title_words
Revises: 0019_list_order_indexes
Create Date: 2026-12-06 09:30:00

A search ranks the projects with the words in their own titles first. Finding which projects a search matches
(for the facet counts) reads each matching row of search_index_words; with each title's words in the same row, the
same read tells which of them have the words in their titles, so the search's first page is chosen from what the
process keeps rather than by walking the documents again (project_lists._cheap_order). Stripped, as the words are:
they answer any query but a phrase, which the documents' positions answer.
"""
from alembic import op


revision = '0020_search_title_words'
down_revision = '0019_list_order_indexes'
branch_labels = None
depends_on = None

KEEP_BOTH = """CREATE OR REPLACE FUNCTION search_index_words_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO search_index_words (id, project_id, words, title_words)
        VALUES (NEW.id, NEW.project_id, strip(NEW.search_vector), strip(NEW.title_vector))
        ON CONFLICT (id) DO UPDATE
        SET project_id = EXCLUDED.project_id, words = EXCLUDED.words, title_words = EXCLUDED.title_words;
        RETURN NULL;
    END
    $$"""

KEEP_WORDS = """CREATE OR REPLACE FUNCTION search_index_words_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO search_index_words (id, project_id, words) VALUES (NEW.id, NEW.project_id, strip(NEW.search_vector))
        ON CONFLICT (id) DO UPDATE SET project_id = EXCLUDED.project_id, words = EXCLUDED.words;
        RETURN NULL;
    END
    $$"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_index_words ADD COLUMN title_words tsvector NOT NULL DEFAULT ''")
        op.execute("ALTER TABLE search_index_words ALTER COLUMN title_words DROP DEFAULT")
        op.execute(
            "UPDATE search_index_words SET title_words = strip(search_documents.title_vector) "
            "FROM search_documents WHERE search_documents.id = search_index_words.id"
        )
        op.execute(KEEP_BOTH)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(KEEP_WORDS)
        op.execute("ALTER TABLE search_index_words DROP COLUMN title_words")
