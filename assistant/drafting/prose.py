"""Prose statements (``prose: true``): a family member's kept words as one sentence a case note
would use ("Mum said he has slept through most nights since the new bed."), for a council's
larger model.

The model rewrites one piece at a time, reading only that piece (not the conversation), and
the sentence is accepted only when code finds nothing wrong with it:

* it starts with the attribution written in code from the speaker's role ("Mum "), so the
  model cannot move words from one person to another;
* it is in the third person (no "I", "me", "my", "we", "our" outside quotation marks): a first
  person in a reported sentence has no owner;
* it passes the review's verification rules against the piece's cited segments (numbers,
  negations, placeholders, content words, speaker: :func:`assistant.review.verify.check_statement`);
* it uses no safeguarding category the words it rewrites do not use;
* it is shorter than those words (otherwise the quote says it better).

A sentence that fails is never dropped and never kept: the verbatim words take its place with
the flag :data:`FLAG_PROSE_REPLACED`, so the practitioner sees that the model's sentence was
not used. The issue's probe of the default 1.5B model (a child's account of what the adults did
came back with the child acting; a question came back as the child's words) is why no released
template uses this: :mod:`assistant.drafting.styles.note` keeps the words instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.domain import RedactedSegment, Statement, StatementKind
from assistant.review.safeguarding import categories_in
from assistant.review.verify import check_statement
from assistant.speakers import attributed

FLAG_PROSE_REPLACED = "prose_replaced_by_quote"
"""The model's sentence failed a check; the statement is the verbatim words instead."""

PROSE_MAX_TOKENS = 96
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"sentence": {"type": "string", "minLength": 3, "maxLength": 400}},
    "required": ["sentence"],
    "additionalProperties": False,
}
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|myself|we|us|our|ours)\b", re.I)
_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]")


@dataclass(frozen=True)
class Outcome:
    statement: Statement
    accepted: bool
    reason: str | None = None
    """Why the sentence was not used (a check's name; never its text)."""


def messages(instruction: str, who: str, words: str) -> list[dict[str, str]]:
    """The model reads the instruction and the one piece it rewrites, attributed in code."""
    return [
        {"role": "system", "content": instruction.replace("{who}", who)},
        {"role": "user", "content": f"{who}: “{words}”"},
    ]


def checked(
    sentence: str,
    verbatim: Statement,
    segments: Sequence[RedactedSegment],
    words: str,
) -> Outcome:
    """``sentence`` as the statement for ``verbatim`` when it passes every check (module);
    otherwise ``verbatim`` flagged."""
    who = attributed(verbatim.speaker)
    sentence = " ".join(sentence.split())
    reason = _problem(sentence, who, words)
    if reason is None:
        prose = verbatim.model_copy(update={"text": sentence, "kind": StatementKind.REPORTED})
        result, check = check_statement(prose, segments)
        if not check.supported:
            reason = "verification:" + ",".join(r.value for r in check.reasons)
        else:
            return Outcome(result, accepted=True)
    flags = (*verbatim.flags, FLAG_PROSE_REPLACED)
    return Outcome(verbatim.model_copy(update={"flags": flags}), accepted=False, reason=reason)


def _problem(sentence: str, who: str, words: str) -> str | None:
    if not sentence.startswith(who + " "):
        return "attribution"
    if _FIRST_PERSON.search(_QUOTED.sub(" ", sentence)):
        return "first_person"
    if not categories_in(sentence) <= categories_in(words):
        return "safeguarding_category"
    if len(sentence.split()) >= len(words.split()):
        return "not_shorter"
    return None


__all__ = ["FLAG_PROSE_REPLACED", "Outcome", "checked", "messages"]
