"""Words as verification reads them: normalisation, tokens, negation cues, light stems and
synonyms, and numbers in every spoken and written form.

Shared by verification (:mod:`assistant.review.evidence`, :mod:`assistant.review.quotes`: is a
statement's wording in its evidence?) and the safeguarding lexicon
(:mod:`assistant.review.redflag_lexicon`). Deterministic and model-free; nothing here logs or
keeps text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

PREFIX_MATCH_MIN = 4
"""Two stems match when one begins with the other and the shorter has at least this many letters
("frighten"/"frightening", "happi"/"happiness")."""

# --- text -----------------------------------------------------------------------------------
PLACEHOLDER_RE = re.compile(r"\[[A-Z][A-Z0-9_]*_\d+\]")
_TRANSLATE = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00a0": " ",
        "\u2013": "-",
        "\u2014": "-",
    }
)
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[.,;:!?]")
BOUNDARY = frozenset(".,;:!?")
_CLITICS = ("'s", "'re", "'ve", "'ll", "'d", "'m")


def normalise(text: str) -> str:
    """Straight apostrophes and quotes, plain spaces and hyphens (same length as the input)."""
    return text.translate(_TRANSLATE)


def word_tokens(text: str) -> list[str]:
    """Lower-case words, numbers and clause punctuation, placeholders removed."""
    return _TOKEN_RE.findall(PLACEHOLDER_RE.sub(" ", normalise(text)).casefold())


_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing done down during each either else
    ever every few for from further get gets getting got had has have having he her here hers
    herself him himself his how i if in into is it its itself just let lets may me might
    more most much must my myself of off on once only or other our ours ourselves out over own
    quite rather really same she should so some such than that the their theirs them themselves
    themself then there these they this those through to too under until up upon us very was we
    well were what when where whether which while who whom whose why will with would yeah yes
    yet you your yours yourself yourselves self okay ok oh um umm uh er erm hmm mm ah
    said says say saying told tell tells telling reported reports stated states explained
    explains described describes shared shares expressed expresses mentioned mentions added
    adds confirmed confirms noted notes observed observes commented replied responded asked
    asks answered indicated informed advised discussed agreed agrees agree spoke talked
    disclosed practitioner worker sw social visit next""".split()
)
"""Words that carry no claim: function words, fillers, reporting verbs ("said", "explained")
and the roles a note uses to attribute ("the social worker"), and the frame of a note ("next
visit")."""
REPORTING_VERBS = frozenset(
    "said says told tells reported stated explained described shared expressed mentioned added "
    "confirmed noted observed commented replied responded asked answered indicated agreed "
    "informed advised disclosed".split()
)

_NEGATION_CUES = frozenset(
    """no not never nobody nothing none neither nor nowhere cannot without
    dont doesnt didnt isnt wasnt arent werent havent hasnt hadnt wont wouldnt couldnt shouldnt
    cant aint mustnt neednt deny denies denied denying refuse refuses refused refusing decline
    declines declined declining unable lack lacks lacked lacking""".split()
)
"""Negation cues; any word ending in "n't" is one too. Denial and refusal count both ways, so
"she denied hitting him" supports "she did not hit him" and contradicts "she hit him"."""
UN_WORDS = {
    "unhappy": "happy",
    "unsafe": "safe",
    "unwell": "well",
    "unkind": "kind",
    "unfair": "fair",
    "uncomfortable": "comfortable",
    "unsure": "sure",
    "unloved": "loved",
    "unwanted": "wanted",
    "unsettled": "settled",
    "unclean": "clean",
    "unwashed": "washed",
}
"""Negated adjectives read as a cue plus the base word ("unsafe" = "not safe")."""
CLAUSE_BREAKS = frozenset(
    "but because cos although though however whereas except and so then when whenever while "
    "if after before since until unless where who which".split()
)
"""Words that start a new clause and so end a negation's scope: in "I don't feel safe when dad
is shouting" the shouting is asserted, not denied."""
SCOPE_ENDERS = frozenset("stop stopped stopping know sure remember only just matter doubt".split())
"""After these a cue's scope ends: "won't stop hitting her" says the hitting goes on, and
"I don't know" or "not only" negate nothing that follows."""
INTERJECTION_NEXT = frozenset(
    "i i'm he she they we you it it's he's she's they're yes no nah".split()
)


def is_cue(tok: str) -> bool:
    return tok in _NEGATION_CUES or tok.endswith("n't") or tok in UN_WORDS


