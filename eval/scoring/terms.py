"""Term recall: did the transcript keep the social-care terms the speaker said?

A term counts as recalled when its words appear, in order and next to each other, in the
hypothesis, both sides normalised as ``eval.scoring.wer.normalise`` does (so "section
forty-seven" matches "section 47"), and with runs of single letters joined on both sides (so
"E.H.C.P." and "E H C P" match "EHCP"). One occurrence in the reference needs one in the
hypothesis: a term said twice and written once is one hit of two.

Case is ignored, except for the acronyms that are also everyday words (``EVERYDAY_WORDS``:
SEND, PEP, MASH): those count only written in capitals or spelt out, on both sides, since
"send the letter" is the verb, not SEND, and a record that writes "his send support" does
not spell the term as the council's list does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from eval.scoring.wer import normalise

#: Council acronyms that are also everyday words. In lower case they are the word ("I'll
#: send it today", "a pep talk"), not the term: the scenarios said "send" 20 times, never
#: SEND, and each counted as a term said (and written: an easy hit), or as a term invented
#: where Whisper wrote "send" for "sent" (eval/results/2026-12-07/asr-vocabulary-terms27).
EVERYDAY_WORDS = frozenset({"SEND", "PEP", "MASH"})


def tokens(text: str) -> list[str]:
    """Normalised words, with runs of single letters joined ("e h c p" -> "ehcp")."""
    out: list[str] = []
    run: list[str] = []
    for word in normalise(text).split():
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        if run:
            out.append("".join(run))
            run = []
        out.append(word)
    if run:
        out.append("".join(run))
    return out


def count(term: str, text: str) -> int:
    """How many times ``term`` occurs in ``text`` (non-overlapping, normalised); an
    ``EVERYDAY_WORDS`` term only in capitals or spelt out, not the everyday word."""
    if term in EVERYDAY_WORDS:
        # the word in any other case is the everyday word: blanked, not counted
        text = re.sub(
            rf"\b{term}\b", lambda m: m[0] if m[0] == term else " ", text, flags=re.IGNORECASE
        )
    needle, hay = tokens(term), tokens(text)
    if not needle:
        return 0
    n, i, found = len(needle), 0, 0
    while i + n <= len(hay):
        if hay[i : i + n] == needle:
            found += 1
            i += n
        else:
            i += 1
    return found


def terms_in(text: str, vocabulary: Iterable[str]) -> dict[str, int]:
    """The vocabulary's terms said in ``text``, with how often (only those said)."""
    said = {t: count(t, text) for t in vocabulary}
    return {t: n for t, n in said.items() if n}


def recall(items: Sequence[tuple[str, str]], vocabulary: Iterable[str]) -> tuple[int, int, dict]:
    """(hits, occurrences, per-term [hits, occurrences]) over (reference, hypothesis) pairs."""
    vocab = list(vocabulary)
    per_term: dict[str, list[int]] = {}
    for reference, hypothesis in items:
        for term, n in terms_in(reference, vocab).items():
            got = min(n, count(term, hypothesis))
            row = per_term.setdefault(term, [0, 0])
            row[0] += got
            row[1] += n
    hits = sum(r[0] for r in per_term.values())
    total = sum(r[1] for r in per_term.values())
    return hits, total, per_term


def invented(items: Sequence[tuple[str, str]], vocabulary: Iterable[str]) -> tuple[int, dict]:
    """Terms the hypothesis has that the reference does not: for each (reference, hypothesis)
    pair and term, the hypothesis's occurrences beyond the reference's. A vocabulary primes
    Whisper to hear its terms; written where nobody said them ("LADO" for "date of birth"),
    a term puts a safeguarding process into a record that never came up. (total, per term)"""
    vocab = list(vocabulary)
    per_term: dict[str, int] = {}
    for reference, hypothesis in items:
        for term, n in terms_in(hypothesis, vocab).items():
            extra = n - count(term, reference)
            if extra > 0:
                per_term[term] = per_term.get(term, 0) + extra
    return sum(per_term.values()), per_term
