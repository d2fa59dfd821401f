"""Access requests to sealed customer files (rule C7): filing one (what the rules demand before
the request exists), who sees which, the settings, the notification texts and the job that
marks expired grants for the lists. The machine is workflows/archive_access.py."""
from __future__ import annotations

from sqlalchemy import insert, literal, null, or_, select, true, update

from intranet.archive import sealing
from intranet.core import audit, clock, settings
from intranet.core.errors import FieldError
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.jobs import Pace, job
from intranet.core.permissions import Permission
from intranet.core.roles import Role
from intranet.core.settings import SettingDef
from intranet.extensions import db
from intranet.models import ArchiveAccessRequest, Customer, WorkflowHistory
from intranet.models.types import UTCDateTime
from intranet.workflows import engine
from intranet.workflows.archive_access import REQUESTERS, ArchiveAccessFlow
from intranet.workflows.archive_access_states import OPEN_STATES, AccessState

A = ArchiveAccessRequest
MAX_DAYS = "archive_access_max_days"
ASKERS = Permission(roles=REQUESTERS)
DECIDERS = Permission(roles=frozenset({Role.GENERAL_MANAGER}))

settings.register(
    SettingDef(MAX_DAYS, "int", 30, _l("Longest access to a sealed file (days)"),
               _l("An approved request opens one customer's sealed file for at most this "
                  "many days."), minimum=1, maximum=365),
)

KINDS = {
    "archive_access_requested": _l("%(who)s asks to open the sealed file of %(customer)s for "
                                   "%(year)s for %(days)s days (%(number)s): please approve "
                                   "or reject."),
    "archive_access_decided": _l("Your request %(number)s to open the sealed file of "
                                 "%(customer)s for %(year)s is now “%(state)s”. %(why)s"),
}


def max_days() -> int:
    return settings.get(MAX_DAYS)


def request_access(user, customer: Customer | None, year: int | None, reason: str,
                   days: int | None) -> ArchiveAccessRequest:
    """File a request for one customer's sealed file of one year; the GM is told."""
    grant = ASKERS.grant_for(user)
    if grant is None:
        raise FieldError("reason", _l("Only archivists and the general manager may ask."))
    if customer is None:
        raise FieldError("customer", _l("Choose a customer."))
    if year is None or not sealing.is_sealed(year):
        raise FieldError("year", _l("Choose a sealed year: the files of other years open "
                                    "without a request."))
    reason = (reason or "").strip()
    if not reason:
        raise FieldError("reason", _l("Please say why you need this file."))
    limit = max_days()
    if days is None or not 1 <= days <= limit:
        raise FieldError("days", _l("Choose between 1 and %(n)s days.", n=limit))
    existing = db.session.scalar(select(A).where(
        A.requested_by_id == user.id, A.customer_id == customer.id, A.year == year,
        or_(A.state.in_(OPEN_STATES), sealing._live(clock.now()))).limit(1))
    if existing is not None:
        raise FieldError("reason", _l("Your request %(number)s for this file is already "
                                      "waiting or in force.", number=existing.number))
    row = A(customer_id=customer.id, customer=customer, year=year, requested_by_id=user.id,
            reason=reason, days=days, created_at=clock.now())
    engine.start(row, user=user, role=grant.role, comment=reason,
                 details={"customer": customer.id, "year": year, "days": days})
    return row


def request_scope(user):
    """The GM (or a deputy in force for the GM) sees every request; others their own."""
    if DECIDERS.grant_for(user) is not None:
        return true()
    return A.requested_by_id == user.id


def request_or_none(request_id: int, user) -> ArchiveAccessRequest | None:
    return db.session.scalar(select(A).where(A.id == request_id, request_scope(user)))


def waiting_for(user):
    """Requests the user may decide now: pending, and not their own."""
    if DECIDERS.grant_for(user) is None:
        return None
    return select(A).where(A.state == AccessState.REQUESTED.value,
                           A.requested_by_id != user.id)


def display_state(row, now=None) -> str:
    """The state a list shows: an approved grant past its end reads as expired before the job
    has marked it."""
    if row.state == AccessState.APPROVED.value and not row.live(now or clock.now()):
        return AccessState.EXPIRED.value
    return row.state


@job("archive_access_expiry")
def expire() -> int:
    """Approved grants past their end become "expired", set-based: per batch, one history row
    each (INSERT ... SELECT), one UPDATE and one audit entry naming them, committed together.
    Access never waited for this: grant_for compares now with expires_at."""
    now = clock.now()
    done, pace = 0, Pace()
    while True:
        ids = list(db.session.scalars(select(A.id).where(
            A.state == AccessState.APPROVED.value, A.expires_at <= now)
            .order_by(A.id).limit(pace.size)))
        if ids:
            _expire(ids, now)
            db.session.commit()
        done += len(ids)
        if not pace.done(len(ids)):  # an expired grant no longer qualifies: none is left
            return done


def _expire(ids: list[int], now) -> None:
    table = WorkflowHistory.__table__
    db.session.execute(insert(table).from_select(
        ["object_type", "object_id", "event", "from_state", "to_state", "user_id", "role",
         "on_behalf_of_id", "at", "comment"],
        select(literal(ArchiveAccessFlow.object_type), A.id, literal("expire"),
               literal(AccessState.APPROVED.value), literal(AccessState.EXPIRED.value),
               null(), literal(engine.SYSTEM), null(), literal(now, UTCDateTime),
               literal("")).where(A.id.in_(ids))))
    db.session.execute(update(A.__table__).where(
        A.__table__.c.id.in_(ids), A.__table__.c.state == AccessState.APPROVED.value)
        .values(state=AccessState.EXPIRED.value, version=A.__table__.c.version + 1))
    audit.record(audit.Action.UPDATE, ArchiveAccessFlow.object_type, None, user=None,
                 details={"event": "expire", "ids": ids})
