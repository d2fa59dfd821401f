"""The demo company (`flask demo`): departments, one account per role, ~300 customers with
two years of orders, shipments and payments, credit applications, and service cases
(complaints/demo.py).
Idempotent: existing rows are kept, missing ones are added."""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import click
from flask.cli import with_appcontext

from intranet.archive.demo import load_export, load_sealing
from intranet.complaints.demo import load_cases
from intranet.core import audit, notifications, passwords
from intranet.core.roles import Role
from intranet.customers import credit_code, ledger
from intranet.customers.names import normalise_name
from intranet.extensions import db
from intranet.models import Contact, Customer, Department, Order, Payment, Shipment, User
from intranet.models.customer import PAYMENT_METHODS, SIZES, SOURCE_CHANNELS
from intranet.reports.demo import load_reports
from intranet.resources.demo import load_resources
from intranet.resources.ownership import first_owner
from intranet.visits.demo import load_visits

DEMO_PASSWORD = "demo-pass-2026"

DEPARTMENTS = [
    ("sales1", "销售一部", "Sales Dept. 1"),
    ("sales2", "销售二部", "Sales Dept. 2"),
    ("service", "客户服务部", "Customer Service"),
    ("finance", "财务部", "Finance"),
    ("gmo", "总经理办公室", "General Manager's Office"),
    ("archive", "档案室", "Archive Room"),
    ("it", "信息技术部", "IT"),
]

USERS = [
    ("rep1", "张伟", "sales1", [Role.SALES_REP]),
    ("rep2", "李娜", "sales1", [Role.SALES_REP]),
    ("rep3", "王强", "sales2", [Role.SALES_REP]),
    ("manager1", "刘洋", "sales1", [Role.SALES_MANAGER]),
    ("manager2", "陈静", "sales2", [Role.SALES_MANAGER]),
    ("desk", "杨敏", "service", [Role.SERVICE_DESK]),
    ("handler", "赵磊", "service", [Role.COMPLAINT_HANDLER]),
    ("finance", "黄丽", "finance", [Role.FINANCE]),
    ("gm", "周建国", "gmo", [Role.GENERAL_MANAGER]),
    ("deputy", "吴芳", "gmo", [Role.SALES_MANAGER]),
    ("archivist", "徐静", "archive", [Role.ARCHIVIST]),
    ("admin", "孙涛", "it", [Role.ADMIN]),
]

CUSTOMER_COUNT = 300
CITIES = [("上海", "310000"), ("杭州", "330100"), ("南京", "320100"), ("苏州", "320500"),
          ("广州", "440100"), ("深圳", "440300"), ("北京", "110000"), ("天津", "120000"),
          ("成都", "510100"), ("武汉", "420100"), ("宁波", "330200"), ("青岛", "370200")]
WORDS = ["华东", "恒通", "金陵", "西湖", "珠江", "前海", "智联", "宏达", "新锐", "远航", "鼎盛",
         "瑞丰", "安泰", "博远", "中科", "海纳", "天成", "永信", "汇丰", "联创", "万象", "嘉禾",
         "明德", "启航", "星河", "卓越", "信达", "华鑫", "长城", "东方"]
TRADES = [("精密机械", "制造业"), ("电子科技", "电子信息"), ("包装材料", "制造业"),
          ("物流", "交通运输"), ("化工", "化工"), ("信息技术", "软件和信息服务"),
          ("建材", "建筑材料"), ("食品", "食品加工"), ("医疗器械", "医疗"), ("纺织", "纺织服装")]
