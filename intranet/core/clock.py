"""The one source of "now", so tests can freeze time (deadlines, session timeouts)."""
from contextlib import contextmanager
from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(moment: datetime | None) -> None:
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = moment.astimezone(UTC) if moment is not None else None


@contextmanager
def at(moment: datetime):
    """Run a block as if it were `moment` (demo data with a history), then restore."""
    global _frozen
    previous = _frozen
    freeze(moment)
    try:
        yield moment
    finally:
        _frozen = previous
