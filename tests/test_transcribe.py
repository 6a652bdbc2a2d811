"""Repetition guard for Whisper's looping failure mode."""

import pytest

from assistant.transcription import collapse_repetitions


@pytest.mark.parametrize(
    "text,expected",
    [
        ("thank you thank you thank you thank you thank you thank you", "thank you"),
        ("no no no no no no no no", "no"),
        (
            "She said no, no, no. Then she went to school.",
            "She said no, no, no. Then she went to school.",
        ),
        (
            "I went to the park and then I went to the shop",
            "I went to the park and then I went to the shop",
        ),
    ],
)
def test_collapse_repetitions(text, expected):
    assert collapse_repetitions(text, max_repeats=4) == expected


# --- sentences: a statement's evidence is the sentence that says it ---
def _seg(words: list[tuple[str, float, float]], text: str | None = None):
    from assistant.domain import Segment, Word

    ws = tuple(Word(start=a, end=b, text=t, probability=0.9) for t, a, b in words)
    text = text or " ".join(t for t, _, _ in words)
    return Segment(id="", start=0.0, end=words[-1][2], text=text,
                   avg_logprob=-0.2, no_speech_prob=0.01, words=ws)  # fmt: skip


def test_a_long_segment_is_cut_into_its_sentences_at_the_word_times():
    from assistant.transcription.whisper import split_sentences

    seg = _seg([("Do", 0.0, 0.2), ("you", 0.2, 0.4), ("feel", 0.4, 0.6), ("safe?", 0.6, 1.0),
                ("Yes.", 1.5, 1.8), ("Mr.", 2.0, 2.2), ("Hopkins", 2.2, 2.6), ("came", 2.6, 2.8),
                ("at", 2.8, 2.9), ("10", 2.9, 3.0), ("a.m.", 3.0, 3.3),
                ("today!", 3.3, 3.7)])  # fmt: skip
    parts = split_sentences(seg)
    assert [p.text for p in parts] == [
        "Do you feel safe?",
        "Yes.",
        "Mr. Hopkins came at 10 a.m. today!",
    ]
    assert [(p.start, p.end) for p in parts] == [(0.0, 1.0), (1.5, 1.8), (2.0, 3.7)]
    assert [len(p.words) for p in parts] == [4, 1, 7]
    assert all(p.avg_logprob == -0.2 for p in parts)
    # the text is cut as transcribed, never rebuilt from the words
    number = _seg([("ring", 0.0, 0.2), ("0", 0.2, 0.3), ("-1.", 0.3, 0.4), ("Thanks.", 0.5, 0.9)],
                  text="ring 0-1. Thanks.")  # fmt: skip
    assert [p.text for p in split_sentences(number)] == ["ring 0-1.", "Thanks."]


@pytest.mark.parametrize(
    "seg",
    [
        _seg([("Just", 0.0, 0.3), ("one", 0.3, 0.5), ("sentence.", 0.5, 1.0)]),
        # the words no longer spell the text (a repetition was cut): left whole
        _seg([("no.", 0.0, 0.2), ("no.", 0.2, 0.4)], text="no."),
        # words that are not in the text at all
        _seg([("Yes.", 0.0, 0.2), ("No.", 0.2, 0.4)], text="Maybe."),
    ],
    ids=["one-sentence", "repetition-cut", "words-not-the-text"],
)
def test_a_segment_is_left_whole_where_it_cannot_be_cut_safely(seg):
    from assistant.transcription.whisper import split_sentences

    assert split_sentences(seg) == [seg]


@pytest.mark.models
def test_a_recording_gives_one_segment_a_sentence(engines, tmp_path):
    """The real test model on espeak speech, decoded in batches of VAD chunks (the default):
    every segment holds one sentence, in order, ids numbered without gaps."""
    from assistant.audio.speech import load_pcm16k
    from tests.speech import VISIT_SCRIPT, espeak_available, synthesize_dialogue

    if not espeak_available():
        pytest.skip("espeak-ng not installed")
    wav = synthesize_dialogue(VISIT_SCRIPT[:6], tmp_path / "visit.wav")
    t = engines.transcriber.transcribe(load_pcm16k(wav))
    assert [s.id for s in t.segments] == [f"s{n:04d}" for n in range(1, len(t.segments) + 1)]
    ends = [s.text for s in t.segments]
    assert len(ends) >= 8  # six turns of one to three sentences each
    for s in t.segments:
        inner = [w.text for w in s.words[:-1]]
        assert not any(
            w.endswith((".", "?", "!")) and w.lower() not in {"mr.", "mrs.", "dr."} for w in inner
        ), s.text
        assert s.start <= s.words[0].start + 0.01 and s.end >= s.words[-1].end - 0.01
    starts = [s.start for s in t.segments]
    assert starts == sorted(starts)


