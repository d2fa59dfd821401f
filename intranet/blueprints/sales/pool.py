"""The reclaim rules a sales manager previews and switches on (rules R2, R5, R6), and the
customers due to return to the pool soon, in the manager's scope."""
from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import ValidationError

from intranet.blueprints.sales import bp
from intranet.core import audit, clock
from intranet.core.access import customer_scope
from intranet.core.forms import CheckboxesField, Form, length, options
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.pagination import paginate
from intranet.core.querystring import parse_int
from intranet.customers.labels import TIER_LABELS
from intranet.extensions import db
from intranet.models import Customer, CustomerPool, Department, ReclaimRule
from intranet.resources import reclaim

SOON_DAYS = 14


class ReclaimRuleForm(Form):
    days = StringField(_l("Days"), validators=[length(6)])
    tiers = CheckboxesField(_l("Tiers (none ticked: all)"),
                            choices=lambda: options(TIER_LABELS.items()))
    department_id = SelectField(_l("Department"), coerce=int, default=0)
    pool_id = SelectField(_l("Returns to the pool"), coerce=int)
    warn_days = StringField(_l("Warn the owner this many days before (e.g. 7 1)"),
                            validators=[length(30)])
    enabled = BooleanField(_l("Switched on"))

    def fill_choices(self):
        self.department_id.choices = [(0, _("All departments"))] + [
            (d.id, d.name_zh) for d in db.session.scalars(select(Department)
                                                           .order_by(Department.code))]
        self.pool_id.choices = [(p.id, p.name) for p in db.session.scalars(
            select(CustomerPool).order_by(CustomerPool.id))]
        return self

    def validate_days(self, field):
        field.data = parse_int(field.data, minimum=1, maximum=3650)
        if field.data is None:
            raise ValidationError(_l("Enter a number of days from 1 to 3650."))

    def validate_warn_days(self, field):
        parts = (field.data or "").split()
        if not all(p.isdigit() and 0 < int(p) <= 365 for p in parts):
            raise ValidationError(_l("List whole days from 1 to 365, separated by spaces."))


def _rule_or_404(rule_id: int) -> ReclaimRule:
    from flask import abort

    reclaim.ensure_defaults()
    return db.session.get(ReclaimRule, rule_id) or abort(404)


@bp.route("/reclaim-rules")
def reclaim_rules():
    reclaim.ensure_defaults()
    rules = db.session.scalars(select(ReclaimRule).order_by(ReclaimRule.id)).all()
    counts = {rule.id: reclaim.preview(rule, limit=0)[0] for rule in rules}
    audit.record(audit.Action.VIEW, "reclaim_rule", "", details={"rules": list(counts)})
    return render_template("sales/reclaim_rules.html", rules=rules, counts=counts,
                           tiers=TIER_LABELS)


@bp.route("/reclaim-rules/<int:rule_id>", methods=["GET", "POST"])
def reclaim_rule(rule_id: int):
    """Rule R2: before a rule is switched on, the page shows how many and which customers it
    would reclaim now; saving it on asks for that preview to have been seen."""
    rule = _rule_or_404(rule_id)
    posted = request.method == "POST"
    form = ReclaimRuleForm(obj=None if posted else rule).fill_choices()
    if not posted:
        form.tiers.data = rule.tier_list
        form.department_id.data = rule.department_id or 0
    if form.validate_on_submit():
        before = {"days": rule.days, "tiers": rule.tiers, "enabled": rule.enabled,
                  "department_id": rule.department_id, "pool_id": rule.pool_id}
        rule.days, rule.tiers = form.days.data, ",".join(form.tiers.data or [])
        rule.department_id = form.department_id.data or None
        rule.pool_id, rule.enabled = form.pool_id.data, bool(form.enabled.data)
        rule.warn_days = " ".join((form.warn_days.data or "").split())
        rule.updated_at = clock.now()
        audit.record(audit.Action.UPDATE, "reclaim_rule", rule.id, details={
            "old": before, "new": {"days": rule.days, "tiers": rule.tiers,
                                   "enabled": rule.enabled,
                                   "department_id": rule.department_id,
                                   "pool_id": rule.pool_id}})
        flash(_("Rule saved."), "success")
        return redirect(url_for("sales.reclaim_rule", rule_id=rule.id))
    count, sample = reclaim.preview(rule)
    audit.record(audit.Action.VIEW, "reclaim_rule", rule.id, details={
        "preview": count, "rows": [c.id for c in sample]})
    return render_template("sales/reclaim_rule.html", rule=rule, form=form, count=count,
                           sample=sample), (422 if form.errors else 200)


@bp.route("/reclaim-due")
def reclaim_due():
    """The customers in the manager's scope that return to the pool within two weeks. The
    count reads the scope's reclaim index (models/customer.py); when it finds few, the page's
    rows are those the index gives, sorted, rather than a walk of every customer in scope by
    name looking for them (issue 12)."""
    soon = clock.now() + timedelta(days=SOON_DAYS)
    rules = reclaim.enabled_rules()
    returning = and_(customer_scope(current_user, "edit"),
                     or_(*[reclaim.due(rule, soon) for rule in rules]) if rules else false())
    order = (Customer.name_pinyin, Customer.id)
    found = select(Customer.id).where(returning)
    page = paginate(select(Customer).where(returning).options(selectinload(Customer.owner))
                    .order_by(*order),
                    few=select(Customer).where(Customer.id.in_(found))
                    .options(selectinload(Customer.owner)).order_by(*order))
    returns = reclaim.returns_on_many(page.items, rules)
    rows = [(c, returns[c.id]) for c in page.items]
    audit.record(audit.Action.VIEW, "customer_list", "", details={
        "list": "reclaim_due", "page": page.page, "rows": [c.id for c in page.items]})
    return render_template("sales/reclaim_due.html", page=page, rows=rows, days=SOON_DAYS,
                           rules=rules)
