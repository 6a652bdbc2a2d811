"""Issue 26, "What a hostile test of today's service found": each defect, reproduced.

The rule behind them: a success answer means it is stored and audited, an approved note never
changes, and an error never carries the request's content into a log. These tests need no
models: the service runs on stub engines with its worker off, over real HTTP.
"""

from __future__ import annotations

import os
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from assistant.api.app import create_app
from assistant.bootstrap import open_database
from assistant.storage import repo
from assistant.storage.db import make_engine, session_factory, session_scope
from assistant.storage.models import AuditEvent, Note, NoteRevision
from tests.conftest import LiveServer, add_user, free_port, make_settings, seed_recording

SECRET = "Amara Okafor, 14 Rosewood Close, 07700 900123"


def _sections(text_: str) -> dict:
    return {
        "sections": [
            {
                "key": "purpose",
                "title": "Purpose of the visit",
                "statements": [
                    {
                        "text": text_,
                        "kind": "observed",
                        "speaker": None,
                        "evidence": ["s0001"],
                        "flags": [],
                    }
                ],
            }
        ]
    }


STUB_ENGINES = types.SimpleNamespace(models=None)


def _seed(settings) -> dict:
    """A recording with a raw transcript, a note and a finished job, owned by a practitioner."""
    uid, token = add_user(settings, "Sam", "practitioner")
    engine, _, sessions = open_database(settings)
    with session_scope(sessions) as s:
        rec = seed_recording(s, uid)
        job = repo.create_job(session=s, recording_id=rec.id)
        note = repo.create_note(
            session=s,
            recording_id=rec.id,
            template="visit_note",
            template_version="v1",
            ai_draft=_sections("Visit to see [PERSON_1] at home."),
            provenance={"model": {"name": "m", "sha256": "0"}},
            job_id=job.id,
        )
        ids = {"rec": rec.id, "note": note.id, "job": job.id, "user": uid, "token": token}
    engine.dispose()
    return ids


def _server(settings):
    app = create_app(settings, engines=STUB_ENGINES)
    return app, LiveServer(app, free_port())


def _count(settings, model, *where) -> int:
    engine, _, sessions = open_database(settings)
    try:
        with session_scope(sessions) as s:
            return s.scalar(select(func.count()).select_from(model).where(*where)) or 0
    finally:
        engine.dispose()


def _parallel(calls):
    """Run the callables at once (a barrier releases them together); their results in order."""
    barrier = threading.Barrier(len(calls))

    def go(fn):
        barrier.wait()
        return fn()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(go, calls))


# --- 1. ten parallel approvals: one approval, one audit row ---------------------------------
def test_parallel_approvals_approve_once(tmp_path, db_url):
    settings = make_settings(tmp_path, database_url=db_url, run_worker=False)
    ids = _seed(settings)
    app, srv = _server(settings)
    with srv:
        clients = [srv.client(ids["token"]) for _ in range(10)]
        for c in clients:  # connections open before the race
            assert c.get("/health/live").status_code == 200
        answers = _parallel(
            [lambda c=c: c.post(f"/v1/notes/{ids['note']}/approve") for c in clients]
        )
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] + [409] * 9, codes
    assert {r.json()["error"]["code"] for r in answers if r.status_code == 409} == {"note_approved"}
    assert _count(settings, AuditEvent, AuditEvent.action == "note.approve") == 1


# --- 2. five parallel edits and one approval: no 500, nothing after approval ------------------
def test_parallel_edits_and_approval_never_change_an_approved_note(tmp_path, db_url):
    settings = make_settings(tmp_path, database_url=db_url, run_worker=False)
    ids = _seed(settings)
    app, srv = _server(settings)
    with srv:
        clients = [srv.client(ids["token"]) for _ in range(6)]
        for c in clients:
            assert c.get("/health/live").status_code == 200
        url = f"/v1/notes/{ids['note']}"
        calls = [
            lambda c=c, i=i: c.patch(url, json=_sections(f"Edit {i} of the visit."))
            for i, c in enumerate(clients[:5])
        ]
        calls.insert(2, lambda: clients[5].post(f"{url}/approve"))
        answers = _parallel(calls)
    statuses = [r.status_code for r in answers]
    assert 500 not in statuses, [r.text for r in answers]
    assert answers[2].status_code == 200  # the approval
    edits = [r for i, r in enumerate(answers) if i != 2]
    for r in edits:
        assert r.status_code in (200, 409), r.text
        if r.status_code == 409:
            assert r.json()["error"]["code"] == "note_approved"
    ok = sorted(r.json()["revision"] for r in edits if r.status_code == 200)
    assert ok == list(range(2, 2 + len(ok)))  # each answered revision stored, no gaps
    engine, _, sessions = open_database(settings)
    try:
        with session_scope(sessions) as s:
            note = s.get(Note, ids["note"])
            revs = list(s.scalars(select(NoteRevision).where(NoteRevision.note_id == note.id)))
            assert note.status == "approved"
            assert sorted(r.number for r in revs) == [1, *ok]
            assert all(r.created_at <= note.approved_at for r in revs)
    finally:
        engine.dispose()


