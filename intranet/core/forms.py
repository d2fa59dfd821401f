"""Form helpers shared by every blueprint."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectChoice
from wtforms.validators import DataRequired, Length

REQUIRED = DataRequired(message=_l("This field is required."))


def length(maximum: int, minimum: int = 0) -> Length:
    return Length(min=minimum, max=maximum,
                  message=_l("Enter between %(min)d and %(max)d characters."))


class UploadForm(FlaskForm):
    file = FileField(_l("File (.xlsx or .csv)"), validators=[
        FileRequired(message=_l("Choose a file.")),
        FileAllowed(["xlsx", "csv"], message=_l("Upload an .xlsx or .csv file."))])


class ConfirmForm(FlaskForm):
    """An empty form: CSRF protection for one-button actions (disable, revoke, delete)."""


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as select options."""
    return [SelectChoice(value, label) for value, label in pairs]
