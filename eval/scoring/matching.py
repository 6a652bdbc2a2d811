"""How a drafted note is matched against gold: facts recalled, child's words kept, opinions.

The note is drafted from the *redacted* transcript, so its statements say ``[PERSON_1]`` where
the gold says "Tyler". Every rule below first resolves names through the recording's
:class:`~assistant.domain.PseudonymMap`: ``entries`` is placeholder -> original value, and
:func:`inverse_mapping` inverts it (each value, and each word of a person's name, -> the
placeholders that stand for it), the way the redactor itself treats "Kasia", "Mrs Nowak" and
"Kasia Nowak" as one person. The map keeps one surface per placeholder, so every other form
that was redacted (a nickname, "Jess" for "Jessica") is added from the redacted transcript's
entity spans (:func:`redacted_surfaces`).

Rules (``MATCHING`` records them in every result):

* **Content words** (:func:`content_words`): lowercased, curly quotes straightened, "n't" read
  as "not", placeholders kept whole, stopwords dropped (function words, fillers, reporting verbs
  such as "said" and "explained", and the note-writer's own role, "social worker"), number words
  as digits ("three" = "3"), then a light deterministic stem (:func:`stem`: plurals, -ing, -ed,
  -ly, final -e/-y) and a small synonym table (mum = mother, frightened = scared ...). The
  stemmer is this module's own, not the verifier's: the yardstick is not built from the thing it
  measures. Negations ("not", "no", "never") are content: "he was not hit" is a different fact.
* **Fact recalled** (:func:`fact_coverage`, :data:`FACT_COVERAGE`): a gold fact is a list of
  *slots*, one per content word; a name (any value in the mapping, longest first) is one slot
  that the placeholder standing for it fills (or the name itself, when it was not redacted), and
  a role word that is a person's speaker label ("Mum") is filled by that person's placeholder
  too (``aliases``). A fact is recalled when ONE statement of the note (its text plus its
  speaker label) fills at least 60% of the fact's slots, each slot with a word of the same
  *polarity* (:func:`polar_slots`): a word within :data:`NEGATION_SCOPE` words after a
  negation cue ("not", "n't", "no", "never", "nobody", "denied", "refused" ...) in the same
  clause (a clause ends at , ; : . ! ? a dash, or a word of :data:`_SCOPE_BREAKERS`: "and",
  "but", "because" ...) is negated, a question's words are neither (they fill a slot of either
  polarity), any other word is not, and a negated word fills only a negated slot. So "Dean
  has been to the house" does not recall "Dean has not been to the house" ("house" is negated
  in one and not the other), while a long statement that also says "the school's still not
  meeting his needs" can still recall a fact said in its other sentences. (Suites 1-5 of the
  notes suite held the whole statement to the fact's polarity: any negation anywhere in a
  statement, and a verbatim statement of a few sentences nearly always has one, kept it from
  recalling a fact with none.)
* **Fact cited** (:func:`fact_cited`): a second reading of the same gold facts, by where they
  were said. Every gold fact names the turns that state it; the fact is *cited* when, for each
  of those turns, a statement of the note that verification did not flag cites that turn's
  segment AND carries what that segment says of the fact: it fills at least 60% of the fact's
  slots that the segment's own words fill (all of them when the statement is the segment word
  for word; none are needed when the segment shares no content word with the fact, "That's
  right."). No polarity rule: the statement is held to its segment's words instead, and
  verification already flags a negation its segment lacks. It tells an omission (no statement
  keeps the moment) from a wording gap (the moment is kept in the speaker's words, which fill
  too few of a summary fact's slots: "We had one meltdown last week" for "Osian has had one
  meltdown in the last week"). It can count a moment kept for a different reason (the fact's
  words are a small part of a long segment), so it is reported beside fact recall, never
  instead of it. From a recording (:func:`fact_cited_turns`) a turn may be several segments:
  the turn is cited when a statement citing any of them carries what the turn's words, read
  together, say of the fact.
* **Quote kept** (:func:`quote_kept`): the gold child's words, with names resolved to
  placeholders, normalised (case, punctuation, contractions, fillers "um"/"er", number words),
  split into sentences; kept *as a quote* when every sentence occurs as a contiguous run of
  tokens inside some statement of kind ``direct_quote`` (the child's words may be quoted in
  two statements), and kept *anywhere* (reported separately) when the same holds for
  statements of any kind.
* **Opinion written as fact** (:func:`opinion_as_fact`): a gold opinion whose content a
  statement covers (60% of slots, as for facts) while that statement is not attributed: its kind
  is ``observed``, or it has no speaker and its text has no attribution ("said", "feels",
  "thinks", "according to" ...). An exchange written out turn by turn ("Social worker: Has he
  hurt you? Dad: Never.") is read a turn at a time (:func:`turns`): each turn is attributed to
  the speaker its label names, as the note shows it.
* **Token recall** (:func:`token_recall`): for free-text references (the PriMock57 clinicians'
  notes), the share of the reference's distinct content stems that occur anywhere in the note.

Content words and names are read in ``words.py``, polarity and slot coverage in ``polarity.py``;
this module applies them to facts, quotes and opinions and re-exports what the suites use.
Nothing here reads or logs anything but the texts it is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from assistant.domain import RedactedSegment, Statement, StatementKind
from eval.scoring.polarity import (
    coverage,
    polar_coverage,
    polar_keys,
    polar_slots,
    slots,
    statement_keys,
)
from eval.scoring.words import (
    NUMBER_WORDS,
    canon,
    content_words,
    inverse_mapping,
    raw_tokens,
    redacted_surfaces,
    stem,
    value_spans,
)

FACT_COVERAGE = 0.6
"""Share of a fact's content slots one statement must fill for the fact to count as recalled."""

