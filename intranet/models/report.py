"""Periodic reports (rules Q1, Q2) and the tier movements they count (rule C3's history).

A report is prepared by `flask jobs run` after each period (a quarter, or a month where the
company sets it) for one kind and, for a department's report, one sales department; its
author writes the text box and submits it; the general manager accepts it or sends it back.
Its figures are computed from the data while it is open and frozen when it is submitted."""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.core import clock
from intranet.extensions import db
from intranet.models.customer import TIERS, Customer, _in
from intranet.models.types import UTCDateTime
from intranet.models.user import Department, User
from intranet.workflows.report_states import ReportState

REPORT_KINDS = ("credit_sales", "consolidated", "visit_market", "archive_visit")


class Report(db.Model):
    __tablename__ = "report"
    __table_args__ = (
        CheckConstraint(_in("state", tuple(s.value for s in ReportState)), name="state_known"),
        CheckConstraint(_in("kind", REPORT_KINDS), name="kind_known"),
        CheckConstraint("months IN (1, 3)", name="months_known"),
        # One report of a kind per period and department (a company report has none): the
        # job that prepares them may run twice, or in two processes at once.
        Index("ux_report_department", "kind", "period_start", "department_id", unique=True),
        Index("ux_report_company", "kind", "period_start", unique=True,
              sqlite_where=db.text("department_id IS NULL"),
              postgresql_where=db.text("department_id IS NULL")),
        Index("ix_report_state_due", "state", "due_on", "id"),
        Index("ix_report_period", "period_start", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    months: Mapped[int]
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    due_on: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the end of due_on, company time
    state: Mapped[str] = mapped_column(String(20), default=ReportState.DRAFT.value)
    version: Mapped[int] = mapped_column(default=1)
    text: Mapped[str] = mapped_column(Text, default="")
    figures: Mapped[str | None] = mapped_column(Text)  # JSON, frozen at submission
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_comment: Mapped[str] = mapped_column(Text, default="")

    department: Mapped[Department | None] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def number(self) -> str:
        return f"BB-{self.period_start:%Y%m}-{self.id:05d}"

    @property
    def title(self) -> str:
        """E.g. 2026年第3季度 资信与销售分析 · 销售一部 (reports/package.py words it)."""
        from intranet.reports.kinds import title_of

        return title_of(self)

    who = title  # what the inbox shows where a record has no customer


class TierChange(db.Model):
    """A customer's effective tier changed (rule C3): the tier movements of a report (Q2),
    e.g. general → key. Written where the tier is computed or overridden."""

    __tablename__ = "tier_change"
    __table_args__ = (
        CheckConstraint(_in("from_tier", TIERS), name="from_tier_known"),
        CheckConstraint(_in("to_tier", TIERS), name="to_tier_known"),
        Index("ix_tier_change_time", "changed_at", "customer_id"),
        Index("ix_tier_change_customer", "customer_id", "changed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    from_tier: Mapped[str] = mapped_column(String(10))
    to_tier: Mapped[str] = mapped_column(String(10))

    customer: Mapped[Customer] = relationship()
