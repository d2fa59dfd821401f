"""What the customer search looks in (core/search.py indexes it): name, region and credit code;
the name's pinyin and initials when the term is Latin letters (issue 13 §7: shhx and
shanghai both find 上海华兴); and the contacts' phone digits when the term has at least four
digits (a phone number typed with or without separators). Field numbers are keys of the
SQLite index: never reuse one."""
import re

from intranet.core import search
from intranet.customers.names import phone_digits
from intranet.models import Contact, Customer

CUSTOMER = "customer"
NAME = ("name", "pinyin", "initials")  # the look-ups that find a company by its name only
_SEPARATORS = re.compile(r"[\s'’·]+")  # typed between syllables: xi'an, shang hai


def _phone(text: str) -> str | None:
    digits = phone_digits(text)
    return digits if len(digits) >= 4 else None


def _pinyin(text: str) -> str | None:
    letters = _SEPARATORS.sub("", search.normalise(text))
    return letters if len(letters) >= 2 and letters.isascii() and letters.isalpha() else None


def register() -> None:
    customer, contact = Customer.__table__, Contact.__table__
    search.register(search.Document(CUSTOMER, Customer.id, {
        "name": search.Field(1, customer, "name"),
        "region": search.Field(2, customer, "region"),
        "credit_code": search.Field(3, customer, "credit_code"),
        "phone": search.Field(4, contact, "phone_digits", target="customer_id", query=_phone),
        "pinyin": search.Field(5, customer, "name_pinyin", query=_pinyin, latin=True),
        "initials": search.Field(6, customer, "name_initials", query=_pinyin, latin=True),
    }))


def matches(text: str, fields=None, on=None):
    """Customers whose fields contain `text` (see core/search.matches)."""
    return search.matches(CUSTOMER, text, fields, on)


def match(text: str, fields=None, on=None) -> search.Match:
    """`matches`, with the way to count it (core/search.Match)."""
    return search.match(CUSTOMER, text, fields, on)
