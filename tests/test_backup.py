"""SECURITY.md 24: backups with the SQLite online backup API or pg_dump, a restore that brings
back exactly the backed-up records, and a drill that re-verifies the audit chain of a restored
copy (on SQLite and on PostgreSQL)."""
from __future__ import annotations

from intranet.core import audit
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Customer


def test_24_restore_drill_reverifies_the_audit_chain(app, staff, make_customer):
    make_customer("上海华东机械有限公司", staff[Role.SALES_REP])
    with app.app_context():
        audit.record(audit.Action.VIEW, "customer", 1, user=None)
        db.session.commit()
        live_head = audit.head()
    result = app.test_cli_runner().invoke(args=["backup", "drill"])
    assert result.exit_code == 0, result.output
    assert "restore drill OK" in result.output and live_head in result.output


def test_24_backup_and_restore_bring_back_the_records(app, staff, make_customer, tmp_path):
    kept = make_customer("上海华东机械有限公司", staff[Role.SALES_REP])
    runner = app.test_cli_runner()
    backup_file = tmp_path / "backup.bin"
    result = runner.invoke(args=["backup", "create", str(backup_file)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        head_at_backup = audit.head()
    make_customer("杭州之江贸易有限公司", staff[Role.SALES_REP])  # after the backup
    refused = runner.invoke(args=["backup", "restore", str(backup_file)])
    assert refused.exit_code != 0 and "--yes" in refused.output
    result = runner.invoke(args=["backup", "restore", str(backup_file), "--yes"])
    assert result.exit_code == 0, result.output
    assert "audit chain OK" in result.output
    with app.app_context():
        assert [c.id for c in db.session.scalars(db.select(Customer))] == [kept]
        assert audit.head() == head_at_backup


def test_24_drill_fails_when_the_copy_differs_from_the_live_trail(app, monkeypatch):
    from intranet.core import backup

    real_verify = backup.verify
    monkeypatch.setattr(backup, "verify", lambda url: (*real_verify(url)[:2], "9:tampered"))
    result = app.test_cli_runner().invoke(args=["backup", "drill"])
    assert result.exit_code == 1 and "FAILED" in result.output
