"""How agreed actions are said, beyond one "I'll …" a sentence, and by when: the cues
:mod:`assistant.drafting.selection` and :mod:`assistant.drafting.actions` share to make rows.

* By when is the time expression said with the action (:func:`when`): "on Thursday morning",
  "tomorrow afternoon", "at the next visit".
* A sentence that commits to two things for different people or by different times ("I'll
  refer him today, and I'll bring the leaflet next Wednesday.") is a row for each
  (:func:`clauses`).
* A sentence that opens a list of what is agreed ("Can we agree some things?", "So, the plan
  for now.", "So, actions.") makes the sentences after it in the same turn rows (:data:`FRAME`):
  "First, the alcohol service appointment on Tuesday at ten." is an action with no verb.
* A request or instruction after the name of the person told, or a short lead-in ("Mirela, can
  you …", "And at home, try to …"): :data:`LEAD`.
* "And keep any sharp knives out of her room." after "Could you lock them away tonight?" goes
  on with the same request (:data:`CONTINUES`): one row.

Every piece is a verbatim span of what was said, so verification finds it word for word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

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
_PART = r"(?:morning|afternoon|evening|night)"
"""Said after a day ("Thursday morning", "tomorrow afternoon"): part of the same time."""
_HOUR = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d{1,2})"
WHEN = re.compile(
    # not "in" before "next" or "this": "I'll pop in next week." is due "next week"
    rf"\b(?:(?:by|on|before|after|until|from|this|next|within|in(?!\s+(?:next|this)\b)|at|over)"
    rf"\s+)?(?:"
    rf"the\s+{_ORDINAL}(?:\s+of\s+{_MONTH})?|{_ORDINAL}\s+of\s+{_MONTH}|"
    rf"(?:(?:this|next|on|by)\s+)?{_DAY}(?:\s+{_PART})?|"
    rf"(?:this|next)\s+(?:week|month|term|weekend|time|fortnight)|"
    rf"{_NUMBER}\s+(?:days?|weeks?|months?|fortnights?)(?:'? time)?|"
    rf"the end of (?:the|this|next) (?:week|month|term)|end of the (?:week|month|term)|"
    rf"tomorrow(?:\s+{_PART})?|tonight|today|the day after|half[- ]term|christmas|easter|"
    rf"the summer|(?:at|by|before|until) (?:the|my|our) next (?:home )?visit|"
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


_RELATIVE = re.compile(r"(?:the day after|the day before)", re.IGNORECASE)
"""A time that counts from another one."""


def when(text: str) -> str | None:
    """The last time expression in ``text`` (the one a commitment is usually due by), as said,
    with any said just before it (:data:`NEAR_WORDS`): "next Thursday, after school, about
    half three"."""
    found = list(WHEN.finditer(text))
    if not found:
        return None
    start, end = found[-1].start(), found[-1].end()
    if _RELATIVE.fullmatch(found[-1].group(0)) and len(found) > 1:
        # "the day after" says nothing alone: after the time said before it in the sentence
        before = found[-2]
        if not re.search(r"[.;?!]", text[before.end() : start]):
            return f"{before.group(0).strip()} … {text[start:end].strip()}"
    for m in reversed(found[:-1]):
        if len(text[m.end() : start].split()) > NEAR_WORDS or re.search(
            r"[.;?!]", text[m.end() : start]
        ):
            break
        start = m.start()
    return text[start:end].strip()


_NAME = r"(?-i:\[[A-Z][A-Z0-9_]*_\d+\]|[A-Z][a-z]+)"  # a name, in patterns that ignore case
LEAD = (
    rf"(?:(?:(?-i:Mr|Mrs|Ms|Miss|Dr)\.?\s+)?{_NAME}(?:\s+{_NAME})?,\s+"
    r"|(?:(?:and|so|also)\s+)?(?:at home|in the meantime|meanwhile|for now|tonight|today|this "
    r"week|until then|after school|in the mornings?|at bedtime),\s+)?"
)
"""Said before a request or an instruction without changing whose it is: the name of the person
told ("[PERSON_1], can you …") or when or where it applies ("And at home, try …")."""

