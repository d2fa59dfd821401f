"""The task queue for long work a user starts (DESIGN.md "Background work"): Huey, with its
SQLite storage in the instance folder as the embedded default and Redis when REDIS_URL is set.

The Huey instance is built once, at import, from the same environment as the app's config
(`Config.REDIS_URL`, `Config.HUEY_SQLITE_PATH`), because tasks bind to it when their module is
imported. The consumer runs `intranet.core.worker.huey`, which creates the Flask app once per
consumer process and binds it here (`bind`); every task then runs inside an app context.
Immediate mode (tasks run at once, in memory) is only for a test that asks for it
(`immediate()`).

The platform knows no domain: domains declare their tasks with `task`, `periodic_task` and
`on_startup` from here."""
from __future__ import annotations

import functools
from contextlib import contextmanager
from pathlib import Path

from flask import has_app_context
from huey import RedisHuey, SqliteHuey
from sqlalchemy import event
from sqlalchemy.orm import Session

from intranet.config import Config
from intranet.extensions import db

NAME = "intranet"
_app = None


def build(redis_url: str = "", sqlite_path: str = ""):
    """A Huey on Redis (REDIS_URL) or on a SQLite file (HUEY_SQLITE_PATH)."""
    if redis_url:
        return RedisHuey(NAME, url=redis_url)
    Path(sqlite_path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(NAME, filename=sqlite_path)


huey = build(Config.REDIS_URL, Config.HUEY_SQLITE_PATH)


def bind(app) -> None:
    """The app the consumer's tasks run in (one per consumer process)."""
    global _app
    _app = app


def _in_app(func):
    """Run func in an app context: the caller's (a test, immediate mode) or the bound app's."""
    @functools.wraps(func)
    def run(*args, **kwargs):
        if has_app_context() or _app is None:
            return func(*args, **kwargs)
        with _app.app_context():
            return func(*args, **kwargs)
    return run


def task(**options):
    return lambda func: huey.task(**options)(_in_app(func))


def periodic_task(validate_datetime, **options):
    return lambda func: huey.periodic_task(validate_datetime, **options)(_in_app(func))


def on_startup(func):
    """Called in each consumer worker as it starts (after a restart too)."""
    huey.on_startup(func.__name__)(_in_app(func))
    return func


_PENDING = "queue_after_commit"


def after_commit(task, *args) -> None:
    """Enqueue task(*args) once the current transaction commits (a consumer must find the
    rows it is given); dropped if it rolls back."""
    db.session.info.setdefault(_PENDING, []).append((task, args))


@event.listens_for(Session, "after_commit")
def _send_pending(session) -> None:
    for task, args in session.info.pop(_PENDING, []):
        task(*args)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session) -> None:
    session.info.pop(_PENDING, None)


@contextmanager
def immediate():
    """Tests only: tasks run at once, in the caller, with an in-memory store."""
    huey.immediate = True
    try:
        yield huey
    finally:
        huey.immediate = False
