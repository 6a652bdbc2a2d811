"""Word and character error rates after a documented text normalisation.

Raw WER punishes differences nobody cares about (``Mr.`` against ``mister``, ``colour`` against
``color``, ``07700`` against ``oh seven seven oh oh``), and how much it does depends on who
wrote the reference. Both sides are therefore normalised the same way first, and every result
should say it used this normalisation (``NORMALISATION_VERSION``).

``normalise`` applies these steps, in this order:

1. Unicode NFKC; lowercase; curly quotes and backticks become ``'``.
2. Symbols become words: ``£5`` -> ``5 pounds``, ``£5.50`` -> ``5 pounds 50``,
   ``%`` -> ``percent``, ``&`` -> ``and``;
   thousands separators between digits are dropped (``1,000`` -> ``1000``) and a decimal point
   between digits becomes the word ``point``.
3. Contractions are expanded from a table: ``can't`` -> ``cannot``, ``won't`` -> ``will not``,
   ``n't`` -> `` not``, ``'re`` -> `` are``, ``'ve`` -> `` have``, ``'ll`` -> `` will``,
   ``'m`` -> `` am``, ``'d`` -> `` would``, and ``'s`` -> `` is`` after pronouns and question
   words only (``it's``, ``that's``, ``where's`` ...; ``let's`` -> ``let us``). Other ``'s`` are
   possessives and stay attached (step 4 turns ``milo's`` into ``milos``).
4. Punctuation is removed: apostrophes are deleted (joining the word), every other character
   that is not a letter or digit becomes a space (``ill-disposed`` -> ``ill disposed``).
5. Spelling is unified to British from a small table (``color`` -> ``colour``, ``organize`` ->
   ``organise``, ``mom`` -> ``mum``, ``center`` -> ``centre`` ...; ``SPELLING``), titles are
   written out (``mr`` -> ``mister``, ``mrs`` -> ``missus``, ``ms`` -> ``miss``, ``dr`` ->
   ``doctor``) and ``okay`` becomes ``ok``.
6. Hesitations are dropped: ``um``, ``uh``, ``erm``, ``er``, ``hmm``, ``mm``, ``mhm``
   (Whisper leaves them out; human transcribers often do not).
7. Numbers become digits (words to digits, never the reverse). ``double``/``triple`` before a
   digit word repeat it (``double seven`` -> ``7 7``); ``oh`` and ``o`` become ``0`` when they
   stand in a run of digits (``oh seven seven oh oh``), never elsewhere (``oh no``); cardinal
   words are combined (``twenty one`` -> ``21``, ``one hundred and five`` -> ``105``,
   ``a hundred`` -> ``100``); ordinals keep their suffix (``twenty first`` -> ``21st``; a bare
   ``second`` stays a word, as it is usually the unit of time). Digits read one at a time
   stay separate numbers, and then
8. adjacent all-digit tokens are joined into one (``0 7 7 0 0`` -> ``07700``,
   ``nineteen ninety`` -> ``1990``, ``10 30`` -> ``1030``): a phone number, a year or a time
   counts as one word however it was spoken or written.
9. Whitespace is collapsed to single spaces and trimmed.

Counting is jiwer's (Levenshtein alignment); ``wer`` and ``cer`` pool the counts over a corpus
when given lists (a corpus WER, not an average of per-utterance rates).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import jiwer

NORMALISATION_VERSION = "1"
"""Record this with every WER result; bump it when a step or a table changes."""

SPELLING: dict[str, str] = {
    # American -> British. Only unambiguous forms: "practice"/"license" differ by part of
    # speech in British English, so they are not listed.
    "color": "colour",
    "colors": "colours",
    "colored": "coloured",
    "favorite": "favourite",
    "favorites": "favourites",
    "favor": "favour",
    "behavior": "behaviour",
    "behaviors": "behaviours",
    "behavioral": "behavioural",
    "neighbor": "neighbour",
    "neighbors": "neighbours",
    "neighborhood": "neighbourhood",
    "honor": "honour",
    "humor": "humour",
    "labor": "labour",
    "center": "centre",
    "centers": "centres",
    "theater": "theatre",
    "meter": "metre",
    "organize": "organise",
    "organized": "organised",
    "organizing": "organising",
    "organization": "organisation",
    "organizations": "organisations",
    "realize": "realise",
    "realized": "realised",
    "recognize": "recognise",
    "recognized": "recognised",
    "apologize": "apologise",
    "apologized": "apologised",
    "criticize": "criticise",
    "emphasize": "emphasise",
    "prioritize": "prioritise",
    "summarize": "summarise",
    "analyze": "analyse",
    "analyzed": "analysed",
    "defense": "defence",
    "offense": "offence",
    "program": "programme",
    "programs": "programmes",
    "pediatric": "paediatric",
    "pediatrician": "paediatrician",
    "diarrhea": "diarrhoea",
    "anemia": "anaemia",
    "esophagus": "oesophagus",
    "gray": "grey",
    "traveled": "travelled",
    "traveling": "travelling",
    "canceled": "cancelled",
    "canceling": "cancelling",
    "counselor": "counsellor",
    "counseling": "counselling",
    "enrollment": "enrolment",
    "fulfill": "fulfil",
    "judgment": "judgement",
    "mold": "mould",
    "pajamas": "pyjamas",
    "tire": "tyre",
    "tires": "tyres",
    "mom": "mum",
    "moms": "mums",
    "mommy": "mummy",
    "momma": "mum",
}

_WORD_FORMS = {"mr": "mister", "mrs": "missus", "ms": "miss", "dr": "doctor", "okay": "ok"}
_HESITATIONS = frozenset({"um", "uh", "erm", "er", "hmm", "mm", "mhm", "umm", "uhm"})

_CONTRACTIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in [
        (r"\bcan't\b", "cannot"),
        (r"\bwon't\b", "will not"),
        (r"\bshan't\b", "shall not"),
        (r"\bain't\b", "is not"),
        (r"\blet's\b", "let us"),
        (r"\by'all\b", "you all"),
        (r"n't\b", " not"),
        (r"'re\b", " are"),
        (r"'ve\b", " have"),
        (r"'ll\b", " will"),
        (r"\bi'm\b", "i am"),
        (r"'d\b", " would"),
        (
            r"\b(it|that|what|there|here|he|she|who|where|how|when|why|this|everything|"
            r"nothing|something|someone|everyone)'s\b",
            r"\1 is",
        ),
    ]
]

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"thousand": 1_000, "million": 1_000_000}
_ORDINAL_UNITS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
}  # fmt: skip
_ORDINAL_OTHER = {
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50,
    "sixtieth": 60, "seventieth": 70, "eightieth": 80, "ninetieth": 90,
    "hundredth": 100, "thousandth": 1000,
}  # fmt: skip
_ZERO_WORDS = frozenset({"oh", "o"})
_REPEATERS = {"double": 2, "triple": 3}


def normalise(text: str) -> str:
    """Normalise ``text`` as the module docstring lists; the same function for both sides."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[\u2018\u2019\u201b`\u00b4]", "'", text)
    text = re.sub(r"£\s*(\d[\d,]*)\.(\d\d)\b", r"\1 pounds \2 ", text)
    text = re.sub(r"£\s*(\d[\d,]*(?:\.\d+)?)", r"\1 pounds ", text)
    text = text.replace("%", " percent ").replace("&", " and ")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"(?<=\d)\.(?=\d)", " point ", text)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    text = text.replace("'", "")
    text = re.sub(r"[^\w\s]|_", " ", text)
    words = [SPELLING.get(w, _WORD_FORMS.get(w, w)) for w in text.split()]
    words = [w for w in words if w not in _HESITATIONS]
    words = _numbers_to_digits(words)
    return " ".join(_join_digit_runs(words))


