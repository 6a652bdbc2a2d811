"""Note faithfulness: what the drafted note invents, what it loses, and whose words it keeps.

Every visit goes through the pipeline as the service runs it: the text transcript is redacted
(``pipeline.redact_transcript``, which refuses to draft when identifiers remain), drafted with
the ``visit_note`` template and reviewed in code (``pipeline.draft_note``: verification flags
unsupported statements, the red-flag gate removes red-flag claims whose cited segments lack
that category's language). The note is then scored against gold with the documented rules of
``eval/scoring/matching.py``:

* **unsupported_share**: statements flagged by verification (``unsupported:*`` or
  ``quote_not_found``) / all statements of the final notes, pooled. Goal < 1%.
* **red_flag_claims_without_evidence**: per note, the statements the gate removed (a red-flag
  category whose language none of the cited segments uses) plus kept statements flagged
  ``red_flag_not_affirmed:*`` (they affirm a category their evidence only denies or asks about);
  summed. Goal 0.
* **absent_category_statements** (scenarios; no goal): statements whose words affirm (positive
  polarity, safeguarding lexicon) a category the scenario's gold lists in
  ``red_flags_absent``, whatever their evidence. The lexicon is broad on purpose ("slapped" is
  both physical and domestic abuse language, "damp" is neglect language), so a segment kept
  word for word can count here: read it beside the visit table, not as invention. Suite
  version 1 counted these in red_flag_claims_without_evidence. A denial ("she said she has
  never self-harmed") is not counted.
* **critical_fact_recall** / **fact_recall**: gold facts recalled (``eval.scoring.matching``). Goal
  >= 90% for critical facts. Since suite version 6 polarity is read word by word (a word
  within six words after a negation cue, in its clause, is negated; a question's words are
  neither): versions 1 to 5 held a whole statement to the fact's polarity, so one "not"
  anywhere in a statement of several sentences kept it from recalling a fact with none.
* **critical_fact_cited** / **fact_cited** (no goal of their own; suite version 4): the same
  gold facts read by where they were said (``eval.scoring.matching.fact_cited``): every turn the
  gold fact names is cited by an unflagged statement that carries that turn's words of the fact.
  Beside recall, it tells what the note left out (not cited) from what it kept in the
  speaker's own words, which a summary-worded gold fact does not match word for word.
* **child_voice_retention**: gold child's words kept verbatim in ``direct_quote`` statements;
  ``child_voice_anywhere`` counts them in any statement. Goal >= 90%.
* **every_segment_*** (no goal): the same scoring of a note that keeps every segment of the
  redacted transcript word for word, each as its own statement (its speaker's direct quote),
  reviewed like a draft. A reference for verbatim drafting, not an upper bound: a fact told
  across several turns fills the slots of no single segment, while a drafted statement that
  joins a question and its answer can fill them (suite version 2 called these
  ``extractive_ceiling_*`` and described them as a maximum, which they are not).
* **opinions_as_fact**: gold opinions whose content a statement carries without attributing it
  (no release goal was set; lower is better). Since suite version 5 an exchange statement
  ("Social worker: Has he hurt you? Dad: Never. I don't hit my children.") is read a turn at a
  time, each turn attributed to its labelled speaker as the note shows it; versions 1 to 4 read
  such a statement, which has no single speaker, as unattributed, and counted every gold opinion
  said inside an exchange as written as fact.
* On PriMock57 (``eval/primock.py``): **primock_checklist_critical_recall** and
  **primock_checklist_recall** (the clinicians' checklist items, critical and all relevant
  ones, matched as facts are) and **primock_note_token_recall** (distinct content words of the
  clinician's note found in the draft). The drafts use the social-care ``visit_note`` template
  too: it is the only template in ``prompts/``, so these figures measure faithfulness to real
  conversation, not the quality of a medical note.
* **transcript_segments_kept** / **transcript_words_kept** (no goal; suite version 5): the
  share of the redacted transcript's segments (and of its words) that the note cites. A
  verbatim draft keeps each chosen segment whole, so these say how much of the recording the
  practitioner is given to read back: near 1, the draft is the transcript sorted into
  sections, not a summary. On PriMock57, **primock_reference_note_words** gives the
  clinicians' own notes' length beside it (words of the note / words of the transcript).
* **child_voice_without_child_words** / **parent_carer_views_without_family_words** (scenarios,
  no goal; suite version 5): statements of those two sections that cite no words of the
  person the template defines the section by (the child; a parent, carer or relative). The
  detail table ``sections_by_speaker`` counts, per section, the statements citing each group's
  words (child, family, professional, other). Verbatim statements keep their speaker, so a
  misplaced statement is still attributed; these say how well the model sorted, which the
  recall and quote figures above do not.
* **draft_failures** (visits with no note: redaction blocked or drafting failed; excluded from
  the figures above) and **seconds_per_draft**.

Each figure is reported overall and by ``source`` (scenario / primock), ``visit_type`` and
``child_age_band`` where it applies (one metric per grouping, ``<name>_by_<grouping>``), with
bootstrap intervals that resample visits (items of one note are not independent).

``--quick``: the 2 shortest scenarios with child's words (different visit types) and the first
PriMock57 consultation cut to 40 utterances. Full: all 34 scenarios and all 57 consultations.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from assistant.domain import (
    DraftNote,
    PseudonymMap,
    RedactedSegment,
    RedactedTranscript,
    Statement,
    Transcript,
)
from assistant.errors import StageError
from assistant.transcription.files import parse_json
from eval.core import EvalContext, Metric, SuiteResult
from eval.datasets.primock57 import (
    CITATION,
    Consultation,
    dataset_sha256,
    find_primock_dir,
    load_consultations,
)
from eval.datasets.scenarios import (
    CHILD_ROLES,
    PROFESSIONAL_ROLES,
    SPECIAL_SPEAKERS,
    Scenario,
    corpus_sha256,
    load_scenarios,
)
from eval.draft_store import DraftStore
from eval.draft_store import identity as draft_identity
from eval.scoring import matching
from eval.scoring.stats import group_metric

SUITE = "notes"
SUITE_VERSION = "6"
TEMPLATE = "visit_note"
GOALS = {
    "unsupported_share": 0.01,  # strictly below
    "red_flag_claims_without_evidence": 0.0,
    "critical_fact_recall": 0.90,
    "child_voice_retention": 0.90,
}


@dataclass(frozen=True)
class Plan:
    scenarios: int | None
    primock: int | None
    primock_utterances: int | None


QUICK = Plan(scenarios=2, primock=1, primock_utterances=40)
FULL = Plan(scenarios=None, primock=None, primock_utterances=None)


# --- drafting (shared with the bias suite) ------------------------------------------------------
@dataclass(frozen=True)
class Drafted:
    """One visit through redaction and drafting; ``error`` names the stage error when there is
    no note (the class name only: stage errors never carry transcript text)."""

    key: str
    transcript: Transcript
    redacted: RedactedTranscript | None
    mapping: PseudonymMap | None
    note: DraftNote | None
    error: str | None
    seconds: float
    same_as: str | None = None
    """The key of an earlier visit whose redacted transcript was identical, when the note was
    taken from it instead of drafted again (drafting is deterministic: same redacted text and
    settings, same note). ``seconds`` is then the redaction time only."""
    reused: bool = False
    """The note was read from the drafts store (``--drafts``: ``eval/draft_store.py``), not
    drafted in this run; ``seconds`` is then the redaction time only."""

    @property
    def drafted_here(self) -> bool:
        """Drafting was tried in this run (``seconds`` include it), not taken from elsewhere."""
        return self.same_as is None and not self.reused


def scenario_transcript(scenario: Scenario) -> Transcript:
    """A scenario as the text transcript a practitioner could upload (``Speaker: words`` turns,
    ids ``s0001``..., times from a speaking rate), through the service's own parser."""
    raw = json.dumps({"segments": [{"speaker": t.speaker, "text": t.text} for t in scenario.turns]})
    segments = parse_json(raw)
    return Transcript(
        segments=tuple(segments), language="en", duration_s=segments[-1].end, source="text"
    )


