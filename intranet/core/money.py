"""Money typed by people: one parser and one form field for every amount (SECURITY.md 19a:
NaN, sNaN, Infinity and out-of-range values are validation errors, never a 500)."""
from __future__ import annotations

from decimal import Decimal

MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)


def parse_amount(raw) -> Decimal | None:
    """An amount in yuan typed by a person ("200,000", "1.5e5"), or None if it is not one
    the books can hold (negative, infinite, NaN, too large)."""
    try:
        value = Decimal(str(raw).replace(",", "").replace("，", "").strip())
        if value.is_finite() and 0 <= value <= MAX_AMOUNT:
            return value.quantize(Decimal("0.01"))
    except ArithmeticError:  # InvalidOperation, Overflow
        pass
    return None
