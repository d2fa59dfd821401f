"""Scheduled side effects of every workflow (reminders, escalations, activation, reclaim), run
by one idempotent command, `flask jobs run`, from cron or a systemd timer. Deadlines and
"overdue" never depend on it (they are stored and derived in SQL); the jobs only notify and
move rows whose time has come, and a second run the same minute does nothing new."""
from __future__ import annotations

from collections.abc import Callable

JOBS: dict[str, Callable[[], int]] = {}


def job(name: str):
    """Register a scheduled job; a domain's module of jobs is imported by its init_app."""
    def register(func):
        JOBS[name] = func
        return func
    return register


def run_all() -> dict[str, int]:
    """Run every job in its own transaction; returns how many things each one did."""
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
