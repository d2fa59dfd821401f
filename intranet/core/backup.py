"""Backups and the restore drill (SECURITY.md 24).

SQLite: the online backup API copies a consistent snapshot while the app runs (a file copy can
catch a half-written page or miss the WAL). PostgreSQL: `pg_dump -Fc` / `pg_restore`. The drill
restores a fresh backup into a scratch copy and re-verifies the audit chain there, against the
head of the live trail, so a backup that cannot be restored, or restores a different history,
is found before it is needed.
"""
from __future__ import annotations

import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from intranet.core import audit
from intranet.extensions import db


@dataclass(frozen=True)
class DrillResult:
    rows: int
    head: str
    expected_head: str
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.head == self.expected_head


def _is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def _libpq_url(url) -> str:
    """The SQLAlchemy URL as pg_dump / pg_restore understand it."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create(destination: Path) -> None:
    destination = Path(destination)
    if _is_sqlite():
        raw = db.engine.raw_connection()
        try:
            target = sqlite3.connect(destination)
            try:
                raw.driver_connection.backup(target)
            finally:
                target.close()
        finally:
            raw.close()
        return
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={destination}",
                    _libpq_url(db.engine.url)], check=True, capture_output=True)


def restore(source: Path) -> None:
    """Replace the database's content with the backup (stop the app first)."""
    source = Path(source)
    if not source.is_file():
        raise FileNotFoundError(source)
    db.session.remove()
    if _is_sqlite():
        origin = sqlite3.connect(source)
        raw = db.engine.raw_connection()
        try:
            origin.backup(raw.driver_connection)
        finally:
            raw.close()
            origin.close()
        db.engine.dispose()
        return
    db.engine.dispose()
    subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                    f"--dbname={_libpq_url(db.engine.url)}", str(source)],
                   check=True, capture_output=True)


def verify(url: str) -> tuple[int, str | None, str]:
    """(rows, first problem or None, head) of the audit chain in the database at `url`."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            rows, problem = audit.verify_chain(session)
            return rows, problem.message if problem else None, audit.head(session)
    finally:
        engine.dispose()


def drill(workdir: Path) -> DrillResult:
    """Back up now, restore into a scratch copy, verify the chain there."""
    workdir = Path(workdir)
    expected = audit.head()
    backup_file = workdir / ("drill.sqlite3" if _is_sqlite() else "drill.dump")
    create(backup_file)
    if _is_sqlite():  # the backup file is itself a complete database
        rows, problem, head = verify(f"sqlite:///{backup_file}")
        return DrillResult(rows, head, expected, problem)
    scratch = f"{db.engine.url.database}_restore_drill"
    admin = db.engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    scratch_url = db.engine.url.set(database=scratch)
    try:
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={_libpq_url(scratch_url)}",
                        str(backup_file)], check=True, capture_output=True)
        rows, problem, head = verify(scratch_url.render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
    return DrillResult(rows, head, expected, problem)
