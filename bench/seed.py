"""Seed a benchmark database: 100,000 customers and 1,000,000 transactions (issue 3).

    python bench/seed.py [--customers 100000] [--transactions 1000000]

Uses DATABASE_URL if set (PostgreSQL), else bench/out/bench.sqlite3. Idempotent: an existing
database with the requested size is kept.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
OUT = HERE / "out"
OUT.mkdir(exist_ok=True)
os.environ.setdefault("INTRANET_INSTANCE", str(OUT))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{OUT / 'bench.sqlite3'}")

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from intranet import create_app  # noqa: E402
from intranet.core import passwords  # noqa: E402
from intranet.customers import credit_code  # noqa: E402
from intranet.customers.names import normalise_name  # noqa: E402
from intranet.extensions import db  # noqa: E402
from intranet.models import Customer, Department, Order, Payment, Shipment, User, UserRole  # noqa: E402

PASSWORD = "bench-password-2026"
CITIES = ["上海", "杭州", "南京", "苏州", "广州", "深圳", "北京", "天津", "成都", "武汉"]
WORDS = list("华东恒通金陵西湖珠江前海智联宏达新锐远航鼎盛瑞丰安泰博远中科海纳天成永信汇丰联创")
TRADES = ["精密机械", "电子科技", "包装材料", "物流", "化工", "信息技术", "建材", "食品"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        upgrade()
        have = db.session.scalar(select(func.count()).select_from(Customer))
        if have >= args.customers:
            print(f"seed: {have} customers already there")
            return
        started = time.perf_counter()
        seed_people()
        seed_customers(args.customers)
        seed_transactions(args.customers, args.transactions)
        db.session.commit()
        print(f"seed: {args.customers} customers, {args.transactions} transactions in "
              f"{time.perf_counter() - started:.0f} s")


def seed_people() -> None:
    dept = Department(code="bench", name_zh="销售一部", name_en="Sales 1")
    db.session.add(dept)
    db.session.flush()
    hashed = passwords.hash_password(PASSWORD)
    for username, role in (("benchrep", "sales_rep"), ("benchmgr", "sales_manager")):
        user = User(username=username, display_name=username, department_id=dept.id,
                    password_hash=hashed)
        db.session.add(user)
        db.session.flush()
        db.session.add(UserRole(user_id=user.id, role=role))
    db.session.flush()


def seed_customers(count: int) -> None:
    rng = random.Random(1)
    rep = db.session.scalar(select(User).where(User.username == "benchrep"))
    rows = []
    for i in range(count):
        name = (f"{rng.choice(CITIES)}{rng.choice(WORDS)}{rng.choice(WORDS)}"
                f"{rng.choice(TRADES)}{i:06d}有限公司")
        rows.append({"name": name, "normalized_name": normalise_name(name),
                     "credit_code": credit_code.generate(rng), "region": rng.choice(CITIES),
                     "owner_id": rep.id if i % 100 == 0 else None,
                     "department_id": rep.department_id, "tier": rng.choice(
                         ["vip", "key", "general", "reserve"]),
                     "sales_12m": rng.randint(0, 900_000), "sales_prev_12m": rng.randint(
                         0, 900_000)})
        if len(rows) == 5_000:
            db.session.execute(insert(Customer), rows)
            rows = []
    if rows:
        db.session.execute(insert(Customer), rows)


def seed_transactions(customers: int, count: int) -> None:
    rng = random.Random(2)
    first = db.session.scalar(select(func.min(Customer.id)))
    today = date.today()
    batch: dict = {Order: [], Shipment: [], Payment: []}
    for i in range(count):
        customer_id = first + rng.randrange(customers)
        on = today - timedelta(days=rng.randrange(730))
        amount = rng.randint(100, 50_000)
        model = (Order, Shipment, Payment)[i % 3]
        if model is Order:
            batch[Order].append({"customer_id": customer_id, "number": f"B{i:08d}",
                                 "ordered_on": on, "amount": amount, "status": "shipped"})
        elif model is Shipment:
            batch[Shipment].append({"customer_id": customer_id, "shipped_on": on,
                                    "amount": amount})
        else:
            batch[Payment].append({"customer_id": customer_id, "received_on": on,
                                   "amount": amount, "reference": ""})
        if i % 30_000 == 29_999:
            flush(batch)
    flush(batch)


def flush(batch) -> None:
    for model, rows in batch.items():
        if rows:
            db.session.execute(insert(model), rows)
            rows.clear()


if __name__ == "__main__":
    main()
