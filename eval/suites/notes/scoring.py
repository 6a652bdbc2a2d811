"""A drafted note scored against its visit's gold: the scenario's facts, the child's words and
the opinions, or a PriMock57 consultation's checklist and clinician's note (rules in the package
docstring; matching in ``eval.scoring.matching``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from assistant.domain import DraftNote, RedactedSegment, Statement
from eval.datasets.primock57 import Consultation
from eval.datasets.scenarios import (
    CHILD_ROLES,
    PROFESSIONAL_ROLES,
    SPECIAL_SPEAKERS,
    Scenario,
)
from eval.scoring import matching
from eval.suites.notes import brevity
from eval.suites.notes.drafting import Drafted, inverse


def is_unsupported(st: Statement) -> bool:
    from assistant.review.verify import FLAG_QUOTE_NOT_FOUND, FLAG_UNSUPPORTED_PREFIX

    return any(f.startswith(FLAG_UNSUPPORTED_PREFIX) or f == FLAG_QUOTE_NOT_FOUND for f in st.flags)


def note_words(note: DraftNote) -> int:
    return sum(len(st.text.split()) for st in note.all_statements())


def absent_flag_claims(note: DraftNote, absent: frozenset[str]) -> int:
    """Kept statements affirming a category the gold says is absent (positive polarity)."""
    from assistant.review.safeguarding import default_lexicon

    lexicon = default_lexicon()
    return sum(
        1
        for st in note.all_statements()
        if any("positive" in p and c in absent for c, p in lexicon.polarities(st.text).items())
    )


def aliases(scenario: Scenario) -> dict[str, str]:
    """One-word speaker labels of family members ("Mum") -> their name, for matching."""
    return {
        p.speaker.lower(): p.name
        for p in scenario.people
        if p.speaker and len(p.speaker.split()) == 1 and p.role not in PROFESSIONAL_ROLES
    }


def age_band(age: int) -> str:
    return "0-4" if age < 5 else "5-11" if age < 12 else "12-17"


@dataclass
class Scored:
    """One visit's note, scored. Lists hold one entry per gold item."""

    id: str
    source: str
    visit_type: str
    age_band: str
    drafted: Drafted
    statements: int = 0
    unsupported: int = 0
    words: int = 0
    gate_removed: int = 0
    not_affirmed: int = 0
    absent_claims: int = 0
    facts: list[tuple[str, bool, bool]] = field(default_factory=list)
    """(fact text, critical, recalled)"""
    cited: list[bool] = field(default_factory=list)
    """Per gold fact, in ``facts`` order: the note cites and carries the turns it names."""
    quotes: list[tuple[str, bool, bool]] = field(default_factory=list)
    """(child's words, kept as a quote, kept anywhere)"""
    opinions: list[tuple[str, bool]] = field(default_factory=list)
    """(opinion text, written as fact)"""
    checklist: list[tuple[str, bool, bool]] = field(default_factory=list)
    """(item text, critical, recalled)"""
    note_tokens: tuple[int, int] | None = None
    segments: int = 0
    """Segments of the redacted transcript."""
    segments_kept: int = 0
    """Of those, the segments some statement of the note cites."""
    transcript_words: int = 0
    words_kept: int = 0
    """Words of the cited segments."""
    reference_words: int | None = None
    """PriMock57: words of the clinician's own note."""
    note_words: int = 0
    """Words the practitioner reads: statements and header (suite version 7)."""
    reference_f1: tuple[float, float, float] | None = None
    """PriMock57: (precision, recall, F1) of content words against the clinician's note."""
    rouge_l: float | None = None
    actions: list[tuple[bool, bool]] = field(default_factory=list)
    """Per gold action: (found as a row with who, what and by when; what found)."""
    action_rows: tuple[int, int] = (0, 0)
    """(the note's action rows that are a gold action, its action rows)."""
    attribution: tuple[int, int] = (0, 0)
    """(statements whose speaker is their cited turn's speaker, statements counted)."""
    seen_alone: tuple[bool, bool] | None = None
    """Scenarios whose note has a header: (the header says the child was seen alone, the
    scenario has the ``child_seen_alone`` feature) (suite version 10)."""
    placed: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    """Scenarios: per statement, its section and the speaker groups of its cited segments
    (:func:`speaker_group`)."""

    @property
    def ok(self) -> bool:
        return self.drafted.note is not None

    @property
    def critical_cited(self) -> list[bool]:
        return [c for (_, crit, _), c in zip(self.facts, self.cited, strict=True) if crit]

    @property
    def red_flag_claims(self) -> int:
        return self.gate_removed + self.not_affirmed


