from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    false,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from intranet.core import clock
from intranet.customers.names import (
    INITIALS_LENGTH,
    PINYIN_LENGTH,
    name_pinyin,
    normalise_name,
    phone_digits,
)
from intranet.extensions import db
from intranet.models.types import UTCDateTime
from intranet.models.user import Department, User

MONEY = Numeric(14, 2)

TIERS = ("vip", "key", "general", "reserve")  # rule C3 (also shown as A/B/C/储备)
RELATIONSHIPS = ("prospect", "customer", "partner", "former")
SIZES = ("micro", "small", "medium", "large")
PAYMENT_METHODS = ("transfer", "cash", "acceptance", "credit")
SOURCE_CHANNELS = ("exhibition", "web", "phone", "referral", "walk_in")
# Rule V3's channels: "visit" is on site; "meeting" stays for activities logged before issue 14.
ACTIVITY_KINDS = ("phone", "sms", "email", "visit", "video", "meeting")
VISIT_PURPOSES = ("sales", "upkeep", "relationship", "information", "guidance")  # rule V1


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _pinyin_of(context, part: int) -> str:
    return name_pinyin(context.get_current_parameters().get("name"))[part]


class Customer(db.Model):
    """The customer file (rule C1); scoping in access.customer_scope (C6)."""

    __table_args__ = (
        CheckConstraint(_in("tier", TIERS), name="tier_known"),
        CheckConstraint(f"tier_override IS NULL OR {_in('tier_override', TIERS)}",
                        name="tier_override_known"),
        CheckConstraint(_in("relation", RELATIONSHIPS), name="relation_known"),
        CheckConstraint("deal_class IS NULL OR deal_class IN ('A', 'B', 'C', 'D')",
                        name="deal_class_known"),
        Index("ix_customer_created_by", "created_by_id", "created_at"),  # the desk's leads
        # the shared pool's capped count: owner-less customers of the visible pools, read in
        # the index alone (issue 12; replaces the (pool_id) index)
        Index("ix_customer_pool_owner", "pool_id", "owner_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Rule C2: 上海华东机械有限公司 and 上海华东机械(股份)公司 are the same registration.
    normalized_name: Mapped[str] = mapped_column(String(200), default="", index=True)
    # Issue 13 §7: the name in pinyin (the A→Z sort, searched) and its initials (searched:
    # shhx finds 上海华兴). The ORM keeps them with the name; a bulk insert that leaves them
    # out gets them from its own name (the defaults); a set-based UPDATE of the name must
    # set them too (the database cannot read Chinese).
    name_pinyin: Mapped[str] = mapped_column(
        String(PINYIN_LENGTH), default=lambda ctx: _pinyin_of(ctx, 0), server_default="")
    name_initials: Mapped[str] = mapped_column(
        String(INITIALS_LENGTH), default=lambda ctx: _pinyin_of(ctx, 1), server_default="")
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    legal_representative: Mapped[str] = mapped_column(String(50), default="")
    registered_capital: Mapped[Decimal | None] = mapped_column(MONEY)
    business_scope: Mapped[str] = mapped_column(Text, default="")
    industry: Mapped[str] = mapped_column(String(50), default="")
    size: Mapped[str] = mapped_column(String(20), default="")
    region: Mapped[str] = mapped_column(String(100), default="", index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    payment_method: Mapped[str] = mapped_column(String(20), default="")
    source_channel: Mapped[str] = mapped_column(String(20), default="")
    relation: Mapped[str] = mapped_column(String(20), default="prospect")
    # Rule C8
    blacklisted: Mapped[bool] = mapped_column(default=False, index=True)
    blacklist_reason: Mapped[str] = mapped_column(Text, default="")
    # Rule C3: computed tier, and a manager's override with its reason
    tier: Mapped[str] = mapped_column(String(10), default="reserve", index=True)
    tier_override: Mapped[str | None] = mapped_column(String(10))
    tier_override_reason: Mapped[str] = mapped_column(Text, default="")
    tier_override_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Rule C5 (and C3 inputs): trailing sales, refreshed with every transaction
    sales_12m: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    sales_prev_12m: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Rule V2: the day of the last visit that counts for each visit obligation (visits/cadence.py):
    # on site with a head of sales or the GM, on site with the GM, any visit by the owner.
    visit_head_on: Mapped[date | None] = mapped_column(Date)
    visit_gm_on: Mapped[date | None] = mapped_column(Date)
    visit_rep_on: Mapped[date | None] = mapped_column(Date)
    # Rule K1/K4: the grade the GM last approved, and when (re-rated every half year)
    credit_grade: Mapped[str | None] = mapped_column(String(1))
    credit_graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Rules R2, R5: since when the owner has had the customer; the pool it waits in when it
    # has no owner (resources/ownership.py keeps both)
    owned_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("customer_pool.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # rule C4: the deal-size class the service desk gave a new lead, and who gave it
    deal_class: Mapped[str | None] = mapped_column(String(1))
    classified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    classified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deal_value: Mapped[Decimal | None] = mapped_column(MONEY)  # rule C4: expected, in yuan
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    department: Mapped[Department | None] = relationship()
    contacts: Mapped[list["Contact"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Contact.id")

    @validates("name")
    def _keep_normalized_name(self, key, value):
        self.normalized_name = normalise_name(value)
        self.name_pinyin, self.name_initials = name_pinyin(value)
        return value

    @property
    def growth(self) -> Decimal | None:
        """Year-on-year growth of the stored trailing sales (rule C5)."""
        if not self.sales_prev_12m:
            return None
        return (self.sales_12m - self.sales_prev_12m) / self.sales_prev_12m

    @property
    def effective_tier(self) -> str:
        return self.tier_override or self.tier


# Rule C5's ranking, the growth sort of the list. The 0 is a literal, not a bound parameter: a
# database matches an expression index only on the identical expression.
GROWTH = ((Customer.sales_12m - Customer.sales_prev_12m)
          / func.nullif(Customer.sales_prev_12m, literal_column("0")))

# The customer list (issue 12): one index per scope (a rep's owner_id, a manager's department,
# the GM's everything) and sort, each ending with the id the list breaks ties with, so a page
# reads its rows in index order instead of sorting every visible customer. They replace the
# single-column owner, department and name indexes, which are their prefixes.
_SORT_KEYS = {
    "name": (Customer.name_pinyin, Customer.id),
    "sales": (Customer.sales_12m.desc(), Customer.id),
    "newest": (Customer.created_at.desc(), Customer.id),
    "growth": (GROWTH.is_(None), GROWTH.desc(), Customer.id),
}
# The name sort's indexes also carry the initials: a pinyin search whose letters are in most
# names (hangzhou) tests the rows in the index alone as it reads them (104 → 11 ms).
for _sort, _key in _SORT_KEYS.items():
    _key = (*_key, Customer.name_initials) if _sort == "name" else _key
    Index("ix_customer_name" if _sort == "name" else f"ix_customer_{_sort}", *_key)
    Index(f"ix_customer_owner_{_sort}", Customer.owner_id, *_key)
    Index(f"ix_customer_department_{_sort}", Customer.department_id, *_key)

# The customers returning to the pool soon (rules R2, R5, R6), per scope: every column the
# reclaim rules read, so the due list counts (and, when few match, finds) its rows in the index
# alone instead of reading each visible customer's row (issue 12). Last activity first: the
# customers idle longest, the likeliest due, come first.
RECLAIM_COLUMNS = (Customer.last_activity_at, Customer.relation, Customer.owned_since,
                   Customer.created_at, Customer.tier, Customer.tier_override)
Index("ix_customer_owner_reclaim", Customer.owner_id, *RECLAIM_COLUMNS, Customer.department_id)
Index("ix_customer_department_reclaim", Customer.department_id, *RECLAIM_COLUMNS,
      Customer.owner_id)


def customer_column(column, customer_id):
    """One of a customer's columns as a scalar subquery, for list rows read as plain columns:
    a count over the same query reads no customer."""
    return select(column).where(Customer.id == customer_id).scalar_subquery()


class Contact(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"),
                                             index=True)
    name: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    phone_digits: Mapped[str] = mapped_column(String(30), default="", index=True)  # C2
    email: Mapped[str] = mapped_column(String(200), default="")

    customer: Mapped[Customer] = relationship(back_populates="contacts")

    @validates("phone")
    def _keep_phone_digits(self, key, value):
        self.phone_digits = phone_digits(value)
        return value


class Activity(db.Model):
    """A visit or other sales contact (rules V1, V3): what the reclaim rules count and what
    meets the visit obligations (V2). `kind` is the channel; `user` recorded it and took part;
    `participants` are the others who went (e.g. the GM with the rep)."""

    __table_args__ = (CheckConstraint(_in("kind", ACTIVITY_KINDS), name="kind_known"),
                      CheckConstraint(f"purpose IS NULL OR {_in('purpose', VISIT_PURPOSES)}",
                                      name="purpose_known"),
                      CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5",
                                      name="satisfaction_range"),
                      Index("ix_activity_customer_time", "customer_id", "occurred_at"),
                      # a quarter's visits and their satisfaction, read in the index (Q2)
                      Index("ix_activity_time", "occurred_at", "customer_id", "satisfaction"))
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(10))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text)
    next_action_on: Mapped[date | None] = mapped_column(Date)
    purpose: Mapped[str | None] = mapped_column(String(20))  # None: logged before issue 14
    satisfaction: Mapped[int | None]
    # What the visit counted for (rule V2), fixed when it was logged: the roles and the
    # ownership of that day decide, not those of a later reader.
    by_head: Mapped[bool] = mapped_column(default=False, server_default=false())
    by_gm: Mapped[bool] = mapped_column(default=False, server_default=false())
    by_owner: Mapped[bool] = mapped_column(default=False, server_default=false())

    user: Mapped[User] = relationship()
    participants: Mapped[list[User]] = relationship(
        secondary="activity_participant", order_by="User.name_pinyin", lazy="selectin")


class ActivityParticipant(db.Model):
    """Who else took part in a visit (rule V3), besides the colleague who recorded it."""

    __tablename__ = "activity_participant"
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True, index=True)


class Order(db.Model):
    """An order / invoice (rule C9)."""

    __tablename__ = "sales_order"  # "order" is an SQL keyword
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      Index("ix_order_customer_date", "customer_id", "ordered_on"),
                      # finance's open orders, oldest first (issue 12: no sort per page)
                      Index("ix_order_status_date", "status", "ordered_on", "id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    ordered_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open / shipped / cancelled

    customer: Mapped["Customer"] = relationship()


class Shipment(db.Model):
    """Goods delivered and invoiced: what the customer owes from then on (rule C9)."""

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      Index("ix_shipment_customer_date", "customer_id", "shipped_on"))
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id"))
    shipped_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)

    order: Mapped["Order | None"] = relationship()


class Payment(db.Model):
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      Index("ix_payment_customer_date", "customer_id", "received_on"))
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    received_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    reference: Mapped[str] = mapped_column(String(60), default="")


class Attachment(db.Model):
    """A scan kept with the customer file (licence, contract; rule C1). Always served as a
    download, never inline."""

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"),
                                             index=True)
    filename: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # pdf / png / jpeg, from the content
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # loaded to download only
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    uploaded_by: Mapped[User] = relationship()
