"""Checks a pattern match must pass, named from ``recognizers.yaml`` by ``validator:``.

Plain functions of the matched text, with no Presidio in sight: the configuration loader checks
that every named validator exists (``config.py``) and the recogniser code applies them
(``recognizers.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import regex

__all__ = ["VALIDATORS", "nhs_mod11", "uk_phone"]

_NON_DIGIT = regex.compile(r"\D")


def nhs_mod11(text: str) -> bool:
    """NHS number check digit: weights 10..2 over the first nine digits, 11 - (sum mod 11),
    11 means 0 and 10 means the number is invalid."""
    digits = _NON_DIGIT.sub("", text)
    if len(digits) != 10 or len(set(digits)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def uk_phone(text: str) -> bool:
    """A UK number once +44 / +44 (0) is turned into 0: eleven digits with a prefix in use for
    landlines (01, 02, 03), corporate/mobile (05, 07) or non-geographic (08) numbers, or ten
    digits for the few 01 areas and 0800/0500 freephone numbers that have them."""
    digits = _NON_DIGIT.sub("", text)
    if digits.startswith("440"):
        digits = digits[2:]
    elif digits.startswith("44"):
        digits = "0" + digits[2:]
    elif digits.startswith("00440"):
        digits = digits[4:]
    elif digits.startswith("0044"):
        digits = "0" + digits[4:]
    if len(digits) == 11:
        return digits[0] == "0" and digits[1] in "123578"
    # Ten digits: a few 01 areas and 0800/0500 freephone numbers.
    return len(digits) == 10 and digits.startswith(("01", "0800", "0500"))


VALIDATORS: dict[str, Callable[[str], bool]] = {"nhs_mod11": nhs_mod11, "uk_phone": uk_phone}
