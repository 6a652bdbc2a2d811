"""Speech recognition: how many words it gets wrong, for whom, and what it invents.

Four measurements, all with the profile's own transcriber (Whisper, VAD on, as the service runs
it) and the documented normalisation of ``eval/scoring/wer.py`` on both sides before counting:

1. **Real speech.** The LibriVox clips of Debian's ``pocketsphinx-testdata`` (read speech) and,
   in the full run, the 30 s two-speaker phone call that ships inside the ``pyannote-audio``
   4.0.7 wheel (fetched once with ``pip download``, pinned by sha256, cached under
   ``var/cache/eval-data``; on a machine without an index, copy the wheel there by hand; skipped
   with a note when it cannot be had). Word and character
   error rate by corpus, and the same clips again with pink noise at ``NOISE_SNR_DB`` (paired).
2. **Scenario speech.** The synthetic visits of ``eval/scenarios`` spoken turn by turn with
   espeak-ng in the voices the scenarios give their speakers, one transcription per turn. Turns
   in another language (a parent speaking through an interpreter) are left out. WER and CER by
   voice (the espeak accent), by the voice's gender variant and by speaker role, each group with
   its interval and the best-vs-worst comparison; intervals resample speakers-in-visits (a
   cluster bootstrap), not turns.
3. **Same sentences, different voices.** Scenario sentences each spoken in every English voice:
   WER per voice, each voice against ``REFERENCE_VOICE`` with a paired Wilcoxon test per
   sentence, Holm-corrected with the suite's other tests.
4. **Inserted phrases.** Silence, noise and a music-like signal, transcribed ``runs`` times each
   with a different decoder seed (decoding at temperature 0 is deterministic, Whisper's
   temperature fallback is not): the share of runs producing any words, and hallucinated
   words per minute of input.

``--quick`` runs 2 LibriVox clips, the first 6 English turns of 3 scenarios (chosen for the
widest spread of voices), 6 sentences in 3 voices, and silence and pink noise 3 times each.

espeak-ng voices are formant synthesis: WER by voice says how the recogniser copes with these
synthetic accents, a proxy for, not a measurement of, its accuracy for people with them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from eval.core import EvalContext, Metric, SuiteResult
from eval.datasets import speech
from eval.datasets.recordings import librivox_clips, librivox_sha256, phone_call
from eval.datasets.scenarios import (
    CHILD_ROLES,
    PROFESSIONAL_ROLES,
    Scenario,
    corpus_sha256,
    load_scenarios,
)
from eval.scoring.stats import apply_holm, group_metric, paired_metric
from eval.scoring.wer import NORMALISATION_VERSION, cer, error_counts, normalise

SUITE = "asr"
SUITE_VERSION = "1"

ENGLISH_VOICES = (
    "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
    "en-us", "en-us-nyc", "en-029",
)  # fmt: skip
REFERENCE_VOICE = "en-gb"
NOISE_SNR_DB = 10.0
LANGUAGE = "en"
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


# --- scoring ------------------------------------------------------------------------------------
@dataclass
class Scored:
    """One transcription scored against its reference (normalised counts)."""

    id: str
    reference: str
    hypothesis: str
    errors: int
    words: int
    char_errors: int
    chars: int
    audio_s: float
    wall_s: float
    labels: dict[str, str] = field(default_factory=dict)
    cluster: str = ""

    @property
    def wer(self) -> float | None:
        return self.errors / self.words if self.words else None

    def row(self) -> list[Any]:
        return [
            self.id,
            self.labels.get("voice", self.labels.get("corpus", "")),
            self.words,
            self.errors,
            None if self.wer is None else round(self.wer, 3),
            self.reference,
            self.hypothesis,
        ]


def transcribe_text(transcriber, pcm: np.ndarray, *, seed: int | None = None) -> str:
    """The transcriber's words for ``pcm`` joined with spaces (``seed`` fixes the decoder's
    random draws for the temperature fallback, where the backend allows it)."""
    if seed is not None:
        seed_decoder(seed)
    transcript = transcriber.transcribe(pcm, language=LANGUAGE)
    return " ".join(s.text.strip() for s in transcript.segments if s.text.strip())


def seed_decoder(seed: int) -> None:
    try:
        import ctranslate2
    except ImportError:  # a fake transcriber in a unit test
        return
    ctranslate2.set_random_seed(int(seed))


def score(
    transcriber,
    item_id: str,
    pcm: np.ndarray,
    reference: str,
    *,
    labels: dict[str, str] | None = None,
    cluster: str = "",
    seed: int = 0,
) -> Scored:
    started = time.perf_counter()
    hypothesis = transcribe_text(transcriber, pcm, seed=seed)
    wall = time.perf_counter() - started
    counts = error_counts(reference, hypothesis)
    ref_chars = len(normalise(reference))
    if ref_chars:
        char_errors = round(cer(reference, hypothesis) * ref_chars)
    else:
        char_errors = len(normalise(hypothesis))
    return Scored(
        id=item_id,
        reference=reference,
        hypothesis=hypothesis,
        errors=counts["substitutions"] + counts["deletions"] + counts["insertions"],
        words=counts["reference_words"],
        char_errors=char_errors,
        chars=ref_chars,
        audio_s=len(pcm) / speech.SAMPLE_RATE,
        wall_s=wall,
        labels=dict(labels or {}),
        cluster=cluster or item_id,
    )


@dataclass(frozen=True)
class Run:
    """One transcription of a signal with no speech in it."""

    signal: str
    run: int
    seed: int
    text: str
    words: int
    minutes: float


def hallucination_runs(
    transcriber, signals: dict[str, np.ndarray], *, runs: int, seed: int
) -> list[Run]:
    """Transcribe each signal ``runs`` times, decoder seed ``seed + run``; count the words."""
    out = []
    for name, pcm in signals.items():
        for r in range(runs):
            text = transcribe_text(transcriber, pcm, seed=seed + r)
            out.append(
                Run(
                    signal=name,
                    run=r,
                    seed=seed + r,
                    text=text,
                    words=len(normalise(text).split()),
                    minutes=len(pcm) / speech.SAMPLE_RATE / 60,
                )
            )
    return out


def hallucination_metrics(runs: Sequence[Run], *, seed: int, resamples: int) -> list[Metric]:
    common = dict(group_fn=lambda r: r.signal, group_by="signal", seed=seed, resamples=resamples)
    return [
        group_metric(
            runs,
            lambda r: 1.0 if r.words else 0.0,
            name="inserted_phrase_rate",
            description="Share of transcriptions of silence, noise or music (no speech) that "
            "produced any words; each signal transcribed several times with different decoder "
            "seeds.",
            higher_is_better=False,
            goal=0.0,
            **common,
        ),
        group_metric(
            runs,
            lambda r: r.words,
            denominator_fn=lambda r: r.minutes,
            name="hallucinated_words_per_minute",
            description="Words transcribed per minute of input that holds no speech "
            "(normalised words; ratio of sums over runs).",
            higher_is_better=False,
            unit="words/min",
            goal=0.0,
            **common,
        ),
    ]


def error_rate_metrics(
    items: Sequence[Scored],
    *,
    prefix: str,
    what: str,
    group: str | None,
    seed: int,
    resamples: int,
    clustered: bool = False,
    names: tuple[str, str] | None = None,
) -> list[Metric]:
    """WER and CER (ratios of sums over items) grouped by ``labels[group]``."""
    wer_name, cer_name = names or (f"{prefix}_wer", f"{prefix}_cer")
    common: dict[str, Any] = dict(
        group_fn=(lambda s: s.labels.get(group)) if group else None,
        group_by=group,
        higher_is_better=False,
        seed=seed,
        resamples=resamples,
        cluster_fn=(lambda s: s.cluster) if clustered else None,
    )
    return [
        group_metric(
            items,
            lambda s: s.errors,
            denominator_fn=lambda s: s.words,
            name=wer_name,
            description=f"Word error rate on {what}: (substitutions + deletions + insertions) / "
            f"reference words after normalisation v{NORMALISATION_VERSION}, pooled over items.",
            **common,
        ),
        group_metric(
            items,
            lambda s: s.char_errors,
            denominator_fn=lambda s: s.chars,
            name=cer_name,
            description=f"Character error rate on {what}, after the same normalisation.",
            **common,
        ),
    ]


# --- data ---------------------------------------------------------------------------------------
def voice_parts(voice: str) -> tuple[str, str]:
    """("en-gb-x-rp", "female") from "en-gb-x-rp+f3"; espeak's default variant is male."""
    base, _, variant = voice.partition("+")
    if variant.startswith("f") or variant == "grandma":
        return base, "female"
    return base, "male"


