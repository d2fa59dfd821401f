"""The kinds of record the archive keeps, each declared once by its domain (`register`): how
to find the closed ones, how to print one, what data to attach, and who signed it. The archive
browser, the single download, the batch export and the verifier all work from this table, so
a new record type is one registration, not a new screen."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect, select

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
    closed_at: Any                            # column: when the record closed (NULL while open)
    customer_id: Any                          # column: the customer the record is about
    # the JSON attached to the PDF; by default every column and the history (record_data)
    data: Callable[[Any], dict] | None = None
    where: Any = None                         # a further condition on the closed records
    department_id: Any = None                 # column expression for the department filter
    history_type: str | None = None           # WorkflowHistory.object_type, when it has one
    signers: tuple[Signer, ...] = ()
    file_prefix: str = "record"
    version: Callable[[Any], int] = field(default=lambda row: getattr(row, "version", 1))
    # The row as its ordinary readers may see it; None means "not in this user's scope". The
    # archive uses its own scope (archivists and the GM read every closed record).
    load: Callable[[int], Any] | None = None
    # May this user read this closed record in the archive? (e.g. recusal: a person a
    # complaint is about never reads its handling); None: every archive reader may.
    readable: Callable[[Any, Any], bool] | None = None

    def get(self, record_id: int):
        """The closed record with this id, or None (open records are not archived yet)."""
        if self.load is not None:
            return self.load(record_id)
        return db.session.scalar(closed(self).where(self.model.id == record_id))

    def data_of(self, row) -> dict:
        return self.data(row) if self.data is not None else record_data(self, row)


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
    if record_type.where is not None:
        query = query.where(record_type.where)
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
    if not record_type.signers:
        return []
    history = history_rows(record_type, row)
    lines = []
    for signer in record_type.signers:
        step = next((h for h in reversed(history) if h.event in signer.events), None)
        lines.append({"label": signer.label,
                      "name": step.user.display_name if step and step.user else "",
                      "on_behalf_of": (step.on_behalf_of.display_name
                                       if step and step.on_behalf_of else ""),
                      "at": step.at if step else None})
    return lines


def history_rows(record_type: RecordType, row) -> list:
    if record_type.history_type is None:
        return []
    return db.session.scalars(select(WorkflowHistory).where(
        WorkflowHistory.object_type == record_type.history_type,
        WorkflowHistory.object_id == row.id).order_by(WorkflowHistory.id)).all()


def record_data(record_type: RecordType, row) -> dict:
    """Every column of the record and its history, for the next system to read."""
    columns = {attr.key: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs}
    history = [{"at": h.at, "event": h.event, "from": h.from_state, "to": h.to_state,
                "user": h.user.display_name if h.user else None, "role": h.role,
                "on_behalf_of": h.on_behalf_of.display_name if h.on_behalf_of else None,
                "comment": h.comment} for h in history_rows(record_type, row)]
    return {"record": columns, "history": history}
