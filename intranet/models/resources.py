from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.core import clock
from intranet.extensions import db
from intranet.models.customer import Customer, _in
from intranet.models.types import UTCDateTime
from intranet.models.user import Department, User
from intranet.workflows.resource_states import (
    DEAL_CLASSES,
    OPEN_STATES,
    RequestKind,
    RequestState,
)

OWNERSHIP_KINDS = ("registered", "import", "allocation", "claim", "transfer", "reclaim",
                   "reassignment", "conflict")  # conflict: a C2 claim decided, owner kept
RECLAIM_KINDS = ("no_activity", "prospect", "former")  # rules R2, R5, R6


def request_number(created_at: datetime, request_id: int) -> str:
    """ZY-2026-000042: also for list rows read as plain columns, not entities."""
    return f"ZY-{created_at:%Y}-{request_id:06d}"


class CustomerPool(db.Model):
    """A shared pool (公海, rules R5, R6): customers without an owner wait here to be claimed
    or allocated. A company may keep one per department."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))

    department: Mapped[Department | None] = relationship()


class OwnershipRecord(db.Model):
    """Every change of a customer's owner (rules R1, R3, R4): from, to, why, by which
    workflow, approved by whom, when. Sales are attributed to the owner at the transaction's
    date from these rows; they are never edited."""

    __table_args__ = (
        CheckConstraint(_in("kind", OWNERSHIP_KINDS), name="kind_known"),
        Index("ix_ownership_record_customer", "customer_id", "at"),
        # the reclaim batches, newest first: one group per moment and rule, read in index order
        # with the customer to check the scope against (issue 12)
        Index("ix_ownership_record_batch", "kind", "object_type", "at", "object_id",
              "customer_id"),
        # The reclaim job finds its batch's records by moment (issue 12): without this each
        # batch scanned every record ever written
        Index("ix_ownership_record_at", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("customer_pool.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    object_type: Mapped[str] = mapped_column(String(40), default="")  # the workflow, if any
    object_id: Mapped[int | None]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: the system
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    from_user: Mapped[User | None] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    pool: Mapped[CustomerPool | None] = relationship()


class ReclaimRule(db.Model):
    """An automatic reclaim rule stored as data (rules R2, R5, R6): its type, days, which
    customers it applies to, the pool it sends them to, the owner's warning lead times and an
    on/off switch."""

    __table_args__ = (CheckConstraint(_in("kind", RECLAIM_KINDS), name="kind_known"),
                      CheckConstraint("days > 0", name="days_positive"))
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    days: Mapped[int]
    tiers: Mapped[str] = mapped_column(String(60), default="")  # "vip,key"; empty: all tiers
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    pool_id: Mapped[int] = mapped_column(ForeignKey("customer_pool.id"))
    warn_days: Mapped[str] = mapped_column(String(30), default="7 1")
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    pool: Mapped[CustomerPool] = relationship()
    department: Mapped[Department | None] = relationship()

    @property
    def tier_list(self) -> list[str]:
        return [t for t in self.tiers.split(",") if t]

    @property
    def lead_days(self) -> list[int]:
        return sorted({int(d) for d in self.warn_days.split() if d.isdigit()}, reverse=True)


class ResourceRequest(db.Model):
    """A request about a customer's owner or class that someone must approve: a transfer
    between reps (rule R1), a claim from the pool (R5, R6), a conflict claim after a refused
    registration (C2) or a re-classification (C4). One table, one subclass and one machine per
    kind (single-table inheritance), so that every such request reads alike in lists, the
    history and the PDF record."""

    __tablename__ = "resource_request"
    __table_args__ = (
        CheckConstraint(_in("state", tuple(s.value for s in RequestState)), name="state_known"),
        CheckConstraint(_in("kind", tuple(k.value for k in RequestKind)), name="kind_known"),
        CheckConstraint(f"proposed_class IS NULL OR {_in('proposed_class', DEAL_CLASSES)}",
                        name="proposed_class_known"),
        Index("ix_resource_request_queue", "kind", "state", "department_id", "created_at"),
        Index("ix_resource_request_customer", "customer_id", "created_at"),
        Index("ix_resource_request_requester", "requested_by_id", "created_at"),
        Index("ix_resource_request_classified_by", "classified_by_id", "state", "decided_at"),
        # the archive's decided transfers and claims, newest first (issue 12)
        Index("ix_resource_request_decided", "kind", "decided_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default=RequestState.REQUESTED.value)
    version: Mapped[int] = mapped_column(default=1)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # owner when asked
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))    # the new owner
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("customer_pool.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    proposed_class: Mapped[str | None] = mapped_column(String(1))  # rule C4
    outcome: Mapped[str] = mapped_column(String(20), default="")   # rule C2: keep/transfer/share
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    ownership_record_id: Mapped[int | None] = mapped_column(ForeignKey("ownership_record.id"))
    # rule R1: the open records that followed the customer ("credit_application 12, ...")
    handed_over: Mapped[str] = mapped_column(Text, default="")
    # rule C4: the desk agent whose class a re-classification questions (the "wrong
    # classification" mark when it is approved)
    classified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    customer: Mapped[Customer] = relationship()
    department: Mapped[Department | None] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    from_user: Mapped[User | None] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    pool: Mapped[CustomerPool | None] = relationship()
    ownership_record: Mapped[OwnershipRecord | None] = relationship()
    classified_by: Mapped[User | None] = relationship(foreign_keys=[classified_by_id])

    __mapper_args__ = {"version_id_col": version, "polymorphic_on": kind}

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def number(self) -> str:
        return request_number(self.created_at, self.id)


class TransferRequest(ResourceRequest):
    __mapper_args__ = {"polymorphic_identity": RequestKind.TRANSFER.value}


class PoolClaim(ResourceRequest):
    __mapper_args__ = {"polymorphic_identity": RequestKind.CLAIM.value}


class ConflictClaim(ResourceRequest):
    __mapper_args__ = {"polymorphic_identity": RequestKind.CONFLICT.value}


class Reclassification(ResourceRequest):
    __mapper_args__ = {"polymorphic_identity": RequestKind.RECLASSIFICATION.value}
