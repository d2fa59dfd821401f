"""Normal forms used to recognise the same company or phone (rule C2). No model imports:
the models use these to keep their normalised columns current."""
from __future__ import annotations

import re
import unicodedata

from pypinyin import lazy_pinyin

# Longest first: "股份有限公司" must go before "有限公司".
LEGAL_FORMS = ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "股份公司", "公司")
PINYIN_LENGTH, INITIALS_LENGTH = 1000, 200  # the columns' sizes
_NOT_LATIN = re.compile(r"[^0-9a-z]+")
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


def name_pinyin(name: str | None) -> tuple[str, str]:
    """上海华兴精密机械有限公司 → ("shanghaihuaxingjingmijixieyouxiangongsi", "shhxjmjxyxgs"):
    the name's reading in pinyin without tones, and each syllable's first letter, for the
    search and the A→Z sort (issue 13 §7). pypinyin reads a word from its phrase list, so
    重庆 is chongqing and 长沙市长 changshashizhang. Latin letters and digits stay as typed
    (NFKC, lower case), in both; everything else (spaces, punctuation) is left out."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    full, initials = [], []
    for syllable in lazy_pinyin(text, errors=lambda chunk: "\0" + _NOT_LATIN.sub("", chunk)):
        if syllable.startswith("\0"):  # not Chinese: as typed
            full.append(syllable[1:])
            initials.append(syllable[1:])
        elif syllable:
            full.append(syllable)
            initials.append(syllable[0])
    return "".join(full)[:PINYIN_LENGTH], "".join(initials)[:INITIALS_LENGTH]
