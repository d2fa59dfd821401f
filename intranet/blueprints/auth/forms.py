from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import EqualTo, ValidationError

from intranet.core import passwords
from intranet.core.forms import REQUIRED, Form, length
from intranet.core.i18n import lazy_gettext as _l


class LoginForm(Form):
    username = StringField(_l("User name"), validators=[REQUIRED, length(64)])
    password = PasswordField(_l("Password"), validators=[REQUIRED, length(256)])
    remember = BooleanField(_l("Keep me signed in on this computer (7 days)"))
    next = HiddenField()


class PasswordChangeForm(Form):
    current = PasswordField(_l("Current password"), validators=[REQUIRED, length(256)])
    new = PasswordField(_l("New password"), validators=[REQUIRED])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        REQUIRED, EqualTo("new", message=_l("The two passwords differ."))])

    def __init__(self, username: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._username = username

    def validate_new(self, field):
        problems = passwords.problems(field.data or "", self._username)
        if problems:
            raise ValidationError(" ".join(str(p) for p in problems))