def error_counts(reference: str | Sequence[str], hypothesis: str | Sequence[str]) -> dict[str, int]:
    """Word-level ``substitutions``, ``deletions``, ``insertions`` and ``hits`` after
    normalisation, pooled over the corpus when given lists; ``reference_words`` is their
    denominator."""
    return _counts(reference, hypothesis, characters=False)


def wer(reference: str | Sequence[str], hypothesis: str | Sequence[str]) -> float:
    """Word error rate after normalisation: (S + D + I) / reference words. Lower is better."""
    return _rate(error_counts(reference, hypothesis))


def cer(reference: str | Sequence[str], hypothesis: str | Sequence[str]) -> float:
    """Character error rate after normalisation (spaces count as characters)."""
    return _rate(_counts(reference, hypothesis, characters=True))


# --- internals ------------------------------------------------------------------------------
def _pairs(
    reference: str | Sequence[str], hypothesis: str | Sequence[str]
) -> list[tuple[str, str]]:
    refs = [reference] if isinstance(reference, str) else list(reference)
    hyps = [hypothesis] if isinstance(hypothesis, str) else list(hypothesis)
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    return [(normalise(r), normalise(h)) for r, h in zip(refs, hyps, strict=True)]


def _counts(
    reference: str | Sequence[str], hypothesis: str | Sequence[str], *, characters: bool
) -> dict[str, int]:
    totals = {"substitutions": 0, "deletions": 0, "insertions": 0, "hits": 0}
    for ref, hyp in _pairs(reference, hypothesis):
        if not ref:
            # jiwer refuses empty references; everything hypothesised is inserted.
            totals["insertions"] += len(hyp) if characters else len(hyp.split())
            continue
        out = jiwer.process_characters(ref, hyp) if characters else jiwer.process_words(ref, hyp)
        for key in totals:
            totals[key] += getattr(out, key)
    totals["reference_words" if not characters else "reference_chars"] = (
        totals["substitutions"] + totals["deletions"] + totals["hits"]
    )
    return totals


