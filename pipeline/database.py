"""Engine behaviour we rely on: SQLite pragmas, write transactions, statement counts."""

import re
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g, has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import NO_VALUE, Session

from pipeline.extensions import db

WRITE_OPTION = "pipeline_write"

# What the projects lists filter, count and search by. A transaction that writes to one of these tables (or
# might: any INSERT, UPDATE, DELETE or TRUNCATE naming one) moves the listing version on as it commits, and
# says which projects it changed (see `_log_listing_changes`), so that facet counts kept by any process are
# brought up to date, or counted again, before they are used.
LISTING_TABLES = (
    "projects|project_councils|project_services|project_tags|people_needs|search_documents|search_index"
    "|councils|services|functions|tags"
)
WRITES_TO_LISTINGS = re.compile(
    rf"^\s*(?:INSERT|UPDATE|DELETE|TRUNCATE|REPLACE)\b.*?\b(?:{LISTING_TABLES})\b", re.IGNORECASE | re.DOTALL
)
# The rows of these tables belong to one project: the ORM's writes to them change that project alone.
PROJECT_ROWS = {
    "projects": "id",
    "project_councils": "project_id",
    "project_services": "project_id",
    "project_tags": "project_id",
    "people_needs": "project_id",
    "search_documents": "project_id",
}
# A change to one of these rows (not a new one) can change any number of projects: a council's region, say.
SHARED_ROWS = {"councils", "services", "functions", "tags"}
# A transaction that changes more projects than this is logged as changing everything.
MOST_PROJECTS_LOGGED = 500
# Versions whose changes stay in the log; a process whose counts are older counts again.
VERSIONS_LOGGED = 1000

LISTINGS_CHANGED = "pipeline_listings_changed"
CHANGED_PROJECTS = "pipeline_changed_projects"
CHANGED_UNKNOWN = "pipeline_changed_unknown"
FLUSHING = "pipeline_flushing"
# Whether the listing version's table exists, and PostgreSQL's changes to the search word masks.
TABLES_EXIST = {
    "sqlite": "SELECT count(*), 0 FROM sqlite_master WHERE type = 'table' AND name = 'listing_versions'",
    "postgresql": (
        "SELECT to_regclass('listing_versions') IS NOT NULL, to_regclass('search_word_mask_changes') IS NOT NULL"
    ),
}
# The changes writers have made to PostgreSQL's search word masks (migration 0021_search_word_masks), every one this
# transaction can see, folded into the masks: the bits of each word's chunk flipped, a word at a time in order.
FOLD_WORD_MASK_CHANGES = (
    "WITH folded AS (DELETE FROM search_word_mask_changes RETURNING lexeme, in_title, chunk, bits) "
    "INSERT INTO search_word_masks (lexeme, in_title, chunk, bits) "
    "SELECT lexeme, in_title, chunk, bit_xor(bits) FROM folded GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 "
    "ON CONFLICT (lexeme, in_title, chunk) DO UPDATE SET bits = search_word_masks.bits # EXCLUDED.bits"
)


