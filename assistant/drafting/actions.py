"""Agreed actions as rows, and the note's header, read in code from kept words and roles.

Who will do an action comes from the speaker's role and the pronoun ("I'll ring school" said by
the social worker: the social worker; "you'll" said to a parent: that parent); by when is the
time expression in the same words; what is the words from the commitment on. Nothing here asks
the model: a row is the transcript's words rearranged into three columns, each cell a verbatim
piece of the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.domain import AgreedAction, HeaderField, RedactedSegment
from assistant.drafting.agreeing import farewell, offers_visit, parts, when
from assistant.drafting.selection import (
    IMPERATIVE,
    INSTRUCTION,
    MIN_CONTENT_WORDS,
    NEXT_VISIT,
    OWN_SEE,
    PROGRESSIVE,
    content_words,
    is_question,
    sentences,
)
from assistant.speakers import FAMILY, PRACTITIONERS, SpeakerRole, attributed, role_of

_I = re.compile(
    rf"\b(?:i'll|i will|i'm going to|i am going to|i can|i need to|i've|i'd like to|"
    rf"{PROGRESSIVE})\b",
    re.IGNORECASE,
)
_BOOKED = re.compile(
    r"\bi've (?:booked|signed|registered|enrolled|put) you\b(?! (?:a|an)\b)", re.IGNORECASE
)
_WE = re.compile(
    r"\b(?:we'll|we will|we're going to|we need to|let's|we agreed|agreed)\b", re.IGNORECASE
)
_YOU = re.compile(
    r"\b(?:you'll|you will|you're going to|can you|could you|would you|need you to|"
    r"like you to|want you to|please)\b",
    re.IGNORECASE,
)
_START = re.compile(
    rf"\b(?:{PROGRESSIVE}|i'll|i will|i'm going to|i am going to|i can|i need to|i've|"
    r"i'd like to|we'll|"
    r"we will|we're going to|we need to|let's|you'll|you will|you're going to|can you|could you|"
    # "I'd also like you to …" whole, not "like you to …" (a row read as a sentence)
    r"would you|i(?:'d| would)?(?: also| really)? (?:like|need|want) you to|need you to|"
    r"like you to|want you to|please|he'll|she'll|they'll)\b",
    re.IGNORECASE,
)


def action_row(
    text: str,
    speaker: str | None,
    segments: Sequence[RedactedSegment],
    at: int,
    *,
    told: bool = False,
) -> AgreedAction:
    """The who/what/by of a commitment ``text`` said by ``speaker`` at segment index ``at``;
    ``told``: an item of a list of what is agreed, whose words name no one ("First, the alcohol
    service appointment on Tuesday at ten."): the action of the person told."""
    who: str
    if _BOOKED.search(text):  # "I've booked you onto the group on Thursday.": theirs to go
        who = _addressee(speaker, segments, at)
    elif _I.search(text):
        who = attributed(speaker)
    elif _YOU.search(text) or INSTRUCTION.search(text) or IMPERATIVE.search(text):
        who = _addressee(speaker, segments, at)
    elif _WE.search(text):
        other = _addressee(speaker, segments, at)
        who = f"{attributed(speaker)} and {other}" if other != "Someone" else attributed(speaker)
    elif told:
        who = _addressee(speaker, segments, at)
    else:
        who = attributed(speaker)
    m = _START.search(text)
    what = text[m.start() :].strip() if m else text.strip()
    by = when(text)
    if visits(text) and role_of(speaker) in PRACTITIONERS:
        what = VISIT_AGAIN  # "I'll come back in six weeks." is the next visit, by when it says
        by = visit_when(text)
    return AgreedAction(who=who, what=what, by=by)


_VISITS = re.compile(
    r"\b(?:(?:come|coming|be|pop|call) (?:back|round|in)|visit (?:again|you|him|her|them)|"
    r"(?:i'll|i will|we'll|i'm going to) (?:visit|see you)|see you (?:all |both |two )?(?:on|"
    r"next|in|again|at)|(?:(?:my|our|the) )?next (?:home )?visit(?:'s| is| will be)|"
    r"(?:do|make|have) (?:my|our|the) next (?:home )?visit|next time i (?:come|visit|see)|"
    r"follow[- ]up visit|(?:i'll|i will|we'll|we will) (?:pop|come) (?:round|over))\b|"
    rf"\b{OWN_SEE}",
    re.IGNORECASE,
)
_OTHERS = re.compile(
    r"\b(?:he|she|they|you|(?:the|his|her|your|their) [a-z]+(?: [a-z]+)?|"
    r"(?-i:\[[A-Z][A-Z0-9_]*_\d+\]|(?!We\b)[A-Z][a-z]+))(?:'ll| will|'s going to| is going to|"
    r"'re going to| are going to|'s| is|'re| are) (?:also |then |just )?(?:come|coming|be back|"
    r"pop|popping|call|calling|visit|visiting|see|seeing)\b",
    re.IGNORECASE,
)
"""Someone else coming or seeing the family ("The health visitor will come back next week.",
"The nurse will see him on Friday."): their appointment, not the visitor's next visit."""
_MEETING = re.compile(
    r"\bsee you (?:all |both )?at (?:the|your|his|her|their) (?:[\w'-]+ ){0,2}(?:pep|meeting|"
    r"review|core group|conference|panel|hearing|court|appointment|group|clinic)\b",
    re.IGNORECASE,
)
"""Seeing the family at a meeting ("I'll see you at the PEP on the tenth."): not a visit."""


def _visiting(text: str) -> list[str]:
    """The clauses of ``text`` that say when the visitor comes again, in order."""
    out = []
    for sentence in sentences(text):
        for a, b in parts(sentence):
            clause = sentence[a:b]
            if (
                NEXT_VISIT.search(clause)
                and _VISITS.search(clause)
                and not _OTHERS.search(clause)
                and not _MEETING.search(clause)
                and not farewell(clause)  # "I'll see you next time.": goodbye
            ):
                out.append(clause)
    return out


def visits(text: str) -> bool:
    """``text`` says when the visitor comes again ("I'll come back in six weeks."), not only a
    time that a next visit could be ("I'll ring the nursery about a space from next month.",
    "I'll help with the form at the next visit."), someone else's visit or appointment ("The
    nurse will see him on Friday.") or goodbye ("I'll see you next time.")."""
    return bool(_visiting(text))


def visit_when(text: str) -> str | None:
    """When the visitor comes again, from the clause that says so: "The next core group is on
    the fourteenth, and I'll visit again in three weeks." is "in three weeks", not the two times
    run together; the sentence's time where that clause names none."""
    for clause in reversed(_visiting(text)):
        due = when(clause)
        if due:
            return due
    return when(text)


VISIT_AGAIN = "Visit again"
"""The ``what`` of the practitioner's next-visit row: the one cell written in code, as a note
writes it ("Visit again | in six weeks"); the statement keeps the words as said."""


def _addressee(speaker: str | None, segments: Sequence[RedactedSegment], at: int) -> str:
    """Who ``speaker`` was talking to at ``at``: the nearest other speaker, after then before."""
    order = [*segments[at + 1 : at + 4], *reversed(segments[max(0, at - 3) : at])]
    for seg in order:
        if seg.speaker and seg.speaker != speaker:
            return attributed(seg.speaker)
    return "Someone"


# --- what "it" and "that" stand for --------------------------------------------------------------
_VAGUE = re.compile(
    rf"^(?:(?:so|and|also|then|okay|ok|right),?\s+)*(?:{_START.pattern})\s+(?:also\s+|just\s+)?"
    r"(?:have to\s+|need to\s+|try (?:and|to)\s+)?[a-z]+(?:\s+(?:up|on|off|back|over|through|"
    r"in|out))?\s+(?:it|this|that)(?=\s*(?:[.,;!?]|$)|\s+(?:to|for|up|on|off|with|at|in|by|over|"
    r"through|back|out|round|across|today|tomorrow|tonight|this|next|now|later|first|straight|"
    r"as soon)\b)",
    re.IGNORECASE,
)
"""A commitment whose only object is "it", "this" or "that" ("I'll send that today.", "I'll
chase that up."): the pronoun followed by the end, a preposition or a time; not "I'll check
that he's back" nor "Let's agree that before Thursday …"."""
_THANKS = frozenset(
    "thank thanks helpful brilliant lovely great good fine sorry hear understand".split()
)
"""Words of acknowledgement ("That's helpful, thank you.", "I hear you."): no context."""
REFERENT_WORDS = 40
"""A turn before a vague row this short is its context whole ("My National Insurance is … And
he was born on …"); a longer one gives its last sentence that says something."""


def vague(what: str) -> bool:
    """``what`` names what is to be done only as "it", "this" or "that"."""
    return bool(_VAGUE.search(what.strip()))


def _says_something(text: str) -> bool:
    return len(content_words(text) - _THANKS) >= MIN_CONTENT_WORDS and not vague(text)


def referent(text: str, segments: Sequence[RedactedSegment], at: int) -> tuple[str, str] | None:
    """For a row ``text`` (a verbatim piece of segment ``at``) whose what is only "it" or
    "that" (:func:`vague`), the words said just before it that it stands for, verbatim, and
    the segment they are in: the start of the same sentence ("… offering cannabis to a
    fifteen-year-old is a real worry, and I'll have to share it at the core group."), else an
    earlier sentence of the turn that says something (not "Thank you."), else the turn before
    (whole when short: "The registration is …" before "Thank you. I'll pass that to the
    police."). ``None`` when the row can be read alone or nothing before it says anything."""
    m = _START.search(text)
    if not vague(text[m.start() :] if m else text):
        return None
    seg = segments[at]
    start = seg.text.find(text)
    if start < 0:
        return None
    before = seg.text[: start + (m.start() if m else 0)]  # the row's what starts at m
    said = sentences(before)
    if said and not re.search(r"[.!?…][\"'”’)]?$", before.rstrip()):
        # the row is a clause: the start of its sentence is its first context, the joining
        # word left out
        head = re.sub(r"(?:[,;]\s*|\s+)(?:and|but|so|then)?\s*$", "", said[-1]).strip()
        if _says_something(head):
            return head, seg.id
        said = said[:-1]
    for sentence in reversed(said):
        if _says_something(sentence):
            return sentence, seg.id
    if at == 0:
        return None
    prev = segments[at - 1]
    if len(prev.text.split()) <= REFERENT_WORDS and _says_something(prev.text):
        return prev.text.strip(), prev.id
    for sentence in reversed(sentences(prev.text)):
        if _says_something(sentence):
            return sentence, prev.id
    return None


# --- the header ---------------------------------------------------------------------------------
_ALONE = re.compile(
    r"\b(?:i|we|me|us)\b[^.?!]{0,50}?\b(?:see|saw|seen|speak|spoke|talk|talked|chat|chatted|"
    r"have a (?:word|chat)|had a (?:word|chat)|spend|spent|play|go|went|meet|met)\b[^.?!]{0,50}?"
    r"(?:\bon (?:his|her|their|your|my) own\b|\balone\b|\bby (?:him|her|them|your)sel(?:f|ves)\b|"
    r"\bjust (?:you and me|the two of us|us two|us)\b|\bin private\b|\bprivately\b)",
    re.IGNORECASE,
)
"""The practitioner seeing or talking with someone alone: "I" or "we" and a verb of meeting.
Alone words by themselves said other things in the scenarios: "It's a lot on your own" (to a
single parent), "How often is Matas on his own overnight?" (a child left alone), "Has he
talked to you on your own?" (an adult who contacted the child)."""
_WHERE = re.compile(
    r"\b(?:saw|seen|see|spoke|speak|talked|talk|chatted|chat|met|meet)\b[^.?!]{0,60}\b"
    r"(?:in (?:his|her|their|your|the) (?:bedroom|room|kitchen|living room|lounge|garden|den|"
    r"car|classroom)|at (?:school|nursery|college|the contact centre|the office|the family "
    r"centre|the park|the cafe|nan's|grandma's|dad's|mum's)|at the (?:foster|children's) home)\b",
    re.IGNORECASE,
)
"""Where the practitioner says they saw or spoke with the child."""


def header(segments: Sequence[RedactedSegment]) -> tuple[HeaderField, ...]:
    """Who was present, whether the child was seen (and seen alone), where they were seen and
    when the next visit is, each from the transcript with the segments it rests on."""
    fields: list[HeaderField] = []
    first: dict[str, str] = {}
    for seg in segments:
        if (
            seg.speaker
            and seg.speaker not in first
            and role_of(seg.speaker) is not SpeakerRole.OTHER
        ):
            first[seg.speaker] = seg.id
    if first:
        only = next(iter(first)) if len(first) == 1 else None
        one_voice = only is not None and role_of(only) is SpeakerRole.UNKNOWN
        fields.append(
            HeaderField(
                key="present",
                title="Who spoke at the visit",
                # one voice of no known role: the words are not attributed to anyone, and the
                # reader must know why before reading them
                value=f"One voice heard ({attributed(only)}): who said what is not marked. "
                "Check the speakers before relying on this note."
                if one_voice
                else _listed_names([attributed(s) for s in first]),
                evidence=tuple(first.values()),
            )
        )
    child = [s for s in segments if role_of(s.speaker) is SpeakerRole.CHILD]
    # only where some label is a known role: "S1", "S2" from speaker separation say nothing
    known = any(role_of(s.speaker) is not SpeakerRole.UNKNOWN for s in segments)
    if known:
        fields.append(
            HeaderField(
                key="child_seen",
                title="Child seen",
                value="Yes: the child speaks in the recording"
                if child
                else "Not heard in the recording (check whether the child was seen)",
                evidence=(child[0].id,) if child else (),
            )
        )
    # asking to see the child alone is the evidence a practitioner has of it: questions count
    fields += _found(segments, _ALONE, "seen_alone", "Child seen alone", questions=True)
    fields += _found(segments, _WHERE, "where", "Where the child was seen", questions=False)
    nxt = _next_visit(segments)
    if nxt is not None:
        fields.append(nxt)
    return tuple(fields)


def _listed_names(names: Sequence[str]) -> str:
    """ "The social worker, the child, Mum": "The" is a capital only where the list starts."""
    return ", ".join(
        n if i == 0 or not n.startswith("The ") else "the " + n[4:] for i, n in enumerate(names)
    )


def _found(
    segments: Sequence[RedactedSegment],
    pattern: re.Pattern[str],
    key: str,
    title: str,
    *,
    questions: bool,
) -> list[HeaderField]:
    """The first sentence of the practitioner's that ``pattern`` finds, as a header field,
    attributed as the note's statements are ("The social worker asked: “Can I talk to him on
    his own?”"): a question there is what was asked, not a "Yes"."""
    for seg in segments:
        role = role_of(seg.speaker)
        if role not in (SpeakerRole.SOCIAL_WORKER, SpeakerRole.UNKNOWN):
            continue
        for s in sentences(seg.text):
            m = pattern.search(s)
            if m and (questions or not is_question(s)):
                verb = "asked" if is_question(s) else "said"
                value = f"{attributed(seg.speaker)} {verb}: “{s}”"
                return [HeaderField(key=key, title=title, value=value, evidence=(seg.id,))]
    return []


_OWN_VISIT = re.compile(
    r"\b(?:i'll|i will|i'm going to|i am going to|we'll|we will) (?:come back|be back|visit|"
    rf"see you|pop (?:in|round|back|over)|come (?:round|over))\b|\bnext visit\b|\bvisit again\b|"
    rf"{OWN_SEE}",
    re.IGNORECASE,
)
"""A next visit as only the visitor says it: what a voice of unknown role must say to count."""


def own_visit(text: str) -> bool:
    """``text`` says the visitor comes again in words only the visitor uses ("I'll come back on
    Tuesday."): what a voice of unknown role must say for its words to be the next visit."""
    return bool(_OWN_VISIT.search(text)) and visits(text)


def _next_visit(segments: Sequence[RedactedSegment]) -> HeaderField | None:
    found: HeaderField | None = None
    for seg in segments:
        role = role_of(seg.speaker)
        if role in FAMILY or role is SpeakerRole.CHILD:
            continue
        # a voice of unknown role may be the family's: "he needs to go back in the summer" is
        # the dentist's appointment, not the practitioner's next visit
        unsure = role is SpeakerRole.UNKNOWN
        for s in sentences(seg.text):
            if unsure and not _OWN_VISIT.search(s):
                continue
            # the visitor's own words about coming again, or offering to ("Shall I come back
            # in four weeks?"): not a time that a next visit could be ("I'll ring the nursery
            # about next month.", "He told him to come again next week.")
            if visits(s) and (not is_question(s) or offers_visit(s)):
                due = visit_when(s)
                # the time alone: the sentence is the note's "Visit again" row
                value = due or s
                found = HeaderField(
                    key="next_visit", title="Next visit", value=value, evidence=(seg.id,)
                )
    return found  # the last one said: plans change during a visit
