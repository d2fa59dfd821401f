from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.core import clock
from intranet.extensions import db
from intranet.models.customer import MONEY, Customer, Order, _in
from intranet.models.types import UTCDateTime
from intranet.models.user import Department, User
from intranet.workflows.credit_states import CreditState

GRADES = ("1", "2", "3")  # rule K1: 一级 / 二级 / 三级
CREDIT_STATES = tuple(s.value for s in CreditState)


def quarter_label(period_start: date) -> str:
    return f"{period_start:%Y} Q{(period_start.month - 1) // 3 + 1}"


def application_number(period_start: date, application_id: int) -> str:
    """ZX-2026Q3-00042: also for list rows read as plain columns, not entities."""
    return f"ZX-{period_start:%Y}Q{(period_start.month - 1) // 3 + 1}-{application_id:05d}"


class CreditApplication(db.Model):
    """A credit-limit application for one customer and quarter (rules K1, K2, K4-K6); its
    state is driven by workflows/credit.py."""

    __table_args__ = (
        CheckConstraint(_in("state", CREDIT_STATES), name="state_known"),
        CheckConstraint(_in("grade", GRADES), name="grade_known"),
        CheckConstraint("proposed_limit >= 0", name="proposed_limit_positive"),
        CheckConstraint("approved_limit IS NULL OR approved_limit >= 0",
                        name="approved_limit_positive"),
        # the GM's queue: pending, by deadline, ties by id (issue 12: no sort per page)
        Index("ix_credit_application_state_due", "state", "due_at", "id"),
        Index("ix_credit_application_customer_period", "customer_id", "period_start"),
        # the archive's decided applications, newest first, all or a department's (issue 12)
        Index("ix_credit_application_decided", "decided_at", "id"),
        Index("ix_credit_application_department_decided", "department_id", "decided_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    state: Mapped[str] = mapped_column(String(20), default="draft")
    version: Mapped[int] = mapped_column(default=1)
    period_start: Mapped[date] = mapped_column(Date)  # first day of the quarter applied for
    grade: Mapped[str] = mapped_column(String(1))
    proposed_limit: Mapped[Decimal] = mapped_column(MONEY)
    approved_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    reason: Mapped[str] = mapped_column(Text, default="")
    # Rule K2: the basis, as it stood when the application was written
    annual_sales: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    monthly_sales: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    payment_method: Mapped[str] = mapped_column(String(20), default="")
    payment_rate: Mapped[Decimal | None] = mapped_column(MONEY)  # 回款率, percent
    receivables: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    # Rule K6: receipt by the GM, and the deadline computed from it by the business calendar
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    customer: Mapped[Customer] = relationship()
    department: Mapped[Department | None] = relationship()
    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __mapper_args__ = {"version_id_col": version}

    @hybrid_property
    def overdue(self) -> bool:
        """Rule K6: pending with the GM past its stored deadline; in SQL as in Python, so the
        queue is right whether or not any job ran."""
        return self.state == "received" and self.due_at is not None and \
            self.due_at < clock.now()

    @overdue.inplace.expression
    @classmethod
    def _overdue_expression(cls):
        return (cls.state == "received") & (cls.due_at < clock.now())

    @property
    def number(self) -> str:
        return application_number(self.period_start, self.id)

    @property
    def quarter(self) -> str:
        return quarter_label(self.period_start)


class CreditBreach(db.Model):
    """Rule K3: a period during which a customer's receivables exceeded its effective limit.
    Owner and finance are notified when it opens, once."""

    __table_args__ = (Index("ix_credit_breach_open", "customer_id", "ended_at"),
                      # the over-limit list: open breaches, oldest first (partial: PostgreSQL
                      # does not take "ended_at IS NULL" as fixing an index's first column)
                      Index("ix_credit_breach_list", "started_at", "id",
                            sqlite_where=text("ended_at IS NULL"),
                            postgresql_where=text("ended_at IS NULL")))
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    credit_limit: Mapped[Decimal] = mapped_column(MONEY)
    receivables: Mapped[Decimal] = mapped_column(MONEY)

    customer: Mapped[Customer] = relationship()


class CreditOverride(db.Model):
    """Rule K7: a shipment released over the limit by the GM. The responsible rep and manager
    are named because they bear the loss."""

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"),
                                             index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    exposure: Mapped[Decimal] = mapped_column(MONEY)
    credit_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    reason: Mapped[str] = mapped_column(Text)
    forced_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    responsible_rep_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    responsible_manager_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    order: Mapped[Order] = relationship()
    forced_by: Mapped[User] = relationship(foreign_keys=[forced_by_id])
    on_behalf_of: Mapped[User | None] = relationship(foreign_keys=[on_behalf_of_id])
    responsible_rep: Mapped[User | None] = relationship(foreign_keys=[responsible_rep_id])
    responsible_manager: Mapped[User | None] = relationship(
        foreign_keys=[responsible_manager_id])
