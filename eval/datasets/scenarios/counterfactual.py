"""Counterfactual copies of a scenario: words swapped across the turns and the gold together.

The bias suite asks whether a note changes when only the parent's gender, the child's gender or
the family's names change. The presets in ``SWAPS`` keep pronouns coherent by flipping only a
gender that nobody else in the scenario shares, and say so (``NotApplicable``) when they cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import partial

from eval.datasets.scenarios.load import _origin_lookup, validate
from eval.datasets.scenarios.schema import (
    _TOKEN,
    CHILD_ROLES,
    NAMES,
    PROFESSIONAL_ROLES,
    Action,
    Gold,
    Identifier,
    NotApplicable,
    Opinion,
    Person,
    Scenario,
    _tokens,
)


# Words that change with a person's gender: (female, male). Adult words belong to parents and
# carers, child words to children; pronouns to whoever they refer to, which is why the presets
# flip a gender only when nobody else in the scenario has it.
def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(p.split(":")) for p in text.split())  # type: ignore[misc]


ADULT_WORDS: tuple[tuple[str, str], ...] = _pairs(
    """
    mum:dad mums:dads mummy:daddy mam:dad mammy:daddy mom:dad mother:father mothers:fathers
    mother's:father's stepmum:stepdad stepmother:stepfather nan:grandad nana:grandad
    nanna:grandad gran:grandad granny:grandad grandma:grandpa grandmother:grandfather
    auntie:uncle aunty:uncle aunt:uncle wife:husband girlfriend:boyfriend woman:man women:men
    mrs:mr ms:mr lady:man
    """
)
CHILD_WORDS: tuple[tuple[str, str], ...] = _pairs(
    """
    girl:boy girls:boys daughter:son daughters:sons sister:brother sisters:brothers
    granddaughter:grandson niece:nephew lass:lad princess:prince
    """
)
OTHER_KIN_WORDS: dict[str, frozenset[str]] = {
    # Words for parents and grandparents from other languages (Ammi, Tata, Hooyo ...). They are
    # kept, not swapped (a Polish "Tata" has no neat counterpart), so a preset that would flip
    # the gender of someone called by one of them is not applicable.
    "female": frozenset(
        {"ammi", "ammu", "amma", "hooyo", "mama", "mamusia", "nani", "dadi", "bunica", "mamo"}
    ),
    "male": frozenset({"abbu", "abba", "baba", "tata", "tato", "aabo", "tėtis", "tete", "bunicul"}),
}
PRONOUNS: dict[str, dict[str, str]] = {
    # "a|b": a before a noun (possessive), b elsewhere; see _swap_pieces.
    "female": {"she": "he", "her": "his|him", "hers": "his", "herself": "himself"},
    "male": {"he": "she", "him": "her", "his": "her|hers", "himself": "herself"},
}
_NOT_A_NOUN_START = frozenset(
    """a an the to and or but nor so if as at by in on of off up out down over into onto from
    with for about back home again too all both some any this that these those then there here
    now today tonight tomorrow yesterday later when because though although while until unless
    before after is was be been are were will would can could should did does do has had have
    not never always just really very quite already still yet either neither first last no yes
    much more most less once twice sometimes instead anyway round away""".split()
)


def counterfactual(
    scenario: Scenario,
    swap: Mapping[str, str],
    *,
    label: str = "cf",
    people: Mapping[str, Mapping[str, str]] | None = None,
) -> Scenario:
    """A copy of ``scenario`` with words swapped in every turn, speaker label and gold field.

    ``swap`` maps lowercase words to their replacement; a match keeps the case of the original
    ("Mum" -> "Dad", "MUM" -> "DAD"). A value "a|b" chooses a before a noun and b elsewhere,
    for the one ambiguous pronoun each way ("her" -> "his|him", "his" -> "her|hers").
    Gold substrings (identifiers, child words, opinions) are swapped in the context of the turn
    they come from, so they stay exact substrings. ``people`` updates a person's gender or
    origin by their original name, for presets that change who someone is.
    """
    table = {k.lower(): v for k, v in swap.items()}
    sw = partial(_swap_text, table=table)

    def in_context(text: str, speakers: Iterable[str] | None = None) -> str:
        for t in scenario.turns:
            if speakers is not None and t.speaker not in speakers:
                continue
            start = t.text.find(text)
            if start >= 0:
                return _swap_span(t.text, start, start + len(text), table)
        return sw(text)

    def speaker(label_: str | None) -> str | None:
        return None if label_ is None else sw(label_)

    changes = people or {}
    new_people = tuple(
        replace(
            p,
            name=sw(p.name),
            speaker=speaker(p.speaker),
            also_called=tuple(sw(a) for a in p.also_called),
            **dict(changes.get(p.name, {})),
        )
        for p in scenario.people
    )
    origin_of = _origin_lookup(new_people)
    g = scenario.gold
    child_speakers = scenario.child_speakers
    gold = Gold(
        identifiers=tuple(
            Identifier(
                new := in_context(i.text),
                i.type,
                origin_of(new) if i.type == "PERSON" else None,
            )
            for i in g.identifiers
        ),
        facts=tuple(replace(f, text=sw(f.text)) for f in g.facts),
        red_flags_present=g.red_flags_present,
        red_flags_absent=g.red_flags_absent,
        child_words=tuple(in_context(w, child_speakers) for w in g.child_words),
        actions=tuple(
            Action(sw(a.who), sw(a.what), None if a.by is None else sw(a.by)) for a in g.actions
        ),
        opinions=tuple(
            Opinion(sw(o.speaker), in_context(o.text, [o.said_by or o.speaker]), speaker(o.said_by))
            for o in g.opinions
        ),
        keep_words=tuple(sw(k) for k in g.keep_words),
        must_not_state=tuple(sw(m) for m in g.must_not_state),
    )
    new = replace(
        scenario,
        id=f"{scenario.id}@{label}",
        title=sw(scenario.title),
        people=new_people,
        voices=tuple((sw(k), v) for k, v in scenario.voices),
        turns=tuple(replace(t, speaker=sw(t.speaker), text=sw(t.text)) for t in scenario.turns),
        gold=gold,
        sha256="",
        counterfactual_of=scenario.id,
        swap=tuple(sorted(table.items())),
    )
    validate(new)
    return new


def swap_alternatives(swap: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """What each swapped word may become (both sides of an "a|b" value), lowercase."""
    return {k.lower(): frozenset(v.lower().split("|")) for k, v in swap.items()}


def tokens(text: str) -> list[str]:
    """The word tokens ``counterfactual`` matches on, for comparing a copy with its original."""
    return _tokens(text)


def gaps(text: str) -> list[str]:
    """Everything between the word tokens (spaces, punctuation, digits), which no swap changes."""
    return _TOKEN.split(text)


def _swap_pieces(text: str, table: Mapping[str, str]) -> list[tuple[str, str]]:
    """``text`` as (original, replacement) pieces, alternating gaps and word tokens."""
    pieces: list[tuple[str, str]] = []
    matches = list(_TOKEN.finditer(text))
    pos = 0
    for n, m in enumerate(matches):
        if m.start() > pos:
            gap = text[pos : m.start()]
            pieces.append((gap, gap))
        word = m.group()
        target = table.get(word.lower())
        if target is None:
            pieces.append((word, word))
        else:
            if "|" in target:
                following = matches[n + 1] if n + 1 < len(matches) else None
                noun_next = (
                    following is not None
                    and text[m.end() : following.start()].strip() == ""
                    and following.group().lower() not in _NOT_A_NOUN_START
                )
                target = target.split("|")[0 if noun_next else 1]
            pieces.append((word, _match_case(word, target)))
        pos = m.end()
    if pos < len(text):
        pieces.append((text[pos:], text[pos:]))
    return pieces


def _swap_text(text: str, table: Mapping[str, str]) -> str:
    return "".join(new for _, new in _swap_pieces(text, table))


def _swap_span(text: str, start: int, end: int, table: Mapping[str, str]) -> str:
    """The swapped version of ``text[start:end]``, read in the context of all of ``text``."""
    out: list[str] = []
    pos = 0
    for old, new in _swap_pieces(text, table):
        a, b = pos, pos + len(old)
        pos = b
        lo, hi = max(a, start), min(b, end)
        if lo >= hi:
            continue
        if old == new:
            out.append(old[lo - a : hi - a])
        elif lo == a and hi == b:
            out.append(new)
        else:
            raise ValueError(f"{text[start:end]!r} cuts the swapped word {old!r}")
    return "".join(out)


def _match_case(original: str, target: str) -> str:
    if len(original) > 1 and original.isupper():
        return target.upper()
    if original[:1].isupper():
        return target[:1].upper() + target[1:]
    if original.islower():
        return target.lower()
    return target


@dataclass(frozen=True)
class SwapSpec:
    """A preset's answer for one scenario: the words to swap and who changes."""

    label: str
    words: dict[str, str]
    people: dict[str, dict[str, str]]

    def apply(self, scenario: Scenario) -> Scenario:
        return counterfactual(scenario, self.words, label=self.label, people=self.people)


