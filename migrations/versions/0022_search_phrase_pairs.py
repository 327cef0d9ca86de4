"""search phrase pairs: on PostgreSQL, masks of the projects whose documents have a common two-word phrase

Revision ID: 0022_search_phrase_pairs
Revises: 0021_search_word_masks
Create Date: 2026-12-06 13:40:00

A search for a phrase ("bulky waste") checked each candidate document's word positions: for a phrase in a tenth of
all projects, most of search_documents' pages, 20 to 40 ms. Word masks (0021) cannot answer it, as they know which
projects have each word but not where.

Here the pairs of adjacent words (lexemes of ASCII letters and digits) that at least one project document in 200
has are listed in search_phrase_pairs, each with its phrase query. search_index_pairs keeps, for each project's own
document, which listed pairs its document and its title have, found by PostgreSQL's own phrase match (so exactly
what the phrase query finds). Those pairs have masks in search_word_masks as words do, under the key "first second"
(a lexeme never has a space), kept in step the same way: a statement-level trigger adds the bits each write flips
to search_word_mask_changes, which the app folds in as it commits.

A phrase of two words whose pair is listed is answered from the masks (search.PostgresSearch.matching); any other
phrase from the documents, as before. `flask search rebuild` lists the pairs again.
"""
from alembic import op


revision = '0022_search_phrase_pairs'
down_revision = '0021_search_word_masks'
branch_labels = None
depends_on = None

FIRST_UPDATE_ID = 1 << 40  # search documents' ids for updates start here; projects' are the projects' ids
CHUNK = 1024

# The pairs of adjacent lexemes that at least one project document in 200 (and two at least) has.
LIST_PAIRS = f"""INSERT INTO search_phrase_pairs (first, second, query)
    WITH positions AS (
        SELECT document.id, word.lexeme, position
        FROM search_documents AS document, unnest(document.search_vector) AS word, unnest(word.positions) AS position
        WHERE document.id < {FIRST_UPDATE_ID} AND word.lexeme ~ '^[a-z0-9]+$'
    ), following AS (
        SELECT id, lexeme AS first, lead(lexeme) OVER by_position AS second,
            lead(position) OVER by_position = position + 1 AS adjacent
        FROM positions WINDOW by_position AS (PARTITION BY id ORDER BY position)
    ), pairs AS (
        SELECT DISTINCT id, first, second FROM following WHERE adjacent
    )
    SELECT first, second, (quote_literal(first) || ' <-> ' || quote_literal(second))::tsquery
    FROM pairs GROUP BY first, second
    HAVING count(*) >= greatest(2, (SELECT count(*) FROM search_documents WHERE id < {FIRST_UPDATE_ID}) / 200)"""

# The listed pairs a tsvector has (a document's or a title's), as PostgreSQL's phrase match finds them.
PAIRS_OF = """CREATE FUNCTION search_phrase_pairs_of(vector tsvector) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(listed.first || ' ' || listed.second ORDER BY listed.first, listed.second), '{}')
    FROM search_phrase_pairs AS listed
    WHERE listed.first = ANY (tsvector_to_array(vector)) AND listed.second = ANY (tsvector_to_array(vector))
        AND vector @@ listed.query
    $$"""

KEEP_PAIRS = """CREATE FUNCTION search_index_pairs_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO search_index_pairs (id, pairs, title_pairs)
        VALUES (NEW.id, search_phrase_pairs_of(NEW.search_vector), search_phrase_pairs_of(NEW.title_vector))
        ON CONFLICT (id) DO UPDATE SET pairs = EXCLUDED.pairs, title_pairs = EXCLUDED.title_pairs
        WHERE (search_index_pairs.pairs, search_index_pairs.title_pairs) <> (EXCLUDED.pairs, EXCLUDED.title_pairs);
        RETURN NULL;
    END
    $$"""

# The listed pairs of the projects' documents in a table of search_index_pairs rows: (id, in_title, pair).
PAIRS = """SELECT id, false AS in_title, pair FROM {rows}, unnest(pairs) AS pair
    UNION ALL
    SELECT id, true, pair FROM {rows}, unnest(title_pairs) AS pair"""