def configure_engine(app: Flask) -> None:
    """Attach pragmas, transaction handling and the statement counter to the app's engine."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    event.listen(engine, "before_cursor_execute", _count_statement)
    event.listen(engine, "before_cursor_execute", _note_listing_write)
    event.listen(engine, "commit", _log_listing_changes)
    event.listen(engine, "rollback", _forget_listing_write)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling is switched off so that SQLAlchemy
    # emits BEGIN itself, and writes can take the write lock up front with
    # BEGIN IMMEDIATE: two deferred transactions that both read and then write
    # would otherwise fail with "database is locked" instead of waiting.
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _count_statement(conn, cursor, statement, parameters, context, executemany):
    if has_request_context():
        g.sql_count = g.get("sql_count", 0) + 1


def _note_listing_write(conn, cursor, statement, parameters, context, executemany):
    if WRITES_TO_LISTINGS.match(statement):
        conn.info[LISTINGS_CHANGED] = True
        if not conn.info.get(FLUSHING):
            # Not the ORM's flush, whose changed projects `_note_flushed_projects` names: any projects at all.
            conn.info[CHANGED_UNKNOWN] = True


@event.listens_for(Session, "before_flush")
def _start_flush(session, _flush_context, _instances):
    session.connection().info[FLUSHING] = True


@event.listens_for(Session, "after_flush")
def _note_flushed_projects(session, _flush_context):
    """Name the projects whose rows the flush wrote (before and after, if a row moved between projects)."""
    info = session.connection().info
    info.pop(FLUSHING, None)
    changed = info.setdefault(CHANGED_PROJECTS, set())
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(instance, "__tablename__", None)
        if table in PROJECT_ROWS:
            # As loaded, never loading it here: the row may have just been deleted.
            attribute = inspect(instance).attrs[PROJECT_ROWS[table]]
            if attribute.loaded_value is NO_VALUE:
                info[CHANGED_UNKNOWN] = True
            values = (attribute.loaded_value, *attribute.history.deleted)
            changed.update(value for value in values if value is not None and value is not NO_VALUE)
        elif table in SHARED_ROWS and instance not in session.new:
            info[CHANGED_UNKNOWN] = True


def _log_listing_changes(conn):
    """As a transaction that wrote to the lists' tables commits, move the listing version on and log the
    projects it changed (or that it could have changed any), in the same transaction, so whoever sees the writes
    sees the log. The last statements before COMMIT: the version's row is locked from here to the commit, so
    versions commit in order and no transaction waits for another's writes while holding the row."""
    notes = _forget_listing_write(conn)
    if not notes[LISTINGS_CHANGED]:
        return
    changed = notes[CHANGED_PROJECTS] or set()
    unknown = notes[CHANGED_UNKNOWN] or not changed or len(changed) > MOST_PROJECTS_LOGGED
    projects = [None] if unknown else sorted(changed)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        # Migrations write to these tables before the listing version's exists (and after it goes).
        cursor.execute(TABLES_EXIST[conn.dialect.name])
        versions, word_masks = cursor.fetchone()
        if not versions:
            return
        # A new row (the first write, or after the table was emptied) starts a new run of versions, under a new
        # random token, so counts kept from an earlier run are never mistaken for this one's.
        token = uuid.uuid4().hex  # hexadecimal: safe to put in the statement
        cursor.execute(
            "INSERT INTO listing_versions (id, token, version) VALUES (1, '" + token + "', 1) "
            "ON CONFLICT (id) DO UPDATE SET version = listing_versions.version + 1 RETURNING version"
        )
        version = int(cursor.fetchone()[0])
        rows = ", ".join(f"({version}, {'NULL' if p is None else int(p)})" for p in projects)
        cursor.execute("INSERT INTO listing_changes (version, project_id) VALUES " + rows)
        if version % 100 == 0:
            cursor.execute(f"DELETE FROM listing_changes WHERE version <= {version - VERSIONS_LOGGED}")
        if word_masks:
            # Under the version's lock, so one writer at a time changes the masks' rows, and none waits for
            # another's while holding some.
            cursor.execute(FOLD_WORD_MASK_CHANGES)
    finally:
        cursor.close()


def mark_lists_changed() -> None:
    """Say that the session's transaction changes what the projects lists count, whatever it wrote (after data
    was changed by hand, say): its commit moves the listing version on, for every project."""
    info = db.session.connection().info
    info[LISTINGS_CHANGED] = info[CHANGED_UNKNOWN] = True


def wrote_to_lists() -> bool:
    """Whether the session's transaction has written to what the projects lists count (not yet committed)."""
    return bool(db.session.connection().info.get(LISTINGS_CHANGED))


def _forget_listing_write(conn) -> dict:
    """Take the transaction's notes of what it wrote to the lists off its connection, as it ends."""
    return {name: conn.info.pop(name, None) for name in (LISTINGS_CHANGED, CHANGED_PROJECTS, CHANGED_UNKNOWN, FLUSHING)}


