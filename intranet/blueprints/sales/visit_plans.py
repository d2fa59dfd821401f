"""Visit plans (issue 14 §4): a rep plans a month's visits day by day; the manager sees the
department's plans against the visit obligations (rule V2) and which customers owed a visit
by the month's end have none planned. Scoped by C6."""
from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, or_, select
from wtforms import DateField, SelectField, StringField
from wtforms.validators import ValidationError

from intranet.blueprints.sales import bp
from intranet.blueprints.sales.customers import _owner_choices
from intranet.core import audit, settings
from intranet.core.access import customer_id_scope, customer_scope, scoped_customer_or_404
from intranet.core.forms import REQUIRED, ConfirmForm, Form, length
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.pagination import capped_count, count_label
from intranet.core.querystring import int_arg
from intranet.customers import ledger
from intranet.extensions import db
from intranet.models import Activity, Customer, VisitPlan
from intranet.models.user import user_name
from intranet.visits import cadence

UNCOVERED_SHOWN = 50
PICKER_LIMIT = 1000


def _customer_id(value):
    return int(value) if value not in (None, "") and str(value).isdigit() else None


class PlanForm(Form):
    customer_id = SelectField(_l("Customer"), coerce=_customer_id, validate_choice=False)
    planned_on = DateField(_l("Day"), validators=[REQUIRED])
    note = StringField(_l("Note"), validators=[length(200)])

    def validate_customer_id(self, field):
        if field.data is None or field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose one of your customers."))


def month_of(text: str | None, today: date) -> date:
    """The first of the ?month=2026-12 asked for, else of next month (the month reps plan)."""
    try:
        year, number = (int(part) for part in (text or "").split("-"))
        if 2000 <= year <= 2100:
            return date(year, number, 1)
    except ValueError:
        pass
    return cadence.shift(today.replace(day=1), 1, 1)


def _picker(user) -> list:
    """The customers the user may plan: their own (a rep) or their department's (a head)."""
    return db.session.execute(
        select(Customer.id, Customer.name).where(customer_scope(user, "edit"))
        .order_by(Customer.name_pinyin, Customer.id).limit(PICKER_LIMIT)).all()


def _uncovered(scope, first: date, end: date):
    """Customers owed a visit by the month's end with none planned in the month."""
    owed = or_(*[cadence.due_before(o, end + timedelta(days=1)) for o in cadence.OBLIGATIONS])
    planned = select(VisitPlan.id).where(
        VisitPlan.customer_id == Customer.id, VisitPlan.planned_on >= first,
        VisitPlan.planned_on <= end).exists()
    return and_(scope, owed, ~planned)


def _visited(plans, end: date) -> dict[int, date]:
    """{plan id: the day the customer was contacted}: on the planned day or later in the
    month, by anyone (a plan is kept when the customer is visited, not who went)."""
    if not plans:
        return {}
    contacts: dict[int, list[date]] = {}
    zone = settings.tz()
    for customer_id, at in db.session.execute(
            select(Activity.customer_id, Activity.occurred_at).where(
                Activity.customer_id.in_({p.customer_id for p in plans}),
                Activity.occurred_at >= cadence.local_midnight_utc(min(
                    p.planned_on for p in plans)),
                Activity.occurred_at < cadence.local_midnight_utc(end + timedelta(days=1)))):
        contacts.setdefault(customer_id, []).append(at.astimezone(zone).date()
                                                    if at.tzinfo else at.date())
    found = {}
    for plan in plans:
        days = [d for d in contacts.get(plan.customer_id, ()) if d >= plan.planned_on]
        if days:
            found[plan.id] = min(days)
    return found


