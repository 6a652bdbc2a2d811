"""Chains the stages: audio -> Transcript (speakers labelled) -> RedactedTranscript -> DraftNote.

``Engines`` holds the loaded models (loaded once, by path, after verification) and the
safeguarding lexicon the review reads. ``run_chain`` is the one stage chain: it runs speech
recognition, speaker separation (audio only, when ``diarisation_enabled``), redaction with its
residual check, then drafting and review, times each stage and
hands its output to ``StageHooks``. The job worker's hooks (``assistant.jobs.worker``) save each
stage to the database before the next starts and resume from what was saved; ``run_stages`` runs
the chain in memory for ``caseassist process``. Neither knows the web. Speech recognition and the
LLM share one compute lock, so they never run at the same time on the same cores (two CPU-bound
libraries fighting over 2 cores collapse the LLM from ~12 tok/s to under 1); so does the speaker
encoder.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from assistant.audio import AudioSource, has_speech, load_pcm16k
from assistant.domain import (
    DraftNote,
    PseudonymMap,
    RedactedTranscript,
    Transcript,
)
from assistant.errors import RedactionBlocked, SilentRecording, TooLittleSpeech
from assistant.model_store import ResolvedModels
from assistant.review import review_note  # also the pipeline's public name for the stage
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.diarisation import Diariser, EnrolledVoice
    from assistant.drafting.drafter import Drafter
    from assistant.redaction.redactor import Redactor
    from assistant.review import Lexicon
    from assistant.transcription.whisper import TranscribeOptions, Transcriber

log = logging.getLogger(__name__)

Stage = Literal["transcribing", "diarising", "redacting", "drafting"]
#: The stages in the order they run (also the job statuses while they run).
STAGES: tuple[Stage, ...] = ("transcribing", "diarising", "redacting", "drafting")
StageCallback = Callable[[str, float], None]  # (stage, progress 0..1)


@dataclass
class Engines:
    """Every heavy object the pipeline needs, loaded once per process."""

    models: ResolvedModels
    transcriber: Transcriber
    redactor: Redactor
    llm: Any  # drafting.llm.LazyLLM over llama_cpp.Llama (a fake in tests)
    settings: Settings
    diariser: Diariser | None = None  # None: speakers are not separated
    compute_lock: threading.Lock = field(default_factory=threading.Lock)
    _drafters: dict[str, Drafter] = field(default_factory=dict)
    _lexicon: Lexicon | None = field(default=None, init=False, repr=False)

    @classmethod
    def load(
        cls, settings: Settings, models: ResolvedModels, stages: Sequence[Stage] = STAGES
    ) -> Engines:
        """``stages``: load only what those need (a queue worker for speech recognition alone
        never loads the LLM); a stage not loaded for is never run on these engines."""
        from assistant.drafting.llm import LazyLLM, load_llm, load_vocab
        from assistant.drafting.templates import latest_ask_model
        from assistant.redaction.redactor import Redactor, build_analyzer

        t0 = time.perf_counter()
        none: Any = None  # what a stage not in ``stages`` would have used
        transcriber = load_transcriber(settings, models) if "transcribing" in stages else none
        config_dir = settings.redaction_config_dir
        redactor = none
        if "redacting" in stages:
            redactor = Redactor(
                build_analyzer(spacy_model_path=models.nlp_path, config_dir=config_dir),
                config_dir=config_dir,
            )
        llm = none
        if "drafting" in stages:
            path = models.llm_path
            llm = LazyLLM(
                lambda: load_llm(
                    path,
                    n_ctx=settings.llm_n_ctx,
                    n_threads=settings.llm_threads,
                    seed=settings.seed,
                    n_gpu_layers=settings.llm_gpu_layers,
                    flash_attn=settings.llm_flash_attn,
                ),
                n_ctx=settings.llm_n_ctx,
                vocab=lambda: load_vocab(path),
            )
            # The weights wait for the first draft that asks the model something; a template
            # that will (a council's own) has them loaded now, so start-up fails, not a job.
            asking = latest_ask_model(settings.prompts_dir)
            if asking:
                llm.load()
            else:
                llm.check()
            log.info("llm weights %s", "loaded" if asking else "deferred: no template asks")
        diarises = settings.diarisation_enabled and "diarising" in stages
        engines = cls(
            models=models,
            transcriber=transcriber,
            redactor=redactor,
            llm=llm,
            settings=settings,
            diariser=load_diariser(settings, models) if diarises else None,
        )
        if "drafting" in stages:
            engines.lexicon  # noqa: B018 - a broken lexicon stops start-up, not the first draft
        log.info("engines loaded in %.1fs profile=%s", time.perf_counter() - t0, settings.profile)
        return engines

    @property
    def lexicon(self) -> Lexicon:
        """The red-flag lexicon at ``settings.safeguarding_lexicon_path``, read once."""
        if self._lexicon is None:
            from assistant.review import load_lexicon

            self._lexicon = load_lexicon(self.settings.safeguarding_lexicon_path)
        return self._lexicon

    def drafter(self, template: str) -> Drafter:
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


def load_transcriber(settings: Settings, models: ResolvedModels) -> Transcriber:
    """Whisper from the verified pinned folder, decoding as ``transcribe_options`` says."""
    from assistant.transcription.whisper import Transcriber, load_whisper

    whisper = load_whisper(
        models.asr_path,
        device=settings.device,
        compute_type=settings.compute_type,
        cpu_threads=settings.asr_threads,
    )
    return Transcriber(whisper, model_ref=models.asr, options=transcribe_options(settings))


def transcribe_options(settings: Settings) -> TranscribeOptions:
    """The decoding settings and the council's vocabulary (``asr_vocabulary_path``; a broken
    file stops start-up)."""
    from assistant.transcription.vocabulary import load_vocabulary
    from assistant.transcription.whisper import TranscribeOptions

    path = settings.asr_vocabulary_path
    return TranscribeOptions(
        language=settings.language,
        beam_size=settings.beam_size,
        batch_size=settings.asr_batch_size,
        vocabulary_mode=settings.asr_vocabulary_mode,
        no_speech_threshold=settings.asr_no_speech_threshold,
        vocabulary_recheck_logprob=settings.asr_vocabulary_recheck_logprob,
        council_terms=load_vocabulary(path).terms if path is not None else (),
    )


def load_diariser(settings: Settings, models: ResolvedModels) -> Diariser:
    """The speaker separation, its encoder read from the verified pinned file."""
    from assistant.diarisation import DiarisationOptions, Diariser, load_encoder

    return Diariser(
        load_encoder(models.speaker_path, model_ref=models.speaker),
        DiarisationOptions(
            min_speakers=settings.diarisation_min_speakers,
            max_speakers=settings.diarisation_max_speakers,
            voice_threshold=settings.diarisation_voice_threshold,
        ),
    )


@dataclass
class SpeechEngines:
    """The speech stages alone (``caseassist transcribe``): no redaction, no LLM loaded."""

    transcriber: Transcriber
    diariser: Diariser | None = None
    compute_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, settings: Settings, models: ResolvedModels) -> SpeechEngines:
        return cls(
            transcriber=load_transcriber(settings, models),
            diariser=load_diariser(settings, models) if settings.diarisation_enabled else None,
        )


@dataclass(frozen=True)
class StageTiming:
    wall_s: float
    rtf: float | None  # wall time / audio duration; None when there was no audio

    def as_dict(self) -> dict[str, float | None]:
        return {
            "wall_s": round(self.wall_s, 3),
            "rtf": None if self.rtf is None else round(self.rtf, 4),
        }


def stage_timing(t0: float, duration_s: float) -> StageTiming:
    """Wall time since ``t0`` and its real-time factor against ``duration_s`` of audio."""
    wall = time.perf_counter() - t0
    return StageTiming(wall_s=wall, rtf=(wall / duration_s) if duration_s else None)


# --- the stages -------------------------------------------------------------------------------
def transcribe_audio(
    engines: Engines | SpeechEngines,
    path: AudioSource,
    *,
    language: str | None = None,
    on_progress: Callable[[float], None] | None = None,
    terms: Sequence[str] = (),
) -> Transcript:
    """``terms``: the recording's own vocabulary, given to Whisper before the council's."""
    pcm = load_pcm16k(path)
    if not has_speech(pcm):
        raise SilentRecording("No speech was detected in the recording.")
    extra = {"terms": tuple(terms)} if terms else {}
    with engines.compute_lock:
        transcript = engines.transcriber.transcribe(
            pcm, language=language, progress=on_progress, **extra
        )
    if not transcript.segments:
        raise SilentRecording("No speech was detected in the recording.")
    return transcript


def diarise_transcript(
    engines: Engines | SpeechEngines,
    path: AudioSource,
    transcript: Transcript,
    *,
    voice: EnrolledVoice | None = None,
) -> Transcript:
    """A speaker on every segment of ``transcript`` (of the recording at ``path``), segments
    split where the speaker changes, each speaker's role suggested from the words and the
    segments labelled with it (``Social worker``, ``Child`` …; ``S3`` while unknown). The audio
    is decoded again rather than kept from speech recognition, so that a job resumed after a
    restart needs nothing but the saved transcript. ``voice``: the recording owner's enrolled
    voice; the speaker it recognises is the social worker (``diarisation.voice`` says which, or
    that none was similar enough and the words decided)."""
    from assistant.diarisation import with_roles

    assert engines.diariser is not None
    model = engines.diariser.encoder.model_ref.sha256
    if voice is not None and voice.model_sha256 != model:
        log.info("the enrolled voice was made by another speaker model: not used")
        voice = None
    pcm = load_pcm16k(path)
    with engines.compute_lock:
        diarised = engines.diariser.diarise(
            pcm, transcript, voice=None if voice is None else voice.embedding
        )
    match = diarised.diarisation.voice if diarised.diarisation else None
    return with_roles(diarised, social_worker=match.label if match else None)


def sample_voice(diariser: Diariser, pcm: Any, *, lock: threading.Lock) -> tuple[Any, float]:
    """The voice in a practitioner's sample of their own speech (16 kHz mono ``pcm``) and its
    seconds of speech, after the checks every sample passes (the web page's, the API's and
    ``caseassist process --voice``): speech found, and at least ``MIN_SPEECH_S`` of it.
    ``lock``: the engines' compute lock, so that an enrolment never runs the encoder beside a
    job's stage (one call per model at a time)."""
    from assistant.audio import SAMPLE_RATE, speech_seconds
    from assistant.diarisation import MIN_SPEECH_S, voice_print

    # (a fraction of a second of audio is no speech; the VAD is not asked)
    speech_s = speech_seconds(pcm) if pcm.size >= SAMPLE_RATE // 2 else 0.0
    if speech_s < 0.5:
        raise SilentRecording("No speech was detected in the voice sample.")
    if speech_s < MIN_SPEECH_S:
        raise TooLittleSpeech(
            f"The sample holds {speech_s:.1f} seconds of speech; at least "
            f"{MIN_SPEECH_S:.0f} are needed. Record 10 to 60 seconds of your own voice, "
            "reading or talking."
        )
    with lock:
        found = voice_print(diariser, pcm)
    if found is None:  # the VAD found speech above, so this is a sample of stray sounds
        raise SilentRecording("No speech was detected in the voice sample.")
    return found.embedding, speech_s


