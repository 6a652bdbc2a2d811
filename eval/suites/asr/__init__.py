"""Speech recognition: how many words it gets wrong, for whom, and what it invents.

Four measurements, all with the profile's own transcriber (Whisper, VAD on, as the service runs
it) and the documented normalisation of ``eval/scoring/wer.py`` on both sides before counting:

1. **Real speech.** The LibriVox clips of Debian's ``pocketsphinx-testdata`` (read speech) and,
   in the full run, the 30 s two-speaker phone call that ships inside the ``pyannote-audio``
   4.0.7 wheel (fetched once with ``pip download``, pinned by sha256, cached under
   ``var/cache/eval-data``; on a machine without an index, copy the wheel there by hand; skipped
   with a note when it cannot be had; ``eval/datasets/recordings.py``). Word and character
   error rate by corpus, and the same clips again with pink noise at ``NOISE_SNR_DB`` (paired).
2. **Scenario speech.** The synthetic visits of ``eval/datasets/scenarios`` spoken turn by turn with
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

The package: ``scoring.py`` transcribes and scores, ``inputs.py`` chooses what is transcribed
(scenario turns, sentences, signals) and ``suite.py`` runs the four measurements.
"""

from eval.datasets.recordings import (
    PYANNOTE_VERSION,
    PYANNOTE_WHEEL,
    PYANNOTE_WHEEL_SHA256,
    librivox_clips,
    librivox_sha256,
    phone_call,
)
from eval.paths import DATA_CACHE, LIBRIVOX_DIR
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
    Run,
    Scored,
    error_rate_metrics,
    hallucination_metrics,
    hallucination_runs,
    score,
    seed_decoder,
    transcribe_text,
)
from eval.suites.asr.suite import (
    ENGLISH_VOICES,
    FULL,
    ITEM_COLUMNS,
    NOISE_SNR_DB,
    QUICK,
    REFERENCE_VOICE,
    SUITE,
    SUITE_VERSION,
    TABLE_ROWS,
    Plan,
    inserted_phrases,
    real_speech_metrics,
    recorded_speech,
    run,
    scenario_metrics,
    scenario_turns,
    speed,
    voice_swap,
)

__all__ = [
    "DATA_CACHE",
    "ENGLISH_VOICES",
    "FULL",
    "ITEM_COLUMNS",
    "LANGUAGE",
    "LIBRIVOX_DIR",
    "NOISE_SNR_DB",
    "PYANNOTE_VERSION",
    "PYANNOTE_WHEEL",
    "PYANNOTE_WHEEL_SHA256",
    "Plan",
    "QUICK",
    "REFERENCE_VOICE",
    "Run",
    "SUITE",
    "SUITE_VERSION",
    "Scored",
    "TABLE_ROWS",
    "english_turns",
    "error_rate_metrics",
    "hallucination_metrics",
    "hallucination_runs",
    "inserted_phrases",
    "librivox_clips",
    "librivox_sha256",
    "phone_call",
    "pick_scenarios",
    "pick_sentences",
    "real_speech_metrics",
    "recorded_speech",
    "run",
    "scenario_metrics",
    "scenario_turns",
    "score",
    "seed_decoder",
    "sha_of",
    "signals",
    "speaker_role",
    "speed",
    "transcribe_text",
    "voice_parts",
    "voice_swap",
]
