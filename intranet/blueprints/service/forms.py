from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional, ValidationError

from intranet.blueprints.sales.forms import TransitionForm
from intranet.complaints import (
    CHANNEL_LABELS,
    CONTACT_LABELS,
    KIND_LABELS,
    SEVERITY_LABELS,
)
from intranet.core.forms import REQUIRED, CheckboxesField, Form, length, options
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Department, User, UserRole

TEXT = 4000


def people(*roles: Role):
    """(id, name) of active users, of these roles if given: the choices of a person field."""
    query = select(User.id, User.display_name).where(User.active)
    if roles:
        query = query.where(User.id.in_(select(UserRole.user_id).where(
            UserRole.role.in_([r.value for r in roles]))))
    return [(uid, name) for uid, name in db.session.execute(
        query.order_by(User.name_pinyin, User.id))]


def departments():
    from flask_babel import get_locale

    locale = str(get_locale() or "zh_CN")
    return [(d.id, d.name(locale)) for d in db.session.scalars(select(Department).order_by(
        Department.code))]


class IntakeForm(Form):
    """The registration form (rules P1, P7). Only these fields are read: state, number,
    handler of record and the rest posted alongside are ignored (SECURITY.md 4)."""

    kind = SelectField(_l("Type"), choices=lambda: options(KIND_LABELS.items()),
                       default="complaint")
    channel = SelectField(_l("Channel"), choices=lambda: options(CHANNEL_LABELS.items()),
                          default="phone")
    received_at = DateTimeLocalField(_l("Received at"), format="%Y-%m-%dT%H:%M",
                                     validators=[REQUIRED])
    customer_id = StringField(_l("Registered customer"), validators=[length(12)])
    complainant_name = StringField(_l("Complainant's name"), validators=[length(50)])
    complainant_phone = StringField(_l("Complainant's phone"), validators=[length(30)])
    severity = SelectField(_l("Severity"), choices=lambda: options(SEVERITY_LABELS.items()),
                           default="general")
    department_id = SelectField(_l("Department concerned"), coerce=int, default=0)
    subject_ids = CheckboxesField(_l("Staff complained about"), coerce=int)
    description = TextAreaField(_l("What the customer says"),
                                validators=[REQUIRED, length(TEXT)])
    first_answer = TextAreaField(_l("Answer given on the spot"), validators=[length(TEXT)])
    plan = TextAreaField(_l("Plan told to the customer"), validators=[length(TEXT)])
    promised_on = DateField(_l("Date promised to the customer"), validators=[Optional()])
    handler_id = SelectField(_l("Complaint handler"), coerce=int, default=0)
    file = FileField(_l("Original material (PDF, PNG or JPEG, up to 5 MB)"))

    def fill_choices(self):
        self.department_id.choices = [(0, "—"), *departments()]
        self.subject_ids.choices = people()
        self.handler_id.choices = [(0, "—"), *people(Role.COMPLAINT_HANDLER)]
        return self

    def validate_received_at(self, field):
        from intranet.customers.ledger import local_now

        if field.data and field.data > local_now().replace(second=59, microsecond=999999):
            raise ValidationError(_l("The time received cannot be in the future."))


class CaseTransitionForm(TransitionForm):
    """One step of a case: the text it records is the comment; some steps carry more."""

    comment = TextAreaField(_l("Text"), validators=[Optional(), length(TEXT)])
    handler_id = SelectField(_l("Complaint handler"), coerce=int, validate_choice=False,
                             default=0)
    leader_id = SelectField(_l("Leader"), coerce=int, validate_choice=False, default=0)
    meeting_on = DateField(_l("Meeting date"), validators=[Optional()])
    attendee_ids = CheckboxesField(_l("Attendees"), coerce=int, validate_choice=False)
    authorities_notified = BooleanField(_l("The authorities are notified"))

    AMOUNT_EVENTS = ()

    def correctable_error(self):
        fields = {"comment", "handler_id", "leader_id", "meeting_on", "attendee_ids", "amount"}
        if set(self.errors) - fields:
            return None
        for name in sorted(self.errors):
            return name, self.errors[name][0]
        return None

    def event_data(self) -> dict:
        return {"handler_id": self.handler_id.data or None,
                "leader_id": self.leader_id.data or None,
                "meeting_on": self.meeting_on.data,
                "attendee_ids": [i for i in (self.attendee_ids.data or []) if i],
                "authorities_notified": bool(self.authorities_notified.data)}


class ContactLogForm(Form):
    kind = SelectField(_l("Contact"), choices=lambda: options(CONTACT_LABELS.items()))
    note = TextAreaField(_l("What was said"), validators=[REQUIRED, length(TEXT)])
    promised_on = DateField(_l("Date promised (for a promise)"), validators=[Optional()])


class CorrectiveActionForm(Form):
    what = TextAreaField(_l("Corrective action"), validators=[REQUIRED, length(TEXT)])
    owner_id = SelectField(_l("Owner"), coerce=int)
    due_on = DateField(_l("Due on"), validators=[REQUIRED])

    def fill_choices(self):
        self.owner_id.choices = [(0, "—"), *people()]
        return self

    def validate_owner_id(self, field):
        if not field.data:
            raise ValidationError(_l("Choose who owns the action."))


class CaseAttachmentForm(Form):
    file = FileField(_l("Original material (PDF, PNG or JPEG, up to 5 MB)"))
