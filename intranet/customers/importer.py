"""Import customers (rules C1, C2) and transactions (rule C9) from XLSX or CSV.

Every row is checked first; if any row is wrong, nothing is written and the report says row,
column and what is wrong. Only a clean file is written, in one transaction.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from intranet.core.i18n import lazy_gettext as _l
from intranet.core.money import parse_amount
from intranet.core.spreadsheets import Report, table_rows
from intranet.customers import credit_code
from intranet.customers.dedupe import find_duplicate
from intranet.customers.names import normalise_name, phone_digits
from intranet.extensions import db
from intranet.models import Contact, Customer, Order, Payment, Shipment, User

# Accepted headings, Chinese or English, for each field.
CUSTOMER_COLUMNS = {
    "name": ("公司名称", "name", "company"), "credit_code": ("统一社会信用代码", "credit_code"),
    "region": ("地区", "region"), "industry": ("行业", "industry"),
    "address": ("地址", "address"), "contact_name": ("联系人", "contact_name", "contact"),
    "contact_phone": ("联系电话", "contact_phone", "phone"), "owner": ("负责人", "owner"),
}
TRANSACTION_COLUMNS = {
    "kind": ("类型", "kind", "type"), "customer": ("客户", "customer"),
    "date": ("日期", "date"), "amount": ("金额", "amount"), "number": ("单号", "number"),
    "reference": ("备注", "reference"),
}
KINDS = {"订单": "order", "order": "order", "发货": "shipment", "shipment": "shipment",
         "回款": "payment", "payment": "payment"}


def import_customers(table, importer: User, may_assign: bool, report: Report) -> list[Customer]:
    """Check every row (C1 code, C2 duplicates in the file and in the archive); return the
    new customers, unsaved, only if no row has an error."""
    created, seen_names, seen_codes, seen_phones = [], {}, {}, {}
    owners = {u.username: u for u in db.session.scalars(
        select(User).where(User.department_id == importer.department_id))}
    for number, row in table_rows(table, CUSTOMER_COLUMNS, report):
        report.rows += 1
        name, code = row.get("name", ""), credit_code.normalise(row.get("credit_code", ""))
        phone = row.get("contact_phone", "")
        if not 2 <= len(name) <= 200:
            report.add(number, "公司名称", _l("Enter between %(min)d and %(max)d characters.",
                                            min=2, max=200))
            continue
        problem = credit_code.problem(code) if code else None
        if problem:
            report.add(number, "统一社会信用代码", _l("Not a valid unified social credit code."))
        if phone and not 7 <= len(phone_digits(phone)) <= 15:
            report.add(number, "联系电话", _l("Enter a phone number of 7 to 15 digits."))
        owner = importer
        if row.get("owner"):
            owner = owners.get(row["owner"].lower()) if may_assign else None
            if owner is None:
                report.add(number, "负责人", _l("Unknown user in your department, or you may "
                                             "not assign owners."))
                continue
        for key, value, seen in (("公司名称", normalise_name(name), seen_names),
                                 ("统一社会信用代码", code, seen_codes),
                                 ("联系电话", phone_digits(phone), seen_phones)):
            if value and value in seen:
                report.add(number, key, _l("Same customer as row %(row)s.", row=seen[value]))
            elif value:
                seen[value] = number
        found = find_duplicate(name, code or None, [phone] if phone else [])
        if found:
            report.add(number, "公司名称", _l("Already registered: %(name)s (owner: %(owner)s).",
                                          name=found[0].name, owner=found[0].owner.display_name
                                          if found[0].owner else "—"))
            continue
        customer = Customer(name=name, credit_code=code or None, region=row.get("region", ""),
                            industry=row.get("industry", ""), address=row.get("address", ""),
                            owner_id=owner.id, department_id=owner.department_id,
                            created_by_id=importer.id)
        if row.get("contact_name") or phone:
            customer.contacts.append(Contact(name=row.get("contact_name", ""), phone=phone))
        created.append(customer)
    return [] if report.errors else created


def import_transactions(table, report: Report) -> list:
    """Orders, shipments and payments matched to customers by credit code or exact name."""
    records = []
    parsed = list(table_rows(table, TRANSACTION_COLUMNS, report))
    keys = {row.get("customer", "") for _, row in parsed}
    by_code = {c.credit_code: c for c in db.session.scalars(
        select(Customer).where(Customer.credit_code.in_(
            [credit_code.normalise(k) for k in keys])))}
    by_name = {c.normalized_name: c for c in db.session.scalars(
        select(Customer).where(Customer.normalized_name.in_(
            [normalise_name(k) for k in keys])))}
    numbers = set()
    for number, row in parsed:
        report.rows += 1
        kind = KINDS.get(row.get("kind", "").strip().lower())
        if kind is None:
            report.add(number, "类型", _l("Use 订单, 发货 or 回款 (order, shipment, payment)."))
        key = row.get("customer", "")
        customer = by_code.get(credit_code.normalise(key)) or by_name.get(normalise_name(key))
        if customer is None:
            report.add(number, "客户", _l("No customer with this credit code or name."))
        try:
            on = date.fromisoformat(row.get("date", "").replace("/", "-")[:10])
        except ValueError:
            on = None
            report.add(number, "日期", _l("Dates must look like 2026-01-31."))
        amount = parse_amount(row.get("amount", ""), exact=True) or None  # 0 is no amount
        if amount is None:
            report.add(number, "金额", _l("Enter a positive amount in yuan, at most two "
                                        "decimals."))
        order_number = row.get("number", "")
        if kind == "order":
            if not order_number or order_number in numbers:
                report.add(number, "单号", _l("Each order needs its own number."))
            numbers.add(order_number)
        if report.errors or customer is None or kind is None or on is None or amount is None:
            continue
        if kind == "order":
            records.append(Order(customer_id=customer.id, number=order_number, ordered_on=on,
                                 amount=amount, status="open"))
        elif kind == "shipment":
            records.append(Shipment(customer_id=customer.id, shipped_on=on, amount=amount))
        else:
            records.append(Payment(customer_id=customer.id, received_on=on, amount=amount,
                                   reference=row.get("reference", "")[:60]))
    if numbers and not report.errors:
        taken = set(db.session.scalars(select(Order.number).where(Order.number.in_(numbers))))
        for number, row in parsed:
            if row.get("number") in taken:
                report.add(number, "单号", _l("This order number already exists."))
    return [] if report.errors else records
