"""The shared queue (``CASEASSIST_QUEUE=procrastinate``, issue 26): stages taken by workers with
``--stages`` subsets, a worker SIGKILLed mid-job, a job that keeps failing ending failed and
retried by an admin, one note per job however often drafting runs; and the command line's
refusals. PostgreSQL only (a schema of its own per test, procrastinate's tables in it)."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from assistant.cli import main
from assistant.jobs import queue
from assistant.storage import repo
from assistant.storage.db import make_engine, session_factory, session_scope
from tests.conftest import REPO, LiveServer, add_user, free_port, make_settings
from tests.speech import espeak_available, synthesize

needs_speech = pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed")


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    return synthesize(
        "Hello, my name is Grace. I am the social worker. Tom said he is happy "
        "at school and likes football.",
        tmp_path_factory.mktemp("queue") / "speech.wav",
    )


@pytest.fixture
def qsettings(tmp_path, pg_url):
    return make_settings(tmp_path, database_url=pg_url, queue="procrastinate", job_max_attempts=3)


def _upload(settings, wav: Path, token: str) -> str:
    """Upload through the service in queue mode: it runs no stage, only enqueues."""
    from assistant.api.app import create_app

    with LiveServer(create_app(settings), free_port()) as srv:
        with wav.open("rb") as f:
            r = srv.client(token).post("/v1/recordings", files={"audio": ("v.wav", f)})
        assert r.status_code == 202, r.text
        job_id = r.json()["job_id"]
        job = srv.client(token).get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "queued"  # nobody ran it: the service has no worker in queue mode
    return str(job_id)


def _sessions(settings, keyring=None):
    from assistant.bootstrap import load_keyring

    engine = make_engine(settings.resolved_database_url)
    return engine, session_factory(engine, keyring or load_keyring(settings, engine))


def _sql(settings, statement: str, **params):
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.fetchall() if result.returns_rows else []
    finally:
        engine.dispose()


def _job(settings, job_id: str) -> dict:
    row = _sql(
        settings,
        "SELECT status, stage, attempts, error_code, note_id FROM jobs WHERE id = :id",
        id=job_id,
    )[0]
    return dict(zip(("status", "stage", "attempts", "error_code", "note_id"), row, strict=True))


def _notes(settings, job_id: str) -> int:
    recording = _sql(settings, "SELECT recording_id FROM jobs WHERE id = :id", id=job_id)[0][0]
    return int(
        _sql(settings, "SELECT count(*) FROM notes WHERE recording_id = :r", r=recording)[0][0]
    )


def _work(settings, engines, stages=queue.STAGE_NAMES.values()) -> None:
    """An in-process worker for ``stages`` until no message for them is left."""
    db, sessions = _sessions(settings)
    try:
        queue.Worker(settings, engines, sessions, stages=tuple(stages)).run(wait=False)
    finally:
        db.dispose()


# --- end to end ----------------------------------------------------------------------------------
@pytest.mark.models
@pytest.mark.slow
@needs_speech
def test_a_transcribe_worker_and_a_worker_for_the_rest_make_one_note(qsettings, engines, wav):
    _, token = add_user(qsettings, "P", "practitioner")
    job_id = _upload(qsettings, wav, token)

    _work(qsettings, engines, ["drafting"])  # nothing for it yet: the job needs transcribing
    assert _job(qsettings, job_id)["status"] == "queued"
    _work(qsettings, engines, ["transcribing"])
    after_asr = _job(qsettings, job_id)
    assert after_asr["status"] == "queued" and after_asr["note_id"] is None, after_asr
    assert after_asr["stage"] in ("diarising", "redacting")  # waits for the other worker
    _work(qsettings, engines, ["diarising", "redacting", "drafting"])
    done = _job(qsettings, job_id)
    assert done["status"] == "done", done
    assert _notes(qsettings, job_id) == 1

    # a message repeated (at-least-once): it finds the job finished and runs nothing
    db, sessions = _sessions(qsettings)
    try:
        with session_scope(sessions) as s:
            queue.enqueue(s, job_id, "transcribing")
            queue.enqueue(s, job_id, "drafting")
        assert queue.run_stage(engines, sessions, qsettings, job_id, "drafting") == "finished"
    finally:
        db.dispose()
    _work(qsettings, engines)
    assert _job(qsettings, job_id)["status"] == "done"
    assert _notes(qsettings, job_id) == 1


def _thread_nices(pid: int) -> list[int]:
    """The nice value of every thread of process ``pid`` (Linux: field 19 of its stat)."""
    nices = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        nices.append(int(stat.rsplit(")", 1)[1].split()[16]))
    return nices


def test_lower_priority_lowers_this_process_and_zero_leaves_it():
    code = (
        "import os; from assistant.bootstrap import lower_priority; "
        "before = os.nice(0); lower_priority(0); same = os.nice(0); lower_priority(3); "
        "print(same - before, os.nice(0) - before)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", str(min(3, 19 - os.nice(0)))]


@pytest.mark.parametrize("value", ["-1", "20", "x"])
def test_a_worker_nice_out_of_range_is_refused(monkeypatch, value):
    from pydantic import ValidationError

    from assistant.settings import Settings

    monkeypatch.setenv("CASEASSIST_WORKER_NICE", value)
    with pytest.raises(ValidationError, match="worker_nice"):
        Settings()


def _worker_process(settings, *stages: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CASEASSIST_PROFILE": "test",
        "CASEASSIST_DATA_DIR": str(settings.data_dir),
        "CASEASSIST_MODELS_DIR": str(settings.models_dir),
        "CASEASSIST_DATABASE_URL": settings.resolved_database_url,
        "CASEASSIST_QUEUE": "procrastinate",
        "CASEASSIST_ASR_THREADS": "2",
        "CASEASSIST_LLM_THREADS": "2",
        "CASEASSIST_LLM_N_CTX": "4096",
        "CASEASSIST_LLM_MAX_TOKENS": "1024",
    }
    argv = [sys.executable, "-m", "assistant.cli", "worker"]
    if stages:
        argv += ["--stages", ",".join(stages)]
    return subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@pytest.mark.models
@pytest.mark.slow
@needs_speech
def test_a_worker_killed_mid_job_is_finished_by_another_with_one_note(qsettings, engines, wav):
    _, token = add_user(qsettings, "P", "practitioner")
    job_id = _upload(qsettings, wav, token)
    victim = _worker_process(qsettings)  # the real command: `caseassist worker`
    try:
        deadline = time.monotonic() + 300
        # speech recognition begun (the test model's drafting can take under a second: too
        # short a window to aim at on a loaded machine)
        while _job(qsettings, job_id)["status"] != "transcribing":
            assert victim.poll() is None, "the worker exited by itself"
            assert time.monotonic() < deadline, _job(qsettings, job_id)
            time.sleep(0.05)
        # it runs below the service (worker_nice, 10 by default), speech recognition's threads
        # included: they start after the process lowered itself
        expected = min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
        assert set(_thread_nices(victim.pid)) == {expected}
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
    finally:
        if victim.poll() is None:
            victim.kill()
    left = _job(qsettings, job_id)
    assert left["status"] == "transcribing", left  # left half-done
    assert _notes(qsettings, job_id) == 0

    # another worker: its sweeper finds the dead worker's message once its heartbeat is stale
    db, sessions = _sessions(qsettings)
    stop = threading.Event()
    rescuer = threading.Thread(
        target=queue.Worker(qsettings, engines, sessions).run, kwargs={"stop": stop}
    )
    rescuer.start()
    try:
        deadline = time.monotonic() + 300
        while _job(qsettings, job_id)["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, _job(qsettings, job_id)
            time.sleep(0.5)
    finally:
        stop.set()
        rescuer.join(60)
        db.dispose()
    job = _job(qsettings, job_id)
    assert job["status"] == "done", job
    assert job["attempts"] == 1  # one interruption counted
    assert _notes(qsettings, job_id) == 1


class _Broken:
    """Speech recognition failing with an unexpected error (a driver fault, say)."""

    def transcribe(self, *a, **kw):
        raise RuntimeError("simulated fault")


@pytest.mark.models
@pytest.mark.slow
@needs_speech
def test_a_job_that_keeps_failing_is_failed_then_retried_to_done(
    qsettings, engines, wav, monkeypatch, capsys
):
    monkeypatch.setattr(queue, "RETRY_DELAY_S", 0.0)
    _, token = add_user(qsettings, "P", "practitioner")
    _, admin = add_user(qsettings, "A", "admin")
    job_id = _upload(qsettings, wav, token)

    _work(qsettings, dataclasses.replace(engines, transcriber=_Broken()))
    failed = _job(qsettings, job_id)
    assert failed["status"] == "failed" and failed["error_code"] == "internal_error", failed
    assert failed["attempts"] == 3  # job_max_attempts, then the dead letter
    assert _notes(qsettings, job_id) == 0
    # nothing left queued for it: a dead letter stays until someone retries it
    assert not _sql(
        qsettings,
        "SELECT 1 FROM procrastinate_jobs WHERE lock = :id AND status IN ('todo', 'doing')",
        id=job_id,
    )

    for key, value in {
        "CASEASSIST_DATABASE_URL": qsettings.resolved_database_url,
        "CASEASSIST_QUEUE": "procrastinate",
        "CASEASSIST_DATA_DIR": str(qsettings.data_dir),
        "CASEASSIST_MODELS_DIR": str(qsettings.models_dir),
    }.items():
        monkeypatch.setenv(key, value)
    assert main(["jobs", "retry", job_id]) == 0
    assert f"job {job_id} queued again for transcribing" in capsys.readouterr().out
    assert _job(qsettings, job_id)["status"] == "queued"
    audited = _sql(qsettings, "SELECT details FROM audit_events WHERE action = 'job.retry'")
    assert len(audited) == 1

    _work(qsettings, engines)
    assert _job(qsettings, job_id)["status"] == "done"
    assert _notes(qsettings, job_id) == 1

    # the admin endpoint: a job that has not failed is refused, and it stays done
    from assistant.api.app import create_app

    with LiveServer(create_app(qsettings), free_port()) as srv:
        r = srv.client(admin).post(f"/v1/admin/jobs/{job_id}/retry")
        assert r.status_code == 409 and r.json()["error"]["code"] == "job_not_failed"
        r = srv.client(token).post(f"/v1/admin/jobs/{job_id}/retry")
        assert r.status_code == 403  # practitioners may not
        r = srv.client(admin).post("/v1/admin/jobs/nosuchjob/retry")
        assert r.status_code == 404
    assert main(["jobs", "retry", job_id]) == 2
    assert "job_not_failed" in capsys.readouterr().err


@pytest.mark.models
@pytest.mark.slow
@needs_speech
def test_the_admin_endpoint_retries_a_failed_job(qsettings, engines, wav):
    _, token = add_user(qsettings, "P", "practitioner")
    _, admin = add_user(qsettings, "A", "admin")
    job_id = _upload(qsettings, wav, token)
    _sql(
        qsettings,
        "UPDATE jobs SET status = 'failed', error_code = 'interrupted' WHERE id = :id",
        id=job_id,
    )
    _sql(qsettings, "DELETE FROM procrastinate_jobs WHERE lock = :id", id=job_id)
    from assistant.api.app import create_app

    with LiveServer(create_app(qsettings), free_port()) as srv:
        r = srv.client(admin).post(f"/v1/admin/jobs/{job_id}/retry")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "queued" and r.json()["error"] is None
        audit = srv.client(admin).get("/v1/audit", params={"action": "job.retry"}).json()
        assert [a["object_id"] for a in audit] == [job_id]
    _work(qsettings, engines)
    assert _job(qsettings, job_id)["status"] == "done"
    assert _notes(qsettings, job_id) == 1


# --- a job whose workers keep dying -------------------------------------------------------------
def test_a_job_whose_workers_keep_dying_is_queued_again_then_failed(qsettings):
    """The sweeper's half of recovery, without models: a job in progress with no live message
    (its worker died) is queued again at its due stage, one attempt counted, and at
    ``job_max_attempts`` (3) it is failed with ``interrupted``: the dead letter."""
    from assistant.bootstrap import open_database, prepare_dirs
    from tests.conftest import seed_recording

    prepare_dirs(qsettings)
    engine, _, sessions = open_database(qsettings)
    queue.ensure_schema(qsettings)
    queue.ensure_schema(qsettings)  # a second start finds the tables there
    try:
        with session_scope(sessions) as s:
            user = repo.create_user(session=s, name="P", role="practitioner", token_hash="a" * 64)
            rec = seed_recording(s, user.id)  # its transcripts are saved: drafting is due
            job_id = repo.create_job(session=s, recording_id=rec.id).id
            repo.update_job(session=s, job_id=job_id, status="drafting", stage="drafting")
        live = "SELECT queue_name FROM procrastinate_jobs WHERE lock = :id AND status = 'todo'"
        for attempt in (1, 2):
            assert queue.requeue_orphans(sessions, qsettings) == 1
            job = _job(qsettings, job_id)
            assert (job["status"], job["stage"], job["attempts"]) == ("queued", "drafting", attempt)
            assert [r[0] for r in _sql(qsettings, live, id=job_id)] == ["draft"]
            assert queue.requeue_orphans(sessions, qsettings) == 0  # it has a message now
            # a worker takes it and dies mid-stage; the sweep fails its message
            _sql(
                qsettings,
                "UPDATE procrastinate_jobs SET status = 'failed' WHERE lock = :id",
                id=job_id,
            )
            _sql(qsettings, "UPDATE jobs SET status = 'drafting' WHERE id = :id", id=job_id)
        assert queue.requeue_orphans(sessions, qsettings) == 1
        job = _job(qsettings, job_id)
        assert (job["status"], job["error_code"], job["attempts"]) == ("failed", "interrupted", 3)
        assert not _sql(qsettings, live, id=job_id)
        assert queue.requeue_orphans(sessions, qsettings) == 0  # a dead letter stays put
    finally:
        engine.dispose()


# --- one note per job --------------------------------------------------------------------------
def test_the_database_refuses_a_second_note_for_a_job(db_sessions):
    from tests.conftest import seed_recording

    with session_scope(db_sessions) as s:
        user = repo.create_user(session=s, name="P", role="practitioner", token_hash="a" * 64)
        rec = seed_recording(s, user.id)
        job_id = repo.create_job(session=s, recording_id=rec.id).id
        note = {"template": "t", "template_version": "1", "ai_draft": {}, "provenance": {}}
        repo.create_note(session=s, recording_id=rec.id, job_id=job_id, **note)
        rec_id = rec.id
    with pytest.raises(IntegrityError), session_scope(db_sessions) as s:
        repo.create_note(session=s, recording_id=rec_id, job_id=job_id, **note)


# --- the command line's refusals ---------------------------------------------------------------
@pytest.mark.parametrize("stages", ["foo", "transcribe,foo", ",", ""])
def test_worker_refuses_an_unknown_stage(stages, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["worker", "--stages", stages])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--stages" in err and "transcribe,diarise,redact,draft" in err


def test_worker_refuses_the_queue_on_sqlite(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CASEASSIST_QUEUE", "procrastinate")
    monkeypatch.setenv("CASEASSIST_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("CASEASSIST_DATA_DIR", str(tmp_path / "var"))
    assert main(["worker", "--stages", "transcribe"]) == 2
    err = capsys.readouterr().err
    assert "configuration_error" in err and "PostgreSQL" in err
    assert not (tmp_path / "x.db").exists()  # refused before touching anything


def test_worker_refuses_the_embedded_queue(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CASEASSIST_QUEUE", "embedded")
    monkeypatch.setenv("CASEASSIST_DATA_DIR", str(tmp_path / "var"))
    assert main(["worker"]) == 2
    assert "CASEASSIST_QUEUE=procrastinate" in capsys.readouterr().err


def test_stage_names_map_onto_the_pipeline():
    assert queue.parse_stages("draft, transcribe") == ("transcribing", "drafting")
    assert queue.parse_stages("transcribe,diarise,redact,draft") == (
        "transcribing",
        "diarising",
        "redacting",
        "drafting",
    )
