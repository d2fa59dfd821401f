from datetime import timedelta

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    DateTimeLocalField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, Optional, ValidationError

from intranet.core.forms import INPUT_REQUIRED, REQUIRED, CheckboxesField, Form, length, options
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.money import AmountField
from intranet.core.querystring import parse_int
from intranet.credit import GRADE_LABELS
from intranet.customers import credit_code
from intranet.customers.labels import (
    ACTIVITY_LABELS,
    PAYMENT_LABELS,
    RELATIONSHIP_LABELS,
    SIZE_LABELS,
    SOURCE_LABELS,
    TIER_LABELS,
)
from intranet.customers.ledger import local_now
from intranet.customers.names import phone_digits
from intranet.visits import PURPOSE_LABELS, SATISFACTION_LABELS

CREDIT_CODE_MESSAGES = {
    "length": _l("A unified social credit code has 18 characters."),
    "characters": _l("Use digits and capital letters except I, O, S, V and Z."),
    "check_digit": _l("The check character (the 18th) does not match: please check the code."),
}


def _choices(labels):
    return lambda: options([("", "—")] + list(labels.items()))


class CustomerForm(Form):
    """The customer file (rule C1). Only these fields can be changed from a form: owner,
    department, tier and everything else posted alongside are ignored (SECURITY.md 4)."""

    name = StringField(_l("Company name"), validators=[REQUIRED, length(200, 2)])
    credit_code = StringField(_l("Unified social credit code"), validators=[Optional(),
                                                                            length(30)])
    legal_representative = StringField(_l("Legal representative"), validators=[length(50)])
    registered_capital = AmountField(_l("Registered capital (yuan)"), validators=[Optional()])
    business_scope = TextAreaField(_l("Business scope"), validators=[length(2000)])
    industry = StringField(_l("Industry"), validators=[length(50)])
    size = SelectField(_l("Company size"), default="", choices=_choices(SIZE_LABELS))
    region = StringField(_l("Region"), validators=[length(100)])
    address = StringField(_l("Address"), validators=[length(200)])
    website = StringField(_l("Website"), validators=[length(200)])
    payment_method = SelectField(_l("Payment method"), default="",
                                 choices=_choices(PAYMENT_LABELS))
    source_channel = SelectField(_l("Source channel"), default="",
                                 choices=_choices(SOURCE_LABELS))
    relation = SelectField(_l("Relationship"), default="prospect", choices=lambda: options(
        RELATIONSHIP_LABELS.items()))

    TEXT_FIELDS = ("name", "legal_representative", "business_scope", "industry", "size",
                   "region", "address", "website", "payment_method", "source_channel",
                   "relation")

    def validate_credit_code(self, field):
        problem = credit_code.problem(field.data or "")
        if field.data and problem:
            raise ValidationError(CREDIT_CODE_MESSAGES[problem])

    def validate_website(self, field):
        value = (field.data or "").strip().lower()
        if value and not value.startswith(("http://", "https://")) and ":" in value.split(
                "/")[0]:
            raise ValidationError(_l("Enter a web address such as www.example.cn."))


class AccessReasonForm(Form):
    reason = TextAreaField(_l("Why do you need this customer file?"), validators=[
        REQUIRED, length(500, 4)])


class TierOverrideForm(Form):
    """Rule C3: only a sales manager overrides the computed tier, and always says why."""

    tier = SelectField(_l("Tier"), default="", choices=lambda: options(
        [("", _l("As computed"))] + list(TIER_LABELS.items())))
    reason = StringField(_l("Reason"), validators=[REQUIRED, length(500, 2)])


class BlacklistForm(Form):
    """Rule C8: blacklisting (or lifting it) always states why."""

    reason = StringField(_l("Reason"), validators=[REQUIRED, length(500, 2)])


class NewCustomerForm(CustomerForm):
    """Registration (rules C1, C2): the owner is whoever registers first."""

    contact_name = StringField(_l("Contact person"), validators=[length(50)])
    contact_phone = StringField(_l("Contact phone"), validators=[length(30)])


class ContactForm(Form):
    name = StringField(_l("Name"), validators=[REQUIRED, length(50)])
    title = StringField(_l("Title"), validators=[length(50)])
    phone = StringField(_l("Phone"), validators=[length(30)])
    email = StringField(_l("E-mail"), validators=[Optional(), length(200), Email(
        message=_l("Enter a valid e-mail address."))])

    def validate_phone(self, field):
        digits = phone_digits(field.data or "")
        if field.data and not 7 <= len(digits) <= 15:
            raise ValidationError(_l("Enter a phone number of 7 to 15 digits."))


