from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.core import clock
from intranet.extensions import db
from intranet.models.customer import Customer, _in
from intranet.models.types import UTCDateTime
from intranet.models.user import Department, User
from intranet.workflows.complaint_states import (
    CHANNELS,
    CONTACT_KINDS,
    SEVERITIES,
    CaseKind,
    CaseState,
)


def case_number(year: int, seq: int) -> str:
    """TS-2026-000123: also for list rows read as plain columns, not entities."""
    return f"TS-{year}-{seq:06d}"


class LedgerCounter(db.Model):
    """The last number given per ledger and year (台帐, rule P1): numbers are taken under a
    row lock and never reused, even when a case is rolled back after taking one."""

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class ServiceCase(db.Model):
    """A consultation, suggestion or complaint (rules P1-P8); its state is driven by
    workflows/complaint.py."""

    __table_args__ = (
        CheckConstraint(_in("state", tuple(s.value for s in CaseState)), name="state_known"),
        CheckConstraint(_in("kind", tuple(k.value for k in CaseKind)), name="kind_known"),
        CheckConstraint(_in("channel", CHANNELS), name="channel_known"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity_known"),
        UniqueConstraint("year", "seq", name="uq_service_case_number"),
        Index("ix_service_case_queue", "state", "priority", "next_due_at"),
        Index("ix_service_case_received", "received_at"),
        Index("ix_service_case_customer_received", "customer_id", "received_at"),
        # the archive's closed cases, newest first, all or a department's (issue 12)
        Index("ix_service_case_closed", "closed_at", "id"),
        Index("ix_service_case_department_closed", "department_id", "closed_at", "id"),
        # the queue's "mine" (complaints/ledger.py waiting_on): each branch of its OR reads
        # only the open cases of the user, with the sort keys, instead of every case the
        # user ever had (issue 12: 3,497 table reads -> 1,131 index entries per page)
        Index("ix_service_case_handler_queue", "handler_id", "state", "priority",
              "next_due_at", "id"),
        Index("ix_service_case_leader_queue", "leader_id", "state", "priority", "next_due_at",
              "id"),
        Index("ix_service_case_registered_queue", "registered_by_id", "handler_id", "state",
              "priority", "next_due_at", "id"),
        # a department's cases in a state (the manager's "awaiting your decision" count)
        Index("ix_service_case_department_state", "department_id", "state", "next_due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10), default="general")
    state: Mapped[str] = mapped_column(String(20), default=CaseState.REGISTERED.value)
    version: Mapped[int] = mapped_column(default=1)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer.id", ondelete="SET NULL"))
    complainant_name: Mapped[str] = mapped_column(String(50), default="")
    complainant_phone: Mapped[str] = mapped_column(String(30), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    description: Mapped[str] = mapped_column(Text)
    # Rule P6: 0 = severe or a VIP / key customer's, handled first; repeats are flagged
    priority: Mapped[int] = mapped_column(default=1)
    repeat: Mapped[bool] = mapped_column(default=False)
    # Rule P7: the first responder and what they told the customer
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    first_answer: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[str] = mapped_column(Text, default="")
    promised_on: Mapped[date | None] = mapped_column(Date)
    # Rules P1, P3, P4
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    opinion: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    meeting_on: Mapped[date | None] = mapped_column(Date)
    authorities_notified: Mapped[bool | None] = mapped_column()
    implementation: Mapped[str] = mapped_column(Text, default="")
    reply: Mapped[str] = mapped_column(Text, default="")
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Rule P8
    satisfaction: Mapped[str] = mapped_column(Text, default="")
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Rule P5 (suggestions): the leader it is reported to, and the outcome
    # indexed: the queue's "mine" (handler, leader or registrant) is an OR that SQLite serves
    # from three indexes only if each column has one
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    adopted: Mapped[bool | None] = mapped_column()
    # Rule P5: the nearest open deadline (workflows/deadlines.py keeps it), for the queue
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    customer: Mapped[Customer | None] = relationship()
    department: Mapped[Department | None] = relationship()
    registered_by: Mapped[User] = relationship(foreign_keys=[registered_by_id])
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    leader: Mapped[User | None] = relationship(foreign_keys=[leader_id])
    people: Mapped[list["CasePerson"]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CasePerson.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def number(self) -> str:
        return case_number(self.year, self.seq)

    @property
    def who(self) -> str:
        return self.customer.name if self.customer else self.complainant_name

    def user_ids(self, relation: str) -> set[int]:
        return {p.user_id for p in self.people if p.relation == relation}

    @property
    def overdue(self) -> bool:
        return self.next_due_at is not None and self.next_due_at < clock.now()


class CasePerson(db.Model):
    """A staff member named on a case: "subject" (complained about: recused, rule P2) or
    "attendee" (of the management meeting that resolved an escalation, rule P3)."""

    __table_args__ = (
        CheckConstraint(_in("relation", ("subject", "attendee")), name="relation_known"),
        UniqueConstraint("case_id", "user_id", "relation", name="uq_case_person"),
        Index("ix_case_person_user", "user_id", "relation"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("service_case.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    relation: Mapped[str] = mapped_column(String(10))

    case: Mapped[ServiceCase] = relationship(back_populates="people")
    user: Mapped[User] = relationship()


class CaseContact(db.Model):
    """Every contact with the complainant (rule P4): the arrangement told, progress, and,
    only after the decision, a promise."""

    __table_args__ = (CheckConstraint(_in("kind", CONTACT_KINDS), name="kind_known"),
                      Index("ix_case_contact_case", "case_id", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("service_case.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    user: Mapped[User] = relationship()


class CorrectiveAction(db.Model):
    """Rule P8: what is done so that it does not happen again, who owns it, by when, and who
    verified it was done."""

    __table_args__ = (Index("ix_corrective_action_case", "case_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("service_case.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    due_on: Mapped[date] = mapped_column(Date)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])


class CaseAttachment(db.Model):
    """Original materials of a case (rule P1), checked like customer attachments and always
    served as a download."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("service_case.id", ondelete="CASCADE"),
                                         index=True)
    filename: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # loaded to download only
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    uploaded_by: Mapped[User] = relationship()
