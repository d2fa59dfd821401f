"""The audit trail (SECURITY.md 20-22, rule C6): append-only, hash-chained, same transaction.

`record()` queues an entry on the current database session. Just before that session commits,
the queued entries are chained onto the tail of the trail under a lock (PostgreSQL advisory
lock; on SQLite the write lock, which a read request takes only here, at its end: see
db_engine.py), so the chain never forks and the lock is held only for the moment of the
commit. A rollback drops the queued entries together with the business change they describe.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from intranet.core import clock
from intranet.core.db_engine import take_write_lock
from intranet.core.i18n import lazy_gettext as _l
from intranet.extensions import db
from intranet.models import AuditEntry

GENESIS = "0" * 64
_PENDING = "audit_pending"
_ADVISORY_LOCK_KEY = 0x6175646974  # "audit"

HASHED_FIELDS = ("seq", "ts", "user_id", "username", "role", "on_behalf_of_id",
                 "on_behalf_of_name", "address", "action", "object_type", "object_id",
                 "reason", "details", "prev_hash")


class Action:
    VIEW = "view"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    EXPORT = "export"
    LOGIN = "login"
    LOGOUT = "logout"
    REFUSED = "refused"  # a workflow step the machine refused (recusal, order, duties)


ACTION_LABELS = {
    Action.VIEW: _l("View"), Action.CREATE: _l("Create"), Action.UPDATE: _l("Change"),
    Action.DELETE: _l("Delete"), Action.EXPORT: _l("Export"), Action.LOGIN: _l("Sign-in"),
    Action.LOGOUT: _l("Sign-out"), Action.REFUSED: _l("Refused step"),
}

OBJECT_LABELS = {
    "customer": _l("Customer"), "customer_list": _l("Customer list"), "user": _l("User"),
    "customer_duplicate": _l("Duplicate registration"),
    "delegation": _l("Deputy period"), "setting": _l("Setting"),
    "audit_trail": _l("Audit trail"), "file_access": _l("File opened with a reason"),
    "activity": _l("Activity"), "transactions": _l("Transactions"),
    "attachment": _l("Attachment"),
}


def register_object_labels(labels: dict) -> None:
    """A domain names the kinds of records it audits, so the trail reads in words."""
    OBJECT_LABELS.update(labels)


# How the trail names one record of a kind: object type → function(ids) → {id: name}, e.g. a
# customer by its name, an order by its number (registered by the domains).
OBJECT_NAMES: dict = {}


def _customer_names(ids):
    from intranet.models import Customer
    return column_names(Customer.id, Customer.name)(ids)


def _user_names(ids):
    from intranet.models import User
    return column_names(User.id, User.display_name)(ids)


OBJECT_NAMES["customer"] = _customer_names
OBJECT_NAMES["user"] = _user_names


def register_object_names(object_type: str, names) -> None:
    OBJECT_NAMES[object_type] = names


# Kinds whose entries name a list or a part by a key, not a record by id (the archive's
# record types, the inbox's tabs): object type → {key: label}.
OBJECT_KEYS: dict[str, dict] = {}


def register_object_keys(object_type: str, labels) -> None:
    """`labels`: {key: label}, or a function giving them (read when the trail is shown)."""
    OBJECT_KEYS[object_type] = labels


def _keys(object_type: str) -> dict:
    labels = OBJECT_KEYS.get(object_type, {})
    return labels() if callable(labels) else labels


def column_names(id_column, name_column):
    """A names function reading `name_column` by `id_column`."""
    def names(ids):
        return dict(db.session.execute(select(id_column, name_column)
                                       .where(id_column.in_(ids))).all())
    return names


def names_of(entries) -> dict:
    """{(object_type, object_id): name} for the entries' records: one statement per kind."""
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry.object_type in OBJECT_NAMES and str(entry.object_id or "").isdigit() \
                and len(str(entry.object_id)) < 10:
            wanted.setdefault(entry.object_type, set()).add(int(entry.object_id))
    keys = {object_type: _keys(object_type) for object_type in
            {entry.object_type for entry in entries} & set(OBJECT_KEYS)}
    found = {(entry.object_type, str(entry.object_id)): keys[entry.object_type][
             str(entry.object_id)] for entry in entries
             if str(entry.object_id) in keys.get(entry.object_type, {})}
    for object_type, ids in wanted.items():
        for record_id, name in OBJECT_NAMES[object_type](sorted(ids)).items():
            found[object_type, str(record_id)] = name
    return found


