"""The notes suite from audio (``--from-audio N``): how a transcript made from a rendered
scenario is lined up with its turns, scored and set beside the typed scenario, and one short
scenario through the whole chain on the test profile (``models``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant.domain import (
    Diarisation,
    ModelRef,
    PseudonymMap,
    RedactedSegment,
    RedactedTranscript,
    Segment,
    Statement,
    StatementKind,
    Transcript,
    Word,
)
from eval.core import EvalContext
from eval.datasets import speech
from eval.datasets.scenarios import Scenario, load_scenarios
from eval.scoring import matching
from eval.suites.notes import from_audio, scenario_transcript, score_scenario
from eval.suites.notes.drafting import Drafted
from eval.suites.notes.from_audio import AudioVisit, Pair, Spoken, align, audio_metrics
from tests.test_eval_notes import note

SCENARIOS = {s.id: s for s in load_scenarios()}


def first_turns(s: Scenario, k: int) -> Scenario:
    """``s`` cut to its first ``k`` turns, with the gold those turns hold (no actions)."""
    kept = s.turns[:k]
    child = " ".join(t.text for t in kept if t.speaker in s.child_speakers)
    gold = replace(
        s.gold,
        facts=tuple(f for f in s.gold.facts if f.turns and max(f.turns) < k),
        child_words=tuple(w for w in s.gold.child_words if w in child),
        actions=(),
        opinions=(),
    )
    return replace(s, turns=kept, gold=gold)


# eh-001's first 10 turns: Practitioner, Dad and Child (turns 7 and 9); critical fact in turn 3
VISIT = first_turns(SCENARIOS["eh-001"], 10)
REFERENCE = [(t.speaker, 10.0 * i, 10.0 * i + 8.0) for i, t in enumerate(VISIT.turns)]


def spoken_words(text: str, start: float, end: float) -> tuple[Word, ...]:
    words = text.split()
    step = (end - start) / len(words)
    return tuple(
        Word(start=start + i * step, end=start + (i + 1) * step, text=w, probability=0.9)
        for i, w in enumerate(words)
    )


def heard() -> Transcript:
    """What speech recognition and separation might make of VISIT: one segment a turn, but
    turn 3 split in two, and the child merged with Dad (labelled Parent)."""
    label = {"Practitioner": "Social worker", "Dad": "Parent", "Child": "Parent"}
    segments = []
    for i, t in enumerate(VISIT.turns):
        start, end = REFERENCE[i][1], REFERENCE[i][2]
        parts = [t.text]
        if i == 3:
            cut = t.text.index(" He's been")
            parts = [t.text[:cut], t.text[cut + 1 :]]
        for k, text in enumerate(parts):
            a = start + k * (end - start) / len(parts)
            b = start + (k + 1) * (end - start) / len(parts)
            segments.append(
                Segment(
                    id=f"a{len(segments) + 1:03d}",
                    start=a,
                    end=b,
                    text=text,
                    speaker=label[t.speaker],
                    words=spoken_words(text, a, b),
                )
            )
    return Transcript(
        segments=tuple(segments),
        language="en",
        duration_s=REFERENCE[-1][2],
        source="audio",
        diarisation=Diarisation(
            model=ModelRef(name="m", sha256="0" * 64),
            speakers=2,
            min_speakers=1,
            max_speakers=8,
            windows=40,
        ),
    )


def unredacted(key: str, transcript: Transcript, sections) -> Drafted:
    """A drafted visit whose redaction found nothing (the texts are kept as they are)."""
    redacted = RedactedTranscript(
        segments=tuple(
            RedactedSegment(id=s.id, start=s.start, end=s.end, text=s.text, speaker=s.speaker)
            for s in transcript.segments
        ),
        language="en",
        duration_s=transcript.duration_s,
        entities=(),
        config_hash="none",
    )
    return Drafted(key, transcript, redacted, PseudonymMap(entries={}), note(sections), None, 1.0)


def quote(seg, kind: str = "direct_quote") -> Statement:
    return Statement(
        text=seg.text, kind=StatementKind(kind), speaker=seg.speaker, evidence=(seg.id,)
    )


def text_side() -> Drafted:
    """The typed visit's note: the child's two turns in the child's section, Dad's turns (the
    critical fact's whole turn among them) in the parents' views."""
    t = scenario_transcript(VISIT)
    segs = t.segments
    return unredacted(
        "eh-001",
        t,
        {
            "child_voice": [quote(segs[7]), quote(segs[9])],
            "parent_carer_views": [quote(segs[i], "reported") for i in (1, 3, 5)],
        },
    )


def audio_side(t: Transcript) -> Drafted:
    """The note from audio: the drafter sorted by the labels it was given, so the child's
    section holds the child's two turns (said by "Parent") and the practitioner's question
    after the first; turn 3 is two statements, one a half."""
    by_id = {s.id: s for s in t.segments}
    turn_of = align(t, REFERENCE)
    seg = {i: [by_id[s] for s, k in turn_of.items() if k == i] for i in range(len(VISIT.turns))}
    return unredacted(
        "eh-001@audio",
        t,
        {
            "child_voice": [quote(seg[7][0]), quote(seg[8][0]), quote(seg[9][0])],
            "parent_carer_views": [quote(s, "reported") for i in (1, 3, 5) for s in seg[i]],
        },
    )


def tiny_pair(*, audio_error: str | None = None) -> Pair:
    t = heard()
    drafted = audio_side(t)
    if audio_error:
        drafted = replace(drafted, note=None, error=audio_error)
    spoken = Spoken(VISIT, Path("/nonexistent.wav"), REFERENCE, REFERENCE[-1][2], "0" * 64)
    visit = AudioVisit(spoken, drafted, align(t, REFERENCE), {"transcribing": 2.0})
    text = score_scenario(VISIT, text_side())
    audio = score_scenario(VISIT, drafted, turn_of=visit.turn_of)
    return Pair(VISIT, text, audio, visit)


# --- lining up and scoring ---------------------------------------------------------------------
def test_segments_go_to_the_turn_most_of_their_words_were_spoken_in():
    reference = [("A", 0.0, 4.0), ("B", 4.4, 8.0), ("A", 8.4, 10.0)]

    def seg(i: int, words: list[tuple[float, float]], start=0.0, end=0.0) -> Segment:
        return Segment(
            id=f"s{i}", start=start, end=end, text="x " * len(words),
            words=tuple(Word(start=a, end=b, text="x", probability=1.0) for a, b in words),
        )  # fmt: skip

    t = Transcript(
        segments=(
            seg(1, [(0.0, 0.5), (0.5, 1.0), (3.9, 4.3)]),  # two words in A, one over the gap
            seg(2, [(3.8, 4.1), (4.6, 5.0), (5.0, 5.5)]),  # starts in A, mostly B
            seg(3, [(8.3, 8.34)]),  # in the gap, nearer A's second turn than B
            seg(4, [], start=8.5, end=9.5),  # no words: its own middle
            seg(5, [(1.0, 1.2), (4.5, 4.7)]),  # a tie: the earlier turn
        ),
        language="en",
        duration_s=10.0,
        source="audio",
    )
    assert align(t, reference) == {"s1": 0, "s2": 1, "s3": 2, "s4": 2, "s5": 0}
    assert align(t, []) == {}


def test_a_turn_in_several_segments_is_cited_by_a_statement_carrying_the_fact():
    fact = "Mum said the bus changed and Osian had a meltdown"
    first = RedactedSegment(id="a1", start=0, end=1, text="The bus changed.", speaker="Parent")
    second = RedactedSegment(
        id="a2", start=1, end=2, text="So he had a meltdown, Osian did.", speaker="Parent"
    )
    whole = Statement(text=f"{first.text} {second.text}", speaker="Parent", evidence=("a1", "a2"))
    half = Statement(text=second.text, speaker="Parent", evidence=("a2",))
    turn = [[first, second]]
    assert matching.fact_cited_turns(fact, turn, [whole])
    assert not matching.fact_cited_turns(fact, turn, [half])  # what the turn said is split
    assert not matching.fact_cited_turns(fact, [[]], [whole])  # nothing of the turn was heard
    assert not matching.fact_cited_turns(fact, [], [whole])
    # a turn of one segment is read as fact_cited reads it
    for statements in ([whole], [half], []):
        for segs in ([first], [second]):
            assert matching.fact_cited_turns(fact, [segs], statements) == matching.fact_cited(
                fact, segs, statements
            )


def test_the_childs_section_is_judged_by_who_spoke_not_by_the_label():
    p = tiny_pair()
    # the child's turns carry "Parent" from the separation, yet count as the child's words
    placed = [g for k, g in p.audio.placed if k == "child_voice"]
    assert placed == [frozenset({"child"}), frozenset({"professional"}), frozenset({"child"})]
    assert from_audio._child_section(p.audio) == (2, 3)
    assert from_audio._child_section(p.text) == (2, 2)
    # the child's words reached the child's section in both
    assert from_audio._child_words_placed(p.audio) == (2, 2)
    # the critical fact of turn 3 is recalled by its whole turn, not by either half
    assert from_audio._critical(p.text) == (1, 1) and from_audio._critical(p.audio) == (0, 1)
    # attribution by role: "Parent" is right for Dad's turns and wrong for the child's
    correct, counted = p.audio.attribution
    assert (correct, counted) == (5, 7)  # of 7 statements, the two child turns are wrong


def test_audio_figures_pair_each_scenario_with_its_text_and_publish_the_gap():
    ok, failed = tiny_pair(), tiny_pair(audio_error="RedactionBlocked")
    failed = replace(failed, scenario=replace(VISIT, id="eh-001b"))
    metrics = {m.name: m for m in audio_metrics([ok, failed], seed=0, resamples=50)}
    crit = metrics["audio_critical_fact_recall"]
    assert crit.value == 0.0 and crit.groups["text"].value == 1.0 and crit.n == 1
    gap = metrics["audio_critical_fact_recall_gap"]
    assert gap.value == pytest.approx(-1.0) and gap.goal == -0.05 and gap.meets_goal is False
    child = metrics["audio_child_section_child_words"]
    assert child.value == pytest.approx(2 / 3) and child.goal == 0.9 and not child.meets_goal
    assert metrics["audio_child_section_child_words_gap"].value == pytest.approx(2 / 3 - 1)
    assert metrics["audio_child_words_in_child_section"].value == 1.0
    assert "audio_action_recall" not in metrics  # no gold action in these turns
    assert metrics["audio_speaker_count_exact"].value == 0.0
    assert metrics["audio_speaker_count_error"].value == 1.0
    child_words = sum(len(t.text.split()) for t in VISIT.turns if t.speaker == "Child")
    all_words = sum(len(t.text.split()) for t in VISIT.turns)
    assert metrics["audio_words_right_speaker"].value == pytest.approx(
        (all_words - child_words) / all_words
    )
    assert metrics["audio_failures"].value == 0.5  # the failed one is left out of the pairs

    table = from_audio.tables([ok, failed])["from_audio"]
    col = table["columns"].index
    first, second, total = table["rows"]
    assert first[0] == "eh-001" and first[col("found")] == 2 and first[col("speakers")] == 3
    assert first[col("critical facts text")] == "1/1" and first[col("gap")] == -1.0
    assert second[col("error")] == "RedactionBlocked" and second[col("gap")] is None
    assert total[0] == "total (1 of 2 with both notes)"
    assert total[col("critical facts text")] == "1/1"  # the failed scenario left out
    missed = from_audio.tables([ok])["from_audio_missed_critical_facts"]["rows"]
    assert [m[0] for m in missed] == ["eh-001"]


def test_the_option_is_checked_and_recorded():
    from assistant.cli import _parser
    from eval import harness
    from eval.card import results_section

    args = _parser().parse_args(["eval", "run", "--suite", "notes", "--from-audio", "3",
                                 "--out", "x"])  # fmt: skip
    assert args.from_audio == 3
    for bad in ("0", "-1", "two"):
        with pytest.raises(SystemExit):
            _parser().parse_args(["eval", "run", "--suite", "notes", "--from-audio", bad,
                                  "--out", "x"])  # fmt: skip
    with pytest.raises(ValueError, match="from_audio"):
        harness._cache(None, None, 0)
    assert harness._cache(None, None, 2)["from_audio"] == 2
    results = {"invocation": {"suite": "notes", "from_audio": 4}, "provenance": {}}
    assert "4 of the scenarios also rendered" in results_section(results)
    assert "from audio" not in results_section({"invocation": {}, "provenance": {}})


def test_help_documents_the_option(capsys):
    from assistant.cli import _parser

    with pytest.raises(SystemExit):
        _parser().parse_args(["eval", "run", "--help"])
    assert "--from-audio N" in capsys.readouterr().out


# --- the real chain ------------------------------------------------------------------------------
@pytest.mark.models
@pytest.mark.slow
@pytest.mark.skipif(not speech.espeak_available(), reason="espeak-ng/sox not installed")
def test_a_short_rendered_scenario_runs_through_the_whole_chain(engines, tmp_path):
    """Eight turns of eh-001 (about 45 s of speech), spoken, transcribed, separated, redacted
    and drafted on the test profile, then scored beside the typed turns."""
    visit = first_turns(SCENARIOS["eh-001"], 8)
    ctx = EvalContext("test", True, 0, tmp_path, engines.settings, _engines_factory=lambda: engines)
    metrics, details, notes, (p,) = from_audio.from_audio(ctx, [visit], seed=0, resamples=50)

    v = p.visit
    assert v.spoken.path.is_file() and v.spoken.path.parent.name == "visits"
    again = from_audio.spoken_visit(visit)  # read back from the cache, not written again
    assert again.path == v.spoken.path and again.sha256 == v.spoken.sha256
    assert v.drafted.error is None and v.drafted.note is not None
    t = v.transcript
    assert t.source == "audio" and t.diarisation is not None and v.found_speakers
    assert all(seg.speaker for seg in t.segments) and t.speakers
    assert set(v.turn_of) == {seg.id for seg in t.segments}
    order = [v.turn_of[seg.id] for seg in t.segments]
    assert order == sorted(order) and len(set(order)) >= 6  # in turn order, most turns heard
    wer = from_audio.visit_wer(v)
    assert wer is not None and wer < 0.5
    # the chain's redaction ran: Dad's name (turns 0 and 4) is not in what was drafted from
    assert v.drafted.redacted is not None
    assert not any("Ryan" in seg.text for seg in v.drafted.redacted.segments)
    assert {"transcribing", "diarising", "redacting", "drafting"} <= set(v.timings)

    names = {m.name for m in metrics}
    assert {"audio_critical_fact_recall", "audio_critical_fact_recall_gap",
            "audio_note_length_share", "audio_speaker_count_exact",
            "audio_failures"} <= names  # fmt: skip
    assert p.text.ok and p.audio.ok
    assert details["from_audio"]["scenarios"] == ["eh-001"]
    assert details["from_audio"]["renders"]["eh-001"] == v.spoken.sha256
    rows = details["tables"]["from_audio"]["rows"]
    assert len(rows) == 2 and rows[0][0] == "eh-001" and rows[1][0].startswith("total")
    assert any("espeak-ng" in n for n in notes)
