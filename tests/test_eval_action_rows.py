"""Action-row precision in the notes suite (``eval.suites.notes.brevity.action_rows``)."""

from __future__ import annotations

from assistant.domain import AgreedAction, Statement, StatementKind
from eval.suites.notes.brevity import action_rows

GOLD = [
    ("ring the school about the breakfast club", "Friday"),
    ("book the dentist appointment", None),
]


def _row(what: str, who: str = "Social worker", by: str | None = None) -> Statement:
    return Statement(
        text=f"{who}: {what}",
        kind=StatementKind.AGREED_ACTION,
        speaker=who,
        evidence=("s1",),
        action=AgreedAction(who=who, what=what, by=by),
    )


def test_rows_that_are_gold_actions_over_all_rows():
    rows = [
        _row("I'll ring the school on Friday about the breakfast club", by="Friday"),
        _row("Mum will book the dentist", who="Mum"),
        _row("I can write the note properly, and you can see what I write"),
    ]
    assert action_rows(GOLD, rows) == (2, 3)


def test_statements_that_are_not_rows_are_not_counted():
    quote = Statement(
        text="I'll ring the school", kind=StatementKind.DIRECT_QUOTE, evidence=("s2",)
    )
    verbatim_action = Statement(
        text="We agreed to book the dentist", kind=StatementKind.AGREED_ACTION, evidence=("s3",)
    )
    assert action_rows(GOLD, [quote, verbatim_action]) == (0, 0)
    assert action_rows([], [_row("ring the school")]) == (0, 1)
