"""Propagation: a value found once is redacted wherever else it is said in the recording.

A name found in one turn is often said again where no recogniser finds it ("Kasia" alone after
"Kasia Nowak", a lowercase surname); leaving it there would put it in front of the drafting
model and trip the residual check. Which words of a name stand alone for the person is
``spans.standalone_parts``, the rule the residual check reads too.

The tidying and overlap rules come from ``rules.SpanRules``, which calls this; they are taken
as a ``SpanResolver`` so that imports run one way, rules -> propagation.
"""

from __future__ import annotations

from typing import Protocol

from assistant.redaction.config import PERSON_ENTITY
from assistant.redaction.spans import (
    ALNUM_RE,
    LOCATION_ENTITY,
    PROPAGATION_RECOGNIZER,
    Field,
    Span,
    capitalised_tokens,
    phrase,
    phrase_pattern,
    standalone_parts,
)

#: Rounds of propagation at most; each round after the first only follows spans cut by overlaps.
_MAX_ROUNDS = 4


class SpanResolver(Protocol):
    """What propagation needs of the span rules (``rules.SpanRules``)."""

    #: Words never propagated as a person's name, nor as part of one.
    never_person_parts: frozenset[str]
    #: Words never propagated as any other value.
    not_a_name_part: frozenset[str]

    def is_generic_speaker(self, label: str) -> bool: ...

    def in_not_name_phrase(self, text: str, start: int, end: int) -> bool: ...

    def resolve(self, fields: list[Field], spans: list[Span]) -> dict[int, list[Span]]: ...


def propagate(
    rules: SpanResolver, fields: list[Field], per_field: dict[int, list[Span]]
) -> dict[int, list[Span]]:
    """Give each value one type for the whole recording and redact every other mention of it
    (and of each part of a name) on word boundaries, in any case. Repeated until no new value
    appears (a span cut by an overlap can yield one), so the residual check's KNOWN_* rules
    never fire on our own output."""
    seen: set[str] = set()
    for _ in range(_MAX_ROUNDS):
        known = _known_values(rules, fields, per_field)
        if not known or known.keys() <= seen:
            break
        seen |= known.keys()
        per_field = _redact_known(rules, fields, per_field, known)
    return per_field


def _known_values(
    rules: SpanResolver, fields: list[Field], per_field: dict[int, list[Span]]
) -> dict[str, tuple[str, float]]:
    """phrase -> (entity, score) for every value found, and every part of every name."""
    best: dict[str, Span] = {}
    capitals: dict[str, set[str]] = {}  # value -> its words written with a capital somewhere
    for group in per_field.values():
        for span in group:
            surface = fields[span.field].text[span.start : span.end]
            key = phrase(surface)
            capitals.setdefault(key, set()).update(capitalised_tokens(surface))
            if key not in best or (span.score, span.entity == PERSON_ENTITY) > (
                best[key].score,
                best[key].entity == PERSON_ENTITY,
            ):
                best[key] = span
    person_parts: dict[str, float] = {}
    for key, span in best.items():
        if span.entity == PERSON_ENTITY:
            for part in standalone_parts(key, capitals[key]):
                if len(part) >= 2 and part not in rules.never_person_parts:
                    person_parts[part] = max(person_parts.get(part, 0.0), span.score)
    known: dict[str, tuple[str, float]] = {}
    for key, span in best.items():
        entity = span.entity
        if entity == LOCATION_ENTITY and key in person_parts:
            entity = PERSON_ENTITY  # "Nowak" alone, mislabelled a place, is Kasia Nowak's name
        never = rules.never_person_parts if entity == PERSON_ENTITY else rules.not_a_name_part
        if key not in never and len(ALNUM_RE.findall(key)) >= 2:
            known[key] = (entity, span.score)
    for part, score in person_parts.items():
        known.setdefault(part, (PERSON_ENTITY, score))
    return known


def _redact_known(
    rules: SpanResolver,
    fields: list[Field],
    per_field: dict[int, list[Span]],
    known: dict[str, tuple[str, float]],
) -> dict[int, list[Span]]:
    """Every value takes its one type, every other mention of a known phrase becomes a span,
    and overlaps are resolved again."""
    for group in per_field.values():
        for span in group:
            key = phrase(fields[span.field].text[span.start : span.end])
            span.entity = known.get(key, (span.entity,))[0]
    pattern = phrase_pattern(known)
    extra: list[Span] = []
    for f in fields:
        if f.name == "speaker" and rules.is_generic_speaker(f.text):
            continue
        for m in pattern.finditer(f.text):
            hit = known.get(phrase(m.group()))
            if hit is not None:
                entity, score = hit
                if entity == PERSON_ENTITY and rules.in_not_name_phrase(f.text, m.start(), m.end()):
                    continue  # "Clare" in "Clare's Law" is the scheme, whoever Clare is
                extra.append(
                    Span(f.order, m.start(), m.end(), entity, score, PROPAGATION_RECOGNIZER)
                )
    combined = [s for group in per_field.values() for s in group] + extra
    return rules.resolve(fields, combined)
