"""The customer file card 客户档案表 (issue 11 §2): the customer's data, contacts, tier and credit
history, owners over time, complaints and visits, as they stood at a moment (the end of a
year for a past year's file, now for the current one)."""
from __future__ import annotations

from datetime import date, datetime, time

from flask import render_template
from sqlalchemy import func, select

from intranet.archive import issue
from intranet.archive.records import RecordType, register
from intranet.core import clock, settings
from intranet.core.i18n import lazy_gettext as _l
from intranet.customers.labels import (
    ACTIVITY_LABELS,
    PAYMENT_LABELS,
    RELATIONSHIP_LABELS,
    TIER_LABELS,
)
from intranet.extensions import db
from intranet.models import (
    Activity,
    AuditEntry,
    Contact,
    CreditApplication,
    Customer,
    OwnershipRecord,
    ServiceCase,
)

TITLE = _l("Customer file card")


def year_end(year: int | None) -> datetime | None:
    """The moment a year's file stands at: the end of that year (company time); None for the
    current year or later (the file as it is now)."""
    today = clock.now().astimezone(settings.tz()).date()
    if year is None or year >= today.year:
        return None
    return datetime.combine(date(year + 1, 1, 1), time(), settings.tz())


def _until(column, as_of):
    return column < as_of if as_of is not None else column.is_not(None)


def context(customer: Customer, as_of: datetime | None = None) -> dict:
    def rows(model, column, *extra, order=None):
        return db.session.scalars(select(model).where(
            model.customer_id == customer.id, _until(column, as_of), *extra)
            .order_by(order if order is not None else column, model.id)).all()
    owners = rows(OwnershipRecord, OwnershipRecord.at)
    owner = customer.owner if as_of is None else (owners[-1].to_user if owners else None)
    return {
        "customer": customer, "as_of": as_of, "owner": owner, "tiers": TIER_LABELS,
        "relations": RELATIONSHIP_LABELS, "payments": PAYMENT_LABELS,
        "activity_kinds": ACTIVITY_LABELS,
        "contacts": db.session.scalars(select(Contact).where(
            Contact.customer_id == customer.id).order_by(Contact.id)).all(),
        "applications": rows(CreditApplication, CreditApplication.decided_at),
        "owners": owners,
        "cases": rows(ServiceCase, ServiceCase.received_at),
        "visits": rows(Activity, Activity.occurred_at),
    }


def data(customer: Customer, as_of: datetime | None = None) -> dict:
    c = context(customer, as_of)
    return {
        "as_of": as_of,
        "customer": {k: getattr(customer, k) for k in (
            "id", "name", "credit_code", "legal_representative", "registered_capital",
            "industry", "size", "region", "address", "website", "payment_method",
            "relation", "tier", "tier_override", "credit_grade", "blacklisted",
            "owner_id", "department_id", "created_at")},
        "contacts": [{"name": x.name, "title": x.title, "phone": x.phone, "email": x.email}
                     for x in c["contacts"]],
        "credit": [{"number": a.number, "state": a.state, "grade": a.grade,
                    "approved_limit": a.approved_limit, "decided_at": a.decided_at}
                   for a in c["applications"]],
        "owners": [{"kind": o.kind, "from": o.from_user_id, "to": o.to_user_id, "at": o.at,
                    "reason": o.reason} for o in c["owners"]],
        "complaints": [{"number": s.number, "state": s.state, "received_at": s.received_at}
                       for s in c["cases"]],
        "visits": [{"kind": v.kind, "at": v.occurred_at, "by": v.user_id,
                    "summary": v.summary} for v in c["visits"]],
    }


def version(customer: Customer, as_of: datetime | None = None) -> int:
    """How many times the file was written (created or changed) up to the moment."""
    return db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.object_type == "customer", AuditEntry.object_id == str(customer.id),
        AuditEntry.action.in_(("create", "update")),
        *([AuditEntry.ts < as_of] if as_of is not None else []))) or 1


def number(customer: Customer, year: int | None = None) -> str:
    return f"KH-{customer.id:06d}" + (f"-{year}" if year_end(year) else "")


def document(customer: Customer, year: int | None = None) -> issue.Document:
    as_of = year_end(year)
    return issue.Document(
        key=RECORD.key, record_id=customer.id, number=number(customer, year),
        version=version(customer, as_of), title=str(TITLE),
        body=render_template("pdf/customer_file.html", **context(customer, as_of)),
        data=data(customer, as_of), file_prefix=RECORD.file_prefix)


RECORD = RecordType(
    key="customer_file", label=TITLE, model=Customer, template="pdf/customer_file.html",
    number=number, context=context, data=data, closed_at=Customer.created_at,
    customer_id=Customer.id, department_id=Customer.department_id,
    file_prefix="customer-file", version=version)

register(RECORD)
