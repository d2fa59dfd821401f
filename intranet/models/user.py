import secrets
from datetime import datetime
from functools import cache
from typing import NamedTuple

from flask import g, has_request_context
from flask_login import UserMixin
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    String,
    UniqueConstraint,
    bindparam,
    exists,
    func,
    select,
)
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship, validates

from intranet.core import clock
from intranet.core.roles import Role
from intranet.customers.names import name_pinyin
from intranet.extensions import db
from intranet.models.types import UTCDateTime

ROLE_VALUES = ", ".join(f"'{r.value}'" for r in Role)


class Department(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


class UserRole(db.Model):
    __table_args__ = (
        UniqueConstraint("user_id", "role"),
        CheckConstraint(f"role IN ({ROLE_VALUES})", name="role_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))


EXPERIENCE_LEVELS = ("new", "intermediate", "senior")  # rule R7
_ROLE_SETS: dict[tuple[str, ...], frozenset[Role]] = {}


class User(UserMixin, db.Model):
    __table_args__ = (CheckConstraint(
        "experience IN ('new', 'intermediate', 'senior')", name="experience_known"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    # Issue 13 §7: staff lists and pickers sort A→Z by the name's pinyin (张 after 王)
    name_pinyin: Mapped[str] = mapped_column(
        String(600), default=lambda ctx: name_pinyin(
            ctx.get_current_parameters().get("display_name"))[0], server_default="")
    email: Mapped[str | None] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    # Rotated on logout, password change and disabling: every cookie carrying the old one dies.
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # rule R7: allocation matches deal class to experience and skips who is away
    experience: Mapped[str] = mapped_column(String(12), default="new")
    away: Mapped[bool] = mapped_column(default=False)

    department: Mapped[Department | None] = relationship()
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=UserRole.role
    )

    @validates("display_name")
    def _keep_name_pinyin(self, key, value):
        self.name_pinyin = name_pinyin(value)[0]
        return value

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def rotate_session_token(self) -> None:
        self.session_token = secrets.token_hex(16)

    @classmethod
    def load_for_request(cls, user_id: int) -> "RequestUser | None":
        """The signed-in user with their roles, and whether they act as anyone's deputy now, in
        one statement; when they do not, the request's delegation look-up is answered with it
        (active_delegations), so the common request asks nothing more about who may do what.
        The same statement brings what every page asks next, for the caller to hand on: the
        settings' version and the user's unread notifications (on PostgreSQL each statement
        is a round trip)."""
        row = db.session.execute(_request_user_statement(), {"user_id": user_id,
                                                             "now": clock.now()}).unique().first()
        if row is None:
            return None
        user, acting, unread, settings_version = row
        if not acting and has_request_context():
            g.setdefault("_delegations", {})[user.id] = []
        return RequestUser(user, unread or 0, settings_version)

    @property
    def roles(self) -> frozenset[Role]:
        # Asked by every permission check (a page's menu alone asks ~20 times): the set for a
        # given list of role codes is built once per process.
        codes = tuple(r.role for r in self.role_rows)
        known = _ROLE_SETS.get(codes)
        if known is None:
            known = frozenset(Role(code) for code in codes)
            if len(_ROLE_SETS) < 1024:
                _ROLE_SETS[codes] = known
        return known

    def set_roles(self, roles) -> None:
        wanted = {Role(r) for r in roles}
        self.role_rows = [r for r in self.role_rows if Role(r.role) in wanted]
        have = self.roles
        self.role_rows.extend(UserRole(role=r.value) for r in sorted(wanted - have))

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def active_delegations(self, at: datetime | None = None) -> list["Delegation"]:
        """Delegations under which this user currently acts for someone else. "Now" is
        looked up once per request: the matrix, the record scope and every `can()` in the
        page ask for it."""
        if at is None and has_request_context():
            cache = g.setdefault("_delegations", {})
            if self.id not in cache:
                cache[self.id] = self._delegations_at(clock.now())
            return cache[self.id]
        return self._delegations_at(at or clock.now())

    def _delegations_at(self, at: datetime) -> list["Delegation"]:
        return list(db.session.scalars(
            select(Delegation).where(
                Delegation.deputy_id == self.id,
                Delegation.starts_at <= at,
                Delegation.ends_at > at,
                Delegation.revoked_at.is_(None),
            ).order_by(Delegation.id)
        ))

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class RequestUser(NamedTuple):
    user: User
    unread: int  # notifications not read yet
    settings_version: str | None


def user_name(user_id):
    """A user's name as a scalar subquery, for list rows read as plain columns: a count over
    the same query reads no user."""
    return select(User.display_name).where(User.id == user_id).scalar_subquery()


class Delegation(db.Model):
    """A deputy (代理) acts in a role for an absent principal during [starts_at, ends_at)."""

    __table_args__ = (
        CheckConstraint(f"role IN ({ROLE_VALUES})", name="role_known"),
        CheckConstraint("ends_at > starts_at", name="period_positive"),
        CheckConstraint("principal_id <> deputy_id", name="not_self"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    principal: Mapped[User] = relationship(foreign_keys=[principal_id])
    deputy: Mapped[User] = relationship(foreign_keys=[deputy_id])


@cache
def _request_user_statement():
    """Built once: constructing it anew cost as much as running it."""
    from intranet.models.notification import Notification
    from intranet.models.setting import SettingsVersion

    now = bindparam("now", type_=UTCDateTime)
    acting = exists().where(Delegation.deputy_id == User.id, Delegation.starts_at <= now,
                            Delegation.ends_at > now, Delegation.revoked_at.is_(None))
    unread = (select(func.count()).select_from(Notification)
              .where(Notification.user_id == User.id, Notification.read_at.is_(None))
              .scalar_subquery())
    version = select(SettingsVersion.version).where(SettingsVersion.id == 1).scalar_subquery()
    return (select(User, acting, unread, version).options(joinedload(User.role_rows))
            .where(User.id == bindparam("user_id")))
