"""SECURITY.md 18, 19a: no 500 from any query string. Every GET page of the access matrix is in
the table below (or exempt, with the reason); pages with filters are fuzzed by hypothesis
(keys and values, every example on a fresh database), and every page is swept with the odd
input classes: special decimals, integers beyond 64 bits, keys that url_for would take as its
own arguments, bidirectional controls, repeated keys."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from fuzzing import (
    CLASHING_KEYS,
    SWEEP,
    TEXT,
    contains_nul,
    examples,
    value_strategy,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from intranet.core.access import MATRIX
from intranet.core.audit import ACTION_LABELS, OBJECT_LABELS
from intranet.core.roles import Role
from intranet.customers.labels import RELATIONSHIP_LABELS, TIER_LABELS
from intranet.workflows.complaint import ComplaintFlow
from intranet.workflows.credit import CreditFlow

R = Role
PAGES = ("1", "2", "0", "-1", "100001", str(2**64 + 1))
CUSTOMER_FILTERS = {"q": ("上海", "测试", "1380000", "%", "_"), "tier": tuple(TIER_LABELS),
                    "status": tuple(RELATIONSHIP_LABELS), "blacklisted": ("0", "1"),
                    "owner": ("1", "2", "3"), "sort": ("name", "sales", "growth", "newest"),
                    "page": PAGES,
                    # keyset cursors (core/pagination.py): ["a",1], [1e999,1], ["2026-01-01",1]
                    "after": ("WyJhIiwxXQ", "WzFlOTk5LDFd", "WyIyMDI2LTAxLTAxIiwxXQ", "x")}

CASE_FILTERS = {"q": ("TS-2026-000001", "2026-1", "上海", "%", "2026-99999999999999999999"),
                "kind": ("complaint", "x"),
                "channel": ("phone", "authority"), "state": tuple(ComplaintFlow.STATE_LABELS),
                "severity": ("severe", "general"), "department": ("1", "2", "x"),
                "handler": ("1", "4", "-1"), "subject": ("1", "2"), "overdue": ("1", "0"),
                "open": ("1",), "mine": ("1", "0"), "all": ("1",),
                "since": ("2026-11-01", "2026-02-30", "x", "0001-01-01"),
                "until": ("2026-12-31", "", "9999-12-31"),
                "page": PAGES}


@dataclass(frozen=True)
class ListCase:
    endpoint: str
    role: object  # a key of fuzzing.STAFF, or None for a visitor
    url: str
    filters: dict = field(default_factory=dict)  # name → plausible values
    htmx_target: str | None = None  # the fragment an htmx request of the page asks for
    status: tuple[int, ...] = (200,)

    @property
    def name(self) -> str:
        return f"{self.endpoint}[{self.role}]"


LISTS = [
    ListCase("sales.customers", R.SALES_REP, "/sales/customers", CUSTOMER_FILTERS,
             "customer-rows"),
    ListCase("sales.customers", R.SALES_MANAGER, "/sales/customers", CUSTOMER_FILTERS,
             "customer-rows"),
    ListCase("sales.customers", R.GENERAL_MANAGER, "/sales/customers", CUSTOMER_FILTERS),
    ListCase("sales.customers", R.SERVICE_DESK, "/sales/customers", CUSTOMER_FILTERS,
             "customer-rows"),
    ListCase("sales.customers_export", R.SALES_MANAGER, "/sales/customers/export",
             {**CUSTOMER_FILTERS, "format": ("csv", "xlsx", "pdf")}),
    ListCase("sales.credit_applications", R.SALES_REP, "/sales/credit", {
        "state": tuple(CreditFlow.STATE_LABELS), "q": ("上海",), "page": PAGES}),
    ListCase("sales.credit_review", R.SALES_MANAGER, "/sales/credit/review", {"page": PAGES}),
    ListCase("management.credit_queue", R.GENERAL_MANAGER, "/management/credit", {
        "department": ("1", "2"), "grade": ("1", "2", "3"), "min": ("0", "10000", "1e5"),
        "max": ("50000", "200,000"), "overdue": ("1",), "page": PAGES}, "queue-rows"),
    ListCase("finance.orders", R.FINANCE, "/finance/orders", {"q": ("SO", "上海"),
                                                            "page": PAGES}),
    ListCase("finance.over_limit", R.FINANCE, "/finance/over-limit", {"page": PAGES}),
    ListCase("finance.over_limit", R.SALES_MANAGER, "/finance/over-limit", {"page": PAGES}),
    ListCase("sales.reclassification_list", R.SALES_MANAGER, "/sales/reclassifications",
             {"state": ("requested", "approved", "confirmed", "x"), "page": PAGES}),
    ListCase("sales.conflict_list", R.SALES_REP, "/sales/conflicts",
             {"state": ("requested", "rejected", "x"), "page": PAGES}),
    ListCase("sales.conflict_new", R.SALES_REP, "/sales/conflicts/new",
             {"name": ("上海测试机械有限公司", "x"), "credit_code": ("1",),
              "contact_phone": ("13800000000", "%")}),
    ListCase("service.leads", R.SERVICE_DESK, "/service/leads", {"page": PAGES}),
    ListCase("admin.users", R.ADMIN, "/admin/users", {
        "q": ("rep", "管理"), "status": ("active", "disabled"), "page": PAGES}, "user-rows"),
    ListCase("admin.audit", R.ADMIN, "/admin/audit", {
        "user": ("rep", "ADMIN "), "action": tuple(ACTION_LABELS),
        "object_type": tuple(OBJECT_LABELS), "object_id": ("1", ""),
        "from": ("2026-01-31", "2026-02-30", "1999-01-01"), "to": ("2030-12-31", "x"),
        "page": PAGES}),
    ListCase("admin.delegations", R.ADMIN, "/admin/deputies", {"page": PAGES}),
    ListCase("home.notifications", R.SALES_REP, "/notifications", {"unread": ("1", ""),
                                                                    "page": PAGES}),
    *(ListCase("home.inbox_page", role, "/inbox", {
        "tab": ("waiting", "started", "done", "copied", "x"),
        "workflow": ("credit_application", "service_case", "pool_claim", "user", ""),
        "overdue": ("1", "0"), "page": PAGES})
      for role in (R.SALES_REP, R.GENERAL_MANAGER, R.COMPLAINT_HANDLER)),
    ListCase("auth.login", None, "/auth/login", {"next": ("/sales/customers", "//evil.example"),
                                                 "fresh": ("1",)}),
    # Signed in, the sign-in page sends a fresh session home; ?fresh=1 asks for the password.
    ListCase("auth.login", R.SALES_REP, "/auth/login", {"next": ("/sales/customers",),
                                                        "fresh": ("1", "")}, status=(200, 302)),
]
# Pages that read no filter: swept with the odd keys and values only.
PAGES_WITHOUT_FILTERS = [
    ListCase("home.index", R.SALES_REP, "/"),
    ListCase("home.index", R.GENERAL_MANAGER, "/"),
    ListCase("home.index", R.FINANCE, "/"),
    ListCase("home.healthz", None, "/healthz"),
    ListCase("home.notification_bell", R.SALES_REP, "/notifications/bell"),
    ListCase("home.inbox_count", R.SALES_MANAGER, "/inbox/count"),
    # a record copied to someone else: nothing said to this reader
    ListCase("home.copied_record", R.FINANCE, "/inbox/credit_application/{submitted_id}",
             status=(404,)),
    ListCase("auth.password", R.SALES_REP, "/auth/password"),
    ListCase("admin.user_new", R.ADMIN, "/admin/users/new"),
    ListCase("admin.user_edit", R.ADMIN, "/admin/users/{user_id}"),
    ListCase("admin.settings", R.ADMIN, "/admin/settings"),
    ListCase("sales.customer", R.SALES_REP, "/sales/customers/{customer_id}"),
    # Rule C6: staff outside sales state a reason first (a redirect to the reason form).
    ListCase("sales.customer", R.SERVICE_DESK, "/sales/customers/{customer_id}",
             status=(302,)),
    ListCase("sales.customer_access", R.SERVICE_DESK, "/sales/customers/{customer_id}/access"),
    ListCase("sales.customer_new", R.SALES_REP, "/sales/customers/new"),
    ListCase("sales.customer_edit", R.SALES_REP, "/sales/customers/{customer_id}/edit"),
    ListCase("sales.customers_import", R.SALES_REP, "/sales/customers/import"),
    ListCase("sales.attachment_download", R.SALES_REP,
             "/sales/customers/{customer_id}/attachments/{attachment_id}"),
    ListCase("sales.credit_application", R.SALES_REP, "/sales/credit/{draft_id}"),
    ListCase("sales.credit_new", R.SALES_REP, "/sales/customers/{prospect_id}/credit/new"),
    ListCase("sales.credit_edit", R.SALES_REP, "/sales/credit/{draft_id}/edit"),
    ListCase("sales.order_new", R.SALES_REP, "/sales/customers/{customer_id}/orders/new"),
    ListCase("finance.transactions_import", R.FINANCE, "/finance/transactions/import"),
    ListCase("sales.reclaim_rules", R.SALES_MANAGER, "/sales/reclaim-rules"),
    ListCase("sales.reclaim_rule", R.GENERAL_MANAGER, "/sales/reclaim-rules/1"),
    ListCase("sales.reclaim_due", R.SALES_REP, "/sales/reclaim-due", {"page": PAGES}),
    ListCase("sales.visits_due", R.SALES_MANAGER, "/sales/visits",
             {"when": ("overdue", "soon", "period", "x"),
              "obligation": ("vip_head", "vip_gm", "key_head", "general", "x", "%"),
              "owner": ("1", "x", "-1", "99999999999999999999"), "page": PAGES}),
    ListCase("sales.visit_plans", R.SALES_REP, "/sales/visit-plans",
             {"month": ("2026-12", "2026-13", "x", "1999-01", "2101-01", "-1", "%")}),
    ListCase("sales.visit_plans", R.GENERAL_MANAGER, "/sales/visit-plans"),
    ListCase("management.dashboard", R.SALES_MANAGER, "/management/dashboard"),
    ListCase("management.dashboard", R.GENERAL_MANAGER, "/management/dashboard"),
    ListCase("management.reports", R.GENERAL_MANAGER, "/management/reports",
             {"kind": ("credit_sales", "archive_visit", "x", "%"),
              "state": ("open", "draft", "submitted", "accepted", "x"),
              "department": ("1", "company", "x", "-1", "99999999999999999999"),
              "page": PAGES}),
    ListCase("management.reports", R.SALES_MANAGER, "/management/reports",
             {"state": ("open",), "department": ("2",)}),
    ListCase("management.report", R.GENERAL_MANAGER, "/management/reports/{report_id}"),
    ListCase("sales.follow_ups", R.SALES_REP, "/sales/follow-ups",
             {"status": ("open", "done", "x"), "page": PAGES}),
    ListCase("sales.visits_due", R.GENERAL_MANAGER, "/sales/visits",
             {"when": ("period",), "obligation": ("vip_gm",), "page": PAGES}),
    ListCase("sales.pool", R.SALES_REP, "/sales/pool", {"q": ("上海", "%", "_"), "page": PAGES}),
    ListCase("sales.pool_claim", R.SALES_REP, "/sales/pool/{pool_customer_id}/claim"),
    ListCase("sales.resource_requests", R.SALES_MANAGER, "/sales/requests",
             {"q": ("转移", "%"), "kind": ("transfer", "claim", "x"),
              "status": ("open", "closed", "all", "x"), "page": PAGES}),
    ListCase("sales.resource_requests", R.SALES_REP, "/sales/requests",
             {"kind": ("transfer", "claim"), "status": ("all",), "waiting": ("1", "x"),
              "page": PAGES}),
    ListCase("sales.resource_request", "rep_b", "/sales/requests/{transfer_id}"),
    ListCase("sales.resource_request_pdf", R.SALES_MANAGER, "/sales/requests/{claim_id}/pdf"),
    ListCase("sales.transfer_new", R.SALES_REP, "/sales/customers/{customer_id}/transfer"),
    ListCase("sales.transfer_take_over", R.SALES_REP, "/sales/transfers/take-over"),
    ListCase("sales.customer_reassign", R.SALES_MANAGER,
             "/sales/customers/{customer_id}/reassign"),
    ListCase("sales.handover", R.SALES_MANAGER, "/sales/handover"),
    ListCase("sales.reclaim_batches", R.SALES_MANAGER, "/sales/reclaims", {"page": PAGES}),
    ListCase("sales.reclaim_batch_pdf", R.GENERAL_MANAGER, "/sales/reclaims/{batch_id}/pdf"),
    ListCase("sales.allocation_list", R.SALES_MANAGER, "/sales/allocation", {
        "q": ("总台", "线索", "%", "_"), "page": PAGES}),
    ListCase("sales.reps_list", R.SALES_MANAGER, "/sales/reps", {"q": ("Rep", "%"),
                                                               "page": PAGES}),
    ListCase("sales.reps_list", R.GENERAL_MANAGER, "/sales/reps", {"q": ("Rep",),
                                                                 "page": PAGES}),
    ListCase("sales.allocate", R.SALES_MANAGER, "/sales/allocation/{lead_id}"),
    ListCase("sales.rep", R.SALES_REP, "/sales/reps/{rep_id}"),
    ListCase("sales.rep", R.SALES_MANAGER, "/sales/reps/{rep_id}"),
    ListCase("service.queue", R.COMPLAINT_HANDLER, "/service/queue", CASE_FILTERS, "case-rows"),
    ListCase("service.queue", R.SALES_MANAGER, "/service/queue", CASE_FILTERS, "case-rows"),
    ListCase("service.ledger", R.SERVICE_DESK, "/service/ledger", CASE_FILTERS, "case-rows"),
    ListCase("service.ledger", R.GENERAL_MANAGER, "/service/ledger", CASE_FILTERS),
    ListCase("service.ledger_export", R.SERVICE_DESK, "/service/ledger/export", CASE_FILTERS),
    ListCase("service.ledger_figures", R.SALES_MANAGER, "/service/ledger/figures",
             CASE_FILTERS, "figures"),
    ListCase("service.case_new", R.SERVICE_DESK, "/service/cases/new"),
    ListCase("service.customer_lookup", R.SERVICE_DESK, "/service/customer-lookup",
             {"q": ("上海", "测", "%", "_")}),
    ListCase("service.case", R.COMPLAINT_HANDLER, "/service/cases/{case_open_id}"),
    ListCase("service.lead_new", R.SERVICE_DESK, "/service/leads/new"),
    ListCase("sales.reclassification_new", R.SALES_REP,
             "/sales/customers/{classified_id}/reclassification"),
    ListCase("sales.reclassification", R.SERVICE_DESK,
             "/sales/reclassifications/{reclassification_id}"),
    ListCase("sales.conflict", R.SALES_REP, "/sales/conflicts/{conflict_id}"),
    ListCase("service.case_attachment_download", R.SERVICE_DESK,
             "/service/cases/{case_decided_id}/attachments/{case_material_id}"),
    # rule C7: sealed years and access requests to sealed files
    ListCase("archive.seals", R.ARCHIVIST, "/archive/seals"),
    ListCase("archive.access_request", R.GENERAL_MANAGER, "/archive/access/{access_id}"),
    ListCase("archive.access_request", R.ARCHIVIST, "/archive/access/{access_id}"),
]
LISTS += [  # rule C7
    ListCase("archive.access_requests", R.ARCHIVIST, "/archive/access", {
        "state": ("requested", "approved", "expired", "rejected", "withdrawn", "x"),
        "year": ("2025", "0", "99999"), "page": PAGES}),
    ListCase("archive.access_requests", R.GENERAL_MANAGER, "/archive/access", {
        "state": ("requested", "expired"), "page": PAGES}),
    ListCase("archive.access_new", R.ARCHIVIST, "/archive/access/new", {
        "customer": ("1", "0", "上海测试机械有限公司", "x"), "year": ("2025", "x", "0")}),
    # the archive (issue 11)
    ListCase("archive.records", R.ARCHIVIST, "/archive/", {
        "type": ("credit_application", "service_case", "transfer_request", "pool_claim",
                 "customer_file", "x"),
        "from": ("2026-01-01", "2026-02-30", "1999-01-01", "x"),
        "to": ("2030-12-31", "9999-12-31", "x"), "department": ("1", "0", "x"),
        "q": ("上海", "%", "_"), "page": PAGES}),
    ListCase("archive.customer_files", R.ARCHIVIST, "/archive/customers", {
        "q": ("上海", "%", "_"), "department": ("1", "0", "x"), "page": PAGES}),
    ListCase("archive.customer_file", R.GENERAL_MANAGER, "/archive/customers/{customer_id}",
             {"year": ("2025", "2026", "1999", "x", "99999999999")}),
    ListCase("archive.verify_document", R.SALES_REP, "/archive/verify"),
    ListCase("archive.record", R.ARCHIVIST, "/archive/records/credit_application/{draft_id}",
             status=(404,)),
    ListCase("archive.exports", R.ARCHIVIST, "/archive/exports", {"page": PAGES}),
    ListCase("archive.exports", R.GENERAL_MANAGER, "/archive/exports", {"page": PAGES}),
    ListCase("archive.export_new", R.ARCHIVIST, "/archive/exports/new"),
]
# GET routes of the matrix that are not fuzzed, each with its reason.
EXEMPT = {
    "static": "files from disk; the query string is not read.",
    "sales.credit_pdf": "renders a PDF (~1 s) and reads no query; test_credit_pdf covers it.",
    "service.case_pdf": "renders a PDF and reads no query; test_complaint_records covers it.",
    "management.report_pdf": "renders a PDF and reads no query; test_reports covers it.",
    "service.ledger_pdf": "renders a PDF; its one parameter (month) is fuzzed in "
                          "test_complaint_records.",
    "archive.record_pdf": "renders a PDF and reads no query; test_archive_records covers it.",
    "archive.customer_file_pdf": "renders a PDF; its one parameter (year) is read as on "
                                 "archive.customer_file, which is fuzzed.",
    "archive.export_status": "one export of the user who asked, by id; reads no query; "
                             "test_archive_export covers it.",
    "archive.export_download": "sends the finished ZIP of the user who asked; reads no query; "
                               "test_archive_export covers it.",
}


def queries(case: ListCase):
    """A query string: the page's filters, the clashing keys and arbitrary text as keys; each
    value plausible, odd or arbitrary; keys may repeat."""
    keys = st.one_of(st.sampled_from(tuple(case.filters) or ("q",)),
                     st.sampled_from(CLASHING_KEYS), TEXT)
    pair = keys.flatmap(lambda key: st.tuples(
        st.just(key), value_strategy(case.filters.get(key, ()))))
    return st.lists(pair, max_size=8)


def request(world, case: ListCase, pairs, htmx: bool = False):
    headers = {"HX-Request": "true", "HX-Target": case.htmx_target} if htmx else {}
    url = case.url.format(**world.ids)
    response = world.get(case.role, url, urlencode(pairs), headers)
    allowed = set(case.status)
    if contains_nul(*(item for pair in pairs for item in pair)):
        allowed.add(400)
    assert response.status_code in allowed, (case.name, response.status_code, pairs)
    return response


@pytest.mark.parametrize("case", LISTS, ids=lambda case: case.name)
@settings(max_examples=examples(12), deadline=None)
@given(data=st.data())
def test_18_fuzzed_list_filters_never_give_500(fresh_world, case, data):
    pairs = data.draw(queries(case))
    htmx = bool(case.htmx_target) and data.draw(st.booleans())
    with fresh_world() as world:
        request(world, case, pairs, htmx)


def sweep(case: ListCase):
    """The explicit odd inputs: every clashing key at once (test_untrusted_input tries each
    alone on the page that builds links from its query); every filter set to one special
    value (decimals, integers, bidi); every filter repeated."""
    filters = tuple(case.filters) or ("q", "page")
    yield [(key, value) for key in CLASHING_KEYS for value in ("1", "https://evil.example")]
    for value in SWEEP:
        yield [(name, value) for name in filters]
    yield [(name, value) for name in filters for value in ("1", "2", "x")]


@pytest.mark.parametrize("case", LISTS + PAGES_WITHOUT_FILTERS, ids=lambda case: case.name)
def test_19a_odd_query_strings_are_answered(fresh_world, case):
    with fresh_world() as world:
        for pairs in sweep(case):
            request(world, case, pairs)
            if case.htmx_target:
                request(world, case, pairs, htmx=True)


def test_18_every_get_route_is_fuzzed_or_exempt():
    gets = {endpoint for endpoint, methods in MATRIX.items() if "GET" in methods}
    covered = {case.endpoint for case in LISTS + PAGES_WITHOUT_FILTERS}
    assert gets - covered - set(EXEMPT) == set(), "add the page to LISTS (or EXEMPT, why)"
    assert (covered | set(EXEMPT)) - gets == set(), "stale entries"
