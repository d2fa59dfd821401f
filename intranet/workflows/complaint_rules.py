"""The rules of service cases that the machine (workflows/complaint.py) asks: who is recused
(P2), who handles, leads and decides (P1, P3, P5), what each step must carry, and who holds a
case at each step (its deadline warnings and escalations)."""
from __future__ import annotations

from datetime import date, timedelta

from intranet.core import clock, settings
from intranet.core.access import valid_delegations
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.notifications import role_holders
from intranet.core.roles import Role
from intranet.workflows import deadlines
from intranet.workflows.complaint_states import CaseKind, CaseState
from intranet.workflows.engine import InvalidInput, grant_for

S, K = CaseState, CaseKind
MAX_ID = 2**31 - 1  # a user id the database can hold; anything larger names nobody


# --- who (guards, cond=) ------------------------------------------------------------------

def recused_ids(model) -> set[int]:
    """Rule P2: the people complained about and, if the company says so, their managers."""
    from sqlalchemy import select

    from intranet.extensions import db
    from intranet.models import User, UserRole

    subjects = model.user_ids("subject")
    if subjects and settings.get("recusal_excludes_manager"):
        departments = set(db.session.scalars(
            select(User.department_id).where(User.id.in_(subjects))))
        subjects |= set(db.session.scalars(
            select(User.id).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.SALES_MANAGER.value,
                   User.department_id.in_(departments - {None}))))
    return subjects


def not_recused(model, user=None, event=None, machine=None, **kwargs) -> bool:
    """Neither the actor nor anyone they stand in for on this event is recused (P2)."""
    if user is None:
        return False
    recused = recused_ids(model)
    if user.id in recused:
        return False
    grant = grant_for(type(machine), str(event), user) if machine and event else None
    principal = grant.on_behalf_of if grant else None
    return principal is None or principal.id not in recused


def usable_delegations(model, user) -> list:
    """The user's delegations in force, except those from someone recused in the case (P2):
    nobody draws authority on a case from the person complained about."""
    recused = recused_ids(model)
    return [d for d in valid_delegations(user) if d.principal_id not in recused]


def _acts_for(model, user, person_id: int | None, role: Role) -> bool:
    if user is None or person_id is None:
        return False
    if user.id == person_id:
        return True
    return any(d.principal_id == person_id and d.role == role
               for d in usable_delegations(model, user))


def is_handler(model, user=None, **kwargs) -> bool:
    """The designated handler, or their deputy (P1, P3)."""
    return _acts_for(model, user, model.handler_id, Role.COMPLAINT_HANDLER)


def not_the_handler(model, user=None, **kwargs) -> bool:
    """Rule P8: the customer's satisfaction is verified by someone other than the handler
    whose reply it judges."""
    return not is_handler(model, user)


def is_leader(model, user=None, **kwargs) -> bool:
    return any(_acts_for(model, user, model.leader_id, role)
               for role in (Role.SALES_MANAGER, Role.GENERAL_MANAGER))


def in_charge(model, user=None, **kwargs) -> bool:
    """Rule P3: the manager of the department concerned decides, or stands in for one; the GM
    (or the GM's deputy) decides any case."""
    if user is None:
        return False
    if Role.GENERAL_MANAGER in user.roles:
        return True
    if Role.SALES_MANAGER in user.roles and model.department_id is not None \
            and user.department_id == model.department_id:
        return True
    for delegation in usable_delegations(model, user):
        if delegation.role == Role.GENERAL_MANAGER:
            return True
        if delegation.role == Role.SALES_MANAGER and model.department_id is not None \
                and delegation.principal.department_id == model.department_id:
            return True
    return False


def is_complaint(model, **kwargs) -> bool:
    return model.kind == K.COMPLAINT


def is_consultation(model, **kwargs) -> bool:
    return model.kind == K.CONSULTATION


def is_suggestion(model, **kwargs) -> bool:
    return model.kind == K.SUGGESTION


def clock_running(model, **kwargs) -> bool:
    return deadlines.can_pause(model)


def clock_paused(model, **kwargs) -> bool:
    return deadlines.is_paused(model)


def has_reply(model, **kwargs) -> bool:
    """Rule P4: a complaint is never closed without its written reply."""
    return bool((model.reply or "").strip())


# --- what (validators) ----------------------------------------------------------------------

