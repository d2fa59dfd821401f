"""Optional e-mail copies of notifications: sent only when SMTP is configured, only after the
transaction commits, in the reader's language; a dead mail server fails nothing."""
from __future__ import annotations

import smtplib

import pytest

from intranet.core import notifications
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import User


class FakeSMTP:
    sent: list = []
    fail = False

    def __init__(self, host, port, timeout=None):
        if FakeSMTP.fail:
            raise ConnectionRefusedError("mail server down")
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_message(self, message):
        FakeSMTP.sent.append(message)


@pytest.fixture
def smtp(app, monkeypatch):
    FakeSMTP.sent, FakeSMTP.fail = [], False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app.config.update(SMTP_HOST="mail.example.cn", SMTP_PORT=25, SMTP_FROM="oa@example.cn")
    return FakeSMTP


def with_email(app, user, address, locale="zh_CN"):
    with app.app_context():
        row = db.session.get(User, user.id)
        row.email, row.locale = address, locale
        db.session.commit()


def test_k6_notification_is_mailed_after_commit_in_the_readers_language(app, staff, smtp):
    with_email(app, staff[Role.GENERAL_MANAGER], "gm@example.cn")
    with_email(app, staff[Role.SALES_REP], "rep@example.cn", locale="en")
    with app.test_request_context():
        notifications.notify(staff[Role.GENERAL_MANAGER].id, "credit_due_soon",
                             number="ZX-2027Q1-00001", customer="上海华东机械有限公司")
        notifications.notify(staff[Role.SALES_REP].id, "credit_due_soon",
                             number="ZX-2027Q1-00001", customer="上海华东机械有限公司")
        assert smtp.sent == []  # nothing before the commit
        db.session.commit()
    by_address = {m["To"]: m for m in smtp.sent}
    assert set(by_address) == {"gm@example.cn", "rep@example.cn"}
    assert "距审批期限仅剩一天" in by_address["gm@example.cn"].get_content()
    assert "One day left" in by_address["rep@example.cn"].get_content()


def test_rolled_back_notification_mails_nobody(app, staff, smtp):
    with_email(app, staff[Role.GENERAL_MANAGER], "gm@example.cn")
    with app.test_request_context():
        notifications.notify(staff[Role.GENERAL_MANAGER].id, "welcome")
        db.session.rollback()
        db.session.commit()
    assert smtp.sent == []


def test_mail_server_down_fails_nothing(app, staff, smtp):
    with_email(app, staff[Role.GENERAL_MANAGER], "gm@example.cn")
    smtp.fail = True
    with app.test_request_context():
        notifications.notify(staff[Role.GENERAL_MANAGER].id, "welcome")
        db.session.commit()
        assert notifications.unread_count(staff[Role.GENERAL_MANAGER].id) == 1


def test_without_smtp_nothing_is_mailed(app, staff, smtp):
    """No SMTP_HOST, no mail: the notification is stored, nothing is queued or sent (asserted,
    rather than left to a TypeError from a poisoned smtplib)."""
    app.config["SMTP_HOST"] = ""
    with_email(app, staff[Role.GENERAL_MANAGER], "gm@example.cn")
    with app.test_request_context():
        notifications.notify(staff[Role.GENERAL_MANAGER].id, "welcome")
        assert "mail_outbox" not in db.session.info
        db.session.commit()
        assert notifications.unread_count(staff[Role.GENERAL_MANAGER].id) == 1
    assert smtp.sent == []
