"""Digit runs: long numbers however Whisper punctuates them, and the numbers a note needs.

Whisper writes a number read out in groups with the pauses as commas ("0113, 496, 0427",
"943, 476, 5919"), sometimes as spaces, hyphens or dots ("07700 900 123", "943-476-5919",
"0 7 7 0 0 9 0 0 1 2 3"). One rule, here, decides which of these runs is a long identifying
number; it is used twice, so the two can never disagree:

* by the ``id_number`` catch-all recogniser (``kind: digit_run`` in ``recognizers.yaml``), so every
  such run is redacted even when no specific recogniser (phone, NHS, NI ...) claims it;
* by the residual check (``residual_identifiers``), so a run the recognisers missed blocks drafting.

A *run* is a group of digits, or several joined only by separators: one or two spaces, a comma or
hyphen with at most one space before and two after, or a dot with at most one space after. It is a
long number when it holds at least ``min_digits`` digits (six), unless it reads as one of the
numbers a note needs (``is_everyday_number``):

* money or a thousands-grouped count: straight after ``£ $ €``, or "250,000", "1,250.50";
* a date: day, month and year (or year, month, day), each separated the same way, "14.05.2024",
  "3, 3, 2015" (a date of birth is found by the ``date_of_birth`` recogniser from its context);
  a date written with dots, slashes or hyphens is one token that never joins a longer run;
* a spoken list of small numbers or years separated by commas, "12, 14, 15" (ages),
  "2019, 2020, 2021", at most five items, each a number from 1 to 20 written without a leading
  zero or a year 1900-2099; or a range of two such, "2015-2019". "0, 7, 7, ..." (a leading zero),
  "20, 45, 67" (a sort code) and six or more items are numbers.

Groups may touch letters ("JK 12 34 56 C"): the digits still count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import regex

__all__ = ["DigitRun", "digit_runs", "is_everyday_number"]

MIN_DIGITS = 6
_GROUP_RE = regex.compile(r"\d+")
_SEPARATOR_RE = regex.compile(r" {1,2}|\s?[,\-–]\s{0,2}|\.\s?")
_CURRENCY_BEFORE_RE = regex.compile(r"[£$€]\s?$")
# A written date is one token, never part of a longer run: "on 14.05.2024, 14 of them".
_WRITTEN_DATE_RE = regex.compile(
    r"(?<!\d)(?:\d{1,2}([./\-])\d{1,2}\1(?:\d{4}|\d{2})|\d{4}([./\-])\d{1,2}\2\d{1,2})(?!\d)"
)
_MAX_LIST_ITEMS = 5
_MAX_SMALL = 20


@dataclass(frozen=True, slots=True)
class DigitRun:
    start: int
    end: int
    groups: tuple[str, ...]
    gaps: tuple[str, ...]

    @property
    def digits(self) -> int:
        return sum(len(g) for g in self.groups)


def digit_runs(text: str, min_digits: int = MIN_DIGITS) -> list[DigitRun]:
    """Every run of at least ``min_digits`` digits in ``text`` that is not an everyday number."""
    runs: list[DigitRun] = []
    groups: list[regex.Match[str]] = []

    def close() -> None:
        if not groups:
            return
        run = DigitRun(
            start=groups[0].start(),
            end=groups[-1].end(),
            groups=tuple(g.group() for g in groups),
            gaps=tuple(text[a.end() : b.start()] for a, b in zip(groups, groups[1:], strict=False)),
        )
        if run.digits >= min_digits and not is_everyday_number(
            run.groups, run.gaps, before=text[max(0, run.start - 2) : run.start]
        ):
            runs.append(run)

    dates = [(m.start(), m.end()) for m in _WRITTEN_DATE_RE.finditer(text) if _date_ok(m.group())]
    for match in _GROUP_RE.finditer(text):
        if any(a <= match.start() < b for a, b in dates):
            close()
            groups = []
            continue
        if groups and not _SEPARATOR_RE.fullmatch(text[groups[-1].end() : match.start()]):
            close()
            groups = []
        groups.append(match)
    close()
    return runs


def _date_ok(token: str) -> bool:
    parts = regex.split(r"[./\-]", token)
    return _is_date(parts, ["."] * 2)


def is_everyday_number(groups: Sequence[str], gaps: Sequence[str], *, before: str = "") -> bool:
    """Money, a thousands-grouped count, a date, or a short list of small numbers or years
    (see the module docstring): numbers a note needs, not identifiers."""
    if _CURRENCY_BEFORE_RE.search(before):
        return True
    return _is_thousands(groups, gaps) or _is_date(groups, gaps) or _is_list(groups, gaps)


def _is_thousands(groups: Sequence[str], gaps: Sequence[str]) -> bool:
    groups, gaps = list(groups), list(gaps)  # "250,000": no space, unlike a spoken pause
    if len(groups) >= 2 and gaps[-1] == "." and len(groups[-1]) <= 2:
        groups, gaps = groups[:-1], gaps[:-1]  # decimal part: "1,250.50"
    if len(groups) < 2 or any(g != "," for g in gaps):
        return False
    first = groups[0]
    return (
        1 <= len(first) <= 3 and not first.startswith("0") and all(len(g) == 3 for g in groups[1:])
    )


def _is_date(groups: Sequence[str], gaps: Sequence[str]) -> bool:
    if len(groups) != 3 or gaps[0].strip() != gaps[1].strip():
        return False
    if len(groups[0]) == 4:  # 2015-03-03
        year, month, day = groups
    else:
        day, month, year = groups
    return (
        len(day) <= 2
        and len(month) <= 2
        and len(year) in (2, 4)
        and 1 <= int(day) <= 31
        and 1 <= int(month) <= 12
    )


def _is_list(groups: Sequence[str], gaps: Sequence[str]) -> bool:
    commas = all("," in g for g in gaps)
    is_range = len(groups) == 2 and gaps[0].strip() in ("-", "–")
    if len(groups) > _MAX_LIST_ITEMS or not (commas or is_range):
        return False
    return all(_small_or_year(g) for g in groups)


def _small_or_year(group: str) -> bool:
    if group.startswith("0"):
        return False
    return (
        int(group) <= _MAX_SMALL
        if len(group) <= 2
        else len(group) == 4 and 1900 <= int(group) <= 2099
    )
