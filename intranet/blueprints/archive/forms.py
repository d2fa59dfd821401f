from flask_wtf.file import FileAllowed, FileField, FileRequired

from intranet.core.forms import Form
from intranet.core.i18n import lazy_gettext as _l


class VerifyForm(Form):
    file = FileField(_l("PDF file"), validators=[
        FileRequired(message=_l("Choose a file.")),
        FileAllowed(["pdf"], message=_l("Upload a .pdf file."))])