FORMS = ["有限公司", "股份有限公司", "有限责任公司"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"


def _load_customers(reps) -> None:
    """~300 customers with valid credit codes, contacts and two years of trade (C1, C9)."""
    rng = random.Random(2026)
    today = ledger.today()
    used = set()
    customers = []
    while len(customers) < CUSTOMER_COUNT:
        city, region_code = rng.choice(CITIES)
        trade, industry = rng.choice(TRADES)
        first, second = rng.sample(WORDS, 2)
        name = f"{city}{first}{second}{trade}{rng.choice(FORMS)}"
        if normalise_name(name) in used:
            continue
        used.add(normalise_name(name))
        owner = rng.choice(reps)
        customer = Customer(
            name=name, credit_code=credit_code.generate(rng, region_code), region=city,
            industry=industry, size=rng.choice(SIZES), legal_representative=_person(rng),
            registered_capital=Decimal(rng.choice([50, 100, 500, 1000, 5000])) * 10000,
            address=f"{city}市{rng.choice(WORDS)}路{rng.randint(1, 999)}号",
            payment_method=rng.choice(PAYMENT_METHODS), source_channel=rng.choice(SOURCE_CHANNELS),
            relation="prospect", owner=owner, department=owner.department)
        customer.contacts.append(Contact(
            name=_person(rng), title=rng.choice(["采购经理", "总经理", "财务主管", "采购专员"]),
            phone=f"1{rng.choice('35789')}{rng.randint(0, 999999999):09d}"))
        customers.append(customer)
        db.session.add(customer)
    db.session.flush()
    for customer in customers:  # rule R3: each registered by its rep, the first owner
        first_owner(customer, "registered", customer.owner)
    for customer in customers:
        scale = rng.choice([0, 0, 2_000, 8_000, 20_000, 60_000])  # monthly trade; 0: prospect
        if not scale:
            continue
        customer.relation = "customer"
        for month in range(24):
            shipped_on = today - timedelta(days=30 * month + rng.randint(0, 27))
            amount = Decimal(scale * rng.uniform(0.3, 1.7)).quantize(Decimal("0.01"))
            order = Order(customer_id=customer.id, number=f"SO{customer.id:05d}{month:02d}",
                          ordered_on=shipped_on - timedelta(days=3), amount=amount,
                          status="shipped")
            db.session.add(order)
            db.session.add(Shipment(customer_id=customer.id, order=order, shipped_on=shipped_on,
                                    amount=amount))
            if month > 0 or rng.random() < 0.5:
                paid = amount if rng.random() < 0.85 else amount / 2
                db.session.add(Payment(customer_id=customer.id, amount=paid.quantize(
                    Decimal("0.01")), received_on=shipped_on + timedelta(days=20)))
    db.session.flush()
    ledger.refresh(customers, today)


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(["伟", "芳", "娜", "敏", "静", "强", "磊", "洋",
                                               "艳", "勇", "军", "杰", "涛", "明", "超"])


def load_demo() -> list[tuple[str, str, str]]:
    departments = {}
    for code, zh, en in DEPARTMENTS:
        dept = db.session.scalar(db.select(Department).where(Department.code == code))
        if dept is None:
            dept = Department(code=code, name_zh=zh, name_en=en)
            db.session.add(dept)
        departments[code] = dept
    db.session.flush()

    users = {}
    password_hash = passwords.hash_password(DEMO_PASSWORD)
    for username, name, dept, roles in USERS:
        user = db.session.scalar(db.select(User).where(User.username == username))
        if user is None:
            user = User(username=username, display_name=name, department=departments[dept],
                        password_hash=password_hash, email=f"{username}@example.cn")
            user.set_roles(roles)
            db.session.add(user)
            db.session.flush()
            notifications.notify(user.id, "welcome")
            audit.record(audit.Action.CREATE, "user", user.id, details={"source": "demo"})
        users[username] = user

    if db.session.scalar(db.select(db.func.count()).select_from(Customer)) == 0:
        _load_customers([users["rep1"], users["rep2"], users["rep3"]])
        _load_credit(users)
    load_cases(users)
    _switch_on_reclaim()
    load_resources(users)
    load_sealing(users)
    load_export(users)
    load_visits(users)
    load_reports(users)
    return [(u, n, ", ".join(str(r.label) for r in roles)) for u, n, _d, roles in USERS]


def _switch_on_reclaim() -> None:
    """The demo runs the two-month reclaim (R2), so customer pages say when they return to
    the pool; a real company switches its rules on after previewing them."""
    from intranet.models import ReclaimRule
    from intranet.resources import reclaim

    reclaim.ensure_defaults()
    rule = db.session.scalar(db.select(ReclaimRule).where(ReclaimRule.kind == "no_activity"))
    if rule is not None:
        rule.enabled = True


def _load_credit(users) -> None:
    """Rules K1-K7 on show: limits in force for the bigger customers (this quarter), and next
    quarter's applications at every stage, a few of them waiting for the GM (one overdue)."""
    from intranet.core import clock
    from intranet.credit import basis_for, next_quarter_start, quarter_start, suggest

    today = ledger.today()
    this_quarter, next_quarter = quarter_start(today), next_quarter_start(today)
    customers = db.session.scalars(
        db.select(Customer).where(Customer.sales_12m > 0).order_by(Customer.sales_12m.desc(),
                                                                   Customer.id)).all()
    bases = basis_for(customers)
    now = clock.now()
    stages = ["received"] * 6 + ["submitted"] * 3 + ["draft"] * 2
    import intranet.workflows.credit  # noqa: F401  (registers the machine)
    for index, customer in enumerate(customers[:60]):
        basis = bases[customer.id]
        grade, limit = suggest(customer, basis)
        applicant = customer.owner
        common = dict(customer_id=customer.id, department_id=customer.department_id,
                      applicant_id=applicant.id, grade=grade, proposed_limit=limit,
                      annual_sales=basis.annual_sales, monthly_sales=basis.monthly_sales,
                      payment_method=basis.payment_method, payment_rate=basis.payment_rate,
                      receivables=basis.receivables)
        # the limit in force: a little above today's exposure for most, below it for a few
        in_force = max(limit, (basis.receivables + basis.open_orders) * Decimal("1.3"))
        in_force = (in_force / 1000).to_integral_value() * 1000
        if index % 15 == 14:
            in_force = (basis.receivables * Decimal("0.8")).quantize(Decimal("1000"))
        _demo_limit_in_force({**common, "proposed_limit": in_force}, this_quarter, users)
        customer.credit_grade, customer.credit_graded_at = grade, now - timedelta(days=58)
        if index < len(stages):
            _demo_application(common, stages[index], next_quarter, index, users)


def _demo_limit_in_force(common: dict, period_start, users) -> None:
    """This quarter's limit, applied for, forwarded, approved by the GM and in force, driven
    through the workflow two months ago so its record has its history and signatures."""
    from intranet.core import clock
    from intranet.models import CreditApplication
    from intranet.workflows import engine

    application = CreditApplication(**common, state="draft", period_start=period_start)
    db.session.add(application)
    db.session.flush()
    applicant = db.session.get(User, common["applicant_id"])
    manager = users["manager1"] if applicant.department_id == users["manager1"].department_id \
        else users["manager2"]
    received = clock.now() - timedelta(days=60)
    with clock.at(received - timedelta(hours=5)):
        engine.fire(application, "submit", user=applicant)
    if application.state == "submitted":
        with clock.at(received):
            engine.fire(application, "forward", user=manager, comment="同意，请总经理审批")
    with clock.at(received + timedelta(days=2)):
        engine.fire(application, "approve", user=users["gm"], comment="同意")
        engine.fire(application, "activate", user=None)


def _demo_application(common: dict, stage: str, period_start, index: int, users) -> None:
    """Next quarter's application driven through the real workflow, at past times, so its
    history is complete (the clock is moved for the demo only)."""
    from intranet.core import clock
    from intranet.models import CreditApplication
    from intranet.workflows import engine

    application = CreditApplication(**common, state="draft", period_start=period_start)
    db.session.add(application)
    db.session.flush()
    if stage == "draft":
        return
    real_now = clock.now()
    applicant = db.session.get(User, common["applicant_id"])
    manager = users["manager1"] if applicant.department_id == users["manager1"].department_id \
        else users["manager2"]
    received = real_now - timedelta(days=4 if index == 0 else index % 3, hours=index)
    with clock.at(received - timedelta(hours=5)):
        engine.fire(application, "submit", user=applicant)
    if stage == "received":
        with clock.at(received):
            engine.fire(application, "forward", user=manager, comment="同意，请总经理审批")


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the demo company (idempotent) and print the demo accounts."""
    from flask import current_app

    if not current_app.config["DEMO_MODE"]:
        raise click.ClickException(
            "the demo creates accounts with a published password; "
            "set DEMO_MODE=1 to confirm this is a demo installation (SECURITY.md 8)")
    # Links in the notifications the workflows send are built with url_for, which needs a
    # request context (as in `flask jobs run`).
    with current_app.test_request_context("/"):
        accounts = load_demo()
    db.session.commit()
    click.echo(f"\n演示账号 Demo accounts (password for all: {DEMO_PASSWORD})")
    click.echo("-" * 72)
    for username, display_name, roles in accounts:
        click.echo(f"  {username:<12} {display_name:<8} {roles}")
    click.echo("-" * 72)
