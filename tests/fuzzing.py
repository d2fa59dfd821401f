"""The property-based tests' world (SECURITY.md 18, 19a): every hypothesis example runs on a
fresh app over a fresh copy of a seeded database, with users of every role and a few records
for the forms to act on; plus the odd inputs every form and filter must survive.

`conftest.fresh_world` is the session-scoped factory; `World` signs clients in and sends
requests with a CSRF token computed locally (no page render per example).
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

from argon2 import PasswordHasher
from conftest import PASSWORD, PG_URL, TEST_CONFIG, U, login_fast
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text
from werkzeug.datastructures import MultiDict
from wtforms.fields.core import UnboundField

from intranet import create_app
from intranet.core import clock, notifications, passwords
from intranet.core.roles import Role
from intranet.extensions import db, limiter
from intranet.models import AuditEntry

# --- the odd inputs ------------------------------------------------------------------------

# Decimal's special values and extremes (SECURITY.md 19a): sNaN makes every comparison raise.
SPECIAL_DECIMALS = ("sNaN", "-sNaN", "NaN", "-nan", "Infinity", "-Infinity", "inf",
                    "1e999999", "-1e999999", "1E+999999999999999999", "1e-999999", "-0",
                    "0", "0.00", "9" * 40, "999999999999.995", "0.001", "200,000",
                    "２００，０００", " ¥5000 ")
# Integers a 64-bit column cannot hold, and what int() accepts but a person did not mean.
SPECIAL_INTEGERS = (str(2**64 + 1), str(-2**70), str(2**63), str(2**31), "-1", "0",
                    "99999999999999999999", "٣", "1_0", "+5", "1.0", " 7 ")
# Keys url_for would take as its own arguments (SECURITY.md 18).
CLASHING_KEYS = ("endpoint", "_external", "_anchor", "_scheme", "_method", "values",
                 "format", "page", "customer_id")
BIDI = ("\u202eexe.pdf\u202c", "客户\u2066名称\u2069", "\u200f\u061c\u200e", "a\u202ab\u202db")
BLANK = ("", " ", "\t\n", "\u3000")
# Each class about as likely as the others, the NaN family (whose comparisons raise) most.
ODD = st.one_of(st.sampled_from(SPECIAL_DECIMALS[:4]), st.sampled_from(SPECIAL_DECIMALS),
                st.sampled_from(SPECIAL_INTEGERS), st.sampled_from(BIDI + BLANK))
# One of each class, for the explicit sweeps.
SWEEP = ("sNaN", "NaN", "-Infinity", "1e999999", "-0", str(2**64 + 1), str(-2**70), BIDI[0])

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120)


def examples(count: int) -> int:
    """Examples per test: modest by default (the suite runs twice in CI); FUZZ_SCALE=10 digs
    deeper before a release or after touching input handling."""
    return max(1, round(count * float(os.environ.get("FUZZ_SCALE", "1"))))


def as_text(value) -> str:
    """A plausible value as text; a str subclass (a template to fill) stays what it is."""
    return value if isinstance(value, str) else str(value)


def value_strategy(plausible=()) -> st.SearchStrategy[str]:
    choices = [TEXT, ODD]
    if plausible:
        choices.append(st.sampled_from(tuple(as_text(v) for v in plausible)))
    return st.one_of(*choices)


def contains_nul(*inputs) -> bool:
    return any("\x00" in str(value) for value in inputs)


def fields_of(form_class) -> tuple[str, ...]:
    """The field names a WTForms class declares (csrf_token excepted), in declaration order."""
    unbound = [(name, value) for name in dir(form_class)
               if isinstance(value := getattr(form_class, name, None), UnboundField)]
    return tuple(name for name, _ in sorted(unbound, key=lambda pair: pair[1].creation_counter))


# --- the world -----------------------------------------------------------------------------

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
DUMMY_HASH = FAST_HASHER.hash("timing-equaliser")


@dataclass
class World:
    app: object
    ids: dict
    users: dict
    clients: dict = field(default_factory=dict)

    def client(self, who):
        """A client signed in as `who` (a key of STAFF; None for a visitor) and its CSRF token,
        made here as Flask-WTF makes it (no page rendered to read it from)."""
        if who not in self.clients:
            client = self.app.test_client()
            if who is not None:
                login_fast(client, self.app, self.users[who])
            raw = hashlib.sha1(os.urandom(32)).hexdigest()
            with client.session_transaction() as session:
                session["csrf_token"] = raw
            token = URLSafeTimedSerializer(self.app.secret_key, salt="wtf-csrf-token").dumps(raw)
            self.clients[who] = (client, token)
        return self.clients[who]

    def post(self, who, url: str, pairs=(), files=(), htmx: bool = False):
        client, token = self.client(who)
        data = MultiDict([("csrf_token", token), *pairs])
        for name, content, filename in files:
            data.add(name, (io.BytesIO(content), filename))
        return client.post(url, data=data, headers={"HX-Request": "true"} if htmx else {})

    def get(self, who, url: str, query: str = "", headers=None):
        client, _ = self.client(who)
        return client.get(f"{url}?{query}" if query else url, headers=headers or {})


STAFF = {  # key: (username, role, department)
    Role.SALES_REP: ("rep", Role.SALES_REP, "sales1"),
    "rep_b": ("repb", Role.SALES_REP, "sales1"),
    "rep_other_dept": ("rep2", Role.SALES_REP, "sales2"),
    Role.SALES_MANAGER: ("manager", Role.SALES_MANAGER, "sales1"),
    "manager_other_dept": ("manager2", Role.SALES_MANAGER, "sales2"),
    Role.SERVICE_DESK: ("desk", Role.SERVICE_DESK, "service"),
    Role.COMPLAINT_HANDLER: ("handler", Role.COMPLAINT_HANDLER, "service"),
    Role.FINANCE: ("finance", Role.FINANCE, "finance"),
    Role.GENERAL_MANAGER: ("gm", Role.GENERAL_MANAGER, "gmo"),
    Role.ARCHIVIST: ("archivist", Role.ARCHIVIST, "archive"),
    Role.ADMIN: ("admin", Role.ADMIN, "it"),
}


def seed() -> tuple[dict, dict]:
    """Users of every role and the records the forms act on; returns (ids, users)."""
    from intranet import credit
    from intranet.customers import ledger
    from intranet.models import (
        Activity,
        Attachment,
        Contact,
        CreditApplication,
        CreditBreach,
        Customer,
        Delegation,
        Department,
        Order,
        Payment,
        Shipment,
        User,
    )

    password_hash = FAST_HASHER.hash(PASSWORD)
    departments, users = {}, {}
    for key, (username, role, code) in STAFF.items():
        if code not in departments:
            departments[code] = Department(code=code, name_zh=code, name_en=code)
        user = User(username=username, display_name=username.title(),
                    department=departments[code], password_hash=password_hash, locale="zh_CN")
        user.set_roles([role])
        users[key] = user
    db.session.add_all(users.values())
    db.session.flush()
    rep, manager, gm = users[Role.SALES_REP], users[Role.SALES_MANAGER], \
        users[Role.GENERAL_MANAGER]

    def customer(name, owner, relation="customer", **fields):
        record = Customer(name=name, region="上海", owner_id=owner.id, relation=relation,
                          department_id=owner.department_id, created_by_id=owner.id, **fields)
        db.session.add(record)
        db.session.flush()
        return record

    today = ledger.today()
    main = customer("上海测试机械有限公司", rep, credit_code=None,
                    registered_capital=Decimal("5000000"))
    submitted_for = customer("苏州送审贸易有限公司", rep)
    received_for = customer("杭州待批电子有限公司", rep)
    prospect = customer("宁波新客户有限公司", rep, relation="prospect")
    customer("广州外部门有限公司", users["rep_other_dept"])
    contact = Contact(customer_id=main.id, name="王经理", phone="13800000000")
    attachment = Attachment(customer_id=main.id, filename="执照.pdf", kind="pdf", size=9,
                            data=b"%PDF-1.4\n", uploaded_by_id=rep.id)
    activity = Activity(customer_id=main.id, user_id=rep.id, kind="visit",
                        occurred_at=clock.now() - timedelta(days=3), summary="拜访")
    order = Order(customer_id=main.id, number="SO-1", ordered_on=today, amount=Decimal("1000"))
    db.session.add_all([contact, attachment, activity, order,
                        Shipment(customer_id=main.id, shipped_on=today - timedelta(days=60),
                                 amount=Decimal("120000")),
                        Payment(customer_id=main.id, received_on=today - timedelta(days=30),
                                amount=Decimal("100000")),
                        CreditBreach(customer_id=main.id, credit_limit=Decimal("10000"),
                                     receivables=Decimal("20000"))])
    # The quarter after next: a choice of the application form that leaves the quarterly
    # review (the next quarter) with customers to list.
    later = credit.next_quarter_start(credit.next_quarter_start(today))

    def application(record, state, **fields):
        row = CreditApplication(customer_id=record.id, department_id=record.department_id,
                                applicant_id=rep.id, state=state, grade="2",
                                period_start=later, proposed_limit=Decimal("50000"), **fields)
        db.session.add(row)
        return row

    now = clock.now()
    draft = application(main, "draft")
    submitted = application(submitted_for, "submitted", submitted_at=now)
    received = application(received_for, "received", submitted_at=now, received_at=now,
                           due_at=now + timedelta(days=3))
    delegation = Delegation(principal_id=gm.id, deputy_id=manager.id,
                            role=Role.GENERAL_MANAGER.value, starts_at=now + timedelta(days=1),
                            ends_at=now + timedelta(days=2), reason="出差",
                            created_by_id=users[Role.ADMIN].id)
    db.session.add(delegation)
    notes = {key: notifications.notify(user.id, "welcome") for key, user in users.items()}
    db.session.flush()
    ledger.refresh([main])
    cases = seed_cases(main, users)
    resources = seed_resources(users)
    cases.update(seed_requests(main, users))
    allocation = seed_allocation(users)
    allocation.update(seed_sealing(main, users))
    from intranet.models import VisitPlan
    visit_plan = VisitPlan(user_id=users[Role.SALES_REP].id, customer_id=main.id,
                           planned_on=today + timedelta(days=35), note="季度拜访")
    db.session.add(visit_plan)
    db.session.flush()
    allocation["plan_id"] = visit_plan.id
    allocation.update(seed_reports(users))
    ids = {"customer_id": main.id, "prospect_id": prospect.id, "contact_id": contact.id,
           "attachment_id": attachment.id, "order_id": order.id, "draft_id": draft.id,
           "submitted_id": submitted.id, "received_id": received.id,
           "delegation_id": delegation.id, "user_id": users["rep_b"].id,
           "quarter": later.isoformat(), "next_quarter": credit.next_quarter_start(
               today).isoformat(),
           **{f"review_{n}": c.id for n, c in enumerate((main, submitted_for, received_for))},
           "department_ids": sorted(d.id for d in departments.values()),
           **{f"note_{key}": note.id for key, note in notes.items()}, **cases,
           **resources, **allocation}
    db.session.commit()
    return ids, {key: U(user.id, user.username, user.department_id)
                 for key, user in users.items()}


def seed_resources(users) -> dict:
    """A pool customer, a transfer at each open step and an open claim (rules R1, R5)."""
    from intranet.models import Customer
    from intranet.resources import ownership, reclaim, requests
    from intranet.workflows import engine

    rep, rep_b = users[Role.SALES_REP], users["rep_b"]
    reclaim.ensure_defaults()

    def owned(name):
        record = Customer(name=name, region="上海", owner_id=rep.id,
                          department_id=rep.department_id, created_by_id=rep.id)
        db.session.add(record)
        db.session.flush()
        return record

    pool_customer = Customer(name="公海测试有限公司", region="上海", pool_id=1)
    db.session.add(pool_customer)
    asked = requests.request_transfer(owned("转移测试甲有限公司"), rep_b, requested_by=rep,
                                      reason="就近服务")
    agreed = requests.request_transfer(owned("转移测试乙有限公司"), rep_b, requested_by=rep,
                                       reason="就近服务")
    engine.fire(agreed, "confirm", user=rep_b)
    claimed_customer = Customer(name="公海认领测试有限公司", region="上海", pool_id=1)
    db.session.add(claimed_customer)
    db.session.flush()
    claim = requests.claim(claimed_customer, rep_b, "有采购意向")
    returned = owned("退回测试有限公司")
    batch = ownership.change_owner(returned, None, "reclaim", actor=None, pool_id=1,
                                   reason="reclaim_rule:1", object_type="reclaim_rule",
                                   object_id=1)
    db.session.flush()
    return {"pool_customer_id": pool_customer.id, "transfer_id": asked.id,
            "transfer_confirmed_id": agreed.id, "claim_id": claim.id, "batch_id": batch.id}
def seed_requests(main, users) -> dict:
    """A lead classed by the desk and owned by the rep, an open re-classification of another
    and a conflict claim of rep B on the main customer (rules C2, C4)."""
    from intranet.models import ConflictClaim, Customer, Reclassification

    rep, desk = users[Role.SALES_REP], users[Role.SERVICE_DESK]
    leads = [Customer(name=name, region="上海", owner_id=rep.id, department_id=rep.department_id,
                      created_by_id=desk.id, deal_class="B", deal_value=Decimal("500000"),
                      classified_by_id=desk.id, classified_at=clock.now())
             for name in ("无锡分级电子有限公司", "常州待改分级有限公司")]
    db.session.add_all(leads)
    db.session.flush()
    reclassification = Reclassification(
        customer_id=leads[1].id, department_id=rep.department_id, requested_by_id=rep.id,
        from_user_id=rep.id, proposed_class="A", reason="年采购额超百万",
        classified_by_id=desk.id)
    conflict = ConflictClaim(customer_id=main.id, department_id=main.department_id,
                             requested_by_id=users["rep_b"].id, from_user_id=rep.id,
                             to_user_id=users["rep_b"].id, reason="去年已跟进")
    db.session.add_all([reclassification, conflict])
    db.session.flush()
    return {"classified_id": leads[0].id, "reclassification_id": reclassification.id,
            "conflict_id": conflict.id}
def seed_allocation(users) -> dict:
    """A lead without an owner to allocate and a penalty on the rep (rules R7, R9)."""
    from intranet.models import Customer, Penalty

    rep, manager = users[Role.SALES_REP], users[Role.SALES_MANAGER]
    now = clock.now()
    rep.last_login_at = now
    users["rep_b"].last_login_at = now
    lead = Customer(name="总台登记线索有限公司", region="上海", deal_class="B",
                    created_by_id=users[Role.SERVICE_DESK].id)
    penalty = Penalty(user_id=rep.id, number=1, reason="违规私下交换客户",
                      recorded_by_id=manager.id, starts_at=now, ends_at=now + timedelta(days=7),
                      lift_reason="")
    db.session.add_all([lead, penalty])
    db.session.flush()
    return {"lead_id": lead.id, "rep_id": rep.id, "penalty_id": penalty.id}


def seed_reports(users) -> dict:
    """Rule Q1: a department's report waiting for its manager, and one waiting for the GM."""
    from intranet.models import Report
    from intranet.visits import cadence

    manager = users[Role.SALES_MANAGER]
    found = {}
    for key, (start, state) in {"report_id": (date(2026, 7, 1), "draft"),
                                "report_submitted_id": (date(2026, 4, 1), "submitted")}.items():
        end = cadence.period_end(start, 3)
        due = end + timedelta(days=6)
        row = Report(kind="credit_sales", period_start=start, period_end=end, months=3,
                     department_id=manager.department_id, due_on=due, state=state,
                     due_at=cadence.local_midnight_utc(due + timedelta(days=1)),
                     text="第二季度分析" if state == "submitted" else "",
                     submitted_by_id=manager.id if state == "submitted" else None)
        db.session.add(row)
        db.session.flush()
        found[key] = row.id
    return found


