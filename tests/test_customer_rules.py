"""Customer-archive rules on their own: C1 credit code, C2 dedupe, C3 tiers, C5 growth,
C9 figures. (Screens for them come with the customer-archive issue.)"""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import counting_selects

from intranet.core.roles import Role
from intranet.customers import credit_code, dedupe, ledger
from intranet.extensions import db
from intranet.models import Contact, Customer, Order, Payment, Shipment

TODAY = date(2026, 11, 2)


@pytest.mark.parametrize(("code", "problem"), [
    ("91350100M000100Y43", None),
    ("91110000802100433B", None),
    ("91350100m000100y43", None),             # lower case is accepted and normalised
    ("91350100M000100Y44", "check_digit"),
    ("91350100M000100Y4", "length"),
    ("91350100M000100I43", "characters"),     # I is not in the alphabet
    ("91ABCDEFM000100Y43", "characters"),     # the region code is numeric
])
def test_c1_credit_code_check_digit(code, problem):
    assert credit_code.problem(code) == problem


def test_c1_generated_codes_are_valid():
    rng = random.Random(7)
    assert all(credit_code.problem(credit_code.generate(rng)) is None for _ in range(200))


@pytest.mark.parametrize(("a", "b"), [
    ("上海华东精密机械有限公司", "上海华东精密机械股份有限公司"),
    ("上海华东精密机械有限公司", "上海 华东精密机械（股份）有限公司"),
    ("华为技术（深圳）有限公司", "华为技术(深圳)有限责任公司"),
    ("ＡＢＣ贸易有限公司", "abc贸易公司"),
])
def test_c2_name_variants_normalise_alike(a, b):
    assert dedupe.normalise_name(a) == dedupe.normalise_name(b)


def test_c2_different_companies_stay_different():
    assert dedupe.normalise_name("上海华东机械有限公司") != dedupe.normalise_name(
        "上海华南机械有限公司")


@pytest.fixture
def existing(app, staff):
    with app.app_context():
        customer = Customer(name="上海华东精密机械有限公司",
                            normalized_name=dedupe.normalise_name("上海华东精密机械有限公司"),
                            credit_code="91350100M000100Y43", owner_id=staff[Role.SALES_REP].id)
        customer.contacts.append(Contact(name="王经理", phone="138-1234-5678",
                                         phone_digits=dedupe.phone_digits("138-1234-5678")))
        db.session.add(customer)
        db.session.commit()
        return customer.id


@pytest.mark.parametrize(("name", "code", "phones", "reason"), [
    ("完全不同有限公司", "91350100m000100y43", [], "credit_code"),
    ("上海华东精密机械（股份）有限公司", "", [], "name"),
    ("完全不同有限公司", "", ["+86 13812345678"], "phone"),
])
def test_c2_registration_matching_an_existing_customer_is_refused(app, existing, name, code,
                                                                  phones, reason):
    with app.app_context():
        found = dedupe.find_duplicate(name, code, phones)
        assert found is not None
        customer, why = found
        assert customer.id == existing and why == reason
        assert customer.owner.username == "rep"  # the existing owner can be shown


def test_c2_new_customer_passes(app, existing):
    with app.app_context():
        assert dedupe.find_duplicate("杭州西湖电子有限公司", "", ["0571-8888 1234"]) is None
        assert dedupe.find_duplicate("上海华东精密机械有限公司", exclude_id=existing) is None


def add_ledger(customer_id, shipments=(), payments=(), orders=()):
    for days_ago, amount in shipments:
        db.session.add(Shipment(customer_id=customer_id, shipped_on=TODAY - timedelta(days_ago),
                                amount=Decimal(amount)))
    for days_ago, amount in payments:
        db.session.add(Payment(customer_id=customer_id, received_on=TODAY - timedelta(days_ago),
                               amount=Decimal(amount)))
    for i, (days_ago, amount, status) in enumerate(orders):
        db.session.add(Order(customer_id=customer_id, number=f"SO-{customer_id}-{i}",
                             ordered_on=TODAY - timedelta(days_ago), amount=Decimal(amount),
                             status=status))