def _score_common(s: Scored) -> list[Statement]:
    note = s.drafted.note
    assert note is not None
    statements = note.all_statements()
    s.statements = len(statements)
    s.unsupported = sum(is_unsupported(st) for st in statements)
    s.words = note_words(note)
    from assistant.review.safeguarding import FLAG_NOT_AFFIRMED_PREFIX

    assert s.drafted.redacted is not None  # a note is drafted from a redacted transcript
    cited = {sid for st in statements for sid in st.evidence}
    for seg in s.drafted.redacted.segments:
        words = len(seg.text.split())
        s.segments += 1
        s.transcript_words += words
        if seg.id in cited:
            s.segments_kept += 1
            s.words_kept += words
    s.note_words = brevity.note_words(note)
    s.gate_removed = len(note.review.removed_claims) if note.review else 0
    s.not_affirmed = sum(
        any(f.startswith(FLAG_NOT_AFFIRMED_PREFIX) for f in st.flags) for st in statements
    )
    return statements


def score_scenario(
    scenario: Scenario,
    drafted: Drafted,
    *,
    first_segment: int = 0,
    turn_of: Mapping[str, int] | None = None,
) -> Scored:
    """``drafted`` scored against ``scenario``'s gold; ``first_segment`` is where the scenario's
    turns start in the transcript (not 0 in the long visit of ``eval/datasets/long_visit.py``).
    ``turn_of`` (segment id -> turn number) is for a transcript made from the scenario spoken
    aloud, whose segments are not its turns (``eval/suites/notes/from_audio.py``): each
    segment counts as said by its turn's speaker, and a segment it leaves out as said by no
    one of the scenario."""
    s = Scored(scenario.id, "scenario", scenario.visit_type, age_band(scenario.child_age), drafted)
    if drafted.note is None:
        return s
    statements = _score_common(s)
    inv = inverse(drafted)
    names = aliases(scenario)
    g = scenario.gold
    s.absent_claims = absent_flag_claims(drafted.note, g.red_flags_absent)
    by_turn = segments_by_turn(scenario, drafted, first_segment, turn_of)
    verified = [st for st in statements if not is_unsupported(st)]
    for f in g.facts:
        m = matching.fact_coverage(f.text, statements, inverse=inv, aliases=names)
        s.facts.append((f.text, f.critical, m.recalled))
        said = [by_turn[t] for t in f.turns]
        s.cited.append(
            matching.fact_cited_turns(f.text, said, verified, inverse=inv, aliases=names)
        )
    for w in g.child_words:
        q = matching.quote_kept(w, statements, inverse=inv)
        s.quotes.append((w, q.as_quote, q.anywhere))
    turn_speaker = {
        seg.id: turn.speaker
        for segs, turn in zip(by_turn, scenario.turns, strict=True)
        for seg in segs
    }
    groups = {sid: speaker_group(scenario, speaker) for sid, speaker in turn_speaker.items()}
    s.placed = [
        (section.key, frozenset(groups[e] for e in st.evidence if e in groups))
        for section in drafted.note.sections
        for st in section.statements
    ]
    s.actions = [brevity.action_found(a.who, a.what, a.by, statements) for a in g.actions]
    s.action_rows = brevity.action_rows([(a.what, a.by) for a in g.actions], statements)
    s.attribution = brevity.attribution(statements, turn_speaker)
    if drafted.note.header:
        s.seen_alone = (
            any(h.key == "seen_alone" for h in drafted.note.header),
            "child_seen_alone" in scenario.features,
        )
    speakers = {seg.speaker for seg in drafted.redacted.segments if seg.speaker}
    for o in g.opinions:
        s.opinions.append(
            (
                o.text,
                matching.opinion_as_fact(
                    o.text, statements, inverse=inv, aliases=names, speakers=speakers
                ),
            )
        )
    return s


