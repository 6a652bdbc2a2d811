"""Bad input gets a specific 4xx error in the shared shape and leaves nothing half-written."""

from __future__ import annotations

import os
import struct
import subprocess

import pytest
from sqlalchemy import create_engine, text

from assistant.api.app import create_app
from tests.conftest import LiveServer, add_user, free_port, make_settings
from tests.speech import espeak_available, synthesize

pytestmark = [
    pytest.mark.models,
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed"),
]


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad-input-audio")
    speech = synthesize(
        "Hello, I am the social worker visiting today to see how you are.", d / "speech.wav"
    )
    silence = d / "silence.wav"
    subprocess.run(
        ["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(silence), "trim", "0", "5"],
        check=True,
    )
    data = speech.read_bytes()
    (d / "truncated.wav").write_bytes(data[: len(data) // 2])
    (d / "notes.wav").write_text("Visit notes: this is a text file renamed to .wav\n" * 20)
    (d / "random.wav").write_bytes(os.urandom(64 * 1024))
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + os.urandom(200)
    (d / "photo.wav").write_bytes(png)
    (d / "empty.wav").write_bytes(b"")
    # three hours of near-silence at a low bit rate: small on disk, long in time
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=8000:cl=mono",
            "-t",
            "10800",
            "-c:a",
            "libopus",
            "-b:a",
            "6k",
            str(d / "three_hours.ogg"),
        ],
        check=True,
    )
    return d


@pytest.fixture
def server(tmp_path, engines):
    settings = make_settings(tmp_path, max_upload_bytes=2 * 1024 * 1024, run_worker=False)
    with LiveServer(create_app(settings, engines=engines), free_port()) as srv:
        _, token = add_user(settings, "P", "practitioner")
        yield srv, settings, token


def _assert_nothing_written(settings):
    leftovers = (
        [p.name for p in settings.uploads_dir.iterdir()] if settings.uploads_dir.exists() else []
    )
    assert leftovers == []
    engine = create_engine(settings.resolved_database_url)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from recordings")).scalar() == 0
        assert conn.execute(text("select count(*) from jobs")).scalar() == 0
    engine.dispose()


@pytest.mark.parametrize(
    "case,filename,fields,status,code",
    [
        ("text file renamed .wav", "notes.wav", {}, 415, "unsupported_media_type"),
        ("image renamed .wav", "photo.wav", {}, 415, "unsupported_media_type"),
        ("random bytes renamed .wav", "random.wav", {}, 415, "unsupported_media_type"),
        ("empty zero-byte recording", "empty.wav", {}, 422, "empty_recording"),
        ("truncated recording", "truncated.wav", {}, 422, "truncated_recording"),
        ("silence only", "silence.wav", {}, 422, "no_speech_detected"),
        (
            "unknown template",
            "speech.wav",
            {"template": "no_such_template"},
            422,
            "unknown_template",
        ),
        ("bad visit date", "speech.wav", {"visit_date": "20/11/2026"}, 400, "invalid_date"),
        ("bad language", "speech.wav", {"language": "english please"}, 400, "invalid_language"),
    ],
)
def test_bad_upload(server, audio_dir, case, filename, fields, status, code):
    srv, settings, token = server
    with (audio_dir / filename).open("rb") as f:
        r = srv.client(token).post("/v1/recordings", files={"audio": (filename, f)}, data=fields)
    assert r.status_code == status, (case, r.text)
    err = r.json()["error"]
    assert err["code"] == code and err["message"] and err["request_id"]
    _assert_nothing_written(settings)


def test_no_file(server):
    srv, settings, token = server
    r = srv.client(token).post("/v1/recordings", data={"visit_type": "home visit"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "no_audio_file"
    r = srv.client(token).post("/v1/recordings", json={"audio": "x"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "no_audio_file"
    _assert_nothing_written(settings)


def test_upload_over_the_size_limit_is_cut_off_while_streaming(server):
    srv, settings, token = server
    blob = os.urandom(3 * 1024 * 1024)  # limit in this fixture: 2 MB
    r = srv.client(token).post("/v1/recordings", files={"audio": ("big.wav", blob)})
    assert r.status_code == 413 and r.json()["error"]["code"] == "recording_too_large"
    _assert_nothing_written(settings)


def test_three_hour_recording_over_the_duration_limit(tmp_path, engines, audio_dir):
    settings = make_settings(tmp_path, max_duration_s=2 * 3600, run_worker=False)
    with LiveServer(create_app(settings, engines=engines), free_port()) as srv:
        _, token = add_user(settings, "P", "practitioner")
        with (audio_dir / "three_hours.ogg").open("rb") as f:
            r = srv.client(token).post("/v1/recordings", files={"audio": ("long.ogg", f)})
        assert r.status_code == 413, r.text
        assert r.json()["error"]["code"] == "recording_too_long"
        _assert_nothing_written(settings)


@pytest.mark.parametrize("header", [None, "Bearer not-a-real-token", "Basic dXNlcjpwYXNz"])
def test_missing_or_bad_token(server, header):
    srv, _, _ = server
    client = srv.client()
    if header:
        client.headers["Authorization"] = header
    r = client.get("/v1/jobs/anything")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"


def test_unknown_ids_are_404_in_the_shared_shape(server):
    srv, _, token = server
    for path in ("/v1/jobs/nope", "/v1/notes/nope", "/v1/recordings/nope/transcript"):
        r = srv.client(token).get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/v1/recordings", "/v1/notes"])
@pytest.mark.parametrize("page", ["288230376151711744", "9" * 30])
def test_a_page_number_past_any_list_is_refused_not_a_server_error(server, path, page):
    """Found by schemathesis (benchmarks/api_fuzz.py): page 2**58 made an offset past SQLite's
    64-bit integer and answered 500."""
    srv, _, token = server
    r = srv.client(token).get(path, params={"page": page, "per_page": 73})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", r.text
    assert srv.client(token).get(path, params={"page": 100_000}).status_code == 200


@pytest.mark.parametrize("page", ["288230376151711744", "9" * 5000])
def test_the_visits_page_takes_a_huge_page_number_without_a_server_error(server, page):
    from tests.web import add_web_user, sign_in

    srv, settings, _ = server
    add_web_user(settings, "Web Practitioner", "practitioner")
    client = srv.client()
    assert sign_in(client, "Web Practitioner").status_code in (200, 303)
    r = client.get("/", params={"page": page})
    assert r.status_code == 200, r.text[-500:]
