"""Per-backend engine set-up (SECURITY.md "Concurrency and faults")."""
from sqlalchemy import event
from sqlalchemy.engine import Engine

from intranet.core import search


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, connection_record):
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()
        search.register_functions(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn):
        # Take the write lock up front: two writers never deadlock on a lock upgrade, and the
        # audit chain's tail cannot move under a transaction that appends to it.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
