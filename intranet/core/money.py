"""Money typed by people: one parser and one form field for every amount (SECURITY.md 19a:
NaN, sNaN, Infinity and out-of-range values are validation errors, never a 500)."""
from __future__ import annotations

from decimal import Decimal

from wtforms import Field
from wtforms.validators import ValidationError
from wtforms.widgets import TextInput

from intranet.core.i18n import lazy_gettext as _l

MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
CENT = Decimal("0.01")
# Separators and currency signs people type or paste: "200,000", "２００，０００", "¥ 5000".
_IGNORED = str.maketrans("", "", ",，¥￥ \u3000")
AMOUNT_MESSAGE = _l("Enter an amount in yuan, e.g. 200000.")


def parse_amount(raw, exact: bool = False) -> Decimal | None:
    """An amount in yuan typed by a person ("200,000", "1.5e5"), or None if it is not one
    the books can hold (negative, infinite, NaN, too large). Rounded to the fen, or with
    `exact`, None when it has more than two decimals."""
    try:
        value = Decimal(str(raw).translate(_IGNORED).strip())
        if value.is_finite() and 0 <= value <= MAX_AMOUNT:
            rounded = value.quantize(CENT).copy_abs()  # "-0" is 0.00, not -0.00
            return None if exact and rounded != value else rounded
    except ArithmeticError:  # InvalidOperation, Overflow
        pass
    return None


class AmountField(Field):
    """An amount in yuan, parsed by `parse_amount`: a typed value that is not an amount is a
    field error in the user's language. `minimum` is inclusive (0 by default: ¥0 is a valid
    amount, so mark required fields with forms.INPUT_REQUIRED, never DataRequired, which
    takes 0 for empty)."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, minimum: Decimal | str = "0",
                 minimum_message=None, **kwargs):
        render_kw = {"inputmode": "decimal", "autocomplete": "off", **(kwargs.pop(
            "render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self.minimum = Decimal(minimum)
        self.minimum_message = minimum_message or AMOUNT_MESSAGE

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:.2f}"

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and str(valuelist[0]).strip():
            self.data = parse_amount(valuelist[0])
            if self.data is None:
                raise ValueError(AMOUNT_MESSAGE)

    def pre_validate(self, form):
        if self.data is not None and self.data < self.minimum:
            raise ValidationError(self.minimum_message)