def speaker_role(scenario: Scenario, speaker: str) -> str:
    if speaker == "TV":
        return "television"
    role = next((p.role for p in scenario.people if p.speaker == speaker), None)
    if role in CHILD_ROLES:
        return "child"
    if role in PROFESSIONAL_ROLES:
        return "professional"
    return "family adult"


def english_turns(scenario: Scenario) -> list[tuple[int, str, str]]:
    """(index, speaker, text) of the turns in English that have words to score."""
    return [
        (i, t.speaker, t.text)
        for i, t in enumerate(scenario.turns)
        if t.language == "en" and normalise(t.text)
    ]


def pick_scenarios(scenarios: Sequence[Scenario], n: int, turns: int | None) -> list[Scenario]:
    """``n`` scenarios whose first ``turns`` English turns cover the most distinct voices
    (greedy, ties to the lower id): a small slice that still spans accents."""
    voices = {
        s.id: {voice_parts(s.voice(sp))[0] for _, sp, _ in english_turns(s)[:turns]}
        for s in scenarios
    }
    chosen: list[Scenario] = []
    seen: set[str] = set()
    pool = sorted(scenarios, key=lambda s: s.id)
    while pool and len(chosen) < n:
        gains = [len(voices[s.id] - seen) for s in pool]
        best = pool[gains.index(max(gains))]  # the first (lowest id) of the best
        chosen.append(best)
        seen |= voices[best.id]
        pool.remove(best)
    return sorted(chosen, key=lambda s: s.id)