def text_required(comment: str = "", **kwargs) -> None:
    if not (comment or "").strip():
        raise InvalidInput("comment", _l("Please write this down: it goes on the record."))


def _user_with(user_id, roles, field: str, model, message):
    from intranet.extensions import db
    from intranet.models import User

    person = db.session.get(User, user_id) if isinstance(user_id, int) \
        and 0 < user_id <= MAX_ID else None
    if person is None or not person.active or not (person.roles & roles):
        raise InvalidInput(field, message)
    if person.id in recused_ids(model):
        raise InvalidInput(field, _l("This person is complained about in the case and takes "
                                     "no part in it."))
    return person


def valid_handler(model, handler_id=None, **kwargs) -> None:
    _user_with(handler_id, {Role.COMPLAINT_HANDLER}, "handler_id", model,
               _l("Choose a complaint handler."))


def valid_leader(model, leader_id=None, **kwargs) -> None:
    _user_with(leader_id, {Role.SALES_MANAGER, Role.GENERAL_MANAGER}, "leader_id", model,
               _l("Choose the leader the suggestion is reported to."))


def valid_meeting(model, meeting_on=None, attendee_ids=(), **kwargs) -> None:
    """Rule P3: the meeting's date and attendees are recorded; nobody recused attends."""
    if not isinstance(meeting_on, date):
        raise InvalidInput("meeting_on", _l("Enter the date of the meeting."))
    if meeting_on > clock.now().date() + timedelta(days=1):
        raise InvalidInput("meeting_on", _l("The meeting cannot be in the future."))
    if not attendee_ids:
        raise InvalidInput("attendee_ids", _l("Choose who attended."))
    if set(attendee_ids) & recused_ids(model):
        raise InvalidInput("attendee_ids", _l("A person complained about cannot take part in "
                                              "the meeting on the case."))
    from sqlalchemy import select

    from intranet.extensions import db
    from intranet.models import User

    wanted = set(attendee_ids)
    if any(not isinstance(i, int) or not 0 < i <= MAX_ID for i in wanted) or wanted != set(
            db.session.scalars(select(User.id).where(User.id.in_(wanted), User.active))):
        raise InvalidInput("attendee_ids", _l("Choose who attended."))


def actions_verified(model, **kwargs) -> None:
    """Rule P8: corrective actions are verified before the case closes."""
    from sqlalchemy import func, select

    from intranet.extensions import db
    from intranet.models import CorrectiveAction

    unverified = db.session.scalar(select(func.count()).select_from(CorrectiveAction).where(
        CorrectiveAction.case_id == model.id, CorrectiveAction.verified_at.is_(None)))
    if unverified:
        raise InvalidInput("comment", _l("Verify every corrective action before closing."))


def deciders(row) -> set[int]:
    """Who is told a decision is waiting: the department's manager (or deputy), else, when
    there is none or they are recused, the GM (P3)."""
    recused = recused_ids(row)
    managers = role_holders(Role.SALES_MANAGER, row.department_id) - recused \
        if row.department_id else set()
    return managers or (role_holders(Role.GENERAL_MANAGER) - recused)


def holders(row) -> set[int]:
    """Who holds the case at its step (warned of its deadlines; the first responder keeps the
    steps towards the customer, rule P7)."""
    state = row.state
    if state in (S.ASSIGNED, S.INVESTIGATING, S.DECIDED, S.IMPLEMENTED):
        people = {row.handler_id}
    elif state == S.AWAITING_DECISION:
        people = deciders(row)
    elif state == S.ESCALATED:
        people = role_holders(Role.GENERAL_MANAGER) - recused_ids(row)
    elif state == S.REPORTED:
        people = {row.leader_id}
    elif state == S.CLOSED:
        people = set()
    else:
        people = {row.registered_by_id}
    return people - {None} - recused_ids(row)


def escalation_targets(row, level: int) -> set[int]:
    """Rule P5: a breached deadline goes to the manager in charge, a second breach to the GM."""
    if level == 1:
        return deciders(row)
    return role_holders(Role.GENERAL_MANAGER) - recused_ids(row)


# --- who a case waits for, in SQL (the inbox: workflows/waiting.py) ----------------------------