def draft(ctx: EvalContext, item_id: str, transcript: Transcript) -> Drafted:
    """Redact and draft ``transcript`` once per evaluation context (cached in ``ctx.cache``
    by id and transcript hash, so the bias suite reuses the notes suite's originals).

    The model sees only the redacted transcript, and the same redacted transcript with the same
    template and settings gives the same note, so a visit whose redacted text equals an earlier
    one's (a names-swapped copy whose every name was redacted) takes that note without drafting
    it again; ``Drafted.same_as`` says so, and the bias suite counts such pairs."""
    from assistant.pipeline import draft_note, redact_transcript

    digest = hashlib.sha256(transcript.model_dump_json().encode()).hexdigest()[:16]
    key = f"{item_id}:{digest}"
    cache: dict[str, Drafted] = ctx.cache.setdefault("notes.drafts", {})
    if key in cache:
        return cache[key]
    by_redacted: dict[str, Drafted] = ctx.cache.setdefault("notes.drafts_by_redacted", {})
    engines = ctx.engines
    store = draft_store(ctx)
    t0 = time.perf_counter()
    redacted = mapping = note = None
    error = None
    same_as = None
    reused = False
    try:
        redacted, mapping = redact_transcript(engines, transcript)
        digest = redacted_digest(redacted)
        seen = by_redacted.get(digest)
        if seen is not None and seen.note is not None:
            note, same_as = seen.note, seen.key
        elif store is not None and (note := store.get(digest)) is not None:
            reused = True
        else:
            t_draft = time.perf_counter()
            note = draft_note(engines, redacted, template=TEMPLATE)
            if store is not None:
                store.put(digest, item_id, note, time.perf_counter() - t_draft)
    except StageError as exc:
        error = type(exc).__name__
    drafted = Drafted(
        key, transcript, redacted, mapping, note, error, time.perf_counter() - t0, same_as, reused
    )
    cache[key] = drafted
    if note is not None and same_as is None:
        by_redacted[digest] = drafted
    return drafted


