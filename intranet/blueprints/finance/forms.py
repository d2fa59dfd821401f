from wtforms import BooleanField, TextAreaField
from wtforms.validators import Optional

from intranet.core.forms import Form, length
from intranet.core.i18n import lazy_gettext as _l


class ReleaseForm(Form):
    """Rule K7: releasing a shipment; `force` and `reason` count only for the GM."""

    force = BooleanField(_l("Force the release over the limit (general manager)"))
    reason = TextAreaField(_l("Reason for the forced release"),
                           validators=[Optional(), length(1000)])
