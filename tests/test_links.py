"""No dead links or buttons (issue 8): signed in as every demo account, and as deputies in
force, crawl what the home page leads to; no link or button shown to a user may answer 403 or
404 (or 405) for that user.

GET links are requested with the user's own client. POST buttons are never submitted (that
would change data): the crawl asks the questions the view would ask, the matrix
(access.permission_for) and the record scope (scoped_customer_or_404 and friends, with the
purpose the view passes). Record PDFs are slow to render and are checked the same way.
"""
from __future__ import annotations

import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from conftest import TEST_CONFIG, U, csrf_token, database_uri, login_fast, release_app
from flask import abort
from flask_login import current_user, login_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from intranet import create_app
from intranet.archive import access
from intranet.blueprints.archive.browser import readable_or_404
from intranet.blueprints.sales.allocation import allocatable_or_404
from intranet.complaints.scope import reads_notes, scoped_case_or_404
from intranet.core import clock
from intranet.core.access import permission_for, scoped_customer_or_404
from intranet.core.roles import Role
from intranet.credit.scope import scoped_credit_application_or_404
from intranet.demo import USERS
from intranet.extensions import db
from intranet.models import (
    ConflictClaim,
    CreditApplication,
    Customer,
    Delegation,
    Notification,
    Order,
    ReclaimRule,
    Reclassification,
    User,
)
from intranet.resources import allocation, reps
from intranet.resources.requests import pool_customer_or_none
from intranet.resources.scope import request_scope, scoped_request_or_404
from intranet.workflows import steps
from intranet.workflows.credit_states import OPEN

MAX_PAGES = 100  # pages requested per user
PER_SHAPE = 3  # /sales/customers/<n>: a few instances of each URL shape are requested
POSTS_PER_SHAPE = 10  # buttons are only asked about, which is cheap
DEMO_ACCOUNTS = [username for username, *_ in USERS]
# Deputies in force during the crawl: the demo's `deputy` for the GM, and (the demo names
# none) a rep of the other department for sales manager manager1.
DEPUTIES = {"deputy": ("gm", Role.GENERAL_MANAGER), "rep3": ("manager1", Role.SALES_MANAGER)}
REASON_READERS = ("desk", "handler", "finance", "archivist")  # rule C6: a reason first
NOT_REQUESTED = {"sales.credit_pdf", "management.report_pdf"}  # WeasyPrint: a second or more
NOT_FOLLOWED = {"auth.logout", "auth.language"}  # would sign out or switch the language
DEAD = {403, 404, 405}
HX = {"HX-Request": "true"}


# --- the demo company, shared read-only by this module's tests ---------------------------

def _load_demo(app) -> None:
    app.config["DEMO_MODE"] = True
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    # What cron adds: over-limit breaches, reminders and escalations, with links to follow.
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        now = clock.now()
        for deputy, (principal, role) in DEPUTIES.items():
            db.session.add(Delegation(
                principal_id=users[principal].id, deputy_id=users[deputy].id, role=role.value,
                starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30),
                reason="休假", created_by_id=users["admin"].id))
        db.session.commit()


@pytest.fixture(scope="module")
def demo_app(template_db, tmp_path_factory):
    """The demo company with its deputies, built once for the module. The crawl only reads
    (its GETs add audit rows, and reason-readers' grants live in their cookies)."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_uri(
        template_db, tmp_path_factory.mktemp("demo"))})
    _load_demo(app)
    yield app
    release_app(app)


def signed_in(app, username: str):
    """A client signed in as the demo account (no password round trip)."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        who = U(user.id, user.username, user.department_id)
    client = app.test_client()
    login_fast(client, app, who)
    return client, who


def busiest_customer(app) -> tuple[int, str]:
    """The customer with the most credit applications (one in force, one under way)."""
    with app.app_context():
        return db.session.execute(
            select(Customer.id, Customer.name)
            .join(CreditApplication, CreditApplication.customer_id == Customer.id)
            .group_by(Customer.id, Customer.name)
            .order_by(db.func.count().desc(), Customer.sales_12m.desc(), Customer.id)
            .limit(1)).one()


