"""A practitioner's enrolled voice: ``/v1/me/voice`` (enrol, see, erase) and its bad input, the
embedding stored encrypted and erased with the user, the web page, and the enrolled voice
making its speaker the social worker in a recording (real encoder, espeak-ng speech).

The sample is a passage no dialogue here uses (``ENROLMENT_TEXT``), spoken in the worker's
voice: the voice is recognised, not the words.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from assistant.api.app import create_app
from assistant.audio import load_pcm16k
from assistant.bootstrap import key_file
from assistant.cli import main
from assistant.diarisation import EnrolledVoice, voice_print
from assistant.domain import Transcript
from assistant.storage import repo
from assistant.storage.db import session_scope
from assistant.storage.models import AuditEvent, VoiceEnrolment
from eval.suites.diarisation.inputs import ENROLMENT_TEXT
from tests.conftest import REPO, LiveServer, free_port, make_settings, wait_for_job
from tests.speech import espeak_available, synthesize, synthesize_dialogue
from tests.web import add_web_user, csrf_of, db, sign_in

pytestmark = [
    pytest.mark.models,
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng/sox not installed"),
]

#: The stranger is a voice unlike both (0.76 at most to either's centroid): espeak-ng's other
#: male voices score 0.9 and more against ``en-gb`` (benchmarks/voice_threshold_bench.py).
WORKER, PARENT, STRANGER = "en-gb", "en-us+f3", "en+f5"
#: A visit in which the parent asks every question and the worker only answers: the words make
#: the parent the social worker; the worker's enrolled voice says otherwise.
QUIET_WORKER = [
    ("parent", "Hello, come in. How are you? Do you want a cup of tea? How was the traffic?"),
    ("worker", "Fine, thanks. The traffic was fine. No tea for me, thank you."),
    ("parent", "How long will you stay? Can I get you anything else? What do you need?"),
    ("worker", "About an hour. Nothing else, thank you very much."),
    ("parent", "Can we sit in the kitchen? Is it okay if the dog stays in with us?"),
    ("worker", "Yes, that is fine. The kitchen is good. The dog is lovely."),
]
VOICES = {"worker": WORKER, "parent": PARENT}


@pytest.fixture(scope="module")
def audio(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("voice-audio")
    files = {
        "worker": synthesize(ENROLMENT_TEXT, d / "worker.wav", voice=WORKER),
        "stranger": synthesize(ENROLMENT_TEXT, d / "stranger.wav", voice=STRANGER),
        "short": synthesize("Hello, this is my voice for the service.", d / "short.wav"),
        "visit": synthesize_dialogue(QUIET_WORKER, d / "visit.wav", voices=VOICES),
    }
    for name, args in {
        "silence": ["-n", "-r", "16000", "-c", "1", "-b", "16", str(d / "silence.wav"),
                    "trim", "0", "20"],
        # two minutes: longer than a sample may be (speech or not, it is refused first)
        "long": [str(files["worker"]), str(files["worker"]), str(files["worker"]),
                 str(files["worker"]), str(files["worker"]), str(d / "long.wav")],
    }.items():  # fmt: skip
        subprocess.run(["sox", *args], check=True)
        files[name] = d / f"{name}.wav"
    (d / "notes.wav").write_text("Visit notes, not a recording.\n" * 40)
    files["not_audio"] = d / "notes.wav"
    return files


@pytest.fixture
def server(tmp_path, engines, db_url):
    """A service without its worker (the API alone) on a fresh database."""
    settings = make_settings(tmp_path, database_url=db_url, run_worker=False)
    with LiveServer(create_app(settings, engines=engines), free_port()) as srv:
        yield srv, settings


def _put(client, path: Path | None, name: str = "sample.wav"):
    if path is None:  # a form without the audio field
        return client.put("/v1/me/voice", files={"note": ("n.txt", b"hello", "text/plain")})
    with path.open("rb") as f:
        return client.put("/v1/me/voice", files={"audio": (name, f, "audio/wav")})


def _stored(settings) -> tuple[list[VoiceEnrolment], list[str]]:
    """The voice rows, and whatever is left in the uploads folder."""
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        rows = list(s.scalars(select(VoiceEnrolment)))
        s.expunge_all()
    engine.dispose()
    uploads = settings.uploads_dir
    return rows, sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []


def _audit(settings, prefix: str = "voice.") -> list[AuditEvent]:
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        rows = [e for e in s.scalars(select(AuditEvent)) if e.action.startswith(prefix)]
        s.expunge_all()
    engine.dispose()
    return rows


# --- the API ----------------------------------------------------------------------------------
def test_enrol_see_and_erase_your_own_voice(server, audio, engines):
    srv, settings = server
    uid, token = add_web_user(settings, "Sam Worker", "practitioner")
    client = srv.client(token)
    assert client.get("/v1/me/voice").json() == {
        "enrolled": False, "enrolled_at": None, "speech_s": None, "usable": False,
    }  # fmt: skip

    r = _put(client, audio["worker"])
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["enrolled"] and view["usable"] and view["enrolled_at"]
    assert 12 <= view["speech_s"] <= 30  # the VAD's speech in the 25-second passage
    assert client.get("/v1/me/voice").json() == view
    assert set(view) == {"enrolled", "enrolled_at", "speech_s", "usable"}  # never the voice

    # stored: one encrypted embedding, no sample; it opens to the voice the encoder hears
    rows, left = _stored(settings)
    assert left == [] and len(rows) == 1 and rows[0].user_id == uid
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        stored = repo.load_voice(session=s, user_id=uid)
    engine.dispose()
    assert stored is not None and stored.embedding.shape == (256,)
    assert abs(float(np.linalg.norm(stored.embedding)) - 1.0) < 1e-5
    assert stored.embedding.astype("<f4").tobytes() not in rows[0].embedding  # not in clear
    again = voice_print(engines.diariser, load_pcm16k(audio["worker"]))
    assert float(again.embedding @ stored.embedding) > 0.999

    # enrolling again replaces it; erasing leaves nothing
    assert _put(client, audio["stranger"]).status_code == 200
    rows, _ = _stored(settings)
    assert len(rows) == 1
    assert client.delete("/v1/me/voice").status_code == 204
    assert client.get("/v1/me/voice").json()["enrolled"] is False
    assert _stored(settings) == ([], [])
    assert client.delete("/v1/me/voice").status_code == 204  # nothing left: still 204

    events = _audit(settings)
    assert [e.action for e in events] == [
        "voice.view", "voice.enrol", "voice.view", "voice.enrol", "voice.erase", "voice.view",
        "voice.erase",
    ]  # fmt: skip
    assert all(e.actor_id == uid and e.object_id == uid for e in events)
    enrol = events[1].details
    assert set(enrol) == {"speech_s", "duration_s", "format", "replaced"}  # counts, no voice
    assert enrol["replaced"] is False and events[3].details["replaced"] is True
    assert [e.details.get("erased") for e in events if e.action == "voice.erase"] == [True, False]


@pytest.mark.parametrize(
    ("sample", "status", "code"),
    [
        (None, 400, "no_audio_file"),
        ("not_audio", 415, "unsupported_media_type"),
        ("short", 422, "too_little_speech"),
        ("silence", 422, "no_speech_detected"),
        ("long", 413, "recording_too_long"),
    ],
    ids=["no-file", "not-audio", "too-short", "silence", "too-long"],
)
def test_a_bad_sample_is_refused_and_nothing_is_stored(server, audio, sample, status, code):
    srv, settings = server
    _, token = add_web_user(settings, "Sam Worker", "practitioner")
    client = srv.client(token)
    r = _put(client, None if sample is None else audio[sample])
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert _stored(settings) == ([], [])
    assert [e.action for e in _audit(settings)] == []
    assert client.get("/v1/me/voice").json()["enrolled"] is False


def test_a_bad_sample_keeps_the_voice_enrolled_before(server, audio):
    srv, settings = server
    _, token = add_web_user(settings, "Sam Worker", "practitioner")
    client = srv.client(token)
    first = _put(client, audio["worker"]).json()
    assert _put(client, audio["silence"]).status_code == 422
    assert client.get("/v1/me/voice").json() == first


def test_who_may_enrol_and_an_admin_erasing_a_users_voice(server, audio):
    srv, settings = server
    uid, token = add_web_user(settings, "Sam Worker", "practitioner")
    other, other_token = add_web_user(settings, "Kim Worker", "practitioner")
    _, auditor = add_web_user(settings, "Alex Auditor", "auditor")
    _, admin = add_web_user(settings, "Ada Admin", "admin")
    assert _put(srv.client(token), audio["worker"]).status_code == 200
    # an auditor records no visits: refused, nothing read of the file; may still look
    r = _put(srv.client(auditor), audio["worker"])
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    assert srv.client(auditor).get("/v1/me/voice").json()["enrolled"] is False
    # another practitioner cannot erase it; an admin can (an erasure request)
    assert srv.client(other_token).delete(f"/v1/users/{uid}/voice").status_code == 404
    assert srv.client(admin).delete("/v1/users/nobody/voice").status_code == 404
    assert len(_stored(settings)[0]) == 1
    assert srv.client(admin).delete(f"/v1/users/{uid}/voice").status_code == 204
    assert _stored(settings) == ([], [])
    assert srv.client(token).get("/v1/me/voice").json()["enrolled"] is False
    erased = [e for e in _audit(settings) if e.action == "voice.erase"]
    assert [(e.object_id, e.details["erased"]) for e in erased] == [(uid, True)]
    assert other != uid


# --- storage: encrypted, rotated with the keys, erased with the user --------------------------
def test_deactivating_a_user_erases_their_voice(tmp_path, db_url, monkeypatch, capsys):
    from assistant.cli.admin import cmd_users_deactivate

    settings = make_settings(tmp_path, database_url=db_url)
    uid, _ = add_web_user(settings, "Sam Worker", "practitioner")
    engine, sessions = db(settings)
    voice = np.ones(256, dtype=np.float32) / 16.0
    with session_scope(sessions) as s:
        repo.save_voice(session=s, user_id=uid, embedding=voice, model_sha256="m", speech_s=9.0)
    assert cmd_users_deactivate(argparse.Namespace(user_id=uid), settings) == 0
    with session_scope(sessions) as s:
        assert repo.voice_enrolment(session=s, user_id=uid) is None
        event = [e for e in repo.list_audit(session=s) if e.action == "user.deactivate"][-1]
    assert event.details["voice_erased"] is True
    engine.dispose()


def test_the_voice_is_sealed_per_user_and_survives_a_key_rotation(tmp_path, db_url):
    from assistant.cli.admin import cmd_keys_rotate
    from assistant.errors import DecryptionFailed
    from assistant.storage.keys import KeyFiles

    settings = make_settings(tmp_path, database_url=db_url)
    a, _ = add_web_user(settings, "Sam Worker", "practitioner")
    b, _ = add_web_user(settings, "Kim Worker", "practitioner")
    rng = np.random.default_rng(3)
    voices = {u: rng.random(256, dtype=np.float32) for u in (a, b)}
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        for u, v in voices.items():
            repo.save_voice(session=s, user_id=u, embedding=v, model_sha256="m", speech_s=10.0)
    # a blob copied onto another user's row does not open
    with session_scope(sessions) as s:
        rows = {r.user_id: r for r in s.scalars(select(VoiceEnrolment))}
        rows[b].embedding, rows[b].wrapped = rows[a].embedding, rows[a].wrapped
    with session_scope(sessions) as s, pytest.raises(DecryptionFailed):
        repo.load_voice(session=s, user_id=b)
    with session_scope(sessions) as s:
        repo.save_voice(session=s, user_id=b, embedding=voices[b], model_sha256="m", speech_s=1)
    engine.dispose()

    assert cmd_keys_rotate(argparse.Namespace(), settings) == 0
    files = KeyFiles(key_file(settings))
    assert not files.old.exists()  # the old key is gone: only re-wrapped keys open now
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        for u, v in voices.items():
            stored = repo.load_voice(session=s, user_id=u)
            assert stored is not None and np.array_equal(stored.embedding, v)
    engine.dispose()


# --- the enrolled voice in a recording ----------------------------------------------------------
@pytest.fixture(scope="module")
def heard(engines, audio):
    """The quiet-worker visit transcribed (tiny.en), once."""
    return engines.transcriber.transcribe(load_pcm16k(audio["visit"]))


def _enrolled(engines, path: Path) -> EnrolledVoice:
    found = voice_print(engines.diariser, load_pcm16k(path))
    assert found is not None
    return EnrolledVoice(found.embedding, engines.diariser.encoder.model_ref.sha256)


@pytest.mark.slow
def test_the_enrolled_voice_makes_its_speaker_the_social_worker(engines, audio, heard):
    from assistant.pipeline import diarise_transcript

    words_only = diarise_transcript(engines, audio["visit"], heard)
    assert words_only.diarisation.speakers == 2 and words_only.diarisation.voice is None
    # the words alone pick the parent, who asked every question (S1: first to speak)
    assert [(sp.label, sp.role) for sp in words_only.speakers][0] == ("S1", "social_worker")
    assert not any(sp.by_voice for sp in words_only.speakers)

    result = diarise_transcript(
        engines, audio["visit"], heard, voice=_enrolled(engines, audio["worker"])
    )
    match = result.diarisation.voice
    assert match is not None and match.label == "S2" and match.similarity >= match.threshold
    worker = {sp.label: sp for sp in result.speakers}["S2"]
    assert (worker.role, worker.by_voice, worker.display) == ("social_worker", True,
                                                              "Social worker")  # fmt: skip
    assert worker.confidence >= 0.95
    parent = {sp.label: sp for sp in result.speakers}["S1"]
    assert parent.role != "social_worker" and not parent.by_voice
    # the worker's turns carry the label, whatever they said
    worker_says = " ".join(s.text for s in result.segments if s.speaker == "Social worker")
    assert "traffic was fine" in worker_says.lower()


@pytest.mark.slow
def test_an_absent_or_foreign_voice_leaves_the_roles_to_the_words(engines, audio, heard):
    from assistant.pipeline import diarise_transcript

    words_only = diarise_transcript(engines, audio["visit"], heard)
    # the owner uploaded a visit someone else made: their voice is no speaker's
    absent = diarise_transcript(
        engines, audio["visit"], heard, voice=_enrolled(engines, audio["stranger"])
    )
    match = absent.diarisation.voice
    assert match is not None and match.label is None and match.similarity < match.threshold
    assert absent.speakers == words_only.speakers
    # a voice from another speaker model is not compared at all
    other_model = EnrolledVoice(_enrolled(engines, audio["worker"]).embedding, "0" * 64)
    ignored = diarise_transcript(engines, audio["visit"], heard, voice=other_model)
    assert ignored.diarisation.voice is None and ignored.speakers == words_only.speakers


@pytest.mark.slow
def test_one_voice_is_named_only_when_it_is_the_enrolled_one(engines, audio, tmp_path):
    """A dictation: one voice found. Unrecognised it stays unknown (it may be voices merged);
    recognised as the owner's, it is the social worker."""
    from assistant.pipeline import diarise_transcript

    wav = synthesize_dialogue(
        [("worker", text) for who, text in QUIET_WORKER if who == "worker"],
        tmp_path / "dictation.wav",
        voices={"worker": WORKER},
    )
    heard = engines.transcriber.transcribe(load_pcm16k(wav))
    plain = diarise_transcript(engines, wav, heard)
    assert [(sp.label, sp.role) for sp in plain.speakers] == [("S1", "unknown")]
    mine = diarise_transcript(engines, wav, heard, voice=_enrolled(engines, audio["worker"]))
    assert [(sp.label, sp.role, sp.by_voice) for sp in mine.speakers] == [
        ("S1", "social_worker", True)
    ]
    other = diarise_transcript(engines, wav, heard, voice=_enrolled(engines, audio["stranger"]))
    assert [(sp.role, sp.by_voice) for sp in other.speakers] == [("unknown", False)]


