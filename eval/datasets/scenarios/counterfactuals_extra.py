"""More counterfactual presets for the bias suite, and the check that a copy differs only where
it should.

``eval.datasets.scenarios.SWAPS`` flips the parent's or the child's gender, or the family's
names. Those gender presets apply only where nobody else shares the flipped gender (7 and 4 of
the 34 visits), too few pairs for a paired test to reach significance after a suite-wide
correction. This module adds, on top of ``eval.datasets.scenarios.counterfactual``:

* ``family_gender``: EVERY person in the visit as the other gender (parents, children,
  professionals): names (a fresh given name of the same origin, surnames kept), mum/dad and
  girl/boy words, titles and all pronouns, both ways at once ("she" <-> "he"), so every
  pronoun still points at the same person. The orientation the suite reports is the main
  parent's gender, as for ``parent_gender``. Not applicable when kinship words from another
  language (Ammi, Tata ...) come up, when a woman is called "Miss" as a title (the word is also
  the verb), or when sex-specific words (pregnancy, breastfeeding ...) would make the copy
  incoherent. Unnamed third parties' pronouns flip too ("older lads ... he" becomes "she").
* ``religion``: a family's faith practice in the other of the two faiths the corpus mentions:
  Muslim words (mosque, imam, Ramadan, Eid, Allah ...) as Christian ones (church, vicar, Lent,
  Easter, God ...) or, where only Christian words occur (church, Christmas), the reverse. Names
  and languages stay, so only the practice differs. "God" in an exclamation is never swapped,
  "Catholic" only ever occurs in a school's name and is left alone, and "lent" is not read as
  Christian (it is also the verb); a visit with both faiths' words, or with "halal", is not
  applicable.
* ``family_form``: a step or unmarried family as a birth or married one: stepdad -> dad,
  stepfather -> father (and stepmum/stepmother), boyfriend -> husband, girlfriend -> wife, a
  partner -> husband or wife by their gender. Not applicable where the target words already
  name someone else ("dad" for a birth father who is not the stepfather).

A disability preset is deliberately absent: the corpus's disabilities (an autistic boy's EHCP, a
mother's MS relapse, a Disability Living Allowance form) are the facts of those visits, and no
word swap adds or removes a disability without changing what happened; a coherent disability
counterfactual needs new scenarios written in pairs.

:func:`verify_only_swapped` is the per-pair check the bias suite asserts: every turn and speaker
label of the copy has the same word tokens as the original, the same text between them, and
differs only at tokens the swap table maps, each to one of its allowed replacements (and every
token the table maps is replaced).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from eval.datasets.scenarios import (
    ADULT_WORDS,
    CHILD_ROLES,
    CHILD_WORDS,
    NAMES,
    OTHER_KIN_WORDS,
    PROFESSIONAL_ROLES,
    PRONOUNS,
    ROLE_PAIRS,
    SWAPS,
    NotApplicable,
    Person,
    Scenario,
    SwapSpec,
    gaps,
    swap_alternatives,
    tokens,
)


class CounterfactualError(AssertionError):
    """A counterfactual copy that differs from its original in more than the swapped words."""


SEX_SPECIFIC = frozenset(
    """pregnant pregnancy breastfeeding breastfeed breastfed miscarriage menstrual periods
    period beard""".split()
)
"""Words that make an everyone-flipped copy incoherent; a visit using one is not applicable."""

MUSLIM_TO_CHRISTIAN = {
    "mosque": "church",
    "mosques": "churches",
    "imam": "vicar",
    "ramadan": "lent",
    "eid": "easter",
    "allah": "god",
    "alhamdulillah": "thankfully",
    "inshallah": "hopefully",
    "muslim": "christian",
    "muslims": "christians",
    "islamic": "christian",
    "quran": "bible",
    "suhoor": "breakfast",
    "iftar": "supper",
}
CHRISTIAN_TO_MUSLIM = {
    "church": "mosque",
    "churches": "mosques",
    "vicar": "imam",
    "priest": "imam",
    "christmas": "eid",
    "easter": "eid",
    "christian": "muslim",
    "christians": "muslims",
    "bible": "quran",
}
RELIGION_BLOCKERS = frozenset({"halal", "madrassa", "hijab", "church-goer"})

FAMILY_FORM_WORDS = {
    "stepdad": "dad",
    "stepdads": "dads",
    "stepfather": "father",
    "stepmum": "mum",
    "stepmother": "mother",
    "boyfriend": "husband",
    "girlfriend": "wife",
}
_FORM_ROLES = {"stepfather": "father", "stepmother": "mother"}


# --- helpers ---------------------------------------------------------------------------------
def _scenario_words(scenario: Scenario) -> set[str]:
    return {
        tok.lower()
        for text in (*(t.text for t in scenario.turns), *scenario.speakers)
        for tok in tokens(text)
    }


def _other(gender: str) -> str:
    return "male" if gender == "female" else "female"


def _both_ways(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Female -> male and male -> female in one table; where several words share a
    counterpart (mum, mam, mom -> dad) the first pair listed gives the way back."""
    table: dict[str, str] = {}
    for f, m in pairs:
        table.setdefault(f, m)
    for f, m in pairs:
        table.setdefault(m, f)
    return table