FRAME = re.compile(
    r"\b(?:(?:can|could|shall) we agree|(?:let's|we need to|i'd like to|i want to) agree|"
    r"(?:some |a few )?things (?:i'd like (?:us )?to agree|we need to agree|to do|we agreed)|"
    r"the plan (?:for now|from here|from now on)|so,? actions|actions from me|"
    r"(?:here's|this is) what (?:i'll|we'll|i will|we will|i'm going to|we're going to) do)\b",
    re.IGNORECASE,
)
"""A sentence that opens a list of what is agreed: the sentences after it in the turn are rows,
whoever they name ("First, …", "Second, …")."""

PROGRESSIVE = (
    r"i'm (?:also )?(?:making|ringing|calling|referring|sending|writing|booking|arranging"
    r"|emailing|applying|asking for)"
)
""""I'm making a referral today": a commitment said as under way."""
_SUBJECT = (
    rf"(?:i'll|i will|i'm going to|i am going to|i've|i can(?!')|{PROGRESSIVE}|we'll|we will|"
    r"we're going to|you'll|you will|you're going to|he'll|she'll|they'll)"
)
_JOIN = re.compile(
    rf",?\s+(?:and|then|but)\s+(?:also\s+)?(?={_SUBJECT}\b)|,\s+(?={_SUBJECT}\b)|,\s+and\s+(?=[a-z])",
    re.IGNORECASE,
)
"""Where a sentence's second commitment may start: ", and I'll …", ", you'll …", ", and help …"."""
_COMMITS = re.compile(rf"\b{_SUBJECT}\b", re.IGNORECASE)

_REMINDER = re.compile(
    r"^(?:(?:so|and|also|then|now|okay|ok|right|first|second|third|finally|remember|"
    r"don't forget),?\s+)*(?:the|your|his|her|their)\s+(?:[\w'-]+\s+){0,5}?"
    r"(?:appointment|meeting|review|session|group|assessment|clinic)\b",
    re.IGNORECASE,
)


def reminder(sentence: str) -> bool:
    """The practitioner naming an appointment and its time, not asking ("So, the speech and
    language appointment on the fifteenth."): an action of the person told, to go to it."""
    return bool(
        _REMINDER.match(sentence.strip())
        and when(sentence)
        and not sentence.rstrip().endswith("?")
        and not _PAST.search(sentence)
    )


_PAST = re.compile(r"\b(?:was|were|had|went|did|happened)\b", re.IGNORECASE)
"""An appointment that has been ("The last core group was on the twelfth.") is not an action."""


CONTINUES = re.compile(
    r"^(?:and|also|plus)\s+(?:(?:please|just|then|maybe)\s+)?(?:keep|take|ring|call|phone|lock|"
    r"give|bring|drop|use|try|text|book|make sure|remember|check|put|hide|don't|do not|not)\b",
    re.IGNORECASE,
)
"""A sentence that goes on with the request or instruction before it ("And keep any sharp
knives out of her room.")."""


def clauses(sentence: str) -> list[str]:
    """``sentence`` cut into a part a row where it commits to things for different people or
    by different times: "You'll give the code to nursery, and I'll put you down for the group
    on Saturday."; "I'll send the form off by Friday, and help with the claim at the next
    visit." Each part is verbatim, the joining word left out. "I'll recommend no further
    action, and I'll write to you to confirm." is one action told in two verbs, and "There'll
    be a meeting tomorrow, and I'll ring you after it." needs its first part: one row each."""
    parts: list[str] = []
    start = 0
    for m in _JOIN.finditer(sentence):
        head = sentence[start : m.start()].strip()
        tail = sentence[m.end() :]
        subject = _COMMITS.match(tail)
        if (subject and _COMMITS.search(head)) or (
            not subject and _COMMITS.search(sentence[: m.start()]) and when(head) and when(tail)
        ):
            parts.append(head)
            start = m.end()
    rest = sentence[start:].strip()
    if not parts or not rest:
        return [sentence]
    parts.append(rest)
    # "I" and "you" in one sentence are two people's actions; otherwise each part needs its own
    # by when, or the part without one loses the time it was said with ("I'll bring the
    # leaflet, and I'll come back next Monday.": the leaflet comes with the visit)
    whose = {_first_person(p) for p in parts}
    times = [when(p) for p in parts]
    if len(whose) > 1 or (all(times) and len(set(times)) == len(times)):
        return parts
    return [sentence]