@pytest.mark.slow
def test_a_job_uses_its_owners_enrolled_voice(tmp_path, engines, audio):
    settings = make_settings(tmp_path)
    _, token = add_web_user(settings, "Sam Worker", "practitioner")
    _, other = add_web_user(settings, "Kim Worker", "practitioner")
    with LiveServer(create_app(settings, engines=engines), free_port()) as srv:
        mine, theirs = srv.client(token), srv.client(other)
        assert _put(mine, audio["worker"]).status_code == 200
        jobs = {}
        for name, client in (("mine", mine), ("theirs", theirs)):
            with audio["visit"].open("rb") as f:
                r = client.post("/v1/recordings", files={"audio": ("v.wav", f, "audio/wav")})
            assert r.status_code == 202, r.text
            jobs[name] = (client, r.json())
        views = {}
        for name, (client, accepted) in jobs.items():
            assert wait_for_job(client, accepted["job_id"])["status"] == "done"
            views[name] = client.get(f"/v1/recordings/{accepted['recording_id']}/speakers").json()
    # the owner enrolled: their voice is the social worker; the other owner had not
    assert views["mine"]["voice"] == "recognised"
    by_voice = [sp for sp in views["mine"]["speakers"] if sp["by_voice"]]
    assert [(sp["label"], sp["role"]) for sp in by_voice] == [("S2", "social_worker")]
    assert views["theirs"]["voice"] is None
    assert not any(sp["by_voice"] for sp in views["theirs"]["speakers"])