def seed_sealing(main, users) -> dict:
    """Rule C7: last year sealed and the archivist's request to open the main customer's
    file of that year, waiting for the GM."""
    from intranet.archive import access, sealing

    archivist = users[Role.ARCHIVIST]
    year = sealing.current_year() - 1
    sealing.seal(year, archivist)
    row = access.request_access(archivist, main, year, "审计调阅", 3)
    return {"access_id": row.id, "sealed_year": str(year), "open_year": str(year - 1)}


def seed_cases(customer, users) -> dict:
    """Service cases at the steps the case forms act on (rules P1-P8)."""
    from datetime import date

    from intranet.complaints import operations
    from intranet.models import CaseAttachment, CorrectiveAction
    from intranet.workflows import engine

    desk, handler = users[Role.SERVICE_DESK], users[Role.COMPLAINT_HANDLER]
    promise = clock.now().date() + timedelta(days=30)

    def case(*steps):
        row = operations.register(operations.Intake(
            kind="complaint", channel="phone", received_at=clock.now(), description="质量问题",
            customer=customer, plan="今日回电", promised_on=promise), desk)
        for event, who, data in steps:
            engine.fire(row, event, user=users[who], **data)
        return row

    assign = ("assign", Role.SERVICE_DESK, {"handler_id": handler.id})
    open_ = [assign, ("start", Role.COMPLAINT_HANDLER, {}),
             ("give_opinion", Role.COMPLAINT_HANDLER, {"comment": "属实"})]
    registered = case()
    investigating = case(*open_[:2])
    decided = case(*open_, ("decide", Role.SALES_MANAGER, {"comment": "同意"}))
    action = CorrectiveAction(case_id=decided.id, what="加强质检", owner_id=handler.id,
                              due_on=date(2099, 1, 1), created_by_id=handler.id)
    material = CaseAttachment(case_id=decided.id, filename="投诉信.pdf", kind="pdf", size=9,
                              data=b"%PDF-1.4\n", uploaded_by_id=desk.id)
    db.session.add_all([action, material])
    db.session.flush()
    return {"case_registered_id": registered.id, "case_open_id": investigating.id,
            "case_decided_id": decided.id, "case_action_id": action.id,
            "case_material_id": material.id, "promise_date": promise.isoformat()}


