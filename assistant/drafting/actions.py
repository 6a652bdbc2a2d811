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
from assistant.drafting.selection import (
    IMPERATIVE,
    INSTRUCTION,
    NEXT_VISIT,
    PROGRESSIVE,
    is_question,
    sentences,
)
from assistant.speakers import FAMILY, PRACTITIONERS, SpeakerRole, attributed, role_of

_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
)
_ORDINAL = (
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
    r"thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|"
    r"twenty[- ](?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|thirtieth|"
    r"thirty[- ]first|\d{1,2}(?:st|nd|rd|th))"
)
_NUMBER = r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve|a couple of|\d+)"
_HOUR = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d{1,2})"
WHEN = re.compile(
    rf"\b(?:(?:by|on|before|after|until|from|this|next|within|in|at|over)\s+)?(?:"
    rf"(?:the\s+)?{_ORDINAL}(?:\s+of\s+{_MONTH})?|"
    rf"(?:this|next|on|by)\s+{_DAY}|{_DAY}|"
    rf"(?:this|next)\s+(?:week|month|term|weekend|time)|"
    rf"{_NUMBER}\s+(?:days?|weeks?|months?)(?:'? time)?|"
    rf"the end of (?:the|this|next) (?:week|month|term)|end of the (?:week|month|term)|"
    rf"tomorrow|tonight|today|the day after|half[- ]term|christmas|easter|the summer|"
    rf"(?:half past|quarter past|quarter to)\s+\w+|\d{{1,2}}(?::\d{{2}})?\s*(?:am|pm)|"
    rf"{_DAY}s|(?:about |around )?half {_HOUR}|at {_HOUR}(?: o'clock| thirty)?|"
    rf"after (?:school|work|lunch|tea|dinner|nursery|college|(?:your|his|her|my) shift|"
    rf"(?:the|your|his|her|our) (?:[a-z]+ ){{0,2}}(?:meeting|review|appointment|conference|"
    rf"panel|visit|hearing|assessment|holidays?))|before (?:i go|i leave|school|bedtime)|"
    rf"(?:the|this|tomorrow|that) (?:morning|afternoon|evening)"
    rf")\b",
    re.IGNORECASE,
)
"""A time expression: when something will happen or by when."""

NEAR_WORDS = 6
"""Time expressions this close together say one time ("next Thursday, after school, about half
three"): the row's by when runs from the first to the last."""

_I = re.compile(
    rf"\b(?:i'll|i will|i'm going to|i am going to|i can|i need to|i've|i'd like to|"
    rf"{PROGRESSIVE})\b",
    re.IGNORECASE,
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
    r"would you|need you to|like you to|want you to|please|he'll|she'll|they'll)\b",
    re.IGNORECASE,
)


def when(text: str) -> str | None:
    """The last time expression in ``text`` (the one a commitment is usually due by), as said,
    with any said just before it (:data:`NEAR_WORDS`): "next Thursday, after school, about
    half three"."""
    found = list(WHEN.finditer(text))
    if not found:
        return None
    start, end = found[-1].start(), found[-1].end()
    for m in reversed(found[:-1]):
        if len(text[m.end() : start].split()) > NEAR_WORDS or re.search(
            r"[.;?!]", text[m.end() : start]
        ):
            break
        start = m.start()
    return text[start:end].strip()


def action_row(
    text: str, speaker: str | None, segments: Sequence[RedactedSegment], at: int
) -> AgreedAction:
    """The who/what/by of a commitment ``text`` said by ``speaker`` at segment index ``at``."""
    who: str
    if _I.search(text):
        who = attributed(speaker)
    elif _YOU.search(text) or INSTRUCTION.search(text) or IMPERATIVE.search(text):
        who = _addressee(speaker, segments, at)
    elif _WE.search(text):
        other = _addressee(speaker, segments, at)
        who = f"{attributed(speaker)} and {other}" if other != "Someone" else attributed(speaker)
    else:
        who = attributed(speaker)
    m = _START.search(text)
    what = text[m.start() :].strip() if m else text.strip()
    if NEXT_VISIT.search(text) and role_of(speaker) in PRACTITIONERS:
        what = VISIT_AGAIN  # "I'll come back in six weeks." is the next visit, by when it says
    return AgreedAction(who=who, what=what, by=when(text))


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


# --- the header ---------------------------------------------------------------------------------
_ALONE = re.compile(
    r"\b(?:on (?:your|his|her|their|my) own|by (?:your|him|her|them|my)sel(?:f|ves)|"
    r"just (?:you and me|the two of us|us two)|(?:see|speak to|talk to|chat with) (?:him|her|"
    r"them|you) (?:alone|on (?:his|her|their|your) own)|alone with|in private|privately)\b",
    re.IGNORECASE,
)
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
                else ", ".join(attributed(s) for s in first),
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


def _found(
    segments: Sequence[RedactedSegment],
    pattern: re.Pattern[str],
    key: str,
    title: str,
    *,
    questions: bool,
) -> list[HeaderField]:
    """The first sentence of the practitioner's that ``pattern`` finds, as a header field."""
    for seg in segments:
        role = role_of(seg.speaker)
        if role not in (SpeakerRole.SOCIAL_WORKER, SpeakerRole.UNKNOWN):
            continue
        for s in sentences(seg.text):
            m = pattern.search(s)
            if m and (questions or not is_question(s)):
                return [HeaderField(key=key, title=title, value=s, evidence=(seg.id,))]
    return []


_OWN_VISIT = re.compile(
    r"\b(?:i'll|i will|i'm going to|i am going to|we'll|we will) (?:come back|be back|visit|"
    r"see you)\b|\bnext visit\b|\bvisit again\b",
    re.IGNORECASE,
)
"""A next visit as only the visitor says it: what a voice of unknown role must say to count."""


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
            if NEXT_VISIT.search(s) and not is_question(s):
                due = when(s)
                value = f"{due} ({s})" if due else s
                found = HeaderField(
                    key="next_visit", title="Next visit", value=value, evidence=(seg.id,)
                )
    return found  # the last one said: plans change during a visit
