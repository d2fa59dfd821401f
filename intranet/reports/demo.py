"""Demo reports (rules Q1, Q2): last quarter's package at every step — sales 1's credit and sales
analysis accepted, its visit report waiting for the GM, the consolidated report sent back to the
archive room, the rest still to write (overdue, as their due days have passed) — and tier
movements within that quarter for the reports to count."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import delete, select

from intranet.core import settings
from intranet.customers import ledger
from intranet.extensions import db
from intranet.models import Customer, Report, TierChange, User
from intranet.reports import package
from intranet.workflows import engine

TEXTS = {
    "credit_sales": "本季度销售额较上季度增长，重点客户贡献过半；回款率略有下降，"
                    "两家客户超出信用额度，已要求业务员催收。下季度重点：控制赊销、跟进大额应收。",
    "visit_market": "本季度重要客户均已拜访，满意度平均在 4 分左右；"
                    "客户普遍反映交货期偏长，建议与生产部门协调排产。",
    "consolidated": "各部门销售情况汇总如下，销售一部增长较快，销售二部持平。",
}


def _moves(rng: random.Random, start, end) -> None:
    """Some customers changed tier within the quarter (the load computed today's tiers)."""
    zone = settings.tz()
    customers = db.session.scalars(select(Customer).where(
        Customer.tier.in_(("vip", "key", "general"))).order_by(Customer.id)).all()
    for customer in rng.sample(customers, min(12, len(customers))):
        before = {"vip": "key", "key": "general", "general": rng.choice(("key", "reserve"))}[
            customer.tier]
        day = start + timedelta(days=rng.randrange((end - start).days + 1))
        db.session.add(TierChange(customer_id=customer.id, from_tier=before,
                                  to_tier=customer.tier,
                                  changed_at=datetime.combine(day, time(2), zone)))


def load_reports(users: dict[str, User]) -> None:
    if db.session.scalar(select(Report.id).limit(1)):
        return
    # The load's first tier computation is no movement: every customer started as a reserve.
    db.session.execute(delete(TierChange))
    rng = random.Random(15)
    start, end = package.last_closed_period(ledger.today(), package.cycle_months())
    _moves(rng, start, end)
    made = {(r.kind, r.department_id): r for r in package.prepare(ledger.today())}
    sales1 = users["manager1"].department_id
    manager, gm, archivist = users["manager1"], users["gm"], users["archivist"]
    accepted = made.get(("credit_sales", sales1))
    if accepted is not None:
        engine.fire(accepted, "submit", user=manager, text=TEXTS["credit_sales"])
        engine.fire(accepted, "accept", user=gm, comment="同意，请落实应收账款催收。")
    waiting = made.get(("visit_market", sales1))
    if waiting is not None:
        engine.fire(waiting, "submit", user=manager, text=TEXTS["visit_market"])
    returned = made.get(("consolidated", None))
    if returned is not None:
        engine.fire(returned, "submit", user=archivist, text=TEXTS["consolidated"])
        engine.fire(returned, "send_back", user=gm, comment="请补充各部门回款率的对比分析。")
