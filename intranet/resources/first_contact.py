"""Ten-minute first contact (rule R8): an allocation starts a deadline (the setting
`resources_first_contact_minutes`, 10 by default) for the rep to log the first contact with the
customer. It is a WorkflowDeadline of the allocation's ownership record (object_type
"ownership_record", kind "first_contact"); logging an activity on the customer as that rep
meets it (`contact_logged`, called where activities are recorded).

Working time: the business calendar knows working days, not working hours. On the "calendar"
setting every minute counts; on "working", only minutes of working days count, so an
allocation late on a Friday runs on from midnight into Monday (or the next working day), and one
made on a holiday starts its clock when the next working day begins.

`flask jobs run` finds the misses in one INSERT … SELECT per batch (a ContactMiss per
deadline, unique, so a second run adds nothing), marks the deadlines and tells the department's
managers and the rep. A rep with a miss whose skip is not used yet sits out their next
allocation (see allocation.py); that allocation uses the skip up."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import exists, insert, literal, select, update
from sqlalchemy.orm import selectinload

from intranet.core import clock, settings
from intranet.extensions import db
from intranet.models import ContactMiss, Customer, OwnershipRecord, User, WorkflowDeadline
from intranet.models.types import UTCDateTime
from intranet.resources.settings import FIRST_CONTACT_MINUTES
from intranet.workflows import calendar

OBJECT_TYPE = "ownership_record"
KIND = "first_contact"


def due_at(start: datetime) -> datetime:
    """`start` plus the first-contact minutes of working time (see the module's doc)."""
    remaining = timedelta(minutes=settings.get(FIRST_CONTACT_MINUTES))
    if settings.get("business_calendar") != "working":
        return start + remaining
    zone = settings.tz()
    local = start.astimezone(zone)
    for _ in range(400):  # a year of holidays at most
        day = local.date()
        next_midnight = datetime.combine(day + timedelta(days=1), time(), zone)
        if calendar.is_working_day(day):
            if remaining <= next_midnight - local:
                return (local + remaining).astimezone(start.tzinfo)
            remaining -= next_midnight - local
        local = next_midnight
    return start + remaining


def start(record: OwnershipRecord) -> WorkflowDeadline:
    """The clock of an allocation (the record must have its id)."""
    deadline = WorkflowDeadline(object_type=OBJECT_TYPE, object_id=record.id, kind=KIND,
                                started_at=record.at, due_at=due_at(record.at), pausable=False,
                                note="", warned_percent=0, paused_seconds=0, escalation=0,
                                next_warning_at=None)
    db.session.add(deadline)
    return deadline


def _of(customer_id: int, user_id: int):
    return select(OwnershipRecord.id).where(OwnershipRecord.customer_id == customer_id,
                                            OwnershipRecord.to_user_id == user_id,
                                            OwnershipRecord.kind == "allocation")


def _running():
    return ((WorkflowDeadline.object_type == OBJECT_TYPE) & (WorkflowDeadline.kind == KIND)
            & WorkflowDeadline.met_at.is_(None))


def contact_logged(customer_id: int, user_id: int) -> int:
    """The rep logged an activity on the customer: their running first-contact clocks on it
    stop as met now (one statement; 0 when there is none)."""
    return db.session.execute(
        update(WorkflowDeadline).where(_running(), WorkflowDeadline.object_id.in_(
            _of(customer_id, user_id))).values(met_at=clock.now())
        .execution_options(synchronize_session=False)).rowcount


def running_for(user_id: int, limit: int = 10):
    """(customer id, name, due) of the rep's fresh allocations still waiting for the first
    contact, nearest first: the rep's home page."""
    return db.session.execute(
        select(Customer.id, Customer.name, WorkflowDeadline.due_at)
        .join(OwnershipRecord, OwnershipRecord.id == WorkflowDeadline.object_id)
        .join(Customer, Customer.id == OwnershipRecord.customer_id)
        .where(_running(), OwnershipRecord.to_user_id == user_id,
               Customer.owner_id == user_id, ~exists().where(
                   ContactMiss.deadline_id == WorkflowDeadline.id))
        .order_by(WorkflowDeadline.due_at).limit(limit)).all()


def record_misses(now: datetime, limit: int | None = None) -> list[ContactMiss]:
    """Rule R8, set-based: a ContactMiss for every first-contact clock past due and not met
    whose customer the rep still owns (at most `limit` of them, oldest deadline first); returns
    the new ones, with their rep and customer loaded."""
    wd, rec = WorkflowDeadline, OwnershipRecord
    found = (select(wd.id, rec.id, rec.customer_id, rec.to_user_id, User.department_id,
                    literal(now, UTCDateTime()))
             .join(rec, rec.id == wd.object_id).join(User, User.id == rec.to_user_id)
             .join(Customer, Customer.id == rec.customer_id)
             .where(_running(), wd.due_at < now, Customer.owner_id == rec.to_user_id,
                    ~exists().where(ContactMiss.deadline_id == wd.id))
             .order_by(wd.id))
    added = list(db.session.scalars(insert(ContactMiss).from_select(
        ["deadline_id", "ownership_record_id", "customer_id", "user_id", "department_id",
         "missed_at"], found if limit is None else found.limit(limit))
        .returning(ContactMiss.id)))
    if not added:
        return []
    db.session.execute(update(wd).where(wd.id.in_(
        select(ContactMiss.deadline_id).where(ContactMiss.id.in_(added)))).values(escalation=1)
        .execution_options(synchronize_session=False))
    return list(db.session.scalars(select(ContactMiss)
                                   .options(selectinload(ContactMiss.user),
                                            selectinload(ContactMiss.customer))
                                   .where(ContactMiss.id.in_(added)).order_by(ContactMiss.id)))


def pending_skips(user_ids) -> dict[int, ContactMiss]:
    """{rep: their oldest miss whose skip is not used yet}: they sit out the next
    allocation."""
    ids = list(user_ids)
    if not ids:
        return {}
    found: dict[int, ContactMiss] = {}
    for miss in db.session.scalars(select(ContactMiss).where(
            ContactMiss.user_id.in_(ids), ContactMiss.skip_used_at.is_(None))
            .order_by(ContactMiss.missed_at, ContactMiss.id)):
        found.setdefault(miss.user_id, miss)
    return found


def use_skips(department_id: int | None, record: OwnershipRecord) -> int:
    """An allocation in the department was made: the reps who sat it out have served their
    skip (taking back the very customer a rep missed does not count as their skip)."""
    if department_id is None:
        return 0
    return db.session.execute(
        update(ContactMiss).where(ContactMiss.department_id == department_id,
                                  ContactMiss.skip_used_at.is_(None),
                                  ContactMiss.user_id != record.to_user_id,
                                  ContactMiss.customer_id != record.customer_id)
        .values(skip_used_at=record.at, skip_used_record_id=record.id)
        .execution_options(synchronize_session=False)).rowcount


def missed_in(department_id: int | None):
    """SQL: the customers of the department whose allocation's first contact was missed and
    that the rep still owns: what the director may reallocate."""
    return (ContactMiss.department_id == department_id) & \
        (Customer.owner_id == ContactMiss.user_id) & \
        (ContactMiss.ownership_record_id == _latest_record())


def _latest_record():
    return (select(OwnershipRecord.id)
            .where(OwnershipRecord.customer_id == ContactMiss.customer_id)
            .order_by(OwnershipRecord.at.desc(), OwnershipRecord.id.desc()).limit(1)
            .correlate_except(OwnershipRecord).scalar_subquery())