def _not_recused_sql(person):
    """SQL: `person` (a User) is not recused from the case (`recused_ids`, P2). Written
    as the same text in every step of the inbox's OR (values inline, not one parameter
    each), so PostgreSQL factors it out and tests it once per row (with a parameter each,
    it probed case_person six times a row: a handler's inbox took 450 ms)."""
    from sqlalchemy import and_, bindparam, exists

    from intranet.models import CasePerson, ServiceCase, User

    def inline(name, value):
        return bindparam(name, value, literal_execute=True)

    subject = and_(CasePerson.case_id == ServiceCase.id,
                   CasePerson.relation == inline("subject", "subject"))
    clause = ~exists().where(subject, CasePerson.user_id == inline(f"person_{person.id}",
                                                                    person.id))
    if settings.get("recusal_excludes_manager") and Role.SALES_MANAGER in person.roles \
            and person.department_id is not None:
        clause = and_(clause, ~exists().where(
            subject, CasePerson.user_id == User.id,
            User.department_id == inline(f"department_{person.department_id}",
                                         person.department_id)))
    return clause


def _acting_sql(machine_cls, event: str, actor):
    """SQL for ACTING (`permitted` and `not_recused`) on `event`; None if not permitted."""
    from sqlalchemy import and_

    grant = actor.grant(machine_cls, event)
    if grant is None:
        return None
    principal = grant.on_behalf_of
    mine = _not_recused_sql(actor.user)
    return mine if principal is None else and_(mine, _not_recused_sql(principal))


def _acts_for_sql(column, actor, *roles: Role):
    """SQL for `_acts_for`: `column` is the actor, or someone they stand in for in one of
    `roles` who is not recused from the case."""
    from sqlalchemy import and_, func

    from intranet.workflows.waiting import any_of

    person = func.coalesce(column, 0)  # nobody yet: never NULL, so that not_() holds
    return any_of([person == actor.me, *(and_(person == p.id, _not_recused_sql(p))
                                         for p in actor.principals(*roles))])


def _in_charge_sql(actor):
    from sqlalchemy import and_, true

    from intranet.models import ServiceCase
    from intranet.workflows.waiting import any_of

    if Role.GENERAL_MANAGER in actor.roles:
        return true()
    clauses = []
    if Role.SALES_MANAGER in actor.roles and actor.department_id is not None:
        clauses.append(ServiceCase.department_id == actor.department_id)
    for role, principal in actor.delegations:
        if role == Role.GENERAL_MANAGER:
            clauses.append(_not_recused_sql(principal))
        elif role == Role.SALES_MANAGER and principal.department_id is not None:
            clauses.append(and_(ServiceCase.department_id == principal.department_id,
                                _not_recused_sql(principal)))
    return any_of(clauses)


def waiting_sql(machine_cls, actor):
    """The guards of the complaint machine's forward steps, in SQL."""
    from sqlalchemy import and_, func, not_

    from intranet.models import ServiceCase as C
    from intranet.workflows.waiting import any_of

    def step(states, event, *conditions):
        acting = _acting_sql(machine_cls, event, actor)
        if acting is None:
            return None
        states = [states] if isinstance(states, str) else states
        # the recusal test last: PostgreSQL evaluates a branch of the OR left to right, and
        # probing case_person for every open case in the state cost a handler's inbox 1 s
        return and_(C.state.in_(states), *conditions, acting)

    handler = _acts_for_sql(C.handler_id, actor, Role.COMPLAINT_HANDLER)
    in_charge = _in_charge_sql(actor)
    return any_of([
        step(S.REGISTERED, "answer", C.kind.in_([K.CONSULTATION, K.COMPLAINT])),
        step(S.REGISTERED, "report", C.kind == K.SUGGESTION),
        step([S.ASSIGNED, S.INVESTIGATING, S.DECIDED], "start", handler),
        step(S.IMPLEMENTED, "reply", handler),
        step(S.AWAITING_DECISION, "decide", in_charge),
        step(S.AWAITING_DECISION, "escalate", in_charge),
        step(S.ESCALATED, "resolve"),
        step(S.REPLIED, "follow_up", not_(handler)),
        step(S.FOLLOWED_UP, "close", func.trim(func.coalesce(C.reply, "")) != ""),
        step(S.REPORTED, "adopt", _acts_for_sql(C.leader_id, actor, Role.SALES_MANAGER,
                                                Role.GENERAL_MANAGER)),
        step(S.CONSIDERED, "reply"),
    ])
