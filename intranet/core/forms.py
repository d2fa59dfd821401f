"""Form helpers shared by every blueprint. Every form inherits `Form`: its text fields drop
bidirectional control characters (SECURITY.md 19a), so a name cannot be made to read
differently from what it is."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import PasswordField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from intranet.core.i18n import lazy_gettext as _l

REQUIRED = DataRequired(message=_l("This field is required."))


class ValueRequired:
    """Required, for fields whose falsy value is a real one (¥0, which DataRequired takes for
    empty): refuses only a missing or blank input. A value the field could not read already
    carries the field's own error."""

    field_flags = {"required": True}

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if field.process_errors:
            raise StopValidation()
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            raise StopValidation(self.message)


INPUT_REQUIRED = ValueRequired(message=_l("This field is required."))

# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the invisible marks
# (LRM, RLM, ALM): they reorder what a reader sees without being seen themselves.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                          "\u200e\u200f\u061c")
_BIDI_TABLE = dict.fromkeys(map(ord, BIDI_CONTROLS))


def strip_bidi(text):
    """`text` without bidirectional control characters (anything else is returned as is)."""
    return text.translate(_BIDI_TABLE) if isinstance(text, str) else text


class Form(FlaskForm):
    """The base of every form (tests/test_fuzz_forms.py checks that all inherit it)."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            if issubclass(field_class, StringField) and not issubclass(field_class,
                                                                        PasswordField):
                # A password is compared as typed; everything else is text people read.
                filters = [*unbound_field.kwargs.get("filters", ()), strip_bidi]
                return unbound_field.bind(form=form, filters=filters, **options)
            return unbound_field.bind(form=form, **options)


def length(maximum: int, minimum: int = 0) -> Length:
    return Length(min=minimum, max=maximum,
                  message=_l("Enter between %(min)d and %(max)d characters."))


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UploadForm(Form):
    file = FileField(_l("File (.xlsx or .csv)"), validators=[
        FileRequired(message=_l("Choose a file.")),
        FileAllowed(["xlsx", "csv"], message=_l("Upload an .xlsx or .csv file."))])


class ConfirmForm(Form):
    """An empty form: CSRF protection for one-button actions (disable, revoke, delete)."""


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as select options."""
    return [SelectChoice(value, label) for value, label in pairs]