BITS = f"bit_xor(1::bit({CHUNK}) << (id % {CHUNK})::integer)"
FLIP = f"""INSERT INTO search_word_mask_changes (lexeme, in_title, chunk, bits)
    SELECT pair, in_title, id / {CHUNK}, {BITS} FROM ({{changed}}) AS changed GROUP BY 1, 2, 3"""
UPDATED = f"""(({PAIRS.format(rows='new_rows')}) EXCEPT ({PAIRS.format(rows='old_rows')}))
    UNION ALL (({PAIRS.format(rows='old_rows')}) EXCEPT ({PAIRS.format(rows='new_rows')}))"""

POSTGRESQL_PAIRS = [
    """CREATE TABLE search_phrase_pairs (
        first text NOT NULL,
        second text NOT NULL,
        query tsquery NOT NULL,
        PRIMARY KEY (first, second)
    )""",
    """CREATE TABLE search_index_pairs (
        id bigint PRIMARY KEY REFERENCES search_documents (id) ON DELETE CASCADE,
        pairs text[] NOT NULL,
        title_pairs text[] NOT NULL
    )""",
    PAIRS_OF,
    KEEP_PAIRS,
    f"""CREATE TRIGGER search_documents_pairs AFTER INSERT OR UPDATE ON search_documents
        FOR EACH ROW WHEN (NEW.id < {FIRST_UPDATE_ID}) EXECUTE FUNCTION search_index_pairs_keep()""",
    f"""CREATE FUNCTION search_phrase_masks_flip() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {FLIP.format(changed=PAIRS.format(rows="new_rows"))};
        ELSIF TG_OP = 'DELETE' THEN
            {FLIP.format(changed=PAIRS.format(rows="old_rows"))};
        ELSIF TG_OP = 'TRUNCATE' THEN
            DELETE FROM search_word_masks WHERE lexeme LIKE '% %';
            DELETE FROM search_word_mask_changes WHERE lexeme LIKE '% %';
        ELSE
            {FLIP.format(changed=UPDATED)};
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER search_index_pairs_masks_insert AFTER INSERT ON search_index_pairs
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_phrase_masks_flip()""",
    """CREATE TRIGGER search_index_pairs_masks_update AFTER UPDATE ON search_index_pairs
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
        EXECUTE FUNCTION search_phrase_masks_flip()""",
    """CREATE TRIGGER search_index_pairs_masks_delete AFTER DELETE ON search_index_pairs
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION search_phrase_masks_flip()""",
    """CREATE TRIGGER search_index_pairs_masks_truncate AFTER TRUNCATE ON search_index_pairs
        FOR EACH STATEMENT EXECUTE FUNCTION search_phrase_masks_flip()""",
    LIST_PAIRS,
    # Each project document's pairs: the insert trigger adds their masks' bits as changes, folded in at once.
    f"""INSERT INTO search_index_pairs (id, pairs, title_pairs)
        SELECT id, search_phrase_pairs_of(search_vector), search_phrase_pairs_of(title_vector)
        FROM search_documents WHERE id < {FIRST_UPDATE_ID}""",
    f"""WITH folded AS (DELETE FROM search_word_mask_changes RETURNING lexeme, in_title, chunk, bits)
        INSERT INTO search_word_masks (lexeme, in_title, chunk, bits)
        SELECT lexeme, in_title, chunk, bit_xor(bits) FROM folded GROUP BY 1, 2, 3
        ON CONFLICT (lexeme, in_title, chunk) DO UPDATE SET bits = search_word_masks.bits # EXCLUDED.bits""",
]


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_PAIRS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS search_documents_pairs ON search_documents")
        op.execute("DROP TABLE IF EXISTS search_index_pairs")
        op.execute("DROP FUNCTION IF EXISTS search_phrase_masks_flip()")
        op.execute("DROP FUNCTION IF EXISTS search_index_pairs_keep()")
        op.execute("DROP FUNCTION IF EXISTS search_phrase_pairs_of(tsvector)")
        op.execute("DROP TABLE IF EXISTS search_phrase_pairs")
        op.execute("DELETE FROM search_word_masks WHERE lexeme LIKE '% %'")
        op.execute("DELETE FROM search_word_mask_changes WHERE lexeme LIKE '% %'")