def draft_store(ctx: EvalContext) -> DraftStore | None:
    """The run's drafts store (``ctx.cache["draft_store"]``), made on first use from
    ``ctx.cache["drafts_dir"]`` (``--drafts``); None when the run keeps no drafts."""
    if "draft_store" not in ctx.cache:
        root = ctx.cache.get("drafts_dir")
        ctx.cache["draft_store"] = (
            None
            if root is None
            else DraftStore(root, draft_identity(ctx.settings, ctx.engines, TEMPLATE))
        )
    return ctx.cache["draft_store"]


def redacted_digest(redacted: RedactedTranscript) -> str:
    """What drafting and review read of a redacted transcript: segment ids, words, speakers
    and unsure words, the language and the redaction configuration (not the times, which a
    scenario derives from word counts, nor the entity offsets into the original text)."""
    read = {
        "template": TEMPLATE,
        "language": redacted.language,
        "config": redacted.config_hash,
        "segments": [
            [s.id, s.text, s.speaker, list(s.low_confidence_words)] for s in redacted.segments
        ],
    }
    return hashlib.sha256(json.dumps(read).encode()).hexdigest()


def inverse(drafted: Drafted) -> dict[str, frozenset[str]]:
    """Original value -> placeholders for one drafted visit (mapping and redacted spans)."""
    surfaces = (
        matching.redacted_surfaces(drafted.transcript, drafted.redacted)
        if drafted.redacted is not None
        else []
    )
    return matching.inverse_mapping(drafted.mapping, surfaces)


# --- scoring --------------------------------------------------------------------------------
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
    s.gate_removed = len(note.review.removed_claims) if note.review else 0
    s.not_affirmed = sum(
        any(f.startswith(FLAG_NOT_AFFIRMED_PREFIX) for f in st.flags) for st in statements
    )
    return statements


