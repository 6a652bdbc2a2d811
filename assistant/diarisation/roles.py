"""Who each speaker is, from what the words say: a role and a confidence for every ``S1``,
``S2`` … of a diarised transcript, and the display labels the drafter reads. (When the owner's
enrolled voice recognised the social worker, ``infer_roles`` is told who it is and the rules
give the other speakers their roles.)

The rules are a score table, deterministic and readable (no model):

* every speaker gets points per role for cue phrases in their own words (the practitioner
  introduces themself and says "social worker", "children's services", "my visit", "I'll …";
  a child talks about school, mum, dad, friends and games; a parent about "my son", "my
  daughter", "he" and "she"; a carer about the placement or "living with us"; an interpreter
  says "she says"; another professional speaks of the school, attendance or the GP);
* the share of their turns that are questions counts towards the social worker, and short
  replies towards the child (a "Thank you." only when it answers a question: between turns
  it is an adult's); a turn that answers a question about school, friends or "your mum"
  counts towards the child, one that answers "how is he" towards a parent;
* exactly one speaker, the best-scoring, is the social worker; every other speaker takes the
  role it scores best, or ``unknown`` when it said too little or nothing points anywhere;
* of two or more children, all but the one with the most child points are looked at again: one
  whose parent points are at least half its child points is a parent (or a carer).

The confidence is the best role's share of the speaker's points (the social worker's also
weighed by its margin over the runner-up), so it is low where the words say little. These rules
were written against the synthetic scenarios of ``eval/datasets/scenarios`` and are measured on
them (``caseassist eval run --suite diarisation``): a figure from the same data the rules were
written on, not from real visits. Roles are never names: a display label is ``Social worker``,
``Child``, ``Parent 1`` …, or the speaker's ``S`` label when its role is unknown or other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

#: The role vocabulary, in the order ties are broken.
ROLES = (
    "social_worker",
    "child",
    "parent",
    "carer",
    "professional",
    "interpreter",
    "other",
    "unknown",
)
#: What the segments say for a known role; ``other`` and ``unknown`` keep their ``S`` label.
DISPLAY = {
    "social_worker": "Social worker",
    "child": "Child",
    "parent": "Parent",
    "carer": "Carer",
    "professional": "Professional",
    "interpreter": "Interpreter",
}
#: Fewer words than this and no cue: the role is unknown.
MIN_WORDS = 4


def _cues(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.IGNORECASE)


# fmt: off
# Cue phrases in a speaker's own words, with the points each occurrence gives that role.
_OWN_CUES: dict[str, tuple[tuple[re.Pattern[str], float], ...]] = {
    "social_worker": (
        (_cues(r"social worker", r"children'?s services", r"my visit", r"this visit",
               r"my manager", r"the plan", r"child protection", r"child in need", r"core group",
               r"conference", r"safeguarding", r"assessment", r"the review", r"referral",
               r"is it okay (?:to|if)", r"to record",
               r"see (?:him|her|them) (?:alone|on (?:his|her|their) own)",
               r"i'?ll", r"i will", r"i'?m going to", r"we'?ll", r"can i", r"can we"), 1.0),
        (_cues(r"how are you", r"how'?s", r"how is", r"what do you", r"do you feel",
               r"tell me", r"what happens", r"anything else"), 0.7),
    ),
    "child": (
        (_cues(r"my mum", r"my mam", r"mummy", r"my dad", r"daddy", r"my teacher",
               r"my friends?", r"my brother", r"my sister", r"my room", r"my nan",
               r"my gran", r"playtime", r"lunchtime", r"football", r"minecraft", r"roblox",
               r"xbox", r"fortnite", r"games?", r"toys?", r"homework", r"in class", r"miss",
               r"sir", r"my bike", r"cartoons?", r"i like", r"i don'?t like", r"favourite"),
         1.0),
        (_cues(r"school", r"mum", r"dad", r"play", r"friends?"), 0.4),
    ),
    "parent": (
        (_cues(r"my son", r"my daughter", r"my boy", r"my girl", r"my kids", r"my children",
               r"my baby", r"the kids", r"the children", r"my partner", r"my ex", r"his dad",
               r"her dad", r"their dad", r"as a mum", r"as a dad",
               r"as a parent", r"bedtime", r"his school", r"her school", r"nursery"), 1.0),
        (_cues(r"he'?s", r"she'?s", r"he", r"she", r"him", r"her", r"his"), 0.25),
    ),
    "carer": (
        (_cues(r"foster(?:ing|ed)?", r"placement", r"came to (?:us|live)", r"living with us",
               r"with us", r"our house", r"my grandson", r"my granddaughter",
               r"my grandchildren", r"my niece", r"my nephew", r"kinship",
               r"special guardian(?:ship)?", r"respite", r"supervising social worker",
               r"contact(?: worker)?", r"pep", r"looked after", r"his mum", r"her mum",
               r"their mum", r"birth (?:mum|dad|parents|family)", r"the home",
               r"key worker", r"the unit", r"the staff"), 1.0),
    ),
    "professional": (
        (_cues(r"attendance", r"in class", r"the pupils?", r"his teacher", r"her teacher",
               r"health visitor", r"school nurse", r"the gp", r"the clinic", r"weigh(?:t|ed)",
               r"development", r"sencos?", r"ehcp", r"designated safeguarding",
               r"from the school", r"at the school", r"the police", r"officer"), 1.0),
    ),
}
# Words anyone in the visit says that make it a looked-after child's visit, where the adults of
# the household are carers rather than parents.
_CARE_CONTEXT = _cues(
    r"foster(?:ing|ed)?", r"placement", r"looked after", r"special guardian(?:ship)?",
    r"kinship", r"residential", r"key worker", r"children'?s home", r"pep", r"lac review",
    r"iro", r"care order", r"contact (?:with|worker|centre)",
)
# An interpreter speaks for someone in most turns: these count by the share of turns using them.
_INTERPRETER = _cues(
    r"she says", r"he says", r"mum says", r"dad says", r"she'?s saying", r"he'?s saying",
    r"she is saying", r"he is saying", r"she asks", r"he asks", r"translate",
    r"interpret(?:er|ing)?", r"she wants to say", r"he wants to say",
)
_SAYS_INTERPRETER = _cues(r"i'?ll interpret", r"i'?m (?:the|your) interpreter", r"interpreting")
# fmt: on

# A capitalised name (not the sentence's first word) followed by what they do or are: how an
# adult speaks of a child; a child says "I", and speaks of adults by role ("my mum").
_NAMED_THIRD_PERSON = re.compile(
    r"(?<![.?!]\s)(?<!^)\b[A-Z][a-z]{2,} (?:is|gets|goes|has|was|does|doesn'?t|isn'?t|won'?t|"
    r"can'?t|likes|loves|hates|keeps|sleeps|eats|cries|says)\b"
)

# Words in the turn just before a speaker's turn (another speaker's) that say who is answering.
_ADDRESS_CUES: dict[str, re.Pattern[str]] = {
    "child": _cues(
        r"your mum",
        r"your dad",
        r"your teacher",
        r"your friends?",
        r"your room",
        r"at school",
        r"school today",
        r"how'?s school",
        r"do you feel safe",
        r"three wishes",
        r"magic wand",
        r"what do you like",
        r"your favourite",
        r"are you happy",
        r"do you play",
        r"your brother",
        r"your sister",
        r"good (?:boy|girl)",
        r"sweetheart",
        r"buddy",
        r"mate",
    ),
    "parent": _cues(
        r"how'?s he",
        r"how'?s she",
        r"how is he",
        r"how is she",
        r"your son",
        r"your daughter",
        r"your partner",
        r"the kids",
        r"as his mum",
        r"as her mum",
        r"as his dad",
        r"as her dad",
        r"your children",
    ),
}


class Utterance(Protocol):
    """What the rules read of a segment (``Segment`` and ``RedactedSegment`` both fit)."""

    @property
    def speaker(self) -> str | None: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class RoleGuess:
    """A speaker's inferred role, how sure the rules are (0..1), and the points behind it."""

    label: str
    role: str
    confidence: float
    scores: Mapping[str, float] = field(default_factory=dict)