def _first_person(part: str) -> bool:
    m = _COMMITS.search(part)
    return m is None or m.group(0).casefold().startswith(("i", "we"))


# --- requests and instructions: an action for the person told --------------------------------
INSTRUCTION = re.compile(
    r"(?:^|[.,;]\s+|\b(?:so|and|then|meantime),?\s+)if\b[^.?!]{3,120}?,\s*(?:then\s+)?"
    r"(?:you\s+(?:can\s+|should\s+|must\s+|need to\s+)?)?(?:ring|call|phone|take|go|keep|tell"
    r"|let|text|bring|contact|use|don't|do not)\b"
    r"|\bif\b[^.?!]{3,120}?,\s*(?:it's|it is|it would be|it'd be) worth\s+\w+ing\b"
    r"|\bif\b[^.?!]{3,120}?,[^.?!]{0,80}\byou (?:can|could|should) (?:ring|call|phone|text"
    r"|contact|speak to|talk to|go to)\b",
    re.IGNORECASE,
)
"""What to do if something happens ("If he turns up, you don't open the door and you ring
999."; "If you get worried before then, the GP, or you can ring me."): a safety plan's step, an
action for the person told."""
IMPERATIVE = re.compile(
    r"(?:^|[.!?]\s+)(?:(?:so|and|also|then|now|okay|ok|right|please|just),?\s+)*"
    + LEAD
    + r"(?:(?:please|just|also),?\s+)*(?:keep|take|ring|call|phone|lock|give|bring|drop|use|try"
    r"|text|book|make sure|remember to|carry on|don't let|do not let)\b"
    r"(?!\s+(?:me|us|a seat|your time|care|a look|a minute|a moment|it easy|going with this|"
    r"a breath|on\b|back\b))",
    re.IGNORECASE,
)
"""A practitioner telling the family what to do ("Keep going to stay and play.", "So, ring
the GP if the rash comes back."): an action for the person told. Not a prompt in the visit
("Take your time.", "Give me a minute.")."""


REQUEST = re.compile(
    r"^(?:(?:so|and|okay|ok|right|now|then|also),?\s+)*" + LEAD + r"(?:can|could|would|will) you\s+"
    r"(?!(?:tell|show|remember|think|describe|explain|say|hear|see|give me|help me|talk me|"
    r"let me|imagine|read|draw|point)\b)(?:please\s+)?[a-z]+",
    re.IGNORECASE,
)
"""A practitioner's request ("Could you ring her by Wednesday?"): an action for the person
asked, though it ends in a question mark; not a question about the visit ("Can you tell me
about school?")."""


_OFFER_VISIT = re.compile(
    r"^(?:(?:so|and|okay|ok|right|then),?\s+)*(?:shall|should|can|could) i (?:come back|visit|"
    r"pop (?:back|in|round)|come and see)\b",
    re.IGNORECASE,
)
"""The practitioner offering the next visit as a question ("Shall I come back in four weeks?")."""


def offers_visit(sentence: str) -> bool:
    """The practitioner offers the next visit ("Shall I come back in four weeks?")."""
    return bool(_OFFER_VISIT.search(sentence.strip()))


def asks_for_action(sentence: str) -> bool:
    """A question that asks for something to be done: a request ("Could you ring her by
    Wednesday?"), an instruction said as a question ("And ring the out of hours team if you're
    worried?") or the next visit offered ("Shall I come back in four weeks?")."""
    return bool(
        REQUEST.search(sentence) or IMPERATIVE.match(sentence) or _OFFER_VISIT.search(sentence)
    )


ITEM = re.compile(
    r"(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|fourth(?:ly)?|fifth(?:ly)?|finally|last(?:ly)?"
    r"|one|two|three|four|five)\b[,:]",
    re.IGNORECASE,
)
"""A numbered item of a list ("Second, no drinking when you're on your own.")."""