# --- the web page ----------------------------------------------------------------------------
def test_the_voice_page_enrols_shows_and_deletes(server, audio):
    srv, settings = server
    add_web_user(settings, "Sam Worker", "practitioner")
    client = srv.client()
    assert sign_in(client, "Sam Worker").status_code == 303
    page = client.get("/voice")
    assert page.status_code == 200 and "Your voice" in page.text
    assert "Enrol my voice" in page.text and "Delete my voice" not in page.text

    # without the page's CSRF token: refused, nothing stored
    with audio["worker"].open("rb") as f:
        r = client.post("/voice", files={"audio": ("me.wav", f, "audio/wav")})
    assert r.status_code == 403 and _stored(settings) == ([], [])

    token = csrf_of(page.text)
    with audio["silence"].open("rb") as f:
        r = client.post("/voice", data={"csrf_token": token},
                        files={"audio": ("me.wav", f, "audio/wav")})  # fmt: skip
    assert r.status_code == 422 and "No speech was detected" in r.text
    assert 'class="govuk-error-summary"' in r.text and _stored(settings) == ([], [])

    with audio["worker"].open("rb") as f:
        r = client.post("/voice", data={"csrf_token": token},
                        files={"audio": ("me.wav", f, "audio/wav")},
                        follow_redirects=False)  # fmt: skip
    assert (r.status_code, r.headers["location"]) == (303, "/voice?done=enrolled")
    page = client.get("/voice?done=enrolled")
    assert "Your voice is enrolled." in page.text and "Delete my voice" in page.text
    assert "Replace my voice" in page.text and len(_stored(settings)[0]) == 1

    r = client.post("/voice/delete", data={"csrf_token": token}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/voice?done=deleted")
    assert "Your voice was deleted." in client.get("/voice?done=deleted").text
    assert _stored(settings) == ([], [])
    assert client.post("/voice/delete", data={}).status_code == 403  # no token
    actions = [e.action for e in _audit(settings)]
    assert actions.count("voice.enrol") == 1 and actions.count("voice.erase") == 1


def test_the_speakers_page_says_the_voice_was_recognised(server):
    from assistant.domain import VoiceMatch
    from tests.web import seed_speakers

    srv, settings = server
    uid, _ = add_web_user(settings, "Sam Worker", "practitioner")
    ids = seed_speakers(settings, uid)  # S1 the social worker, from the words
    client = srv.client()
    sign_in(client, "Sam Worker")
    words = client.get(f"/visits/{ids['rec']}/speakers").text
    assert "suggested from what each speaker said, not from their voice." in words
    assert "Recognised by your voice" not in words

    engine, sessions = db(settings)
    for label in ("S1", None):  # recognised; then enrolled but no speaker near enough
        with session_scope(sessions) as s:
            raw = repo.find_transcript(session=s, recording_id=ids["rec"], kind="raw")
            match = VoiceMatch(label=label, similarity=0.97 if label else 0.6, threshold=0.8)
            speakers = tuple(
                sp.model_copy(update={"by_voice": sp.label == label}) for sp in raw.speakers
            )
            raw = raw.model_copy(update={
                "diarisation": raw.diarisation.model_copy(update={"voice": match}),
                "speakers": speakers,
            })  # fmt: skip
            repo.save_transcript(session=s, recording_id=ids["rec"], kind="raw", body=raw)
        page = client.get(f"/visits/{ids['rec']}/speakers").text
        api = srv.client(_token(settings, uid)).get(f"/v1/recordings/{ids['rec']}/speakers")
        if label:
            assert "The social worker was recognised by your enrolled voice" in page
            assert page.count("Recognised by your voice") == 1
            assert api.json()["voice"] == "recognised"
            assert [sp["by_voice"] for sp in api.json()["speakers"]] == [True, False, False]
        else:
            assert "your enrolled voice was not similar enough to any speaker" in page
            assert "Recognised by your voice" not in page
            assert api.json()["voice"] == "not_recognised"
    engine.dispose()


def _token(settings, uid: str) -> str:
    """A fresh API token for ``uid``."""
    from assistant.auth import hash_token, new_token
    from assistant.storage.models import User

    token = new_token()
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        s.get(User, uid).token_hash = hash_token(token)
    engine.dispose()
    return token


def test_no_sample_is_left_on_disk_after_a_refusal_midway(server, audio, monkeypatch):
    """A failure after the sample arrived (here: the encoder) still deletes it."""
    from assistant.api.routes import voice

    srv, settings = server
    _, token = add_web_user(settings, "Sam Worker", "practitioner")

    def broken(*_a, **_k):
        raise RuntimeError("encoder failed")

    monkeypatch.setattr(voice, "_voice_print", broken)
    r = _put(srv.client(token), audio["worker"])
    assert r.status_code == 500 and _stored(settings) == ([], [])
    assert os.listdir(settings.uploads_dir) == []


# --- the practitioner's voice on the command line (`--voice SAMPLE`) ---------------------------
@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEASSIST_PROFILE", "test")
    monkeypatch.setenv("CASEASSIST_MODELS_DIR", str(REPO / "var" / "models"))
    monkeypatch.setenv("CASEASSIST_DATA_DIR", str(tmp_path / "var"))
    return tmp_path


@pytest.mark.slow
def test_transcribe_with_a_voice_sample_names_that_speaker_the_social_worker(
    cli_env, audio, capsys
):
    """The quiet-worker visit: by the words the parent would be the worker; the sample of the
    worker's voice says who is (the same as an enrolled voice, nothing stored)."""
    out = cli_env / "t.json"
    assert main(["transcribe", str(audio["visit"]), "--voice", str(audio["worker"]),
                 "--out", str(out)]) == 0  # fmt: skip
    t = Transcript.model_validate_json(out.read_text())
    assert t.diarisation is not None and t.diarisation.voice is not None
    worker = [sp for sp in t.speakers if sp.role == "social_worker"]
    assert len(worker) == 1 and worker[0].by_voice
    assert worker[0].label == t.diarisation.voice.label
    said = " ".join(s.text for s in t.segments if s.speaker == "Social worker").lower()
    assert "traffic was fine" in said
    assert not list((cli_env / "var").rglob("*.wav")), "the sample is not kept"


@pytest.mark.slow
def test_process_with_a_voice_sample_attributes_the_note_to_the_worker(cli_env, audio):
    out = cli_env / "proc"
    assert main(["process", str(audio["visit"]), "--voice", str(audio["worker"]),
                 "--out", str(out)]) == 0  # fmt: skip
    t = Transcript.model_validate_json((out / "transcript.json").read_text())
    assert any(sp.role == "social_worker" and sp.by_voice for sp in t.speakers)
    assert "the social worker" in (out / "note.md").read_text().lower()


@pytest.mark.parametrize(
    "sample, expected",
    [
        ("missing", "does not exist"),
        ("long", "longer than 90 seconds"),
        ("not_audio", "not_audio"),  # the upload's own refusal (unsupported or unreadable audio)
    ],
)
def test_a_bad_voice_sample_is_refused_before_any_model_loads(
    cli_env, audio, capsys, monkeypatch, sample, expected
):
    import assistant.model_store as store

    def no_models(*_a, **_k):
        raise AssertionError("models loaded before the sample was checked")

    monkeypatch.setattr(store, "resolve_models", no_models)
    path = audio.get(sample, cli_env / "no-such.wav")
    out = cli_env / "t.json"
    rc = main(["transcribe", str(audio["visit"]), "--voice", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists()
    if expected != "not_audio":
        assert expected in err
    else:
        assert err.startswith("error") and "Traceback" not in err


@pytest.mark.slow
@pytest.mark.parametrize("sample, code", [("short", "too_little_speech"),
                                          ("silence", "no_speech_detected")])  # fmt: skip
def test_a_voice_sample_without_enough_speech_is_refused_with_the_web_pages_words(
    cli_env, audio, capsys, sample, code
):
    out = cli_env / "t.json"
    rc = main(["transcribe", str(audio["visit"]), "--voice", str(audio[sample]),
               "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and f"[{code}]" in err and not out.exists()


def test_voice_applies_to_a_recording_not_a_typed_transcript(cli_env, audio, capsys):
    typed = cli_env / "visit.txt"
    typed.write_text("Social worker: Hello.\nParent: Hello, come in.\n")
    rc = main(["process", str(typed), "--voice", str(audio["worker"]),
               "--out", str(cli_env / "o")])  # fmt: skip
    assert rc == 2 and "--voice applies to a recording" in capsys.readouterr().err


def test_voice_needs_speaker_separation_switched_on(cli_env, audio, capsys, monkeypatch):
    monkeypatch.setenv("CASEASSIST_DIARISATION_ENABLED", "false")
    rc = main(["transcribe", str(audio["visit"]), "--voice", str(audio["worker"]),
               "--out", str(cli_env / "t.json")])  # fmt: skip
    assert rc == 2 and "diarisation_enabled" in capsys.readouterr().err


# --- the threshold is a setting -----------------------------------------------------------------
def test_the_voice_threshold_setting_reaches_the_diariser(tmp_path, engines):
    from assistant.diarisation import VOICE_THRESHOLD
    from assistant.pipeline import load_diariser

    assert make_settings(tmp_path).diarisation_voice_threshold == VOICE_THRESHOLD
    settings = make_settings(tmp_path, diarisation_voice_threshold=0.93)
    assert load_diariser(settings, engines.models).options.voice_threshold == 0.93


@pytest.mark.parametrize("value", [0.2, 1.0, 1.5])
def test_a_voice_threshold_out_of_range_is_refused(tmp_path, value):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="diarisation_voice_threshold"):
        make_settings(tmp_path, diarisation_voice_threshold=value)


@pytest.mark.slow
def test_a_stricter_threshold_leaves_the_roles_to_the_words(tmp_path, engines, audio, heard):
    """The same sample and visit as above: at 0.99 the worker's own voice (0.9x) is not
    similar enough, so the words decide, as without enrolment."""
    import dataclasses

    from assistant.diarisation import Diariser
    from assistant.pipeline import diarise_transcript

    strict = Diariser(
        engines.diariser.encoder,
        dataclasses.replace(engines.diariser.options, voice_threshold=0.99),
    )
    voice = _enrolled(engines, audio["worker"])
    result = diarise_transcript(dataclasses.replace(engines, diariser=strict),
                                audio["visit"], heard, voice=voice)  # fmt: skip
    match = result.diarisation.voice
    assert match is not None and match.label is None and match.threshold == 0.99
    assert not any(sp.by_voice for sp in result.speakers)
