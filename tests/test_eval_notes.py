"""The notes suite and its matching rules, as specifications.

Planted failures use a scripted drafter (``ScriptedDrafter`` below) and a redactor that removes
exactly the gold identifiers, so each test shows the suite detecting one kind of unfaithful
note without a language model: an invented red flag, a hallucinated statement, a dropped child
quote. The pipeline's own code review (verification, red-flag gate) runs on every note as in
the service. One test drafts with the real test-profile model (``models``, ``slow``).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assistant.domain import (
    DraftNote,
    DraftProvenance,
    EntitySpan,
    ModelRef,
    NoteSection,
    PseudonymMap,
    RedactedSegment,
    RedactedTranscript,
    Statement,
    StatementKind,
    Transcript,
)
from eval.core import EvalContext, SuiteResult
from eval.datasets.primock57 import (
    ChecklistItem,
    checklist_id,
    clean_markup,
    find_primock_dir,
    load_consultations,
    parse_checklist,
    parse_textgrid,
)
from eval.datasets.scenarios import Scenario, load_scenarios
from eval.scoring import matching
from eval.suites import notes

# --- scripted stand-ins for the models (test_eval_bias imports them too) -------------------
_PREFIX = {
    "PERSON": "PERSON", "UK_POSTCODE": "POSTCODE", "UK_PHONE": "PHONE", "EMAIL": "EMAIL",
    "UK_NHS": "NHS", "UK_NINO": "NINO", "STREET_ADDRESS": "ADDRESS", "DATE_OF_BIRTH": "DOB",
    "SCHOOL": "SCHOOL", "GP_SURGERY": "GP", "HOSPITAL": "HOSPITAL", "CASE_REFERENCE": "CASE",
    "UK_VEHICLE_REG": "VEHICLE", "LOCATION": "LOCATION",
}  # fmt: skip


class GoldRedactor:
    """Redacts a scenario transcript perfectly: every gold identifier, longest first, one
    placeholder per person (all forms of a name) or per value. Other transcripts pass through
    unchanged."""

    def __init__(self, scenarios: Iterable[Scenario]):
        self._by_turns = {tuple(t.text for t in s.turns): s for s in scenarios}

    def redact(self, transcript: Transcript) -> tuple[RedactedTranscript, PseudonymMap]:
        scenario = self._by_turns.get(tuple(s.text for s in transcript.segments))
        entries: dict[str, str] = {}
        table: list[tuple[str, str]] = []
        if scenario is not None:
            counters: dict[str, int] = {}
            person_of: dict[str, str] = {}
            for ident in sorted(scenario.gold.identifiers, key=lambda i: -len(i.text)):
                if ident.type == "PERSON":
                    owner = next(
                        (p.name for p in scenario.people
                         if set(ident.text.split()) <= set(p.name_tokens())),
                        ident.text,
                    )  # fmt: skip
                    if owner not in person_of:
                        counters["PERSON"] = counters.get("PERSON", 0) + 1
                        person_of[owner] = f"[PERSON_{counters['PERSON']}]"
                        entries[person_of[owner]] = owner
                    table.append((ident.text, person_of[owner]))
                else:
                    prefix = _PREFIX[ident.type]
                    counters[prefix] = counters.get(prefix, 0) + 1
                    placeholder = f"[{prefix}_{counters[prefix]}]"
                    entries[placeholder] = ident.text
                    table.append((ident.text, placeholder))
        segments, spans = [], []
        for seg in transcript.segments:
            found: list[tuple[int, int, str]] = []  # offsets into the original text
            for value, placeholder in table:  # longest first; no overlaps
                for m in re.finditer(rf"(?<![\w\[]){re.escape(value)}(?![\w\]])", seg.text):
                    if not any(m.start() < b and a < m.end() for a, b, _ in found):
                        found.append((m.start(), m.end(), placeholder))
            found.sort()
            text, pos = [], 0
            for a, b, placeholder in found:
                text += [seg.text[pos:a], placeholder]
                pos = b
                spans.append(
                    EntitySpan(segment_id=seg.id, start=a, end=b, entity_type="GOLD",
                               placeholder=placeholder, score=1.0, recognizer="gold")
                )  # fmt: skip
            text.append(seg.text[pos:])
            segments.append(
                RedactedSegment(
                    id=seg.id, start=seg.start, end=seg.end, text="".join(text), speaker=seg.speaker
                )
            )
        redacted = RedactedTranscript(
            segments=tuple(segments),
            language=transcript.language,
            duration_s=transcript.duration_s,
            entities=tuple(spans),
            config_hash="gold-redactor",
        )
        return redacted, PseudonymMap(entries=entries)


PROVENANCE = DraftProvenance(
    template="visit_note",
    template_version="v1",
    prompt_sha256="0" * 64,
    model=ModelRef(name="scripted-fake", sha256="0" * 64),
    redaction_config_hash="gold-redactor",
    attempts=1,
    seed=0,
)


def note(sections: dict[str, list[Statement]]) -> DraftNote:
    return DraftNote(
        sections=tuple(
            NoteSection(key=k, title=k.replace("_", " ").title(), statements=tuple(v))
            for k, v in sections.items()
        ),
        provenance=PROVENANCE,
    )


def st(text: str, evidence: Iterable[str], kind: str = "reported", speaker: str | None = None):
    return Statement(text=text, kind=StatementKind(kind), speaker=speaker, evidence=tuple(evidence))


CHILD_LABELS = frozenset({"Child", "Young person"})
PROFESSIONAL_LABELS = frozenset(
    {"Social worker", "Practitioner", "Interpreter", "TV", "Key worker"}
)


def verbatim_note(redacted: RedactedTranscript, *, limit: int | None = None) -> DraftNote:
    """A faithful scripted note: every adult's turn copied verbatim as a reported statement and
    every child's turn as a direct quote, each citing its own segment."""
    voice, views = [], []
    for seg in redacted.segments[:limit]:
        if seg.speaker in CHILD_LABELS:
            voice.append(st(seg.text, [seg.id], "direct_quote", seg.speaker))
        else:
            views.append(st(seg.text, [seg.id], "reported", seg.speaker))
    return note({"child_voice": voice, "parent_carer_views": views})


