"""Home-page queues of service cases (rules P1, P3, P5, P6): what waits for each role, with
the overdue share derived in SQL."""
from flask import url_for
from sqlalchemy import and_, false, func, or_, select

from intranet.complaints.scope import case_scope_terms
from intranet.core import clock
from intranet.core.home import Widget, home_widget
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import ServiceCase
from intranet.workflows.complaint_states import OPEN_CASE_STATES, CaseState

OPEN = [s.value for s in OPEN_CASE_STATES]


def _counts(*where):
    return db.session.execute(
        select(func.count(), func.count().filter(ServiceCase.next_due_at < clock.now()))
        .select_from(ServiceCase).where(*where)).one()


def _widget(title, where, link, empty, overdue_link):
    total, overdue = _counts(*where)
    items = [(str(_l("%(n)s overdue", n=overdue)), overdue_link)] if overdue else []
    return Widget(title, total, items, link, empty)


@home_widget(Role.SERVICE_DESK)
def desk_cases(user):
    """Rule P7: the first responder follows what they registered."""
    where = (ServiceCase.registered_by_id == user.id, ServiceCase.state.in_(OPEN))
    return _widget(_l("Cases you registered, still open"), where,
                   url_for("service.queue"), _l("No open case of yours."),
                   url_for("service.queue", overdue=1))


@home_widget(Role.COMPLAINT_HANDLER)
def handler_cases(user):
    where = (ServiceCase.handler_id == user.id, ServiceCase.state.in_(OPEN))
    return _widget(_l("Cases you are handling"), where, url_for("service.queue"),
                   _l("No case is assigned to you."), url_for("service.queue", overdue=1))


@home_widget(Role.SALES_MANAGER, Role.GENERAL_MANAGER)
def cases_to_decide(user):
    """Rule P3: opinions awaiting the decision of the manager in charge; escalations for the
    GM; suggestions reported to this leader."""
    states = [CaseState.AWAITING_DECISION.value]
    if Role.GENERAL_MANAGER in user.roles:
        states.append(CaseState.ESCALATED.value)
    decide = ServiceCase.state.in_(states)
    # reported to this leader: always within the scope (it names the user as a leader)
    reported = (ServiceCase.state == CaseState.REPORTED.value) & (ServiceCase.leader_id == user.id)
    terms = case_scope_terms(user)
    if terms is None:
        where = (or_(decide, reported),)
    elif terms:  # the scope's alternatives each with the states: one index each (issue 12)
        where = (or_(*(and_(term, decide) for term in terms), reported),)
    else:
        where = (false(),)
    state = states[-1]
    return _widget(_l("Cases awaiting your decision"), where,
                   url_for("service.queue", all=1, state=state),
                   _l("No case waits for your decision."),
                   url_for("service.queue", all=1, state=state, overdue=1))