@dataclass
class _Tally:
    words: int = 0
    turns: int = 0
    questions: int = 0
    short: int = 0
    interpreting: int = 0
    own_child: int = 0  # "my son", "my daughter" …: a parent's words, even in a placement
    points: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ROLES[:6], 0.0))


def infer_roles(
    segments: Sequence[Utterance], *, social_worker: str | None = None
) -> dict[str, RoleGuess]:
    """A role for every speaker label in ``segments`` (in order of first appearance).
    ``social_worker``: the speaker already known to be the social worker (recognised by the
    enrolled voice); the others' roles then follow from the words as without it."""
    tallies = _tally(segments)
    if not tallies:
        return {}
    for t in tallies.values():
        share = t.questions / t.turns if t.turns else 0.0
        t.points["social_worker"] += 3.0 * share * min(t.turns, 10) / 10 + 0.05 * t.turns
        # short answers and no questions: a child, once there are a few of them
        short = t.short / t.turns * min(t.turns, 3) / 3 if t.turns else 0.0
        t.points["child"] += 2.0 * short * (t.questions == 0)
        t.points["interpreter"] += 8.0 * max(0.0, t.interpreting / t.turns - 0.2) if t.turns else 0
    worker = social_worker if social_worker in tallies else _social_worker(tallies)
    context = sum(len(_CARE_CONTEXT.findall(seg.text)) for seg in segments)
    if context >= 2:  # a looked-after child's visit: the household's adults are carers
        for label, t in tallies.items():
            if label != worker:
                t.points["carer"] += 0.0 if t.own_child else t.points["parent"] + 1.0
    guesses = {}
    for label, t in tallies.items():
        guesses[label] = _guess(label, t, worker)
    return _second_children(guesses, tallies)


