"""Verification stage: DraftNote -> (DraftNote with findings, VerificationReport), checked in code.

Why in code: AI case-recording tools have been found inventing things nobody said (a reference
to suicidal ideation) and garbling what a child did say. Asking the model whether it made
something up is no check, so every statement is compared, deterministically and without a
model, with the text of the transcript segments it cites. Nothing is deleted here: a statement
that fails a check keeps its place and gains a flag, so the practitioner sees it as unverified
rather than as fact (red-flag claims are gated separately by :mod:`assistant.review.safeguarding`).

Rules, in the order they run (flag in brackets; ``<reason>`` is a :class:`Reason`):

* **evidence** (``unsupported:no_evidence``, ``unsupported:unknown_evidence``): a statement must
  cite at least one segment of this transcript.
* **quotes** (``quote_not_found``, ``evidence_corrected``): words inside quotation marks, and the
  whole text of a ``direct_quote`` without them, must occur verbatim in the transcript after
  normalising case, punctuation, whitespace, curly quotes, contractions ("don't" = "do not"),
  single number words ("two" = "2") and fillers ("um", "er"). An ellipsis splits a quote into
  parts that must each be found. Found only in other segments: the evidence is replaced by the
  segments where it was found (``evidence_corrected``) and the other checks use those. A
  statement whose text is exactly its cited segments' words (:func:`excerpt`: how extractive
  templates build every statement) is the transcript by construction and needs no search.
* **placeholder** (``unsupported:placeholder``): every ``[PERSON_1]``-style placeholder in the
  statement appears in a cited segment's text or speaker label.
* **number** (``unsupported:number``): every number in the statement (digits, number words,
  ordinals, times, ages, dates) appears in the cited segments. The statement is read strictly
  ("one" counts only where it is plainly a number: "one o'clock", "twenty-one"; "first" only in
  a date) and the evidence generously ("one", "once", "twice", "half past", "3pm" = 15), so a
  difference is a real difference.
* **negation** (``unsupported:negation``): a statement with a negation ("not", "never", "no",
  "n't", "nobody", "denied", "refused", "without", "unsafe" ...) needs one in its evidence, and
  the words it negates must not appear in the evidence only un-negated; a statement without
  one must not assert words the evidence uses only under a negation (flipped polarity). A
  negation governs the next :data:`NEGATION_WINDOW` words of its clause; questions in the
  evidence ("Have you ever hurt yourself?") neither assert nor deny.
* **content** (``unsupported:content``): at least :data:`CONTENT_SUPPORT_THRESHOLD` of the
  statement's distinct content words (stopwords, reporting verbs such as "said" and the
  attribution before them dropped) are found in the cited segments by light stem, with a small
  synonym table (mum = mother, scared = frightened, hurt = harm ...) and prefix tolerance.
  Pass a loaded spaCy pipeline as ``nlp`` to compare by lemma as well.
* **speaker** (``unsupported:speaker``): a reported, opinion or quoted statement attributed to a
  speaker should cite at least one segment that speaker said (or that names them).
* **low confidence** (``low_confidence_words``): the statement uses a word the recogniser was
  unsure of in a cited segment (content words, numbers and negations; not "the" or "and").

``evidence_corrected`` and ``low_confidence_words`` are warnings: the statement still counts as
supported. Running ``verify_note`` again replaces this module's earlier findings (except
``evidence_corrected``, which records a change already made) and keeps other modules' flags.

Nothing here logs, raises or reports statement or transcript text: the report holds section
keys, indexes, reasons and counts only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from assistant.domain import (
    excerpt,
    DraftNote,
    RedactedSegment,
    RedactedTranscript,
    Statement,
    StatementKind,
)
from assistant.review.wording import (
    BOUNDARY,
    CLAUSE_BREAKS,
    NUMBER_WORDS,
    PLACEHOLDER_RE,
    REPORTING_VERBS,
    SCOPE_ENDERS,
    TEENS,
    TENS,
    UN_WORDS,
    UNITS,
    canon,
    cue_at,
    is_content,
    is_cue,
    matching_stems,
    normalise,
    numbers,
    word_tokens,
)

CONTENT_SUPPORT_THRESHOLD = 0.5
"""Share of a statement's distinct content words that must be found in its cited segments.
0.5 lets a statement paraphrase ("the child said she likes school" for "I like it at school")
while catching one that is mostly about something the evidence does not mention."""
NEGATION_WINDOW = 5
"""Words after a negation cue that it governs (stopping at punctuation and "but"/"because")."""

FLAG_UNSUPPORTED_PREFIX = "unsupported:"
FLAG_QUOTE_NOT_FOUND = "quote_not_found"
FLAG_EVIDENCE_CORRECTED = "evidence_corrected"
FLAG_LOW_CONFIDENCE = "low_confidence_words"


class Reason(StrEnum):
    """Why a statement is unsupported. Stable: flags and report counts use these values."""

    NO_EVIDENCE = "no_evidence"
    UNKNOWN_EVIDENCE = "unknown_evidence"
    QUOTE_NOT_FOUND = "quote_not_found"
    PLACEHOLDER = "placeholder"
    NUMBER = "number"
    NEGATION = "negation"
    CONTENT = "content"
    SPEAKER = "speaker"


def flag_for(reason: Reason) -> str:
    """The flag for ``reason``: ``quote_not_found`` or ``unsupported:<reason>``."""
    if reason is Reason.QUOTE_NOT_FOUND:
        return FLAG_QUOTE_NOT_FOUND
    return f"{FLAG_UNSUPPORTED_PREFIX}{reason.value}"


_OWN_FLAGS = frozenset({flag_for(r) for r in Reason} | {FLAG_LOW_CONFIDENCE})
"""Findings recomputed on every run (``evidence_corrected`` is history and stays)."""


# --- report ---------------------------------------------------------------------------------
class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StatementCheck(_Frozen):
    """The result for one statement, addressed by section key and index; no text."""

    section: str
    index: int
    reasons: tuple[Reason, ...] = ()
    content_support: float = 1.0
    evidence_corrected: bool = False
    low_confidence: bool = False

    @property
    def supported(self) -> bool:
        return not self.reasons


class VerificationReport(_Frozen):
    """What verification found, safe to log: keys, indexes, reasons and counts only."""

    threshold: float
    results: tuple[StatementCheck, ...]

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def supported(self) -> int:
        return sum(r.supported for r in self.results)

    @property
    def unsupported(self) -> int:
        return self.total - self.supported

    @property
    def by_reason(self) -> dict[str, int]:
        counts = Counter(reason.value for r in self.results for reason in r.reasons)
        return {reason.value: counts[reason.value] for reason in Reason}

    def summary(self) -> dict[str, Any]:
        """Counts for logs and metrics."""
        return {
            "total": self.total,
            "supported": self.supported,
            "unsupported": self.unsupported,
            "by_reason": self.by_reason,
            "evidence_corrected": sum(r.evidence_corrected for r in self.results),
            "low_confidence_words": sum(r.low_confidence for r in self.results),
            "threshold": self.threshold,
        }


# --- quotes ---------------------------------------------------------------------------------
_QUOTED_RES = (
    re.compile(r'"([^"]+)"'),
    re.compile(r"(?:^|(?<=[\s(\[:,]))'(.+?)'(?=$|[\s).,;:!?\]])"),
)
_ELLIPSIS_RE = re.compile(r"\.\.\.+|\u2026")
_QUOTE_TOKEN_RE = re.compile(r"\[[a-z][a-z0-9_]*_\d+\]|[a-z0-9]+(?:'[a-z]+)*")
_EXPAND = {
    "can't": "can not",
    "cannot": "can not",
    "won't": "will not",
    "shan't": "shall not",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "isnt": "is not",
    "wasnt": "was not",
    "arent": "are not",
    "werent": "were not",
    "havent": "have not",
    "hasnt": "has not",
    "hadnt": "had not",
    "couldnt": "could not",
    "wouldnt": "would not",
    "shouldnt": "should not",
    "cant": "can not",
    "im": "i am",
    "ive": "i have",
    "youre": "you are",
    "theyre": "they are",
    "gonna": "going to",
    "wanna": "want to",
    "gotta": "got to",
    "cos": "because",
    "coz": "because",
    "cause": "because",
    "ok": "okay",
}
_FILLERS = frozenset("um umm uh er erm hmm mm mmm ah".split())
_SIMPLE_NUMBERS = {
    **{k: str(v) for k, v in UNITS.items()},
    **{k: str(v) for k, v in TEENS.items()},
    **{k: str(v) for k, v in TENS.items()},
}


def quote_tokens(text: str) -> list[str]:
    """Tokens for verbatim comparison: case, punctuation and spacing ignored, contractions
    expanded, single number words as digits, fillers dropped, placeholders kept whole."""
    out: list[str] = []
    for tok in _QUOTE_TOKEN_RE.findall(normalise(text).casefold()):
        if tok in _EXPAND:
            out.extend(_EXPAND[tok].split())
        elif tok.endswith("n't"):
            out.extend((tok[:-3], "not"))
        elif tok.endswith(("'m", "'re", "'ve", "'ll")):
            base, clitic = tok.rsplit("'", 1)
            out.extend((base, {"m": "am", "re": "are", "ve": "have", "ll": "will"}[clitic]))
        elif tok not in _FILLERS:
            out.append(_SIMPLE_NUMBERS.get(tok, tok))
    return out


def quoted_spans(text: str) -> list[str]:
    """The parts of ``text`` inside quotation marks (straight or curly, double or single)."""
    text = normalise(text)
    for pattern in _QUOTED_RES:
        spans = [m.group(1) for m in pattern.finditer(text) if m.group(1).strip()]
        if spans:
            return spans
    return []


def strip_attribution(tokens: list[str]) -> list[str] | None:
    """Tokens after a leading "[PERSON_1] said (that)" when the reporting verb is near the
    start; None when there is none."""
    for i, tok in enumerate(tokens[:8]):
        if tok in REPORTING_VERBS:
            rest = tokens[i + 1 :]
            return rest[1:] if rest[:1] == ["that"] else rest
    return None


class QuoteIndex:
    """The whole transcript as one token stream, each token knowing its segment."""

    def __init__(self, segments: Sequence[RedactedSegment]):
        self.tokens: list[str] = []
        self.owner: list[str] = []
        for seg in segments:
            toks = quote_tokens(seg.text)
            self.tokens.extend(toks)
            self.owner.extend([seg.id] * len(toks))

    def find(self, needle: Sequence[str]) -> list[frozenset[str]]:
        """Segment ids covered by each occurrence of ``needle``, in transcript order."""
        n = len(needle)
        if not n:
            return []
        first = needle[0]
        hits = []
        for i, tok in enumerate(self.tokens):
            if tok == first and self.tokens[i : i + n] == list(needle):
                hits.append(frozenset(self.owner[i : i + n]))
        return hits


def _check_quotes(
    st: Statement, index: QuoteIndex, cited: frozenset[str]
) -> tuple[bool, frozenset[str] | None]:
    """(found, corrected evidence or None). A quote found in the cited segments wins over the
    same words elsewhere; otherwise its first occurrence in the transcript is used."""
    spans = quoted_spans(st.text)
    if spans:
        candidates = [[p for p in _ELLIPSIS_RE.split(span) if quote_tokens(p)] for span in spans]
        parts = [p for c in candidates for p in c]
        alternatives = [parts]
    else:
        whole = quote_tokens(st.text)
        stripped = strip_attribution(whole)
        alternatives = [[st.text]]
        if stripped:
            alternatives.append([" ".join(stripped)])
    if not any(alternatives):
        return True, None
    for parts in alternatives:
        used: set[str] = set()
        moved = False
        for part in parts:
            hits = index.find(quote_tokens(part))
            if not hits:
                break
            inside = [h for h in hits if h <= cited]
            if inside:
                used |= inside[0]
            else:
                used |= hits[0]
                moved = True
        else:
            return True, frozenset(used) if moved else None
    return False, None


def is_excerpt(st: Statement, cited: Sequence[RedactedSegment]) -> bool:
    """Whether ``st``'s text is exactly the words of its cited segments (:func:`excerpt`)."""
    return bool(cited) and st.text == excerpt(cited)[0]


