"""Every record template, fed hostile field content (SECURITY.md "PDF", issue 11 quality bar):
markup prints as text, nothing is fetched, no socket opens, the only attachment is the
record's own data. A new record type fails here until it is added."""
from __future__ import annotations

import io
import socket

import pytest
from pypdf import PdfReader
from test_i18n import RULE_CODE
from test_pdf import HOSTILE, pdf_text

from intranet.archive import issue
from intranet.archive.records import RECORD_TYPES
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import (
    Activity,
    Contact,
    CreditApplication,
    PoolClaim,
    ServiceCase,
    TransferRequest,
)

EVIL = "恶意" + "".join(HOSTILE)


def _credit(app, staff, customer_id, make_application, make_case):
    aid = make_application(customer_id, staff[Role.SALES_REP], state="approved", reason=EVIL)
    return db.session.get(CreditApplication, aid)


def _case(app, staff, customer_id, make_application, make_case):
    case = db.session.get(ServiceCase, make_case("closed", customer_id=customer_id))
    case.description, case.opinion, case.reply = EVIL, EVIL, EVIL
    db.session.commit()
    return case


def _transfer(app, staff, customer_id, make_application, make_case):
    row = TransferRequest(customer_id=customer_id, requested_by_id=staff[Role.SALES_REP].id,
                          from_user_id=staff[Role.SALES_REP].id, to_user_id=staff["rep_b"].id,
                          reason=EVIL)
    db.session.add(row)
    db.session.commit()
    return row


def _claim(app, staff, customer_id, make_application, make_case):
    row = PoolClaim(customer_id=customer_id, requested_by_id=staff["rep_b"].id,
                    to_user_id=staff["rep_b"].id, reason=EVIL)
    db.session.add(row)
    db.session.commit()
    return row


def _customer_file(app, staff, customer_id, make_application, make_case):
    from intranet.models import Customer
    db.session.add(Contact(customer_id=customer_id, name=EVIL[:50], title=EVIL[:50]))
    db.session.add(Activity(customer_id=customer_id, user_id=staff[Role.SALES_REP].id,
                            kind="visit", occurred_at=db.func.now(), summary=EVIL))
    db.session.commit()
    return db.session.get(Customer, customer_id)


MAKERS = {"credit_application": _credit, "service_case": _case,
          "transfer_request": _transfer, "pool_claim": _claim,
          "customer_file": _customer_file}


def test_every_record_type_is_fed_hostile_content(app):
    assert set(MAKERS) == set(RECORD_TYPES)


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_record_template_with_hostile_fields_fetches_nothing(
        app, staff, make_customer, make_application, make_case, monkeypatch, kind):
    customer_id = make_customer("恶意公司" + HOSTILE[0], staff[Role.SALES_REP])
    opened = []

    def no_network(self, address):
        opened.append(address)
        raise OSError("network disabled in this test")
    with app.test_request_context():
        row = MAKERS[kind](app, staff, customer_id, make_application, make_case)
        monkeypatch.setattr(socket.socket, "connect", no_network)
        signed = issue.render_signed(issue.document(RECORD_TYPES[kind], row))
    reader = PdfReader(io.BytesIO(signed.content))
    assert opened == []
    assert list(reader.attachments) == ["record.json"]
    assert b"root:" not in reader.attachments["record.json"][0]
    assert sum(len(page.images) for page in reader.pages) == 0
    text = pdf_text(signed.content).replace("\n", "")
    assert "root:" not in text and "file:///etc/passwd" in text  # printed, inert
    # issue 13 §5: no rule code (规则 K6, （P2）) reaches the printed record
    assert not RULE_CODE.search(text), RULE_CODE.search(text).group(0)