def _tally(segments: Sequence[Utterance]) -> dict[str, _Tally]:
    tallies: dict[str, _Tally] = {}
    previous: Utterance | None = None
    for seg in segments:
        if seg.speaker is None:
            continue
        t = tallies.setdefault(seg.speaker, _Tally())
        text = seg.text.strip()
        words = len(text.split())
        unlooped_text = unlooped(text)
        t.words += words
        t.turns += 1
        t.questions += text.endswith("?")
        # an adult's "Thank you." between turns (split off by the voices) is no child's short
        # reply; a thank-you answering a question may be ("Do you like it? Yes, thanks.")
        t.short += (
            words <= 6
            and not text.endswith("?")
            and (not _ACKNOWLEDGES.match(text) or _answers_another(previous, seg))
        )
        for role, cues in _OWN_CUES.items():
            t.points[role] += sum(weight * len(c.findall(unlooped_text)) for c, weight in cues)
        # "Tom is sleeping well", "Tom gets upset": someone telling how a named child is doing
        t.points["parent"] += 0.5 * len(_NAMED_THIRD_PERSON.findall(text))
        t.interpreting += bool(_INTERPRETER.search(text))
        t.own_child += len(_OWN_CUES["parent"][0][0].findall(text))
        t.points["interpreter"] += 3.0 * bool(_SAYS_INTERPRETER.search(text))
        if previous is not None and previous.speaker != seg.speaker:
            for role, cue in _ADDRESS_CUES.items():
                if previous.text.strip().endswith("?") and cue.search(previous.text):
                    t.points[role] += 1.5
        previous = seg
    return tallies


# What an adult says to close a turn: thanks and acknowledgements, not a child's reply.
_ACKNOWLEDGES = re.compile(
    r"^(?:thank you|thanks|thank god|cheers|ok(?:ay)?|lovely|great|brilliant|perfect|"
    r"no problem|no worries|that'?s (?:fine|right|great|lovely|brilliant))\b",
    re.IGNORECASE,
)


def _answers_another(previous: Utterance | None, seg: Utterance) -> bool:
    return (
        previous is not None
        and previous.speaker != seg.speaker
        and previous.text.strip().endswith("?")
    )


#: A child beside a more certain child whose parent points are at least this share of its
#: child points talks like a parent: the mother named a second child on a rendered visit had
#: 0.71, the rendered children 0 to 0.5 ("he", "she" about a friend). A child alone is never
#: changed.
PARENT_LIKE_SHARE = 0.5