def state_reason(client, customer_id: int) -> None:
    """Rule C6: staff outside sales say why before a customer file opens."""
    url = f"/sales/customers/{customer_id}"
    response = client.get(url)
    assert response.status_code == 302 and response.location.endswith(url + "/access")
    response = client.post(url + "/access", data={"csrf_token": csrf_token(client),
                                                  "reason": "客户来电，核对订单与账款"})
    assert response.status_code == 302 and response.location.endswith(url)


# --- reading links and buttons off a page ------------------------------------------------

class Controls(HTMLParser):
    """(method, url, how, label) for every link, form and htmx request on a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[list] = []
        self.open: list[list] = []  # the <a> and <form> whose text is being read

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href") is not None:
            self._add(tag, ["GET", attrs["href"], "link", ""])
        if tag == "form":
            method = (attrs.get("method") or "get").upper()
            self._add(tag, [method, attrs.get("action") or "", f"form {method}", ""])
        for attr in ("hx-get", "hx-post"):
            if attrs.get(attr) is not None:
                self.found.append([attr[3:].upper(), attrs[attr], attr, ""])

    def _add(self, tag, control):
        self.found.append(control)
        self.open.append([tag, control])

    def handle_endtag(self, tag):
        if self.open and self.open[-1][0] == tag:
            self.open.pop()

    def handle_data(self, data):
        for _tag, control in self.open:
            control[3] = (control[3] + " " + data.strip()).strip()[:60]


def controls_of(html: str):
    parser = Controls()
    parser.feed(html)
    return parser.found


def local(page: str, href: str) -> str | None:
    """The path and query the control goes to, or None when it leaves the app or is not a
    request (an anchor, javascript:, mailto:, a static file)."""
    if href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    parts = urlsplit(urljoin("http://localhost" + page, href))
    if parts.scheme not in ("http", "https") or parts.netloc != "localhost":
        return None
    if parts.path.startswith("/static/"):
        return None
    return parts.path + ("?" + parts.query if parts.query else "")


def shape(url: str) -> str:
    """/sales/customers/12?page=2 → /sales/customers/<n>?page=<n>"""
    parts = urlsplit(url)
    query = sorted((k, re.sub(r"\d+", "<n>", v)) for k, v in parse_qsl(parts.query))
    return re.sub(r"\d+", "<n>", parts.path) + "?" + "&".join(f"{k}={v}" for k, v in query)


# --- what a view asks of its record before it acts ----------------------------------------

def _customer(purpose: str):
    return lambda args: scoped_customer_or_404(args["customer_id"], purpose)


def _application(purpose: str):
    return lambda args: scoped_credit_application_or_404(args["application_id"], purpose)


def _case(purpose: str, notes: bool = False):
    def check(args):
        case = scoped_case_or_404(args["case_id"], purpose)
        if notes and not reads_notes(case, current_user):
            abort(404)
    return check


def _exists(model, key: str):
    return lambda args: db.session.get(model, args[key]) or abort(404)


def _reclaim_batch(args):
    from intranet.blueprints.sales.reclaims import BATCH, _in_scope
    from intranet.models import OwnershipRecord

    if db.session.scalar(select(OwnershipRecord.id).where(
            OwnershipRecord.id == args["record_id"], *BATCH, _in_scope())) is None:
        abort(404)


def _own_note(args):
    note = db.session.get(Notification, args["note_id"])
    if note is None or note.user_id != current_user.id:
        abort(404)


def _request(model, key: str):
    """Rules C2, C4: what sales/requests.py asks of a re-classification or conflict claim."""
    def check(args):
        row = db.session.scalar(select(model).where(
            model.id == args[key], request_scope(current_user, model)))
        if row is None:
            abort(404)
    return check


def _inbox_record(allowed):
    """What home/inbox.py asks of a record before urging, copying or handing it on."""
    def check(args):
        from intranet.blueprints.home.inbox import _record
        row = _record(args["kind"], args["record_id"])
        if row is None or not allowed(row, current_user):
            abort(404)
    return check


# Keep in step with the views: each entry is the scoped_*_or_404 call its view makes.
def report_scoped(report_id: int):
    from intranet.blueprints.management.reports import _scoped
    return _scoped(report_id)


RECORD_CHECKS = {
    "home.urge": _inbox_record(lambda row, user: steps.started_by(row) == user.id),
    "home.copy": _inbox_record(steps.may_copy),
    "home.hand_on": _inbox_record(lambda row, user: steps.hand_on_spec(row, user) is not None),
    "home.copied_record": _inbox_record(steps.is_copied),
    "sales.credit_edit": _application("view"),
    "sales.customer_access": _exists(Customer, "customer_id"),
    "sales.credit_transition": _application("view"),
    "sales.credit_pdf": _application("archive"),
    "management.credit_decide": _application("view"),
    "finance.order_release": _exists(Order, "order_id"),
    "home.notification_read": _own_note,
    **{f"admin.{name}": _exists(User, "user_id")
       for name in ("user_edit", "user_password", "user_disable", "user_enable")},
    "admin.delegation_revoke": _exists(Delegation, "delegation_id"),
    "sales.reclaim_rule": _exists(ReclaimRule, "rule_id"),
    "sales.resource_request_transition": lambda args: scoped_request_or_404(args["request_id"]),
    "sales.resource_request_pdf": lambda args: scoped_request_or_404(args["request_id"]),
    "sales.reclaim_batch_pdf": _reclaim_batch,
    "sales.pool_claim": lambda args: pool_customer_or_none(
        args["customer_id"], current_user) or abort(404),
    "sales.reclassification_transition": _request(Reclassification, "reclassification_id"),
    "sales.conflict_transition": _request(ConflictClaim, "conflict_id"),
    "sales.allocate": lambda args: allocatable_or_404(
        args["lead_id"], allocation.department_of(current_user)),
    "sales.rep": lambda args: reps.rep_or_404(args["rep_id"], current_user),
    **{f"sales.{name}": lambda args: reps.rep_or_404(args["rep_id"], current_user, "manage")
       for name in ("rep_profile", "penalty_add", "penalty_lift")},
    "archive.access_transition": lambda args: access.request_or_none(
        args["access_id"], current_user) or abort(404),
    "service.case_transition": _case("view"),
    **{f"archive.{name}": lambda args: readable_or_404(args["kind"], args["record_id"])
       for name in ("record", "record_pdf")},
    **{f"archive.{name}": _exists(Customer, "customer_id")
       for name in ("customer_file", "customer_file_pdf")},
    **{f"management.{name}": lambda args: report_scoped(args["report_id"])
       for name in ("report_pdf", "report_transition", "report_text")},
    "service.case_attachment_download": _case("view", notes=True),
    "service.case_pdf": _case("archive", notes=True),
    **{f"service.{name}": _case("view", notes=True)
       for name in ("case_contact_add", "case_action_add", "case_action_verify",
                    "case_attachment_add")},
}
# Every POST on a customer's file changes it: its view asks scoped_customer_or_404(id, "edit").
CUSTOMER_CHANGES = _customer("edit")


def refusal(app, user_id: int, endpoint: str, args: dict, method: str) -> str | None:
    """Why `user` would be refused endpoint/method on this record, without sending it."""
    permission = permission_for(endpoint, method)
    if permission is None:
        return "403 (not in the matrix)"
    check = RECORD_CHECKS.get(endpoint)
    if check is None and "customer_id" in args:
        check = CUSTOMER_CHANGES
    if check is None and args:
        return f"unknown: teach RECORD_CHECKS what {endpoint} asks of {sorted(args)}"
    with app.test_request_context():
        user = db.session.get(User, user_id)
        if not permission.public and permission.grant_for(user) is None:
            return "403 (matrix)"
        login_user(user)
        try:
            if check is not None:
                check(args)
        except HTTPException as error:
            if error.code in DEAD:
                return f"{error.code} (record scope)"
        finally:
            db.session.rollback()
    return None


# --- the crawl ---------------------------------------------------------------------------

@dataclass
class Crawl:
    pages: int = 0  # requested
    checked: int = 0  # buttons (and PDFs) asked about
    seconds: float = 0.0
    dead: list = field(default_factory=list)  # (page, how, label, url, why)


def crawl(app, client, who: U, start: list[str]) -> Crawl:
    adapter = app.url_map.bind("localhost")
    result = Crawl()
    began = time.monotonic()
    queue = deque((url, "GET", "start", "", "") for url in start)
    seen: set[tuple[str, str]] = set()
    shapes: Counter = Counter()
    while queue:
        url, method, how, label, page = queue.popleft()
        if (method, url) in seen:
            continue
        seen.add((method, url))
        path, _, query = url.partition("?")
        try:
            endpoint, args = adapter.match(path, method=method, query_args=query)
        except RequestRedirect as redirect:  # a missing trailing slash, say
            queue.append((local(url, redirect.new_url), method, how, label, page))
            continue
        except HTTPException as error:  # no such route (404) or method (405)
            result.dead.append((page, how, label, url, f"{error.code} (routing)"))
            continue
        if endpoint in NOT_FOLLOWED:
            continue
        if method != "GET" or endpoint in NOT_REQUESTED:
            key = (method, shape(url))
            shapes[key] += 1
            if shapes[key] > POSTS_PER_SHAPE:
                continue
            result.checked += 1
            why = refusal(app, who.id, endpoint, args, method)
            if why:
                result.dead.append((page, how, label, f"{method} {url}", why))
            continue
        key = ("GET", shape(url))
        if shapes[key] >= PER_SHAPE or result.pages >= MAX_PAGES:
            continue
        shapes[key] += 1
        result.pages += 1
        response = client.get(url, headers=HX if how == "hx-get" else {})
        status = response.status_code
        if status in DEAD or status >= 500:
            result.dead.append((page, how, label, url, str(status)))
        elif status in (301, 302, 303):
            target = local(url, response.location)
            if target and target.startswith("/auth/login"):
                result.dead.append((page, how, label, url, "signs the user out"))
            elif target:
                queue.append((target, "GET", "redirect", "", url))
        elif status == 200 and response.mimetype == "text/html":
            for control_method, href, control_how, control_label in controls_of(
                    response.get_data(as_text=True)):
                target = local(url, href or url)
                if target and control_method in ("GET", "POST"):
                    queue.append((target, control_method, control_how, control_label, url))
    result.seconds = time.monotonic() - began
    return result


def start_pages(app, client, username: str) -> list[str]:
    if username not in REASON_READERS:
        return ["/"]
    customer_id, name = busiest_customer(app)
    state_reason(client, customer_id)
    # They look the company up by name and open the file they stated a reason for.
    return ["/", f"/sales/customers?q={name[:4]}", f"/sales/customers/{customer_id}"]


def report(dead: list) -> str:
    return "\n".join(f"  on {page or '(start)'}: {how} “{label}” → {url}: {why}"
                     for page, how, label, url, why in dead)


@pytest.mark.parametrize("username", DEMO_ACCOUNTS)
def test_links_no_dead_link_or_button_for_any_demo_account(demo_app, username):
    client, who = signed_in(demo_app, username)
    result = crawl(demo_app, client, who, start_pages(demo_app, client, username))
    print(f"{username}: {result.pages} pages, {result.checked} buttons asked, "
          f"{result.seconds:.1f} s")
    assert result.pages >= 3
    if result.dead:
        pytest.fail(f"dead links or buttons for {username}:\n" + report(result.dead), False)


# --- the two cases of the issue ----------------------------------------------------------

def buttons_on(client, customer_id: int) -> set[str]:
    """Which of edit / apply for credit / new order the customer page offers."""
    html = client.get(f"/sales/customers/{customer_id}").get_data(as_text=True)
    hrefs = {href for method, href, *_ in controls_of(html) if method == "GET"}
    return {name for name, suffix in (("edit", "/edit"), ("credit", "/credit/new"),
                                      ("order", "/orders/new"))
            if f"/sales/customers/{customer_id}{suffix}" in hrefs}


def test_links_gm_deputy_sees_no_edit_credit_or_order_button_that_404s(demo_app):
    """The GM's deputy reads every file as the GM does (read-only); being a sales manager of
    another department does not make the files of the GM's scope editable."""
    customer_id, _name = busiest_customer(demo_app)
    deputy, _ = signed_in(demo_app, "deputy")
    gm, _ = signed_in(demo_app, "gm")
    assert deputy.get(f"/sales/customers/{customer_id}").status_code == 200
    assert buttons_on(deputy, customer_id) == buttons_on(gm, customer_id) == set()
    for suffix in ("/edit", "/credit/new", "/orders/new"):  # the view refuses them as before
        assert deputy.get(f"/sales/customers/{customer_id}{suffix}").status_code == 404
    html = deputy.get(f"/sales/customers/{customer_id}").get_data(as_text=True)
    assert "/contacts" not in html and "/tier" not in html and "/blacklist" not in html
    with demo_app.app_context():
        deputy_id = db.session.scalar(select(User.id).where(User.username == "deputy"))
    for endpoint in ("sales.contact_add", "sales.customer_tier", "sales.customer_delete"):
        assert refusal(demo_app, deputy_id, endpoint, {"customer_id": customer_id},
                       "POST") == "404 (record scope)"  # what the crawl would have reported
    # the manager of the customer's department still has them
    with demo_app.app_context():
        department = db.session.get(Customer, customer_id).department.code
    manager, who = signed_in(demo_app, {"sales1": "manager1", "sales2": "manager2"}[department])
    assert buttons_on(manager, customer_id) == {"edit", "credit", "order"}
    assert refusal(demo_app, who.id, "sales.customer_tier", {"customer_id": customer_id},
                   "POST") is None


