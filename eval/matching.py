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
  instead of it.
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

Nothing here reads or logs anything but the texts it is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from assistant.domain import (
    PseudonymMap,
    RedactedSegment,
    RedactedTranscript,
    Statement,
    StatementKind,
    Transcript,
)

FACT_COVERAGE = 0.6
"""Share of a fact's content slots one statement must fill for the fact to count as recalled."""

MATCHING = {
    "content_words": "lowercase, n't -> not, placeholders whole, stopwords and reporting verbs "
    "dropped, number words as digits, light stem, small synonym table (eval.matching)",
    "fact_recalled": f"one statement (text + speaker label) fills >= {FACT_COVERAGE} of the "
    "fact's content slots, each with a word of the same polarity (negated: within "
    "NEGATION_SCOPE words after a negation cue in the same clause); names "
    "resolved to placeholders via the inverted PseudonymMap; a speaker-label role word ('Mum') "
    "is also filled by that person's placeholder",
    "fact_cited": "every turn the gold fact names is cited by a statement not flagged by "
    f"verification that fills >= {FACT_COVERAGE} of the fact's slots found in that turn's "
    "segment (names resolved as for fact_recalled; no polarity rule)",
    "quote_kept": "every sentence of the gold child's words (names resolved, normalised) "
    "occurs as a contiguous token run inside a direct_quote statement; 'anywhere' variant: "
    "inside any statement",
    "opinion_as_fact": f"a statement fills >= {FACT_COVERAGE} of the opinion's slots and is "
    "not attributed (kind observed, or no speaker and no attribution word); an exchange "
    "written turn by turn ('Social worker: ... Dad: ...') is read as one statement a turn, "
    "each with its labelled speaker",
    "token_recall": "distinct content stems of the reference found anywhere in the note",
}

PLACEHOLDER_RE = re.compile(r"\[[A-Z][A-Z0-9_]*_\d+\]")
_TRANSLATE = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u201c": '"', "\u201d": '"'}
)
_TOKEN_RE = re.compile(r"\[[A-Za-z][A-Za-z0-9_]*_\d+\]|[a-z]+(?:'[a-z]+)*|\d+(?:[.:]\d+)?")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing done down during each
    either else ever every few for from further get gets getting got had has have having he her
    here hers herself him himself his how i if in into is it its itself just let lets may me
    might more most much must my myself of off on once only or other our ours ourselves out over
    own quite rather really same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up upon us very was
    we well were what when where whether which while who whom whose why will with would yeah yes
    yet you your yours yourself yourselves okay ok oh um umm uh er erm hmm mm ah
    said says say saying told tell tells telling reported reports stated states explained
    explains described describes shared shares expressed expresses mentioned mentions added
    adds confirmed confirms noted notes commented replied responded asked asks answered
    indicated informed advised discussed spoke talked social worker practitioner sw""".split()
)
"""Words that carry no claim of their own. Negations are deliberately absent (they are content),
and so are "agreed" and "observed", which the gold uses for actions and observations."""

_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        """zero one two three four five six seven eight nine ten eleven twelve thirteen
        fourteen fifteen sixteen seventeen eighteen nineteen twenty""".split()
    )
} | {
    w: str(10 * i)
    for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)
}

_SYNONYMS = (
    "mum mummy mam mammy mom mommy mother",
    "dad daddy father",
    "nan nana nanna gran granny grandma grandmother",
    "grandad granddad grandpa grandfather",
    "child kid kiddie",
    "tv telly television",
    "scared frightened afraid terrified",
    "sad upset",
    "worry worried anxious",
    "toilet loo",
    "doctor gp",
    "baby infant",
)
"""Small and reviewable. Deliberately absent: violence verbs (a slap is not a punch), kinds of
abuse, and anything a note must record in the speaker's own terms."""