MATCHING = {
    "content_words": "lowercase, n't -> not, placeholders whole, stopwords and reporting verbs "
    "dropped, number words as digits, light stem, small synonym table (eval.scoring.words)",
    "fact_recalled": f"one statement (text + speaker label) fills >= {FACT_COVERAGE} of the "
    "fact's content slots, each with a word of the same polarity (negated: within "
    "NEGATION_SCOPE words after a negation cue in the same clause); names "
    "resolved to placeholders via the inverted PseudonymMap; a speaker-label role word ('Mum') "
    "is also filled by that person's placeholder",
    "fact_cited": "every turn the gold fact names is cited by a statement not flagged by "
    f"verification that fills >= {FACT_COVERAGE} of the fact's slots found in that turn's "
    "segment (names resolved as for fact_recalled; no polarity rule); from audio, a turn is "
    "the segments whose words were spoken in it, read together",
    "quote_kept": "every sentence of the gold child's words (names resolved, normalised) "
    "occurs as a contiguous token run inside a direct_quote statement; 'anywhere' variant: "
    "inside any statement",
    "opinion_as_fact": f"a statement fills >= {FACT_COVERAGE} of the opinion's slots and is "
    "not attributed (kind observed, or no speaker and no attribution word); an exchange "
    "written turn by turn ('Social worker: ... Dad: ...') is read as one statement a turn, "
    "each with its labelled speaker",
    "token_recall": "distinct content stems of the reference found anywhere in the note",
}


@dataclass(frozen=True)
class FactMatch:
    recalled: bool
    coverage: float
    statement: int | None
    """Index (in ``statements``) of the best-covering statement, None when there is none."""


def fact_coverage(
    fact: str,
    statements: Sequence[Statement],
    *,
    inverse: Mapping[str, frozenset[str]] | None = None,
    aliases: Mapping[str, str] | None = None,
    threshold: float = FACT_COVERAGE,
) -> FactMatch:
    """Whether one statement fills at least ``threshold`` of ``fact``'s slots, each with a word
    of the same polarity (module rules)."""
    gold = polar_slots(fact, inverse, aliases)
    best, where = 0.0, None
    for i, st in enumerate(statements):
        c = polar_coverage(gold, polar_keys(st))
        if c > best:
            best, where = c, i
    return FactMatch(recalled=bool(gold) and best >= threshold, coverage=best, statement=where)