def continued(text: str, said: Sequence[str], kept: Sequence[str]) -> list[str]:
    """The kept sentences of a turn, a sentence that goes on with the request or instruction
    just before it ("Could you lock them away tonight? And keep any sharp knives out of her
    room.", :data:`CONTINUES`) joined to it as said: one row."""
    out: list[str] = []
    last = -2  # the index in ``said`` of the sentence ``out[-1]`` ends with
    for n, s in enumerate(said):
        if s not in kept:
            continue
        before = said[n - 1] if n else ""
        if (
            last == n - 1
            and CONTINUES.search(s)
            and (REQUEST.search(before) or IMPERATIVE.match(before))
            and out[-1] in text
        ):
            start = text.index(out[-1])
            out[-1] = text[start : text.index(s, start) + len(s)]
        else:
            out.append(s)
        last = n
    return out


# --- what is said about the visit itself: not an action for after it ---------------------------
_RECORD = re.compile(
    r"\b(?:record(?:ing)?\s+(?:it|this|that|the (?:visit|conversation))|"
    r"(?:i'm|i am|i'll be|i will be) recording|"
    # not the family's writing: "I can help you write it down at the next visit."
    r"(?<!help you )(?<!help him )(?<!help her )(?<!help them )"
    r"(?:write|writing)\s+(?:it|that|this|them)\s+(?:all\s+)?down|written down|"
    r"(?:write|writing)\s+down\s+(?:that|what|how|everything)|"
    r"write\s+(?:that|what)\s+(?:you|he|she|they|i|we)\b|"
    r"(?:write|writing)\s+(?:up\s+)?(?:my|the|an?(?:\s+accurate|\s+proper)|your)\s+"
    r"(?:\w+\s+)?notes?\b(?!\s+(?:to|for)\b)|(?:with|for|in) my (?:notes|diary)|"
    r"update (?:that|it|this|your (?:details|number|address))[.!]?$)",
    re.IGNORECASE,
)
"""The practitioner's own record of the visit ("I'll record it so I can write my note.", "I'm
going to write that down in your words."): how the note is made, not an action agreed."""
WRITES_DOWN = re.compile(
    r"\b(?:write|writing)\s+(?:down\s+)?(?:that|what)\s+(?!down\b)\w+", re.IGNORECASE
)
"""What the practitioner says they will write down ("I'm going to write down that I smelled
cannabis in the house"): their summary of the visit, kept as what they report."""
_IN_VISIT = re.compile(
    r"\b(?:be (?:honest|straight|clear|open|quick)|"
    r"ask (?:you|her|him|them) (?:some |a few |a couple of |lots of |more |any )?(?:\w+ )?"
    r"questions|(?:i'd like to|let's|i'll|i will|can we|shall we) (?:start|begin) "
    r"(?:with|by|there|here)|"
    r"while (?:we|i)(?:'re| are|'m| am)? (?:talk|chat|here)\w*|(?:put|pop) the kettle on|"
    r"cup of tea|cuppa|(?:want|need) you to (?:hear|know|understand|listen)|"
    # what the worker wants from the conversation itself ("I'd like to hear how things have
    # been.", "I'd like to talk to you about the plan."), not an action after it
    r"(?:i'd like to|i would like to) (?:hear|understand|know|find out|catch up|"
    r"check in|go through|talk (?:to|with) you|chat (?:to|with) you|ask you|see how|have a chat)|"
    r"(?:i'll|i will|you'll|you will|we'll|he'll|she'll|they'll) be (?:able|fine|okay|ok|"
    r"alright|all right|safe|right)|(?:i'll|i will|we'll|we will) always|"
    # the interpreting in the visit itself ("she'll interpret everything we both say"), not
    # booking an interpreter for a meeting
    r"interpret(?:s|ing)? (?:everything|for (?:you|us|me|mum|dad|her|him|them)|what|"
    r"in the first person))\b",
    re.IGNORECASE,
)
"""Words about the conversation or the moment ("I'm going to be straight with you.", "I'd like
to start with how things have been.", "I'll put the kettle on.", "You'll be right next door."),
a state ("I'll be able to do more hours.") or a standing promise ("I'll always tell you"): not
an action with a who, a what and a by when."""
_ALONE = re.compile(
    r"\b(?:see|talk to|talk with|speak to|speak with|chat with|spend (?:\w+ ){0,3}with)\b"
    r"[^.?!]{0,40}\b(?:on (?:his|her|their|your) own|alone|just with (?:him|her|them)|"
    r"by (?:himself|herself|themselves))",
    re.IGNORECASE,
)
"""Seeing the child alone, asked for during the visit ("I'd like to talk to him on his own, if
that's okay."): the header's "Child seen alone", not an action; with a time it is one ("I'll
see her on her own at school on Friday.")."""
_NOW_WORD = re.compile(
    r"(?<!for )(?<!from )(?<!until )(?<!till )(?<!by )(?<!^)(?<![.!?] )\bnow\b(?!\s+(?:on|that)\b)",
    re.IGNORECASE,
)
"""Done now, in the visit ("I'll do it now, he needs changing anyway."); not "for now", "from
now on", "now that …", nor "Now," opening a sentence."""
_FAREWELL = re.compile(
    r"^(?:(?:ok|okay|right|so|and|bye|lovely|thanks|thank you|great)[,!.]?\s+)*"
    r"(?:i'll |we'll )?see you (?:next time|soon|later)[.!]?$",
    re.IGNORECASE,
)
"""Goodbye ("I'll see you next time."): no time is said, so neither an action nor the next
visit."""
PAST_AGREED = re.compile(
    r"\b(?:what|as|like) (?:we|you|i|they)(?:'ve| have| had)? agreed\b|"
    r"\b(?:we|you|he|she|they|i) agreed\b|\bthe last (?:\w+ ){0,2}"
    r"(?:core group|meeting|visit|conference|review|time)\b|\b(?:might|may|could|would)\b",
    re.IGNORECASE,
)
"""An agreement referred back to ("that's exactly what we agreed", "At the last core group we
agreed some things.", "you agreed to an early help assessment") or supposed ("He might listen
more if it's something he's agreed to."): not one made now."""
ASKED_IF = re.compile(
    r"\basked (?:me |us |you |him |her |them )?(?:if|whether|when)\b", re.IGNORECASE
)
"""A question reported ("He has asked if you or I can go with him."): what follows is asked,
not agreed."""