_IRREGULAR = dict(
    p.split(":")
    for p in """went:go gone:go goes:go saw:see seen:see felt:feel left:leave took:take
    taken:take came:come gave:give given:give ate:eat eaten:eat slept:sleep kept:keep
    bought:buy brought:bring thought:think fought:fight caught:catch knew:know known:know
    made:make found:find lost:lose sat:sit stood:stand wore:wear wrote:write written:write
    drank:drink drunk:drink ran:run spoke:speak broke:break broken:break fell:fall
    fallen:fall hid:hide hidden:hide threw:throw thrown:throw sent:send spent:spend met:meet
    paid:pay heard:hear meant:mean held:hold woke:wake children:child kids:kid men:man
    women:woman people:person feet:foot teeth:tooth better:good best:good worse:bad
    worst:bad beaten:beat hit:hit hurt:hurt died:die dying:die lying:lie""".split()
)


def stem(word: str) -> str:
    """A light, deterministic stem: irregular forms, plurals, -ing, -ed, -ly, final -e/-y.
    Both sides of every comparison go through it, so consistency matters more than accuracy
    ("make", "making", "made" -> "mak")."""
    w = _IRREGULAR.get(word, word)
    if "'" in w:
        w = w.split("'", 1)[0]  # "tyler's" -> "tyler"
    w = _IRREGULAR.get(w, w)
    if len(w) <= 3 or w.isdigit():
        return w
    if w.endswith(("ies", "ied")) and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ing") and len(w) >= 6:
        w = _undouble(w[:-3])
    elif w.endswith("ed") and not w.endswith("eed") and len(w) >= 5:
        w = _undouble(w[:-2])
    elif w.endswith("ly") and len(w) >= 6:
        w = w[:-2]
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    if w.endswith("y") and len(w) > 3:
        w = w[:-1] + "i"
    return w


def _undouble(w: str) -> str:
    return w[:-1] if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "lsz" else w


_CANON = {stem(w): stem(g.split()[0]) for g in _SYNONYMS for w in g.split()}


def canon(word: str) -> str:
    """The comparison key of one lowercase word: number words as digits, stem, synonym."""
    word = _NUMBER_WORDS.get(word, word)
    s = stem(word)
    return _CANON.get(s, s)


def _raw_tokens(text: str) -> list[str]:
    """Placeholders as written, other words lowercased, "n't" split off as "not"."""
    out: list[str] = []
    text = text.translate(_TRANSLATE)
    for m in _TOKEN_RE.finditer(PLACEHOLDER_RE.sub(lambda p: f" {p.group()} ", text).lower()):
        tok = m.group()
        if tok.startswith("["):
            out.append(tok.upper())
        elif tok.endswith("n't"):
            base = tok[:-3]
            out.extend([{"ca": "can", "wo": "will", "sha": "shall"}.get(base, base), "not"])
        else:
            out.append(tok)
    return out


def _content_key(tok: str) -> str | None:
    """The comparison key of one raw token (:func:`_raw_tokens`): a placeholder whole, a
    content word through :func:`canon`, None for a stopword."""
    if tok.startswith("["):
        return tok
    return None if tok in STOPWORDS else canon(tok)


def content_words(text: str) -> list[str]:
    """The comparison keys of ``text``'s content words, in order (placeholders kept whole)."""
    return [k for t in _raw_tokens(text) if (k := _content_key(t)) is not None]


# --- names -----------------------------------------------------------------------------------
def inverse_mapping(
    mapping: PseudonymMap | Mapping[str, str] | None,
    surfaces: Iterable[tuple[str, str]] = (),
) -> dict[str, frozenset[str]]:
    """Lowercased original value -> placeholders that stand for it. Each word of a person's name
    (two letters or more, not a stopword) maps to that person's placeholder too, as the redactor
    treats "Kasia", "Mrs Nowak" and "Kasia Nowak" as one person. ``surfaces`` adds every form
    actually redacted, as (original text, placeholder) pairs (:func:`redacted_surfaces`): the map
    keeps one surface per placeholder, so a nickname ("Jess" for "Jessica Pickering") is known
    only from the spans."""
    entries = mapping.entries if isinstance(mapping, PseudonymMap) else dict(mapping or {})
    out: dict[str, set[str]] = {}
    for placeholder, value in [*entries.items(), *((p, v) for v, p in surfaces)]:
        phrase = " ".join(value.translate(_TRANSLATE).lower().split())
        if not phrase:
            continue
        out.setdefault(phrase, set()).add(placeholder)
        if placeholder.startswith("[PERSON_"):
            for tok in re.findall(r"[a-z]+(?:['-][a-z]+)*", phrase):
                if len(tok) >= 2 and tok not in STOPWORDS:
                    out.setdefault(tok, set()).add(placeholder)
    return {k: frozenset(v) for k, v in out.items()}


