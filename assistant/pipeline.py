"""Chains the stages: audio -> Transcript -> RedactedTranscript -> DraftNote.

``Engines`` holds the loaded models (loaded once, by path, after verification). ``run_stages``
is the pure chain used by ``caseassist process`` and by the job worker; it knows nothing of the
web or the database. Speech recognition and the LLM share one compute lock, so they never run
at the same time on the same cores (two CPU-bound libraries fighting over 2 cores collapse the
LLM from ~12 tok/s to under 1).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.audio import validate as audio_mod
from assistant.domain import (
    DraftNote,
    DraftReview,
    PossibleOmission,
    PseudonymMap,
    RedactedTranscript,
    RemovedClaim,
    Transcript,
)
from assistant.errors import RedactionBlocked, SilentRecording
from assistant.model_store.store import ResolvedModels
from assistant.settings import Settings

log = logging.getLogger(__name__)

StageCallback = Callable[[str, float], None]  # (stage, progress 0..1)


@dataclass
class Engines:
    """Every heavy object the pipeline needs, loaded once per process."""

    models: ResolvedModels
    transcriber: object  # assistant.transcription.whisper.Transcriber
    redactor: object  # assistant.redaction.redactor.Redactor
    llm: object  # llama_cpp.Llama
    settings: Settings
    compute_lock: threading.Lock = field(default_factory=threading.Lock)
    _drafters: dict = field(default_factory=dict)

    @classmethod
    def load(cls, settings: Settings, models: ResolvedModels) -> Engines:
        from assistant.drafting.llm import load_llm
        from assistant.redaction.redactor import Redactor, build_analyzer
        from assistant.transcription.whisper import TranscribeOptions, Transcriber, load_whisper

        t0 = time.perf_counter()
        whisper = load_whisper(
            models.asr_path,
            device=settings.device,
            compute_type=settings.compute_type,
            cpu_threads=settings.asr_threads,
        )
        transcriber = Transcriber(
            whisper,
            model_ref=models.asr,
            options=TranscribeOptions(language=settings.language, beam_size=settings.beam_size),
        )
        config_dir = settings.redaction_config_dir
        redactor = Redactor(
            build_analyzer(spacy_model_path=models.nlp_path, config_dir=config_dir),
            config_dir=config_dir,
        )
        llm = load_llm(
            models.llm_path,
            n_ctx=settings.llm_n_ctx,
            n_threads=settings.llm_threads,
            seed=settings.seed,
            n_gpu_layers=settings.llm_gpu_layers,
            flash_attn=settings.llm_flash_attn,
        )
        log.info("engines loaded in %.1fs profile=%s", time.perf_counter() - t0, settings.profile)
        return cls(
            models=models, transcriber=transcriber, redactor=redactor, llm=llm, settings=settings
        )

    def drafter(self, template: str):
        from assistant.drafting.drafter import Drafter
        from assistant.drafting.templates import load_template

        if template not in self._drafters:
            self._drafters[template] = Drafter(
                self.llm,
                load_template(template, root=self.settings.prompts_dir),
                model=self.models.llm,
                max_tokens=self.settings.llm_max_tokens,
                seed=self.settings.seed,
                chunk_tokens=self.settings.llm_chunk_tokens,
            )
        return self._drafters[template]


@dataclass(frozen=True)
class StageTiming:
    wall_s: float
    rtf: float | None  # wall time / audio duration; None when there was no audio

    def as_dict(self) -> dict:
        return {
            "wall_s": round(self.wall_s, 3),
            "rtf": None if self.rtf is None else round(self.rtf, 4),
        }


# --- the stages -------------------------------------------------------------------------------
def transcribe_audio(
    engines: Engines,
    path: Path,
    *,
    language: str | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> Transcript:
    pcm = audio_mod.load_pcm16k(path)
    if not audio_mod.has_speech(pcm):
        raise SilentRecording("No speech was detected in the recording.")
    with engines.compute_lock:
        transcript = engines.transcriber.transcribe(pcm, language=language, progress=on_progress)
    if not transcript.segments:
        raise SilentRecording("No speech was detected in the recording.")
    return transcript


def redact_transcript(
    engines: Engines, transcript: Transcript
) -> tuple[RedactedTranscript, PseudonymMap]:
    from assistant.redaction.redactor import residual_identifiers

    redacted, mapping = engines.redactor.redact(transcript)
    findings = residual_identifiers(redacted, mapping)
    if findings:
        raise RedactionBlocked(
            "Drafting was blocked: after redaction the transcript still contains text that "
            f"looks like an identifier ({', '.join(sorted(set(findings)))}). Review the "
            "redacted transcript before drafting."
        )
    return redacted, mapping


def draft_note(engines: Engines, redacted: RedactedTranscript, *, template: str) -> DraftNote:
    drafter = engines.drafter(template)
    with engines.compute_lock:
        note = drafter.draft(redacted)
    return review_note(note, redacted)


def review_note(note: DraftNote, redacted: RedactedTranscript) -> DraftNote:
    """Check the draft in code: quotes restored to the speaker's exact words (or no longer
    shown as quotes) and speakers corrected from the cited segments, then every statement
    checked against its cited segments (unsupported ones are flagged, not shown as fact),
    red-flag claims without that category's language in their evidence removed, and red-flag
    categories the note leaves out surfaced."""
    from assistant.review.repair import repair_note
    from assistant.review.safeguarding import default_lexicon, gate_red_flags, possible_omissions
    from assistant.review.verify import verify_note

    lexicon = default_lexicon()
    note, repairs = repair_note(note, redacted)
    note, verification = verify_note(note, redacted)
    note, gating = gate_red_flags(note, redacted, lexicon)
    omissions = possible_omissions(note, redacted, lexicon)
    review = DraftReview(
        verification=verification.summary(),
        gating=gating.summary(),
        repairs=repairs.summary(),
        removed_claims=tuple(
            RemovedClaim(section=r.section, categories=r.categories, statement=r.statement)
            for r in gating.practitioner_view
        ),
        possible_omissions=tuple(
            PossibleOmission(category=o.category, label=o.label, segment_ids=o.segment_ids)
            for o in omissions
        ),
    )
    log.info(
        "draft reviewed repairs=%s verification=%s gating=%s omissions=%d",
        repairs.summary(),
        verification.summary(),
        gating.summary(),
        len(omissions),
    )
    return note.model_copy(update={"review": review})


@dataclass(frozen=True)
class PipelineResult:
    transcript: Transcript
    redacted: RedactedTranscript
    mapping: PseudonymMap
    note: DraftNote
    timings: dict[str, StageTiming]


def run_stages(
    engines: Engines,
    *,
    template: str,
    audio_path: Path | None = None,
    transcript: Transcript | None = None,
    language: str | None = None,
    on_stage: StageCallback | None = None,
) -> PipelineResult:
    """Run the whole chain in memory (``caseassist process``). Give audio or a transcript."""
    from assistant.drafting.templates import load_template

    load_template(template, root=engines.settings.prompts_dir)  # unknown: fail before any work
    timings: dict[str, StageTiming] = {}
    notify = on_stage or (lambda stage, p: None)
    if transcript is None:
        assert audio_path is not None
        notify("transcribing", 0.0)
        t0 = time.perf_counter()
        transcript = transcribe_audio(
            engines, audio_path, language=language, on_progress=lambda p: notify("transcribing", p)
        )
        timings["transcribing"] = stage_timing(t0, transcript.duration_s)
    notify("redacting", 0.0)
    t0 = time.perf_counter()
    redacted, mapping = redact_transcript(engines, transcript)
    timings["redacting"] = stage_timing(t0, transcript.duration_s)
    notify("drafting", 0.0)
    t0 = time.perf_counter()
    note = draft_note(engines, redacted, template=template)
    timings["drafting"] = stage_timing(t0, transcript.duration_s)
    return PipelineResult(transcript, redacted, mapping, note, timings)


def stage_timing(t0: float, duration_s: float) -> StageTiming:
    """Wall time since ``t0`` and its real-time factor against ``duration_s`` of audio."""
    wall = time.perf_counter() - t0
    return StageTiming(wall_s=wall, rtf=(wall / duration_s) if duration_s else None)
