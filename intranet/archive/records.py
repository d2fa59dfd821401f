"""The kinds of record the archive keeps, each declared once by its domain (`register`): how
to find the closed ones, how to print one, what data to attach, and who signed it. The archive
browser, the single download, the batch export and the verifier all work from this table, so
a new record type is one registration, not a new screen."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from intranet.extensions import db
from intranet.models import WorkflowHistory


@dataclass(frozen=True)
class Signer:
    """One line of the signature block (经办 / 审核 / 批准): the label printed and the history
    events that sign it; the latest such event gives the name and the time."""

    label: Any  # a lazy string
    events: tuple[str, ...]


@dataclass(frozen=True)
class RecordType:
    key: str                                  # "credit_application", also the audit object type
    label: Any                                # lazy string, e.g. 客户资信额度审批表
    model: type
    template: str                             # the PDF body template
    number: Callable[[Any], str]              # the record number printed and in file names
    context: Callable[[Any], dict]            # the body template's context
    data: Callable[[Any], dict]               # the JSON attached to the PDF (plain JSON types)
    closed_at: Any                            # column: when the record closed (NULL while open)
    customer_id: Any                          # column: the customer the record is about
    department_id: Any = None                 # column expression for the department filter
    history_type: str | None = None           # WorkflowHistory.object_type, when it has one
    signers: tuple[Signer, ...] = ()
    file_prefix: str = "record"
    version: Callable[[Any], int] = field(default=lambda row: getattr(row, "version", 1))
    # The row as its ordinary readers may see it; None means "not in this user's scope". The
    # archive uses its own scope (archivists and the GM read every closed record).
    load: Callable[[int], Any] | None = None

    def get(self, record_id: int):
        """The closed record with this id, or None (open records are not archived yet)."""
        if self.load is not None:
            return self.load(record_id)
        return db.session.scalar(select(self.model).where(
            self.model.id == record_id, self.closed_at.is_not(None)))


RECORD_TYPES: dict[str, RecordType] = {}


def register(record_type: RecordType) -> None:
    RECORD_TYPES[record_type.key] = record_type


def record_type(key: str) -> RecordType | None:
    return RECORD_TYPES.get(key)


def closed(record_type: RecordType, start=None, end=None, department_id=None,
           customer_id=None):
    """A select of the closed records of one type, by the period they closed in
    (start ≤ closed_at < end, both aware datetimes or None), department and customer."""
    query = select(record_type.model).where(record_type.closed_at.is_not(None))
    if start is not None:
        query = query.where(record_type.closed_at >= start)
    if end is not None:
        query = query.where(record_type.closed_at < end)
    if department_id is not None and record_type.department_id is not None:
        query = query.where(record_type.department_id == department_id)
    if customer_id is not None:
        query = query.where(record_type.customer_id == customer_id)
    return query


def signatures(record_type: RecordType, row) -> list[dict]:
    """The signature block from the history: for each signer, the latest event of theirs
    (name, on whose behalf, time), or an empty line."""
    if record_type.history_type is None or not record_type.signers:
        return []
    history = db.session.scalars(select(WorkflowHistory).where(
        WorkflowHistory.object_type == record_type.history_type,
        WorkflowHistory.object_id == row.id).order_by(WorkflowHistory.id)).all()
    lines = []
    for signer in record_type.signers:
        step = next((h for h in reversed(history) if h.event in signer.events), None)
        lines.append({"label": signer.label,
                      "name": step.user.display_name if step and step.user else "",
                      "on_behalf_of": (step.on_behalf_of.display_name
                                       if step and step.on_behalf_of else ""),
                      "at": step.at if step else None})
    return lines