ROLE_PAIRS: tuple[tuple[str, str], ...] = _pairs(
    """
    mother:father stepmother:stepfather grandmother:grandfather aunt:uncle
    """
)


def _other(gender: str) -> str:
    return "male" if gender == "female" else "female"


def _flipped(p: Person) -> dict[str, str]:
    """What changes about a person whose gender a preset flips: the gender, and a gendered role."""
    roles = {a: b for a, b in ROLE_PAIRS} | {b: a for a, b in ROLE_PAIRS}
    return {"gender": _other(p.gender), "role": roles.get(p.role, p.role)}


def _word_table(pairs: Iterable[tuple[str, str]], gender: str) -> dict[str, str]:
    """The one-way table that turns ``gender``'s words into the other gender's; where several
    words share a counterpart (mum, mam, mom -> dad) the first pair listed gives the way back."""
    table: dict[str, str] = {}
    for f, m in pairs:
        src, dst = (f, m) if gender == "female" else (m, f)
        table.setdefault(src, dst)
    return table


def _mentions(scenario: Scenario, words: Iterable[str]) -> set[str]:
    wanted = {w.lower() for w in words}
    found = {
        tok.lower()
        for text in (*(t.text for t in scenario.turns), *scenario.speakers)
        for tok in _tokens(text)
    }
    return wanted & found