def fact_cited(
    fact: str,
    segments: Sequence[RedactedSegment],
    statements: Sequence[Statement],
    *,
    inverse: Mapping[str, frozenset[str]] | None = None,
    aliases: Mapping[str, str] | None = None,
    threshold: float = FACT_COVERAGE,
) -> bool:
    """Whether, for each of ``segments`` (the redacted segments of the turns the gold fact
    names), some statement citing it fills at least ``threshold`` of the fact's slots that the
    segment's words (and speaker label) fill (module rules). ``statements`` should hold only
    statements verification did not flag. False when ``segments`` is empty."""
    return fact_cited_turns(
        fact,
        [[seg] for seg in segments],
        statements,
        inverse=inverse,
        aliases=aliases,
        threshold=threshold,
    )


def fact_cited_turns(
    fact: str,
    turns: Sequence[Sequence[RedactedSegment]],
    statements: Sequence[Statement],
    *,
    inverse: Mapping[str, frozenset[str]] | None = None,
    aliases: Mapping[str, str] | None = None,
    threshold: float = FACT_COVERAGE,
) -> bool:
    """:func:`fact_cited` where a turn may be several segments (a recording's transcript splits
    one spoken turn where Whisper or the speaker separation did): for each turn, some statement
    citing any of its segments fills ``threshold`` of the fact's slots that the turn's words
    (all its segments, and their speaker labels) fill. A turn of one segment is read exactly as
    :func:`fact_cited` reads it; a turn with no segment (nothing of it transcribed) is not
    cited. False when ``turns`` is empty."""
    gold = slots(fact, inverse, aliases)
    for segs in turns:
        said: set[str] = set()
        for seg in segs:
            said |= set(content_words(seg.text)) | set(content_words(seg.speaker or ""))
        part = [slot for slot in gold if slot & said]
        ids = {seg.id for seg in segs}
        if not any(
            ids.intersection(st.evidence) and coverage(part, statement_keys(st)) >= threshold
            for st in statements
        ):
            return False
    return bool(turns)


# --- quotes ----------------------------------------------------------------------------------
_FILLERS = frozenset("um umm uh er erm hmm mm mmm ah".split())
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")


def quote_tokens(text: str) -> list[str]:
    """Tokens for verbatim comparison: case and punctuation ignored, "n't" as "not", number
    words as digits, fillers dropped, placeholders whole."""
    return [
        t if t.startswith("[") else NUMBER_WORDS.get(t, t)
        for t in raw_tokens(text)
        if t not in _FILLERS
    ]


def resolve_names(text: str, inverse: Mapping[str, frozenset[str]]) -> str:
    """``text`` with each mapping value replaced by its placeholder (the lowest-numbered one when
    a value stands for several), longest values first."""
    out, pos = [], 0
    for start, end, value in value_spans(text, inverse):
        out.append(text[pos:start])
        out.append(min(inverse[value], key=_placeholder_order))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _placeholder_order(p: str) -> tuple[str, int]:
    head, _, num = p.strip("[]").rpartition("_")
    return head, int(num) if num.isdigit() else 0


