"""The ASR suite's run: real speech, scenario speech, the voice swap and inserted phrases, in
that order, each adding its metrics, notes, dataset hashes and tables to one ``_Job``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from eval.core import EvalContext, Metric, SuiteResult
from eval.datasets import speech
from eval.datasets.recordings import librivox_clips, librivox_sha256, phone_call
from eval.datasets.scenarios import Scenario, corpus_sha256, load_scenarios
from eval.scoring.stats import apply_holm, group_metric, paired_metric
from eval.scoring.wer import NORMALISATION_VERSION
from eval.suites.asr.inputs import (
    english_turns,
    pick_scenarios,
    pick_sentences,
    sha_of,
    signals,
    speaker_role,
    voice_parts,
)
from eval.suites.asr.scoring import (
    LANGUAGE,
    Scored,
    error_rate_metrics,
    hallucination_metrics,
    hallucination_runs,
    score,
)

SUITE = "asr"
SUITE_VERSION = "1"

ENGLISH_VOICES = (
    "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
    "en-us", "en-us-nyc", "en-029",
)  # fmt: skip
REFERENCE_VOICE = "en-gb"
NOISE_SNR_DB = 10.0
TABLE_ROWS = 40
"""Longest per-item table kept in the results (the worst items first)."""


@dataclass(frozen=True)
class Plan:
    librivox_clips: int | None
    phone_call: bool
    scenarios: int | None
    turns_per_scenario: int | None
    sentences: int
    sentence_voices: tuple[str, ...]
    signals: tuple[str, ...]
    signal_seconds: float
    runs: int


QUICK = Plan(
    librivox_clips=2,
    phone_call=False,
    scenarios=3,
    turns_per_scenario=6,
    sentences=6,
    sentence_voices=("en-gb", "en-gb-scotland", "en-029"),
    signals=("silence", "pink_noise"),
    signal_seconds=10.0,
    runs=3,
)
FULL = Plan(
    librivox_clips=None,
    phone_call=True,
    scenarios=None,
    turns_per_scenario=None,
    sentences=40,
    sentence_voices=ENGLISH_VOICES,
    signals=("silence", "white_noise", "pink_noise", "music"),
    signal_seconds=30.0,
    runs=5,
)


def _table(columns: list[str], rows: list[list[Any]], *, total: int | None = None) -> dict:
    table: dict[str, Any] = {"columns": columns, "rows": rows}
    if total is not None and total > len(rows):
        table["note"] = f"{len(rows)} of {total} rows, worst first"
    return table


ITEM_COLUMNS = ["item", "voice / corpus", "words", "errors", "WER", "reference", "hypothesis"]


@dataclass
class _Job:
    """What the measurements share: the plan and transcriber, and the result they build."""

    plan: Plan
    transcriber: Any
    seed: int
    resamples: int
    notes: list[str]
    details: dict[str, Any]
    dataset: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)


def run(ctx: EvalContext) -> SuiteResult:
    plan = QUICK if ctx.quick else FULL
    resamples = int(ctx.cache.get("resamples", 1000))
    job = _Job(
        plan=plan,
        transcriber=ctx.engines.transcriber,
        seed=ctx.seed,
        resamples=resamples,
        notes=[
            f"Text normalised with eval/scoring/wer.py v{NORMALISATION_VERSION} on both sides "
            "before counting; WER and CER are pooled over items (ratio of sums).",
            "Speech recognition runs as the service runs it: the profile's Whisper model, "
            f"language '{LANGUAGE}', VAD filter on, repetition guard on.",
        ],
        details={"plan": asdict(plan) | {"quick": ctx.quick}, "tables": {}},
    )
    real, audio = recorded_speech(job)
    if real:
        real_speech_metrics(job, real, audio)
    scenarios = load_scenarios()
    job.dataset["scenarios"] = corpus_sha256()
    chosen, turns, audio_hashes, excluded = scenario_turns(job, scenarios)
    if turns:
        scenario_metrics(job, chosen, turns, audio_hashes, excluded)
    swap = voice_swap(job, scenarios)
    inserted_phrases(job)
    speed(job, [*real, *turns, *swap])
    return SuiteResult(
        suite=SUITE,
        suite_version=SUITE_VERSION,
        dataset=job.dataset,
        metrics=apply_holm(job.metrics),
        details=job.details,
        runs=plan.runs,
        notes=job.notes,
    )


# 1. real speech -----------------------------------------------------------------------------------
def recorded_speech(job: _Job) -> tuple[list[Scored], dict[str, np.ndarray]]:
    """The LibriVox clips and (full run) the phone call, each transcribed and scored."""
    plan, transcriber, seed = job.plan, job.transcriber, job.seed
    real: list[Scored] = []
    audio: dict[str, np.ndarray] = {}
    clips = librivox_clips()
    if plan.librivox_clips is not None:
        clips = clips[: plan.librivox_clips]
    if clips:
        job.dataset["librivox"] = librivox_sha256() or ""
        for clip_id, wav, reference in clips:
            pcm = audio[clip_id] = speech.read_wav(wav)
            real.append(
                score(transcriber, clip_id, pcm, reference, labels={"corpus": "librivox"},
                      seed=seed)
            )  # fmt: skip
    else:
        job.notes.append(
            "LibriVox clips not found (apt-get install pocketsphinx-testdata): skipped."
        )
    if plan.phone_call:
        call = phone_call()
        if isinstance(call, str):
            job.notes.append(f"Two-speaker phone call skipped: {call}.")
        else:
            wav, reference, wheel_sha = call
            job.dataset["pyannote_sample_wheel"] = wheel_sha
            audio["pyannote-sample"] = speech.read_wav(wav)
            real.append(
                score(transcriber, "pyannote-sample", audio["pyannote-sample"], reference,
                      labels={"corpus": "phone_call"}, seed=seed)
            )  # fmt: skip
    else:
        job.notes.append("Quick run: the two-speaker phone call is left out.")
    return real, audio


def real_speech_metrics(job: _Job, real: list[Scored], audio: dict[str, np.ndarray]) -> None:
    """WER and CER of the recordings by corpus, and again with pink noise (paired by clip)."""
    transcriber, seed, resamples = job.transcriber, job.seed, job.resamples
    job.metrics += error_rate_metrics(
        real,
        prefix="real_speech",
        what="recorded speech (LibriVox read speech; a two-speaker phone call)",
        group="corpus",
        seed=seed,
        resamples=resamples,
    )
    noise = speech.pink_noise(30, seed=seed + 7)
    noisy = [
        score(
            transcriber,
            s.id,
            speech.mix_at_snr(audio[s.id], noise, NOISE_SNR_DB),
            s.reference,
            labels={
                "corpus": s.labels["corpus"],
                "condition": f"pink noise {NOISE_SNR_DB:g} dB",
            },
            seed=seed,
        )
        for s in real
    ]
    for s in real:
        s.labels["condition"] = "clean"
    job.metrics.append(
        paired_metric(
            real + noisy,
            lambda s: s.errors,
            lambda s: s.labels["condition"],
            lambda s: s.id,
            reference="clean",
            denominator_fn=lambda s: s.words,
            name="noisy_speech_wer",
            description=f"WER on the same recorded clips clean and with pink noise at "
            f"{NOISE_SNR_DB:g} dB SNR (paired by clip).",
            higher_is_better=False,
            seed=seed,
            resamples=resamples,
        )
    )
    job.details["tables"]["real_speech"] = _table(
        ITEM_COLUMNS + ["condition"],
        [s.row() + [s.labels["condition"]] for s in real + noisy],
    )


# 2. scenario speech -------------------------------------------------------------------------------
def scenario_turns(
    job: _Job, scenarios: Sequence[Scenario]
) -> tuple[list[Scenario], list[Scored], list[str], int]:
    """The chosen scenarios' English turns spoken in their speakers' voices and scored; with
    the audio hashes and how many turns in another language were left out."""
    plan, transcriber, seed = job.plan, job.transcriber, job.seed
    if not speech.espeak_available():
        job.notes.append("espeak-ng or sox missing: scenario and voice measurements skipped.")
        chosen: list[Scenario] = []
    elif plan.scenarios is not None:
        chosen = pick_scenarios(scenarios, plan.scenarios, plan.turns_per_scenario)
    else:
        chosen = list(scenarios)
    turns: list[Scored] = []
    audio_hashes: list[str] = []
    excluded = 0
    for s in chosen:
        kept = english_turns(s)
        excluded += sum(1 for t in s.turns if t.language != "en")
        for i, speaker, text in kept[: plan.turns_per_scenario]:
            voice = s.voice(speaker)
            base, gender = voice_parts(voice)
            pcm = speech.speak(text, voice=voice)
            audio_hashes.append(speech.pcm_sha256(pcm))
            turns.append(
                score(
                    transcriber,
                    f"{s.id}#{i}",
                    pcm,
                    text,
                    labels={
                        "voice": base,
                        "voice_gender": gender,
                        "speaker_role": speaker_role(s, speaker),
                        "scenario": s.id,
                        "corpus": "scenarios",
                    },
                    cluster=f"{s.id}/{speaker}",
                    seed=seed,
                )
            )
    return chosen, turns, audio_hashes, excluded


def scenario_metrics(
    job: _Job, chosen: list[Scenario], turns: list[Scored], audio_hashes: list[str], excluded: int
) -> None:
    """WER and CER of the scenario turns by voice, WER by gender variant and speaker role."""
    seed, resamples = job.seed, job.resamples
    job.dataset["scenario_audio"] = sha_of(audio_hashes)
    job.details["scenarios"] = [s.id for s in chosen]
    job.details["espeak_ng"] = speech.espeak_version()
    if excluded:
        job.notes.append(f"{excluded} turns not in English (interpreted visits) left out.")
    what = "synthetic visit turns spoken by espeak-ng in the scenarios' voices"
    common = dict(seed=seed, resamples=resamples, clustered=True)
    job.metrics += error_rate_metrics(turns, prefix="scenario", what=what, group="voice", **common)
    job.metrics += error_rate_metrics(
        turns,
        prefix="scenario",
        what=what,
        group="voice_gender",
        names=("scenario_wer_by_voice_gender", "scenario_cer_by_voice_gender"),
        **common,
    )[:1]
    job.metrics += error_rate_metrics(
        turns,
        prefix="scenario",
        what=what,
        group="speaker_role",
        names=("scenario_wer_by_speaker_role", "scenario_cer_by_speaker_role"),
        **common,
    )[:1]
    worst = sorted(turns, key=lambda s: (-s.errors, s.id))[:TABLE_ROWS]
    job.details["tables"]["scenario_worst_turns"] = _table(
        ITEM_COLUMNS, [s.row() for s in worst], total=len(turns)
    )
    job.notes.append(
        "Scenario intervals resample speakers within visits (cluster bootstrap), since one "
        "speaker's turns share a voice and a way of talking."
    )


# 3. same sentences, different voices --------------------------------------------------------------
def voice_swap(job: _Job, scenarios: Sequence[Scenario]) -> list[Scored]:
    """Scenario sentences spoken in every voice of the plan, each voice against the reference."""
    plan, transcriber, seed, resamples = job.plan, job.transcriber, job.seed, job.resamples
    swap: list[Scored] = []
    if speech.espeak_available() and plan.sentences:
        swap_hashes = []
        for sid, text in pick_sentences(scenarios, plan.sentences):
            for voice in plan.sentence_voices:
                pcm = speech.speak(text, voice=voice)
                swap_hashes.append(speech.pcm_sha256(pcm))
                swap.append(
                    score(transcriber, sid, pcm, text,
                          labels={"voice": voice, "corpus": "voice_swap"}, seed=seed)
                )  # fmt: skip
        job.dataset["voice_swap_audio"] = sha_of(swap_hashes)
        job.metrics.append(
            paired_metric(
                swap,
                lambda s: s.errors,
                lambda s: s.labels["voice"],
                lambda s: s.id,
                reference=REFERENCE_VOICE,
                denominator_fn=lambda s: s.words,
                group_by="voice",
                name="voice_swap_wer",
                description="WER on the same scenario sentences spoken in each English espeak-ng "
                f"voice; each voice against {REFERENCE_VOICE} paired by sentence.",
                higher_is_better=False,
                seed=seed,
                resamples=resamples,
            )
        )
    return swap


# 4. inserted phrases ------------------------------------------------------------------------------
def inserted_phrases(job: _Job) -> None:
    """Signals with no speech, transcribed several times each with different decoder seeds."""
    plan, transcriber, seed, resamples = job.plan, job.transcriber, job.seed, job.resamples
    sigs = signals(plan.signals, plan.signal_seconds, seed)
    job.dataset["signals"] = sha_of(speech.pcm_sha256(x) for x in sigs.values())
    runs = hallucination_runs(transcriber, sigs, runs=plan.runs, seed=seed)
    job.metrics += hallucination_metrics(runs, seed=seed, resamples=resamples)
    job.details["tables"]["inserted_phrases"] = _table(
        ["signal", "run", "decoder seed", "words", "text"],
        [[r.signal, r.run, r.seed, r.words, r.text] for r in runs],
    )
    job.details["decoder_seeds"] = {"speech": seed, "signals": [seed + r for r in range(plan.runs)]}


# speed --------------------------------------------------------------------------------------------
def speed(job: _Job, timed: list[Scored]) -> None:
    """Real-time factor by corpus, over every transcription of speech."""
    seed, resamples = job.seed, job.resamples
    if timed:
        job.metrics.append(
            group_metric(
                timed,
                lambda s: s.wall_s,
                lambda s: s.labels["corpus"],
                denominator_fn=lambda s: s.audio_s,
                name="real_time_factor",
                description="Transcription wall time / audio duration on this machine (see "
                "provenance.machine); below 1 is faster than real time.",
                higher_is_better=False,
                unit="x real time",
                group_by="corpus",
                seed=seed,
                resamples=resamples,
            )
        )