@dataclass
class ScriptedDrafter:
    """``script(redacted) -> DraftNote``; records how often it was asked."""

    script: Callable[[RedactedTranscript], DraftNote]
    calls: int = 0

    def draft(self, transcript: RedactedTranscript, *, on_progress=None) -> DraftNote:
        assert isinstance(transcript, RedactedTranscript)  # the drafter never sees raw text
        self.calls += 1
        return self.script(transcript)


@dataclass
class FakeEngines:
    """What ``pipeline.redact_transcript`` and ``pipeline.draft_note`` use of ``Engines``."""

    redactor: object
    drafter_: ScriptedDrafter
    compute_lock: threading.Lock = field(default_factory=threading.Lock)
    lexicon: object = None  # None: the review reads the packaged lexicon

    def drafter(self, template: str) -> ScriptedDrafter:
        assert template == "visit_note"
        return self.drafter_


SCENARIOS = {s.id: s for s in load_scenarios()}
SCENARIO = SCENARIOS["cp-001"]  # red_flags_absent includes suicidal_ideation
PRIMOCK = find_primock_dir()


def context(script, *, scenarios=SCENARIOS.values(), tmp_path: Path) -> EvalContext:
    engines = FakeEngines(GoldRedactor(scenarios), ScriptedDrafter(script))
    ctx = EvalContext(
        profile="test",
        quick=True,
        seed=0,
        out_dir=tmp_path,
        settings=None,
        _engines_factory=lambda: engines,
    )
    ctx.cache["resamples"] = 200
    return ctx


def metric(result: SuiteResult, name: str):
    return next(m for m in result.metrics if m.name == name)


def with_extra(extra, *, drop_child_quotes: bool = False):
    """A script: the faithful verbatim note, plus ``extra(redacted)`` statements."""

    def script(redacted: RedactedTranscript):
        base = verbatim_note(redacted)
        sections = {s.key: list(s.statements) for s in base.sections}
        if drop_child_quotes:
            sections["child_voice"] = []
        sections["worries"] = extra(redacted)
        return note(sections)

    return script


# --- matching --------------------------------------------------------------------------------
MAPPING = PseudonymMap(entries={"[PERSON_1]": "Tyler Marsh", "[PERSON_2]": "Gemma Marsh"})
INVERSE = matching.inverse_mapping(MAPPING)


@pytest.mark.parametrize(
    ("fact", "statement", "recalled"),
    [
        # names resolved through the mapping; a speaker-label role word filled by a placeholder
        ("Tyler said Mum cried at home", "[PERSON_1] said [PERSON_2] was crying at home", True),
        ("Tyler said Mum cried at home", "[PERSON_1] said his mother was crying at home", True),
        # a surname alone is the same person
        ("Marsh family moved house", "The [PERSON_1] family moved house", True),
        # most content missing
        ("Tyler said Mum cried at home", "[PERSON_1] likes football", False),
        # negation is content: "not" is a slot of its own
        ("Dean has not been to the house", "Dean has been to the house", False),
        ("Dean has not been to the house", "Dean hasn't been to the house", True),
        ("Dean has been to the house", "Dean has not been to the house", False),
        # polarity is read word by word: a negation elsewhere in a long statement does not
        # stop it recalling a fact said in its other sentence (suites 1-5 held the whole
        # statement to the fact's polarity and missed this)
        ("The EHCP says one-to-one support in the afternoons, he only gets it three afternoons",
         "The school's still not meeting his needs. The EHCP says one-to-one support in the "
         "afternoons and he's only getting it three afternoons a week.", True),
        # ... but a word the statement negates does not fill the fact's asserted word
        ("He eats breakfast at school every day", "He never eats breakfast at school, every day",
         False),
        # a negation's scope ends with its clause ("and", a comma): "school" is asserted here
        ("He has no breakfast and is hungry at school",
         "He doesn't get breakfast, he's hungry at school", True),
        ("He has no breakfast and is hungry at school",
         "He doesn't get breakfast or get hungry at school", False),
        # a question asserts nothing: its words fill a fact of either polarity, as the answer
        # says ("No." here)
        ("Nobody in the group talked about weapons",
         "Social worker: Has anyone in the group talked about weapons? Kyle: No. Nobody.", True),
        # number words and digits are the same
        ("He is seven", "He is 7", True),
    ],
)  # fmt: skip
def test_fact_recall_rule(fact, statement, recalled):
    m = matching.fact_coverage(
        fact, [st(statement, ["s0001"])], inverse=INVERSE, aliases={"mum": "Gemma Marsh"}
    )
    assert m.recalled is recalled


