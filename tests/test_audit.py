"""SECURITY.md 20-22: audit rows in the same transaction, append-only, hash-chained, verified."""
from __future__ import annotations

import re
import threading

import pytest
from conftest import login_fast, post
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from intranet.core import audit
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import AuditEntry, Customer, User


def write_entries(app, count: int, label: str = "x") -> None:
    with app.app_context():
        for i in range(count):
            audit.record(audit.Action.VIEW, "customer", f"{label}{i}", reason="测试")
            db.session.commit()


def tamper(sql: str, **params) -> None:
    """Change the trail behind the application's back, as an attacker with DB access would."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
            conn.execute(text(sql), params)
            conn.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_delete"))
            conn.execute(text(sql), params)


def test_20_audit_row_and_change_commit_or_roll_back_together(app, staff, make_customer):
    customer_id = make_customer("回滚测试有限公司", staff[Role.SALES_REP])
    with app.app_context():
        before = db.session.scalar(db.select(db.func.count()).select_from(AuditEntry))
        customer = db.session.get(Customer, customer_id)
        customer.name = "已改名有限公司"
        audit.record(audit.Action.UPDATE, "customer", customer_id)
        db.session.rollback()
        assert db.session.get(Customer, customer_id).name == "回滚测试有限公司"
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEntry)) == before


def test_20_failed_request_leaves_neither_change_nor_audit_row(app, client, staff, make_customer,
                                                              monkeypatch):
    customer_id = make_customer("失败请求有限公司", staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    from intranet.blueprints.sales import customers

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(customers, "flash", explode)
    response = post(client, f"/sales/customers/{customer_id}/edit", {"name": "新名称有限公司"})
    assert response.status_code == 500
    assert "Traceback" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Customer, customer_id).name == "失败请求有限公司"
        assert db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.action == "update")) is None


def test_20_entry_records_who_role_address_when_what_why(app, client, staff, make_customer):
    customer_id = make_customer("记录测试有限公司", staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    client.get(f"/sales/customers/{customer_id}", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "view"))
    assert (entry.username, entry.role, entry.address) == ("rep", "sales_rep", "10.1.2.3")
    assert (entry.object_type, entry.object_id) == ("customer", str(customer_id))
    assert entry.ts.tzinfo is not None and entry.user_id == staff[Role.SALES_REP].id


def test_22_trail_is_append_only_in_the_database(app):
    write_entries(app, 2)
    with app.app_context():
        for sql in ("UPDATE audit_entry SET reason = 'x'", "DELETE FROM audit_entry"):
            with pytest.raises(DatabaseError):
                with db.engine.begin() as conn:
                    conn.execute(text(sql))
        entry = db.session.scalar(db.select(AuditEntry))
        entry.reason = "changed through the ORM"
        with pytest.raises(PermissionError):
            db.session.flush()
        db.session.rollback()
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEntry)) == 2


def test_22_verify_passes_on_an_untouched_chain(app):
    write_entries(app, 5)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "5 rows verified" in result.output


@pytest.mark.parametrize(("attack", "kind", "seq"), [
    ("UPDATE audit_entry SET reason = '无' WHERE seq = 3", "altered", 3),
    ("UPDATE audit_entry SET username = 'someone' WHERE seq = 1", "altered", 1),
    ("DELETE FROM audit_entry WHERE seq = 2", "deleted", 3),
])
def test_22_verify_names_the_first_altered_or_deleted_row(app, attack, kind, seq):
    write_entries(app, 5)
    with app.app_context():
        tamper(attack)
        count, problem = audit.verify_chain()
    assert problem.kind == kind and problem.seq == seq
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"seq={seq}" in result.output


def test_22_cut_off_tail_is_caught_against_a_recorded_head(app):
    write_entries(app, 5)
    with app.app_context():
        recorded = audit.head()
        db.session.rollback()
        tamper("DELETE FROM audit_entry WHERE seq >= 4")
        count, problem = audit.verify_chain()
        assert problem is None and count == 3  # the chain alone cannot tell
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--expect-head", recorded])
    assert result.exit_code == 1 and "seq=5" in result.output


def test_22_verify_detects_reordered_rows(app):
    write_entries(app, 4)
    with app.app_context():
        # Swap the positions of rows 2 and 3, keeping each row's own content and hash.
        tamper("UPDATE audit_entry SET seq = -seq WHERE seq IN (2, 3)")
        tamper("UPDATE audit_entry SET seq = 3 WHERE seq = -2")
        tamper("UPDATE audit_entry SET seq = 2 WHERE seq = -3")
        count, problem = audit.verify_chain()
    assert problem is not None and problem.seq == 2


def test_22_rewritten_hash_is_caught_by_the_next_row(app):
    write_entries(app, 3)
    with app.app_context():
        row = db.session.scalar(db.select(AuditEntry).where(AuditEntry.seq == 2))
        fields = {name: getattr(row, name) for name in audit.HASHED_FIELDS}
        fields["reason"] = "伪造"
        forged = audit.entry_hash(fields)
        row_id = row.id
        db.session.rollback()  # end the read transaction (SQLite: it holds the write lock)
        tamper("UPDATE audit_entry SET reason = '伪造', hash = :h WHERE seq = 2", h=forged)
        count, problem = audit.verify_chain()
    assert problem.seq == 2 and problem.kind == "altered" and problem.row_id == row_id
    assert problem.message == (f"row seq=2 id={row_id}: content and hash were rewritten "
                               "(row seq=3 no longer follows)")


def test_22_concurrent_writers_never_fork_the_chain(app):
    errors = []
    barrier = threading.Barrier(4)

    def worker(n):
        try:
            barrier.wait()
            write_entries(app, 5, label=f"t{n}-")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        count, problem = audit.verify_chain()
    assert problem is None and count == 20


def test_audit_page_lists_and_filters_and_is_itself_audited(app, client, staff, make_customer):
    customer_id = make_customer("审计页面有限公司", staff[Role.SALES_REP])
    rep = app.test_client()
    login_fast(rep, app, staff[Role.SALES_REP])
    rep.get(f"/sales/customers/{customer_id}")
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    page = client.get("/admin/audit?user=rep&action=view").get_data(as_text=True)
    # issue 13 §5: a readable action on a named record, the raw details behind a toggle
    assert "查看客户 <strong>审计页面有限公司</strong>" in page
    assert "查看审计日志" not in page  # filtered to the rep's views
    empty = client.get("/admin/audit?user=nobody").get_data(as_text=True)
    assert "没有匹配的记录" in empty
    bad = client.get("/admin/audit?from=not-a-date")
    assert bad.status_code == 200
    with app.app_context():
        seen = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.object_type == "audit_trail", AuditEntry.username == "gm"))
        assert seen is not None and "nobody" in db.session.scalars(db.select(
            AuditEntry.details).where(AuditEntry.object_type == "audit_trail")).all()[1]
    everything = client.get("/admin/audit").get_data(as_text=True)
    assert "查看审计日志" in everything  # the GM's own readings, with their filters
    assert "<summary>查看原始数据</summary><pre class=\"raw\">{&#34;action&#34;: &#34;view&#34;" \
        in everything


def test_22_several_entries_of_one_commit_chain_onto_each_other(app):
    """The writer advances prev_hash between the entries of one commit: each row follows the
    one before it, so the chain verifies and no two rows share a predecessor."""
    write_entries(app, 1, label="before-")
    with app.app_context():
        for i in range(3):
            audit.record(audit.Action.VIEW, "customer", f"same-commit-{i}")
        db.session.commit()
        rows = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert [r.seq for r in rows] == [1, 2, 3, 4]
        assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
        assert len({r.prev_hash for r in rows}) == 4
        count, problem = audit.verify_chain()
    assert problem is None and count == 4


def test_22_the_hash_covers_the_link_to_the_previous_row(app):
    """prev_hash is one of the hashed fields: relinking a row to another predecessor changes
    its own hash, and the verifier names that row (not its neighbour) as altered."""
    write_entries(app, 4)
    with app.app_context():
        row = db.session.scalar(db.select(AuditEntry).where(AuditEntry.seq == 3))
        fields = {name: getattr(row, name) for name in audit.HASHED_FIELDS}
        relinked = audit.entry_hash({**fields, "prev_hash": audit.GENESIS})
        assert relinked != row.hash
        db.session.rollback()
        tamper(f"UPDATE audit_entry SET prev_hash = '{audit.GENESIS}' WHERE seq = 3")
        count, problem = audit.verify_chain()
    assert problem.kind == "altered" and problem.seq == 3


def test_22_canonical_form_of_an_entry_is_fixed(app):
    """Every trail ever written is verified with this function: its canonical form (field
    order, separators, non-ASCII kept) may never change, or old trails would read as forged."""
    from datetime import UTC, datetime

    fields = {name: None for name in audit.HASHED_FIELDS}
    fields.update(seq=1, ts=datetime(2026, 11, 2, 1, 0, tzinfo=UTC), user_id=7,
                  username="王", role="sales_rep", address="10.0.0.1", action="view",
                  object_type="customer", object_id="3", reason="核对", details="",
                  on_behalf_of_name="", prev_hash=audit.GENESIS)
    canonical = ('[1,"2026-11-02T01:00:00.000000+00:00",7,"王","sales_rep",null,"",'
                 '"10.0.0.1","view","customer","3","核对","",'
                 f'"{audit.GENESIS}"]')
    import hashlib
    assert audit.entry_hash(fields) == hashlib.sha256(canonical.encode()).hexdigest()


def test_20_entry_says_who_for_whom_from_where_and_why(app, client, staff, make_user,
                                                       make_customer, make_delegation):
    """A deputy's read names the principal; the reason a reason-reader gave is kept; details
    are stored as readable, sorted JSON; work outside a request is marked as the command line."""
    deputy = make_user("stand_in", Role.SALES_REP, department="sales2")
    customer_id = make_customer("代理审计有限公司", staff[Role.SALES_REP])
    make_delegation(staff[Role.SALES_MANAGER], deputy, Role.SALES_MANAGER)
    login_fast(client, app, deputy)
    client.get(f"/sales/customers/{customer_id}", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    desk = app.test_client()
    login_fast(desk, app, staff[Role.SERVICE_DESK])
    post(desk, f"/sales/customers/{customer_id}/access", {"reason": "客户来电投诉"})
    desk.get(f"/sales/customers/{customer_id}")
    with app.app_context():
        audit.record(audit.Action.UPDATE, "customer", None,
                     details={"名称": "新", "a": 1})
        db.session.commit()
        rows = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.object_type == "customer").order_by(AuditEntry.seq)).all()
    by_user = {row.username: row for row in rows}
    stand_in = by_user["stand_in"]
    assert (stand_in.role, stand_in.on_behalf_of_name, stand_in.on_behalf_of_id,
            stand_in.address, stand_in.reason) == (
        "sales_manager", "manager", staff[Role.SALES_MANAGER].id, "10.9.8.7", "")
    assert by_user["desk"].reason == "客户来电投诉" and by_user["desk"].on_behalf_of_name == ""
    cli = rows[-1]
    assert (cli.username, cli.user_id, cli.role, cli.address, cli.object_id, cli.reason) == (
        "-", None, "", "cli", "", "")
    assert cli.details == '{"a": 1, "名称": "新"}'


def test_22_verify_accepts_the_true_head_and_names_the_problem_row(app):
    write_entries(app, 4)
    with app.app_context():
        recorded = audit.head()
        assert recorded.startswith("4:")
        count, problem = audit.verify_chain(expect_head=recorded)
        assert (count, problem) == (4, None)
        ids = dict(db.session.execute(db.select(AuditEntry.seq, AuditEntry.id)).all())
        db.session.rollback()
        tamper("UPDATE audit_entry SET reason = '无' WHERE seq = 2")
        count, problem = audit.verify_chain(expect_head=recorded)
    assert (problem.seq, problem.row_id, problem.kind) == (2, ids[2], "altered")
    assert problem.message == f"row seq=2 id={ids[2]}: content does not match its hash (altered)"


def test_22_a_forged_head_is_refused(app):
    write_entries(app, 3)
    with app.app_context():
        count, problem = audit.verify_chain(expect_head="3:" + "f" * 64)
        assert problem.kind == "deleted" and problem.seq == 3
        assert problem.message == ("row seq=3 recorded as the head is missing or changed "
                                   "(the tail was cut off)")
        count, problem = audit.verify_chain(expect_head="not-a-head")
        assert problem.kind == "deleted" and problem.seq == 0


def test_22_verify_detects_rows_stored_out_of_order(app):
    """Row ids are not hashed; rows whose ids were swapped (each keeping its content, seq and
    hash) are still caught, named at the first out-of-order row."""
    write_entries(app, 4)
    with app.app_context():
        ids = dict(db.session.execute(db.select(AuditEntry.seq, AuditEntry.id)).all())
        db.session.rollback()
        tamper("UPDATE audit_entry SET id = -id WHERE seq IN (2, 3)")
        tamper(f"UPDATE audit_entry SET id = {ids[3]} WHERE seq = 2")
        tamper(f"UPDATE audit_entry SET id = {ids[2]} WHERE seq = 3")
        count, problem = audit.verify_chain()
    assert (problem.seq, problem.row_id, problem.kind) == (3, ids[2], "reordered")
    assert problem.message == f"row seq=3 id={ids[2]}: stored out of order"


def test_20_entry_for_another_actor_and_plain_details(app, staff, make_user):
    """record(user=...) names that user even inside someone else's request (the engine passes
    the acting user); no details is an empty field; dates and amounts in details read as text."""
    from datetime import date
    from decimal import Decimal

    with app.test_request_context():
        finance = db.session.get(User, staff[Role.FINANCE].id)
        audit.record(audit.Action.VIEW, "customer", 1, user=finance)
        audit.record(audit.Action.UPDATE, "customer", 2,
                     details={"amount": Decimal("12.50"), "on": date(2026, 11, 2)})
        db.session.commit()
        first, second = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.seq))
        assert (first.username, first.user_id, first.details) == ("finance", finance.id, "")
        assert second.details == '{"amount": "12.50", "on": "2026-11-02"}'


def test_22_a_deleted_row_is_named_by_the_row_that_follows_it(app):
    write_entries(app, 4)
    with app.app_context():
        ids = dict(db.session.execute(db.select(AuditEntry.seq, AuditEntry.id)).all())
        db.session.rollback()
        tamper("DELETE FROM audit_entry WHERE seq = 2")
        count, problem = audit.verify_chain()
    assert (problem.seq, problem.row_id, problem.kind) == (3, ids[3], "deleted")


def test_the_trail_names_lists_people_and_rules_in_words_not_keys(app, client, staff,
                                                                  make_customer):
    """Issue 13 §5: no internal identifier in the trail — an inbox tab, an archive kind, a
    user, a sealed year and a reclaim's rule read in words; the raw details stay behind
    the toggle."""
    from intranet.models import ReclaimRule, SealedPeriod
    from intranet.resources import reclaim

    rep = staff[Role.SALES_REP]
    customer = make_customer("上海华兴精密机械有限公司", None)
    with app.test_request_context():
        reclaim.ensure_defaults()
        rule = db.session.scalar(db.select(ReclaimRule).where(ReclaimRule.kind == "no_activity"))
        year = SealedPeriod(year=2024, sealed_by_id=staff[Role.ARCHIVIST].id, note="年度归档")
        db.session.add(year)
        db.session.flush()
        admin = db.session.get(User, staff[Role.ADMIN].id)
        for object_type, object_id in (("inbox", "waiting"), ("archive", "credit_application"),
                                       ("user", rep.id), ("sealed_period", year.id),
                                       ("reclaim_rule", rule.id)):
            audit.record(audit.Action.VIEW, object_type, object_id, user=admin)
        rule_id = rule.id
        audit.record(audit.Action.UPDATE, "customer", customer, user=None,
                     reason=f"reclaim_rule:{rule_id}")
        db.session.commit()
    login_fast(client, app, staff[Role.ADMIN])
    page = client.get("/admin/audit").get_data(as_text=True)
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    rows = re.sub(r"<details>.*?</details>", "", rows, flags=re.S)  # the raw details
    visible = re.sub(r"<[^>]+>", "", rows)
    for words in ("查看待办 待我处理", "客户资信额度审批表", "Rep", "2024", "无销售活动"):
        assert words in visible, words
    for key in ("#waiting", "#credit_application", f"#{rep.id}\n", "reclaim_rule:",
                "inbox", f"#{rule_id}\n", "#"):
        assert key not in visible, key
