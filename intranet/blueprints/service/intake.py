"""Lead intake at the service desk (rule C4): a new lead with its expected deal value goes into
the shared pool with the deal-size class computed from the value (the desk may set another);
the director allocates it later. Duplicates are refused as at registration (rule C2); an agent
paused for wrong classifications registers nothing until the pause ends."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.validators import ValidationError

from intranet.blueprints.sales.forms import CREDIT_CODE_MESSAGES
from intranet.blueprints.service import bp
from intranet.core import audit
from intranet.core.forms import INPUT_REQUIRED, REQUIRED, Form, length, options
from intranet.core.home import Widget, home_widget
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.money import AmountField
from intranet.core.pagination import paginate
from intranet.core.roles import Role
from intranet.customers import credit_code
from intranet.customers.names import phone_digits
from intranet.models import Customer
from intranet.resources import intake
from intranet.workflows.resource_states import DEAL_CLASSES


class LeadForm(Form):
    """Only these fields are read: owner, pool and department are never taken from a form."""

    name = StringField(_l("Company name"), validators=[REQUIRED, length(200, 2)])
    credit_code = StringField(_l("Unified social credit code"), validators=[length(30)])
    contact_name = StringField(_l("Contact person"), validators=[length(50)])
    contact_phone = StringField(_l("Contact phone"), validators=[length(30)])
    region = StringField(_l("Region"), validators=[length(100)])
    deal_value = AmountField(_l("Expected deal value (yuan)"), validators=[INPUT_REQUIRED])
    deal_class = SelectField(_l("Deal class"), default="", choices=lambda: options(
        [("", _l("By the expected value"))] + [(c, c) for c in DEAL_CLASSES]))

    def validate_credit_code(self, field):
        problem = credit_code.problem(field.data or "")
        if field.data and problem:
            raise ValidationError(CREDIT_CODE_MESSAGES[problem])

    def validate_contact_phone(self, field):
        if field.data and not 7 <= len(phone_digits(field.data)) <= 15:
            raise ValidationError(_l("Enter a phone number of 7 to 15 digits."))


def _user():
    return current_user._get_current_object()


@bp.route("/leads/new", methods=["GET", "POST"])
def lead_new():
    user = _user()
    form = LeadForm()
    paused = intake.paused_until(user)
    duplicate = None
    if request.method == "POST" and paused is None and form.validate_on_submit():
        lead = intake.Lead(
            name=form.name.data, credit_code=form.credit_code.data or None,
            contact_name=form.contact_name.data or "", contact_phone=form.contact_phone.data or "",
            region=form.region.data or "", deal_value=form.deal_value.data,
            deal_class=form.deal_class.data or None)
        try:
            customer = intake.register_lead(lead, user)
        except intake.Duplicate as found:
            duplicate = {"customer": found.customer, "reason": found.reason}
        else:
            flash(_("Lead registered in the shared pool as class %(cls)s.",
                    cls=customer.deal_class), "success")
            return redirect(url_for("service.leads"))
    status = 200
    if request.method == "POST":
        status = 409 if paused is not None or duplicate else (422 if form.errors else 200)
    return render_template("service/lead_new.html", form=form, paused=paused,
                           duplicate=duplicate, thresholds=intake.thresholds()), status


@bp.route("/leads")
def leads():
    """The leads this agent registered, newest first (the minimum the desk needs, rule C6)."""
    user = _user()
    page = paginate(intake.leads_of(user.id).order_by(Customer.created_at.desc(),
                                                      Customer.id.desc()))
    audit.record(audit.Action.VIEW, "lead_list", "", details={
        "page": page.page, "rows": [c.id for c in page.items]})
    return render_template("service/leads.html", page=page, paused=intake.paused_until(user),
                           marks=intake.marks_this_month(user.id))


@home_widget(Role.SERVICE_DESK)
def lead_intake(user):
    """Rule C4: the desk sees at once whether it is paused from intake."""
    until = intake.paused_until(user)
    if until is not None:
        return Widget(_l("Lead intake paused until %(until)s",
                         until=format_datetime(until, "yyyy-MM-dd HH:mm")), None,
                      [(str(_l("Too many wrong classifications this month.")),
                        url_for("service.leads"))], url_for("service.leads"))
    marks = intake.marks_this_month(user.id)
    items = [(str(_l("%(n)s wrong classifications this month", n=marks)),
              url_for("service.leads"))] if marks else []
    return Widget(_l("Lead intake"), None, items, url_for("service.lead_new"),
                  _l("Register new leads with their expected deal value."))
