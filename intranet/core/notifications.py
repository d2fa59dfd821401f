"""In-app notifications (the bell). Workflows post with `notify()`; text is rendered at read
time in the reader's language from a registered kind, so one message serves both languages."""
from __future__ import annotations

import json
from typing import NamedTuple

from flask import g, has_request_context
from sqlalchemy import bindparam, func, insert, select

from intranet.core import clock, mail
from intranet.core.db_engine import is_read_request
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.roles import Role, role_label
from intranet.extensions import db
from intranet.models import Delegation, Notification, User, UserRole

KINDS = {
    "welcome": _l("Welcome to the customer-management intranet."),
    "password_reset": _l("An administrator set a new password for your account."),
    "roles_changed": _l("Your roles were changed to: %(roles)s."),
    "deputy_named": _l("From %(start)s to %(end)s you act as %(role)s for %(principal)s."),
    "deputy_revoked": _l("Your deputy period for %(principal)s was revoked."),
}


# Workflow state labels by object type, registered by the workflow engine, so a stored state
# code reads in the reader's language ("state" and "workflow" parameters).
STATE_LABELS: dict[str, dict] = {}


# The page of a workflow record, by object type, registered by its domain: the workflows know
# nothing of Flask, so the link a notification carries is built here.
LINKS: dict[str, object] = {}


def register_link(object_type: str, endpoint: str, argument: str) -> None:
    LINKS[object_type] = (endpoint, argument)


def link_for(object_type: str, object_id: int) -> str:
    """The record's page; outside a request (`flask demo`, `flask jobs run`) the link is built
    as the app would serve it at its root."""
    from flask import current_app, has_request_context, url_for

    if object_type not in LINKS:
        return ""
    endpoint, argument = LINKS[object_type]
    if has_request_context():
        return url_for(endpoint, **{argument: object_id})
    with current_app.test_request_context():
        return url_for(endpoint, **{argument: object_id})


# Labels of other stored codes by parameter name (e.g. a deadline's kind), registered by the
# domains, so that they too read in the reader's language.
PARAM_LABELS: dict[str, dict] = {}


def register_param_labels(name: str, labels: dict) -> None:
    PARAM_LABELS[name] = labels


def register_kinds(kinds: dict) -> None:
    """A domain adds its notification texts (at app set-up)."""
    clash = set(kinds) & set(KINDS)
    if clash and any(KINDS[k] is not kinds[k] for k in clash):
        raise ValueError(f"notification kinds declared twice: {sorted(clash)}")
    KINDS.update(kinds)


def notify(user_id: int, kind: str, link: str = "", **params) -> Notification:
    if kind not in KINDS:
        raise KeyError(f"unknown notification kind {kind!r}")
    note = Notification(user_id=user_id, kind=kind, link=link,
                        params=json.dumps(params, ensure_ascii=False, default=str),
                        created_at=clock.now())
    db.session.add(note)
    forget_unread(user_id)
    if mail.enabled():
        _mail_copy(note)
    return note


class Note(NamedTuple):
    """One notification of a batch (notify_many)."""

    user_id: int
    kind: str
    link: str
    params: dict
    dedupe_key: str | None = None


def notify_many(notes: list[Note]) -> int:
    """notify() for a job's batch: one INSERT for all of them (the ORM writes one statement
    per object it adds), e-mail copies as notify() queues them; returns how many."""
    rows = []
    for note in notes:
        if note.kind not in KINDS:
            raise KeyError(f"unknown notification kind {note.kind!r}")
        rows.append({"user_id": note.user_id, "kind": note.kind, "link": note.link,
                     "params": json.dumps(note.params, ensure_ascii=False, default=str),
                     "created_at": clock.now(), "dedupe_key": note.dedupe_key})
    if not rows:
        return 0
    db.session.execute(insert(Notification), rows)
    if mail.enabled():
        for row in rows:
            _mail_copy(Notification(**row))
    return len(rows)


def _mail_copy(note: Notification) -> None:
    """The notification by e-mail too, in the reader's language, after the commit."""
    from flask_babel import force_locale

    from intranet.models import User

    user = db.session.get(User, note.user_id)
    if user is None or not user.email or not user.active:
        return
    with force_locale(user.locale or "zh_CN"):
        text = text_of(note)
        subject = str(_l("Notification from the customer-management intranet"))
    mail.queue(db.session(), user.email, subject, text)


ANY_DEPARTMENT = object()


def role_holders(role: Role, department_id=ANY_DEPARTMENT) -> set[int]:
    """Active users holding `role` (in `department_id`, if given), and their deputies in force
    for it. A record without a department notifies no department's manager."""
    if department_id is None:
        return set()
    # A page that lists many records asks the same few (role, department) pairs for each
    # (the inbox's 我发起的: who holds each): a read request answers each pair once.
    memo = g.setdefault("_role_holders", {}) if is_read_request() else None
    if memo is not None and (role, department_id) in memo:
        return set(memo[role, department_id])
    query = (select(User.id).join(UserRole, UserRole.user_id == User.id)
             .where(User.active, UserRole.role == role.value))
    if department_id is not ANY_DEPARTMENT:
        query = query.where(User.department_id == department_id)
    principals = set(db.session.scalars(query))
    now = clock.now()
    deputies = set(db.session.scalars(
        select(Delegation.deputy_id).where(
            Delegation.principal_id.in_(principals), Delegation.role == role.value,
            Delegation.starts_at <= now, Delegation.ends_at > now,
            Delegation.revoked_at.is_(None))))
    if memo is not None:
        memo[role, department_id] = frozenset(principals | deputies)
    return principals | deputies


def notify_once(user_id: int, key: str, kind: str, link: str = "", **params) -> int:
    """Notify unless this user already got the notification with this key (jobs run again and
    again); returns 1 if sent."""
    exists = db.session.scalar(select(Notification.id).where(
        Notification.user_id == user_id, Notification.dedupe_key == key))
    if exists:
        return 0
    notify(user_id, kind, link, **params).dedupe_key = key
    return 1


def text_of(note: Notification) -> str:
    template = KINDS.get(note.kind)
    if template is None:
        return note.kind
    params = json.loads(note.params or "{}")
    # Role codes are stored; their labels are rendered in the reader's language.
    if "role" in params:
        params["role"] = str(role_label(params["role"]))
    if "state" in params and "workflow" in params:
        labels = STATE_LABELS.get(params["workflow"], {})
        params["state"] = str(labels.get(params["state"], params["state"]))
    for name, labels in PARAM_LABELS.items():
        if name in params and params[name] in labels:
            params[name] = str(labels[params[name]])
    if "roles" in params:
        params["roles"] = "、".join(str(role_label(r)) for r in params["roles"].split(","))
    return str(template) % params



_UNREAD = (select(func.count()).select_from(Notification)
           .where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None)))


def unread_count(user_id: int) -> int:
    """Asked by the page (the bell in every page's header) and by the home page's widget:
    counted once per request."""
    counted = g.setdefault("_unread", {}) if has_request_context() else {}
    if user_id not in counted:
        counted[user_id] = db.session.scalar(_UNREAD, {"user_id": user_id}) or 0
    return counted[user_id]


def remember_unread(user_id: int, count: int) -> None:
    """The count read with the signed-in user (User.load_for_request), for this request."""
    g.setdefault("_unread", {})[user_id] = count


def forget_unread(user_id: int) -> None:
    """After a change to the user's notifications in this request, count them again."""
    if has_request_context():
        g.get("_unread", {}).pop(user_id, None)