def pick_sentences(scenarios: Sequence[Scenario], n: int) -> list[tuple[str, str]]:
    """``n`` (id, text) English sentences of 8-30 words from professionals' and family
    members' turns, spread evenly over the corpus (every k-th candidate)."""
    candidates = [
        (f"{s.id}#{i}", text)
        for s in sorted(scenarios, key=lambda s: s.id)
        for i, speaker, text in english_turns(s)
        if speaker != "TV" and 8 <= len(text.split()) <= 30
    ]
    if len(candidates) <= n:
        return candidates
    step = len(candidates) / n
    return [candidates[int(k * step)] for k in range(n)]


def signals(names: Iterable[str], seconds: float, seed: int) -> dict[str, np.ndarray]:
    makers: dict[str, Callable[[], np.ndarray]] = {
        "silence": lambda: speech.silence(seconds),
        "white_noise": lambda: speech.white_noise(seconds, seed=seed),
        "pink_noise": lambda: speech.pink_noise(seconds, seed=seed + 1),
        "music": lambda: speech.music(seconds, seed=seed + 2),
    }
    return {name: makers[name]() for name in names}


def _sha_of(hashes: Iterable[str]) -> str:
    h = hashlib.sha256()
    for x in hashes:
        h.update(bytes.fromhex(x))
    return h.hexdigest()


def _table(columns: list[str], rows: list[list[Any]], *, total: int | None = None) -> dict:
    table: dict[str, Any] = {"columns": columns, "rows": rows}
    if total is not None and total > len(rows):
        table["note"] = f"{len(rows)} of {total} rows, worst first"
    return table


ITEM_COLUMNS = ["item", "voice / corpus", "words", "errors", "WER", "reference", "hypothesis"]