@pytest.mark.parametrize("username", ["finance", "desk", "handler", "archivist"])
def test_links_c6_reason_readers_see_no_credit_application_link_they_cannot_open(
        demo_app, username):
    customer_id, _name = busiest_customer(demo_app)
    client, who = signed_in(demo_app, username)
    state_reason(client, customer_id)
    html = client.get(f"/sales/customers/{customer_id}").get_data(as_text=True)
    with demo_app.app_context():
        applications = db.session.execute(
            select(CreditApplication.id, CreditApplication.state)
            .where(CreditApplication.customer_id == customer_id)).all()
        numbers = [db.session.get(CreditApplication, a.id).number for a in applications]
    assert {a.state for a in applications} & {s.value for s in OPEN}, "an open one, too"
    assert all(number in html for number in numbers)  # still shown, as text or a link
    hrefs = {href for method, href, *_ in controls_of(html) if method == "GET"}
    assert not [h for h in hrefs if re.fullmatch(r"/sales/credit/\d+", h)]
    archived = {int(h.split("/")[4]) for h in hrefs
                if re.fullmatch(r"/archive/records/credit_application/\d+", h)}
    if username == "archivist":  # the decided ones open as the archive's record
        assert archived == {a.id for a in applications if a.state not in {s.value for s in OPEN}}
        for application_id in archived:
            assert refusal(demo_app, who.id, "archive.record", {
                "kind": "credit_application", "record_id": application_id}, "GET") is None
        response = client.get(f"/archive/records/credit_application/{min(archived)}")
        assert response.status_code == 200  # and one really opens
    else:
        assert archived == set()