def _seg(id_: str, text: str, speaker: str | None = "Mum") -> RedactedSegment:
    return RedactedSegment(id=id_, start=0.0, end=1.0, text=text, speaker=speaker)


SAID = _seg("s0004", "We had one meltdown last week, because the bus was a different bus.")
AGREED = _seg("s0005", "That's right.")


@pytest.mark.parametrize(
    ("segments", "statements", "cited"),
    [
        # the moment kept word for word: cited, though its words fill too few of the summary
        # fact's slots for fact recall
        ([SAID], [st(SAID.text, ["s0004"])], True),
        # part of the moment, carrying the fact's words in it
        ([SAID], [st("Mum said he had one meltdown last week over the bus", ["s0004"])], True),
        # the right citation with other words: not cited
        ([SAID], [st("[PERSON_1] likes trains", ["s0004"])], False),
        # the words without the citation: not cited
        ([SAID], [st(SAID.text, ["s0009"])], False),
        # a segment that shares no word with the fact needs only its citation
        ([SAID, AGREED], [st(SAID.text, ["s0004"]), st("Yes", ["s0005"])], True),
        # every turn the fact names must be kept
        ([SAID, AGREED], [st(SAID.text, ["s0004"])], False),
        ([], [st(SAID.text, ["s0004"])], False),
    ],
)  # fmt: skip
def test_fact_cited_rule(segments, statements, cited):
    fact = "Tyler had one meltdown in the last week, when the school bus changed, and calmed down"
    assert matching.fact_cited(fact, segments, statements, inverse=INVERSE) is cited
    recalled = matching.fact_coverage(fact, [st(SAID.text, ["s0004"])], inverse=INVERSE)
    assert not recalled.recalled  # the wording gap this reading tells from an omission


@pytest.mark.parametrize(
    ("words", "statements", "as_quote", "anywhere"),
    [
        ("I don't like shouting.", [("I do not like shouting", "direct_quote")], True, True),
        # curly quotes, fillers and case do not matter
        ("I don’t like, um, SHOUTING.", [("I don't like shouting.", "direct_quote")], True, True),
        # two sentences may be quoted in two statements
        ("I miss Dad. I cry.", [("I miss Dad.", "direct_quote"), ("I cry", "direct_quote")],
         True, True),
        # kept, but not as a quote
        ("I miss Dad.", [("[PERSON_1] said: I miss Dad", "reported")], False, True),
        # paraphrased: not kept
        ("I miss Dad.", [("[PERSON_1] said he misses his father", "reported")], False, False),
        # the child's name in the quote is matched as its placeholder
        ("Tyler is my name.", [("[PERSON_1] is my name", "direct_quote")], True, True),
    ],
)  # fmt: skip
def test_quote_kept_rule(words, statements, as_quote, anywhere):
    sts = [st(text, ["s0001"], kind) for text, kind in statements]
    q = matching.quote_kept(words, sts, inverse=INVERSE)
    assert (q.as_quote, q.anywhere) == (as_quote, anywhere)


def _st(text: str, kind: str, speaker: str | None = None) -> Statement:
    return Statement(text=text, kind=kind, speaker=speaker, evidence=("s1",))


@pytest.mark.parametrize(
    ("statement", "as_fact"),
    [
        (_st("Tyler exaggerates a lot", "observed"), True),
        (_st("Tyler exaggerates a lot", "reported"), True),
        (_st("Mum said Tyler exaggerates a lot", "reported"), False),
        (_st("Tyler exaggerates a lot", "opinion", "Mum"), False),
        (_st("Tyler likes football", "observed"), False),
    ],
)
def test_opinion_written_as_fact_rule(statement, as_fact):
    assert matching.opinion_as_fact("He exaggerates a lot, Tyler.", [statement]) is as_fact


SPEAKERS = ("Social worker", "Dad", "Mum")


