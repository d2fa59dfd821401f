import re

from wtforms import DateTimeLocalField, PasswordField, SelectField, StringField
from wtforms.validators import Email, Optional, ValidationError

from intranet.core import passwords
from intranet.core.forms import REQUIRED, CheckboxesField, Form, length, options
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.roles import DELEGABLE, Role

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def role_choices(roles=Role):
    return options((r.value, r.label) for r in roles)


class UserForm(Form):
    display_name = StringField(_l("Name"), validators=[REQUIRED, length(100)])
    email = StringField(_l("E-mail"), validators=[
        Optional(), length(200), Email(message=_l("Enter a valid e-mail address."))])
    department_id = SelectField(_l("Department"), coerce=int, validate_choice=True)
    roles = CheckboxesField(_l("Roles"), choices=role_choices, validators=[
        REQUIRED])
    locale = SelectField(_l("Interface language"),
                         choices=options([("zh_CN", "简体中文"), ("en", "English")]))


class NewUserForm(UserForm):
    username = StringField(_l("User name"), validators=[REQUIRED, length(64, 2)])
    password = PasswordField(_l("Initial password"), validators=[REQUIRED])

    def validate_username(self, field):
        if not USERNAME.match((field.data or "").strip().lower()):
            raise ValidationError(_l("Use lower-case letters, digits, dot, dash or underscore."))

    def validate_password(self, field):
        problems = passwords.problems(field.data or "", (self.username.data or "").lower())
        if problems:
            raise ValidationError(" ".join(str(p) for p in problems))


class SetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[REQUIRED])

    def __init__(self, username: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._username = username

    def validate_password(self, field):
        problems = passwords.problems(field.data or "", self._username)
        if problems:
            raise ValidationError(" ".join(str(p) for p in problems))


class DelegationForm(Form):
    principal_id = SelectField(_l("Absent approver"), coerce=int, validate_choice=True)
    deputy_id = SelectField(_l("Deputy"), coerce=int, validate_choice=True)
    role = SelectField(_l("Role delegated"), choices=lambda: role_choices(sorted(DELEGABLE)))
    starts_at = DateTimeLocalField(_l("From"), format="%Y-%m-%dT%H:%M", validators=[
        REQUIRED])
    ends_at = DateTimeLocalField(_l("Until"), format="%Y-%m-%dT%H:%M", validators=[REQUIRED])
    reason = StringField(_l("Reason"), validators=[REQUIRED, length(500)])

    def validate_ends_at(self, field):
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The end must be after the start."))

    def validate_deputy_id(self, field):
        if field.data == self.principal_id.data:
            raise ValidationError(_l("A person cannot be their own deputy."))