def _clear_postgresql() -> None:
    """Empty every table and restart every sequence, as conftest's TRUNCATE does, in a tenth of
    its time (TRUNCATE of every table costs ~0.2 s; DELETE of a few rows is instant). The audit
    table refuses DELETE (SECURITY.md 22), so it alone is truncated."""
    with db.engine.begin() as conn:
        conn.execute(text(f'TRUNCATE "{AuditEntry.__tablename__}"'))  # it references users
        for table in reversed(db.metadata.sorted_tables):
            if table.name != AuditEntry.__tablename__:
                conn.execute(table.delete())
        conn.execute(text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))


def _snapshot_postgresql() -> list:
    """Every row of the seeded database, table by table in dependency order."""
    with db.engine.connect() as conn:
        return [(table, [dict(row) for row in conn.execute(table.select()).mappings()])
                for table in db.metadata.sorted_tables]


def _restore_postgresql(snapshot) -> None:
    """The snapshot written back into the empty database (every world and every other test
    leaves it empty) in one statement per table: seeding through the ORM again would cost
    five times as much. Sequences continue after the restored ids."""
    with db.engine.begin() as conn:
        for table, rows in snapshot:
            if rows:
                conn.execute(table.insert(), rows)
                if "id" in table.c and table.c.id.primary_key:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"',"
                                      f" 'id'), (SELECT max(id) FROM \"{table.name}\"))"))