@pytest.mark.parametrize(
    ("statement", "as_fact"),
    [
        # an exchange: the opinion is under Dad's label, as the note shows it
        (_st("Social worker: Has he hurt you before? Dad: Never. He exaggerates a lot, Tyler.",
             "direct_quote"), False),
        # words before the first label have no speaker: as fact
        (_st("He exaggerates a lot, Tyler. Social worker: Okay.", "direct_quote"), True),
        # an unknown label is not a label ("Note" is not a speaker of this recording)
        (_st("Note: Tyler exaggerates a lot", "direct_quote"), True),
        # observed is never attributed, labels or not
        (_st("Dad: Tyler exaggerates a lot", "observed"), True),
        # the opinion's words spread over two turns fill no single turn's slots
        (_st("Social worker: Does Tyler exaggerate? Mum: A lot.", "direct_quote"), False),
    ],
)  # fmt: skip
def test_an_exchange_is_read_turn_by_turn_for_opinions(statement, as_fact):
    assert (
        matching.opinion_as_fact("He exaggerates a lot, Tyler.", [statement], speakers=SPEAKERS)
        is as_fact
    )


def test_turns_splits_on_the_recordings_speaker_labels_only():
    parts = matching.turns(
        _st("Okay then. Social worker: Time: half past nine? Mum: Yes, Dad: says so.", "reported"),
        ["Social worker", "Mum", "Dad"],
    )
    assert [(p.speaker, p.text) for p in parts] == [
        (None, "Okay then."),
        ("Social worker", "Time: half past nine?"),
        ("Mum", "Yes,"),
        ("Dad", "says so."),
    ]
    one = _st("Dad: Never.", "reported", "Dad")  # a statement with a speaker is one turn
    assert matching.turns(one, ["Dad"]) == [one]
    assert matching.turns(_st("Dad: Never.", "reported"), []) == [_st("Dad: Never.", "reported")]


def test_token_recall_counts_distinct_content_words():
    found, total = matching.token_recall(
        "3/7 hx of diarrhoea. No blood in stool.", [st("Three days of diarrhoea, no blood", ["s1"])]
    )
    assert (found, total) == (4, 7)  # 3, diarrhoea, no, blood of 3 7 hx diarrhoea no blood stool


# --- planted failures ------------------------------------------------------------------------
def test_faithful_note_meets_the_faithfulness_goals(tmp_path):
    result = notes.evaluate(context(verbatim_note, tmp_path=tmp_path), [SCENARIO])
    assert metric(result, "red_flag_claims_without_evidence").value == 0
    assert metric(result, "red_flag_claims_without_evidence").meets_goal is True
    assert metric(result, "unsupported_share").value == 0
    assert metric(result, "child_voice_retention").value == 1.0
    assert metric(result, "opinions_as_fact").value == 0
    assert result.dataset["scenarios"]
    assert all(m.higher_is_better is False for m in result.metrics if "unsupported" in m.name)


def test_invented_suicidal_ideation_is_counted_and_misses_the_goal(tmp_path):
    assert "suicidal_ideation" in SCENARIO.gold.red_flags_absent

    def invented(redacted):  # cites a segment that says nothing about suicide
        return [st("[PERSON_1] has thoughts of suicide and wants to kill himself.", ["s0002"])]

    result = notes.evaluate(context(with_extra(invented), tmp_path=tmp_path), [SCENARIO])
    m = metric(result, "red_flag_claims_without_evidence")
    assert m.value == 1
    assert m.meets_goal is False
    assert m.unit == "count" and m.higher_is_better is False
    assert m.groups["scenario"].value == 1
    row = result.details["tables"]["visits"]["rows"][0]
    assert row[7] == 1  # removed by the gate


def test_a_red_flag_claim_citing_only_a_denial_counts_as_without_evidence(tmp_path):
    # cp-001 s0032 (Mum): "I just didn't want it all kicking off again" -- violence language,
    # negated; a claim that it did kick off affirms what its evidence denies
    def contrary(redacted):
        return [st("Mum said it all kicked off again and he hit her.", ["s0032"], speaker="Mum")]

    result = notes.evaluate(context(with_extra(contrary), tmp_path=tmp_path), [SCENARIO])
    m = metric(result, "red_flag_claims_without_evidence")
    assert m.value == 1 and m.meets_goal is False
    columns = result.details["tables"]["visits"]["columns"]
    row = dict(zip(columns, result.details["tables"]["visits"]["rows"][0], strict=True))
    assert (row["gate removed"], row["not affirmed"]) == (0, 1)  # kept, flagged, counted


def test_words_kept_verbatim_from_the_transcript_are_not_claims_without_evidence(tmp_path):
    """s47-005: Dad slapped Omar (physical abuse, present); the lexicon also reads "slapped" as
    domestic-abuse language, which the gold lists as absent. A note keeping those turns word
    for word invents nothing: it is counted apart, in absent_category_statements."""
    scenario = SCENARIOS["s47-005"]
    assert "domestic_abuse" in scenario.gold.red_flags_absent
    result = notes.evaluate(context(verbatim_note, tmp_path=tmp_path), [scenario])
    assert metric(result, "red_flag_claims_without_evidence").value == 0
    absent = metric(result, "absent_category_statements")
    assert absent.value > 0 and absent.goal is None


