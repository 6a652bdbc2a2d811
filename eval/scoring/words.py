"""Content words: the comparison keys the matching rules compare, and names resolved to them.

Both sides of every comparison (the gold text and the note's statement) go through these
functions; the rules that use them are in ``eval.scoring.matching``'s docstring. The stemmer is
this module's own, not the verifier's: the yardstick is not built from the thing it measures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from assistant.domain import PseudonymMap, RedactedTranscript, Transcript

PLACEHOLDER_RE = re.compile(r"\[[A-Z][A-Z0-9_]*_\d+\]")
TRANSLATE = str.maketrans(
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

NUMBER_WORDS = {
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
    word = NUMBER_WORDS.get(word, word)
    s = stem(word)
    return _CANON.get(s, s)


def raw_tokens(text: str) -> list[str]:
    """Placeholders as written, other words lowercased, "n't" split off as "not"."""
    out: list[str] = []
    text = text.translate(TRANSLATE)
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


def content_key(tok: str) -> str | None:
    """The comparison key of one raw token (:func:`raw_tokens`): a placeholder whole, a
    content word through :func:`canon`, None for a stopword."""
    if tok.startswith("["):
        return tok
    return None if tok in STOPWORDS else canon(tok)


def content_words(text: str) -> list[str]:
    """The comparison keys of ``text``'s content words, in order (placeholders kept whole)."""
    return [k for t in raw_tokens(text) if (k := content_key(t)) is not None]


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
        phrase = " ".join(value.translate(TRANSLATE).lower().split())
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


def value_spans(text: str, inverse: Mapping[str, frozenset[str]]) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, value) of mapping values in ``text``, longest first."""
    low = text.translate(TRANSLATE).lower()
    taken: list[tuple[int, int, str]] = []
    for value in sorted(inverse, key=len, reverse=True):
        for m in re.finditer(rf"(?<![\w\[]){re.escape(value)}(?![\w\]])", low):
            if not any(m.start() < b and a < m.end() for a, b, _ in taken):
                taken.append((m.start(), m.end(), value))
    return sorted(taken)
