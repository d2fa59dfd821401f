"""SECURITY.md "Concurrency": two general managers (the GM and a deputy) approve the same
application at the same moment, behind a barrier, each in its own session and connection, on
SQLite and on PostgreSQL: exactly one wins, the other gets 409 with the current state, and there
is exactly one history row."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from conftest import login_fast

from intranet.core import clock
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import CreditApplication, Delegation, WorkflowHistory


def test_concurrent_approvals_one_wins_one_409_one_history_row(app, staff, make_customer,
                                                               make_user, make_application):
    deputy = make_user("deputy", Role.SALES_MANAGER, department="gmo")
    gm = staff[Role.GENERAL_MANAGER]
    now = clock.now()
    with app.app_context():
        db.session.add(Delegation(principal_id=gm.id, deputy_id=deputy.id,
                                  role="general_manager", starts_at=now - timedelta(days=1),
                                  ends_at=now + timedelta(days=1), reason="出差",
                                  created_by_id=staff[Role.ADMIN].id))
        db.session.commit()
    cid = make_customer("上海华东机械有限公司", staff[Role.SALES_REP])
    aid = make_application(cid, staff[Role.SALES_REP], state="received",
                           received_at=datetime(2026, 11, 2, tzinfo=UTC),
                           due_at=datetime(2026, 11, 5, tzinfo=UTC))
    clients = []
    for user in (gm, deputy):
        client = app.test_client()
        login_fast(client, app, user)
        page = client.get(f"/sales/credit/{aid}").get_data(as_text=True)
        token = page.split('name="csrf-token" content="')[1].split('"')[0]
        clients.append((client, token))

    barrier = threading.Barrier(2)
    results = [None, None]

    def approve(index, amount):
        client, token = clients[index]
        barrier.wait()
        response = client.post(f"/sales/credit/{aid}/transition", data={
            "csrf_token": token, "event": "approve", "version": "1", "amount": amount})
        results[index] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=approve, args=(i, a))
               for i, a in enumerate(("150000", "90000"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(r[0] for r in results)
    assert statuses == [302, 409], results
    loser = next(r for r in results if r[0] == 409)[1]
    assert "已批准" in loser or "Approved" in loser  # the 409 says the current state
    with app.app_context():
        application = db.session.get(CreditApplication, aid)
        assert application.state == "approved" and application.version == 2
        winner = 0 if results[0][0] == 302 else 1
        assert str(application.approved_limit) == ("150000.00", "90000.00")[winner]
        history = db.session.scalars(db.select(WorkflowHistory).where(
            WorkflowHistory.object_id == aid)).all()
        assert len(history) == 1


def test_k7_concurrent_releases_ship_an_order_once(app, staff, make_customer, make_user,
                                                   make_application):
    """Two finance clerks release the same open order at the same moment: one shipment, the
    other is told the order is no longer open (409)."""
    from datetime import date
    from decimal import Decimal

    from intranet.models import Order, Shipment

    second_clerk = make_user("finance2", Role.FINANCE, department="finance")
    cid = make_customer("上海华东机械有限公司", staff[Role.SALES_REP])
    make_application(cid, staff[Role.SALES_REP], state="approved", limit="100000",
                     approved_limit=Decimal("100000"), period_start=date(2026, 10, 1),
                     decided_at=datetime(2026, 9, 20, tzinfo=UTC))
    with app.app_context():
        order = Order(customer_id=cid, number="SO-RACE", ordered_on=date(2026, 10, 1),
                      amount=Decimal("20000"))
        db.session.add(order)
        db.session.commit()
        order_id = order.id
    clients = []
    for user in (staff[Role.FINANCE], second_clerk):
        client = app.test_client()
        login_fast(client, app, user)
        page = client.get("/finance/orders").get_data(as_text=True)
        clients.append((client, page.split('name="csrf-token" content="')[1].split('"')[0]))
    barrier = threading.Barrier(2)
    statuses = [None, None]

    def release(index):
        client, token = clients[index]
        barrier.wait()
        statuses[index] = client.post(f"/finance/orders/{order_id}/release",
                                      data={"csrf_token": token}).status_code

    threads = [threading.Thread(target=release, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [302, 409], statuses
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Shipment)
                                 .where(Shipment.order_id == order_id)) == 1