def score_scenario(scenario: Scenario, drafted: Drafted, *, first_segment: int = 0) -> Scored:
    """``drafted`` scored against ``scenario``'s gold; ``first_segment`` is where the scenario's
    turns start in the transcript (not 0 in the long visit of ``eval/long_visit.py``)."""
    s = Scored(scenario.id, "scenario", scenario.visit_type, age_band(scenario.child_age), drafted)
    if drafted.note is None:
        return s
    statements = _score_common(s)
    inv = inverse(drafted)
    names = aliases(scenario)
    g = scenario.gold
    s.absent_claims = absent_flag_claims(drafted.note, g.red_flags_absent)
    segments = turn_segments(scenario, drafted, first_segment)
    verified = [st for st in statements if not is_unsupported(st)]
    for f in g.facts:
        m = matching.fact_coverage(f.text, statements, inverse=inv, aliases=names)
        s.facts.append((f.text, f.critical, m.recalled))
        said = [segments[t] for t in f.turns]
        s.cited.append(matching.fact_cited(f.text, said, verified, inverse=inv, aliases=names))
    for w in g.child_words:
        q = matching.quote_kept(w, statements, inverse=inv)
        s.quotes.append((w, q.as_quote, q.anywhere))
    groups = {
        seg.id: speaker_group(scenario, turn.speaker)
        for seg, turn in zip(segments, scenario.turns, strict=True)
    }
    s.placed = [
        (section.key, frozenset(groups[e] for e in st.evidence if e in groups))
        for section in drafted.note.sections
        for st in section.statements
    ]
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
    return s


# --- metrics --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One gold item (or one visit) of a visit, for group_metric."""

    visit: Scored
    value: float
    denominator: float = 1.0


GROUPINGS: dict[str, Callable[[Row], str]] = {
    "source": lambda r: r.visit.source,
    "visit_type": lambda r: r.visit.visit_type,
    "child_age_band": lambda r: r.visit.age_band,
}


def grouped(
    rows: Sequence[Row],
    *,
    name: str,
    groupings: Sequence[str],
    seed: int,
    resamples: int,
    ratio: bool = False,
    **kw: Any,
) -> list[Metric]:
    """One metric per grouping (the first named ``name``, the others ``name_by_<grouping>``),
    visits as bootstrap clusters."""
    out = []
    for i, g in enumerate(groupings):
        out.append(
            group_metric(
                rows,
                lambda r: r.value,
                GROUPINGS[g],
                name=name if i == 0 else f"{name}_by_{g}",
                group_by=g,
                denominator_fn=(lambda r: r.denominator) if ratio else None,
                cluster_fn=lambda r: r.visit.id,
                seed=seed,
                resamples=resamples,
                **kw,
            )
        )
    return out


# --- the every-segment reference ------------------------------------------------------------
def every_segment(drafted: Drafted) -> Drafted:
    """``drafted`` with its note replaced by one that keeps every segment of the redacted
    transcript word for word, as its speaker's direct quote, reviewed like a draft."""
    from assistant.domain import NoteSection, StatementKind
    from assistant.pipeline import review_note

    assert drafted.redacted is not None and drafted.note is not None
    statements = tuple(
        Statement(
            text=seg.text,
            kind=StatementKind.DIRECT_QUOTE,
            speaker=seg.speaker,
            evidence=(seg.id,),
        )
        for seg in drafted.redacted.segments
    )
    note = DraftNote(
        sections=(NoteSection(key="transcript", title="Every segment", statements=statements),),
        provenance=drafted.note.provenance,
    )
    return replace(drafted, note=review_note(note, drafted.redacted), same_as=None)


def every_segment_metrics(visits: Sequence[Scored], *, seed: int, resamples: int) -> list[Metric]:
    """``every_segment_*``: recall of the every-segment notes of ``visits``."""
    common = dict(seed=seed, resamples=resamples, higher_is_better=True, ratio=False)
    about = (
        " of a note keeping every transcript segment word for word, each as its own statement: "
        "a reference for verbatim drafting, not an upper bound (a statement joining a question "
        "and its answer can fill slots no single segment fills). Not the model's figure."
    )
    scen = [v for v in visits if v.source == "scenario"]
    prim = [v for v in visits if v.source == "primock"]
    rows = {
        "critical_fact_recall": (
            [Row(v, float(r)) for v in scen for _, c, r in v.facts if c],
            "Critical gold facts recalled",
        ),
        "fact_recall": (
            [Row(v, float(r)) for v in scen for *_, r in v.facts],
            "Gold facts recalled",
        ),
        "child_voice_retention": (
            [Row(v, float(q)) for v in scen for _, q, _ in v.quotes],
            "Child's words kept as a direct quote",
        ),
        "primock_checklist_critical_recall": (
            [Row(v, float(r)) for v in prim for _, c, r in v.checklist if c],
            "PriMock57 critical checklist items recalled",
        ),
    }
    out: list[Metric] = []
    for name, (chosen, what) in rows.items():
        if chosen:
            out += grouped(
                chosen,
                name=f"every_segment_{name}",
                groupings=("source",),
                description=what + about,
                **common,
            )
    return out


