"""Scheduled side effects of every workflow (reminders, escalations, activation, reclaim), run
by one idempotent command, `flask jobs run`, from cron or a systemd timer. Deadlines and
"overdue" never depend on it (they are stored and derived in SQL); the jobs only notify and
move rows whose time has come, and a second run the same minute does nothing new.

Each job decides in SQL which rows need work and handles them in batches of at most
`batch_size()` rows, committing after each (issue 12): on SQLite every transaction holds the
write lock, so a batch must stay short for the web requests waiting behind it, and a run
interrupted between batches resumes where it stopped (a handled row no longer qualifies)."""
from __future__ import annotations

from collections.abc import Callable, Iterator

JOBS: dict[str, Callable[[], int]] = {}

# Rows per batch: a batch of notifications or moved rows commits in well under half a second
# on SQLite at 100,000 customers (measured with bench/jobs.py); JOBS_BATCH_SIZE overrides it.
BATCH_SIZE = 500


def job(name: str):
    """Register a scheduled job; a domain's module of jobs is imported by its init_app."""
    def register(func):
        JOBS[name] = func
        return func
    return register


def batch_size() -> int:
    from flask import current_app

    return max(1, int(current_app.config.get("JOBS_BATCH_SIZE", BATCH_SIZE)))


def batches(pick: Callable[[object, int], list], key: Callable = lambda row: row,
            start=0) -> Iterator[list]:
    """Keyset batches: `pick(after, limit)` returns up to `limit` rows in ascending order of
    `key(row)` past `after`; each batch the caller has handled is committed before the next is
    picked. The keyset (not "whatever still qualifies") ends the loop even when a row handled
    in this run still qualifies afterwards."""
    from intranet.extensions import db

    size, after = batch_size(), start
    while True:
        rows = pick(after, size)
        if not rows:
            return
        yield rows
        db.session.commit()
        if len(rows) < size:
            return
        after = key(rows[-1])


def run_all() -> dict[str, int]:
    """Run every job (each commits its batches; the rest commits here); returns how many
    things each one did."""
    from intranet.extensions import db

    done = {}
    for name, func in JOBS.items():
        try:
            done[name] = func()
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return done
