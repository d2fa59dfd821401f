"""Forms of transfers, pool claims and the director's moves (rules R1, R4-R6)."""
from wtforms import SelectField, StringField, TextAreaField

from intranet.core.forms import REQUIRED, Form, length
from intranet.core.i18n import lazy_gettext as _l


def _reason():
    return TextAreaField(_l("Reason"), validators=[REQUIRED, length(2000)])


class TransferForm(Form):
    to_user_id = SelectField(_l("Transfer to"), coerce=int, default=0)
    reason = _reason()


class TakeOverForm(Form):
    """A rep asks for a customer another rep owns: named exactly, as registration's duplicate
    check would find it — nothing more of the file is shown (rule C6)."""

    q = StringField(_l("Company name, credit code or contact phone"),
                    validators=[REQUIRED, length(200)])
    reason = _reason()


class ClaimForm(Form):
    reason = _reason()


class ReassignForm(Form):
    to_user_id = SelectField(_l("New owner"), coerce=int, default=0)
    reason = _reason()


class HandoverForm(Form):
    from_user_id = SelectField(_l("Rep leaving"), coerce=int, default=0)
    to_user_id = SelectField(_l("Hand over to"), coerce=int, default=0)
    reason = _reason()