def _second_children(
    guesses: dict[str, RoleGuess], tallies: Mapping[str, _Tally]
) -> dict[str, RoleGuess]:
    """``guesses`` with each child but the one with the most child points made a parent (or
    a carer, in a placement) when it talks like one: a parent speaks of the child as "he"
    or "she" and of "his school", which the child cues alone miss when the parent also says
    "school" or "my sister" (a mother named a second child on a rendered visit). Two
    children are kept when the second says little a parent would."""
    children = [k for k, g in guesses.items() if g.role == "child"]
    if len(children) < 2:
        return guesses
    # the child is the one who talks most like a child and least like a parent: on child points
    # alone a tie went to whoever spoke first, the mother at the door (cin-001 from audio on an
    # Intel machine, 2026-12-07: both 3.0, hers with 2.0 parent points)
    first = max(
        children,
        key=lambda k: (
            tallies[k].points["child"] - tallies[k].points["parent"],
            tallies[k].points["child"],
        ),
    )
    out = dict(guesses)
    for label in children:
        points = tallies[label].points
        if label == first or points["parent"] < PARENT_LIKE_SHARE * points["child"]:
            continue
        role = max(("parent", "carer"), key=lambda k: (points[k], -ROLES.index(k)))
        total = sum(v for k, v in points.items() if k != "social_worker")
        confidence = round(min(0.95, points[role] / (total + 1.0)), 2)
        out[label] = RoleGuess(label, role, confidence, guesses[label].scores)
    return out


#: Three or more words said three or more times running: a recogniser's loop ("and I will not
#: stare, and I will not stare …", heard in a child's turn on a rendered visit), not speech.
_LOOP = re.compile(r"(\b(?:\w+\W+){3,12}?)\1{2,}", re.IGNORECASE)


def unlooped(text: str) -> str:
    """``text`` with each loop said once, so a looped "I will" does not outweigh a
    practitioner's whole visit."""
    return _LOOP.sub(r"\1", text)


def _social_worker(tallies: Mapping[str, _Tally]) -> str | None:
    """The one speaker with the most social-worker points; none when that speaker said too
    little to tell (a few words over music are nobody's)."""
    best = max(tallies, key=lambda k: tallies[k].points["social_worker"])
    t = tallies[best]
    return best if t.points["social_worker"] >= 0.5 and t.words >= MIN_WORDS else None


def _guess(label: str, t: _Tally, worker: str | None) -> RoleGuess:
    scores = {k: round(v, 3) for k, v in t.points.items()}
    if label == worker:
        others = [v for k, v in t.points.items() if k != "social_worker"]
        mine = t.points["social_worker"]
        confidence = mine / (mine + max(others, default=0.0) + 1.0)
        return RoleGuess(label, "social_worker", round(min(0.95, confidence + 0.2), 2), scores)
    candidates = {k: v for k, v in t.points.items() if k != "social_worker"}
    # an adult family member who says nothing marking them out is a parent
    candidates["parent"] += 0.5 if t.words >= 3 * MIN_WORDS else 0.0
    role = max(candidates, key=lambda k: (candidates[k], -ROLES.index(k)))
    total = sum(candidates.values())
    if candidates[role] <= 0.5 or (t.words < MIN_WORDS and candidates[role] < 1.5):
        return RoleGuess(label, "unknown", 0.0, scores)
    return RoleGuess(label, role, round(min(0.95, candidates[role] / (total + 1.0)), 2), scores)


def display_labels(roles: Mapping[str, str]) -> dict[str, str]:
    """Speaker label -> the label the transcript shows: the role's name, numbered when two
    speakers share a role (``Parent 1``, ``Parent 2``, in order of their labels), else the
    speaker's own label (``S3``) for ``other`` and ``unknown``."""
    by_role: dict[str, list[str]] = {}
    for label in sorted(roles, key=_label_order):
        by_role.setdefault(roles[label], []).append(label)
    shown = {}
    for role, labels in by_role.items():
        for n, label in enumerate(labels, start=1):
            if role not in DISPLAY:
                shown[label] = label
            else:
                shown[label] = DISPLAY[role] if len(labels) == 1 else f"{DISPLAY[role]} {n}"
    return shown


def _label_order(label: str) -> tuple[int, str]:
    digits = label[1:]
    return (int(digits), label) if label[:1] == "S" and digits.isdigit() else (10**6, label)


def check_role(role: str) -> str:
    """``role`` if it is one of ``ROLES``, else ValueError naming the vocabulary."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    return role


def speakers_in(segments: Iterable[Utterance]) -> list[str]:
    """The speaker labels of ``segments`` in order of first appearance."""
    seen: dict[str, None] = {}
    for seg in segments:
        if seg.speaker is not None:
            seen.setdefault(seg.speaker, None)
    return list(seen)
