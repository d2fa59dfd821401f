"""SECURITY.md 18, 19a: no 500 from any form. Every POST route of the access matrix is in the
table below (or exempt, with the reason); each is fuzzed by hypothesis, every example on a
fresh database, and swept once with one value of each odd input class."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from conftest import PASSWORD
from fuzzing import (
    BIDI,
    CLASHING_KEYS,
    SWEEP,
    TEXT,
    as_text,
    contains_nul,
    examples,
    fields_of,
    value_strategy,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from wtforms import DecimalField, DecimalRangeField, FloatField, IntegerField

from intranet.blueprints.admin.forms import DelegationForm, NewUserForm, SetPasswordForm, UserForm
from intranet.blueprints.archive.exports import ExportForm
from intranet.blueprints.archive.sealed import AccessRequestForm, AccessTransitionForm, SealForm
from intranet.blueprints.auth.forms import LoginForm, PasswordChangeForm
from intranet.blueprints.finance.forms import ReleaseForm
from intranet.blueprints.management.reports import ReportTextForm, ReportTransitionForm
from intranet.blueprints.sales.forms import (
    AccessReasonForm,
    ActivityForm,
    BlacklistForm,
    ContactForm,
    CreditApplicationForm,
    CustomerForm,
    NewCustomerForm,
    OrderForm,
    TierOverrideForm,
    TransitionForm,
)
from intranet.blueprints.sales.requests import (
    ConflictClaimForm,
    ReclassificationForm,
    RequestTransitionForm,
)
from intranet.blueprints.sales.visit_plans import PlanForm
from intranet.blueprints.service.forms import (
    CaseTransitionForm,
    ContactLogForm,
    CorrectiveActionForm,
    IntakeForm,
)
from intranet.blueprints.service.intake import LeadForm
from intranet.complaints import CHANNEL_LABELS, CONTACT_LABELS, KIND_LABELS, SEVERITY_LABELS
from intranet.core import settings as company_settings
from intranet.core.access import MATRIX
from intranet.core.roles import Role
from intranet.customers.labels import (
    ACTIVITY_LABELS,
    PAYMENT_LABELS,
    RELATIONSHIP_LABELS,
    SIZE_LABELS,
    SOURCE_LABELS,
    TIER_LABELS,
)
from intranet.workflows.complaint import ComplaintFlow
from intranet.workflows.credit import CreditFlow


class Fill(str):
    """A plausible value naming a record of the world ("{received_id}:1"), filled per example."""


def fill(value, ids: dict):
    return value.format(**ids) if isinstance(value, Fill) else value


R = Role
# Plausible values per field, the first of each valid: a near-valid body takes the first value
# of every field but one (see bodies()).
EVENTS = tuple(CreditFlow.PERMISSIONS)
VERSIONS = ("1", "2", "0", "-1")
MONEY = ("50000", "0", "0.00", "200,000", "1000.5")
DATES = ("2026-11-02", "2030-01-31", "2026-02-30", "1900-01-01", "0001-01-01", "9999-12-31")
MOMENTS = ("2030-01-01T09:00", "2030-01-02T18:00", "2026-11-01T10:00", "2026-13-01T25:61",
           "0001-01-01T00:00", "9999-12-31T23:59")
IDS = ("1", "2", "3", "5", "11", str(2**31 - 1), "987654", str(2**70))
# Fields nobody may set from a form (SECURITY.md 4), posted alongside.
MASS_ASSIGNMENT = ("owner_id", "department_id", "state", "credit_limit", "approved_limit",
                   "applicant_id", "tier", "blacklisted", "id", "version", *CLASHING_KEYS)

CUSTOMER_VALUES = {
    "name": ("杭州新公司有限公司", "上海测试机械有限公司", BIDI[1]),
    "credit_code": ("91350100M000100Y43", "91350100M000100Y44", "123"),
    "registered_capital": MONEY, "size": tuple(SIZE_LABELS),
    "payment_method": tuple(PAYMENT_LABELS), "source_channel": tuple(SOURCE_LABELS),
    "relation": tuple(RELATIONSHIP_LABELS), "website": ("www.example.cn", "javascript:x"),
    "contact_name": ("李经理",), "contact_phone": ("13912345678", "13800000000", "021-1234"),
}
CREDIT_VALUES = {"period_start": (Fill("{quarter}"), Fill("{next_quarter}"), "2027-01-01"),
                 "grade": ("1", "2", "3"), "proposed_limit": MONEY, "reason": ("季度申请",)}
USER_VALUES = {"username": ("newuser", "rep", "Bad Name"), "roles": tuple(Role),
               "department_id": IDS, "locale": ("zh_CN", "en"),
               "display_name": ("新同事",), "email": ("a@example.cn", "not-an-address"),
               "password": ("a long passphrase 2026", "password")}
PASSWORDS = ("a long passphrase 2026", PASSWORD, "short")
TRANSITION_VALUES = {"version": VERSIONS, "amount": MONEY, "comment": ("同意",)}
SETTING_VALUES = {key: ("1" if d.kind == "bool" else "" if d.kind == "dates"
                        else str(d.default), *(d.choices[:2] if d.kind == "choice" else ()))
                  for key, d in company_settings.SETTINGS.items()}


@dataclass(frozen=True)
class FormCase:
    endpoint: str
    role: object  # a key of fuzzing.STAFF, or None for a visitor
    url: str  # filled with the world's ids
    fields: tuple[str, ...]
    plausible: dict = field(default_factory=dict)
    files: tuple[str, ...] = ()
    also: tuple[int, ...] = ()  # further answers this route may give, each with its reason

    @property
    def name(self) -> str:
        return f"{self.endpoint}[{self.role}]"


FORMS = [
    FormCase("auth.login", None, "/auth/login", fields_of(LoginForm), {
        "username": ("rep", "REP ", "admin"), "password": (PASSWORD, "x"), "remember": ("y",),
        "next": ("/sales/customers", "//evil.example", "https://evil.example/", "/\\evil")}),
    FormCase("auth.language", R.SALES_REP, "/auth/language", ("lang", "next"), {
        "lang": ("en", "zh_CN", "xx"), "next": ("/sales/customers", "//evil.example")}),
    FormCase("auth.password", R.SALES_REP, "/auth/password", fields_of(PasswordChangeForm), {
        "current": PASSWORDS, "new": PASSWORDS, "confirm": PASSWORDS}),
    FormCase("home.notification_read", R.SALES_REP, "/notifications/{note_sales_rep}/read",
             ("follow",), {"follow": ("1",)}),
    FormCase("home.notifications_read_all", R.SALES_REP, "/notifications/read-all", ()),
    # issue 13: urge one's own record; hand on the step one holds (404 once it is handed on)
    FormCase("home.urge", R.SALES_REP, "/inbox/credit_application/{submitted_id}/urge",
             ("next",), {"next": ("/inbox?tab=started", "//evil.example")}),
    FormCase("home.copy", R.SALES_REP, "/inbox/credit_application/{submitted_id}/copy",
             ("user_ids",), {"user_ids": IDS}),
    FormCase("home.hand_on", R.COMPLAINT_HANDLER, "/inbox/service_case/{case_open_id}/hand-on",
             ("to_id", "comment", "version"), {"to_id": IDS, "comment": ("本周出差，请接手",),
                                               "version": ("1", "0", "x")}, also=(404,)),
    FormCase("admin.user_new", R.ADMIN, "/admin/users/new", fields_of(NewUserForm),
             USER_VALUES),
    FormCase("admin.user_edit", R.ADMIN, "/admin/users/{user_id}", fields_of(UserForm),
             USER_VALUES),
    FormCase("admin.user_password", R.ADMIN, "/admin/users/{user_id}/password",
             fields_of(SetPasswordForm), {"password": PASSWORDS}),
    FormCase("admin.user_disable", R.ADMIN, "/admin/users/{user_id}/disable", ()),
    FormCase("admin.user_enable", R.ADMIN, "/admin/users/{user_id}/enable", ()),
    FormCase("admin.delegations", R.ADMIN, "/admin/deputies", fields_of(DelegationForm), {
        "principal_id": ("9", *IDS), "deputy_id": ("4", *IDS),
        "role": (R.GENERAL_MANAGER, *Role), "starts_at": MOMENTS,
        "ends_at": ("2030-01-03T18:00", *MOMENTS), "reason": ("出差",)}),
    FormCase("admin.delegation_revoke", R.ADMIN, "/admin/deputies/{delegation_id}/revoke", ()),
    FormCase("admin.settings", R.ADMIN, "/admin/settings",
             tuple(company_settings.SETTINGS) + tuple(
                 f"{key}__shown" for key, d in company_settings.SETTINGS.items()
                 if d.kind == "bool"), SETTING_VALUES),
    FormCase("sales.customers_import", R.SALES_REP, "/sales/customers/import", (),
             files=("file",)),
    FormCase("finance.transactions_import", R.FINANCE, "/finance/transactions/import", (),
             files=("file",)),
    FormCase("sales.customer_access", R.SERVICE_DESK, "/sales/customers/{customer_id}/access",
             fields_of(AccessReasonForm), {"reason": ("客户来电投诉", "ab")}),
    FormCase("sales.customer_new", R.SALES_REP, "/sales/customers/new",
             fields_of(NewCustomerForm), CUSTOMER_VALUES),
    FormCase("sales.customer_edit", R.SALES_REP, "/sales/customers/{customer_id}/edit",
             fields_of(CustomerForm), CUSTOMER_VALUES),
    FormCase("sales.customer_delete", R.SALES_MANAGER, "/sales/customers/{customer_id}/delete",
             ()),
    FormCase("sales.customer_blacklist", R.SALES_MANAGER,
             "/sales/customers/{customer_id}/blacklist", fields_of(BlacklistForm),
             {"reason": ("长期拖欠货款", "x")}),
    FormCase("sales.customer_tier", R.SALES_MANAGER, "/sales/customers/{customer_id}/tier",
             fields_of(TierOverrideForm), {"tier": (*TIER_LABELS, ""), "reason": ("战略客户",)}),
    FormCase("sales.attachment_add", R.SALES_REP, "/sales/customers/{customer_id}/attachments",
             (), files=("file",)),
    FormCase("sales.attachment_delete", R.SALES_REP,
             "/sales/customers/{customer_id}/attachments/{attachment_id}/delete", ()),
    FormCase("sales.contact_add", R.SALES_REP, "/sales/customers/{customer_id}/contacts",
             fields_of(ContactForm), {"phone": ("13900000001", "13800000000", "12"),
                                      "email": ("a@example.cn",), "name": ("李四",),
                                      "title": ("采购",)}),
    FormCase("sales.contact_delete", R.SALES_REP,
             "/sales/customers/{customer_id}/contacts/{contact_id}/delete", ()),
    FormCase("sales.activity_add", R.SALES_REP, "/sales/customers/{customer_id}/activities",
             fields_of(ActivityForm), {"kind": tuple(ACTIVITY_LABELS),
                                       "occurred_at": MOMENTS[2:] + MOMENTS[:2],
                                       "next_action_on": DATES,
                                       "purpose": ("sales", "guidance"),
                                       "satisfaction": ("1", "5", "0", "6", "x"),
                                       "participants": ("1", "2", "x", "-1"),
                                       "summary": ("电话沟通价格",)}),
    FormCase("sales.visit_plans", R.SALES_REP, "/sales/visit-plans",
             fields_of(PlanForm), {"customer_id": (Fill("{customer_id}"), "1", "x"),
                                   "planned_on": DATES, "note": ("季度拜访",)}),
    FormCase("sales.visit_plan_delete", R.SALES_REP, "/sales/visit-plans/{plan_id}/delete", ()),
    # rule Q1: the author's analysis, and the report's steps
    FormCase("management.report_text", R.SALES_MANAGER, "/management/reports/{report_id}/text",
             fields_of(ReportTextForm), {"text": ("第三季度回款良好", "", "x" * 5001)}),
    FormCase("management.report_transition", R.SALES_MANAGER,
             "/management/reports/{report_id}/transition", fields_of(ReportTransitionForm),
             {"event": ("submit", "accept", "send_back", "x"), "version": VERSIONS,
              "text": ("第三季度回款良好", ""), "comment": ("", "请补充")}),
    FormCase("management.report_transition", R.GENERAL_MANAGER,
             "/management/reports/{report_submitted_id}/transition",
             fields_of(ReportTransitionForm),
             {"event": ("send_back", "accept", "submit", "x"), "version": VERSIONS,
              "comment": ("请补充回款分析", ""), "text": ("",)}),
    FormCase("sales.credit_new", R.SALES_REP, "/sales/customers/{prospect_id}/credit/new",
             fields_of(CreditApplicationForm), CREDIT_VALUES),
    FormCase("sales.credit_edit", R.SALES_REP, "/sales/credit/{draft_id}/edit",
             fields_of(CreditApplicationForm), CREDIT_VALUES),
    FormCase("sales.credit_transition", R.SALES_REP, "/sales/credit/{draft_id}/transition",
             fields_of(TransitionForm), {"event": ("submit", *EVENTS), **TRANSITION_VALUES}),
    FormCase("sales.credit_transition", R.SALES_MANAGER,
             "/sales/credit/{submitted_id}/transition", fields_of(TransitionForm),
             {"event": ("forward", *EVENTS), **TRANSITION_VALUES}),
    FormCase("sales.credit_transition", R.GENERAL_MANAGER,
             "/sales/credit/{received_id}/transition", fields_of(TransitionForm),
             {"event": ("approve", *EVENTS), **TRANSITION_VALUES}),
    FormCase("sales.credit_review", R.SALES_MANAGER, "/sales/credit/review",
             tuple(f"{kind}-{{review_{n}}}" for n in range(3)
                   for kind in ("include", "grade", "limit")),
             {**{f"include-{{review_{n}}}": ("1",) for n in range(3)},
              **{f"grade-{{review_{n}}}": ("1", "2", "3") for n in range(3)},
              **{f"limit-{{review_{n}}}": MONEY for n in range(3)}}),
    FormCase("sales.order_new", R.SALES_REP, "/sales/customers/{customer_id}/orders/new",
             fields_of(OrderForm), {"number": ("SO-2", "SO-1"), "ordered_on": DATES,
                                    "amount": MONEY}),
    FormCase("management.credit_decide", R.GENERAL_MANAGER,
             "/management/credit/{received_id}/decide", fields_of(TransitionForm),
             {"event": ("approve", "reject", "return_for_revision"), **TRANSITION_VALUES}),
    # A ticked id that names no application the GM may see is a 404 (no existence leak).
    FormCase("management.credit_bulk", R.GENERAL_MANAGER, "/management/credit/bulk", ("ids",),
             {"ids": (Fill("{received_id}:1"), Fill("{received_id}:2"), Fill("{draft_id}:1"),
                      "1:1:1", ":")}, also=(404,)),
    FormCase("finance.order_release", R.FINANCE, "/finance/orders/{order_id}/release",
             fields_of(ReleaseForm), {"force": ("y",), "reason": ("急需发货",)}),
    FormCase("finance.order_release", R.GENERAL_MANAGER, "/finance/orders/{order_id}/release",
             fields_of(ReleaseForm), {"force": ("y",), "reason": ("急需发货",)}),
]

CASE_EVENTS = tuple(ComplaintFlow.PERMISSIONS)
INTAKE_VALUES = {
    "kind": tuple(KIND_LABELS), "channel": tuple(CHANNEL_LABELS),
    "received_at": MOMENTS[2:] + MOMENTS[:2], "customer_id": (Fill("{customer_id}"), "", "0"),
    "complainant_name": ("李先生",), "complainant_phone": ("13900000000",),
    "severity": tuple(SEVERITY_LABELS), "department_id": ("0", *IDS), "subject_ids": IDS,
    "description": ("送货延误",), "first_answer": ("", "已当场答复"), "plan": ("今日回电",),
    "promised_on": (Fill("{promise_date}"), *DATES), "handler_id": ("0", *IDS)}
CASE_STEP_VALUES = {"version": VERSIONS, "comment": ("处理意见",), "handler_id": ("0", *IDS),
                    "leader_id": ("0", *IDS), "meeting_on": DATES, "attendee_ids": IDS,
                    "authorities_notified": ("y",)}
FORMS += [
    FormCase("sales.reclaim_rule", R.SALES_MANAGER, "/sales/reclaim-rules/1",
             ("days", "tiers", "department_id", "pool_id", "warn_days", "enabled"),
             {"days": ("60", "0", "3651", "365"), "tiers": ("vip", "key", "x"),
              "department_id": ("0", *IDS), "pool_id": ("1", *IDS),
              "warn_days": ("7 1", "x", "400", ""), "enabled": ("y",)}),
    FormCase("service.case_new", R.SERVICE_DESK, "/service/cases/new", fields_of(IntakeForm),
             INTAKE_VALUES, files=("file",)),
    FormCase("service.case_transition", R.SERVICE_DESK,
             "/service/cases/{case_registered_id}/transition", fields_of(CaseTransitionForm),
             {"event": ("assign", *CASE_EVENTS), **CASE_STEP_VALUES}),
    FormCase("service.case_transition", R.COMPLAINT_HANDLER,
             "/service/cases/{case_open_id}/transition", fields_of(CaseTransitionForm),
             {"event": ("give_opinion", "pause", *CASE_EVENTS), **CASE_STEP_VALUES}),
    FormCase("service.case_transition", R.SALES_MANAGER,
             "/service/cases/{case_decided_id}/transition", fields_of(CaseTransitionForm),
             {"event": ("decide", "escalate", *CASE_EVENTS), **CASE_STEP_VALUES}),
    FormCase("service.case_contact_add", R.COMPLAINT_HANDLER,
             "/service/cases/{case_open_id}/contacts", fields_of(ContactLogForm),
             {"kind": tuple(CONTACT_LABELS), "note": ("已告知处理安排",),
              "promised_on": (Fill("{promise_date}"), *DATES)}),
    FormCase("service.case_action_add", R.COMPLAINT_HANDLER,
             "/service/cases/{case_decided_id}/actions", fields_of(CorrectiveActionForm),
             {"what": ("加强质检",), "owner_id": IDS, "due_on": DATES}),
    FormCase("service.case_action_verify", R.SERVICE_DESK,
             "/service/cases/{case_decided_id}/actions/{case_action_id}/verify", ()),
    FormCase("service.case_attachment_add", R.SERVICE_DESK,
             "/service/cases/{case_open_id}/attachments", (), files=("file",)),
]

REQUEST_EVENTS = ("confirm", "decline", "approve", "reject", "withdraw", "start", "x")
REQUEST_VALUES = {"version": VERSIONS, "comment": ("同意", "")}
FORMS += [
    FormCase("sales.transfer_new", R.SALES_REP, "/sales/customers/{customer_id}/transfer",
             ("to_user_id", "reason"), {"to_user_id": ("0", *IDS), "reason": ("就近服务",)}),
    FormCase("sales.transfer_take_over", R.SALES_REP, "/sales/transfers/take-over",
             ("q", "reason"), {"q": ("上海测试机械有限公司", "13800000000", "%"),
                               "reason": ("客户点名",)}),
    FormCase("sales.pool_claim", R.SALES_REP, "/sales/pool/{pool_customer_id}/claim",
             ("reason",), {"reason": ("有意向",)}),
    FormCase("sales.resource_request_transition", "rep_b",
             "/sales/requests/{transfer_id}/transition", fields_of(TransitionForm),
             {"event": REQUEST_EVENTS, **REQUEST_VALUES}),
    FormCase("sales.resource_request_transition", R.SALES_MANAGER,
             "/sales/requests/{transfer_confirmed_id}/transition", fields_of(TransitionForm),
             {"event": REQUEST_EVENTS, **REQUEST_VALUES}),
    FormCase("sales.resource_request_transition", R.SALES_MANAGER,
             "/sales/requests/{claim_id}/transition", fields_of(TransitionForm),
             {"event": REQUEST_EVENTS, **REQUEST_VALUES}),
    FormCase("sales.customer_reassign", R.SALES_MANAGER,
             "/sales/customers/{customer_id}/reassign", ("to_user_id", "reason"),
             {"to_user_id": ("0", *IDS), "reason": ("客户关系受损",)}),
    FormCase("sales.handover", R.SALES_MANAGER, "/sales/handover",
             ("from_user_id", "to_user_id", "reason"),
             {"from_user_id": ("0", *IDS), "to_user_id": ("0", *IDS), "reason": ("离职",)}),
]

# Rules C2, C4: lead intake, re-classification and conflict claims.
REQUEST_STEP_VALUES = {"version": VERSIONS, "comment": ("意见",)}
FORMS += [
    FormCase("service.lead_new", R.SERVICE_DESK, "/service/leads/new", fields_of(LeadForm), {
        "name": ("常州新资源有限公司", "上海测试机械有限公司"), "deal_value": MONEY,
        "deal_class": ("", "A", "D", "E"), "contact_phone": ("13800000000", "12"),
        "credit_code": ("91310000MA1FL8TQ3X", "x")}),
    FormCase("sales.reclassification_new", R.SALES_REP,
             "/sales/customers/{classified_id}/reclassification", fields_of(ReclassificationForm),
             {"proposed_class": ("A", "B", "E"), "reason": ("年采购额超百万",)}),
    FormCase("sales.reclassification_transition", R.SALES_MANAGER,
             "/sales/reclassifications/{reclassification_id}/transition",
             fields_of(RequestTransitionForm),
             {"event": ("approve", "reject", "withdraw", "keep"), **REQUEST_STEP_VALUES}),
    FormCase("sales.conflict_new", R.SALES_REP, "/sales/conflicts/new",
             fields_of(ConflictClaimForm), {"name": ("上海测试机械有限公司", "广州外部门有限公司"),
                                            "contact_phone": ("13800000000",),
                                            "reason": ("去年已跟进",)}),
    FormCase("sales.conflict_transition", R.SALES_MANAGER,
             "/sales/conflicts/{conflict_id}/transition", fields_of(RequestTransitionForm),
             {"event": ("keep", "transfer", "share", "withdraw", "approve"),
              **REQUEST_STEP_VALUES}),
]
FORMS += [  # rules R7, R8, R9
    FormCase("sales.allocate", R.SALES_MANAGER, "/sales/allocation/{lead_id}",
             ("rep_id", "note"), {"rep_id": (Fill("{user_id}"), Fill("{rep_id}"), *IDS),
                                  "note": ("首次分配",)}),
    FormCase("sales.rep_profile", R.SALES_MANAGER, "/sales/reps/{rep_id}/profile",
             ("experience", "away"), {"experience": ("senior", "intermediate", "new", "x"),
                                      "away": ("y",)}),
    FormCase("sales.penalty_add", R.SALES_MANAGER, "/sales/reps/{rep_id}/penalties",
             ("reason",), {"reason": ("违规私下交换客户", "x")}),
    # A lifted penalty answers 409 when lifted again.
    FormCase("sales.penalty_lift", R.SALES_MANAGER,
             "/sales/reps/{rep_id}/penalties/{penalty_id}/lift", ("reason",),
             {"reason": ("申诉成立", "")}),
]
FORMS += [  # rule C7: sealing a closed year, access requests to sealed files
    FormCase("archive.seals", R.ARCHIVIST, "/archive/seals", fields_of(SealForm), {
        "year": (Fill("{open_year}"), Fill("{sealed_year}"), "2026", "2099", "1900", "x"),
        "note": ("年度归档",), "confirm": ("1", "", "2")}),
    FormCase("archive.access_new", R.ARCHIVIST, "/archive/access/new",
             fields_of(AccessRequestForm), {
                 "customer": (Fill("{customer_id}"), "上海测试机械有限公司", "0", *IDS),
                 "year": (Fill("{sealed_year}"), Fill("{open_year}"), "0", "x"),
                 "days": ("5", "0", "31", "365", *IDS), "reason": ("审计调阅",)}),
    FormCase("archive.access_new", R.GENERAL_MANAGER, "/archive/access/new",
             fields_of(AccessRequestForm), {
                 "customer": (Fill("{customer_id}"),), "year": (Fill("{sealed_year}"),),
                 "days": ("30", "1"), "reason": ("经营分析",)}),
    FormCase("archive.access_transition", R.GENERAL_MANAGER,
             "/archive/access/{access_id}/transition", fields_of(AccessTransitionForm),
             {"event": ("approve", "reject", "withdraw", "expire", "x"),
              **REQUEST_STEP_VALUES}),
    FormCase("archive.access_transition", R.ARCHIVIST,
             "/archive/access/{access_id}/transition", fields_of(AccessTransitionForm),
             {"event": ("withdraw", "approve"), **REQUEST_STEP_VALUES}),
    FormCase("archive.verify_document", R.SALES_REP, "/archive/verify", (), files=("file",)),
]

FORMS += [  # issue 11: batch export of archive records (queued after the commit)
    FormCase("archive.export_new", R.ARCHIVIST, "/archive/exports/new", fields_of(ExportForm),
             {"start": ("2026-11-01", *DATES), "end": ("2026-11-20", *DATES),
              "types": ("credit_application", "service_case", "x"),
              "department_id": ("0", *IDS)}),
]

# POST routes of the matrix that are not fuzzed, each with its reason.
EXEMPT = {
    "auth.logout": "takes no input but the CSRF token (tested in test_web_security).",
}


def filled_fields(case: FormCase, ids: dict) -> list[str]:
    return [name.format(**ids) for name in case.fields]


WORDS = st.text(alphabet="上海测试贸易有限公司 abcxyz0123456789", min_size=2, max_size=16)


def bodies(case: FormCase):
    """(fields, extras, files, htmx). Fields either all random (each absent, once or
    repeated), or near-valid: every field plausible but one, which gets an odd value, so the
    odd value reaches the code behind the validation it would otherwise fail first; or all
    plausible (with odd extra keys)."""
    def field_values(name):
        values = value_strategy(case.plausible.get(name, ()))
        return st.one_of(st.just([]), st.lists(values, min_size=1, max_size=1),
                         st.lists(values, min_size=2, max_size=3))

    def plausible(name):
        values = case.plausible.get(name)
        return st.just(as_text(values[0])) if values else WORDS

    def near_valid(odd):
        return st.fixed_dictionaries({
            name: (value_strategy() if name == odd else plausible(name)).map(lambda v: [v])
            for name in case.fields})

    fields = st.fixed_dictionaries({name: field_values(name) for name in case.fields})
    if case.fields:
        fields = st.one_of(fields, st.sampled_from(case.fields).flatmap(near_valid),
                           near_valid(None))  # all valid: the odd part is in the extras
    extras = st.lists(st.tuples(st.one_of(st.sampled_from(MASS_ASSIGNMENT), TEXT),
                                value_strategy()), max_size=3)
    files = st.lists(st.tuples(st.sampled_from(case.files), file_contents(), file_names()),
                     max_size=2) if case.files else st.just([])
    return st.tuples(fields, extras, files, st.booleans())


def file_names():
    return st.one_of(TEXT, st.sampled_from(("客户.csv", "tx.xlsx", "scan.pdf", "a.png", "",
                                            "..\\..\\x.csv", "\u202etxt.csv", "x.CSV")))


def file_contents():
    csv_row = st.lists(value_strategy(), min_size=1, max_size=8).map(",".join)
    csv_file = st.tuples(st.sampled_from(("公司名称,统一社会信用代码,地区,联系电话,负责人",
                                          "类型,客户,日期,金额,单号,备注", "")),
                         st.lists(csv_row, max_size=3)).map(
        lambda parts: "\n".join([parts[0], *parts[1]]).encode("utf-8"))
    return st.one_of(st.binary(max_size=300), csv_file,
                     st.sampled_from((b"", b"%PDF-1.4\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff",
                                      b"PK\x03\x04broken", "回款,x".encode("gbk"))),
                     st.binary(max_size=200).map(lambda b: b"%PDF-1.4\n" + b))


def assert_handled(response, case: FormCase, *inputs):
    """A clear answer: the page (maybe with field errors), a redirect, a conflict (409), a
    refusal (422), or 400 for NUL bytes; never a 500."""
    allowed = {200, 302, 409, 422, *case.also}
    if contains_nul(*inputs):
        allowed.add(400)
    assert response.status_code in allowed, (case.name, response.status_code, inputs)


def send(world, case: FormCase, fields: dict, extras=(), files=(), htmx=False):
    ids = world.ids
    pairs = [(name.format(**ids), fill(value, ids)) for name, values in fields.items()
             for value in values]
    pairs += [(key, value) for key, value in extras]
    response = world.post(case.role, case.url.format(**ids), pairs, files, htmx)
    inputs = [v for pair in pairs for v in pair] + [f[2] for f in files]
    assert_handled(response, case, *inputs)
    return response


@pytest.mark.parametrize("case", FORMS, ids=lambda case: case.name)
@settings(max_examples=examples(15), deadline=None)
@given(data=st.data())
def test_18_fuzzed_form_never_gives_500(fresh_world, case, data):
    fields, extras, files, htmx = data.draw(bodies(case))
    with fresh_world() as world:
        send(world, case, fields, extras, files, htmx)


@pytest.mark.parametrize("case", FORMS, ids=lambda case: case.name)
def test_19a_odd_values_in_every_field_are_answered(fresh_world, case):
    """One value of each class (sNaN, Infinity, 1e999999, -0, 2**64+1, -2**70, bidi) in
    every field of the form at once; files named and filled with it."""
    for value in SWEEP:
        with fresh_world() as world:
            files = [(name, value.encode(), value) for name in case.files]
            send(world, case, {name: [value] for name in case.fields}, files=files)


def test_18_every_post_route_is_fuzzed_or_exempt():
    posts = {endpoint for endpoint, methods in MATRIX.items() if "POST" in methods}
    fuzzed = {case.endpoint for case in FORMS}
    assert posts - fuzzed - set(EXEMPT) == set(), "add the route to FORMS (or EXEMPT, why)"
    assert (fuzzed | set(EXEMPT)) - posts == set(), "stale entries"
    assert fuzzed & set(EXEMPT) == set()


def test_19a_every_form_inherits_the_shared_base_and_no_form_parses_money_itself(app):
    """Bidirectional controls are stripped by core.forms.Form; amounts are core.money's
    AmountField (no DecimalField: sNaN made its range check raise)."""
    from flask_wtf import FlaskForm

    from intranet.core.forms import Form

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    forms = {cls for cls in subclasses(FlaskForm) if cls.__module__.startswith("intranet.")}
    assert len(forms) > 15
    assert {cls.__name__ for cls in forms if not issubclass(cls, Form)} == set()
    numeric = (DecimalField, DecimalRangeField, FloatField, IntegerField)
    assert {f"{cls.__name__}.{name}" for cls in forms for name in fields_of(cls)
            if issubclass(getattr(cls, name).field_class, numeric)} == set()
