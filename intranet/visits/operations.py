"""Recording a visit (rules V1, V3) and what it does: the marks the visit obligations read
(V2), the follow-ups it completes or asks for (V3, V4), the first-contact clock (R8), the
reclaim clock (R2)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from intranet.core import audit, settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Activity, ActivityParticipant, Customer, User, UserRole
from intranet.resources import first_contact
from intranet.visits import tasks

HEADS = (Role.SALES_MANAGER.value, Role.GENERAL_MANAGER.value)
ON_SITE = "visit"


def visitors() -> list:
    """Who may be named as having gone along: active reps, heads of sales and the GM, A→Z,
    each with the role that decides what the visit counts for (张伟（总经理）)."""
    rows = db.session.execute(
        select(User.id, User.display_name, UserRole.role)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.active, UserRole.role.in_((Role.SALES_REP.value, *HEADS)))
        .order_by(User.name_pinyin, User.id)).all()
    rank = {Role.GENERAL_MANAGER.value: 0, Role.SALES_MANAGER.value: 1, Role.SALES_REP.value: 2}
    best: dict[int, tuple] = {}
    for user_id, name, role in rows:  # one line a person, by their senior role
        if user_id not in best or rank[role] < rank[best[user_id][1]]:
            best[user_id] = (name, role)
    return [(user_id, f"{name}（{Role(role).label}）") for user_id, (name, role) in best.items()]


def _roles_of(user_ids: set[int]) -> set[tuple[int, str]]:
    return {tuple(row) for row in db.session.execute(select(UserRole.user_id, UserRole.role)
                                  .where(UserRole.user_id.in_(user_ids)))}


def record_visit(customer: Customer, recorder: User, *, kind: str, occurred_at: datetime,
                 summary: str, purpose: str | None = None, satisfaction: int | None = None,
                 next_action_on: date | None = None,
                 participant_ids: tuple[int, ...] = ()) -> Activity:
    """The visit, who went and what it counted for, as of today (the roles of those who went
    and the customer's owner now decide, and stay with the visit)."""
    people = {recorder.id, *participant_ids}
    roles = _roles_of(people)
    on_site = kind == ON_SITE
    activity = Activity(
        customer_id=customer.id, user_id=recorder.id, kind=kind, occurred_at=occurred_at,
        summary=summary, purpose=purpose, satisfaction=satisfaction,
        next_action_on=next_action_on,
        by_head=on_site and any(role in HEADS for _, role in roles),
        by_gm=on_site and any(role == Role.GENERAL_MANAGER.value for _, role in roles),
        by_owner=customer.owner_id in people)
    db.session.add(activity)
    db.session.flush()
    db.session.add_all(ActivityParticipant(activity_id=activity.id, user_id=user_id)
                       for user_id in sorted(people - {recorder.id}))
    if customer.last_activity_at is None or occurred_at > customer.last_activity_at:
        customer.last_activity_at = occurred_at  # rule R2
    day = occurred_at.astimezone(settings.tz()).date()
    for flag, column in (("by_head", "visit_head_on"), ("by_gm", "visit_gm_on"),
                         ("by_owner", "visit_rep_on")):
        last = getattr(customer, column)
        if getattr(activity, flag) and (last is None or day > last):
            setattr(customer, column, day)
    done = tasks.complete(customer.id, activity, day)
    asked = tasks.ask(customer, activity, recorder) if next_action_on else None
    audit.record(audit.Action.CREATE, "activity", activity.id, details={
        "customer": customer.id, "kind": kind, "purpose": purpose,
        "participants": sorted(people - {recorder.id}), "satisfaction": satisfaction,
        "follow_ups_done": done, "follow_up": asked})
    first_contact.contact_logged(customer.id, recorder.id)  # rule R8
    return activity
