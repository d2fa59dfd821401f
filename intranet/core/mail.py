"""Optional e-mail copies of notifications (issue 4: "e-mail optional if SMTP is configured").

With SMTP_HOST unset nothing is sent and nothing is imported. With it set, `queue()` keeps a
message on the database session; it goes out only after that transaction commits (a rolled
back change mails nobody), and a mail server that is down is logged, never a failed request.
"""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger("intranet.mail")
_OUTBOX = "mail_outbox"


def enabled() -> bool:
    return has_app_context() and bool(current_app.config.get("SMTP_HOST"))


def queue(session: Session, to: str, subject: str, body: str) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["SMTP_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    session.info.setdefault(_OUTBOX, []).append((dict(config), message))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    for config, message in session.info.pop(_OUTBOX, []):
        try:
            with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
                if config.get("SMTP_STARTTLS"):
                    smtp.starttls()
                if config.get("SMTP_USER"):
                    smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            log.warning("notification e-mail to %s not sent: %s", message["To"],
                        error.__class__.__name__)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_OUTBOX, None)