# --- the suite ----------------------------------------------------------------------------------
def run(ctx: EvalContext) -> SuiteResult:
    plan = QUICK if ctx.quick else FULL
    resamples = int(ctx.cache.get("resamples", 1000))
    transcriber = ctx.engines.transcriber
    seed = ctx.seed
    notes: list[str] = [
        f"Text normalised with eval/scoring/wer.py v{NORMALISATION_VERSION} on both sides before "
        "counting; WER and CER are pooled over items (ratio of sums).",
        "Speech recognition runs as the service runs it: the profile's Whisper model, "
        f"language '{LANGUAGE}', VAD filter on, repetition guard on.",
    ]
    dataset: dict[str, str] = {}
    details: dict[str, Any] = {"plan": asdict(plan) | {"quick": ctx.quick}, "tables": {}}
    metrics: list[Metric] = []

    # 1. real speech ---------------------------------------------------------------------------
    real: list[Scored] = []
    audio: dict[str, np.ndarray] = {}
    clips = librivox_clips()
    if plan.librivox_clips is not None:
        clips = clips[: plan.librivox_clips]
    if clips:
        dataset["librivox"] = librivox_sha256() or ""
        for clip_id, wav, reference in clips:
            pcm = audio[clip_id] = speech.read_wav(wav)
            real.append(
                score(transcriber, clip_id, pcm, reference, labels={"corpus": "librivox"},
                      seed=seed)
            )  # fmt: skip
    else:
        notes.append("LibriVox clips not found (apt-get install pocketsphinx-testdata): skipped.")
    if plan.phone_call:
        call = phone_call()
        if isinstance(call, str):
            notes.append(f"Two-speaker phone call skipped: {call}.")
        else:
            wav, reference, wheel_sha = call
            dataset["pyannote_sample_wheel"] = wheel_sha
            audio["pyannote-sample"] = speech.read_wav(wav)
            real.append(
                score(transcriber, "pyannote-sample", audio["pyannote-sample"], reference,
                      labels={"corpus": "phone_call"}, seed=seed)
            )  # fmt: skip
    else:
        notes.append("Quick run: the two-speaker phone call is left out.")
    if real:
        metrics += error_rate_metrics(
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
        metrics.append(
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
        details["tables"]["real_speech"] = _table(
            ITEM_COLUMNS + ["condition"],
            [s.row() + [s.labels["condition"]] for s in real + noisy],
        )

    # 2. scenario speech -----------------------------------------------------------------------
    scenarios = load_scenarios()
    dataset["scenarios"] = corpus_sha256()
    if not speech.espeak_available():
        notes.append("espeak-ng or sox missing: scenario and voice measurements skipped.")
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
    if turns:
        dataset["scenario_audio"] = _sha_of(audio_hashes)
        details["scenarios"] = [s.id for s in chosen]
        details["espeak_ng"] = speech.espeak_version()
        if excluded:
            notes.append(f"{excluded} turns not in English (interpreted visits) left out.")
        what = "synthetic visit turns spoken by espeak-ng in the scenarios' voices"
        common = dict(seed=seed, resamples=resamples, clustered=True)
        metrics += error_rate_metrics(turns, prefix="scenario", what=what, group="voice", **common)
        metrics += error_rate_metrics(
            turns,
            prefix="scenario",
            what=what,
            group="voice_gender",
            names=("scenario_wer_by_voice_gender", "scenario_cer_by_voice_gender"),
            **common,
        )[:1]
        metrics += error_rate_metrics(
            turns,
            prefix="scenario",
            what=what,
            group="speaker_role",
            names=("scenario_wer_by_speaker_role", "scenario_cer_by_speaker_role"),
            **common,
        )[:1]
        worst = sorted(turns, key=lambda s: (-s.errors, s.id))[:TABLE_ROWS]
        details["tables"]["scenario_worst_turns"] = _table(
            ITEM_COLUMNS, [s.row() for s in worst], total=len(turns)
        )
        notes.append(
            "Scenario intervals resample speakers within visits (cluster bootstrap), since one "
            "speaker's turns share a voice and a way of talking."
        )

    # 3. same sentences, different voices ----------------------------------------------------------
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
        dataset["voice_swap_audio"] = _sha_of(swap_hashes)
        metrics.append(
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

    # 4. inserted phrases ------------------------------------------------------------------------
    sigs = signals(plan.signals, plan.signal_seconds, seed)
    dataset["signals"] = _sha_of(speech.pcm_sha256(x) for x in sigs.values())
    runs = hallucination_runs(transcriber, sigs, runs=plan.runs, seed=seed)
    metrics += hallucination_metrics(runs, seed=seed, resamples=resamples)
    details["tables"]["inserted_phrases"] = _table(
        ["signal", "run", "decoder seed", "words", "text"],
        [[r.signal, r.run, r.seed, r.words, r.text] for r in runs],
    )
    details["decoder_seeds"] = {"speech": seed, "signals": [seed + r for r in range(plan.runs)]}

    # speed --------------------------------------------------------------------------------------
    timed = [*real, *turns, *swap]
    if timed:
        metrics.append(
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
    return SuiteResult(
        suite=SUITE,
        suite_version=SUITE_VERSION,
        dataset=dataset,
        metrics=apply_holm(metrics),
        details=details,
        runs=plan.runs,
        notes=notes,
    )
