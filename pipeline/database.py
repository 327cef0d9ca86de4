"""Engine behaviour we rely on: SQLite pragmas, write transactions, statement counts."""

import re
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine

from pipeline.extensions import db

WRITE_OPTION = "pipeline_write"

# What the projects lists filter, count and search by. A statement that writes to one of these tables (or
# might: any INSERT, UPDATE, DELETE or TRUNCATE naming one) gives the listing version a new token as its
# transaction commits, so facet counts kept under the old token are never used again.
LISTING_TABLES = (
    "projects|project_councils|project_services|project_tags|people_needs|search_documents|search_index"
    "|councils|services|functions|tags"
)
WRITES_TO_LISTINGS = re.compile(
    rf"^\s*(?:INSERT|UPDATE|DELETE|TRUNCATE|REPLACE)\b.*?\b(?:{LISTING_TABLES})\b", re.IGNORECASE | re.DOTALL
)
LISTINGS_CHANGED = "pipeline_listings_changed"
TABLE_EXISTS = {
    "sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'listing_versions'",
    "postgresql": "SELECT to_regclass('listing_versions') IS NOT NULL",
}


def configure_engine(app: Flask) -> None:
    """Attach pragmas, transaction handling and the statement counter to the app's engine."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    event.listen(engine, "before_cursor_execute", _count_statement)
    event.listen(engine, "before_cursor_execute", _note_listing_write)
    event.listen(engine, "commit", _new_listing_version)
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


def _new_listing_version(conn):
    """As a transaction that wrote to the lists' tables commits, give the listing version a new token, in the
    same transaction (so whoever sees the writes sees the token). The last statement before COMMIT, so no
    transaction waits for another's writes while holding the row."""
    if conn.info.pop(LISTINGS_CHANGED, False):
        token = uuid.uuid4().hex  # hexadecimal: safe to put in the statement
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            # Migrations write to these tables before the listing version's exists (and after it goes).
            cursor.execute(TABLE_EXISTS[conn.dialect.name])
            if cursor.fetchone()[0]:
                cursor.execute(
                    "INSERT INTO listing_versions (id, token) VALUES (1, '" + token + "') "
                    "ON CONFLICT (id) DO UPDATE SET token = excluded.token"
                )
        finally:
            cursor.close()
        forget_kept_counts(conn.engine)


def mark_lists_changed() -> None:
    """Say that the session's transaction changes what the projects lists count, whatever it wrote (after data
    was changed by hand, say): its commit gives the listing version a new token."""
    db.session.connection().info[LISTINGS_CHANGED] = True


def wrote_to_lists() -> bool:
    """Whether the session's transaction has written to what the projects lists count (not yet committed)."""
    return bool(db.session.connection().info.get(LISTINGS_CHANGED))


def _forget_listing_write(conn):
    conn.info.pop(LISTINGS_CHANGED, None)


class KeptCounts:
    """What one process keeps of the projects lists' counts for one engine, the most recently used last.

    Keys start with the listing version's token, so counts made before a change are never found again; the
    process also forgets them all when it commits a change itself. One lock guards every use, as a web server's
    threads share it.
    """

    def __init__(self, size: int = 256):
        self.size = size
        self._kept: dict = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._kept.pop(key, None)
            if value is not None:
                self._kept[key] = value
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._kept[key] = value
            while len(self._kept) > self.size:
                del self._kept[next(iter(self._kept))]

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


_kept_counts: "weakref.WeakKeyDictionary[Engine, KeptCounts]" = weakref.WeakKeyDictionary()


def kept_counts(engine: Engine) -> KeptCounts:
    return _kept_counts.setdefault(engine, KeptCounts())


def forget_kept_counts(engine: Engine) -> None:
    """Forget every count this process kept for the engine, as any change to the lists makes it do."""
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
SEARCH_INDEX_TABLE = "search_index"
SEARCH_VECTOR_COLUMNS = {"search_vector", "title_vector"}
SEARCH_VECTOR_INDEXES = {"ix_search_documents_search_vector", "ix_search_documents_title_vector"}


def include_in_schema_comparison(name: str | None, type_: str, parent_names: dict) -> bool:
    """False for the database objects of the full-text index, which only migrations know about."""
    if type_ == "table":
        return not (name or "").startswith(SEARCH_INDEX_TABLE)
    if type_ == "column":
        return not (name in SEARCH_VECTOR_COLUMNS and parent_names.get("table_name") == "search_documents")
    if type_ == "index":
        return name not in SEARCH_VECTOR_INDEXES
    return True