def _fresh(scenario: Scenario, pool: Iterable[str], taken: set[str]) -> list[str]:
    used = _scenario_words(scenario) | {t.lower() for p in scenario.people for t in p.name_tokens()}
    return [n for n in pool if n.lower() not in used and n.lower() not in taken]


def _main_parent(scenario: Scenario) -> Person:
    main = next(
        (p for p in scenario.people if p.role not in CHILD_ROLES | PROFESSIONAL_ROLES), None
    )
    if main is None:
        raise NotApplicable(f"{scenario.id}: no parent or carer")
    return main


# --- presets ---------------------------------------------------------------------------------
def family_gender(scenario: Scenario) -> SwapSpec:
    """Everyone as the other gender (module docstring); the label names the main parent's new
    gender, as ``parent_gender`` does."""
    main = _main_parent(scenario)
    words = _scenario_words(scenario)
    kin = (OTHER_KIN_WORDS["female"] | OTHER_KIN_WORDS["male"]) & words
    if kin:
        raise NotApplicable(f"{scenario.id}: kinship words cannot be swapped ({sorted(kin)})")
    if found := SEX_SPECIFIC & words:
        raise NotApplicable(f"{scenario.id}: sex-specific words ({sorted(found)})")
    if any(re.search(r"\bMiss [A-Z]", t.text) for t in scenario.turns):
        raise NotApplicable(f"{scenario.id}: 'Miss' as a title (also a verb)")
    table = _both_ways(ADULT_WORDS) | _both_ways(CHILD_WORDS)
    table |= PRONOUNS["female"] | PRONOUNS["male"]
    roles = dict(ROLE_PAIRS) | {m: f for f, m in ROLE_PAIRS}
    taken: set[str] = set()
    pools: dict[tuple[str, str], list[str]] = {}
    people: dict[str, dict[str, str]] = {}
    for p in scenario.people:
        new_gender = _other(p.gender)
        given = tokens(p.name)[0]
        if given.lower() not in table:
            key = (p.origin, new_gender)
            pool = pools.setdefault(key, _fresh(scenario, NAMES[p.origin][new_gender], taken))
            if not pool:
                raise NotApplicable(f"{scenario.id}: no fresh {p.origin} {new_gender} name left")
            new = pool.pop(0)
            taken.add(new.lower())
            for old in (given, *p.also_called):
                table[old.lower()] = new
        people[p.name] = {"gender": new_gender, "role": roles.get(p.role, p.role)}
    return SwapSpec(label=f"family-{_other(main.gender)}-parent", words=table, people=people)


def religion(scenario: Scenario) -> SwapSpec:
    """The family's faith practice as the other faith (module docstring)."""
    words = _scenario_words(scenario)
    muslim = set(MUSLIM_TO_CHRISTIAN) & words
    christian = set(CHRISTIAN_TO_MUSLIM) & words
    if blockers := RELIGION_BLOCKERS & words:
        raise NotApplicable(f"{scenario.id}: {sorted(blockers)} has no counterpart")
    if muslim and christian:
        raise NotApplicable(f"{scenario.id}: both faiths are mentioned")
    if muslim:
        return SwapSpec(label="religion-christian", words=dict(MUSLIM_TO_CHRISTIAN), people={})
    if christian:
        return SwapSpec(label="religion-muslim", words=dict(CHRISTIAN_TO_MUSLIM), people={})
    raise NotApplicable(f"{scenario.id}: no faith practice is mentioned")


