"""Quotes: is a statement's quoted wording verbatim in the transcript?

The **quotes** rule of :mod:`assistant.review.verify` and the quote repair of
:mod:`assistant.review.repair` both read quotes through here: words inside quotation marks (or
the whole text of a ``direct_quote``) are compared token by token with the transcript after
normalising case, punctuation, whitespace, curly quotes, contractions ("don't" = "do not"),
single number words ("two" = "2") and fillers ("um", "er"). An ellipsis splits a quote into parts
that must each be found. Deterministic and model-free; nothing here logs or keeps text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.domain import RedactedSegment, Statement, StatementKind, excerpt
from assistant.review.wording import REPORTING_VERBS, TEENS, TENS, UNITS, normalise

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


def check_quotes(
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
        # the whole text is the quote; an ellipsis splits it as it splits a quoted span
        parts = [p for p in _ELLIPSIS_RE.split(st.text) if quote_tokens(p)] or [st.text]
        stripped = strip_attribution(quote_tokens(parts[0])) if parts else None
        alternatives = [parts]
        if stripped:
            alternatives.append([" ".join(stripped), *parts[1:]])
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
    return check_quotes(probe, index, frozenset())[0]