def needs_diarising(engines: Engines | SpeechEngines, transcript: Transcript) -> bool:
    """An audio transcript not yet diarised, with speaker separation switched on."""
    return (
        engines.diariser is not None
        and transcript.source == "audio"
        and transcript.diarisation is None
    )


def transcribe_recording(
    engines: Engines | SpeechEngines,
    path: Path,
    *,
    language: str | None = None,
    terms: Sequence[str] = (),
    on_stage: StageCallback | None = None,
    voice: EnrolledVoice | None = None,
) -> tuple[Transcript, dict[str, StageTiming]]:
    """The service's transcription alone, as the chain does it: speech recognition, then
    speaker separation when it is switched on; each stage timed (``caseassist transcribe``)."""
    on_stage = on_stage or (lambda stage, p: None)
    timings: dict[str, StageTiming] = {}
    on_stage("transcribing", 0.0)
    t0 = time.perf_counter()
    transcript = transcribe_audio(
        engines,
        path,
        language=language,
        terms=terms,
        on_progress=lambda p: on_stage("transcribing", p),
    )
    timings["transcribing"] = stage_timing(t0, transcript.duration_s)
    if needs_diarising(engines, transcript):
        on_stage("diarising", 0.0)
        t0 = time.perf_counter()
        transcript = diarise_transcript(engines, path, transcript, voice=voice)
        timings["diarising"] = stage_timing(t0, transcript.duration_s)
    return transcript, timings


