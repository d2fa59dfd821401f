"""The case deadlines' job for `flask jobs run` (rules P5, P6): warnings at the settable shares
of each deadline's time, one digest per person per run; on breach an escalation to the manager
in charge, and when the deadline is missed by as long again, to the GM. SQL picks the
deadlines whose time has come (indexed on met_at, next_warning_at / due_at); the markers on
each deadline row (warned_percent, next_warning_at, escalation) make a second run change
nothing. The case rows themselves are not written, so nobody's open page goes stale. The
deadlines are handled in keyset batches, each committed with the notifications it caused
(issue 12): a run with more warnings than one batch sends one digest per person per batch."""
from __future__ import annotations

from collections import defaultdict

from flask import url_for
from sqlalchemy import select

from intranet.core import clock, notifications
from intranet.core.jobs import batches, job
from intranet.extensions import db
from intranet.models import ServiceCase, WorkflowDeadline
from intranet.workflows import deadlines
from intranet.workflows.complaint import ComplaintFlow
from intranet.workflows.complaint_rules import escalation_targets, holders

OBJECT = ComplaintFlow.object_type


def _due(condition):
    """Batches of (deadline, case) whose time has come, in deadline order."""
    def pick(after, limit):
        return db.session.execute(
            select(WorkflowDeadline, ServiceCase)
            .join(ServiceCase, ServiceCase.id == WorkflowDeadline.object_id)
            .where(WorkflowDeadline.object_type == OBJECT, WorkflowDeadline.met_at.is_(None),
                   WorkflowDeadline.paused_at.is_(None), WorkflowDeadline.id > after,
                   condition)
            .order_by(WorkflowDeadline.id).limit(limit)).all()
    return batches(pick, key=lambda row: row[0].id)


@job("case_deadline_warnings")
def warn() -> int:
    now = clock.now()
    done = 0
    for rows in _due(WorkflowDeadline.next_warning_at <= now):
        digest: dict[int, list[str]] = defaultdict(list)
        for deadline, case in rows:
            gone, span = deadlines.elapsed(deadline, now), deadlines.active_span(deadline)
            reached = [p for p in deadlines.warning_fractions()
                       if span.total_seconds() <= 0 or gone >= span * p / 100]
            deadline.warned_percent = max(reached or [deadline.warned_percent])
            deadline.next_warning_at = deadlines.warning_time(deadline)
            for user_id in holders(case):
                digest[user_id].append(case.number)
        notifications.notify_many([
            notifications.Note(user_id, "case_deadline_digest", url_for("service.queue"),
                               {"n": len(set(numbers)),
                                "numbers": "、".join(sorted(set(numbers))[:20])})
            for user_id, numbers in digest.items()])
        done += sum(len(v) for v in digest.values())
    return done


@job("case_deadline_escalations")
def escalate() -> int:
    now = clock.now()
    done = 0
    for rows in _due((WorkflowDeadline.due_at < now) & (WorkflowDeadline.escalation < 2)):
        for deadline, case in rows:
            level = 2 if now - deadline.due_at > deadlines.active_span(deadline) else 1
            for step in range(deadline.escalation + 1, level + 1):
                for user_id in escalation_targets(case, step):
                    done += notifications.notify_once(
                        user_id, f"case-overdue-{deadline.id}-{step}", "case_overdue",
                        notifications.link_for(OBJECT, case.id), number=case.number,
                        who=case.who, deadline=deadline.kind)
            deadline.escalation = level
    return done