def test_the_every_segment_reference_does_not_depend_on_the_draft(tmp_path):
    """The every-segment note is built from the redacted transcript, not from the model's
    note: an empty draft recalls nothing, and the reference stays where it was."""
    empty = notes.evaluate(context(lambda r: note({}), tmp_path=tmp_path), [SCENARIO])
    full = notes.evaluate(context(verbatim_note, tmp_path=tmp_path), [SCENARIO])
    assert metric(empty, "critical_fact_recall").value == 0
    reference = metric(empty, "every_segment_critical_fact_recall")
    assert reference.value > 0 and reference.goal is None and reference.higher_is_better
    assert reference.value == metric(full, "every_segment_critical_fact_recall").value
    assert metric(empty, "every_segment_child_voice_retention").value == 1.0


def test_affirming_an_absent_category_counts_but_a_denial_does_not():
    absent = frozenset({"self_harm"})
    claim = note({"worries": [st("She has been self-harming by cutting her arms.", ["s1"])]})
    denial = note({"worries": [st("She said she has never self-harmed.", ["s1"])]})
    assert notes.absent_flag_claims(claim, absent) == 1
    assert notes.absent_flag_claims(denial, absent) == 0
    assert notes.absent_flag_claims(claim, frozenset({"neglect"})) == 0


def test_hallucinated_statement_raises_the_unsupported_share(tmp_path):
    def hallucinated(redacted):
        return [st("The family has a dog called Rex and went to Spain in August.", ["s0003"])]

    base = notes.evaluate(context(verbatim_note, tmp_path=tmp_path), [SCENARIO])
    planted = notes.evaluate(context(with_extra(hallucinated), tmp_path=tmp_path), [SCENARIO])
    before = metric(base, "unsupported_share")
    after = metric(planted, "unsupported_share")
    assert before.value == 0 and before.meets_goal is True
    assert after.value > 0.01 and after.meets_goal is False  # 1 of 43 statements


def test_dropped_child_quote_lowers_childs_voice_retention(tmp_path):
    base = notes.evaluate(context(verbatim_note, tmp_path=tmp_path), [SCENARIO])
    planted = notes.evaluate(
        context(with_extra(lambda r: [], drop_child_quotes=True), tmp_path=tmp_path), [SCENARIO]
    )
    assert metric(base, "child_voice_retention").value == 1.0
    dropped = metric(planted, "child_voice_retention")
    assert dropped.value == 0.0 and dropped.meets_goal is False
    assert len(planted.details["tables"]["child_words_not_quoted"]["rows"]) == len(
        SCENARIO.gold.child_words
    )


def test_a_dropped_moment_lowers_facts_cited_and_other_words_do_not_count(tmp_path):
    """The verbatim note cites every critical fact's turns; dropping the turns of the critical
    facts, or citing them with other words, is an omission."""
    critical_turns = {f"s{t + 1:04d}" for f in SCENARIO.gold.facts if f.critical for t in f.turns}

    def dropped(redacted):
        kept = redacted.model_copy(
            update={"segments": tuple(s for s in redacted.segments if s.id not in critical_turns)}
        )
        return verbatim_note(kept)

    def other_words(redacted):
        base = verbatim_note(redacted)
        swapped = [
            st("[PERSON_1] likes football.", st_.evidence) if st_.evidence[0] in critical_turns
            else st_
            for section in base.sections
            for st_ in section.statements
        ]  # fmt: skip
        return note({"parent_carer_views": swapped})

    base = notes.evaluate(context(verbatim_note, tmp_path=tmp_path), [SCENARIO])
    assert metric(base, "critical_fact_cited").value == 1.0
    assert metric(base, "fact_cited").value == 1.0
    assert metric(base, "critical_fact_cited").goal is None
    for script in (dropped, other_words):
        planted = notes.evaluate(context(script, tmp_path=tmp_path), [SCENARIO])
        assert metric(planted, "critical_fact_cited").value == 0.0
        assert 0.0 < metric(planted, "fact_cited").value < 1.0  # other facts are still kept
        rows = planted.details["tables"]["missed_critical_facts"]["rows"]
        assert rows and not any(cited for _, _, cited in rows)


def test_transcript_kept_counts_the_cited_segments_and_their_words(tmp_path):
    """The verbatim note cites every segment: it keeps the whole transcript. A note citing
    only the first two segments keeps those two, and their share of the words."""

    seen = []

    def first_two(redacted):
        seen.append(redacted)
        return note({"purpose": [st(s.text, [s.id]) for s in redacted.segments[:2]]})

    full = notes.evaluate(context(verbatim_note, tmp_path=tmp_path), [SCENARIO])
    assert metric(full, "transcript_segments_kept").value == 1.0
    assert metric(full, "transcript_words_kept").value == 1.0
    two = notes.evaluate(context(first_two, tmp_path=tmp_path), [SCENARIO])
    segments = len(SCENARIO.turns)
    words = [len(s.text.split()) for s in seen[0].segments]  # redacted words are counted
    assert metric(two, "transcript_segments_kept").value == pytest.approx(2 / segments)
    assert metric(two, "transcript_words_kept").value == pytest.approx(sum(words[:2]) / sum(words))
    kept = metric(two, "transcript_segments_kept")
    assert kept.goal is None and kept.groups["scenario"].n == 1