def metrics_for(visits: Sequence[Scored], *, seed: int, resamples: int) -> list[Metric]:
    ok = [v for v in visits if v.ok]
    scen = [v for v in ok if v.source == "scenario"]
    prim = [v for v in ok if v.source == "primock"]
    both = ("source", "visit_type", "child_age_band")
    scen_groups = ("visit_type", "child_age_band")
    common = dict(seed=seed, resamples=resamples)
    out: list[Metric] = []
    if ok:
        unsupported = grouped(
            [Row(v, v.unsupported, v.statements) for v in ok],
            name="unsupported_share",
            groupings=both,
            ratio=True,
            description="Statements flagged unsupported by verification (unsupported:* or "
            "quote_not_found) / all statements, pooled over notes.",
            higher_is_better=False,
            goal=GOALS["unsupported_share"],
            **common,
        )
        out += [  # the goal is strictly below 1%
            m.model_copy(update={"meets_goal": None if m.value is None else m.value < m.goal})
            for m in unsupported
        ]
        out += grouped(
            [Row(v, v.segments_kept, v.segments) for v in ok],
            name="transcript_segments_kept",
            groupings=both,
            ratio=True,
            description="Segments of the redacted transcript that some statement of the note "
            "cites / all segments, pooled. No goal: how much of the recording the draft keeps. "
            "A verbatim draft (the templates since v2) keeps each chosen segment whole, so a "
            "share near 1 is the transcript sorted into sections, not a summary.",
            higher_is_better=False,
            **common,
        )
        out += grouped(
            [Row(v, v.words_kept, v.transcript_words) for v in ok],
            name="transcript_words_kept",
            groupings=both,
            ratio=True,
            description="Words of the cited segments / words of the redacted transcript, "
            "pooled. No goal; as transcript_segments_kept, weighted by length.",
            higher_is_better=False,
            **common,
        )
        out += grouped(
            [Row(v, v.red_flag_claims) for v in ok],
            name="red_flag_claims_without_evidence",
            groupings=both,
            statistic="sum",
            unit="count",
            description="Red-flag statements removed by the gate (no category language in "
            "their evidence) plus kept statements affirming a category their evidence only "
            "denies or asks about (flagged not_affirmed); summed over notes.",
            higher_is_better=False,
            goal=GOALS["red_flag_claims_without_evidence"],
            **common,
        )
    if scen:
        out += grouped(
            [Row(v, v.absent_claims) for v in scen],
            name="absent_category_statements",
            groupings=scen_groups,
            statistic="sum",
            unit="count",
            description="Statements whose words affirm a red-flag category the scenario's gold "
            "lists as absent, whatever their evidence (the lexicon is broad on purpose: a "
            "segment kept word for word can count); summed over notes. No goal.",
            higher_is_better=False,
            **common,
        )
    facts = [Row(v, float(rec)) for v in scen for _, crit, rec in v.facts if crit]
    if facts:
        out += grouped(
            facts,
            name="critical_fact_recall",
            groupings=scen_groups,
            description="Critical gold facts recalled by one statement (>= 60% of content "
            "slots, names resolved to placeholders; eval/scoring/matching.py).",
            higher_is_better=True,
            goal=GOALS["critical_fact_recall"],
            **common,
        )
        out += grouped(
            [Row(v, float(rec)) for v in scen for _, _, rec in v.facts],
            name="fact_recall",
            groupings=scen_groups,
            description="All gold facts (critical or not) recalled, as for critical facts.",
            higher_is_better=True,
            **common,
        )
        out += grouped(
            [Row(v, float(c)) for v in scen for c in v.critical_cited],
            name="critical_fact_cited",
            groupings=scen_groups,
            description="Critical gold facts whose turns the note cites, each by an unflagged "
            "statement carrying >= 60% of the fact's words found in that turn "
            "(eval/scoring/matching.py fact_cited). Read beside critical_fact_recall: a fact "
            "cited but not recalled is kept in the speaker's words; one not cited was left out.",
            higher_is_better=True,
            **common,
        )
        out += grouped(
            [Row(v, float(c)) for v in scen for c in v.cited],
            name="fact_cited",
            groupings=scen_groups,
            description="All gold facts (critical or not) cited, as for critical facts.",
            higher_is_better=True,
            **common,
        )
    quotes = [Row(v, float(q)) for v in scen for _, q, _ in v.quotes]
    if quotes:
        out += grouped(
            quotes,
            name="child_voice_retention",
            groupings=scen_groups,
            description="Gold child's words kept verbatim (normalised) in direct_quote statements.",
            higher_is_better=True,
            goal=GOALS["child_voice_retention"],
            **common,
        )
        out += grouped(
            [Row(v, float(a)) for v in scen for _, _, a in v.quotes],
            name="child_voice_anywhere",
            groupings=scen_groups,
            description="Gold child's words kept verbatim in any statement (paraphrase with "
            "quotation counted; kind not required).",
            higher_is_better=True,
            **common,
        )
    opinions = [Row(v, float(f)) for v in scen for _, f in v.opinions]
    if opinions:
        out += grouped(
            opinions,
            name="opinions_as_fact",
            groupings=scen_groups,
            description="Gold opinions whose content a statement carries without attribution "
            "(kind observed, or no speaker and no attribution word). No release goal set.",
            higher_is_better=False,
            **common,
        )
    for section, group in SECTION_SPEAKERS.items():
        rows = [Row(v, float(group not in g)) for v in scen for k, g in v.placed if k == section]
        if rows:
            out += grouped(
                rows,
                name=f"{section}_without_{group}_words",
                groupings=scen_groups,
                description=f"Statements of the {section} section that cite no segment said "
                f"by the {'child' if group == 'child' else 'parent, carer or relative'} (the "
                "template defines the section as their words); no goal. The note shows each "
                "statement with its speaker, so these are misplaced, not misattributed.",
                higher_is_better=False,
                **common,
            )
    items = [Row(v, float(rec)) for v in prim for _, crit, rec in v.checklist if crit]
    if items:
        out += grouped(
            items,
            name="primock_checklist_critical_recall",
            groupings=("source",),
            description="PriMock57 checklist items marked critical, recalled as gold facts are.",
            higher_is_better=True,
            **common,
        )
        out += grouped(
            [Row(v, float(rec)) for v in prim for _, _, rec in v.checklist],
            name="primock_checklist_recall",
            groupings=("source",),
            description="PriMock57 checklist items marked critical or non-critical, recalled.",
            higher_is_better=True,
            **common,
        )
    tokens = [Row(v, *v.note_tokens) for v in prim if v.note_tokens and v.note_tokens[1]]
    if tokens:
        out += grouped(
            tokens,
            name="primock_note_token_recall",
            groupings=("source",),
            ratio=True,
            description="Distinct content words of the clinician's note found in the draft, "
            "pooled (abbreviations such as 'hx' and 'PMH' never match: a floor, not a score).",
            higher_is_better=True,
            **common,
        )
    reference = [Row(v, v.reference_words, v.transcript_words) for v in prim if v.reference_words]
    if reference:
        out += grouped(
            reference,
            name="primock_reference_note_words",
            groupings=("source",),
            ratio=True,
            description="Words of the clinicians' own notes / words of the transcripts, "
            "pooled: how long a note written by hand is, beside transcript_words_kept.",
            higher_is_better=False,
            **common,
        )
    if visits:
        out += grouped(
            [Row(v, float(not v.ok)) for v in visits],
            name="draft_failures",
            groupings=("source",),
            description="Visits with no note (redaction blocked or drafting failed); they are "
            "left out of every other figure.",
            higher_is_better=False,
            **common,
        )
        out += grouped(
            [Row(v, v.drafted.seconds) for v in visits if v.drafted.drafted_here],
            name="seconds_per_draft",
            groupings=("source",),
            unit="seconds",
            description="Wall time to redact, draft and review one visit on this machine "
            "(notes drafted in this run only: not those read from --drafts).",
            higher_is_better=False,
            **common,
        )
    return out