def _contains(hay: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    return n > 0 and any(hay[i : i + n] == list(needle) for i in range(len(hay) - n + 1))


@dataclass(frozen=True)
class QuoteMatch:
    as_quote: bool
    """Every sentence inside some ``direct_quote`` statement."""
    anywhere: bool
    """Every sentence inside some statement of any kind."""


def quote_kept(
    words: str,
    statements: Sequence[Statement],
    *,
    inverse: Mapping[str, frozenset[str]] | None = None,
) -> QuoteMatch:
    """Whether the gold child's ``words`` are kept verbatim (module rules)."""
    resolved = resolve_names(words, inverse or {})
    parts = [quote_tokens(p) for p in _SENTENCE_RE.split(resolved.strip())]
    parts = [p for p in parts if p]
    if not parts:
        return QuoteMatch(True, True)
    toks = [quote_tokens(st.text) for st in statements]
    quotes = [
        t for t, st in zip(toks, statements, strict=True) if st.kind is StatementKind.DIRECT_QUOTE
    ]
    return QuoteMatch(
        as_quote=all(any(_contains(t, p) for t in quotes) for p in parts),
        anywhere=all(any(_contains(t, p) for t in toks) for p in parts),
    )


# --- opinions --------------------------------------------------------------------------------
ATTRIBUTION_RE = re.compile(
    r"\b(?:said|says|say|told|tells|reported|reports|stated|states|explained|explains|"
    r"described|describes|feels?|felt|thinks?|thought|believes?|believed|views?|considers?|"
    r"considered|according\s+to|denied|denies|disagreed?|disagrees|claimed|claims?|"
    r"insisted|insists|mentioned|shared|expressed|worried|wants?|wanted|hopes?|"
    r"opinion|perspective|in\s+(?:his|her|their)\s+words)\b",
    re.IGNORECASE,
)


def attributed(st: Statement) -> bool:
    """A statement presents a view as someone's: an attributed kind with a speaker, or
    attribution words in its text. ``observed`` is never attributed: it is what the worker saw."""
    if st.kind is StatementKind.OBSERVED:
        return False
    return bool(st.speaker) or bool(ATTRIBUTION_RE.search(st.text))


def turns(st: Statement, speakers: Iterable[str] = ()) -> list[Statement]:
    """An exchange written out turn by turn ("Social worker: Has he hurt you? Dad: Never."),
    a statement with no single speaker, as one statement a turn, each with the speaker its
    label names; words before the first label stay unlabelled. ``speakers`` are the
    recording's speaker labels: only these are read as labels, so a colon inside someone's
    words is not one. Any other statement is returned as it is."""
    labels = sorted({s for s in speakers if s}, key=len, reverse=True)
    if st.speaker or st.kind is StatementKind.OBSERVED or not labels:
        return [st]
    pattern = re.compile(r"(?:^|(?<=\s))(" + "|".join(map(re.escape, labels)) + r"): ")
    parts = pattern.split(st.text)
    if len(parts) == 1:
        return [st]
    pieces = [(None, parts[0])] + list(zip(parts[1::2], parts[2::2], strict=True))
    return [
        st.model_copy(update={"text": text.strip(), "speaker": speaker})
        for speaker, text in pieces
        if text.strip()
    ]


def opinion_as_fact(
    opinion: str,
    statements: Sequence[Statement],
    *,
    inverse: Mapping[str, frozenset[str]] | None = None,
    aliases: Mapping[str, str] | None = None,
    threshold: float = FACT_COVERAGE,
    speakers: Iterable[str] = (),
) -> bool:
    """Whether some statement carries ``opinion``'s content without attributing it. An
    exchange is read turn by turn (:func:`turns`, with the recording's ``speakers``): the
    words under a speaker's label are that speaker's, as the note shows them."""
    gold = slots(opinion, inverse, aliases)
    if not gold:
        return False
    labels = tuple(speakers)
    return any(
        coverage(gold, statement_keys(part)) >= threshold and not attributed(part)
        for st in statements
        for part in turns(st, labels)
    )


# --- free-text references --------------------------------------------------------------------
def token_recall(reference: str, statements: Sequence[Statement]) -> tuple[int, int]:
    """(found, total): distinct content keys of ``reference`` that occur anywhere in the note."""
    ref = {k for k in content_words(reference) if not k.startswith("[")}
    have: set[str] = set()
    for st in statements:
        have |= statement_keys(st)
    return len(ref & have), len(ref)


__all__ = [
    "FACT_COVERAGE",
    "MATCHING",
    "FactMatch",
    "QuoteMatch",
    "attributed",
    "canon",
    "content_words",
    "coverage",
    "fact_cited",
    "fact_cited_turns",
    "fact_coverage",
    "inverse_mapping",
    "opinion_as_fact",
    "polar_coverage",
    "polar_keys",
    "polar_slots",
    "quote_kept",
    "quote_tokens",
    "redacted_surfaces",
    "resolve_names",
    "slots",
    "statement_keys",
    "stem",
    "token_recall",
    "turns",
]