@bp.route("/visit-plans", methods=["GET", "POST"])
def visit_plans():
    user = current_user._get_current_object()
    today = ledger.today()
    first = month_of(request.values.get("month"), today)
    end = cadence.period_end(first, 1)
    asked = int_arg("customer")  # 计划 from the list of customers owed a visit
    form = PlanForm(planned_on=max(first, today) if request.method == "GET" else None,
                    customer_id=asked)
    form.customer_id.choices = [("", _("Choose a customer"))] + [
        (cid, name) for cid, name in _picker(user)]
    if form.validate_on_submit():
        if not first <= form.planned_on.data <= end:
            form.planned_on.errors.append(_("Choose a day of %(month)s.",
                                            month=f"{first:%Y-%m}"))
        elif form.planned_on.data < today:
            form.planned_on.errors.append(_("A plan is for today or later."))
        else:
            customer = scoped_customer_or_404(form.customer_id.data, "edit")
            exists = db.session.scalar(select(VisitPlan.id).where(
                VisitPlan.user_id == user.id, VisitPlan.customer_id == customer.id,
                VisitPlan.planned_on == form.planned_on.data))
            if exists:
                flash(_("This visit is already planned."), "info")
            else:
                plan = VisitPlan(user_id=user.id, customer_id=customer.id,
                                 planned_on=form.planned_on.data,
                                 note=(form.note.data or "").strip())
                db.session.add(plan)
                db.session.flush()
                audit.record(audit.Action.CREATE, "visit_plan", plan.id, details={
                    "customer": customer.id, "on": plan.planned_on.isoformat()})
                flash(_("Visit planned."), "success")
            return redirect(url_for("sales.visit_plans", month=f"{first:%Y-%m}"))
    scope = customer_scope(user)
    owner = int_arg("owner")  # a head's view of one rep: their plans and their customers
    plans = db.session.execute(
        select(VisitPlan.id, VisitPlan.planned_on, VisitPlan.note, VisitPlan.user_id,
               VisitPlan.customer_id, Customer.name, user_name(VisitPlan.user_id).label("who"))
        .join(Customer, Customer.id == VisitPlan.customer_id)
        .where(customer_id_scope(VisitPlan.customer_id, user), VisitPlan.planned_on >= first,
               VisitPlan.planned_on <= end,
               *([VisitPlan.user_id == owner] if owner else []))
        .order_by(VisitPlan.planned_on, Customer.name_pinyin, VisitPlan.id)).all()
    uncovered = _uncovered(and_(scope, Customer.owner_id == owner) if owner else scope,
                           first, end)
    count, more = capped_count(select(Customer.id).where(uncovered))
    missing = db.session.execute(
        select(Customer.id, Customer.name, user_name(Customer.owner_id).label("owner"))
        .where(uncovered).order_by(Customer.name_pinyin, Customer.id)
        .limit(UNCOVERED_SHOWN)).all()
    audit.record(audit.Action.VIEW, "customer_list", "", details={
        "list": "visit_plans", "month": f"{first:%Y-%m}",
        "rows": sorted({p.customer_id for p in plans} | {m.id for m in missing})})
    return render_template(
        "sales/visit_plans.html", form=form, plans=plans, first=first, end=end, today=today,
        done=_visited(plans, end), owners=_owner_choices(),
        missing=missing, uncovered=count_label(count, more), confirm=ConfirmForm(),
        asked=asked, uncovered_total=count,
        plannable={value for value, _label in form.customer_id.choices if value},
        previous=f"{cadence.shift(first, -1, 1):%Y-%m}",
        following=f"{cadence.shift(first, 1, 1):%Y-%m}"), 422 if form.errors else 200


@bp.route("/visit-plans/<int:plan_id>/delete", methods=["POST"])
def visit_plan_delete(plan_id: int):
    plan = db.session.get(VisitPlan, plan_id)
    if plan is None or plan.user_id != current_user.id:
        abort(404)  # only one's own plans
    month = f"{plan.planned_on:%Y-%m}"
    if ConfirmForm().validate_on_submit():
        audit.record(audit.Action.DELETE, "visit_plan", plan.id, details={
            "customer": plan.customer_id, "on": plan.planned_on.isoformat()})
        db.session.delete(plan)
        flash(_("Planned visit removed."), "success")
    return redirect(url_for("sales.visit_plans", month=month))


