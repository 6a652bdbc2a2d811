"""The 60-minute visit the long-visit benchmark drafts: built from the scenarios, an hour long."""

from __future__ import annotations

from eval.long_visit import TARGET_WORDS, build_long_visit
from eval.scenarios import load_scenarios


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