def _rate(counts: dict[str, int]) -> float:
    n = counts["substitutions"] + counts["deletions"] + counts["hits"]
    errors = counts["substitutions"] + counts["deletions"] + counts["insertions"]
    if n == 0:
        if errors == 0:
            return 0.0
        raise ValueError("the reference is empty after normalisation")
    return errors / n


def _is_digits(word: str) -> bool:
    return word.isascii() and word.isdigit()


def _numbers_to_digits(words: list[str]) -> list[str]:
    words = _expand_digit_runs(words)
    out: list[str] = []
    i = 0
    while i < len(words):
        parsed = _parse_number(words, i)
        if parsed is None:
            out.append(words[i])
            i += 1
        else:
            value, i = parsed
            out.append(value)
    return out


def _expand_digit_runs(words: list[str]) -> list[str]:
    """Inside runs of digit words: ``double``/``triple`` repeat, ``oh``/``o`` mean zero."""
    digitish = set(_UNITS) | _ZERO_WORDS | set(_REPEATERS)
    out: list[str] = []
    i = 0
    while i < len(words):
        if words[i] not in digitish and not _is_digits(words[i]):
            out.append(words[i])
            i += 1
            continue
        j = i
        while j < len(words) and (words[j] in digitish or _is_digits(words[j])):
            j += 1
        run = words[i:j]
        real_digits = [w for w in run if w in _UNITS or _is_digits(w)]
        if not real_digits:
            out.extend(run)  # "oh", "double" on their own are ordinary words
        else:
            k = 0
            while k < len(run):
                w = run[k]
                nxt = run[k + 1] if k + 1 < len(run) else None
                if w in _REPEATERS and nxt is not None and (nxt in _UNITS or nxt in _ZERO_WORDS):
                    digit = "zero" if nxt in _ZERO_WORDS else nxt
                    out.extend([digit] * _REPEATERS[w])
                    k += 2
                    continue
                out.append("zero" if w in _ZERO_WORDS else w)
                k += 1
        i = j
    return out


def _parse_number(words: list[str], i: int) -> tuple[str, int] | None:
    """Parse one spoken number starting at ``words[i]``; return its digits and where it ends.

    A digit read after another digit starts a new number (``nine oh oh`` is three numbers,
    joined later); ``twenty one`` and ``two hundred and five`` are one."""
    total = 0  # completed thousands/millions
    group: int | None = None  # the part below a thousand being built
    last: str | None = None  # unit, teen, tens, hundred, scale
    j = i
    if words[i] == "a" and i + 1 < len(words) and words[i + 1] in ("hundred", *_SCALES):
        group, last, j = 1, "unit", i + 1
    while j < len(words):
        w = words[j]
        if w == "zero" and last is not None:
            break  # "twenty oh five" is 20, 0, 5 (joined later: 2005), not 20
        if w in _UNITS and last in (None, "tens", "hundred", "scale"):
            group, last = (group or 0) + _UNITS[w], "unit"
        elif w in _TEENS and last in (None, "hundred", "scale"):
            group, last = (group or 0) + _TEENS[w], "teen"
        elif w in _TENS and last in (None, "hundred", "scale"):
            group, last = (group or 0) + _TENS[w], "tens"
        elif w == "hundred" and last in ("unit", "teen") and (group or 0) < 100:
            group, last = (group or 0) * 100, "hundred"
        elif w == "hundred" and last is None:
            group, last = 100, "hundred"
        elif w in _SCALES and last in ("unit", "teen", "tens", "hundred"):
            total, group, last = total + (group or 0) * _SCALES[w], None, "scale"
        elif (
            w == "and"
            and last in ("hundred", "scale")
            and j + 1 < len(words)
            and (words[j + 1] in _UNITS or words[j + 1] in _TEENS or words[j + 1] in _TENS)
        ):
            pass
        elif w in _ORDINAL_UNITS and (last in ("tens", "hundred", "scale") or w != "second"):
            if last in ("unit", "teen"):
                break
            value = total + (group or 0) + _ORDINAL_UNITS[w]
            return _ordinal(value), j + 1
        elif w in _ORDINAL_OTHER and last in (None, "hundred", "scale", "unit"):
            base = _ORDINAL_OTHER[w]
            if base in (100, 1000):
                value = total + (group or 1) * base
            elif last == "unit":
                break
            else:
                value = total + (group or 0) + base
            return _ordinal(value), j + 1
        else:
            break
        j += 1
    if last is None:
        return None
    if j == i + 1 and words[i] == "a":
        return None
    return str(total + (group or 0)), j


def _ordinal(value: int) -> str:
    if 10 <= value % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value}{suffix}"


def _join_digit_runs(words: list[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        if out and _is_digits(w) and _is_digits(out[-1]):
            out[-1] += w
        else:
            out.append(w)
    return out