def redact_transcript(
    engines: Engines, transcript: Transcript
) -> tuple[RedactedTranscript, PseudonymMap]:
    """Pseudonymise, then refuse (``RedactionBlocked``) when anything still looks like an
    identifier: the one residual check before drafting, for the service and the CLI alike."""
    from assistant.redaction.redactor import residual_identifiers

    redacted, mapping = engines.redactor.redact(transcript)
    findings = residual_identifiers(redacted, mapping, getattr(engines.redactor, "rules", None))
    if findings:
        raise RedactionBlocked(
            "Drafting was blocked: after redaction the transcript still contains text that "
            f"looks like an identifier ({', '.join(sorted(set(findings)))}). Review the "
            "redacted transcript before drafting."
        )
    return redacted, mapping


def draft_note(
    engines: Engines,
    redacted: RedactedTranscript,
    *,
    template: str,
    lexicon: Lexicon | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> DraftNote:
    """Draft from the redacted transcript only, then review the draft (``review_note``)
    against ``lexicon`` (default: the one ``safeguarding_lexicon_path`` names).
    ``on_progress``: the share drafted (0..1), as the model answers."""
    drafter = engines.drafter(template)
    with engines.compute_lock:
        note = drafter.draft(redacted, on_progress=on_progress)
    return review_note(note, redacted, lexicon=lexicon or engines.lexicon)


# --- the chain --------------------------------------------------------------------------------
@dataclass
class StageRun:
    """One run of the chain: each stage's output so far (saved ones included) and the timing
    of every stage this run ran."""

    transcript: Transcript | None = None
    redacted: RedactedTranscript | None = None
    mapping: PseudonymMap | None = None  # None when the redaction was saved, not run
    note: DraftNote | None = None
    timings: dict[str, StageTiming] = field(default_factory=dict)


class StageHooks:
    """Where the chain keeps its work. These defaults keep everything in memory; the job
    worker's hooks save each stage to the database before the next starts."""

    def load_saved(self) -> StageRun:
        """Outputs an earlier, interrupted run saved: the chain skips those stages."""
        return StageRun()

    def begin(self, stage: Stage) -> None:
        """``stage`` is starting."""

    def progress(self, stage: Stage, fraction: float) -> None:
        """Progress within a stage that reports it (speech recognition), 0..1."""

    def save(self, stage: Stage, run: StageRun) -> None:
        """``stage`` finished: ``run`` holds its output and ``run.timings[stage]``."""

    def enrolled_voice(self) -> EnrolledVoice | None:
        """The recording owner's enrolled voice, read as speaker separation starts (None:
        they have not enrolled, and the roles come from the words)."""
        return None


def run_chain(
    engines: Engines,
    hooks: StageHooks,
    *,
    template: str,
    audio_path: AudioSource | None = None,
    language: str | None = None,
    duration_s: float | None = None,
    terms: Sequence[str] = (),
    only: Stage | None = None,
) -> StageRun:
    """Speech recognition (unless a transcript was saved), speaker separation (unless saved,
    switched off or the transcript is text), redaction and its residual check (unless a
    redacted transcript was saved), then drafting and review. Each stage is timed
    against ``duration_s`` of audio (default: the transcript's) and saved before the next
    begins; an error from a stage or a hook stops the chain. ``terms``: the recording's own
    vocabulary for speech recognition. ``only``: run that one stage if it is the one due, and
    stop (a queue worker runs one stage per task, ``assistant.jobs.queue``)."""
    run = hooks.load_saved()
    started: dict[Stage, float] = {}

    def begin(stage: Stage) -> None:
        hooks.begin(stage)
        started[stage] = time.perf_counter()

    def stops(stage: Stage) -> bool:
        """``only`` names another stage: ``stage`` (due now) is not this run's."""
        return only is not None and only != stage

    def done(stage: Stage, transcript: Transcript) -> None:
        audio_s = transcript.duration_s if duration_s is None else duration_s
        run.timings[stage] = stage_timing(started[stage], audio_s)
        hooks.save(stage, run)

    if run.transcript is None:
        if audio_path is None:
            raise TypeError("run_chain needs audio_path when no transcript was saved")
        if stops("transcribing"):
            return run
        begin("transcribing")
        run.transcript = transcribe_audio(
            engines,
            audio_path,
            language=language,
            on_progress=lambda p: hooks.progress("transcribing", p),
            terms=terms,
        )
        done("transcribing", run.transcript)
        if only is not None:
            return run
    if run.redacted is None and audio_path is not None and needs_diarising(engines, run.transcript):
        if stops("diarising"):
            return run
        begin("diarising")
        run.transcript = diarise_transcript(
            engines, audio_path, run.transcript, voice=hooks.enrolled_voice()
        )
        done("diarising", run.transcript)
        if only is not None:
            return run
    transcript = run.transcript
    if run.redacted is None:
        if stops("redacting"):
            return run
        begin("redacting")
        run.redacted, run.mapping = redact_transcript(engines, transcript)
        done("redacting", transcript)
        if only is not None:
            return run
    if stops("drafting"):
        return run
    begin("drafting")
    run.note = draft_note(
        engines,
        run.redacted,
        template=template,
        on_progress=lambda p: hooks.progress("drafting", p),
    )
    done("drafting", transcript)
    return run


@dataclass(frozen=True)
class PipelineResult:
    transcript: Transcript
    redacted: RedactedTranscript
    mapping: PseudonymMap
    note: DraftNote
    timings: dict[str, StageTiming]


class _InMemory(StageHooks):
    """``caseassist process``: a given transcript stands in for speech recognition; stage
    starts and progress go to ``on_stage``."""

    def __init__(
        self,
        transcript: Transcript | None,
        on_stage: StageCallback | None,
        voice: EnrolledVoice | None = None,
    ):
        self.transcript = transcript
        self.on_stage = on_stage or (lambda stage, p: None)
        self.voice = voice

    def enrolled_voice(self) -> EnrolledVoice | None:
        return self.voice

    def load_saved(self) -> StageRun:
        return StageRun(transcript=self.transcript)

    def begin(self, stage: Stage) -> None:
        self.on_stage(stage, 0.0)

    def progress(self, stage: Stage, fraction: float) -> None:
        self.on_stage(stage, fraction)


def run_stages(
    engines: Engines,
    *,
    template: str,
    audio_path: Path | None = None,
    transcript: Transcript | None = None,
    language: str | None = None,
    on_stage: StageCallback | None = None,
    voice: EnrolledVoice | None = None,
) -> PipelineResult:
    """Run the whole chain in memory (``caseassist process``). Give audio or a transcript.
    ``voice``: the practitioner's voice (``process --voice``), used as an enrolled one."""
    from assistant.drafting.templates import load_template

    load_template(template, root=engines.settings.prompts_dir)  # unknown: fail before any work
    run = run_chain(
        engines,
        _InMemory(transcript, on_stage, voice),
        template=template,
        audio_path=audio_path,
        language=language,
    )
    # in memory nothing was saved, so every stage ran and left its output
    assert run.transcript is not None and run.redacted is not None
    assert run.mapping is not None and run.note is not None
    return PipelineResult(run.transcript, run.redacted, run.mapping, run.note, run.timings)
