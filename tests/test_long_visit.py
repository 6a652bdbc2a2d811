"""The 60-minute visit the long-visit benchmark drafts: built from the scenarios, an hour long."""

from __future__ import annotations

from eval.datasets.long_visit import TARGET_WORDS, build_long_visit
from eval.datasets.scenarios import load_scenarios


def test_the_long_visit_is_an_hour_of_whole_scenarios_with_their_places_kept():
    visit = build_long_visit(load_scenarios())
    assert visit.words >= TARGET_WORDS
    assert 55 <= visit.transcript.duration_s / 60 <= 75
    segments = visit.transcript.segments
    assert [s.id for s in segments] == [f"s{i:04d}" for i in range(1, len(segments) + 1)]
    for part in visit.parts:  # each part's turns sit, in order, where the part says
        turns = [t for t in part.scenario.turns if t.text.strip()]
        here = segments[part.first_segment : part.first_segment + part.segments]
        assert [(s.speaker, s.text) for s in here] == [(t.speaker, t.text.strip()) for t in turns]
    assert sum(p.segments for p in visit.parts) == len(segments)
    starts = [s.start for s in segments]
    assert starts == sorted(starts)


def test_each_part_of_the_long_visit_is_scored_against_its_own_turns():
    """The benchmark scores every joined scenario inside the long transcript: a note keeping
    every segment cites every critical fact of every part, read at the part's own place."""
    from assistant.domain import (
        DraftNote,
        NoteSection,
        RedactedSegment,
        RedactedTranscript,
        Statement,
        StatementKind,
    )
    from eval.suites import notes
    from tests.test_eval_notes import PROVENANCE

    visit = build_long_visit(load_scenarios())
    t = visit.transcript
    redacted = RedactedTranscript(
        segments=tuple(
            RedactedSegment(id=s.id, start=s.start, end=s.end, text=s.text, speaker=s.speaker)
            for s in t.segments
        ),
        language=t.language,
        duration_s=t.duration_s,
        entities=(),
        config_hash="none",
    )
    first = visit.parts[0]
    dropped = {s.id for s in redacted.segments[first.first_segment : first.segments]}
    all_but_first = DraftNote(
        sections=(
            NoteSection(
                key="all",
                title="All",
                statements=tuple(
                    Statement(
                        text=s.text,
                        kind=StatementKind.REPORTED,
                        speaker=s.speaker,
                        evidence=(s.id,),
                    )
                    for s in redacted.segments
                    if s.id not in dropped
                ),  # fmt: skip
            ),
        ),
        provenance=PROVENANCE,
    )
    for i, part in enumerate(visit.parts[:3]):
        drafted = notes.Drafted(part.scenario.id, t, redacted, None, all_but_first, None, 0.0)
        scored = notes.score_scenario(part.scenario, drafted, first_segment=part.first_segment)
        assert scored.cited and all(scored.cited) is (i > 0)  # the first part's turns are gone
        assert any(scored.cited) is (i > 0)
