"""Unified social credit code (统一社会信用代码), GB 32100-2015 (rule C1).

18 characters from a 31-symbol alphabet (no I, O, S, V, Z); the last one is a check character
computed from the first 17 with weights 3^i mod 31.
"""
from __future__ import annotations

import random

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    total = sum(VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise(code: str) -> str:
    return (code or "").strip().upper().replace(" ", "")


def problem(code: str) -> str | None:
    """None if `code` is a valid credit code, else a key naming what is wrong."""
    code = normalise(code)
    if len(code) != 18:
        return "length"
    if any(ch not in VALUE for ch in code):
        return "characters"
    if not code[2:8].isdigit():  # the administrative-region code is numeric
        return "characters"
    if check_character(code[:17]) != code[17]:
        return "check_digit"
    return None


def generate(rng: random.Random, region: str = "310000") -> str:
    """A well-formed code (for demo data): registration authority 9 (市场监管), type 1 (企业)."""
    body = "91" + region + "".join(rng.choice(ALPHABET) for _ in range(9))
    return body + check_character(body)
