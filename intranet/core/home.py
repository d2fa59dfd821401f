"""The home page is built from widgets that blueprints register for the roles they concern
("what is waiting for me"). Later workflows add their queues here."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from intranet.core.roles import Role


@dataclass
class Widget:
    title: object
    count: int | str | None = None  # str: a capped count, "1,000+"
    items: list = field(default_factory=list)  # [(text, url)]
    link: str | None = None
    empty: object = ""


@dataclass(frozen=True)
class WidgetDef:
    roles: frozenset[Role] | None  # None: every signed-in user
    build: Callable


WIDGETS: list[WidgetDef] = []


def home_widget(*roles: Role):
    def register(func):
        WIDGETS.append(WidgetDef(frozenset(roles) if roles else None, func))
        return func
    return register


def widgets_for(user) -> list[Widget]:
    roles = user.roles | {Role(d.role) for d in user.active_delegations()}
    return [w.build(user) for w in WIDGETS if w.roles is None or w.roles & roles]