class ActivityForm(Form):
    """A visit or other contact (rules V1, V3): what the visit obligations (V2) and the
    two-month reclaim rule (R2) count. Who went besides the recorder: `participants`, chosen
    from the colleagues the page lists (fill_choices)."""

    kind = SelectField(_l("Visit channel"), choices=lambda: options(ACTIVITY_LABELS.items()))
    purpose = SelectField(_l("Purpose"), default="sales",
                          choices=lambda: options(PURPOSE_LABELS.items()))
    occurred_at = DateTimeLocalField(_l("When"), format="%Y-%m-%dT%H:%M", validators=[
        REQUIRED])
    participants = CheckboxesField(_l("Also went"), coerce=int, validate_choice=False)
    summary = TextAreaField(_l("What happened"), validators=[REQUIRED, length(2000, 2)])
    satisfaction = SelectField(_l("Customer satisfaction"), default="", choices=lambda: options(
        [("", "—")] + [(str(k), v) for k, v in SATISFACTION_LABELS.items()]))
    next_action_on = DateField(_l("Next follow-up on"), validators=[Optional()])

    def fill_choices(self, people, exclude: int) -> None:
        self.participants.choices = [(id_, name) for id_, name in people if id_ != exclude]

    def validate_participants(self, field):
        known = {value for value, _label in field.choices or ()}
        if any(value not in known for value in field.data or ()):
            raise ValidationError(_l("Choose colleagues from the list."))

    def validate_occurred_at(self, field):
        if field.data and field.data > local_now() + timedelta(minutes=10):
            raise ValidationError(_l("A visit is recorded after it took place."))

    def validate_next_action_on(self, field):
        if field.data and self.occurred_at.data and field.data < self.occurred_at.data.date():
            raise ValidationError(_l("The next follow-up comes after this visit."))

    @property
    def satisfaction_value(self) -> int | None:
        return int(self.satisfaction.data) if self.satisfaction.data else None


class AttachmentForm(Form):
    file = FileField(_l("Scan (PDF, PNG or JPEG, at most 5 MB)"), validators=[
        FileRequired(message=_l("Choose a file."))])


GRADE_CHOICES = tuple(GRADE_LABELS.items())


class CreditApplicationForm(Form):
    """Rules K1, K2: the proposal. State, customer and applicant are never taken from a form."""

    period_start = SelectField(_l("Quarter"), validators=[REQUIRED])
    grade = SelectField(_l("Credit grade"), choices=lambda: options(GRADE_CHOICES),
                        validators=[REQUIRED])
    # ¥0 is a proposal too (a prospect without sales is suggested 0): INPUT_REQUIRED.
    proposed_limit = AmountField(_l("Proposed limit (yuan)"), validators=[INPUT_REQUIRED])
    reason = TextAreaField(_l("Reason and remarks"), validators=[Optional(), length(2000)])


class TransitionForm(Form):
    event = StringField(validators=[REQUIRED, length(40)])
    version = StringField(validators=[REQUIRED, length(12)])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), length(2000)])
    amount = AmountField(_l("Approved limit (yuan)"), validators=[Optional()])

    AMOUNT_EVENTS = ("approve",)  # the amount counts only for an approval

    def validate_version(self, field):
        if parse_int(field.data, minimum=0) is None:  # the page sent it: not for people
            raise ValidationError(_l("Reload the page and try again."))

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.amount.errors and self.event.data not in self.AMOUNT_EVENTS:
            self.amount.errors, self.amount.data = [], None
            valid = not any(field.errors for field in self)
        return valid

    def correctable_error(self) -> tuple[str, object] | None:
        """After a failed validation: the first error a person can correct on the page (the
        amount or the comment), or None when the event or version is not one a page sent."""
        if set(self.errors) - {"amount", "comment"}:
            return None
        for name in ("amount", "comment"):
            if getattr(self, name).errors:
                return name, getattr(self, name).errors[0]
        return None


class OrderForm(Form):
    """Rule K7: an order is checked against the credit limit before it is taken."""

    number = StringField(_l("Order number"), validators=[REQUIRED, length(40)])
    ordered_on = DateField(_l("Order date"), validators=[REQUIRED])
    amount = AmountField(_l("Amount (yuan)"), validators=[INPUT_REQUIRED], minimum="0.01",
                         minimum_message=_l("Enter an amount above zero."))
