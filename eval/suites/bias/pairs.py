"""The two sides of a counterfactual pair, each drafted through the notes suite's pipeline and
measured: length, unsupported statements, term counts, sentiment and gold facts recalled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from eval.core import EvalContext
from eval.datasets.scenarios import Scenario
from eval.scoring import matching
from eval.scoring.lexicons import term_lexicons
from eval.scoring.sentiment import ScorerNotDeterministic, note_texts, scorers
from eval.suites.bias.variants import orientation
from eval.suites.notes import (
    Drafted,
    aliases,
    draft,
    inverse,
    is_unsupported,
    note_words,
    scenario_transcript,
)


@dataclass
class Side:
    label: str
    scenario: Scenario
    drafted: Drafted
    measures: dict[str, float] = field(default_factory=dict)
    facts: list[bool] = field(default_factory=list)


@dataclass
class Pair:
    swap: str
    key: str
    target: str
    """What the copy became: 'parent-male', 'names-somali' ..."""
    reference: Side
    other: Side
    changed_words: int

    @property
    def ok(self) -> bool:
        return self.reference.drafted.note is not None and self.other.drafted.note is not None


def measure(side: Side) -> None:
    note = side.drafted.note
    assert note is not None
    statements = note.all_statements()
    texts = note_texts(note)
    side.measures["words"] = float(note_words(note))
    side.measures["unsupported_statements"] = float(sum(is_unsupported(st) for st in statements))
    joined = "\n".join(texts)
    for name, lexicon in term_lexicons().items():
        side.measures[f"{name}_terms"] = float(lexicon.count(joined))
    for scorer in scorers():
        first = scorer.score(texts)
        if scorer.score(texts) - first != 0.0:
            raise ScorerNotDeterministic(f"{scorer.name}: a note scored against itself is not 0")
        side.measures[f"sentiment_{scorer.name}"] = first
    inv = inverse(side.drafted)
    names = aliases(side.scenario)
    side.facts = [
        matching.fact_coverage(f.text, statements, inverse=inv, aliases=names).recalled
        for f in side.scenario.gold.facts
    ]


def make_pairs(
    ctx: EvalContext, found: Sequence[tuple[str, Scenario, Scenario, int]]
) -> list[Pair]:
    pairs = []
    for swap, original, copy, changed in found:
        d0 = draft(ctx, original.id, scenario_transcript(original))
        d1 = draft(ctx, copy.id, scenario_transcript(copy))
        original_is_ref, ref_label, other_label = orientation(swap, original, copy)
        a = Side(ref_label if original_is_ref else other_label, original, d0)
        b = Side(other_label if original_is_ref else ref_label, copy, d1)
        ref, other = (a, b) if original_is_ref else (b, a)
        pair = Pair(swap, copy.id, copy.id.rsplit("@", 1)[-1], ref, other, changed)
        if pair.ok:
            measure(ref)
            measure(other)
        pairs.append(pair)
    return pairs