class KeptCounts:
    """What one process keeps of the projects lists' counts for one engine, the most recently used last, up to
    `size` entries and `most_bytes` of the entries' weights (what they hold per project).

    Each entry says which listing version it counted; the caller brings it up to date from the log before using
    it. One lock guards every use, as a web server's threads share it.
    """

    def __init__(self, size: int = 256, most_bytes: int = 64 << 20):
        self.size, self.most_bytes = size, most_bytes
        self._kept: dict = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            kept = self._kept.pop(key, None)
            if kept is not None:
                self._kept[key] = kept
                return kept[0]
            return None

    def put(self, key, value, weight: int = 0) -> None:
        with self._lock:
            old = self._kept.pop(key, None)
            self._bytes += weight - (old[1] if old else 0)
            self._kept[key] = (value, weight)
            while len(self._kept) > self.size or (self._bytes > self.most_bytes and len(self._kept) > 1):
                self._bytes -= self._kept.pop(next(iter(self._kept)))[1]

    def clear(self, keep=lambda key: False) -> None:
        """Forget every entry, or all but those whose keys `keep` says to keep."""
        with self._lock:
            for key in [key for key in self._kept if not keep(key)]:
                self._bytes -= self._kept.pop(key)[1]


_kept_counts: "weakref.WeakKeyDictionary[Engine, KeptCounts]" = weakref.WeakKeyDictionary()


def kept_counts(engine: Engine) -> KeptCounts:
    return _kept_counts.setdefault(engine, KeptCounts())


def forget_kept_counts(engine: Engine) -> None:
    """Forget every count this process kept for the engine, as a new process starts (for tests and benchmarks)."""
    kept_counts(engine).clear()


def begin_write() -> None:
    """Start the session's transaction as a write, so concurrent writers queue instead of failing.

    Call it at the start of a service function that writes, before it reads
    what it will change. On PostgreSQL it is a plain transaction; rows that
    must not change underneath a write are locked with SELECT ... FOR UPDATE.
    """
    session = db.session()
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            return
        # A read transaction is open (the signed-in user was loaded, say):
        # end it, so the write starts from a fresh snapshot with the lock held.
        session.rollback()
    session.connection(execution_options={WRITE_OPTION: True})


def insert_ignoring_duplicates(model, rows: dict | list[dict], index_elements: list[str]):
    """An INSERT of these rows that skips any whose unique key (`index_elements`) another row has, without a race
    between two writers: ON CONFLICT DO NOTHING, in the session's database's own construct."""
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(model).values(rows).on_conflict_do_nothing(index_elements=index_elements)


@contextmanager
def statement_counter() -> Iterator[list[int]]:
    """Count statements run inside the block (outside a request), for tests and benchmarks."""
    counts = [0]

    def count(*_args):
        counts[0] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield counts
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


# The full-text index that migrations 0007_search and 0016_title_vector build for one kind of database only,
# beside the search_documents table: the models do not describe it, so schema comparisons leave it out.
# The full-text index's tables: search_index (FTS5) and search_index_words, search_word_masks,
# search_word_mask_changes and search_phrase_pairs (PostgreSQL).
SEARCH_INDEX_TABLES = ("search_index", "search_word_mask", "search_phrase_pairs")
SEARCH_VECTOR_COLUMNS = {"search_vector", "title_vector"}
SEARCH_VECTOR_INDEXES = {"ix_search_documents_search_vector", "ix_search_documents_title_vector"}


def include_in_schema_comparison(name: str | None, type_: str, parent_names: dict) -> bool:
    """False for the database objects of the full-text index, which only migrations know about."""
    if type_ == "table":
        return not (name or "").startswith(SEARCH_INDEX_TABLES)
    if type_ == "column":
        return not (name in SEARCH_VECTOR_COLUMNS and parent_names.get("table_name") == "search_documents")
    if type_ == "index":
        return name not in SEARCH_VECTOR_INDEXES
    return True