def redacted_surfaces(
    transcript: Transcript, redacted: RedactedTranscript
) -> list[tuple[str, str]]:
    """(original text, placeholder) of every redacted span, from the redacted transcript's
    entity spans (offsets into the original segments)."""
    by_id = {s.id: s for s in transcript.segments}
    out = []
    for e in redacted.entities:
        seg = by_id.get(e.segment_id)
        if seg is None:
            continue
        source = seg.text if e.field == "text" else (seg.speaker or "")
        if 0 <= e.start < e.end <= len(source):
            out.append((source[e.start : e.end], e.placeholder))
    return out


def _value_spans(text: str, inverse: Mapping[str, frozenset[str]]) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, value) of mapping values in ``text``, longest first."""
    low = text.translate(_TRANSLATE).lower()
    taken: list[tuple[int, int, str]] = []
    for value in sorted(inverse, key=len, reverse=True):
        for m in re.finditer(rf"(?<![\w\[]){re.escape(value)}(?![\w\]])", low):
            if not any(m.start() < b and a < m.end() for a, b, _ in taken):
                taken.append((m.start(), m.end(), value))
    return sorted(taken)


Slot = frozenset[str]
"""The keys that fill one content position of a gold text (a word's key, or a name's
placeholders and words)."""


NEGATIONS = frozenset(
    """not no never nobody nothing none neither nor without cannot deny denies denied refuse
    refuses refused""".split()
)
"""Negation cues for the polarity rule ("n't" is read as "not")."""

NEGATION_SCOPE = 6
"""How many words after a negation cue it negates, at most (within the clause): "she's not
missed one in three weeks" negates "missed", "one", "3", "weeks"."""

_SCOPE_BREAKERS = frozenset(
    "and but so because while whereas then though although however who which".split()
)
"""Words that end a negation's scope: "no breakfast and is hungry" negates "breakfast" only
("or" does not end it: "not dealing or holding")."""
_SENTENCE_END_RE = re.compile(r"[.!?]+(?=\s|$)")
_CLAUSE_END_RE = re.compile(r"[;:,]+(?=\s|$)|\s[-\u2013\u2014]+\s")


class _Scope:
    """Reads a text's words in order and says which a negation cue negates (module rules);
    the state carries across pieces, so a name between two pieces counts as one word."""

    def __init__(self) -> None:
        self.left = 0

    def words(self, chunk: str) -> list[tuple[str, bool | None]]:
        """``chunk``'s raw tokens (:func:`_raw_tokens`), each with whether it is negated; None
        for the words of a question, which asserts nothing ("Has anyone talked about weapons?"
        is as much the question before "No." as before "Yes.")."""
        out: list[tuple[str, bool | None]] = []
        for sentence, end in _pieces(chunk, _SENTENCE_END_RE):
            question = "?" in end
            for clause, clause_end in _pieces(sentence, _CLAUSE_END_RE):
                for tok in _raw_tokens(clause):
                    if tok in NEGATIONS:
                        self.left = NEGATION_SCOPE
                        negated = False  # the cue itself is a word like any other
                    else:
                        if tok in _SCOPE_BREAKERS:
                            self.left = 0
                        negated = self.step()
                    out.append((tok, None if question else negated))
                if clause_end:
                    self.left = 0
            if end:
                self.left = 0
        return out

    def step(self) -> bool:
        """One word read: whether it is negated."""
        negated = self.left > 0
        self.left = max(0, self.left - 1)
        return negated