def quote_in_transcript(text: str, index: QuoteIndex) -> bool:
    """Whether ``text``, read as a direct quote (quoted parts, or the whole text with or
    without a leading attribution), occurs verbatim in the transcript ``index`` was built on."""
    probe = Statement(text=text, kind=StatementKind.DIRECT_QUOTE, evidence=())
    return _check_quotes(probe, index, frozenset())[0]


# --- evidence -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _View:
    """What the checks need from a piece of text, computed once."""

    stems: frozenset[str]
    negated: frozenset[str]
    asserted: frozenset[str]
    has_cue: bool
    numbers: frozenset[str]
    placeholders: frozenset[str]
    words: frozenset[str]


def _view(text: str, *, generous: bool, nlp: Any = None, content_text: str | None = None) -> _View:
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
    return _View(
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


def _merge(views: Sequence[_View]) -> _View:
    def union(attr: str) -> frozenset[str]:
        return frozenset().union(*(getattr(v, attr) for v in views))

    return _View(
        stems=union("stems"),
        negated=union("negated"),
        asserted=union("asserted"),
        has_cue=any(v.has_cue for v in views),
        numbers=union("numbers"),
        placeholders=union("placeholders"),
        words=union("words"),
    )


def _significant(word: str) -> bool:
    return is_content(word) or is_cue(word) or word in NUMBER_WORDS or word[0].isdigit()


# --- the check ------------------------------------------------------------------------------
_ATTRIBUTED = frozenset({StatementKind.REPORTED, StatementKind.OPINION, StatementKind.DIRECT_QUOTE})


def verify_note(
    note: DraftNote,
    transcript: RedactedTranscript,
    *,
    nlp: Any = None,
    threshold: float = CONTENT_SUPPORT_THRESHOLD,
) -> tuple[DraftNote, VerificationReport]:
    """Check every statement against its cited segments; return the note with findings added
    to each statement's ``flags`` (and quote evidence corrected) plus a loggable report.

    ``nlp``: an optional loaded spaCy pipeline, used only for lemmas in the content check."""
    segments = {s.id: s for s in transcript.segments}
    order = {s.id: i for i, s in enumerate(transcript.segments)}
    views: dict[str, _View] = {}
    quote_index: QuoteIndex | None = None

    def seg_view(sid: str) -> _View:
        if sid not in views:
            seg = segments[sid]
            text = seg.text if not seg.speaker else f"{seg.text}\n{seg.speaker}"
            views[sid] = _view(text, generous=True, nlp=nlp, content_text=seg.text)
        return views[sid]

    results: list[StatementCheck] = []
    new_sections = []
    for section in note.sections:
        new_statements = []
        for idx, st in enumerate(section.statements):
            if quote_index is None and (
                st.kind is StatementKind.DIRECT_QUOTE or quoted_spans(st.text)
            ):
                quote_index = QuoteIndex(transcript.segments)
            checked, check = _check_statement(
                st, section.key, idx, segments, order, seg_view, quote_index, nlp, threshold
            )
            new_statements.append(checked)
            results.append(check)
        new_sections.append(section.model_copy(update={"statements": tuple(new_statements)}))
    report = VerificationReport(threshold=threshold, results=tuple(results))
    return note.model_copy(update={"sections": tuple(new_sections)}), report


def _check_statement(
    st: Statement,
    section: str,
    idx: int,
    segments: Mapping[str, RedactedSegment],
    order: Mapping[str, int],
    seg_view: Callable[[str], _View],
    quote_index: QuoteIndex | None,
    nlp: Any,
    threshold: float,
) -> tuple[Statement, StatementCheck]:
    reasons: list[Reason] = []
    evidence = tuple(st.evidence)
    known = tuple(e for e in evidence if e in segments)
    if not evidence:
        reasons.append(Reason.NO_EVIDENCE)
    elif len(known) < len(evidence):
        reasons.append(Reason.UNKNOWN_EVIDENCE)

    corrected = False
    quoted = st.kind is StatementKind.DIRECT_QUOTE or bool(quoted_spans(st.text))
    if is_excerpt(st, [segments[sid] for sid in known]):
        quoted = False  # the cited segments' own words, turn by turn: nothing to look for
    if quoted and quote_index is not None:
        found, new_evidence = _check_quotes(st, quote_index, frozenset(known))
        if not found:
            reasons.append(Reason.QUOTE_NOT_FOUND)
        elif new_evidence is not None:
            evidence = known = tuple(sorted(new_evidence, key=order.__getitem__))
            corrected = True
            if Reason.NO_EVIDENCE in reasons:
                reasons.remove(Reason.NO_EVIDENCE)
            if Reason.UNKNOWN_EVIDENCE in reasons:
                reasons.remove(Reason.UNKNOWN_EVIDENCE)

    support = 0.0
    low_confidence = False
    if known:
        ev = _merge([seg_view(sid) for sid in known])
        toks = word_tokens(st.text)
        content_toks = strip_attribution(toks)
        content_text = " ".join(content_toks) if content_toks else st.text
        sv = _view(st.text, generous=False, nlp=nlp, content_text=content_text)
        if not sv.placeholders <= ev.placeholders:
            reasons.append(Reason.PLACEHOLDER)
        if not sv.numbers <= ev.numbers:
            reasons.append(Reason.NUMBER)
        if _negation_mismatch(sv, ev):
            reasons.append(Reason.NEGATION)
        support = _support(sv.stems, ev.stems)
        if support < threshold:
            reasons.append(Reason.CONTENT)
        if st.speaker and st.kind in _ATTRIBUTED:
            speakers = {segments[sid].speaker for sid in known if segments[sid].speaker}
            if speakers and st.speaker not in speakers and st.speaker not in ev.placeholders:
                reasons.append(Reason.SPEAKER)
        unsure = {
            t
            for sid in known
            for word in segments[sid].low_confidence_words
            for t in word_tokens(word)
            if _significant(t)
        }
        low_confidence = bool(unsure & set(toks))

    flags = [f for f in st.flags if f not in _OWN_FLAGS]
    new = [flag_for(r) for r in reasons]
    if corrected:
        new.append(FLAG_EVIDENCE_CORRECTED)
    if low_confidence:
        new.append(FLAG_LOW_CONFIDENCE)
    flags += [f for f in new if f not in flags]
    checked = st.model_copy(update={"flags": tuple(flags), "evidence": evidence})
    check = StatementCheck(
        section=section,
        index=idx,
        reasons=tuple(reasons),
        content_support=round(support if known else 0.0, 3),
        evidence_corrected=corrected,
        low_confidence=low_confidence,
    )
    return checked, check


def _support(stems: frozenset[str], evidence: frozenset[str]) -> float:
    if not stems:
        return 1.0
    return sum(bool(matching_stems(s, evidence)) for s in stems) / len(stems)


def _negation_mismatch(sv: _View, ev: _View) -> bool:
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