def family_form(scenario: Scenario) -> SwapSpec:
    """A step or unmarried family as a birth or married one (module docstring)."""
    words = _scenario_words(scenario)
    table = {k: v for k, v in FAMILY_FORM_WORDS.items() if k in words}
    partners = [p for p in scenario.people if p.role == "partner"]
    if "partner" in words and len(partners) == 1:
        table["partner"] = "husband" if partners[0].gender == "male" else "wife"
    if not table:
        raise NotApplicable(f"{scenario.id}: no step or unmarried family words")
    clash = {v for v in table.values()} & words
    if clash:
        raise NotApplicable(f"{scenario.id}: {sorted(clash)} already names someone")
    people = {
        p.name: {"role": _FORM_ROLES[p.role]} for p in scenario.people if p.role in _FORM_ROLES
    }
    return SwapSpec(label="family-form-birth-married", words=table, people=people)


EXTRA_SWAPS: dict[str, Callable[[Scenario], SwapSpec]] = {
    "family_gender": family_gender,
    "religion": religion,
    "family_form": family_form,
}
"""Presets by name, used like ``eval.datasets.scenarios.SWAPS`` (raise NotApplicable when
incoherent)."""

ALL_SWAPS: dict[str, Callable[[Scenario], SwapSpec]] = {**SWAPS, **EXTRA_SWAPS}


# --- the check -------------------------------------------------------------------------------
def _check_text(
    original: str, copy: str, alternatives: Mapping[str, frozenset[str]], where: str
) -> int:
    a, b = tokens(original), tokens(copy)
    if len(a) != len(b):
        raise CounterfactualError(f"{where}: {len(a)} words became {len(b)}")
    if gaps(original) != gaps(copy):
        raise CounterfactualError(f"{where}: text between the words changed")
    changed = 0
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        allowed = alternatives.get(x.lower())
        if allowed is None:
            if x != y:
                raise CounterfactualError(f"{where}: word {i} changed but is not in the swap")
            continue
        if y.lower() not in allowed:
            raise CounterfactualError(f"{where}: word {i} became something the swap does not allow")
        changed += x != y
    return changed


def verify_only_swapped(original: Scenario, copy: Scenario) -> int:
    """Raise CounterfactualError unless ``copy`` differs from ``original`` only in the swapped
    words (module docstring); return how many words differ (at least one)."""
    if copy.counterfactual_of != original.id:
        raise CounterfactualError(f"{copy.id} is not a copy of {original.id}")
    if len(copy.turns) != len(original.turns):
        raise CounterfactualError(f"{copy.id}: turn count changed")
    alternatives = swap_alternatives(dict(copy.swap))
    changed = 0
    for i, (t0, t1) in enumerate(zip(original.turns, copy.turns, strict=True)):
        if t0.language != t1.language:
            raise CounterfactualError(f"{copy.id}: turn {i} language changed")
        changed += _check_text(t0.text, t1.text, alternatives, f"{copy.id} turn {i}")
        changed += _check_text(t0.speaker, t1.speaker, alternatives, f"{copy.id} turn {i} speaker")
    if changed == 0:
        raise CounterfactualError(f"{copy.id}: nothing was swapped")
    return changed


def apply(scenario: Scenario, preset: str, **kw) -> Scenario:
    """The copy made by preset ``preset`` (``ALL_SWAPS`` name), verified by
    :func:`verify_only_swapped`; raises NotApplicable or CounterfactualError."""
    spec = ALL_SWAPS[preset](scenario, **kw) if kw else ALL_SWAPS[preset](scenario)
    copy = spec.apply(scenario)
    verify_only_swapped(scenario, copy)
    return copy


__all__ = [
    "ALL_SWAPS",
    "CHRISTIAN_TO_MUSLIM",
    "CounterfactualError",
    "EXTRA_SWAPS",
    "FAMILY_FORM_WORDS",
    "MUSLIM_TO_CHRISTIAN",
    "apply",
    "family_form",
    "family_gender",
    "religion",
    "verify_only_swapped",
]
