"""`caseassist transcribe AUDIO [--out FILE]`: the service's transcription alone (speakers
included), written as the transcript.json `process` writes; bad input refused before any work
with a clear error, a non-zero exit and nothing written."""

from __future__ import annotations

import json
import wave

import pytest

from assistant.cli import main
from assistant.domain import Transcript
from eval.scoring.wer import wer
from tests.conftest import REPO
from tests.speech import espeak_available, synthesize_dialogue

pytestmark = [
    pytest.mark.models,
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng/sox not installed"),
]

TURNS = [
    ("worker", "Hello, I am the social worker. I have come for the planned visit today."),
    ("parent", "Come in. The children are at school, so we can talk in the kitchen."),
    ("worker", "Thank you. How has the week been since the core group meeting?"),
    ("parent", "Better. The school nurse phoned on Monday and the baby is sleeping well."),
]
VOICES = {"worker": "en-gb", "parent": "en-us+f3"}


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEASSIST_PROFILE", "test")
    monkeypatch.setenv("CASEASSIST_MODELS_DIR", str(REPO / "var" / "models"))
    monkeypatch.setenv("CASEASSIST_DATA_DIR", str(tmp_path / "var"))
    return tmp_path


@pytest.fixture
def dialogue(env):
    return synthesize_dialogue(TURNS, env / "visit.wav", voices=VOICES)


@pytest.mark.slow
def test_transcribe_writes_the_service_transcript_with_speakers(env, dialogue, capsys):
    out = env / "result.json"
    assert main(["transcribe", str(dialogue), "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    transcript = Transcript.model_validate(data)  # the shape `process` writes
    assert set(data) == set(Transcript.model_fields)
    assert transcript.source == "audio" and transcript.model is not None
    assert transcript.model.name == "whisper-tiny.en"
    assert transcript.diarisation is not None, "speakers are separated, as in the pipeline"
    assert all(s.speaker for s in transcript.segments)
    assert all(s.words for s in transcript.segments), "word timings, as the service keeps"
    said = " ".join(t for _, t in TURNS)
    heard = " ".join(s.text for s in transcript.segments)
    assert wer(said, heard) < 0.3
    printed = capsys.readouterr()
    assert "transcribing:" in printed.err and "rtf" in printed.err
    assert f"wrote {out}" in printed.out


@pytest.mark.slow
def test_transcribe_writes_transcript_json_here_by_default(env, dialogue, monkeypatch):
    monkeypatch.chdir(env)
    assert main(["transcribe", str(dialogue)]) == 0
    assert Transcript.model_validate_json((env / "transcript.json").read_text()).segments


@pytest.mark.slow
def test_the_recordings_own_terms_reach_whisper_before_the_councils(env, dialogue, monkeypatch):
    """The real model runs (one window at a time or batched, as settings say); the spies only
    record what it was given."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    seen: list[dict] = []

    def spy_on(cls):
        real = cls.transcribe

        def spy(self, audio, **kwargs):
            seen.append(kwargs)
            return real(self, audio, **kwargs)

        monkeypatch.setattr(cls, "transcribe", spy)

    spy_on(WhisperModel)
    spy_on(BatchedInferencePipeline)
    args = ["transcribe", str(dialogue), "--out", str(env / "t.json")]
    assert main([*args, "--vocabulary", "Beckfield Primary, Holm Lane"]) == 0
    hotwords = seen[-1]["hotwords"]
    assert hotwords.startswith("Beckfield Primary, Holm Lane, CAMHS, MARAC")
    assert "strategy discussion" in hotwords


def _silent_wav(path, seconds=3.0):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * int(16000 * seconds))
    return path


def _not_audio(path):
    path.write_bytes(b"this is not audio at all" * 100)
    return path


def _empty(path):
    path.write_bytes(b"")
    return path


def _audio(env, dialogue):
    return dialogue


@pytest.mark.parametrize(
    "case,make_input,out,extra,message",
    [
        ("missing file", lambda env, d: env / "nope.wav", "t.json", [], "does not exist"),
        ("not audio", lambda env, d: _not_audio(env / "x.wav"), "t.json", [], "unsupported_media"),
        ("empty file", lambda env, d: _empty(env / "e.wav"), "t.json", [], "empty_recording"),
        ("silent audio", lambda env, d: _silent_wav(env / "quiet.wav"), "t.json", [],
         "no_speech_detected"),
        ("out folder missing", _audio, "no/such/folder/t.json", [], "does not exist"),
        ("out is a folder", _audio, ".", [], "is a folder"),
        ("out under a file", _audio, "visit.wav/t.json", [], "cannot write"),
        ("too many terms", _audio, "t.json", ["--vocabulary", ",".join(f"t{i}" for i in range(31))],
         "invalid_vocabulary"),
        ("odd characters in a term", _audio, "t.json", ["--vocabulary", "a<b>"],
         "invalid_vocabulary"),
        ("unknown language", _audio, "t.json", ["--language", "xx"], "not one Whisper"),
    ],
)  # fmt: skip
def test_transcribe_refuses_bad_input(env, capsys, case, make_input, out, extra, message):
    dialogue = synthesize_dialogue(TURNS[:1], env / "visit.wav", voices=VOICES)
    src = make_input(env, dialogue)
    target = env / out
    assert main(["transcribe", str(src), "--out", str(target), *extra]) == 2, case
    err = capsys.readouterr().err
    assert message in err, err
    assert not (env / "t.json").exists(), "nothing written"
    assert not list(env.glob(".*tmp")), "no half-written file left"


@pytest.mark.slow
def test_a_failed_transcription_leaves_an_earlier_transcript_alone(env, capsys):
    out = env / "transcript.json"
    out.write_text('{"earlier": true}')
    assert main(["transcribe", str(_silent_wav(env / "q.wav")), "--out", str(out)]) == 2
    assert out.read_text() == '{"earlier": true}'
