"""The notes suite from audio (``caseassist eval run --suite notes --from-audio N``): scenarios
spoken aloud, run through the service's whole chain, scored beside the same scenarios typed.

* **Which.** ``N`` scenarios chosen as the diarisation suite chooses its rendered set
  (``pick_rendered``: every turn in English, no television, one visit type after another, lowest
  id first), so parents, carers and children of different ages are mixed.
* **The audio.** Each whole visit spoken with espeak-ng in its speakers' voices, every turn
  trimmed to its sound and 0.4 s apart (``eval.suites.diarisation.inputs.render``), written as a
  16 kHz WAV under ``var/cache/eval-speech/visits`` (git-ignored, reused by the next run; the
  turns are cached as the ASR suite caches them). The render's own turn times are the truth of
  who spoke when.
* **The run.** As an upload runs: the file probed (``assistant.audio.probing.probe``), then
  ``assistant.pipeline.run_chain`` with the profile's Whisper, speaker separation and role
  suggestions (when ``diarisation_enabled``), redaction and its residual check, drafting with
  ``default_template`` and the code review, in the upload's defaults (``language`` from the
  settings, no vocabulary of the recording's own). Nothing is corrected by hand: speakers
  keep the roles the rules suggested.
* **The scoring.** ``score_scenario``, as for the typed scenario, with each segment of the audio
  transcript given to the scenario turn in which most of its words were spoken (by the render's
  times; a word in a gap to the nearest turn). So the child's section is judged by who really
  spoke, not by the label the speaker separation gave, and a fact is cited when a statement
  cites the segments of the turns that say it.

Figures (``audio_*``; each one's value is from audio, its groups ``text`` and ``audio`` on the
same scenarios, and its comparison audio - text paired by scenario, with a bootstrap interval
that resamples scenarios and a Wilcoxon signed-rank test):

* **audio_critical_fact_recall**: critical gold facts recalled, pooled.
* **audio_child_section_child_words**: statements of the child's section (``child_voice``) that
  cite words the child said / all its statements, pooled (1 - ``child_voice_without_child_words``
  of the typed suite). Goal >= 90% from audio (issue 23).
* **audio_child_words_in_child_section**: gold child's words found word for word (normalised,
  names resolved) in the statements of the child's section: where the first figure says whose
  words the section holds, this one says whether the child's words reached it (a child merged
  with a parent by the speaker separation leaves the section empty, which the first cannot
  show).
* **audio_note_length_share**: words of the note / words of its redacted transcript, pooled.
* **audio_action_recall**: gold agreed actions found as a row with who, what and by when.
* **audio_<figure>_gap**: audio - text of each of those five as a figure of its own (the
  comparison's difference and interval); the critical-fact gap's goal is >= -5 points (issue
  23: from audio within 5 points of the same scenarios from text).
* **audio_speaker_count_exact** / **audio_speaker_count_error**: speakers found against the
  scenario's; **audio_words_right_speaker**: words whose speaker label is the one mapped to the
  scenario speaker talking then (best one-to-one mapping, as the diarisation suite scores).
* **audio_failures**: scenarios whose audio gave no note (the stage error is named in the
  table); a scenario without a note from audio or from text is left out of the paired figures.

Per scenario, the ``from_audio`` table gives each figure from text and from audio and the gap,
the speakers and roles found, the word error rate of the audio transcript against the script
and each stage's time; ``from_audio_missed_critical_facts`` lists the critical facts the text
note recalls and the audio note does not.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from assistant.domain import Transcript
from assistant.errors import CaseAssistError
from assistant.pipeline import StageHooks, StageRun, run_chain
from eval.core import Comparison, EvalContext, Metric
from eval.datasets import speech
from eval.datasets.scenarios import Scenario
from eval.scoring import matching
from eval.scoring.stats import group_metric, meets, paired_metric
from eval.suites.diarisation.inputs import pick_rendered, render, renderable
from eval.suites.diarisation.scoring import Turn, word_attribution
from eval.suites.notes.drafting import Drafted, draft, inverse, scenario_transcript
from eval.suites.notes.scoring import SECTION_SPEAKERS, Scored, score_scenario

VISITS_DIR = "visits"
"""Where the whole-visit renders go, inside the speech cache (``eval.datasets.speech``)."""
CHILD_SECTION = next(k for k, g in SECTION_SPEAKERS.items() if g == "child")
GAP_GOAL = -0.05
"""Issue 23: critical-fact recall from audio within 5 points of the same scenarios from text."""
CHILD_SECTION_GOAL = 0.90


# --- the audio -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spoken:
    """A scenario rendered whole: the WAV, where each turn is in it, and its length."""

    scenario: Scenario
    path: Path
    reference: list[Turn]
    duration_s: float
    sha256: str


def spoken_visit(scenario: Scenario) -> Spoken:
    """``scenario``'s every turn spoken in its voices, as a WAV file (written once, then read
    back from the cache: the name carries the samples' hash)."""
    if not speech.espeak_available():
        raise RuntimeError("the notes suite from audio needs espeak-ng and sox to render speech")
    r = render(scenario, len(scenario.turns))
    folder = speech.cache_path(VISITS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{scenario.id}-{r.sha256[:16]}.wav"
    if not path.exists():
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.wav")
        try:
            speech.write_wav(tmp, r.pcm)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return Spoken(scenario, path, r.reference, len(r.pcm) / speech.SAMPLE_RATE, r.sha256)


# --- the run -------------------------------------------------------------------------------------
class _Kept(StageHooks):
    """Keeps the chain's outputs in memory, so that what a stage made before another failed is
    still there to report."""

    def __init__(self) -> None:
        self.run = StageRun()

    def load_saved(self) -> StageRun:
        return self.run


@dataclass(frozen=True)
class AudioVisit:
    """One scenario through the chain from its audio, with what scoring needs of the render."""

    spoken: Spoken
    drafted: Drafted
    turn_of: dict[str, int]
    """Segment id -> the turn most of its words were spoken in."""
    timings: dict[str, float] = field(default_factory=dict)
    """Stage -> wall seconds."""

    @property
    def transcript(self) -> Transcript:
        return self.drafted.transcript

    @property
    def true_speakers(self) -> int:
        return len(self.spoken.scenario.speakers)

    @property
    def found_speakers(self) -> int | None:
        d = self.transcript.diarisation
        return d.speakers if d is not None else None


def run_audio(ctx: EvalContext, scenario: Scenario) -> AudioVisit:
    """``scenario`` rendered and run through the chain as an upload is; a stage error (or a
    file the probe refuses) gives a visit with no note, named in ``drafted.error``."""
    from assistant.audio.probing import probe

    spoken = spoken_visit(scenario)
    settings = ctx.settings
    engines = ctx.engines
    hooks = _Kept()
    error = None
    t0 = time.perf_counter()
    try:
        info = probe(spoken.path, max_duration_s=settings.max_duration_s)
        run_chain(
            engines,
            hooks,
            template=settings.default_template,
            audio_path=spoken.path,
            language=settings.language,
            duration_s=info.duration_s,
        )
    except CaseAssistError as exc:  # the class name only: stage errors carry no transcript
        error = type(exc).__name__
    run = hooks.run
    transcript = run.transcript or Transcript(
        segments=(), language=settings.language, duration_s=spoken.duration_s, source="audio"
    )
    drafted = Drafted(
        key=f"{scenario.id}@audio",
        transcript=transcript,
        redacted=run.redacted,
        mapping=run.mapping,
        note=run.note,
        error=error,
        seconds=time.perf_counter() - t0,
    )
    return AudioVisit(
        spoken,
        drafted,
        align(transcript, spoken.reference),
        {stage: t.wall_s for stage, t in run.timings.items()},
    )


def align(transcript: Transcript, reference: Sequence[Turn]) -> dict[str, int]:
    """Segment id -> the index of the reference turn in which most of its words' middles fall
    (a word in a gap goes to the nearest turn; a segment without words by its own middle;
    ties to the earlier turn)."""
    if not reference:
        return {}

    def turn_at(t: float) -> int:
        return min(
            range(len(reference)),
            key=lambda i: (max(reference[i][1] - t, t - reference[i][2], 0.0), i),
        )

    out = {}
    for seg in transcript.segments:
        times = [(w.start + w.end) / 2 for w in seg.words] or [(seg.start + seg.end) / 2]
        votes: dict[int, int] = {}
        for t in times:
            i = turn_at(t)
            votes[i] = votes.get(i, 0) + 1
        out[seg.id] = min(votes, key=lambda i: (-votes[i], i))
    return out


# --- pairs and their measures --------------------------------------------------------------------
@dataclass(frozen=True)
class Pair:
    """One scenario scored from its typed transcript and from its audio."""

    scenario: Scenario
    text: Scored
    audio: Scored
    visit: AudioVisit

    @property
    def ok(self) -> bool:
        return self.text.ok and self.audio.ok


def pair(ctx: EvalContext, scenario: Scenario, visit: AudioVisit) -> Pair:
    """``visit`` scored, beside the typed scenario's note (drafted once per context: the
    typed run of the same suite has it already)."""
    text = score_scenario(scenario, draft(ctx, scenario.id, scenario_transcript(scenario)))
    audio = score_scenario(scenario, visit.drafted, turn_of=visit.turn_of)
    return Pair(scenario, text, audio, visit)


Measure = Callable[[Scored], tuple[float, float]]
"""A visit -> (numerator, denominator) of a pooled figure."""


def _critical(v: Scored) -> tuple[float, float]:
    return sum(r for _, c, r in v.facts if c), sum(c for _, c, _ in v.facts)


def _child_section(v: Scored) -> tuple[float, float]:
    placed = [g for k, g in v.placed if k == CHILD_SECTION]
    return sum("child" in g for g in placed), len(placed)


def _child_words_placed(v: Scored) -> tuple[float, float]:
    if not v.ok or not v.quotes:
        return 0, len(v.quotes)
    assert v.drafted.note is not None
    statements = [
        st for sec in v.drafted.note.sections if sec.key == CHILD_SECTION for st in sec.statements
    ]
    inv = inverse(v.drafted)
    kept = sum(matching.quote_kept(w, statements, inverse=inv).anywhere for w, _, _ in v.quotes)
    return kept, len(v.quotes)


def _length(v: Scored) -> tuple[float, float]:
    return v.note_words, v.transcript_words


def _actions(v: Scored) -> tuple[float, float]:
    return sum(whole for whole, _ in v.actions), len(v.actions)


@dataclass(frozen=True)
class Figure:
    name: str
    measure: Measure
    what: str
    higher_is_better: bool
    goal: float | None = None
    gap_goal: float | None = None


FIGURES = (
    Figure("critical_fact_recall", _critical, "critical gold facts recalled", True,
           gap_goal=GAP_GOAL),
    Figure("child_section_child_words", _child_section,
           f"statements of the child's section ({CHILD_SECTION}) citing words the child said",
           True, goal=CHILD_SECTION_GOAL),
    Figure("child_words_in_child_section", _child_words_placed,
           "gold child's words found word for word in the child's section", True),
    Figure("note_length_share", _length,
           "words of the note / words of its redacted transcript", False),
    Figure("action_recall", _actions,
           "gold agreed actions found as a row with who, what and by when", True),
)  # fmt: skip


def _rate(num: float, den: float) -> float | None:
    return num / den if den else None


# --- figures -------------------------------------------------------------------------------------
def audio_metrics(pairs: Sequence[Pair], *, seed: int, resamples: int) -> list[Metric]:
    """The ``audio_*`` figures of the module docstring."""
    both = [p for p in pairs if p.ok]
    out: list[Metric] = []
    items = [(p, c) for p in both for c in ("text", "audio")]

    for f in FIGURES:
        if not any(f.measure(p.text)[1] or f.measure(p.audio)[1] for p in both):
            continue
        base = paired_metric(
            items,
            partial(_side, f.measure, 0),
            lambda it: it[1],
            lambda it: it[0].scenario.id,
            reference="text",
            name=f"audio_{f.name}",
            description=f"From audio: {f.what}, pooled over the scenarios with a note from "
            "both; groups text and audio, compared paired by scenario.",
            higher_is_better=f.higher_is_better,
            unit="proportion",
            denominator_fn=partial(_side, f.measure, 1),
            seed=seed,
            resamples=resamples,
        )
        audio = base.groups.get("audio")
        value = audio.value if audio else None
        out.append(
            base.model_copy(
                update={
                    "value": value,
                    "n": audio.n if audio else 0,
                    "interval": audio.interval if audio else None,
                    "goal": f.goal,
                    "meets_goal": meets(value, f.goal, f.higher_is_better),
                }
            )
        )
        out.append(_gap(base, f, len(both)))
    visits = [p.visit for p in pairs]
    counted = [v for v in visits if v.found_speakers is not None]
    if counted:
        out.append(
            group_metric(
                counted, lambda v: float(v.found_speakers == v.true_speakers),
                name="audio_speaker_count_exact",
                description="From audio: scenarios whose speaker count the speaker separation "
                "found exactly.",
                higher_is_better=True, seed=seed, resamples=resamples,
            )
        )  # fmt: skip
        out.append(
            group_metric(
                counted, lambda v: float(abs((v.found_speakers or 0) - v.true_speakers)),
                name="audio_speaker_count_error",
                description="From audio: speakers found minus the scenario's, absolute.",
                higher_is_better=False, unit="speakers", seed=seed, resamples=resamples,
            )
        )  # fmt: skip
        scores = [words_right(v) for v in counted]
        out.append(
            group_metric(
                [s for s in scores if s[1]], lambda s: float(s[0]),
                denominator_fn=lambda s: float(s[1]),
                name="audio_words_right_speaker",
                description="From audio: words whose speaker label is the one mapped to the "
                "scenario speaker talking then (best one-to-one mapping), pooled.",
                higher_is_better=True, seed=seed, resamples=resamples,
            )
        )  # fmt: skip
    out.append(
        group_metric(
            pairs, lambda p: float(not p.audio.ok),
            name="audio_failures",
            description="From audio: scenarios with no note (a stage failed or the probe "
            "refused the file); left out of the paired figures.",
            higher_is_better=False, seed=seed, resamples=resamples,
        )
    )  # fmt: skip
    return out


def _side(measure: Measure, part: int, item: tuple[Pair, str]) -> float:
    """Numerator (``part`` 0) or denominator (1) of ``measure`` on one side of a pair."""
    p, condition = item
    return measure(p.text if condition == "text" else p.audio)[part]


def _gap(base: Metric, f: Figure, n: int) -> Metric:
    comparison: Comparison | None = next(
        (c for c in base.comparisons if c.reference == "text" and c.other == "audio"), None
    )
    value = comparison.difference if comparison else None
    return Metric(
        name=f"audio_{f.name}_gap",
        description=f"From audio minus from text: {f.what} (paired by scenario; interval from "
        "resampling scenarios)"
        + (
            f". Goal: no more than {-100 * f.gap_goal:.0f} points below text."
            if f.gap_goal is not None
            else "."
        ),
        higher_is_better=f.higher_is_better,
        unit="proportion",
        value=value,
        n=n,
        interval=comparison.difference_interval if comparison else None,
        goal=f.gap_goal,
        meets_goal=meets(value, f.gap_goal, f.higher_is_better),
    )


def words_right(v: AudioVisit) -> tuple[int, int]:
    """(words given the right speaker, words) of ``v``'s transcript against its render."""
    words = [
        ((w.start + w.end) / 2, seg.speaker or "")
        for seg in v.transcript.segments
        for w in seg.words
    ]
    if not words:
        return 0, 0
    score = word_attribution(v.spoken.reference, words)
    return score.right, score.words


# --- tables --------------------------------------------------------------------------------------
COLUMNS = [
    "scenario", "visit type", "audio s", "turns", "error", "speakers", "found", "roles found",
    "words right speaker", "WER", "critical facts text", "audio", "gap",
    "child's section text", "audio", "gap", "child's words there text", "audio", "gap",
    "length text", "audio", "gap",
    "action rows text", "audio", "gap", "transcribe s", "diarise s", "redact+draft s",
]  # fmt: skip


def _frac(num: float, den: float) -> str:
    return f"{num:g}/{den:g}"


def _cells(f: Figure, text: Scored, audio: Scored) -> list[Any]:
    t, a = f.measure(text), f.measure(audio)
    rt = _rate(*t) if text.ok else None
    ra = _rate(*a) if audio.ok else None
    gap = None if rt is None or ra is None else round(ra - rt, 3)
    if f.name == "note_length_share":
        return [
            None if rt is None else round(rt, 3),
            None if ra is None else round(ra, 3),
            gap,
        ]
    return [_frac(*t) if text.ok else None, _frac(*a) if audio.ok else None, gap]


def visit_wer(v: AudioVisit) -> float | None:
    from eval.scoring.wer import wer

    said = " ".join(t.text for t in v.spoken.scenario.turns)
    heard = " ".join(seg.text for seg in v.transcript.segments)
    return round(wer(said, heard), 3) if heard.strip() else None


def table_row(p: Pair) -> list[Any]:
    v = p.visit
    right, words = words_right(v)
    roles = ", ".join(sp.display for sp in v.transcript.speakers) or None
    cells: list[Any] = []
    for f in FIGURES:
        cells += _cells(f, p.text, p.audio)
    draft_s = v.timings.get("redacting", 0.0) + v.timings.get("drafting", 0.0)
    return [
        p.scenario.id, p.scenario.visit_type, round(v.spoken.duration_s, 1),
        len(p.scenario.turns), v.drafted.error, v.true_speakers, v.found_speakers, roles,
        _frac(right, words) if words else None, visit_wer(v), *cells,
        round(v.timings.get("transcribing", 0.0), 1), round(v.timings.get("diarising", 0.0), 1),
        round(draft_s, 1),
    ]  # fmt: skip


def total_row(pairs: Sequence[Pair]) -> list[Any]:
    """The pooled figures over the scenarios with a note from both, as the metrics give them."""
    both = [p for p in pairs if p.ok]
    cells: list[Any] = []
    for f in FIGURES:
        t = [sum(x) for x in zip(*(f.measure(p.text) for p in both), strict=True)] or [0, 0]
        a = [sum(x) for x in zip(*(f.measure(p.audio) for p in both), strict=True)] or [0, 0]
        rt, ra = _rate(*t), _rate(*a)
        gap = None if rt is None or ra is None else round(ra - rt, 3)
        if f.name == "note_length_share":
            cells += [None if rt is None else round(rt, 3), None if ra is None else round(ra, 3)]
        else:
            cells += [_frac(*t), _frac(*a)]
        cells.append(gap)
    visits = [p.visit for p in pairs]
    found = [v for v in visits if v.found_speakers is not None]
    right = [words_right(v) for v in visits]
    return [
        f"total ({len(both)} of {len(pairs)} with both notes)", None,
        round(sum(v.spoken.duration_s for v in visits), 1),
        sum(len(p.scenario.turns) for p in pairs),
        sum(v.drafted.error is not None for v in visits) or None,
        sum(v.true_speakers for v in visits),
        sum(v.found_speakers or 0 for v in found) if found else None, None,
        _frac(sum(r for r, _ in right), sum(w for _, w in right)), None, *cells,
        round(sum(v.timings.get("transcribing", 0.0) for v in visits), 1),
        round(sum(v.timings.get("diarising", 0.0) for v in visits), 1),
        round(sum(v.timings.get("redacting", 0.0) + v.timings.get("drafting", 0.0)
                  for v in visits), 1),
    ]  # fmt: skip


def tables(pairs: Sequence[Pair]) -> dict[str, Any]:
    return {
        "from_audio": {
            "note": "Each scenario from text and from audio, and the gap (audio - text): "
            "counts as found/all, note length as words of the note / words of its redacted "
            "transcript. Speakers: the scenario's, and how many the separation found; roles "
            "found: the labels it gave them. WER: the audio transcript against the script. "
            "The last row pools the scenarios with a note from both, as the audio_* figures do.",
            "columns": COLUMNS,
            "rows": [table_row(p) for p in pairs] + ([total_row(pairs)] if pairs else []),
        },
        "from_audio_missed_critical_facts": {
            "note": "Critical gold facts the note from text recalls and the note from audio "
            "does not.",
            "columns": ["scenario", "critical fact recalled from text, not from audio"],
            "rows": [
                [p.scenario.id, t]
                for p in pairs
                if p.ok
                for (t, c, rt), (_, _, ra) in zip(p.text.facts, p.audio.facts, strict=True)
                if c and rt and not ra
            ],
        },
    }


# --- the suite's part ----------------------------------------------------------------------------
def choose(scenarios: Sequence[Scenario], n: int) -> list[Scenario]:
    """The ``n`` scenarios to run from audio (fewer when fewer can be rendered)."""
    return pick_rendered(scenarios, n)


def from_audio(
    ctx: EvalContext, scenarios: Sequence[Scenario], *, seed: int, resamples: int
) -> tuple[list[Metric], dict[str, Any], list[str], list[Pair]]:
    """``scenarios`` (already chosen) from audio and from text: the metrics, the details to
    add to the suite's (its tables and the rendered files' hashes), and notes."""
    bad = [s.id for s in scenarios if not renderable(s)]
    if bad:
        raise ValueError(f"cannot be rendered (a turn not in English, or a television): {bad}")
    pairs = [pair(ctx, s, run_audio(ctx, s)) for s in scenarios]
    metrics = audio_metrics(pairs, seed=seed, resamples=resamples)
    audio_s = sum(p.visit.spoken.duration_s for p in pairs)
    details = {
        "from_audio": {
            "scenarios": [p.scenario.id for p in pairs],
            "renders": {p.scenario.id: p.visit.spoken.sha256 for p in pairs},
            "audio_s": round(audio_s, 1),
            "template": ctx.settings.default_template,
            "language": ctx.settings.language,
            "diarisation": ctx.engines.diariser is not None,
        },
        "tables": tables(pairs),
    }
    notes = [
        f"From audio: {len(pairs)} scenarios ({', '.join(p.scenario.id for p in pairs)}; "
        f"{audio_s / 60:.1f} minutes of espeak-ng speech) rendered whole and run as an upload "
        "is (probe, Whisper, speaker separation and roles, redaction, drafting, review); "
        "audio_* figures and the from_audio table set them beside the same scenarios from "
        "text. espeak-ng voices are formant synthesis, cleaner and more distinct than people "
        "in a living room: read the gap as a floor on what real recordings lose.",
        "From audio, each transcript segment counts as said by the scenario turn most of its "
        "words were spoken in (the render's times): the child's section is judged by who "
        "really spoke, whatever label the speaker separation gave.",
    ]
    if ctx.engines.diariser is None:
        notes.append(
            "Speaker separation is switched off (diarisation_enabled): the audio transcripts "
            "have no speakers, as an upload would have none."
        )
    return metrics, details, notes, pairs
