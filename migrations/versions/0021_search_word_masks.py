"""search word masks: on PostgreSQL, which projects' own documents have each word, as bits

Revision ID: 0021_search_word_masks
Revises: 0020_search_title_words
Create Date: 2026-12-06 11:15:00

Finding which projects a search matches read every matching row of search_index_words through its GIN index: a
common word's 25,000 rows took 25 ms of 100,000 projects, however narrow the table. Here each word (lexeme) of the
projects' own documents has a mask: bit i set for project i, in chunks of 1,024 projects (a `bit(1024)` a chunk,
bit i of a chunk the one that many places from the right), one set for the document's words and one for its title's.
A search reads a few rows a word and combines them in Python (search.PostgresSearch.matching). Updates'
documents are few beside the projects': their matches are read from a partial GIN index of their own.

Each change to search_index_words adds the bits it flips to search_word_mask_changes (plain inserts, so writers
never wait for each other there), and the same transaction folds every change it can see into the masks as it
commits, under the listing version's lock (database._log_listing_changes), so one writer at a time touches the
masks' rows. A reader adds (exclusive or) any changes not yet folded, so masks are right whoever wrote.
Emptying the words (TRUNCATE) empties both.
`flask search rebuild` makes the masks again from the words.
"""
from alembic import op


revision = '0021_search_word_masks'
down_revision = '0020_search_title_words'
branch_labels = None
depends_on = None

FIRST_UPDATE_ID = 1 << 40  # search documents' ids for updates start here; projects' are the projects' ids
CHUNK = 1024

# The lexemes of the projects' own documents in a table of search_index_words rows: (id, in_title, lexeme).
LEXEMES = f"""SELECT id, false AS in_title, lexeme FROM {{rows}}, unnest(tsvector_to_array(words)) AS lexeme
    WHERE id < {FIRST_UPDATE_ID}
    UNION ALL
    SELECT id, true, lexeme FROM {{rows}}, unnest(tsvector_to_array(title_words)) AS lexeme
    WHERE id < {FIRST_UPDATE_ID}"""
BITS = f"bit_xor(1::bit({CHUNK}) << (id % {CHUNK})::integer)"
FLIP = f"""INSERT INTO search_word_mask_changes (lexeme, in_title, chunk, bits)
    SELECT lexeme, in_title, id / {CHUNK}, {BITS} FROM ({{changed}}) AS changed GROUP BY 1, 2, 3"""

POSTGRESQL_MASKS = [
    f"""CREATE TABLE search_word_masks (
        lexeme text NOT NULL,
        in_title boolean NOT NULL,
        chunk integer NOT NULL,
        bits bit({CHUNK}) NOT NULL,
        PRIMARY KEY (lexeme, in_title, chunk)
    )""",
    f"""CREATE TABLE search_word_mask_changes (
        lexeme text NOT NULL,
        in_title boolean NOT NULL,
        chunk integer NOT NULL,
        bits bit({CHUNK}) NOT NULL
    )""",
    "CREATE INDEX ix_search_word_mask_changes_lexeme ON search_word_mask_changes (lexeme)",
    f"""CREATE FUNCTION search_word_masks_flip() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {FLIP.format(changed=LEXEMES.format(rows="new_rows"))};
        ELSIF TG_OP = 'DELETE' THEN
            {FLIP.format(changed=LEXEMES.format(rows="old_rows"))};
        ELSIF TG_OP = 'TRUNCATE' THEN
            DELETE FROM search_word_masks;
            DELETE FROM search_word_mask_changes;
        ELSE
            {FLIP.format(changed=f"(({LEXEMES.format(rows='new_rows')}) EXCEPT ({LEXEMES.format(rows='old_rows')})) "
                         f"UNION ALL (({LEXEMES.format(rows='old_rows')}) EXCEPT ({LEXEMES.format(rows='new_rows')}))")};
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER search_index_words_masks_insert AFTER INSERT ON search_index_words
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_word_masks_flip()""",
    """CREATE TRIGGER search_index_words_masks_update AFTER UPDATE ON search_index_words
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_word_masks_flip()""",
    """CREATE TRIGGER search_index_words_masks_delete AFTER DELETE ON search_index_words
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION search_word_masks_flip()""",
    """CREATE TRIGGER search_index_words_masks_truncate AFTER TRUNCATE ON search_index_words
        FOR EACH STATEMENT EXECUTE FUNCTION search_word_masks_flip()""",
    f"""INSERT INTO search_word_masks (lexeme, in_title, chunk, bits)
        SELECT lexeme, in_title, id / {CHUNK}, {BITS}
        FROM ({LEXEMES.format(rows="search_index_words")}) AS lexemes GROUP BY 1, 2, 3""",
    f"""CREATE INDEX ix_search_index_words_updates ON search_index_words USING gin (words)
        WHERE id >= {FIRST_UPDATE_ID}""",
]


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_MASKS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_index_words_updates")
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS search_index_words_masks_{event} ON search_index_words")
        op.execute("DROP FUNCTION IF EXISTS search_word_masks_flip()")
        op.execute("DROP TABLE IF EXISTS search_word_mask_changes")
        op.execute("DROP TABLE IF EXISTS search_word_masks")