# --- selection and the suite ------------------------------------------------------------------
def pick_quick(scenarios: Sequence[Scenario], n: int) -> list[Scenario]:
    """The ``n`` shortest scenarios with child's words and critical facts, one per visit type."""
    chosen: list[Scenario] = []
    for s in sorted(scenarios, key=lambda s: (len(s.words()), s.id)):
        if s.gold.child_words and any(f.critical for f in s.gold.facts):
            if all(c.visit_type != s.visit_type for c in chosen):
                chosen.append(s)
        if len(chosen) == n:
            break
    return chosen


def _table(columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"columns": columns, "rows": rows}


VISIT_COLUMNS = [
    "visit", "source", "visit type", "age band", "error", "statements", "unsupported",
    "gate removed", "not affirmed", "absent-category statements", "critical facts recalled",
    "critical facts cited", "facts recalled", "facts cited", "child quotes kept",
    "opinions as fact", "checklist critical recalled", "note tokens", "seconds",
]  # fmt: skip


def _frac(pairs: Sequence[bool]) -> str:
    return f"{sum(pairs)}/{len(pairs)}"


def sections_by_speaker(visits: Sequence[Scored]) -> list[list[Any]]:
    """Per section of the template, how many statements cite words of each speaker group (a
    statement citing two groups counts in both), and how many statements it holds."""
    placed = [(k, gs) for v in visits for k, gs in v.placed]
    keys = list(dict.fromkeys(k for k, _ in placed))
    return [
        [
            key,
            *(sum(g in gs for k, gs in placed if k == key) for g in SPEAKER_GROUPS),
            sum(k == key for k, _ in placed),
        ]
        for key in keys
    ]


