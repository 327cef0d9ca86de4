"""search phrase pairs: on PostgreSQL, masks of the projects whose documents have a common two-word phrase

Revision ID: 0022_search_phrase_pairs
Revises: 0021_search_word_masks
Create Date: 2026-12-06 13:40:00

A search for a phrase ("bulky waste") checked each candidate document's word positions: for a phrase in a tenth of
all projects, most of search_documents' pages, 20 to 40 ms. Word masks (0021) cannot answer it, as they know which
projects have each word but not where.

Here the pairs of adjacent words (lexemes of ASCII letters and digits) that at least one project document in 200
has are listed in search_phrase_pairs, each with its phrase query. Those pairs have masks in search_word_masks as
words do, under the key "first second" (a lexeme never has a space), kept in step the same way: a trigger on each
write of a project's document adds the bits it flips to search_word_mask_changes, which the app folds in as it
commits. Which listed pairs a document (or its title) has is found by PostgreSQL's own phrase match
(search_phrase_pairs_of), so exactly what the phrase query finds, from the document before and after the write; the
list changes only in a rebuild, which makes every mask again while no one else writes documents.

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

# A write of a project's document flips, in the masks of the listed pairs, its bit for each pair that its document
# (or its title) has and had not, or had and has not: (pair, in title, document id) rows in one and not the other.
# Emptying the documents (TRUNCATE) empties the list.
FLIP = f"""CREATE FUNCTION search_phrase_masks_flip() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        new_pairs text[] := '{{}}';
        new_title_pairs text[] := '{{}}';
        old_pairs text[] := '{{}}';
        old_title_pairs text[] := '{{}}';
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            -- No documents, so no common pairs (their masks went with search_index_words).
            DELETE FROM search_phrase_pairs;
            RETURN NULL;
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.id < {FIRST_UPDATE_ID} THEN
            new_pairs := search_phrase_pairs_of(NEW.search_vector);
            new_title_pairs := search_phrase_pairs_of(NEW.title_vector);
        END IF;
        IF TG_OP <> 'INSERT' AND OLD.id < {FIRST_UPDATE_ID} THEN
            old_pairs := search_phrase_pairs_of(OLD.search_vector);
            old_title_pairs := search_phrase_pairs_of(OLD.title_vector);
        END IF;
        WITH made AS (
            SELECT pair, false AS in_title, NEW.id AS id FROM unnest(new_pairs) AS pair
            UNION ALL
            SELECT pair, true, NEW.id FROM unnest(new_title_pairs) AS pair
        ), gone AS (
            SELECT pair, false AS in_title, OLD.id AS id FROM unnest(old_pairs) AS pair
            UNION ALL
            SELECT pair, true, OLD.id FROM unnest(old_title_pairs) AS pair
        )
        INSERT INTO search_word_mask_changes (lexeme, in_title, chunk, bits)
        SELECT pair, in_title, id / {CHUNK}, 1::bit({CHUNK}) << (id % {CHUNK})::integer
        FROM ((TABLE made EXCEPT TABLE gone) UNION ALL (TABLE gone EXCEPT TABLE made)) AS flipped;
        RETURN NULL;
    END
    $$"""
PROJECT_DOCUMENT = f"{{row}}.id < {FIRST_UPDATE_ID}"
CHANGED = "(OLD.id, OLD.search_vector, OLD.title_vector) IS DISTINCT FROM (NEW.id, NEW.search_vector, NEW.title_vector)"

POSTGRESQL_PAIRS = [
    """CREATE TABLE search_phrase_pairs (
        first text NOT NULL,
        second text NOT NULL,
        query tsquery NOT NULL,
        PRIMARY KEY (first, second)
    )""",
    PAIRS_OF,
    FLIP,
    f"""CREATE TRIGGER search_documents_pairs_insert AFTER INSERT ON search_documents
        FOR EACH ROW WHEN ({PROJECT_DOCUMENT.format(row="NEW")}) EXECUTE FUNCTION search_phrase_masks_flip()""",
    f"""CREATE TRIGGER search_documents_pairs_update AFTER UPDATE ON search_documents
        FOR EACH ROW WHEN (({PROJECT_DOCUMENT.format(row="OLD")} OR {PROJECT_DOCUMENT.format(row="NEW")}) AND {CHANGED})
        EXECUTE FUNCTION search_phrase_masks_flip()""",
    f"""CREATE TRIGGER search_documents_pairs_delete AFTER DELETE ON search_documents
        FOR EACH ROW WHEN ({PROJECT_DOCUMENT.format(row="OLD")}) EXECUTE FUNCTION search_phrase_masks_flip()""",
    """CREATE TRIGGER search_documents_pairs_truncate AFTER TRUNCATE ON search_documents
        FOR EACH STATEMENT EXECUTE FUNCTION search_phrase_masks_flip()""",
    LIST_PAIRS,
    f"""INSERT INTO search_word_masks (lexeme, in_title, chunk, bits)
        SELECT pair, in_title, id / {CHUNK}, bit_or(1::bit({CHUNK}) << (id % {CHUNK})::integer)
        FROM (
            SELECT id, false AS in_title, pair FROM search_documents, unnest(search_phrase_pairs_of(search_vector)) AS pair
            WHERE id < {FIRST_UPDATE_ID}
            UNION ALL
            SELECT id, true, pair FROM search_documents, unnest(search_phrase_pairs_of(title_vector)) AS pair
            WHERE id < {FIRST_UPDATE_ID}
        ) AS pairs
        GROUP BY 1, 2, 3""",
]


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_PAIRS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS search_documents_pairs_{event} ON search_documents")
        op.execute("DROP FUNCTION IF EXISTS search_phrase_masks_flip()")
        op.execute("DROP FUNCTION IF EXISTS search_phrase_pairs_of(tsvector)")
        op.execute("DROP TABLE IF EXISTS search_phrase_pairs")
        op.execute("DELETE FROM search_word_masks WHERE lexeme LIKE '% %'")
        op.execute("DELETE FROM search_word_mask_changes WHERE lexeme LIKE '% %'")