def test_words_of_others_in_the_childs_section_are_counted_as_misplaced(tmp_path):
    """child_voice holds the child's words: the verbatim note puts only the child's turns
    there. One of the practitioner's turns filed there is a statement of that section without
    them; one of Mum's is moved to the parents' views by the service's review before scoring
    (``section_corrected``), so it is not."""
    voice: list[Statement] = []

    def planted(speaker: str):
        def script(redacted):
            sections = {s.key: list(s.statements) for s in verbatim_note(redacted).sections}
            voice[:] = sections["child_voice"]
            turn = next(s for s in redacted.segments if s.speaker == speaker)
            sections["child_voice"].append(st(turn.text, [turn.id], "direct_quote", speaker))
            return note(sections)

        return script

    base = notes.evaluate(context(verbatim_note, tmp_path=tmp_path), [SCENARIO])
    assert metric(base, "child_voice_without_child_words").value == 0
    worker = notes.evaluate(context(planted("Social worker"), tmp_path=tmp_path), [SCENARIO])
    m = metric(worker, "child_voice_without_child_words")
    assert voice and m.value == pytest.approx(1 / (len(voice) + 1)) and m.goal is None
    table = worker.details["tables"]["sections_by_speaker"]
    rows = {r[0]: dict(zip(table["columns"], r, strict=True)) for r in table["rows"]}
    assert rows["child_voice"]["professional"] == 1 and rows["child_voice"]["child"] == len(voice)
    assert rows["child_voice"]["statements"] == len(voice) + 1
    mum = notes.evaluate(context(planted("Mum"), tmp_path=tmp_path), [SCENARIO])
    assert metric(mum, "child_voice_without_child_words").value == 0
    table = mum.details["tables"]["sections_by_speaker"]
    rows = {r[0]: dict(zip(table["columns"], r, strict=True)) for r in table["rows"]}
    assert rows["child_voice"]["family"] == 0
    # the verbatim note files the practitioner's turns with the adults' views
    assert 0 < metric(base, "parent_carer_views_without_family_words").value < 1


def test_metrics_are_broken_down_by_visit_type_age_band_and_source(tmp_path):
    two = [SCENARIOS["cp-001"], SCENARIOS["eh-004"]]
    result = notes.evaluate(context(verbatim_note, tmp_path=tmp_path), two)
    names = {m.name: m for m in result.metrics}
    assert names["unsupported_share"].group_by == "source"
    assert set(names["critical_fact_recall"].groups) == {"child_protection", "early_help"}
    assert set(names["critical_fact_recall_by_child_age_band"].groups) == {"0-4", "5-11"}
    assert names["critical_fact_recall"].goal == 0.9
    assert names["critical_fact_recall"].higher_is_better is True
    assert names["critical_fact_recall"].interval is not None  # resampled by visit


def test_a_blocked_draft_is_a_failure_not_a_note(tmp_path):
    def script(redacted):
        raise AssertionError("never drafted")

    # a redactor that redacts nothing leaves the child's name: drafting is refused
    engines = FakeEngines(GoldRedactor([]), ScriptedDrafter(script))
    ctx = EvalContext("test", True, 0, tmp_path, None, _engines_factory=lambda: engines)
    result = notes.evaluate(ctx, [SCENARIO])
    assert metric(result, "draft_failures").value == 1.0
    assert result.details["tables"]["visits"]["rows"][0][4] == "RedactionBlocked"


def test_quick_plan_picks_two_short_scenarios_of_different_visit_types():
    chosen = notes.pick_quick(list(SCENARIOS.values()), 2)
    assert len(chosen) == 2 and chosen[0].visit_type != chosen[1].visit_type
    assert all(s.gold.child_words for s in chosen)


# --- PriMock57 -------------------------------------------------------------------------------
TEXTGRID = """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 9
tiers? <exists>
size = 1
item []:
    item [1]:
        class = "IntervalTier"
        name = "Speaker"
        xmin = 0
        xmax = 9
        intervals: size = 4
        intervals [1]:
            xmin = 0
            xmax = 1.5
            text = ""
        intervals [2]:
            xmin = 1.5
            xmax = 4
            text = "Hello, <UNSURE>good morning</UNSURE>. How can I help?"
        intervals [3]:
            xmin = 4
            xmax = 6
            text = "<UNIN/> <INAUDIBLE_SPEECH/>"
        intervals [4]:
            xmin = 6
            xmax = 9
            text = "You said ""tummy ache"" <UNIN/> since Monday?"
"""


def test_textgrid_markup_is_stripped_and_empty_intervals_dropped(tmp_path):
    path = tmp_path / "x_doctor.TextGrid"
    path.write_text(TEXTGRID.replace("\n", "\r\n"), encoding="utf-8")
    utts = parse_textgrid(path, "Doctor")
    assert [u.text for u in utts] == [
        "Hello, good morning. How can I help?",
        'You said "tummy ache" since Monday?',
    ]
    assert (utts[0].start, utts[0].end, utts[0].speaker) == (1.5, 4.0, "Doctor")
    assert clean_markup("<UNIN/>") == ""