def record(action: str, object_type: str, object_id=None, *, reason: str = "",
           details: dict | None = None, user=None) -> None:
    """Queue one audit entry in the current transaction."""
    actor = user if user is not None else _current_actor()
    grant = g.get("grant") if has_request_context() else None
    principal = grant.on_behalf_of if grant else None
    entry = {
        "ts": clock.now(),
        "user_id": actor.id if actor else None,
        "username": actor.username if actor else "-",
        "role": (grant.role.value if grant and grant.role else ""),
        "on_behalf_of_id": principal.id if principal else None,
        "on_behalf_of_name": principal.username if principal else "",
        "address": (request.remote_addr or "") if has_request_context() else "cli",
        "action": action,
        "object_type": object_type,
        "object_id": "" if object_id is None else str(object_id),
        "reason": reason or ((g.get("access_reason") or "") if has_request_context() else ""),
        "details": json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
        if details else "",
    }
    db.session.info.setdefault(_PENDING, []).append(entry)


def _current_actor():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def entry_hash(fields: dict) -> str:
    canonical = json.dumps([_canonical(fields[name]) for name in HASHED_FIELDS],
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value):
    if hasattr(value, "isoformat"):
        return value.isoformat(timespec="microseconds")
    return value


_TAIL = select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)


@event.listens_for(Session, "before_commit")
def _seal_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    connection = session.connection()  # Core from here: no ORM bookkeeping per request
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
    else:  # the tail must not move between reading it and appending to it
        take_write_lock(session)
    session.flush()  # what the entries describe, under the lock (a read's first write)
    tail = connection.execute(_TAIL).first()
    seq, prev_hash = (tail.seq, tail.hash) if tail else (0, GENESIS)
    rows = []
    for fields in pending:
        seq += 1
        fields = {**fields, "seq": seq, "prev_hash": prev_hash}
        prev_hash = fields["hash"] = entry_hash(fields)
        rows.append(fields)
    # A plain INSERT, in seq order (ids ascend with seq): no object for the session to track,
    # a third of the cost of adding and flushing entities on every request.
    connection.execute(AuditEntry.__table__.insert(), rows)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_change(mapper, connection, target) -> None:
    raise PermissionError("the audit trail is append-only")


# --- Verification --------------------------------------------------------------------------

@dataclass
class ChainProblem:
    seq: int
    row_id: int | None
    kind: str  # "altered", "deleted", "reordered"
    message: str


def head(session=None) -> str:
    """"seq:hash" of the newest row. Kept outside the database (a daily print-out, a log
    shipped elsewhere), it lets `flask audit verify --expect-head` see a cut-off tail."""
    session = session or db.session
    row = session.execute(select(AuditEntry.seq, AuditEntry.hash)
                          .order_by(AuditEntry.seq.desc()).limit(1)).first()
    return f"{row.seq}:{row.hash}" if row else f"0:{GENESIS}"


def verify_chain(session=None, expect_head: str | None = None
                 ) -> tuple[int, ChainProblem | None]:
    """Walk the trail in order; return (rows checked, first problem or None)."""
    session = session or db.session
    expected_seq, prev_hash, prev_id, count = 1, GENESIS, 0, 0
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    for row in rows:
        count += 1
        fields = {name: getattr(row, name) for name in HASHED_FIELDS}
        if entry_hash(fields) != row.hash:
            return count, ChainProblem(row.seq, row.id, "altered",
                                       f"row seq={row.seq} id={row.id}: content does not match "
                                       "its hash (altered)")
        if row.seq != expected_seq:
            kind = "deleted" if row.seq > expected_seq else "reordered"
            return count, ChainProblem(row.seq, row.id, kind,
                                       f"row seq={row.seq} id={row.id}: expected seq "
                                       f"{expected_seq}; rows before it were {kind}")
        if row.prev_hash != prev_hash:
            # Each row verified against its own hash, so the previous row was rewritten
            # together with its hash.
            return count, ChainProblem(row.seq - 1, prev_id, "altered",
                                       f"row seq={row.seq - 1} id={prev_id}: content and hash "
                                       f"were rewritten (row seq={row.seq} no longer follows)")
        if row.id <= prev_id:
            return count, ChainProblem(row.seq, row.id, "reordered",
                                       f"row seq={row.seq} id={row.id}: stored out of order")
        prev_hash, prev_id, expected_seq = row.hash, row.id, expected_seq + 1
    if expect_head:
        seq_text, _, expected_hash = expect_head.partition(":")
        known = session.execute(select(AuditEntry.hash).where(
            AuditEntry.seq == int(seq_text))).scalar() if seq_text.isdigit() else None
        if known != expected_hash:
            return count, ChainProblem(int(seq_text) if seq_text.isdigit() else 0, None,
                                       "deleted", f"row seq={seq_text} recorded as the head is "
                                       "missing or changed (the tail was cut off)")
    return count, None
