"""Who a record waits for, in SQL (issue 13 §1): each machine declares `Workflow.waiting_for`,
the twin of its guards, so the to-do inbox reads every workflow's "waiting for me" in one
statement instead of asking each record's machine. tests/test_inbox.py holds the twins
together: over records in every state, the inbox equals what `available_events` offers each
user, own roles and deputies alike.

`Actor` is the user as the guards see them: their own roles and department, and each
principal they stand in for now (permissions.valid_delegations)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, false, func, or_

from intranet.core.permissions import valid_delegations
from intranet.core.roles import Role


@dataclass(frozen=True)
class Inbox:
    """The columns a machine's rows show in the inbox: who started the record and when, and
    its deadline (None: the workflow has none)."""

    started_by: object
    started_at: object
    due: object | None = None


class Actor:
    def __init__(self, user):
        self.user = user
        self.id = int(user.id)
        self.roles = frozenset(user.roles)
        self.department_id = user.department_id
        self.delegations = [(Role(d.role), d.principal) for d in valid_delegations(user)]
        # The user's id as a literal: each user's statement is planned for that user (see
        # complaints.ledger.waiting_on).
        self.me = bindparam("me", self.id, literal_execute=True)

    def grant(self, machine_cls, event: str):
        from intranet.workflows.engine import grant_for
        return grant_for(machine_cls, event, self.user)

    def principals(self, *roles: Role) -> list:
        """The users this one stands in for in any of `roles`."""
        return [principal for role, principal in self.delegations if role in roles]

    def managed_departments(self) -> set[int]:
        """The departments whose sales manager this user is, or stands in for."""
        own = {self.department_id} if Role.SALES_MANAGER in self.roles else set()
        return (own | {p.department_id for p in self.principals(Role.SALES_MANAGER)}) - {None}


def is_not(column, actor: Actor):
    """`column` is someone other than the actor; a NULL column names nobody (Python's
    `user.id != None`)."""
    return func.coalesce(column, 0) != actor.me


def any_of(clauses) -> object:
    clauses = [c for c in clauses if c is not None]
    return or_(*clauses) if clauses else false()


def all_of(*clauses) -> object:
    return and_(*clauses)