def test_checklist_items_and_critical_codes_are_read(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    rows = [
        ("CHECKLIST", "Critical / Non Critical / Irrelevant", None, "Note 1"),
        ("PC/HPC", None),
        ("Diarrhoea", "c"),
        ("*3days", "  C"),
        ("↳ staying close to toilet", "nc"),
        ("=Checklist!A1", "c"),
        ("Introduction", "i"),
    ]
    for r in rows:
        ws.append(r)
    path = tmp_path / "Day 2 consultation 7 - Checklist.xlsx"
    wb.save(path)
    items = parse_checklist(path, "Clinician_1")
    assert items == [
        ChecklistItem("Diarrhoea", "c", "Clinician_1", "PC/HPC"),
        ChecklistItem("3days", "c", "Clinician_1", "PC/HPC"),
        ChecklistItem("staying close to toilet", "nc", "Clinician_1", "PC/HPC"),
        ChecklistItem("Introduction", "i", "Clinician_1", "PC/HPC"),
    ]
    assert checklist_id(path) == "day2_consultation07"


@pytest.mark.skipif(PRIMOCK is None, reason="PriMock57 data not found")
def test_primock_consultation_is_parsed():
    (c,) = load_consultations(PRIMOCK, ids=["day1_consultation01"])
    assert len(c.utterances) == 102  # 50 doctor + 52 patient non-empty intervals
    assert {u.speaker for u in c.utterances} == {"Doctor", "Patient"}
    assert all("<" not in u.text for u in c.utterances)
    assert [u.start for u in c.utterances] == sorted(u.start for u in c.utterances)
    assert c.note is not None and "diarrhea" in c.note.note
    assert len(c.critical_items) == 65 and len(c.checklist) == 92
    assert any(i.text == "No blood in stool" and i.critical for i in c.checklist)
    transcript = c.transcript()
    assert transcript.segments[0].id == "s0001" and transcript.source == "text"
    (cut,) = load_consultations(PRIMOCK, ids=["day1_consultation01"], max_utterances=40)
    assert len(cut.utterances) == 40 and cut.truncated


@pytest.mark.skipif(PRIMOCK is None, reason="PriMock57 data not found")
def test_primock_drafts_are_compared_with_checklist_and_clinician_note(tmp_path):
    cons = load_consultations(PRIMOCK, ids=["day1_consultation01"], max_utterances=40)
    result = notes.evaluate(
        context(verbatim_note, scenarios=[], tmp_path=tmp_path), [], cons, primock_sha256="x"
    )
    names = {m.name: m for m in result.metrics}
    assert 0 < names["primock_checklist_critical_recall"].value < 1
    assert 0 < names["primock_note_token_recall"].value < 1
    assert names["unsupported_share"].groups["primock"].n == 1
    assert result.dataset["primock57"] == "x"
    assert any("visit_note template" in n for n in result.notes)
    assert any("cut short" in n for n in result.notes)


# --- the drafts store (--drafts) ---------------------------------------------------------------
def _stored_context(tmp_path: Path, script, ident: dict) -> EvalContext:
    from eval.draft_store import DraftStore

    ctx = context(script, tmp_path=tmp_path)
    ctx.cache["draft_store"] = DraftStore(tmp_path / "drafts", ident)
    return ctx


def test_a_resumed_run_drafts_only_what_the_store_lacks(tmp_path):
    two = [SCENARIOS["cp-001"], SCENARIOS["eh-004"]]
    first = _stored_context(tmp_path, verbatim_note, {"model": "a"})
    done = notes.evaluate(first, two[:1])  # a run stopped after its first visit
    assert first.engines.drafter_.calls == 1
    assert len(list((tmp_path / "drafts").glob("*.json"))) == 1

    resumed = _stored_context(tmp_path, verbatim_note, {"model": "a"})
    result = notes.evaluate(resumed, two)
    assert resumed.engines.drafter_.calls == 1  # eh-004 only
    assert result.details["drafts"] == {"reused": 1, "drafted": 1}
    assert any("read from the drafts store" in n for n in result.notes)
    assert metric(result, "seconds_per_draft").n == 1  # the reused note is not timed
    cp = result.details["tables"]["visits"]["rows"][0]
    assert cp[:-1] == done.details["tables"]["visits"]["rows"][0][:-1]

    # another model, prompt, setting or code: nothing is reused
    other = _stored_context(tmp_path, verbatim_note, {"model": "b"})
    notes.evaluate(other, two)
    assert other.engines.drafter_.calls == 2
    assert len(list((tmp_path / "drafts").glob("*.json"))) == 4


def test_a_damaged_kept_draft_is_drafted_again(tmp_path, caplog):
    first = _stored_context(tmp_path, verbatim_note, {"model": "a"})
    notes.evaluate(first, [SCENARIO])
    (kept,) = (tmp_path / "drafts").glob("*.json")
    kept.write_text(kept.read_text()[:200])  # cut short
    again = _stored_context(tmp_path, verbatim_note, {"model": "a"})
    result = notes.evaluate(again, [SCENARIO])
    assert again.engines.drafter_.calls == 1
    assert result.details["drafts"] == {"reused": 0, "drafted": 1}
    assert "kept draft" in caplog.text and "not used" in caplog.text
    assert json.loads(kept.read_text())["item"] == SCENARIO.id  # rewritten whole
    assert SCENARIO.turns[0].text not in caplog.text


def test_kept_drafts_hold_the_redacted_note_and_no_mapping(tmp_path):
    ctx = _stored_context(tmp_path, verbatim_note, {"model": "a"})
    notes.evaluate(ctx, [SCENARIO])
    (kept,) = (tmp_path / "drafts").glob("*.json")
    text = kept.read_text()
    record = json.loads(text)
    assert set(record) >= {"key", "identity", "item", "seconds", "machine", "note"}
    assert "[PERSON_1]" in text
    names = [i.text for i in SCENARIO.gold.identifiers if i.type == "PERSON"]
    assert names and not any(name in text for name in names)


def test_the_code_hash_changes_with_any_file_of_the_service(tmp_path):
    from eval.draft_store import code_sha256

    (tmp_path / "assistant").mkdir()
    (tmp_path / "assistant" / "prompts").mkdir()
    (tmp_path / "assistant" / "draft.py").write_text("x = 1\n")
    before = code_sha256(tmp_path)
    assert code_sha256(tmp_path) == before
    (tmp_path / "assistant" / "prompts" / "new.md").write_text("a rule")
    assert code_sha256(tmp_path) != before


# --- the real model ------------------------------------------------------------------------
@pytest.mark.models
@pytest.mark.slow
def test_quick_notes_suite_with_the_test_model(engines, tmp_path):
    def context_() -> EvalContext:
        ctx = EvalContext(
            "test", True, 0, tmp_path, engines.settings, _engines_factory=lambda: engines
        )
        ctx.cache["resamples"] = 200
        ctx.cache["drafts_dir"] = tmp_path / "drafts"
        return ctx

    result = notes.run(context_())
    assert result.suite == "notes" and result.suite_version == notes.SUITE_VERSION
    assert len(result.details["scenarios"]) == 2
    names = {m.name for m in result.metrics}
    assert {"draft_failures", "seconds_per_draft"} <= names
    ok = [r for r in result.details["tables"]["visits"]["rows"] if r[4] is None]
    if ok:  # SmolLM2's notes are not useful, but they are scored
        assert "unsupported_share" in names and "red_flag_claims_without_evidence" in names
    if PRIMOCK is not None:
        assert len(result.details["primock"]) == 1 and "primock57" in result.dataset

    # scored again from the drafts store (--drafts): the same notes, none drafted again
    rows = result.details["tables"]["visits"]["rows"]
    with_note, failed = sum(r[4] is None for r in rows), sum(r[4] is not None for r in rows)
    kept = sorted((tmp_path / "drafts").glob("*.json"))
    assert len(kept) == with_note  # failures are not kept: they are tried again
    record = json.loads(kept[0].read_text())
    assert record["identity"]["model"]["sha256"] == engines.models.llm.sha256
    again = notes.run(context_())
    assert again.details["drafts"] == {"reused": with_note, "drafted": failed}
    assert again.details["tables"]["visits"]["rows"][0][:-1] == rows[0][:-1]  # but the seconds
    for m in result.metrics:
        if m.name != "seconds_per_draft" and not m.name.startswith("seconds_per_draft_"):
            assert metric(again, m.name).value == m.value, m.name


def test_nicknames_are_resolved_from_the_redacted_spans():
    from assistant.domain import EntitySpan, RedactedSegment, Segment, Transcript

    original = Transcript(
        segments=(Segment(id="s0001", start=0, end=1, text="Jess is at Nan's", speaker="Mum"),),
        language="en",
        duration_s=1,
        source="text",
    )
    redacted = RedactedTranscript(
        segments=(RedactedSegment(id="s0001", start=0, end=1, text="[PERSON_1] is at Nan's"),),
        language="en",
        duration_s=1,
        entities=(EntitySpan(segment_id="s0001", start=0, end=4, entity_type="PERSON",
                             placeholder="[PERSON_1]", score=1, recognizer="x"),),
        config_hash="x",
    )  # fmt: skip
    mapping = PseudonymMap(entries={"[PERSON_1]": "Jessica Pickering"})
    statements = [st("[PERSON_1] is at Nan's", ["s0001"])]
    without = matching.inverse_mapping(mapping)
    with_spans = matching.inverse_mapping(mapping, matching.redacted_surfaces(original, redacted))
    fact = "Jess is at Nan's"
    assert not matching.fact_coverage(fact, statements, inverse=without).recalled
    assert matching.fact_coverage(fact, statements, inverse=with_spans).recalled
