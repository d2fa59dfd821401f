"""Demo visits (rules V1-V4): each rep's important customers visited over the last quarters,
some with the manager or the GM, with satisfaction and next follow-ups; a new customer's first
order with its 3/30/60-day follow-ups; some obligations left overdue for the lists to show."""
from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from intranet.core import settings
from intranet.customers import ledger
from intranet.extensions import db
from intranet.models import Activity, Customer, Order, User
from intranet.visits import PURPOSE_LABELS, operations, tasks

NOTES = {  # what each channel's visit was about (the channel and the words agree)
    "visit": ("上门拜访，了解下季度采购计划", "现场查看设备使用情况，提出保养建议",
              "走访客户仓库，核对库存"),
    "phone": ("电话回访，客户对交货期满意", "电话沟通价格调整，客户表示理解"),
    "video": ("视频会议沟通新品技术参数",),
    "email": ("邮件发送新品资料与报价单", "邮件收集客户对竞品价格的反馈"),
}


def load_visits(users: dict[str, User]) -> None:
    if db.session.scalar(select(Activity.id).where(Activity.purpose.is_not(None)).limit(1)):
        return
    rng = random.Random(14)
    today = ledger.today()
    zone = settings.tz()
    manager, gm = users["manager1"], users["gm"]
    for rep in (users["rep1"], users["rep2"]):
        customers = [c for tiers, limit in ((("vip", "key"), 16), (("general",), 8))
                     for c in db.session.scalars(
                         select(Customer).where(Customer.owner_id == rep.id,
                                                Customer.tier.in_(tiers))
                         .order_by(Customer.id).limit(limit))]
        for n, customer in enumerate(customers):
            if n % 4 == 3:
                continue  # left without visits: overdue on the lists
            for back in sorted(rng.sample(range(5, 300), 3), reverse=True):
                day = today - timedelta(days=back)
                occurred = datetime.combine(day, time(10, rng.randrange(60)), zone)
                kind = rng.choice(("visit", "visit", "phone", "video", "email"))
                going = (manager.id,) if n % 3 == 0 else (gm.id,) if n % 5 == 0 else ()
                operations.record_visit(
                    customer, rep, kind=kind, occurred_at=occurred.astimezone(UTC),
                    summary=rng.choice(NOTES[kind]), purpose=rng.choice(list(PURPOSE_LABELS)),
                    satisfaction=rng.choice((3, 4, 4, 5, 5)),
                    next_action_on=today + timedelta(days=rng.randrange(1, 10))
                    if back < 12 else None, participant_ids=going)
    newcomer = db.session.scalar(select(Customer).where(
        Customer.owner_id == users["rep1"].id,
        ~select(Order.id).where(Order.customer_id == Customer.id).exists())
        .order_by(Customer.id).limit(1))
    if newcomer is not None:  # rule V4: a first order ten days ago
        number = f"SO-NEW-{newcomer.id:05d}"
        if not db.session.scalar(select(func.count()).where(Order.number == number)):
            db.session.add(Order(customer_id=newcomer.id, number=number, amount=Decimal(
                "36000"), ordered_on=today - timedelta(days=10), status="open"))
            db.session.flush()
            newcomer.relation = "customer"
            tasks.first_purchase([newcomer.id])
    db.session.flush()