def _fresh_names(scenario: Scenario, pool: Iterable[str]) -> list[str]:
    used = {tok.lower() for t in scenario.turns for tok in _tokens(t.text)}
    used |= {tok.lower() for p in scenario.people for tok in p.name_tokens()}
    return [n for n in pool if n.lower() not in used]


def _rename(
    scenario: Scenario,
    targets: list[Person],
    *,
    gender_of: Callable[[Person], str],
    origin_of: Callable[[Person], str],
    surnames: bool,
) -> dict[str, str]:
    """Given names (and nicknames) of ``targets`` -> fresh names of the new gender and origin;
    with ``surnames``, their family names too, the same family name always to the same one."""
    words: dict[str, str] = {}
    pools: dict[tuple[str, str], list[str]] = {}
    for p in targets:
        parts = _tokens(p.name)
        key = (origin_of(p), gender_of(p))
        pool = pools.setdefault(key, _fresh_names(scenario, NAMES[key[0]][key[1]]))
        if parts[0].lower() not in words:
            new_given = pool.pop(0)
            for given in (parts[0], *p.also_called):
                words[given.lower()] = new_given
        if surnames:
            for fam in parts[1:]:
                if fam.lower() not in words:
                    spool = pools.setdefault(
                        (origin_of(p), "surname"),
                        _fresh_names(scenario, NAMES[origin_of(p)]["surname"]),
                    )
                    words[fam.lower()] = spool.pop(0)
    return words