def visit_row(v: Scored) -> list[Any]:
    return [
        v.id, v.source, v.visit_type, v.age_band, v.drafted.error, v.statements, v.unsupported,
        v.gate_removed, v.not_affirmed, v.absent_claims, _frac([r for _, c, r in v.facts if c]),
        _frac(v.critical_cited),
        _frac([r for _, _, r in v.facts]), _frac(v.cited), _frac([q for _, q, _ in v.quotes]),
        _frac([f for _, f in v.opinions]), _frac([r for _, c, r in v.checklist if c]),
        "/".join(map(str, v.note_tokens)) if v.note_tokens else None, round(v.drafted.seconds, 1),
    ]  # fmt: skip


def evaluate(
    ctx: EvalContext,
    scenarios: Sequence[Scenario],
    consultations: Sequence[Consultation] = (),
    *,
    primock_sha256: str | None = None,
    plan: Plan | None = None,
) -> SuiteResult:
    """The suite on the given visits (``run`` picks them from the plan)."""
    t0 = time.perf_counter()
    resamples = int(ctx.cache.get("resamples", 1000))
    notes = [
        "Every visit runs through the service's own redaction, drafting and code review "
        f"(template {TEMPLATE}); matching rules are in details.matching "
        "(eval/scoring/matching.py).",
        "Visits with no note (redaction blocked or drafting failed) are counted in "
        "draft_failures and left out of the other figures.",
        "Red-flag claims without evidence count every statement the gate removed, even for a "
        "category really present (the model cited the wrong segments), plus kept statements "
        "flagged not_affirmed. absent_category_statements counts, apart and without a goal, "
        "statements using the language of a category the gold lists as absent (PriMock57 has "
        "no such gold).",
        "every_segment_* score a note that keeps every segment word for word, each as its own "
        "statement: a reference for verbatim drafting, not an upper bound.",
    ]
    dataset = {"scenarios": corpus_sha256()}
    items: list[tuple[Callable[[Any, Drafted], Scored], Any, Drafted]] = [
        (score_scenario, s, draft(ctx, s.id, scenario_transcript(s))) for s in scenarios
    ]
    if consultations:
        if primock_sha256:
            dataset["primock57"] = primock_sha256
        notes.append(
            f"PriMock57 consultations are drafted with the social-care {TEMPLATE} template (the "
            "only one in prompts/): read them as faithfulness on real conversation, not as "
            f"medical notes. Data: {CITATION}."
        )
        if any(c.truncated for c in consultations):
            notes.append(
                "PriMock57 transcripts were cut short (quick run) while the clinicians' notes "
                "and checklists cover the whole consultation: their recall is understated."
            )
        items += [(score_consultation, c, draft(ctx, c.id, c.transcript())) for c in consultations]
    visits = [score(item, drafted) for score, item, drafted in items]

    metrics = metrics_for(visits, seed=ctx.seed, resamples=resamples)
    reference = [
        score(item, every_segment(drafted))
        for score, item, drafted in items
        if drafted.note is not None and drafted.redacted is not None
    ]
    metrics += every_segment_metrics(reference, seed=ctx.seed, resamples=resamples)
    reused = sum(v.drafted.reused for v in visits)
    if reused:
        notes.append(
            f"{reused} of {len(visits)} notes were read from the drafts store (--drafts: kept "
            "by an earlier run with the same redacted transcript, model, prompt, settings and "
            "code) instead of drafted again; seconds_per_draft leaves them out."
        )
    provenance = next((v.drafted.note.provenance for v in visits if v.drafted.note), None)
    details: dict[str, Any] = {
        "plan": (asdict(plan) if plan else {}) | {"quick": ctx.quick},
        "matching": matching.MATCHING,
        "template": TEMPLATE,
        "draft_provenance": provenance.model_dump() if provenance else None,
        "drafts": {"reused": reused, "drafted": sum(v.drafted.drafted_here for v in visits)},
        "scenarios": [s.id for s in scenarios],
        "primock": [c.id for c in consultations],
        "tables": {
            "visits": _table(VISIT_COLUMNS, [visit_row(v) for v in visits]),
            "missed_critical_facts": _table(
                ["visit", "fact", "cited"],
                [
                    [v.id, t, k]
                    for v in visits
                    if v.source == "scenario"
                    for (t, c, r), k in zip(v.facts, v.cited, strict=True)
                    if c and not r
                ],
            ),  # fmt: skip
            "sections_by_speaker": _table(
                ["section", *SPEAKER_GROUPS, "statements"],
                sections_by_speaker([v for v in visits if v.source == "scenario"]),
            ),
            "child_words_not_quoted": _table(
                ["visit", "child's words", "kept anywhere"],
                [[v.id, w, a] for v in visits for w, q, a in v.quotes if not q],
            ),
        },
    }
    return SuiteResult(
        suite=SUITE,
        suite_version=SUITE_VERSION,
        dataset=dataset,
        metrics=metrics,
        details=details,
        seconds=time.perf_counter() - t0,
        notes=notes,
    )


