"""Jobs survive a restart: an interrupted job is requeued and resumes from its last saved
stage; one that keeps being interrupted fails with a reason."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from assistant.api.app import create_app
from tests.conftest import LiveServer, add_user, free_port, make_settings, wait_for_job
from tests.speech import espeak_available, synthesize

pytestmark = [
    pytest.mark.models,
    pytest.mark.slow,
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed"),
]


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    return synthesize(
        "Hello, my name is Grace. I am the social worker. Tom said he is happy "
        "at school and likes football.",
        tmp_path_factory.mktemp("restart") / "speech.wav",
    )


def _sql(settings, statement, **params):
    engine = create_engine(settings.resolved_database_url)
    with engine.begin() as conn:
        result = conn.execute(text(statement), params)
        rows = result.fetchall() if result.returns_rows else None
    engine.dispose()
    return rows


class CountingTranscriber:
    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def transcribe(self, *a, **kw):
        self.calls += 1
        return self.inner.transcribe(*a, **kw)


def _upload(settings, engines, wav, token):
    """Upload with the worker off, as if the service died right after answering 202."""
    with LiveServer(
        create_app(settings.model_copy(update={"run_worker": False}), engines=engines), free_port()
    ) as srv:
        with wav.open("rb") as f:
            r = srv.client(token).post("/v1/recordings", files={"audio": ("v.wav", f)})
        assert r.status_code == 202
        return r.json()["job_id"]


def test_job_interrupted_mid_stage_is_requeued_and_finishes(tmp_path, engines, wav):
    settings = make_settings(tmp_path)
    _, token = add_user(settings, "P", "practitioner")
    job_id = _upload(settings, engines, wav, token)
    # the process died while transcribing
    _sql(
        settings,
        "update jobs set status='transcribing', stage='transcribing' where id=:id",
        id=job_id,
    )
    with LiveServer(create_app(settings, engines=engines), free_port()) as srv:
        job = wait_for_job(srv.client(token), job_id)
    assert job["status"] == "done", job
    assert job["attempts"] >= 1


def test_resume_skips_stages_already_saved(tmp_path, engines, wav):
    settings = make_settings(tmp_path)
    _, token = add_user(settings, "P", "practitioner")
    with LiveServer(create_app(settings, engines=engines), free_port()) as srv:
        first = wait_for_job(srv.client(token), _upload(settings, engines, wav, token))
        assert first["status"] == "done"
    # Simulate a crash after the transcript was saved but before the note: drop the note and
    # redacted transcript, mark the job as interrupted in the drafting stage.
    rec = first["recording_id"]
    _sql(settings, "delete from note_revisions where note_id=:n", n=first["note_id"])
    _sql(
        settings, "update jobs set note_id=null, status='drafting' where id=:id", id=first["job_id"]
    )
    _sql(settings, "delete from notes where id=:n", n=first["note_id"])
    _sql(settings, "delete from transcripts where recording_id=:r and kind='redacted'", r=rec)
    counting = CountingTranscriber(engines.transcriber)
    original = engines.transcriber
    engines.transcriber = counting
    try:
        with LiveServer(create_app(settings, engines=engines), free_port()) as srv:
            job = wait_for_job(srv.client(token), first["job_id"])
    finally:
        engines.transcriber = original
    assert job["status"] == "done" and job["note_id"]
    assert counting.calls == 0, "the saved transcript must be reused, not re-transcribed"


def test_job_interrupted_too_often_fails_with_a_reason(tmp_path, engines, wav):
    settings = make_settings(tmp_path, job_max_attempts=2)
    _, token = add_user(settings, "P", "practitioner")
    job_id = _upload(settings, engines, wav, token)
    _sql(settings, "update jobs set status='drafting', attempts=2 where id=:id", id=job_id)
    with LiveServer(create_app(settings, engines=engines), free_port()) as srv:
        job = wait_for_job(srv.client(token), job_id)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "interrupted"