def cue_at(tokens: Sequence[str], i: int) -> bool:
    """Whether tokens[i] negates; "no" before a pause or a pronoun is an answer, not a negation
    ("No, he hit me", "no I like it")."""
    tok = tokens[i]
    if not is_cue(tok):
        return False
    if tok in ("no", "nah"):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else "."
        return not (nxt in BOUNDARY or nxt in INTERJECTION_NEXT)
    return True


# --- stems ----------------------------------------------------------------------------------
_IRREGULAR = dict(
    pair.split(":")
    for pair in """went:go gone:go goes:go saw:see seen:see felt:feel left:leave took:take
    taken:take came:come gave:give given:give ate:eat eaten:eat slept:sleep kept:keep
    bought:buy brought:bring thought:think fought:fight caught:catch knew:know known:know
    made:make found:find lost:lose sat:sit stood:stand wore:wear worn:wear wrote:write
    written:write drank:drink drunk:drink ran:run spoke:speak spoken:speak broke:break
    broken:break fell:fall fallen:fall hid:hide hidden:hide threw:throw thrown:throw
    began:begin begun:begin sent:send spent:spend met:meet paid:pay sold:sell heard:hear
    meant:mean held:hold built:build understood:understand woke:wake children:child
    kids:kid men:man women:woman people:person teeth:tooth feet:foot wives:wife
    knives:knife lives:live better:good best:good worse:bad worst:bad beaten:beat
    bled:bleed fed:feed fled:flee drove:drive driven:drive rode:ride stole:steal stolen:steal
    shook:shake forgot:forget forgotten:forget chose:choose grew:grow grown:grow flew:fly
    drew:draw drawn:draw hung:hang struck:strike swore:swear sworn:swear tore:tear torn:tear
    won:win dying:die died:die dies:die lying:lie lied:lie tying:tie""".split()
)


def stem(word: str) -> str:
    """A light, deterministic stem: irregular forms, plurals, -ing/-ed, final -e and -y.
    Both sides of every comparison go through it, so consistency matters more than
    linguistic accuracy ("make", "making", "made" -> "mak")."""
    w = _IRREGULAR.get(word, word)
    for clitic in _CLITICS:
        if w.endswith(clitic):
            w = w[: -len(clitic)]
            break
    w = _IRREGULAR.get(w, w)
    if len(w) <= 3:
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
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    if w.endswith("y") and len(w) > 3:
        w = w[:-1] + "i"
    return w


def _undouble(w: str) -> str:
    if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "lsz":
        return w[:-1]
    return w


_SYNONYM_GROUPS = (
    "mum mummy mam mammy mom mommy mother",
    "dad daddy father",
    "nan nana nanna gran granny grandma grandmother nanny",
    "grandad granddad grandpa grandfather",
    "child kid kiddie",
    "brother bro",
    "sister sis",
    "tv telly television",
    "fine alright",
    "scared frightened afraid terrified scary fright",
    "sad upset",
    "happy glad pleased",
    "angry cross mad",
    "worry worried anxious nervous concern concerned",
    "hurt harm injure injury",
    "home house",
    "toilet loo bathroom",
    "friend mate pal",
    "shout yell",
    "tired exhausted sleepy",
    "like love enjoy",
    "hate dislike",
    "phone mobile",
    "doctor gp",
    "baby infant",
)
"""Small, reviewable synonym groups. Deliberately absent: violence verbs (a slap is not a
punch), kinds of abuse and anything a practitioner must record in the speaker's own terms."""
_CANON = {stem(w): stem(group.split()[0]) for group in _SYNONYM_GROUPS for w in group.split()}


def canon(token: str) -> str:
    s = stem(token)
    return _CANON.get(s, s)


def matching_stems(s: str, pool: Iterable[str]) -> set[str]:
    """Stems in ``pool`` that match ``s`` exactly or by prefix (see PREFIX_MATCH_MIN)."""
    found = set()
    for p in pool:
        if p == s or (
            min(len(p), len(s)) >= PREFIX_MATCH_MIN and (p.startswith(s) or s.startswith(p))
        ):
            found.add(p)
    return found


def is_content(tok: str) -> bool:
    return (
        tok not in BOUNDARY
        and tok not in _STOPWORDS
        and not is_cue(tok)
        and not tok[0].isdigit()
        and tok not in NUMBER_WORDS
        and len(tok) > 1
    )