# --- the vocabulary's terms checked where Whisper was unsure ------------------------------------
@pytest.mark.parametrize(
    "text, found",
    [
        ("The core group met on Monday.", True),
        ("CORE GROUP.", True),
        ("She has an E.H.C.P. now", True),
        ("She has an E H C P now", True),
        ("The core of the group", False),
        ("groupcore", False),
        ("", False),
    ],
)
def test_a_vocabulary_term_is_found_however_whisper_wrote_it(text, found):
    from assistant.transcription.vocabulary import mentions

    assert mentions(text, ["core group", "EHCP"]) is found


def _spied(engines, **change):
    """The test model with the vocabulary ``core group`` as hotwords, its decodings recorded."""
    import dataclasses

    from assistant.transcription.whisper import Transcriber

    options = dataclasses.replace(
        engines.transcriber.options,
        vocabulary_mode="hotwords",
        council_terms=("core group",),
        **change,
    )
    t = Transcriber(engines.transcriber._model, model_ref=engines.transcriber.model_ref,
                    options=options)  # fmt: skip
    calls: list[bool] = []
    decode = t._decode

    def spy(audio, lang, terms, *, vocabulary=True):
        calls.append(vocabulary)
        return decode(audio, lang, terms, vocabulary=vocabulary)

    t._decode = spy  # type: ignore[method-assign]
    return t, calls


@pytest.mark.models
def test_an_unsure_segment_with_a_term_is_decoded_again_without_the_vocabulary(engines, tmp_path):
    """Real decoding both times; the spy only counts. At a limit of 0 every segment naming a
    term is unsure enough: each is decoded again with no vocabulary, and that text kept, its
    word times in the whole recording's time."""
    from assistant.audio.speech import load_pcm16k
    from tests.speech import espeak_available, synthesize

    if not espeak_available():
        pytest.skip("espeak-ng not installed")
    wav = synthesize("The core group met on Monday to agree the plan.", tmp_path / "t.wav")
    pcm = load_pcm16k(wav)
    never, calls = _spied(engines, vocabulary_recheck_logprob=None)
    first = never.transcribe(pcm)
    assert calls == [True]
    always, calls = _spied(engines, vocabulary_recheck_logprob=0.0)
    again = always.transcribe(pcm)
    said = [s for s in first.segments if "core group" in s.text.lower()]
    assert said, first.segments  # the primed decoding wrote the term
    assert calls[0] is True and calls.count(False) >= 1
    assert again.segments and all(s.words for s in again.segments)
    for s in again.segments:
        assert all(first.segments[0].start - 0.01 <= w.start <= s.end + 0.3 for w in s.words)
    # a segment Whisper was sure of, or with no term, is left as it was
    sure, calls = _spied(engines, vocabulary_recheck_logprob=-50.0)
    assert sure.transcribe(pcm).segments == first.segments and calls == [True]


# --- word times: asked of Whisper unless switched off to measure their cost ---------------------
class _RecordingModel:
    """Stands in for a WhisperModel: records the keyword arguments and finds no speech."""

    def __init__(self) -> None:
        self.kwargs: dict = {}

    def transcribe(self, audio, **kwargs):
        from types import SimpleNamespace

        self.kwargs = kwargs
        return iter(()), SimpleNamespace(language="en")


@pytest.mark.parametrize("word_timestamps", [True, False])
def test_word_times_are_asked_for_as_the_options_say(word_timestamps):
    import numpy as np

    from assistant.domain import ModelRef
    from assistant.transcription.whisper import TranscribeOptions, Transcriber

    model = _RecordingModel()
    ref = ModelRef(name="fake", sha256="0" * 64)
    options = TranscribeOptions(batch_size=0, word_timestamps=word_timestamps)
    Transcriber(model, model_ref=ref, options=options).transcribe(np.zeros(16000, np.float32))
    assert model.kwargs["word_timestamps"] is word_timestamps
    assert TranscribeOptions().word_timestamps is True  # the service always asks for them
