"""Scheduled side effects of every workflow (reminders, escalations, activation, reclaim), run
by one idempotent command, `flask jobs run`, from cron or a systemd timer. Deadlines and
"overdue" never depend on it (they are stored and derived in SQL); the jobs only notify and
move rows whose time has come, and a second run the same minute does nothing new.

Each job decides in SQL which rows need work and handles them in batches of at most
`batch_size()` rows (fewer while batches take long: `Pace`), committing after each (issue 12):
on SQLite every transaction holds the write lock, so a batch must stay short for the web
requests waiting behind it, and a run interrupted between batches resumes where it stopped (a
handled row no longer qualifies)."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator

JOBS: dict[str, Callable[[], int]] = {}

# Rows per batch: a batch of notifications or moved rows commits in well under half a second
# on SQLite at 100,000 customers (measured with bench/jobs.py); JOBS_BATCH_SIZE overrides it.
BATCH_SIZE = 500
# What a batch may hold the write lock for: on a loaded machine the same 500 rows took 0.7 s
# (bench/jobs.py), so a full batch over this halves the next one, down to MIN_BATCH rows.
BATCH_SECONDS = 0.2
MIN_BATCH = 100


def job(name: str):
    """Register a scheduled job; a domain's module of jobs is imported by its init_app."""
    def register(func):
        JOBS[name] = func
        return func
    return register


def batch_size() -> int:
    from flask import current_app

    return max(1, int(current_app.config.get("JOBS_BATCH_SIZE", BATCH_SIZE)))


class Pace:
    """The size of a job's next batch: batch_size() rows, halved after a full batch that took
    over BATCH_SECONDS from its first statement to its commit, doubled back (up to
    batch_size()) after one that took under half of that. Never below MIN_BATCH: a smaller
    batch size (the tests') is never paced by the clock, so its statements stay a function of
    the rows."""

    def __init__(self):
        self.most = self.size = batch_size()
        self.started = time.perf_counter()

    def done(self, handled: int) -> bool:
        """After a batch of `handled` rows was committed: may another follow (a batch short of
        the size took the last rows)? Sizes the next one."""
        full = handled >= self.size
        took = time.perf_counter() - self.started
        if full and took > BATCH_SECONDS and self.size > MIN_BATCH:
            self.size = max(MIN_BATCH, self.size // 2)
        elif full and took < BATCH_SECONDS / 2:
            self.size = min(self.most, self.size * 2)
        self.started = time.perf_counter()
        return full


def batches(pick: Callable[[object, int], list], key: Callable = lambda row: row,
            start=0) -> Iterator[list]:
    """Keyset batches: `pick(after, limit)` returns up to `limit` rows in ascending order of
    `key(row)` past `after`; each batch the caller has handled is committed before the next is
    picked. The keyset (not "whatever still qualifies") ends the loop even when a row handled
    in this run still qualifies afterwards."""
    from intranet.extensions import db

    pace, after = Pace(), start
    while True:
        rows = pick(after, pace.size)
        if not rows:  # ends the pick's transaction too: a job of several picks (one per rule
            db.session.commit()  # and lead time) holds the write lock for one at a time
            return
        yield rows
        db.session.commit()
        if not pace.done(len(rows)):
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
