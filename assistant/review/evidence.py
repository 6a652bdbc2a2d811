"""Evidence: what a statement and its cited segments say, for the checks of
:mod:`assistant.review.verify` (module docstring there: placeholder, number, negation, content
and low-confidence rules).

A text is read once into a :class:`TextView`: its content stems, the words it negates and
asserts, whether it has a negation cue, its numbers and placeholders. The cited segments' views
are merged and compared with the statement's. Deterministic and model-free (a spaCy pipeline,
when given, adds lemmas); nothing here logs or keeps text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.review.wording import (
    BOUNDARY,
    CLAUSE_BREAKS,
    NUMBER_WORDS,
    PLACEHOLDER_RE,
    SCOPE_ENDERS,
    UN_WORDS,
    canon,
    cue_at,
    is_content,
    is_cue,
    matching_stems,
    normalise,
    numbers,
    word_tokens,
)

NEGATION_WINDOW = 5
"""Words after a negation cue that it governs (stopping at punctuation and "but"/"because")."""


@dataclass(frozen=True)
class TextView:
    """What the checks need from a piece of text, computed once."""

    stems: frozenset[str]
    negated: frozenset[str]
    asserted: frozenset[str]
    has_cue: bool
    numbers: frozenset[str]
    placeholders: frozenset[str]
    words: frozenset[str]


def text_view(
    text: str, *, generous: bool, nlp: Any = None, content_text: str | None = None
) -> TextView:
    """Read ``text`` strictly (a statement) or generously (evidence: see ``numbers``);
    ``content_text``, when given, is what the content stems are taken from (a statement
    without its attribution, a segment without its speaker label)."""
    toks = word_tokens(text)
    negated: set[str] = set()
    asserted: set[str] = set()
    has_cue = False
    scope = 0
    asked = _in_question(toks)
    for i, tok in enumerate(toks):
        if asked[i]:  # a question asserts and denies nothing: "Have you hurt yourself?"
            scope = 0
            continue
        if tok in BOUNDARY or tok in CLAUSE_BREAKS:
            scope = 0
            continue
        if cue_at(toks, i):
            has_cue = True
            scope = NEGATION_WINDOW
            if tok in UN_WORDS:
                negated.add(canon(UN_WORDS[tok]))
            continue
        if is_content(tok):
            (negated if scope else asserted).add(canon(tok))
        if scope:
            scope = 0 if tok in SCOPE_ENDERS else scope - 1
    stems = _content_stems(content_text if content_text is not None else text, nlp)
    return TextView(
        stems=frozenset(stems),
        negated=frozenset(negated),
        asserted=frozenset(asserted),
        has_cue=has_cue,
        numbers=frozenset(numbers(text, generous=generous)),
        placeholders=frozenset(PLACEHOLDER_RE.findall(text)),
        words=frozenset(toks),
    )


def _in_question(toks: Sequence[str]) -> list[bool]:
    """For each token, whether its sentence ends with a question mark."""
    flags = [False] * len(toks)
    start = 0
    for i, tok in enumerate(toks):
        if tok in (".", "!", "?"):
            if tok == "?":
                flags[start : i + 1] = [True] * (i + 1 - start)
            start = i + 1
    return flags


def _content_stems(text: str, nlp: Any) -> set[str]:
    toks = word_tokens(text)
    out = {canon(UN_WORDS.get(t, t)) for t in toks if is_content(t) or t in UN_WORDS}
    if nlp is not None:  # lemmas as well: "children" -> "child", "better" -> "good"
        doc = nlp(PLACEHOLDER_RE.sub(" ", normalise(text)))
        for t in doc:
            lemma = (t.lemma_ or t.text).casefold()
            if t.is_alpha and is_content(t.text.casefold()) and is_content(lemma):
                out.add(canon(lemma))
    return out


def merge_views(views: Sequence[TextView]) -> TextView:
    """One view of several cited segments: what any of them says."""

    def union(attr: str) -> frozenset[str]:
        return frozenset().union(*(getattr(v, attr) for v in views))

    return TextView(
        stems=union("stems"),
        negated=union("negated"),
        asserted=union("asserted"),
        has_cue=any(v.has_cue for v in views),
        numbers=union("numbers"),
        placeholders=union("placeholders"),
        words=union("words"),
    )


def significant(word: str) -> bool:
    """Whether an unsure word matters to a statement (content, number or negation)."""
    return is_content(word) or is_cue(word) or word in NUMBER_WORDS or word[0].isdigit()


def content_support(stems: frozenset[str], evidence: frozenset[str]) -> float:
    """Share of the statement's content stems found in the evidence's."""
    if not stems:
        return 1.0
    return sum(bool(matching_stems(s, evidence)) for s in stems) / len(stems)


def negation_mismatch(sv: TextView, ev: TextView) -> bool:
    """A negation in the statement needs one in the evidence, and what it negates must not be
    said only positively there; what the statement asserts must not be said only negatively."""
    if sv.has_cue:
        if not ev.has_cue:
            return True
        return any(
            matching_stems(s, ev.asserted) and not matching_stems(s, ev.negated) for s in sv.negated
        )
    # A wholly positive statement: nothing it says may be said only negatively in the evidence.
    # (Mixed statements are left to the rule above: in "she feels unsafe" the verb "feels"
    # stands outside the cue, yet matches "I don't feel safe".)
    return any(
        matching_stems(s, ev.negated) and not matching_stems(s, ev.asserted) for s in sv.asserted
    )
