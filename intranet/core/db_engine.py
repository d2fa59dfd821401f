"""Per-backend engine set-up (SECURITY.md "Concurrency and faults").

SQLite has one writer at a time. How each transaction meets that lock:

- A write (any request but GET/HEAD, the CLI, jobs, migrations) begins `BEGIN IMMEDIATE`: it
  takes the write lock up front, so two writers never deadlock on a lock upgrade and
  everything it reads stays true until it commits (the serialised writers that rules such as
  the ledger numbers and the credit limit checks rely on here).
- A read (a GET/HEAD request the app dispatches; `read_requests` marks it) begins deferred
  (`BEGIN`): with WAL it reads a snapshot and takes no lock, so templates, searches and PDF
  rendering never make another request wait. A bare test_request_context (jobs and commands
  use one to build links) is not a request and stays a writer.
- A read that has to write after all (its audit rows when the request ends, a PDF's registry
  row) first drops its snapshot — it has written nothing yet, so that commit is empty — and
  then begins `BEGIN IMMEDIATE` (`take_write_lock`, or the first write statement). SQLite's
  own in-place upgrade of a read transaction is refused at once ("database is locked", no
  busy wait) if another writer committed since the snapshot; a fresh BEGIN IMMEDIATE instead
  waits its turn within the busy timeout. What the read phase saw may be a moment older than
  what the write phase sees, as under PostgreSQL's READ COMMITTED; the audit trail's tail is
  read after the lock is taken (audit.py), so the chain never forks.

`PRAGMA synchronous = NORMAL` with WAL: a commit appends to the WAL without waiting for the
disk; the WAL is synced at each checkpoint. A crash of the application or of gunicorn loses
nothing and the database never corrupts; a power cut or an operating-system crash may lose the
transactions committed since the last checkpoint — whole transactions, the audit row always
with the change it describes, so `flask audit verify` still finds an intact chain (a head
noted externally during those last moments may then be reported as cut off). Without WAL (a
file system that cannot share memory) NORMAL is not crash-safe, so FULL stays.

PostgreSQL: one transaction per request, unchanged (the audit chain takes an advisory lock).
"""
from __future__ import annotations

import logging
import re

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from intranet.core import search

log = logging.getLogger("intranet.db")

_MODE = "sqlite_transaction"  # in the pooled connection's info: "read" or "write"
_READ_REQUEST = "_read_request"
READ_METHODS = frozenset({"GET", "HEAD"})
_NO_WRITE = ("SELECT", "VALUES", "EXPLAIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN",
             "COMMIT", "END")
_WRITE_WORD = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def configure_engine(engine: Engine, parallel_workers: int = 0) -> None:
    if engine.dialect.name == "postgresql":
        _configure_postgresql(engine, parallel_workers)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, connection_record):
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        cursor.execute("PRAGMA synchronous = NORMAL" if mode == "wal" else
                       "PRAGMA synchronous = FULL")
        cursor.close()
        search.register_functions(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection):
        if is_read_request():
            conn.info[_MODE] = "read"
            conn.exec_driver_sql("BEGIN")
        else:
            conn.info[_MODE] = "write"
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(conn: Connection, cursor, statement, parameters, context, executemany):
        if conn.info.get(_MODE) == "read" and writes(statement):
            log.info("read transaction takes the write lock for %s", statement[:40])
            _upgrade(conn)


def read_requests(app: Flask) -> None:
    """Mark GET/HEAD requests as reads before anything else in the request touches the
    database (the first before_request hook), until the request is torn down."""
    def mark():
        if request.method in READ_METHODS:
            g.setdefault(_READ_REQUEST, True)

    def unmark(error=None):
        g.pop(_READ_REQUEST, None)

    app.before_request_funcs.setdefault(None, []).insert(0, mark)
    app.teardown_request(unmark)


def is_read_request() -> bool:
    return has_request_context() and g.get(_READ_REQUEST, False)


def writes(statement: str) -> bool:
    """Whether a statement may write (conservative: unknown statements count as writes)."""
    words = statement.lstrip(" (\n\t").split(None, 1)
    first = words[0].upper() if words else ""
    if first in _NO_WRITE:
        return False
    if first == "PRAGMA":
        return "=" in statement
    if first == "WITH":
        return bool(_WRITE_WORD.search(statement))
    return True


def take_write_lock(session) -> None:
    """Make the session's transaction a writer before reading what its writes depend on (the
    audit trail's tail). A no-op on PostgreSQL and in transactions begun as writes."""
    conn = session.connection()
    if conn.dialect.name == "sqlite" and conn.info.get(_MODE) == "read":
        _upgrade(conn)


def _upgrade(conn: Connection) -> None:
    conn.info[_MODE] = "write"
    if conn.in_nested_transaction():
        # Ending the snapshot would end the savepoint too; let SQLite upgrade in place.
        log.warning("write lock taken inside a savepoint of a read transaction")
        return
    raw = conn.connection.dbapi_connection
    if raw.in_transaction:
        raw.execute("COMMIT")  # nothing written yet: this only lets go of the read snapshot
    raw.execute("BEGIN IMMEDIATE")


def _configure_postgresql(engine: Engine, parallel_workers: int) -> None:
    """A page's statements read a few dozen rows: starting parallel workers for them costs
    more than it saves (a rare search term at 100,000 customers: 12.5 ms with two workers,
    1.8 ms without), so the app's sessions plan without them unless PG_PARALLEL_WORKERS
    says otherwise.

    Every execution is planned for its own parameters: psycopg prepares a statement on the
    server after its fifth run, and PostgreSQL then tries a generic plan, which for the case
    queue's count (a handler's open cases, eleven states in an IN list) read the cases by
    state instead of by handler: 3 ms became 70 ms from the tenth request on. A custom plan
    costs a fraction of a millisecond here; the prepared statement still saves the parse."""
    @event.listens_for(engine, "connect")
    def _session_settings(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        # SET takes no bound parameter; an int cannot carry SQL
        cursor.execute(f"SET max_parallel_workers_per_gather = {int(parallel_workers)}")
        cursor.execute("SET plan_cache_mode = force_custom_plan")
        cursor.close()
        dbapi_connection.commit()