def seen_alone(sentence: str) -> bool:
    """The practitioner asks to see or speak to someone alone ("I'd like to talk to him on his
    own, if that's okay."): how the child was seen, which the note keeps."""
    return bool(_ALONE.search(sentence))


def farewell(sentence: str) -> bool:
    """Goodbye with no time said ("I'll see you next time.")."""
    return bool(_FAREWELL.match(sentence.strip()))


def aside(clause: str) -> bool:
    """``clause`` is said about the visit itself, not an action agreed for after it: the
    practitioner's own record (:data:`_RECORD`), the conversation or the moment
    (:data:`_IN_VISIT`), seeing the child alone or doing something now with no other time
    said, or goodbye."""
    text = clause.strip()
    if _RECORD.search(text) or _IN_VISIT.search(text) or _FAREWELL.match(text):
        return True
    return when(text) is None and bool(_ALONE.search(text) or _NOW_WORD.search(text))


_CUT = re.compile(rf"{_JOIN.pattern}|;\s+|,\s+but\s+", re.IGNORECASE)


def parts(sentence: str) -> list[tuple[int, int]]:
    """The (start, end) spans of ``sentence``'s clauses, cut where a second commitment may
    start (:data:`_JOIN`), at a semicolon and at ", but"."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _CUT.finditer(sentence):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(sentence):
        spans.append((start, len(sentence)))
    return spans


def without_asides(sentence: str) -> str:
    """``sentence`` without the clauses at its start and end that are asides (:func:`aside`):
    "I'll write that down and I'll take it to the meeting." is the row "I'll take it to the
    meeting."; "" when every clause is one. Verbatim: a contiguous piece of ``sentence``."""
    spans = [(a, b) for a, b in parts(sentence) if sentence[a:b].strip()]
    keep = [i for i, (a, b) in enumerate(spans) if not aside(sentence[a:b])]
    if not keep:
        return ""
    if len(keep) == len(spans):
        return sentence
    return sentence[spans[keep[0]][0] : spans[keep[-1]][1]].strip()