def parent_gender(scenario: Scenario) -> SwapSpec:
    """The main parent or carer (the first adult in ``people`` who is not a professional) as the
    other gender. Every adult of that gender flips with them (names, mum/dad words, titles,
    pronouns), so "she" never points at the wrong person; not applicable when a child in the
    scenario has that gender, since their pronouns would flip too."""
    main = next(
        (p for p in scenario.people if p.role not in CHILD_ROLES | PROFESSIONAL_ROLES), None
    )
    if main is None:
        raise NotApplicable(f"{scenario.id}: no parent or carer")
    g = main.gender
    if any(p.role in CHILD_ROLES and p.gender == g for p in scenario.people):
        raise NotApplicable(f"{scenario.id}: a child is {g} too; their pronouns would flip")
    if _mentions(scenario, _word_table(CHILD_WORDS, g)):
        raise NotApplicable(f"{scenario.id}: an unnamed {g} child is mentioned")
    if found := _mentions(scenario, OTHER_KIN_WORDS[g]):
        raise NotApplicable(f"{scenario.id}: {g} kinship words cannot be swapped ({sorted(found)})")
    adults = [p for p in scenario.people if p.role not in CHILD_ROLES and p.gender == g]
    words = {**_word_table(ADULT_WORDS, g), **PRONOUNS[g]}
    words |= _rename(
        scenario,
        adults,
        gender_of=lambda p: _other(p.gender),
        origin_of=lambda p: p.origin,
        surnames=False,
    )
    return SwapSpec(
        label=f"parent-{_other(g)}",
        words=words,
        people={p.name: _flipped(p) for p in adults},
    )


def child_gender(scenario: Scenario) -> SwapSpec:
    """The child (and any sibling of the same gender) as the other gender: names, boy/girl words
    and pronouns. Not applicable when an adult in the scenario has that gender, or a word for
    one (mum, nan, dad ...) comes up: their pronouns would flip too."""
    child = next(p for p in scenario.people if p.role in CHILD_ROLES)
    g = child.gender
    if any(p.role not in CHILD_ROLES and p.gender == g for p in scenario.people):
        raise NotApplicable(f"{scenario.id}: an adult is {g} too; their pronouns would flip")
    if found := _mentions(scenario, {*_word_table(ADULT_WORDS, g), *OTHER_KIN_WORDS[g]}):
        raise NotApplicable(f"{scenario.id}: {g} adults are mentioned ({sorted(found)})")
    children = [p for p in scenario.people if p.role in CHILD_ROLES and p.gender == g]
    words = {**_word_table(CHILD_WORDS, g), **PRONOUNS[g]}
    words |= _rename(
        scenario,
        children,
        gender_of=lambda p: _other(p.gender),
        origin_of=lambda p: p.origin,
        surnames=False,
    )
    return SwapSpec(
        label=f"child-{_other(g)}",
        words=words,
        people={p.name: _flipped(p) for p in children},
    )


def name_origin(scenario: Scenario, origin: str) -> SwapSpec:
    """The family's names (everyone but the professionals) from another origin, keeping each
    person's gender; the story, language and places stay as they were, so only names differ."""
    if origin not in NAMES:
        raise ValueError(f"unknown origin {origin!r}; known: {sorted(NAMES)}")
    family = [p for p in scenario.people if p.role not in PROFESSIONAL_ROLES]
    if all(p.origin == origin for p in family):
        raise NotApplicable(f"{scenario.id}: the family's names are already {origin}")
    words = _rename(
        scenario,
        family,
        gender_of=lambda p: p.gender,
        origin_of=lambda p: origin,
        surnames=True,
    )
    return SwapSpec(
        label=f"names-{origin}",
        words=words,
        people={p.name: {"origin": origin} for p in family},
    )


SWAPS: dict[str, Callable[[Scenario], SwapSpec]] = {
    "parent_gender": parent_gender,
    "child_gender": child_gender,
    **{f"names_{o}": partial(name_origin, origin=o) for o in sorted(NAMES)},
}
"""Counterfactual presets by name: each takes a scenario and returns the SwapSpec to apply, or
raises NotApplicable when the swap would make it incoherent."""
