"""Word error rate: the normalisation as a table, and the real model on real speech.

The speech test checks that transcription works as configured (tiny.en, int8, VAD, beam 5): on
the five LibriVox clips of Debian's pocketsphinx-testdata (71 words) tiny.en scores 4.2 %
normalised WER here (3 errors); 12 % leaves room for CPU and library differences but not for a
broken pipeline (wrong sample rate, wrong language, VAD eating speech). The clips come from the
Debian package, which scripts/test.sh installs; without it the test skips and says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.audio import probe
from eval.scoring.wer import cer, error_counts, normalise, wer
from tests.speech import (
    DISTINCT_VOICES,
    SECONDS_PER_WORD,
    VISIT_SCRIPT,
    dialogue_timeline,
    distinct_visit_script,
    espeak_available,
    long_visit_script,
    real_speech_clips,
    synthesize,
    synthesize_dialogue,
)

MODEL_DIR = Path(__file__).resolve().parents[1] / "var" / "models" / "whisper-tiny.en"
CORPUS_WER_LIMIT = 0.12
SYNTHETIC_WER_LIMIT = 0.20

NORMALISATION_CASES = [
    # (id, raw text, normalised)
    ("lowercase", "Hello World", "hello world"),
    ("punctuation", "Hello, world! (Really?)", "hello world really"),
    ("hyphen splits", "an ill-disposed, cold-hearted man", "an ill disposed cold hearted man"),
    ("whitespace", "  a \t b\n\nc  ", "a b c"),
    ("curly apostrophe", "it\u2019s fine", "it is fine"),
    ("possessive stays attached", "Milo's mum", "milos mum"),
    ("cannot", "I can't", "i cannot"),
    ("will not", "won't", "will not"),
    ("n't", "doesn't, isn't", "does not is not"),
    (
        "'re 've 'll 'd 'm",
        "they're, we've, you'll, I'd, I'm",
        "they are we have you will i would i am",
    ),
    ("'s after pronoun", "that's where's", "that is where is"),
    ("let's", "let's go", "let us go"),
    ("american to british", "color favorite organize center", "colour favourite organise centre"),
    ("mom is mum", "my mom and mommy", "my mum and mummy"),
    ("pediatric", "the pediatrician", "the paediatrician"),
    ("titles", "Mr. Smith, Mrs Jones, Dr. Who", "mister smith missus jones doctor who"),
    ("okay", "Okay", "ok"),
    ("hesitations dropped", "um I er think uh so", "i think so"),
    ("units", "seven", "7"),
    ("tens and units", "twenty-one", "21"),
    ("hundreds with and", "one hundred and five", "105"),
    ("a hundred", "a hundred days", "100 days"),
    ("thousands", "two thousand and twenty three", "2023"),
    ("year as pairs", "nineteen ninety", "1990"),
    ("year twenty twenty", "twenty twenty three", "2023"),
    ("digits joined", "07700 900461", "07700900461"),
    ("spaced digits joined", "0 7 7 0 0", "07700"),
    ("oh is zero in digits", "oh seven seven oh oh, nine oh oh, four six one", "07700900461"),
    ("o is zero in digits", "7 O O", "700"),
    ("oh alone is a word", "oh no", "oh no"),
    ("double and triple", "double seven triple oh", "77000"),
    ("twenty oh five", "twenty oh five", "2005"),
    ("ordinal", "the twenty-first of March", "the 21st of march"),
    ("ordinal digits", "the 21st of March", "the 21st of march"),
    ("twelfth", "twelfth", "12th"),
    ("bare second is time", "wait a second", "wait a second"),
    ("time", "10:30", "1030"),
    ("time spoken", "ten thirty", "1030"),
    ("thousands separator", "1,000 people", "1000 people"),
    ("decimal", "3.5 and three point five", "3 point 5 and 3 point 5"),
    ("pounds", "£5", "5 pounds"),
    ("pounds and pence", "£5.50", "5 pounds 50"),
    ("percent", "10%", "10 percent"),
    ("ampersand", "A&E", "a and e"),
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [pytest.param(raw, expected, id=case) for case, raw, expected in NORMALISATION_CASES],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_normalise_is_idempotent() -> None:
    for _, raw, _ in NORMALISATION_CASES:
        once = normalise(raw)
        assert normalise(once) == once


@pytest.mark.parametrize(
    ("reference", "hypothesis", "expected"),
    [
        pytest.param("the cat sat", "the cat sat", 0.0, id="identical"),
        pytest.param("the cat sat", "The cat sat.", 0.0, id="case and punctuation ignored"),
        pytest.param("my mum's colour", "My mom's color", 0.0, id="spelling unified"),
        pytest.param("call oh seven seven oh oh", "Call 07700", 0.0, id="digits unified"),
        pytest.param("the cat sat", "the dog sat", 1 / 3, id="one substitution"),
        pytest.param("the cat sat", "the sat", 1 / 3, id="one deletion"),
        pytest.param("the cat sat", "the cat sat down", 1 / 3, id="one insertion"),
    ],
)
def test_wer(reference: str, hypothesis: str, expected: float) -> None:
    assert wer(reference, hypothesis) == pytest.approx(expected)


def test_error_counts_pool_over_a_corpus() -> None:
    counts = error_counts(["a b c", "d e"], ["a x c", "d e f"])
    assert counts == {
        "substitutions": 1,
        "deletions": 0,
        "insertions": 1,
        "hits": 4,
        "reference_words": 5,
    }
    assert wer(["a b c", "d e"], ["a x c", "d e f"]) == pytest.approx(2 / 5)


def test_cer_counts_characters() -> None:
    assert cer("abc", "abd") == pytest.approx(1 / 3)


def test_empty_reference() -> None:
    assert wer("", "") == 0.0
    assert error_counts("", "hello")["insertions"] == 1
    with pytest.raises(ValueError, match="empty"):
        wer("", "hello")


def test_mismatched_corpus_lengths() -> None:
    with pytest.raises(ValueError, match="references"):
        wer(["a"], ["a", "b"])


# --- the speech helpers other tests rely on --------------------------------------------------
needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng/sox not installed")


@needs_espeak
def test_synthesize_gives_16k_mono_wav_reproducibly(tmp_path: Path) -> None:
    first = probe(synthesize("Hello there.", tmp_path / "a.wav"), max_duration_s=60)
    second = probe(synthesize("Hello there.", tmp_path / "b.wav"), max_duration_s=60)
    assert (first.format, first.codec, first.sample_rate, first.channels) == (
        "wav",
        "pcm_s16le",
        16_000,
        1,
    )
    assert first.sha256 == second.sha256


@needs_espeak
def test_dialogue_has_one_voice_per_speaker_and_a_matching_timeline(tmp_path: Path) -> None:
    timeline = dialogue_timeline(VISIT_SCRIPT)
    voices = {turn.speaker: turn.voice for turn in timeline}
    assert set(voices) == {"social_worker", "parent", "child"}
    assert len(set(voices.values())) == 3
    assert all(a.end_s < b.start_s for a, b in zip(timeline, timeline[1:], strict=False))
    info = probe(synthesize_dialogue(VISIT_SCRIPT, tmp_path / "v.wav"), max_duration_s=600)
    assert info.duration_s == pytest.approx(timeline[-1].end_s, abs=0.01)
    assert 60 <= info.duration_s <= 90


@needs_espeak
def test_long_visit_script_lasts_about_as_long_as_asked(tmp_path: Path) -> None:
    turns = long_visit_script(2)
    assert turns[: len(VISIT_SCRIPT)] == VISIT_SCRIPT
    info = probe(synthesize_dialogue(turns, tmp_path / "long.wav"), max_duration_s=600)
    assert 105 <= info.duration_s <= 140


def test_the_distinct_long_visit_repeats_no_passage() -> None:
    """``long_visit_script`` says its later passages again word for word; the distinct visit
    (scenario turns, three speakers by role) says each passage once, the same every call."""
    turns = distinct_visit_script(60)
    assert distinct_visit_script(60) == turns
    assert {speaker for speaker, _ in turns} == set(DISTINCT_VOICES)
    passages = [text for _, text in turns if len(text.split()) >= 8]
    assert len(passages) > 300 and len(set(passages)) == len(passages)
    repeated = [text for _, text in long_visit_script(60) if len(text.split()) >= 8]
    assert len(set(repeated)) < len(repeated) / 10
    words = sum(len(text.split()) for _, text in turns)
    assert 55 * 60 <= words * SECONDS_PER_WORD + 0.4 * (len(turns) - 1) <= 61 * 60


def test_visit_script_has_identifiers_for_redaction_to_find() -> None:
    text = " ".join(t for _, t in VISIT_SCRIPT)
    assert "L S 6, 2 Q T" in text  # a postcode, spelt as it is spoken
    assert normalise(text).count("01134960427") == 1  # an Ofcom drama-range Leeds number


@pytest.mark.skipif(not real_speech_clips(), reason="pocketsphinx-testdata is not installed")
def test_real_speech_clips_pair_audio_with_text() -> None:
    clips = real_speech_clips()
    assert len(clips) == 5
    assert all(path.suffix == ".wav" and text and "<s>" not in text for path, text in clips)


# --- the model on speech --------------------------------------------------------------------
@pytest.fixture(scope="module")
def whisper():
    if not (MODEL_DIR / "model.bin").is_file():
        pytest.fail(f"Whisper tiny.en is not installed in {MODEL_DIR}; run scripts/test.sh")
    from faster_whisper import WhisperModel

    return WhisperModel(str(MODEL_DIR), device="cpu", compute_type="int8", cpu_threads=2)


def _transcribe(model, path: Path) -> str:
    segments, _ = model.transcribe(str(path), language="en", beam_size=5, vad_filter=True)
    return " ".join(segment.text.strip() for segment in segments)


@pytest.mark.models
@pytest.mark.skipif(
    not real_speech_clips(),
    reason="recorded speech missing: apt-get install pocketsphinx-testdata (scripts/test.sh does)",
)
def test_tiny_en_corpus_wer_on_recorded_speech(whisper) -> None:
    clips = real_speech_clips()
    references = [text for _, text in clips]
    hypotheses = [_transcribe(whisper, path) for path, _ in clips]
    counts = error_counts(references, hypotheses)
    corpus_wer = wer(references, hypotheses)
    print(
        f"\ntiny.en corpus WER on {len(clips)} LibriVox clips: {corpus_wer:.3f} "
        f"(S={counts['substitutions']} D={counts['deletions']} I={counts['insertions']} "
        f"N={counts['reference_words']}; normalised)"
    )
    assert corpus_wer < CORPUS_WER_LIMIT


@pytest.mark.models
@pytest.mark.slow
@pytest.mark.skipif(not espeak_available(), reason="espeak-ng and sox are not installed")
def test_tiny_en_wer_on_synthetic_visit(whisper, tmp_path: Path) -> None:
    """The synthetic visit is robotic speech: this guards the script (words Whisper tiny can
    get) rather than the model."""
    audio = synthesize_dialogue(VISIT_SCRIPT, tmp_path / "visit.wav")
    reference = " ".join(text for _, text in VISIT_SCRIPT)
    hypothesis = _transcribe(whisper, audio)
    visit_wer = wer(reference, hypothesis)
    print(f"\ntiny.en WER on the synthetic visit: {visit_wer:.3f}")
    assert visit_wer < SYNTHETIC_WER_LIMIT