# --- 3. a database error never puts the request's content into a log ------------------------
def test_a_database_error_logs_no_note_text(tmp_path, capfd, caplog):
    settings = make_settings(tmp_path, run_worker=False)
    ids = _seed(settings)
    engine = make_engine(settings.resolved_database_url)
    with engine.begin() as conn:  # every new revision fails inside the database
        conn.execute(
            text(
                "CREATE TRIGGER no_revisions BEFORE INSERT ON note_revisions "
                "BEGIN SELECT RAISE(ABORT, 'forced failure'); END"
            )
        )
    engine.dispose()
    app, srv = _server(settings)
    with srv:
        r = srv.client(ids["token"]).patch(f"/v1/notes/{ids['note']}", json=_sections(SECRET))
        time.sleep(0.2)
    assert r.status_code == 500
    err = r.json()["error"]
    assert err["code"] == "internal_error" and err["request_id"]
    out, errout = capfd.readouterr()
    logged = out + errout + caplog.text
    assert err["request_id"] in logged  # the failure is logged, by request id ...
    for needle in ("Amara", "Rosewood", "07700"):  # ... and nothing of what was sent
        assert needle not in logged
    assert "Exception in ASGI application" not in logged


# --- 4. a write that fails fails the request; a read without its audit row is not served ----
def _failing_commits(url: str):
    """An engine whose every COMMIT fails, as on a database made immutable under WAL: the
    statements run, the commit cannot be written."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    engine = make_engine(url)

    @event.listens_for(engine, "commit")
    def fail(conn):
        raise OperationalError("COMMIT", None, Exception("disk I/O error"))

    return engine


@pytest.mark.parametrize("failure", ["read_only", "commit_fails"])
def test_database_that_cannot_be_written_fails_writes_and_audited_reads(tmp_path, failure):
    settings = make_settings(tmp_path, run_worker=False)
    ids = _seed(settings)
    app, srv = _server(settings)
    db_path = tmp_path / "test.db"
    with srv:
        client = srv.client(ids["token"])
        assert client.get(f"/v1/notes/{ids['note']}").status_code == 200
        audits = _count(settings, AuditEvent)
        if failure == "read_only":
            broken = make_engine(f"sqlite+pysqlite:///file:{db_path}?mode=ro&uri=true")
        else:
            broken = _failing_commits(settings.resolved_database_url)
        app.state.sessions = session_factory(broken, app.state.keyring)
        try:
            url = f"/v1/notes/{ids['note']}"
            edit = srv.client(ids["token"]).patch(url, json=_sections("A new edit."))
            view = srv.client(ids["token"]).get(url)
        finally:
            broken.dispose()
    assert edit.status_code >= 500, edit.text
    assert view.status_code >= 500, view.text
    assert _count(settings, NoteRevision) == 1
    assert _count(settings, AuditEvent) == audits


# --- 5. stale upload files are removed at start-up -------------------------------------------
def test_start_up_removes_stale_upload_parts(tmp_path):
    settings = make_settings(tmp_path, run_worker=False)
    ids = _seed(settings)
    uploads = settings.uploads_dir
    uploads.mkdir(parents=True, exist_ok=True)
    part = uploads / ".0123456789abcdef.part"
    orphan = uploads / "fedcba9876543210.wav"  # renamed, but its recording never committed
    kept = uploads / "kept.wav"
    for p in (part, orphan, kept):
        p.write_bytes(b"RIFF audio")
        old = time.time() - 3600
        os.utime(p, (old, old))
    engine, _, sessions = open_database(settings)
    with session_scope(sessions) as s:
        repo.get_recording(session=s, recording_id=ids["rec"]).audio_path = str(kept)
    engine.dispose()
    app, srv = _server(settings)
    with srv:
        pass
    assert not part.exists()
    assert not orphan.exists()
    assert kept.exists()


# --- 6. a job is not readable after its recording is erased ----------------------------------
def test_job_not_found_after_erasure(tmp_path):
    settings = make_settings(tmp_path, run_worker=False)
    ids = _seed(settings)
    app, srv = _server(settings)
    with srv:
        client = srv.client(ids["token"])
        assert client.get(f"/v1/jobs/{ids['job']}").status_code == 200
        assert client.delete(f"/v1/recordings/{ids['rec']}").status_code == 204
        r = client.get(f"/v1/jobs/{ids['job']}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


# --- 7. security headers ----------------------------------------------------------------------
def test_security_headers(tmp_path):
    settings = make_settings(tmp_path, run_worker=False)
    ids = _seed(settings)
    app, srv = _server(settings)
    with srv:
        client = srv.client(ids["token"])
        answers = [
            client.get(f"/v1/notes/{ids['note']}"),
            client.get("/v1/notes/nope"),
            srv.client().get("/health/live"),
        ]
        docs = client.get("/docs")
    for r in answers + [docs]:
        h = r.headers
        assert h["cache-control"] == "no-store"
        assert h["x-content-type-options"] == "nosniff"
        assert h["x-frame-options"] == "DENY"
        assert h["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in h["content-security-policy"]
    for r in answers:
        assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert docs.status_code == 200
    # Swagger UI's script and style come from its CDN unless served locally: the page's policy
    # must allow exactly what the page loads.
    csp = docs.headers["content-security-policy"]
    for url in ("https://cdn.jsdelivr.net",):
        if url in docs.text:
            assert url in csp


# --- 8. failed sign-ins are audited and throttled ---------------------------------------------
def test_failed_sign_ins_are_audited_and_throttled(tmp_path, capfd, caplog):
    settings = make_settings(tmp_path, run_worker=False)
    ids = _seed(settings)
    app, srv = _server(settings)
    bad = "ca_not-a-real-token-" + "x" * 20
    with srv:
        client = srv.client(bad)
        answers = [client.get(f"/v1/notes/{ids['note']}") for _ in range(12)]
        good = srv.client(ids["token"]).get(f"/v1/notes/{ids['note']}")
    assert [r.status_code for r in answers[:10]] == [401] * 10
    for r in answers[10:]:
        assert r.status_code == 429
        assert r.json()["error"]["code"] == "too_many_attempts"
        assert int(r.headers["retry-after"]) > 0
    assert good.status_code == 429  # the address is throttled, whatever the token
    engine, _, sessions = open_database(settings)
    try:
        with session_scope(sessions) as s:
            rows = repo.list_audit(session=s, action="auth.failed")
            assert len(rows) == 10
            assert all(r.actor_id is None for r in rows)
            assert all(bad not in str(r.details) for r in rows)
            assert rows[0].details.get("client") == "127.0.0.1"
    finally:
        engine.dispose()
    out, err = capfd.readouterr()
    assert bad not in out + err + caplog.text


def test_the_token_failure_limit_is_a_setting(tmp_path):
    """CASEASSIST_API_TOKEN_ATTEMPTS (the API fuzz run raises it, or every case after the
    tenth bad token would be a 429)."""
    settings = make_settings(tmp_path, run_worker=False, api_token_attempts=3)
    ids = _seed(settings)
    _, srv = _server(settings)
    with srv:
        client = srv.client("ca_not-a-real-token-" + "x" * 20)
        codes = [client.get(f"/v1/notes/{ids['note']}").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


# --- 9. implausible visit dates and unknown languages are refused before anything is stored --
@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"visit_date": "0001-01-01"}, "invalid_visit_date"),
        ({"visit_date": "1989-12-31"}, "invalid_visit_date"),
        ({"visit_date": (date.today() + timedelta(days=2)).isoformat()}, "invalid_visit_date"),
        ({"language": "xx"}, "unsupported_language"),
        ({"language": "zzz"}, "unsupported_language"),
    ],
)
def test_implausible_upload_fields_refused(tmp_path, fields, code):
    settings = make_settings(tmp_path, run_worker=False)
    ids = _seed(settings)
    app, srv = _server(settings)
    with srv:
        r = srv.client(ids["token"]).post(
            "/v1/recordings", files={"audio": ("a.wav", b"RIFF" + b"\0" * 100)}, data=fields
        )
    assert r.status_code in (400, 422) and r.json()["error"]["code"] == code, r.text
    from assistant.storage.models import Recording

    assert _count(settings, Recording) == 1  # only the seeded one
    assert [p.name for p in settings.uploads_dir.iterdir()] == []


# --- 10. the OpenAPI declares the error answers -----------------------------------------------
def test_openapi_declares_error_responses(tmp_path):
    settings = make_settings(tmp_path, run_worker=False)
    app = create_app(settings, engines=STUB_ENGINES)
    spec = app.openapi()
    assert "ErrorResponse" in spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, op in ops.items():
            for status in ("401", "403", "404"):
                assert status in op["responses"], (method, path, status)
                schema = op["responses"][status]["content"]["application/json"]["schema"]
                assert schema["$ref"].endswith("/ErrorResponse"), (method, path, status)