# --- numbers --------------------------------------------------------------------------------
UNITS = dict(
    zip("zero one two three four five six seven eight nine".split(), range(10), strict=True)
)
TEENS = dict(
    zip(
        "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split(),
        range(10, 20),
        strict=True,
    )
)
TENS = dict(
    zip(
        "twenty thirty forty fifty sixty seventy eighty ninety".split(),
        range(20, 100, 10),
        strict=True,
    )
)
_SCALES = {"hundred": 100, "thousand": 1000}
_ORDINALS = dict(
    zip(
        (
            "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
            "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth "
            "thirtieth"
        ).split(),
        [*range(1, 21), 30],
        strict=True,
    )
)
NUMBER_WORDS = (
    frozenset(UNITS)
    | frozenset(TEENS)
    | frozenset(TENS)
    | frozenset(_SCALES)
    | (frozenset(_ORDINALS))
    | {"once", "twice", "dozen", "half", "quarter"}
)
_ONE_UNITS = frozenset(
    "o'clock oclock year years month months week weeks day days night nights hour hours minute "
    "minutes time times pm am".split()
)
_ONE_BEFORE = frozenset("at aged age about around by until till".split())
_MONTHS = frozenset(
    "january february march april may june july august september october november december".split()
)
_TIME_RE = re.compile(r"(?<![\w.])(\d{1,2})[:.](\d{2})(?!\d)\s*([ap]\.?m\b\.?)?")
_DIGITS_RE = re.compile(r"(?<![a-z0-9.])(\d+(?:,\d{3})+|\d+)(?:\.(\d+))?\s*([ap]\.?m\b\.?)?")


def _value(tok: str) -> tuple[str, int] | None:
    for kind, table in (
        ("unit", UNITS),
        ("teen", TEENS),
        ("tens", TENS),
        ("scale", _SCALES),
        ("ordinal", _ORDINALS),
    ):
        if tok in table:
            return kind, table[tok]
    return None


def numbers(text: str, *, generous: bool = False) -> set[str]:
    """Numbers in ``text`` as canonical strings ("3", "2.5"). Strict (statements) or generous
    (evidence): see the module docstring."""
    out: set[str] = set()
    low = PLACEHOLDER_RE.sub(" ", normalise(text)).casefold()

    def add_hour(h: int, pm: bool) -> None:
        out.add(str(h))
        if generous and pm and 1 <= h <= 11:
            out.add(str(h + 12))
        if generous and 13 <= h <= 23:
            out.add(str(h - 12))

    def time(m: re.Match[str]) -> str:
        add_hour(int(m.group(1)), bool(m.group(3) and m.group(3)[0] == "p"))
        if int(m.group(2)):
            out.add(str(int(m.group(2))))
        return " "

    low = _TIME_RE.sub(time, low)
    for m in _DIGITS_RE.finditer(low):
        whole = int(m.group(1).replace(",", ""))
        if m.group(2):
            out.add(f"{whole}.{m.group(2)}")
        else:
            add_hour(whole, bool(m.group(3) and m.group(3)[0] == "p"))
    words = re.findall(r"[a-z]+(?:'[a-z]+)?", low)
    out |= _word_numbers(words, generous=generous)
    return out


def _word_numbers(words: Sequence[str], *, generous: bool) -> set[str]:
    out: set[str] = set()
    current: int | None = None
    last: str | None = None

    def flush() -> None:
        nonlocal current, last
        if current is not None:
            out.add(str(current))
        current, last = None, None

    for i, w in enumerate(words):
        prev = words[i - 1] if i else ""
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w in ("half", "quarter") and nxt in ("past", "to"):
            flush()
            minutes = 30 if w == "half" else (15 if nxt == "past" else 45)
            out.add(str(minutes))
            hour = _value(words[i + 2]) if i + 2 < len(words) else None
            if nxt == "to" and hour and hour[1] > 1:
                out.add(str(hour[1] - 1))
            continue
        if generous and w in ("once", "twice", "dozen"):
            flush()
            out.add({"once": "1", "twice": "2", "dozen": "12"}[w])
            continue
        if w == "and" and current is not None and _value(nxt):
            continue
        v = _value(w)
        if v is None:
            flush()
            continue
        kind, val = v
        if kind == "ordinal":
            if current is not None and last == "tens" and val < 10:
                current += val
                flush()
            else:
                flush()
                dated = nxt == "of" or nxt in _MONTHS or prev in _MONTHS
                if generous or dated or val > 2:
                    out.add(str(val))
            continue
        if kind == "scale":
            current = (current or 1) * val
            last = "scale"
            continue
        if current is not None and (
            (last == "tens" and kind == "unit" and current % 10 == 0)
            or (last == "scale" and kind in ("unit", "teen", "tens"))
        ):
            current += val
            last = kind
            continue
        flush()
        if (
            w == "one"
            and not generous
            and not (_value(nxt) or nxt in _ONE_UNITS or prev in _ONE_BEFORE)
        ):
            continue  # "no one", "one of them", "the one": a pronoun, not a number
        current, last = val, kind
    flush()
    return out
