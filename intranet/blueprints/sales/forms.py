from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Optional, ValidationError

from intranet import credit_code
from intranet.forms import REQUIRED, length

CREDIT_CODE_MESSAGES = {
    "length": _l("A unified social credit code has 18 characters."),
    "characters": _l("Use digits and capital letters except I, O, S, V and Z."),
    "check_digit": _l("The check character (the 18th) does not match: please check the code."),
}


class CustomerForm(FlaskForm):
    """Only these fields can be changed from a form: owner, department and everything else
    posted alongside are ignored (SECURITY.md 4)."""

    name = StringField(_l("Company name"), validators=[REQUIRED, length(200, 2)])
    region = StringField(_l("Region"), validators=[length(100)])


class BlacklistForm(FlaskForm):
    """Rule C8: blacklisting (or lifting it) always states why."""

    reason = StringField(_l("Reason"), validators=[REQUIRED, length(500, 2)])


class NewCustomerForm(CustomerForm):
    """Registration (rules C1, C2): the owner is whoever registers first."""

    credit_code = StringField(_l("Unified social credit code"), validators=[Optional(),
                                                                            length(30)])
    contact_name = StringField(_l("Contact person"), validators=[length(50)])
    contact_phone = StringField(_l("Contact phone"), validators=[length(30)])

    def validate_credit_code(self, field):
        problem = credit_code.problem(field.data or "")
        if field.data and problem:
            raise ValidationError(CREDIT_CODE_MESSAGES[problem])
