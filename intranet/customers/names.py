"""Normal forms used to recognise the same company or phone (rule C2). No model imports:
the models use these to keep their normalised columns current."""
from __future__ import annotations

import re
import unicodedata

# Longest first: "股份有限公司" must go before "有限公司".
LEGAL_FORMS = ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "股份公司", "公司")
_NOISE = re.compile(r"[\s()\[\]{}<>（）【】〔〕《》「」·.,，、\-_/\\'\"]+")


def normalise_name(name: str) -> str:
    """上海华东精密机械（股份）有限公司 → 上海华东精密机械"""
    text = unicodedata.normalize("NFKC", name or "").lower()
    text = text.replace("(股份)", "").replace("(集团)", "")
    text = _NOISE.sub("", text)
    changed = True
    while changed:
        changed = False
        for suffix in LEGAL_FORMS:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                changed = True
    return text


def phone_digits(phone: str) -> str:
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone or ""))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix):]
    return digits