def run(ctx: EvalContext) -> SuiteResult:
    """The plan's visits: ``ctx.cache["primock_dir"]`` overrides where PriMock57 is looked
    for (None leaves it out); ``ctx.cache["primock_limit"]`` keeps the first N consultations
    (``caseassist eval run --primock N``)."""
    plan = QUICK if ctx.quick else FULL
    if ctx.cache.get("primock_limit") is not None:
        plan = replace(plan, primock=ctx.cache["primock_limit"])
    scenarios = load_scenarios()
    chosen = pick_quick(scenarios, plan.scenarios) if plan.scenarios else scenarios
    root = ctx.cache["primock_dir"] if "primock_dir" in ctx.cache else find_primock_dir()
    consultations: list[Consultation] = []
    sha = None
    if root is not None:
        sha = dataset_sha256(root)
        consultations = load_consultations(root, max_utterances=plan.primock_utterances)
        if plan.primock is not None:
            consultations = consultations[: plan.primock]
    result = evaluate(ctx, chosen, consultations, primock_sha256=sha, plan=plan)
    if root is None:
        result.notes.append(
            "PriMock57 not found (var/data/primock57 or shared/data/primock57): skipped."
        )
    if ctx.quick:
        result.notes.append("Quick run: a handful of visits exercise the code; intervals are wide.")
    return result
