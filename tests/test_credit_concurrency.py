"""SECURITY.md "Concurrency": two general managers (the GM and a deputy) approve the same
application at the same moment, behind a barrier, each in its own session and connection, on
SQLite and on PostgreSQL: exactly one wins, the other gets 409 with the current state, and there
is exactly one history row."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from conftest import login_fast

from intranet import clock
from intranet.extensions import db
from intranet.models import CreditApplication, Delegation, WorkflowHistory
from intranet.roles import Role


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
