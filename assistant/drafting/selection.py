"""Which words of a transcript a note keeps, decided in code before the model is asked anything.

A case note is about a tenth of the conversation it records. The note style keeps, of each
turn, the sentences that carry something: it leaves out greetings, thanks, acknowledgements and
small talk; the practitioner's questions (kept only with the short answer they make sense of:
"Do you feel safe at home?" "Yes."); and a sentence that repeats one kept before. Every kept
sentence is a verbatim piece of its segment, so verification finds it word for word, and it
keeps its speaker, so attribution comes from the speaker's role and never from the model.

What each kept piece is about is sorted later (:mod:`assistant.drafting.styles.note`): the
child's words into the child's section, commitments into actions, and the family's words by the
model, among the sections that can hold them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace

from assistant.domain import RedactedSegment
from assistant.drafting.agreeing import (
    ASKED_IF,
    FRAME,
    IMPERATIVE,
    INSTRUCTION,
    ITEM,
    PAST_AGREED,
    PROGRESSIVE,
    WHEN,
    WRITES_DOWN,
    aside,
    asks_for_action,
    clauses,
    continued,
    offers_visit,
    parts,
    reminder,
    seen_alone,
    when,
    without_asides,
)
from assistant.speakers import FAMILY, SpeakerRole, authors, role_of

# A sentence ends at . ! ? (or …) followed by space; not after a title ("Mr. Hopkins").
_SENTENCE_END = re.compile(r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)[.!?…]+[\"'”’)]?\s+")
_WORD = re.compile(r"\[[A-Z][A-Z0-9_]*_\d+\]|[^\W_]+(?:'[^\W_]+)?")

STOPWORDS = frozenset(
    """
    a about after again all also am an and any are as at be because been before being both but
    by can could did do does doing don't down during each even few for from further get got had
    has have having he her here hers herself him himself his how i i'd i'll i'm i've if in into
    is it it's its itself just know let's like me mean more most my myself no nor not now of
    off oh on once only or other our ours out over own really right said same say see she so
    some such than that that's the their theirs them then there there's these they they're
    this those through to too um uh under until up us very was we we're well were what when
    where which while who whom why will with would yeah yes you you're your yours yourself
    okay ok actually basically sort kind thing things lot bit going gonna go come just maybe
    think erm er hmm mm
    """.split()
)

_PHATIC_PART = re.compile(
    r"^(?:hi|hiya|hello|hey|(?:good )?morning|(?:good )?afternoon|good evening|bye|goodbye|"
    r"thanks|thank you|thank you so much|"
    r"thanks so much|thanks very much|cheers|lovely|okay|ok|right|alright|all right|great|"
    r"brilliant|perfect|fab|fine|good|sure|of course|no problem|no worries|yeah|yes|yep|no|nope|"
    r"mm|hmm|uh huh|oh|ah|wow|aw|bless|come in|sit down|take care|see you|see you soon|you too|"
    r"that's (?:good|great|fine|lovely|right|okay|brilliant|nice|ok|true)|that sounds "
    r"(?:good|great|lovely|nice)|that would help|i see|got it|fair enough|absolutely|definitely|"
    r"exactly|indeed|sorry|pardon|bless you|well done|nice to meet you|how are you|i'm fine|"
    r"not bad|honestly|really|so|well|anyway|then|please|yes please|love|darling|sweetheart|"
    r"mate|pet|hun|again|too|so much|very much|thank goodness|thank god|oh my god|for god's sake|"
    r"that's grand|go ahead|come through|come on in|bless (?:him|her|them)|beta|habibi|"
    r"\[[A-Z][A-Z0-9_]*_\d+\])$",
    re.IGNORECASE,
)
_PART_SPLIT = re.compile(r"[\s]*[,;:.!?…\-–—]+[\s]*|\s+(?=\[)")
"""A whole sentence that is a greeting, thanks, acknowledgement or filler."""
_FROM = (
    r"(?:from|with|at) (?:the council|children's services|social services|social care|the local "
    r"authority|\[(?:ORGANIZATION|LOCATION)_\d+\](?: (?:council|children's services|social "
    r"services|social care))?|for (?:\[PERSON_\d+\]|him|her|them|the (?:children|family)))"
)
_ROLE = (
    r"(?:(?:the|your|a|an|his|her|their|\[PERSON_\d+\]'s) )?(?:(?:student|senior|duty|allocated|"
    rf"new) )?(?:social|family support|early help) worker(?: {_FROM})?"
)
_INTRODUCTION = re.compile(
    r"(?:^|(?<=[,;:.!?…]))\s*(?:(?:hi|hiya|hello|hey)(?: there)?\s+)?(?:"
    rf"(?:my name(?:'s| is)|i'm|i am) \[PERSON_\d+\](?:(?:,\s*|\s+)(?:and\s+)?(?:(?:i'm|i am)\s+)?"
    rf"(?:{_ROLE}|{_FROM}))?|(?:i'm|i am) {_ROLE})\s*(?=[,;:.!?…]|$)",
    re.IGNORECASE,
)
"""The visitor saying who they are ("Hi, my name is [PERSON_1], I'm the social worker from
[ORGANIZATION_1]."): the note's author and header say who visited, so the introduction says
nothing for the record (one voice, it sat in the family's views). Only a whole clause: "I'm the
social worker and I'm worried about …" goes on, and is kept."""

_ARRIVAL = re.compile(
    r"(?:\[[A-Z_0-9]+\],? )?(?:the |your )?social worker(?:'s| is) "
    r"(?:here|coming(?: up| in| down)?|at the door)(?: (?:now|for you))?"
    r"(?:,? (?:love|darling|sweetheart|pet|beta|habibi))?[.!]?$",
    re.IGNORECASE,
)
"""Someone announcing the visitor to the house ("The social worker's coming up."): said to
another member of the household, not the record. Not a name: "[PERSON_4]'s here." may be the
man the plan keeps away."""
_HOUSEHOLD = re.compile(
    r"(?:(?:\[[A-Z_]+_\d+\]|beta|habibi|love|darling|sweetheart|please|and|now),?\s+)*"
    r"(?:say (?:hello|hi|bye(?: bye)?|goodbye|thank you)\b.*|"
    r"come(?: here| on| down| in| through| and (?:say|talk|sit|see)\b.*)?|"
    r"(?:go|come) (?:with|to) (?:\[PERSON_\d+\]|the lady|the man|the kitchen)(?:\s.*)?|"
    r"talk to (?:(?:auntie|aunty|uncle|miss|mrs|mr|ms) )?(?:\[PERSON_\d+\]|the lady|the man)|"
    r"make (?:some )?(?:tea|coffee)\b.*|bring (?:the lady|the man|\[PERSON_\d+\]) .*|"
    r"sit(?: down)?(?: there| here)?(?:, i'll put the kettle on)?|i'll put the kettle on|"
    r"i(?:'ve)? made (?:some )?(?:tea|coffee)|mind how you go\b.*)"
    r"(?:,?\s+(?:\[[A-Z_]+_\d+\]|beta|habibi|love|please))*[.!]?",
    re.IGNORECASE,
)
"""What the household say to each other or to the visitor as hosts ("[PERSON_3], say hello to
Auntie [PERSON_2].", "Sit down there, I'll put the kettle on."): not the record."""

MIN_CONTENT_WORDS = 2
"""A sentence with fewer content words (not stop words) carries nothing on its own."""
SHORT_REPLY_WORDS = 6
"""An answer this short is kept with the question it answers, as one exchange."""
REPEAT_SHARE = 0.8
"""A sentence whose content words are this much inside one kept earlier repeats it."""

_COMMITMENT = re.compile(
    r"\b(?:i'll|i will|i'm going to|i am going to|we'll|we will|we're going to|i'd like to|"
    # "I can't say more than that yet." is not a commitment
    r"i can(?!'t|not\b| not\b)(?! (?:see|hear|smell|tell|imagine|understand|remember|only"
    r"|never|always))"
    r"|let's|you'll|you will|you're going to|he'll|she'll|they'll|agreed|going to (?:ring|call"
    r"|email|write|send|refer|book|arrange|chase|speak|talk|visit|come|check|ask|make|get)"
    r"|can you|could you|please (?:ring|call|email|send|let)"
    r"|i've (?:asked|referred|booked|arranged)|i'd (?:also |really |just )?like you to"
    r"|i (?:also |really |just )?(?:want|need) you to"
    rf"|{PROGRESSIVE}"
    r"|i(?:'ll| will) need to (?:share|tell|refer|let|pass|speak|talk|inform|contact|ring|call"
    r"|send|write|check|visit))\b"
    r"(?! (?:be honest|ask you|tell you|explain|say|need|write (?:that|this|it) down in|record"
    r"|write (?:it|this|that) up))",
    re.IGNORECASE,
)
"""Someone says what will be done (an agreed action when the practitioner says it)."""
_OWN_COMMITMENT = re.compile(
    r"\b(?:i'll|i will|i'm going to|i am going to|we'll|we will|we're going to|i've agreed|"
    r"i agree to|i promise|(?:maybe |then |so )?i can (?:ring|call|ask|take|drop|pick|bring|book"
    r"|speak|talk|email|text|try|keep|change|write|send|give|put)|maybe i (?:take|ring|call|ask"
    r"|bring|try|book|speak|talk|pick|drop|go))\b(?! (?:see|be honest|tell you|say))",
    re.IGNORECASE,
)
"""A family member says what they will do: an agreed action of theirs ("I'll ring her.", "I can
ask the factory for day shifts.", "Maybe I take him fishing this Sunday.")."""
_NAMED = r"(?-i:\[[A-Z][A-Z0-9_]*_\d+\]|[A-Z][a-z]+)"
OWN_SEE = (
    r"(?:i'll|i will|we'll|we will|i'm going to|i am going to|i'd like to|i want to) "
    r"(?:(?:come|pop) (?:back |round |over |in )?and )?(?:see|visit) "
    r"(?:(?:you|him|her|them)(?: all| both| two)?|everyone|the (?:children|kids|family|boys|"
    rf"girls)|{_NAMED}(?= again))(?=[^.?!;]{{0,40}}?(?:\bagain\b|{WHEN.pattern}))"
)
"""The visitor seeing or visiting the family again, in their own words ("I'll see him again
on Friday"): a person seen, not "I'll see if …", and "again" or a time soon after it: "I'd
like to see her on her own" is how the child is seen in this visit."""
NEXT_VISIT = re.compile(
    r"\b(?:(?:i'll|i will|we'll|i'm going to|going to) come back|come back (?:and see|to see|in"
    r"|on|next)|visit again|see you (?:all |both |two )?(?:on|next|in|again|at)|next time i|"
    r"i'll be back|(?:be|pop|coming) back (?:in|on|next)|next (?:week|month)|in (?:two|three|"
    r"four|five|six|eight|\d+) weeks|follow[- ]up visit|"
    r"(?<!at the )(?<!by the )(?<!before the )(?<!until the )next (?:home )?visit|"
    # the visitor seeing or visiting the family again, the visitor the subject ("I'll see him
    # again on Friday"): "the nurse will see him on Friday" is someone else's appointment
    r"(?:i'll|i will|we'll|we will) (?:pop|come) (?:round|over|in) (?:on|next|this|tomorrow|"
    rf"after))\b|\b{OWN_SEE}",
    re.IGNORECASE,
)
_OBSERVED = re.compile(
    r"\b(?:i can see|i saw|i've seen|i noticed|i can smell|i could see|i've noticed|"
    # what the worker smelt, heard or examined themself ("When I came in, I could smell
    # cannabis in the hallway", "I looked at his cheek at school")
    # "I can hear how worried you are." is said to someone, not heard in the home
    r"i (?:could|can) smell|i (?:could|can) hear(?! (?:how|that|what|you|it in))|"
    r"i (?:smelled|smelt|looked at|checked|examined)|"
    r"looks? (?:clean|tidy|warm|cold|messy|dirty|well|tired|happy|settled|upset|thin|poorly)|"
    r"the (?:house|flat|home|kitchen|bedroom|room|fridge|garden|bathroom|cot|bed|bedding|"
    r"mattress|sheets|nappy|carpet|floor|walls?|window|toilet|cupboards?|hallway|stairs)\b"
    r"[^.?!]*\b(?:is|was|are|were|looks|has|had|smells))",
    re.IGNORECASE,
)
_REPORTED = re.compile(
    r"\b(?:told me|tells me|told us|said (?:that|he|she|they|it|his|her)|says (?:that|he|she|"
    r"they|it)|mentioned|explained|described|disclosed|confirmed|agreed that|denied|admitted)\b|"
    # what another professional said ("The paediatrician at [LOCATION_1] said a bruise like
    # that … isn't usually caused by a bouncer.")
    r"\b(?:the|his|her|their|your) (?:paediatrician|doctor|gp|consultant|health visitor|midwife|"
    r"nurse|school|teacher|head(?:teacher)?|senco|nursery|police|officer|hospital|camhs|"
    r"therapist|dentist|landlord|housing officer|probation officer)\b"
    r"[^.?!]{0,40}?\b(?:said|says|told|reported|found|thinks|is worried|are worried)\b",
    re.IGNORECASE,
)
"""The practitioner says what someone told them: the summary a case note is written from."""
_PURPOSE = re.compile(
    r"\b(?:(?:this|today's|it's|this is (?:our|my|a|the)?)\s*(?:[\w-]+\s+){0,4}visit|"
    r"(?:reason|purpose) (?:for|of) (?:the|my|today's|this) visit|here (?:today )?to|"
    r"(?:review|statutory|home|child in need|child protection|section forty[- ]seven|"
    r"section 47|looked after|early help) (?:visit|meeting|review)|"
    r"(?:plan|placement) is going)\b",
    re.IGNORECASE,
)


def sentences(text: str) -> list[str]:
    """``text`` split into sentences, each a verbatim piece of it (whitespace at the joins
    dropped)."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        piece = text[start : m.end()].strip()
        if piece:
            out.append(piece)
        start = m.end()
    rest = text[start:].strip()
    if rest:
        out.append(rest)
    return out


def content_words(text: str) -> frozenset[str]:
    """The words of ``text`` that carry meaning (case folded; placeholders count)."""
    return frozenset(
        w.casefold()
        for w in _WORD.findall(text)
        if w.startswith("[") or (w.casefold() not in STOPWORDS and len(w) > 1)
    )


def is_phatic(sentence: str) -> bool:
    """A greeting, thanks, acknowledgement or filler ("Yeah, that's fine, love."; "Thanks,
    [PERSON_2]."), or a sentence with no content word."""
    parts = [p for p in _PART_SPLIT.split(_INTRODUCTION.sub(",", sentence.strip())) if p]
    if all(_PHATIC_PART.match(p) or _address(p) for p in parts):
        return True
    if _ARRIVAL.match(sentence.strip()) or _HOUSEHOLD.fullmatch(sentence.strip()):
        return True
    if is_form(sentence):
        return True
    return not any(not w.startswith("[") for w in content_words(sentence))


def _address(part: str) -> bool:
    """A single capitalised word on its own between commas, or a title and a name ("Auntie
    [PERSON_2]"): a name said to someone."""
    return bool(
        re.fullmatch(r"[A-Z][a-z]+", part)
        or re.fullmatch(
            r"(?:Auntie|Aunty|Uncle|Miss|Mrs|Mr|Ms)\s+(?:\[[A-Z][A-Z0-9_]*_\d+\]|[A-Z][a-z]+)", part
        )
    )


def is_form(sentence: str) -> bool:
    """Details confirmed for the case record ("Born on the [DATE_OF_BIRTH_1].", "And the
    postcode is [UK_POSTCODE_1]?", "My mobile is [PHONE_2]."): the case system holds them, the
    note does not. Every content word is an identifier or names one ("Is he still at
    [SCHOOL_1]?" is not: a school says where the child is)."""
    text, phrases = _FORM_PHRASES.subn(" ", sentence)
    words = content_words(text)
    marks = {w for w in words if w.startswith("[")}
    if any(not _IDENTIFIER.fullmatch(w) for w in marks):
        return False
    named = bool(phrases or words & _FORM_WORDS or marks)
    return named and not (words - marks - _FORM_WORDS)


_FORM_PHRASES = re.compile(
    r"\b(?:date of birth|national insurance(?: number)?|nhs number|red book)\b", re.IGNORECASE
)
_FORM_WORDS = frozenset(
    "address postcode born email e-mail phone mobile number landline correct right still "
    "spelt spelled details isn't it's that's".split()
)
_IDENTIFIER = re.compile(
    r"\[(?:ADDRESS|UK_POSTCODE|DATE_OF_BIRTH|EMAIL|EMAIL_ADDRESS|PHONE|PHONE_NUMBER|"
    r"UK_NHS|NHS_NUMBER|UK_NINO|NI_NUMBER)(?:_\d+)?\]",
    re.IGNORECASE,
)


def is_question(sentence: str) -> bool:
    return sentence.rstrip().rstrip("\"'”’)").endswith("?")


@dataclass(frozen=True)
class Piece:
    """What the note keeps of one turn: the span of its sentences worth keeping (verbatim, from
    the first kept sentence to the last), the segments cited and the speaker, and what the
    words are (cues found in code)."""

    text: str
    speaker: str | None
    role: SpeakerRole
    evidence: tuple[str, ...]
    cues: frozenset[str]
    """``commitment``, ``next_visit``, ``observed``, ``purpose``, ``exchange`` (an answer kept
    with the question it answers), ``visit_offered`` (an exchange answering the worker's offer
    to come back)."""
    said: str = ""
    """The speaker's own words in ``text`` (an exchange's answer; otherwise ``text``)."""

    @property
    def words(self) -> str:
        return self.said or self.text

    @property
    def family(self) -> bool:
        return self.role in FAMILY


def _cues(text: str, *, family: bool = False) -> set[str]:
    found = set()
    if commits(text, family=family):
        found.add("commitment")
    if WRITES_DOWN.search(text) and _says_what(text):  # "… write down that I smelled cannabis"
        found.add("reported")
    if not family and seen_alone(text):  # how the child was seen: kept, not as an action
        found |= {"observed", "alone"}
    if not family and reminder(text):
        found |= {"commitment", "listed"}
    if NEXT_VISIT.search(text):
        found.add("next_visit")
    if _OBSERVED.search(text):
        found.add("observed")
        found.discard("alone")  # "I saw him on his own in his room." is what they saw
    if _PURPOSE.search(text):
        found.add("purpose")
    if _REPORTED.search(text) and _says_what(text):
        found.add("reported")
    return found


_ONLY_REPORTING = frozenset(
    "told tell telling tells said say says mentioned glad thank thanks things something some "
    "write writing written down note notes record told me that's what you've you're he's "
    "she's they've they're i've i'm we've it's he'd she'd".split()
)


def _says_what(text: str) -> bool:
    """A report with what was told ("He told me he has smoked cannabis."), not only that
    something was ("I'm glad you've told me.", "I'll write that down as what you've told
    me.")."""
    words = {w for w in content_words(text) if not w.startswith("[")}
    return len(words - _ONLY_REPORTING) >= MIN_CONTENT_WORDS - 1


def commits(text: str, *, family: bool = False) -> bool:
    """Some clause of ``text`` says what will be done after the visit: a commitment (a family
    member's own, with ``family``), a request or an instruction; not a clause said about the
    visit itself (:func:`assistant.drafting.agreeing.aside`: "I'll record it so I can write my
    note.", "I'd like to see her on her own, if that's okay."), an agreement referred back to
    ("that's what we agreed") or a question reported ("He asked if I can go with him.")."""
    pattern = _OWN_COMMITMENT if family else _COMMITMENT
    for sentence in sentences(text):
        # an instruction reads from the start of its sentence ("If he turns up, you ring 999.")
        told = not family and bool(INSTRUCTION.search(sentence) or IMPERATIVE.search(sentence))
        for a, b in parts(sentence):
            clause = sentence[a:b]
            asked = ASKED_IF.search(clause)
            found = [
                m.group(0).casefold()
                for m in pattern.finditer(clause)
                if asked is None or m.start() < asked.start()
            ]
            if found and set(found) == {"agreed"} and PAST_AGREED.search(clause):
                found = []
            if (found or told) and not aside(clause):
                return True
    return False


_NEGATION = re.compile(r"\b(?:no|not|never|nobody|nothing|none|no one)\b|n't\b", re.IGNORECASE)


def own_commitment(text: str) -> bool:
    """``text`` says what its speaker will do ("I'll ring them in the morning."), not what they
    do in the visit ("I'll put the kettle on.")."""
    return commits(text, family=True)


def _keepable(sentence: str) -> bool:
    """Says something: two content words, or one with a negation ("There are no worries.")."""
    if is_phatic(sentence):
        return False
    n = len(content_words(sentence))
    return n >= MIN_CONTENT_WORDS or (n == 1 and bool(_NEGATION.search(sentence)))


_NOW = re.compile(r"\b(?:now|first|quickly|just)[.!]?$", re.IGNORECASE)
"""A practitioner's "I'm going to talk to Mum now.": what happens next in the visit, not an
action agreed for after it."""


def _practitioner_keeps(sentence: str, index: int) -> bool:
    """Of the practitioner's own sentences a note keeps what they will do or ask someone to do,
    what they saw and why they came (early on), not their questions, summaries and small
    talk."""
    if is_question(sentence) and _keepable(sentence) and asks_for_action(sentence.strip()):
        return True
    if is_question(sentence) or not _keepable(sentence):
        return False
    cues = _cues(sentence)
    if _NOW.search(sentence.strip()):
        cues.discard("commitment")
    return bool(
        cues & {"commitment", "next_visit", "observed", "reported"}
        or ("purpose" in cues and index < 8)
    )


def _rows(
    seg: RedactedSegment,
    role: SpeakerRole,
    kept: Sequence[str],
    listed: AbstractSet[str],
    described: AbstractSet[str] = frozenset(),
) -> list[Piece]:
    """The practitioner's kept sentences as pieces, a commitment cut into a piece for each
    action it names (:func:`clauses`): each part is a commitment, with or without a verb;
    a sentence that goes on describing what they saw (``described``) is what they observed."""
    out = []
    for s in kept:
        cues = _cues(s) | ({"commitment", "listed"} if s in listed else set())
        if s in described:
            cues |= {"observed"}
        pieces = clauses(s) if "commitment" in cues else [s]
        if "commitment" in cues:  # "I'll write that down and I'll take it to the meeting."
            pieces = [t for t in map(without_asides, pieces) if t]
        for part in pieces:
            out.append(
                Piece(
                    text=part,
                    speaker=seg.speaker,
                    role=role,
                    evidence=(seg.id,),
                    cues=frozenset(_cues(part) | (cues & {"commitment", "listed", "observed"})),
                )
            )
    return out


_DESCRIBES = re.compile(
    r"(?:and |but )?(?:there(?:'s| is| are| was| were)|he|she|they|it|his|her|their|the|both)\b"
    # a description in the third person: not what the worker thinks, feels or will do ("The
    # worry for me is …", "I'll ring the school.")
    r"(?![^.?!]*\b(?:i|i'm|i'd|i'll|i've|me|my|we|we'll|us|our|you|your|worr\w*|concern\w*|"
    r"think|feel)\b)",
    re.IGNORECASE,
)
"""A sentence that describes in the third person what is there to be seen."""


def _described(said: Sequence[str], kept: Sequence[str]) -> set[str]:
    """The sentences that go on describing what the worker saw, straight after a sentence that
    says so ("I can see his face, his arms, tummy, back and legs. There are no marks or
    bruises. His nappy area is clean, no soreness."): what was observed too, up to the first
    question, commitment or sentence that says nothing."""
    out: set[str] = set()
    seeing = False
    for s in said:
        if s in kept:
            seeing = "observed" in _cues(s)
        elif seeing and _DESCRIBES.match(s) and _keepable(s) and not is_question(s):
            out.add(s)
        else:
            seeing = False
    return out


def _listed(said: Sequence[str], kept: Sequence[str]) -> set[str]:
    """The sentences of a turn after one that opens a list of what is agreed (:data:`FRAME`)
    that commit, name a time or number an item: each is an action, with or without a verb
    ("First, the alcohol service appointment on Tuesday at ten."); not a question unless it
    asks for an action, nor small talk ("Eid Mubarak in advance, if I don't see you.")."""
    out: set[str] = set()
    opened = False
    for s in said:
        if (
            opened
            and _keepable(s)
            and (not is_question(s) or asks_for_action(s.strip()))
            and ("commitment" in _cues(s) or when(s) or ITEM.match(s))
        ):
            out.add(s)
        opened = opened or bool(FRAME.search(s))
    return out


@dataclass(frozen=True)
class Candidate:
    """A family member's sentence the note could keep, and the question it answers (its first
    sentence only)."""

    segment: str
    sentence: str
    question: str | None = None


_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|half|once|twice|monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday|week|weeks|month|months|year|years|night|nights|morning|yesterday|today|"
    r"tomorrow)\b",
    re.IGNORECASE,
)


def fit(
    candidates: Sequence[Candidate],
    segments: Sequence[RedactedSegment],
    budget: float,
    *,
    protect: re.Pattern[str] | None = None,
) -> frozenset[tuple[str, str]]:
    """Which of the family's ``candidates`` a note of ``budget`` (a share of the transcript's
    words) keeps.

    The rest of the note (the child's words, the practitioner's actions, observations and
    summaries) is kept whatever it costs; what the budget leaves goes to the family's
    sentences, best first. A sentence that uses safeguarding language, or says what someone
    will do, is always kept: a note that leaves out a worry to be short is worse than a long
    one. The others are scored by how much they say for their length: words rare in this
    conversation (tf-idf over its turns), numbers and times, a negation, and the words of the
    question they answer; they are taken in that order while they fit."""
    from assistant.review.safeguarding import categories_in  # the review's lexicon

    turns = [content_words(s.text) for s in segments]
    df: dict[str, int] = {}
    for words in turns:
        for w in words:
            df[w] = df.get(w, 0) + 1
    n = len(turns) or 1

    def weight(w: str) -> float:
        return math.log((1 + n) / (1 + df.get(w, 0))) + 1.0

    total = sum(len(s.text.split()) for s in segments)
    ranked = {(c.segment, c.sentence) for c in candidates}
    # what the note keeps anyway: every kept sentence but the family's ranked ones
    fixed = sum(len(p.text.split()) for p in _select(segments, trim=True, allowed=frozenset()))
    room = budget * total - fixed
    # a turn is kept or left out whole: a fact is usually told across its sentences
    turns_of: dict[str, list[Candidate]] = {}
    for c in candidates:
        turns_of.setdefault(c.segment, []).append(c)
    keep: set[tuple[str, str]] = set()
    scored: list[tuple[float, int, list[Candidate]]] = []
    for group in turns_of.values():
        cost = sum(
            len(c.sentence.split()) + (len(c.question.split()) if c.question else 0) for c in group
        )
        if any(
            categories_in(c.sentence)
            or _OWN_COMMITMENT.search(c.sentence)
            or (protect is not None and protect.search(c.sentence))
            for c in group
        ):
            keep |= {(c.segment, c.sentence) for c in group}
            room -= cost
            continue
        words = frozenset().union(*(content_words(c.sentence) for c in group))
        asked = frozenset().union(*(content_words(c.question) for c in group if c.question))
        text = " ".join(c.sentence for c in group)
        value = sum(weight(w) for w in words) + sum(weight(w) for w in asked - words) / 2
        value += 2.0 * bool(_NUMBER.search(text)) + 1.0 * bool(_NEGATION.search(text))
        scored.append((value / math.sqrt(cost), cost, group))
    for _value, cost, group in sorted(scored, key=lambda x: -x[0]):
        if cost <= room:
            keep |= {(c.segment, c.sentence) for c in group}
            room -= cost
    assert keep <= ranked
    return frozenset(keep)


def _joined(run: Sequence[str], kept: Sequence[str]) -> str:
    """The kept sentences of ``run`` joined as said, with an ellipsis where sentences between
    them were left out (each part is found on its own when the quote is checked)."""
    out: list[str] = []
    gap = False
    for sentence in run:
        if sentence not in kept:
            gap = True
            continue
        if out and gap:
            out.append("…")
        out.append(sentence)
        gap = False
    return " ".join(out)


def select(
    segments: Sequence[RedactedSegment],
    *,
    budget: float | None = None,
    protect: re.Pattern[str] | None = None,
) -> list[Piece]:
    """The pieces of ``segments`` a note keeps, in transcript order (see the module).

    With a ``budget`` (a share of the transcript's words), a turn's kept sentences are quoted
    on their own, joined by an ellipsis where sentences between them were left out, and the
    family's sentences are ranked into what the budget leaves (:func:`fit`)."""
    if budget is None:
        return _select(segments)
    found: list[Candidate] = []
    _select(segments, trim=True, candidates=found)
    return _select(segments, trim=True, allowed=fit(found, segments, budget, protect=protect))


def _select(
    segments: Sequence[RedactedSegment],
    *,
    trim: bool = False,
    allowed: frozenset[tuple[str, str]] | None = None,
    candidates: list[Candidate] | None = None,
) -> list[Piece]:
    pieces: list[Piece] = []
    seen: dict[str | None, list[frozenset[str]]] = {}
    # One voice for the whole recording: a dictation, or speakers the separation could not
    # tell apart. Either way its role says nothing about which words are the record: keep
    # every sentence that carries something, sorted by its words.
    single = len({s.speaker for s in segments}) <= 1
    author = authors(s.speaker for s in segments)
    # A family member's or the child's words in another language, then the interpreter's
    # English: the English is theirs, said through the interpreter (their own turn is the
    # evidence beside it, not a statement the note's reader cannot read)
    through = {} if single else interpreted(segments)
    rendered = set(through.values())
    for i, seg in enumerate(segments):
        if i in rendered:
            continue
        said_for = segments[through[i]] if i in through else None
        role = SpeakerRole.UNKNOWN if single else role_of((said_for or seg).speaker)
        # Another practitioner's account (a residential key worker beside the social worker, a
        # teacher) is information the note needs, read like the family's; only the author's own
        # words are cut to their commitments and observations.
        practitioner = role in (SpeakerRole.SOCIAL_WORKER, SpeakerRole.PROFESSIONAL) and (
            seg.speaker in author
        )
        said = sentences(seg.text)
        if role is SpeakerRole.OTHER:  # a television, a visitor: not the visit's record
            continue
        listed: set[str] = set()
        if practitioner or (
            not single and role is SpeakerRole.UNKNOWN and _asks_most(seg, segments)
        ):
            kept = [s for s in said if _practitioner_keeps(s, i)]
            listed = _listed(said, kept)
            described = _described(said, kept)
            kept = [s for s in said if s in kept or s in listed or s in described]
        elif role is SpeakerRole.CHILD:  # the child's voice: all they say, their questions too
            kept = [s for s in said if not is_phatic(s)]
        else:
            kept = [s for s in said if _keepable(s) and not is_question(s)]
        answering = through.get(i, i)  # an interpreted answer answers what its speaker was asked
        question = None if practitioner else _question_answered(segments, answering)
        if question is not None and len(seg.text.split()) <= SHORT_REPLY_WORDS:
            # "Yes." / "No, never." say something with the question they answer (an answer of
            # identifiers only, an email or a date of birth, is a form being filled in)
            kept = [s for s in said if any(not w.startswith("[") for w in _WORD.findall(s))]
        # a speaker repeating themselves, not someone echoing another ("Do you feel safe?"
        # "I feel safe.")
        mine = seen.setdefault((said_for or seg).speaker, [])
        if role is not SpeakerRole.CHILD:  # a child saying it again is saying it: all is theirs
            kept = [s for s in kept if not _repeats(s, mine, answer=question is not None)]
        ranked = not practitioner and role is not SpeakerRole.CHILD
        if ranked and candidates is not None:
            candidates += [
                Candidate(seg.id, s, question if n == 0 else None) for n, s in enumerate(kept)
            ]
        if ranked and allowed is not None:
            kept = [s for s in kept if (seg.id, s) in allowed]
        if not kept:
            continue
        mine.extend(content_words(s) for s in kept)
        lead = said[: said.index(kept[0])]
        if role is SpeakerRole.CHILD and question is not None and all(map(is_phatic, lead)):
            kept = lead + kept  # the child's "Yes. Honestly. I feel safe." starts at "Yes."
        if role is SpeakerRole.CHILD:  # "I don't want him coming back here. Ever." ends at "Ever."
            kept = kept + said[len(said) - said[::-1].index(kept[-1]) :]
        if practitioner:  # each commitment or observation of the worker's is a row of its own
            pieces += _rows(seg, role, continued(seg.text, said, kept), listed, described)
            continue
        spans = _spans(said, kept, seg, role, trim=trim)
        if said_for is not None:
            spans = [
                replace(
                    p,
                    speaker=said_for.speaker,
                    evidence=(said_for.id, *p.evidence),
                    cues=p.cues | {"interpreted"},
                )
                for p in spans
            ]
        if (
            question is not None
            and spans
            and spans[0].text.startswith(said[0])
            and len(spans[0].text.split()) <= ANSWER_WITH_QUESTION_WORDS
        ):
            spans[0] = _exchange(segments[answering - 1], question, spans[0])
        pieces += spans
    return pieces


ANSWER_WITH_QUESTION_WORDS = 60
"""An answer this short is kept with the question it answers; a longer one stands on its own.
Keeping the question costs words and wins facts about equally (20 words: note length 0.65
against 0.69 of the transcript, critical facts 51% against 54%, notes suite, 34 scenarios,
2026-12-06): a fact left out costs more than a line too long."""
MAX_QUESTION_WORDS = 25
"""A longer question is not repeated before its answer: the answer stands on its own."""


def _question_answered(segments: Sequence[RedactedSegment], i: int) -> str | None:
    """The question the turn at ``i`` answers: the last sentence of the turn before, said by
    someone else, when it is a question worth keeping."""
    if i == 0:
        return None
    previous = segments[i - 1]
    if previous.speaker == segments[i].speaker:
        return None
    said = sentences(previous.text)
    if not said or not is_question(said[-1]):
        return None
    q = said[-1]
    if is_phatic(q) or len(q.split()) > MAX_QUESTION_WORDS or _ABOUT_THE_VISIT.search(q):
        return None
    if not any(not w.startswith("[") for w in content_words(q)):  # "What happened?"
        return None
    return q


_ABOUT_THE_VISIT = re.compile(
    r"\b(?:record|recording|sit down|(?:can|could|may|shall) (?:i|we) sit|come in|cup of tea|"
    r"coffee|get you anything)\b",
    re.IGNORECASE,
)
"""A question about the visit itself ("Is it okay to record?"): its answer is not the record."""


def _exchange(asked_by: RedactedSegment, question: str, answer: Piece) -> Piece:
    """An answer kept with the question it answers, each in quotation marks with its speaker
    ('Social worker: “Do you feel safe at home?” Child: “Yes.”'): both verbatim, each found
    in its own segment by verification; the answer's words are what it is sorted by."""
    asker, answerer = asked_by.speaker or "Someone", answer.speaker or "Someone"
    how = "(through the interpreter) " if "interpreted" in answer.cues else ""
    text = f"{asker}: “{question}” {answerer}: {how}“{answer.text}”"
    # "Shall I come back in four weeks?" "Yes, please.": the next visit, agreed
    offered = role_of(asked_by.speaker) in (SpeakerRole.SOCIAL_WORKER, SpeakerRole.PROFESSIONAL)
    visit = {"visit_offered"} if offered and offers_visit(question) else set()
    return Piece(
        text=text,
        speaker=None,
        role=answer.role,
        evidence=(asked_by.id, *answer.evidence),
        cues=frozenset({"exchange", *answer.cues, *visit}),
        said=answer.text,
    )


def _spans(
    said: list[str], kept: list[str], seg: RedactedSegment, role: SpeakerRole, *, trim: bool
) -> list[Piece]:
    """The kept sentences of a turn as contiguous spans, first kept sentence to last (a quote
    is then verbatim as said, and a short sentence between two kept ones, "Like the bus.",
    keeps its place); a family member's own commitment ("I'll ring them in the morning.") is
    a span of its own, an action row apart from their account."""
    family = role in FAMILY
    # another practitioner's commitments are a row each, as the author's are ("I'll put him on
    # higher observations. I'll take him shopping on Saturday."): two actions, two by whens
    other = role in (SpeakerRole.SOCIAL_WORKER, SpeakerRole.PROFESSIONAL)
    first, last = said.index(kept[0]), len(said) - 1 - said[::-1].index(kept[-1])
    runs: list[list[str]] = [[]]
    before = False  # the sentence before was a commitment: "… there is a list. Thursday, I
    for sentence in said[first : last + 1]:  # will ask my manager to swap." is one row
        if family:
            promise = bool(_OWN_COMMITMENT.search(sentence))
        else:
            promise = other and sentence in kept and commits(sentence)
        if promise != before or (promise and other):
            runs.append([])
        runs[-1].append(sentence)
        before = promise
    out = []
    for run in runs:
        while run and run[-1] not in kept:  # a run ends on a kept sentence
            run.pop()
        while run and run[0] not in kept:
            run.pop(0)
        if run:
            text = _joined(run, kept) if trim else " ".join(run)
            out.append(
                Piece(
                    text=text,
                    speaker=seg.speaker,
                    role=role,
                    evidence=(seg.id,),
                    cues=frozenset(_cues(text, family=family)),
                )
            )
    return out


def foreign(text: str) -> bool:
    """Words that are not English: under a quarter of them are English's commonest words
    (an English turn has about half; "Nu am bani pentru dentist." has one, "am")."""
    words = [w.casefold() for w in _WORD.findall(text)]
    if not any(not w.startswith("[") for w in words):
        return False
    # placeholders count as words that are not English: redaction takes many words of
    # another language for names ("Nu, de la Crăciun nu a mai venit." keeps "de la … a")
    return sum(w in STOPWORDS for w in words) / len(words) < FOREIGN_SHARE


FOREIGN_SHARE = 0.25


def interpreted(segments: Sequence[RedactedSegment]) -> dict[int, int]:
    """{index of an interpreter's turn: index of the turn it puts into English}: the turn
    straight before it, a family member's or the child's, in another language. An
    interpreter's turn after English words ("I'll interpret in the first person.") is their
    own."""
    out = {}
    for i in range(1, len(segments)):
        if role_of(segments[i].speaker) is not SpeakerRole.INTERPRETER:
            continue
        before = segments[i - 1]
        role = role_of(before.speaker)
        if (role in FAMILY or role is SpeakerRole.CHILD) and foreign(before.text):
            out[i] = i - 1
    return out


def _repeats(sentence: str, seen: Sequence[frozenset[str]], *, answer: bool = False) -> bool:
    words = content_words(sentence)
    if not words or (answer and len(words) < MIN_CONTENT_WORDS):  # "Yes, please." answers anew
        return False
    return any(len(words & s) / len(words) >= REPEAT_SHARE for s in seen)


def _asks_most(seg: RedactedSegment, segments: Sequence[RedactedSegment]) -> bool:
    """An unlabelled or unknown speaker who asks most of the questions is treated as the
    practitioner (only their commitments and observations are kept)."""
    if not seg.speaker:
        return False
    asked: dict[str | None, int] = {}
    for s in segments:
        asked[s.speaker] = asked.get(s.speaker, 0) + sum(is_question(x) for x in sentences(s.text))
    return max(asked, key=lambda k: asked[k]) == seg.speaker


__all__ = ["Piece", "content_words", "is_phatic", "is_question", "select", "sentences"]
