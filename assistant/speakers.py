"""Who a speaker label is, as a role: a note's attribution is written from it in code.

A transcript's speaker labels are roles, never names: "Social worker", "Mum", "Child" in a typed
transcript, "Social worker", "Parent 1", "Child" or "S3" from speaker separation. The note style
(:mod:`assistant.drafting.styles.note`) reads each label's role to decide which sections a
speaker's words may go in (the child's section holds only the child's words) and to write "Mum
said: ..." without asking the model who said it. A label this module does not know is
``UNKNOWN``: its words are attributed by the label itself ("S3 said: ...").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum


class SpeakerRole(StrEnum):
    SOCIAL_WORKER = "social_worker"
    CHILD = "child"
    PARENT = "parent"
    CARER = "carer"
    RELATIVE = "relative"
    PROFESSIONAL = "professional"
    INTERPRETER = "interpreter"
    OTHER = "other"
    UNKNOWN = "unknown"


FAMILY = frozenset({SpeakerRole.PARENT, SpeakerRole.CARER, SpeakerRole.RELATIVE})
"""Roles whose words are the family's views (the parents' and carers' section)."""
PRACTITIONERS = frozenset({SpeakerRole.SOCIAL_WORKER, SpeakerRole.PROFESSIONAL})
"""Roles whose commitments are the visit's agreed actions and whose next visit is the note's."""

_WORDS: dict[SpeakerRole, tuple[str, ...]] = {
    SpeakerRole.SOCIAL_WORKER: (
        "social worker",
        "sw",
        "practitioner",
        "family support worker",
        "early help worker",
        "key worker",
        "caseworker",
        "case worker",
        "worker",
        "doctor",
    ),
    SpeakerRole.CHILD: (
        "child",
        "young person",
        "yp",
        "son",
        "daughter",
        "boy",
        "girl",
        "teenager",
        "patient",
    ),
    SpeakerRole.PARENT: (
        "mum",
        "mummy",
        "mam",
        "mama",
        "mother",
        "ma",
        "dad",
        "daddy",
        "father",
        "baba",
        "papa",
        "parent",
        "stepdad",
        "stepmum",
        "step-dad",
        "step-mum",
        "stepfather",
        "stepmother",
        "partner",
    ),
    SpeakerRole.CARER: (
        "foster carer",
        "foster mum",
        "foster dad",
        "carer",
        "kinship carer",
        "special guardian",
        "residential worker",
    ),
    SpeakerRole.RELATIVE: (
        "nana",
        "nan",
        "gran",
        "granny",
        "grandma",
        "grandmother",
        "grandad",
        "grandpa",
        "grandfather",
        "auntie",
        "aunt",
        "uncle",
        "sister",
        "brother",
        "cousin",
        "relative",
    ),
    SpeakerRole.PROFESSIONAL: (
        "teacher",
        "health visitor",
        "nurse",
        "police",
        "police officer",
        "senco",
        "iro",
        "professional",
        "school nurse",
        "gp",
    ),
    SpeakerRole.INTERPRETER: ("interpreter", "translator"),
    SpeakerRole.OTHER: ("tv", "television", "radio", "friend", "neighbour", "visitor"),
}
_LOOKUP = {w: role for role, words in _WORDS.items() for w in words}
_NUMBERED = re.compile(r"^(.*?)\s*\d{1,2}$")  # "Parent 2" -> "Parent"


def role_of(label: str | None) -> SpeakerRole:
    """The role of a speaker label ("Mum" -> parent, "Young person" -> child, "Parent 2" ->
    parent, "S3" -> unknown). Case and surrounding spaces do not matter."""
    if not label:
        return SpeakerRole.UNKNOWN
    key = " ".join(label.lower().replace("_", " ").split())
    if key in _LOOKUP:
        return _LOOKUP[key]
    m = _NUMBERED.match(key)
    if m and m.group(1) in _LOOKUP:
        return _LOOKUP[m.group(1)]
    return SpeakerRole.UNKNOWN


#: Labels that name the note's author when a visit has several practitioners.
_AUTHOR_LABELS = frozenset({"social worker", "practitioner", "sw"})


def authors(labels: Iterable[str | None]) -> frozenset[str]:
    """Of a visit's speaker ``labels``, those whose words are the note author's: the social
    worker's ("Social worker", "Practitioner", "Social worker 2") when the visit has one,
    otherwise every label of that role ("Key worker" on an early-help visit is its lead
    practitioner). Another practitioner's words are an account the note needs."""
    found = {label for label in labels if label and role_of(label) is SpeakerRole.SOCIAL_WORKER}
    plain = {
        label
        for label in found
        if _NUMBERED.sub(r"\1", " ".join(label.lower().split())) in _AUTHOR_LABELS
    }
    return frozenset(plain or found)


#: A statement whose words an interpreter said for the person it is attributed to (their own
#: words, in another language, are the first segment it cites): the note writes "Mum said
#: (through the interpreter): “…”".
THROUGH_INTERPRETER = "through_interpreter"

_THE = {
    SpeakerRole.SOCIAL_WORKER: "The social worker",
    SpeakerRole.CHILD: "The child",
}


def attributed(label: str | None) -> str:
    """Who said it, as a note writes it at the start of a sentence: "Mum", "The child", "The
    social worker", "Foster carer", "S3"; "Someone" when the speaker is not known. Family labels
    are kept as said (a practitioner writes "Mum said", not "The parent said")."""
    role = role_of(label)
    if role in _THE and (label or "").strip().lower() in {"child", "social worker", "sw"}:
        return _THE[role]
    if not label:
        return "Someone"
    return label.strip()[:1].upper() + label.strip()[1:]
