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


def test_the_suite_pools_rows_over_the_scenarios():
    """3 of 4 rows and 0 of 1: 3/5 pooled (not the mean of per-note counts)."""
    from eval.suites.notes.metrics import brevity_metrics
    from eval.suites.notes.scoring import Scored

    def visit(i: int, rows: tuple[int, int]) -> Scored:
        v = Scored(id=f"v{i}", source="scenario", visit_type="cin", age_band="5-10", drafted=None)
        v.action_rows = rows
        return v

    out = brevity_metrics([visit(1, (3, 4)), visit(2, (0, 1))], [], {"seed": 0, "resamples": 50})
    found = next(m for m in out if m.name == "action_row_precision")
    assert found.value == 0.6 and found.n == 2


def test_the_seen_alone_field_is_scored_against_the_scenario_feature():
    """Right when the header's field and the scenario's ``child_seen_alone`` agree, either way;
    notes with no header (templates before v5) are not counted."""
    from eval.suites.notes.metrics import brevity_metrics
    from eval.suites.notes.scoring import Scored

    def visit(i: int, seen: tuple[bool, bool] | None) -> Scored:
        v = Scored(id=f"v{i}", source="scenario", visit_type="cin", age_band="5-10", drafted=None)
        v.seen_alone = seen
        return v

    visits = [visit(1, (True, True)), visit(2, (False, False)), visit(3, (True, False)),
              visit(4, (False, True)), visit(5, None)]
    out = brevity_metrics(visits, [], {"seed": 0, "resamples": 50})
    found = next(m for m in out if m.name == "seen_alone_field_right")
    assert found.value == 0.5 and found.n == 4


def test_the_header_says_seen_alone_as_the_scenarios_do():
    """The typed scenarios through the real header: no field where the worker only talks of
    someone being alone (cp-003, eh-001), and the worker's request where there is one."""
    from assistant.domain import RedactedSegment
    from assistant.drafting.actions import header
    from eval.datasets.scenarios import load_scenarios

    by_id = {s.id: s for s in load_scenarios()}

    def seen_alone(sid: str) -> str | None:
        turns = by_id[sid].turns
        segs = [
            RedactedSegment(id=f"s{i:04d}", start=float(i), end=i + 1.0, text=t.text,
                            speaker=t.speaker)
            for i, t in enumerate(turns, 1)
        ]
        return next((h.value for h in header(segs) if h.key == "seen_alone"), None)

    assert seen_alone("cp-003") is None and "child_seen_alone" not in by_id["cp-003"].features
    assert seen_alone("eh-001") is None and "child_seen_alone" not in by_id["eh-001"].features
    assert seen_alone("s47-004") == "The social worker asked: “Can I talk to Matas on his own?”"
    assert seen_alone("lac-004") == (
        "The social worker asked: “Shall we talk in the garden, just us?”"
    )