SPEAKER_GROUPS = ("child", "family", "professional", "other")
"""Who said a scenario's turn, as the sections of the note read it: the child; a parent, carer
or relative; a professional (the practitioner, an interpreter); anyone or anything else (a
friend, a television)."""


def speaker_group(scenario: Scenario, speaker: str) -> str:
    """The :data:`SPEAKER_GROUPS` entry of ``speaker``, one of ``scenario``'s turn labels."""
    role = next((p.role for p in scenario.people if p.speaker == speaker), None)
    if role is None:
        return "professional" if SPECIAL_SPEAKERS.get(speaker) == "interpreter" else "other"
    if role in CHILD_ROLES:
        return "child"
    if role in PROFESSIONAL_ROLES:
        return "professional"
    return "other" if role == "other" else "family"


SECTION_SPEAKERS = {"child_voice": "child", "parent_carer_views": "family"}
"""The sections whose template definition names whose words they hold: the child's wishes and
feelings are the child's own words, parents' and carers' views are theirs."""


def turn_segments(
    scenario: Scenario, drafted: Drafted, first_segment: int = 0
) -> list[RedactedSegment]:
    """The redacted segment of each of ``scenario``'s turns, by turn number (the transcript
    keeps one segment a turn, in order, from ``first_segment``: :func:`scenario_transcript`)."""
    assert drafted.redacted is not None
    segments = list(drafted.redacted.segments[first_segment : first_segment + len(scenario.turns)])
    if len(segments) != len(scenario.turns):
        raise ValueError(f"{scenario.id}: {len(segments)} segments for {len(scenario.turns)} turns")
    return segments


def segments_by_turn(
    scenario: Scenario,
    drafted: Drafted,
    first_segment: int = 0,
    turn_of: Mapping[str, int] | None = None,
) -> list[list[RedactedSegment]]:
    """The redacted segments of each of ``scenario``'s turns, by turn number: one each for a
    typed transcript (:func:`turn_segments`), those ``turn_of`` gives the turn for one made
    from audio (possibly none, or several)."""
    if turn_of is None:
        return [[seg] for seg in turn_segments(scenario, drafted, first_segment)]
    assert drafted.redacted is not None
    by_turn: list[list[RedactedSegment]] = [[] for _ in scenario.turns]
    for seg in drafted.redacted.segments:
        t = turn_of.get(seg.id)
        if t is not None:
            by_turn[t].append(seg)
    return by_turn


def score_consultation(c: Consultation, drafted: Drafted) -> Scored:
    s = Scored(c.id, "primock", "primary_care", "adult", drafted)
    if drafted.note is None:
        return s
    statements = _score_common(s)
    inv = inverse(drafted)
    for item in c.checklist:
        if item.code == "i":
            continue
        m = matching.fact_coverage(item.text, statements, inverse=inv)
        s.checklist.append((item.text, item.critical, m.recalled))
    if c.note is not None:
        s.note_tokens = matching.token_recall(c.note.note, statements)
        s.reference_words = len(c.note.note.split())
        text = brevity.note_text(drafted.note)
        s.reference_f1 = brevity.token_f1(text, c.note.note)
        s.rouge_l = brevity.rouge_l(text, c.note.note)
    return s