class WorldFactory:
    """A fresh database per call, for one app built on first use. The world is seeded once;
    SQLite then copies that database over the app's file (no connection is open across the
    swap), PostgreSQL (TEST_DATABASE_URL) is emptied and the seeded rows written back, and
    emptied again afterwards for the tests that follow. What the app itself keeps between
    requests (the rate limiter's counts) is reset too; building an app per example would cost
    ~0.3 s each (routes, templates, SQL compiled)."""

    def __init__(self, template_db, directory):
        self.template_db, self.directory = template_db, directory
        self.path = directory / "world.sqlite3"
        self.app = self.seeded = None

    def _app(self):
        if self.app is None:
            if PG_URL:
                self.app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": PG_URL})
                with self.app.test_request_context(), self._fast_passwords():
                    _clear_postgresql()
                    ids, users = seed()
                    db.session.remove()
                    self.seeded = (_snapshot_postgresql(), ids, users)
                    _clear_postgresql()
            else:
                seeded = self.directory / "seeded.sqlite3"
                shutil.copy(self.template_db, seeded)
                app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{seeded}"})
                with app.test_request_context(), self._fast_passwords():
                    self.seeded = (seeded, *seed())
                    db.session.remove()
                    db.engine.dispose()
                self.app = create_app({**TEST_CONFIG,
                                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{self.path}"})
        return self.app

    @staticmethod
    def _fast_passwords():
        """argon2 at its cheapest: the hash parameters are not what the fuzz is about."""
        stack = ExitStack()
        stack.enter_context(mock.patch.object(passwords, "hasher", FAST_HASHER))
        stack.enter_context(mock.patch.object(passwords, "_DUMMY_HASH", DUMMY_HASH))
        return stack

    @contextmanager
    def __call__(self):
        app = self._app()
        seeded, ids, users = self.seeded
        with app.app_context():
            limiter.reset()
            db.session.remove()
            if PG_URL:
                _restore_postgresql(seeded)
            else:
                db.engine.dispose()
                for suffix in ("-wal", "-shm"):
                    self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
                shutil.copy(seeded, self.path)
        try:
            with self._fast_passwords():
                yield World(app, ids, users)
        finally:
            clock.freeze(None)
            with app.app_context():
                db.session.remove()
                if PG_URL:
                    _clear_postgresql()
                else:
                    db.engine.dispose()  # nothing stays open on the file the next world replaces