def _pieces(text: str, ends: re.Pattern[str]) -> list[tuple[str, str]]:
    """``text`` cut after each match of ``ends``: (piece, the match; "" for the last)."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in ends.finditer(text):
        out.append((text[pos : m.start()], m.group()))
        pos = m.end()
    out.append((text[pos:], ""))
    return out


PolarSlot = tuple[Slot, bool]
"""A slot and whether its word is negated (:data:`NEGATION_SCOPE`)."""


def polar_slots(
    text: str,
    inverse: Mapping[str, frozenset[str]] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> list[PolarSlot]:
    """``text`` as content slots, each with its polarity: each mapping value found in it is one
    slot (its placeholders, or its own words when it was not redacted); each other content
    word is one slot; a word in ``aliases`` (lowercase role word -> a person's name, e.g.
    "mum" -> "Gemma Marsh") is also filled by that person's placeholders."""
    inverse = inverse or {}
    aliases = {k.lower(): v for k, v in (aliases or {}).items()}
    out: list[PolarSlot] = []
    scope = _Scope()
    pos = 0

    def words(chunk: str) -> None:
        for tok, polarity in scope.words(chunk):
            neg = bool(polarity)  # a gold text's question, if any, is read as asserted
            key = _content_key(tok)
            if key is None:
                continue
            keys = {key}
            if tok in aliases:
                name = " ".join(aliases[tok].lower().split())
                keys |= set(inverse.get(name, ()))
                for part in name.split():
                    keys |= set(inverse.get(part, ()))
            out.append((frozenset(keys), neg))

    for start, end, value in _value_spans(text, inverse):
        words(text[pos:start])
        keys = set(inverse[value]) | {canon(t) for t in _raw_tokens(value) if t not in STOPWORDS}
        out.append((frozenset(keys), scope.step()))
        pos = end
    words(text[pos:])
    return out


def slots(
    text: str,
    inverse: Mapping[str, frozenset[str]] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> list[Slot]:
    """``text`` as content slots (:func:`polar_slots` without the polarity)."""
    return [slot for slot, _ in polar_slots(text, inverse, aliases)]


def statement_keys(st: Statement) -> frozenset[str]:
    """What a statement can fill: the keys of its text and of its speaker label."""
    return frozenset(content_words(st.text)) | frozenset(content_words(st.speaker or ""))


def polar_keys(st: Statement) -> frozenset[tuple[str, bool | None]]:
    """What a statement can fill, each key with its polarity where it occurs (a key both
    negated and not somewhere in the text occurs twice; None inside a question, which fills
    a slot of either polarity); the speaker label is never negated."""
    said = {
        (key, neg) for tok, neg in _Scope().words(st.text) if (key := _content_key(tok)) is not None
    }
    return frozenset(said | {(k, False) for k in content_words(st.speaker or "")})


def polar_coverage(gold: Sequence[PolarSlot], keys: Iterable[tuple[str, bool | None]]) -> float:
    """Share of ``gold``'s slots filled by a key of the same polarity, or by one asked about
    in a question (1.0 for a gold text with no slot)."""
    if not gold:
        return 1.0
    have = set(keys)
    return sum(
        any((k, neg) in have or (k, None) in have for k in slot) for slot, neg in gold
    ) / len(gold)


def coverage(gold: Sequence[Slot], keys: Iterable[str]) -> float:
    """Share of ``gold``'s slots with a key in ``keys`` (1.0 for a gold text with no slot)."""
    if not gold:
        return 1.0
    have = set(keys)
    return sum(bool(slot & have) for slot in gold) / len(gold)


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
    gold = slots(fact, inverse, aliases)
    for seg in segments:
        said = set(content_words(seg.text)) | set(content_words(seg.speaker or ""))
        part = [slot for slot in gold if slot & said]
        if not any(
            seg.id in st.evidence and coverage(part, statement_keys(st)) >= threshold
            for st in statements
        ):
            return False
    return bool(segments)


# --- quotes ----------------------------------------------------------------------------------
_FILLERS = frozenset("um umm uh er erm hmm mm mmm ah".split())
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")


def quote_tokens(text: str) -> list[str]:
    """Tokens for verbatim comparison: case and punctuation ignored, "n't" as "not", number
    words as digits, fillers dropped, placeholders whole."""
    return [
        t if t.startswith("[") else _NUMBER_WORDS.get(t, t)
        for t in _raw_tokens(text)
        if t not in _FILLERS
    ]


def resolve_names(text: str, inverse: Mapping[str, frozenset[str]]) -> str:
    """``text`` with each mapping value replaced by its placeholder (the lowest-numbered one when
    a value stands for several), longest values first."""
    out, pos = [], 0
    for start, end, value in _value_spans(text, inverse):
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
