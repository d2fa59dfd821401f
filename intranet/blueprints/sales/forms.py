from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from intranet.forms import REQUIRED, length


class CustomerForm(FlaskForm):
    """Only these fields can be changed from a form: owner, department and everything else
    posted alongside are ignored (SECURITY.md 4)."""

    name = StringField(_l("Company name"), validators=[REQUIRED, length(200, 2)])
    region = StringField(_l("Region"), validators=[length(100)])
