"""A 60-minute visit transcript for the long-visit drafting benchmark and tests.

No single scenario is an hour long (the longest, cp-002, is about 3,000 words), and an hour of
new gold-annotated dialogue is more than the corpus needs for anything but this measurement. So
the long visit is built from the scenarios themselves: their turns joined end to end, in id
order, until the transcript holds :data:`TARGET_WORDS` words (about an hour at the
:data:`WORDS_PER_MINUTE` of conversational speech). Each part keeps its own gold facts and the
place in the long transcript where it starts, so recall can be read by position: a drafter that
loses the middle or the end of a long visit shows it. The joined visits are different families,
which a real visit is not; what it measures is how drafting scales with length (time, chunks,
prompt tokens read) and whether content from every part of an hour survives into the note.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.domain import Transcript
from assistant.transcription.files import parse_json
from eval.datasets.scenarios import Scenario

TARGET_WORDS = 9_000
WORDS_PER_MINUTE = 150


@dataclass(frozen=True)
class Part:
    scenario: Scenario
    first_segment: int
    """Index in the long transcript of the part's first segment."""
    segments: int


@dataclass(frozen=True)
class LongVisit:
    transcript: Transcript
    parts: tuple[Part, ...]

    @property
    def words(self) -> int:
        return sum(len(s.text.split()) for s in self.transcript.segments)


def build_long_visit(
    scenarios: Sequence[Scenario], *, target_words: int = TARGET_WORDS
) -> LongVisit:
    """Whole scenarios, in id order, until ``target_words`` is reached (the last one whole)."""
    items: list[dict[str, object]] = []
    parts: list[Part] = []
    words = 0
    for scenario in sorted(scenarios, key=lambda s: s.id):
        if words >= target_words:
            break
        turns = [t for t in scenario.turns if t.text.strip()]
        parts.append(Part(scenario, len(items), len(turns)))
        for turn in turns:
            n = len(turn.text.split())
            start = words * 60 / WORDS_PER_MINUTE
            end = (words + n) * 60 / WORDS_PER_MINUTE
            items.append({"speaker": turn.speaker, "text": turn.text, "start": start, "end": end})
            words += n
    if words < target_words:
        raise ValueError(f"the scenarios hold {words} words, fewer than {target_words}")
    segments = parse_json(json.dumps({"segments": items}))
    transcript = Transcript(
        segments=tuple(segments), language="en", duration_s=segments[-1].end, source="text"
    )
    return LongVisit(transcript, tuple(parts))