def make(app, name: str) -> int:
    with app.app_context():
        customer = Customer(name=name, normalized_name=dedupe.normalise_name(name))
        db.session.add(customer)
        db.session.commit()
        return customer.id


def test_c9_receivables_payment_rate_and_open_orders(app):
    cid = make(app, "账务测试有限公司")
    with app.app_context():
        add_ledger(cid, shipments=[(10, "120000.10"), (400, "50000.00")],
                   payments=[(5, "90000.05"), (380, "50000.00")],
                   orders=[(2, "30000.00", "open"), (20, "120000.10", "shipped"),
                           (3, "999.00", "cancelled")])
        db.session.commit()
        fig = ledger.figures([cid], TODAY)[cid]
    assert fig.receivable == Decimal("30000.05")
    assert fig.sales_12m == Decimal("120000.10") and fig.sales_prev_12m == Decimal("50000.00")
    assert fig.payment_rate == Decimal("0.7500")
    assert fig.open_orders == Decimal("30000.00")
    assert isinstance(fig.receivable, Decimal)


def test_c9_figures_take_a_constant_number_of_queries(app):
    ids = [make(app, f"批量{i}有限公司") for i in range(12)]
    with app.app_context():
        for cid in ids:
            add_ledger(cid, shipments=[(1, "10")], payments=[(1, "5")], orders=[(1, "3", "open")])
        db.session.commit()
        with counting_selects(app) as statements:
            ledger.figures(ids[:2], TODAY)
            small = len(statements)
            statements.clear()
            ledger.figures(ids, TODAY)
            large = len(statements)
    assert small == large == 1  # one UNION ALL of the three tables


@pytest.mark.parametrize(("shipments", "payments", "tier"), [
    ([(30, "600000")], [(20, "600000")], "vip"),      # ≥ 500k and fully paid
    ([(30, "600000")], [(20, "300000")], "key"),      # ≥ 500k but poor payment record
    ([(30, "150000")], [], "key"),                    # 100k-500k
    ([(30, "99999.99")], [], "general"),              # below 100k
    ([(400, "900000")], [(390, "900000")], "general"),  # big, but over a year ago
    ([], [], "reserve"),                              # prospect: no transactions
])
def test_c3_tier_from_trailing_twelve_months(app, shipments, payments, tier):
    cid = make(app, "分级测试有限公司")
    with app.app_context():
        add_ledger(cid, shipments=shipments, payments=payments)
        db.session.commit()
        customer = db.session.get(Customer, cid)
        ledger.refresh([customer], TODAY)
        assert customer.tier == tier


def test_c3_thresholds_are_settings(app):
    cid = make(app, "阈值测试有限公司")
    with app.app_context():
        from intranet.core import settings
        add_ledger(cid, shipments=[(30, "60000")])
        db.session.commit()
        customer = db.session.get(Customer, cid)
        ledger.refresh([customer], TODAY)
        assert customer.tier == "general"
        assert settings.update({"tier_key_min_yuan": "50000"}) == {}
        ledger.refresh([customer], TODAY)
        assert customer.tier == "key"


def test_c3_manual_override_survives_recomputation(app):
    cid = make(app, "覆盖测试有限公司")
    with app.app_context():
        customer = db.session.get(Customer, cid)
        customer.tier_override, customer.tier_override_reason = "vip", "战略客户"
        ledger.refresh([customer], TODAY)
        assert customer.tier == "reserve" and customer.effective_tier == "vip"


def test_c5_year_on_year_growth(app):
    fast, slow, new = (make(app, n) for n in ("快速增长有限公司", "下滑有限公司", "新客户有限公司"))
    with app.app_context():
        add_ledger(fast, shipments=[(10, "300000"), (400, "100000")])
        add_ledger(slow, shipments=[(10, "50000"), (400, "100000")])
        add_ledger(new, shipments=[(10, "80000")])
        db.session.commit()
        figs = ledger.figures([fast, slow, new], TODAY)
    assert figs[fast].growth == Decimal("2.0000")
    assert figs[slow].growth == Decimal("-0.5000")
    assert figs[new].growth is None
