"""Retention (issue 26): each period deletes what has expired and nothing else, through the
erasure code, files included; every deletion is audited and the audit chain still verifies; a
dry run deletes nothing; a second pass, or a pass running beside another, deletes nothing more;
the defaults delete nothing; and the dates a view warns the owner by are the dates a pass
deletes at. Time is passed in (``now=``), never slept through. Each test runs on SQLite and on
PostgreSQL where it takes ``db_sessions``."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from assistant.bootstrap import open_database
from assistant.cli import main
from assistant.domain import (
    PseudonymMap,
    RedactedSegment,
    RedactedTranscript,
    Role,
    Segment,
    Transcript,
)
from assistant.jobs.retention import (
    AUDIT_ACTION,
    RetentionItem,
    RetentionKind,
    RetentionPolicy,
    delete_item,
    expiry,
    find_expired,
    run_retention,
)
from assistant.jobs.worker import JobRunner
from assistant.settings import Settings
from assistant.storage import repo
from assistant.storage.db import make_engine, session_factory, session_scope, upgrade
from assistant.storage.keys import AesKeyWrapper, Keyring, generate_key
from assistant.storage.models import AuditEvent, Note, PseudonymMapRow, TranscriptRow
from tests.conftest import LiveServer, free_port, make_settings

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
#: Words that only the transcripts hold (never a note, an audit record or a log line).
SPOKEN = "Zebedee Quartermaine"
NOTE_TEXT = "Visit to see [PERSON_1] at home."
KEYRING = Keyring(AesKeyWrapper(generate_key()))

#: name: (owner, uploaded (days after T0), approved (days after T0; None: a draft), has a note)
RECORDINGS = {
    "approved": ("pat", 0, 2, True),
    "approved_late": ("pat", 0, 20, True),
    "draft": ("pat", 0, None, True),
    "draft_new": ("pat", 20, None, True),
    "failed": ("pat", 0, None, False),  # its job failed: no draft at all
    "leaver": ("lee", 0, 2, True),
    "erased": ("pat", 0, None, True),  # erased by a person before any pass
}
LEAVER_DEACTIVATED = T0 + 5 * DAY


@dataclass
class World:
    ids: dict[str, str]  # name -> recording id
    audio: dict[str, Path]  # name -> audio file
    users: dict[str, str]


def _sections(text: str) -> dict:
    statement = {"text": text, "kind": "observed", "speaker": None, "evidence": ["s0001"]}
    return {"sections": [{"key": "purpose", "title": "Purpose", "statements": [statement]}]}


def _seed_one(s: Session, owner_id: str, audio: Path, spec: tuple) -> str:
    _, uploaded, approved, has_note = spec
    audio.write_bytes(b"RIFF not really audio")
    rec = repo.create_recording(
        session=s,
        owner_id=owner_id,
        visit_type="home visit",
        template="visit_note",
        language="en",
        audio_path=audio,
        audio_sha256="0" * 64,
        size_bytes=21,
        format="wav",
        duration_s=3.0,
    )
    rec.created_at = T0 + uploaded * DAY
    raw = Transcript(
        segments=(Segment(id="s0001", start=0, end=3, text=f"Hello {SPOKEN}."),),
        language="en",
        duration_s=3.0,
        source="audio",
    )
    red = RedactedTranscript(
        segments=(RedactedSegment(id="s0001", start=0, end=3, text="Hello [PERSON_1]."),),
        language="en",
        duration_s=3.0,
        entities=(),
        config_hash="x",
    )
    repo.save_transcript(session=s, recording_id=rec.id, kind="raw", body=raw)
    repo.save_transcript(session=s, recording_id=rec.id, kind="redacted", body=red)
    mapping = PseudonymMap(entries={"[PERSON_1]": SPOKEN})
    repo.save_mapping(session=s, recording_id=rec.id, mapping=mapping)
    job = repo.create_job(session=s, recording_id=rec.id)
    if has_note:
        note = repo.create_note(
            session=s,
            recording_id=rec.id,
            template="visit_note",
            template_version="v1",
            ai_draft=_sections(NOTE_TEXT),
            provenance={"model": {"name": "m", "sha256": "0"}},
            job_id=job.id,
        )
        if approved is not None:
            repo.approve_note(session=s, note_id=note.id, user_id=owner_id, edit_distance=0)
            note.approved_at = T0 + approved * DAY
    status = "done" if has_note else "failed"
    repo.update_job(session=s, job_id=job.id, status=status, finished_at=rec.created_at)
    return rec.id


def seed_world(sessions: sessionmaker[Session], audio_dir: Path) -> World:
    audio_dir.mkdir(parents=True, exist_ok=True)
    with session_scope(sessions) as s:
        users = {
            name: repo.create_user(
                session=s, name=name.title(), role=Role.PRACTITIONER, token_hash=f"{i:064x}"
            ).id
            for i, name in enumerate(("pat", "lee"), start=1)
        }
        audio = {name: audio_dir / f"{name}.wav" for name in RECORDINGS}
        ids = {
            name: _seed_one(s, users[spec[0]], audio[name], spec)
            for name, spec in RECORDINGS.items()
        }
        for path in repo.erase_recording(session=s, recording_id=ids["erased"]):
            path.unlink()
        repo.set_user_active(session=s, user_id=users["lee"], active=False)
        repo.get_user(session=s, user_id=users["lee"]).deactivated_at = LEAVER_DEACTIVATED
    return World(ids=ids, audio=audio, users=users)


@dataclass(frozen=True)
class State:
    """What is left of one recording."""

    erased: bool
    audio_path: bool
    audio_file: bool
    transcripts: int
    notes: int
    mapping: int


def _count(s: Session, model, rid: str) -> int:
    return s.scalar(select(func.count()).select_from(model).where(model.recording_id == rid)) or 0


def states(sessions: sessionmaker[Session], world: World) -> dict[str, State]:
    out = {}
    with session_scope(sessions) as s:
        for name, rid in world.ids.items():
            rec = repo.get_recording(session=s, recording_id=rid)
            out[name] = State(
                erased=rec.erased_at is not None,
                audio_path=rec.audio_path is not None,
                audio_file=world.audio[name].exists(),
                transcripts=_count(s, TranscriptRow, rid),
                notes=_count(s, Note, rid),
                mapping=_count(s, PseudonymMapRow, rid),
            )
    return out


def after(state: State, kind: RetentionKind) -> State:
    """What one deletion of ``kind`` leaves of a recording."""
    if kind in (RetentionKind.DEACTIVATED_OWNER, RetentionKind.UNAPPROVED_DRAFT):
        return State(True, False, False, 0, 0, 0)
    if kind is RetentionKind.AUDIO:
        return replace(state, audio_path=False, audio_file=False)
    return replace(state, transcripts=0)


def audit_rows(sessions: sessionmaker[Session]) -> list[AuditEvent]:
    with session_scope(sessions) as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def chain_intact(sessions: sessionmaker[Session]) -> bool:
    with session_scope(sessions) as s:
        return repo.verify_audit(session=s).intact


A, T, U, D = (
    RetentionKind.AUDIO,
    RetentionKind.TRANSCRIPTS,
    RetentionKind.UNAPPROVED_DRAFT,
    RetentionKind.DEACTIVATED_OWNER,
)


# --- each period deletes exactly what expired -----------------------------------------------
# (policy, now, the deletions expected): "approved" and "leaver" were approved on day 2,
# "approved_late" on day 20; "draft" and "failed" uploaded on day 0, "draft_new" on day 20;
# "lee" was deactivated on day 5; "erased" is gone already and never counted.
PERIODS = [
    pytest.param(
        RetentionPolicy(audio_after_approval=10 * DAY),
        T0 + 15 * DAY,
        {(A, "approved"), (A, "leaver")},
        id="audio-after-approval",
    ),
    pytest.param(
        RetentionPolicy(transcripts_after_approval=10 * DAY),
        T0 + 15 * DAY,
        {(T, "approved"), (T, "leaver")},
        id="transcripts-after-approval",
    ),
    pytest.param(
        RetentionPolicy(unapproved_drafts=10 * DAY),
        T0 + 15 * DAY,
        {(U, "draft"), (U, "failed")},
        id="unapproved-drafts",
    ),
    pytest.param(
        RetentionPolicy(deactivated_users=10 * DAY),
        T0 + 15 * DAY,  # exactly the leaver's deactivation + 10 days: due
        {(D, "leaver")},
        id="deactivated-users",
    ),
    pytest.param(
        RetentionPolicy(deactivated_users=10 * DAY),
        T0 + 15 * DAY - SECOND,
        set(),
        id="deactivated-users-a-second-early",
    ),
    pytest.param(
        RetentionPolicy(
            deactivated_users=10 * DAY,
            unapproved_drafts=10 * DAY,
            audio_after_approval=10 * DAY,
            transcripts_after_approval=10 * DAY,
        ),
        T0 + 15 * DAY,
        {(D, "leaver"), (U, "draft"), (U, "failed"), (A, "approved"), (T, "approved")},
        id="all-four",
    ),
]


@pytest.mark.parametrize(("policy", "now", "expected"), PERIODS)
def test_each_period_deletes_exactly_what_expired(
    db_sessions: sessionmaker[Session], tmp_path: Path, policy, now, expected
) -> None:
    world = seed_world(db_sessions, tmp_path / "uploads")
    before, audit_before = states(db_sessions, world), len(audit_rows(db_sessions))

    report = run_retention(db_sessions, policy, now=now, via="cli")

    by_id = {rid: name for name, rid in world.ids.items()}
    assert {(i.kind, by_id[i.recording_id]) for i in report.deleted} == expected
    assert len(report.deleted) == len(expected) and not report.failed
    want = dict(before)
    for kind, name in expected:
        want[name] = after(want[name], kind)
    assert states(db_sessions, world) == want  # the rest untouched, files included

    new = audit_rows(db_sessions)[audit_before:]
    assert sorted((r.details["kind"], r.object_id) for r in new) == sorted(
        (k.value, world.ids[n]) for k, n in expected
    )
    for row in new:
        assert (row.action, row.object_type, row.actor_id) == (AUDIT_ACTION, "recording", None)
        assert row.details["via"] == "cli" and row.details["period_days"] == 10
        assert row.details["files"] == (0 if row.details["kind"] == "transcripts" else 1)
        for words in (SPOKEN, NOTE_TEXT, "Pat", "Lee", str(tmp_path)):
            assert words not in json.dumps(row.details)
    assert chain_intact(db_sessions)

    again = run_retention(db_sessions, policy, now=now, via="cli")
    assert again.deleted == [] and len(audit_rows(db_sessions)) == audit_before + len(expected)
    assert states(db_sessions, world) == want


def test_dry_run_lists_what_a_run_deletes_and_deletes_nothing(
    db_sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    world = seed_world(db_sessions, tmp_path / "uploads")
    policy = PERIODS[-1].values[0]
    now = T0 + 15 * DAY
    before, audit_before = states(db_sessions, world), len(audit_rows(db_sessions))

    dry = run_retention(db_sessions, policy, now=now, dry_run=True)
    assert dry.dry_run and len(dry.deleted) == 5
    assert states(db_sessions, world) == before
    assert len(audit_rows(db_sessions)) == audit_before
    assert dry.lines()[-1].startswith("retention (dry run: nothing deleted): 5 would delete")

    real = run_retention(db_sessions, policy, now=now)
    assert real.deleted == dry.deleted
    assert states(db_sessions, world) != before


def test_defaults_delete_nothing(
    db_sessions: sessionmaker[Session], tmp_path: Path, monkeypatch
) -> None:
    for blank in ("0", ""):  # a council's empty or zero variable keeps content too
        monkeypatch.setenv("CASEASSIST_RETENTION_UNAPPROVED_DRAFTS_DAYS", blank)
        assert Settings().retention_unapproved_drafts_days is None
    monkeypatch.delenv("CASEASSIST_RETENTION_UNAPPROVED_DRAFTS_DAYS")
    policy = RetentionPolicy.from_settings(Settings())
    assert policy == RetentionPolicy() and not policy.configured
    world = seed_world(db_sessions, tmp_path / "uploads")
    before, audit_before = states(db_sessions, world), len(audit_rows(db_sessions))

    report = run_retention(db_sessions, policy, now=T0 + 100 * 365 * DAY)

    assert report.deleted == [] and states(db_sessions, world) == before
    assert len(audit_rows(db_sessions)) == audit_before


# --- two passes at once ----------------------------------------------------------------------
def _together(*calls):
    barrier = threading.Barrier(len(calls))

    def go(fn):
        barrier.wait()
        return fn()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(go, calls))


def test_two_passes_at_once_delete_and_count_each_item_once(
    db_sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    world = seed_world(db_sessions, tmp_path / "uploads")
    policy = PERIODS[-1].values[0]
    now = T0 + 15 * DAY
    audit_before = len(audit_rows(db_sessions))
    # Both passes found the same items before either deleted one: the worst interleaving.
    items = find_expired(db_sessions, policy, now=now)
    assert find_expired(db_sessions, policy, now=now) == items and len(items) == 5

    def one_pass() -> list[RetentionItem]:
        return [i for i in items if delete_item(db_sessions, policy, i, now=now, via="worker")]

    first, second = _together(one_pass, one_pass)

    assert sorted(first + second, key=str) == sorted(items, key=str)  # each once, by one pass
    new = audit_rows(db_sessions)[audit_before:]
    assert len(new) == len(items) and chain_intact(db_sessions)
    # and whole passes side by side, later: nothing left, nothing audited twice
    reports = _together(*[lambda: run_retention(db_sessions, policy, now=now)] * 2)
    assert [r.deleted for r in reports] == [[], []]
    assert len(audit_rows(db_sessions)) == audit_before + len(items)
    assert states(db_sessions, world)["approved"].audio_file is False


def test_a_draft_approved_after_the_pass_found_it_is_kept(
    db_sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    world = seed_world(db_sessions, tmp_path / "uploads")
    policy = RetentionPolicy(unapproved_drafts=10 * DAY)
    now = T0 + 15 * DAY
    item = RetentionItem(U, world.ids["draft"])
    assert item in find_expired(db_sessions, policy, now=now)
    with session_scope(db_sessions) as s:
        note = s.scalars(select(Note).where(Note.recording_id == item.recording_id)).one()
        repo.approve_note(session=s, note_id=note.id, user_id=world.users["pat"], edit_distance=0)

    assert delete_item(db_sessions, policy, item, now=now, via="worker") is False
    assert states(db_sessions, world)["draft"] == State(False, True, True, 2, 1, 1)


# --- warnings: the dates a view shows are the dates a pass deletes at -------------------------
def _expiries(sessions, world: World, policy: RetentionPolicy, now: datetime) -> dict:
    """(name, part) -> when, from the same inputs the API's views use."""
    out = {}
    with session_scope(sessions) as s:
        for name, rid in world.ids.items():
            rec = repo.get_recording(session=s, recording_id=rid)
            if rec.erased_at is not None:
                continue
            owner = repo.get_user(session=s, user_id=rec.owner_id)
            e = expiry(
                policy,
                uploaded_at=rec.created_at,
                approved_at=repo.approved_at(session=s, recording_id=rid),
                owner_deactivated_at=None if owner.active else owner.deactivated_at,
            )
            for part in ("note_at", "audio_at", "transcripts_at"):
                if getattr(e, part) is not None:
                    out[name, part] = getattr(e, part)
    return out


def _present(state: State, part: str) -> bool:
    if part == "note_at":
        return not state.erased
    return state.audio_path if part == "audio_at" else state.transcripts > 0


def test_expiry_dates_are_when_a_pass_deletes(
    db_sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    world = seed_world(db_sessions, tmp_path / "uploads")
    policy = RetentionPolicy(
        deactivated_users=40 * DAY,
        unapproved_drafts=7 * DAY,
        audio_after_approval=3 * DAY,
        transcripts_after_approval=11 * DAY,
    )
    due = _expiries(db_sessions, world, policy, T0)
    assert due[("draft", "note_at")] == T0 + 7 * DAY == due[("draft", "audio_at")]
    assert ("approved", "note_at") not in due
    assert due[("approved", "audio_at")] == T0 + 5 * DAY
    assert due[("leaver", "note_at")] == LEAVER_DEACTIVATED + 40 * DAY
    assert due[("leaver", "transcripts_at")] == T0 + 13 * DAY
    for when in sorted(set(due.values())):
        run_retention(db_sessions, policy, now=when - SECOND)
        now = states(db_sessions, world)
        assert all(_present(now[n], p) for (n, p), at in due.items() if at >= when)
        run_retention(db_sessions, policy, now=when)
        now = states(db_sessions, world)
        assert not any(_present(now[n], p) for (n, p), at in due.items() if at <= when)
    assert chain_intact(db_sessions)


def test_sqlite_file_keeps_no_trace_of_deleted_transcripts(sqlite_url: str, tmp_path) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    sessions = session_factory(engine, KEYRING)
    db_file = Path(sqlite_url.split("///", 1)[1])

    def on_disk() -> bytes:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))

    try:
        # Debian's SQLite zeroes deleted content by default; the service asks for it everywhere.
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        seed_world(sessions, tmp_path / "uploads")
        # stored encrypted (tests/test_encryption.py): the words are never on disk in clear,
        # so look for the transcripts' ciphertext instead
        assert SPOKEN.encode() not in on_disk()
        with engine.connect() as conn:
            sealed = [
                str(b) for b in conn.exec_driver_sql("SELECT body FROM transcripts").scalars()
            ]
        assert sealed and all(json.loads(b).encode() in on_disk() for b in sealed)
        policy = RetentionPolicy(unapproved_drafts=DAY, transcripts_after_approval=DAY)
        run_retention(sessions, policy, now=T0 + 100 * DAY)
        assert not any(json.loads(b).encode() in on_disk() for b in sealed)
    finally:
        engine.dispose()


# --- the API warns; the worker and the command line run passes --------------------------------
def _now_world(settings) -> tuple[dict, sessionmaker[Session]]:
    """One draft uploaded a day ago, with its job, for a practitioner with a token."""
    from tests.conftest import add_user

    uid, token = add_user(settings, "Sam", "practitioner")
    _, _, sessions = open_database(settings)  # the service's key file
    with session_scope(sessions) as s:
        rid = _seed_one(s, uid, settings.data_dir / "a.wav", ("sam", 0, None, True))
        rec = repo.get_recording(session=s, recording_id=rid)
        rec.created_at = repo.utcnow() - DAY
        job = repo.list_jobs_for_recording(session=s, recording_id=rid)[0]
        ids = {"rec": rid, "job": job.id, "note": job.note_id, "token": token, "user": uid}
    return ids, sessions


def test_views_say_when_parts_expire_and_an_expired_transcript_says_so(tmp_path) -> None:
    import types

    from assistant.api.app import create_app

    settings = make_settings(
        tmp_path,
        run_worker=False,
        retention_unapproved_drafts_days=7,
        retention_audio_after_approval_days=30,
        retention_transcripts_after_approval_days=60,
    )
    settings.data_dir.mkdir(parents=True)
    ids, sessions = _now_world(settings)
    app = create_app(settings, engines=types.SimpleNamespace(models=None))
    with LiveServer(app, free_port()) as srv:
        client = srv.client(ids["token"])
        note = client.get(f"/v1/notes/{ids['note']}").json()
        job = client.get(f"/v1/jobs/{ids['job']}").json()
        with session_scope(sessions) as s:
            uploaded = repo.get_recording(session=s, recording_id=ids["rec"]).created_at
        draft_due = uploaded + 7 * DAY
        assert {k: _dt(v) for k, v in note["expires"].items()} == dict.fromkeys(
            ("note_at", "audio_at", "transcripts_at"), draft_due
        )
        assert job["expires"] == note["expires"]

        approved = client.post(f"/v1/notes/{ids['note']}/approve").json()
        at = _dt(approved["approved_at"])
        assert {k: _dt(v) for k, v in approved["expires"].items()} == {
            "note_at": None,
            "audio_at": at + 30 * DAY,
            "transcripts_at": at + 60 * DAY,
        }
        policy = RetentionPolicy.from_settings(settings)
        deleted = run_retention(sessions, policy, now=at + 60 * DAY)
        assert [i.kind for i in deleted.deleted] == [A, T]
        for path in ("transcript", "transcript/redacted"):
            r = client.get(f"/v1/recordings/{ids['rec']}/{path}")
            assert r.status_code == 404 and r.json()["error"]["code"] == "expired"
        assert client.get(f"/v1/notes/{ids['note']}").json()["status"] == "approved"
    sessions.kw["bind"].dispose()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_worker_runs_a_pass_as_it_starts_only_when_a_period_is_set(tmp_path) -> None:
    import types

    settings = make_settings(tmp_path)
    settings.data_dir.mkdir(parents=True)
    ids, sessions = _now_world(settings)
    stub = types.SimpleNamespace(models=None)
    idle = JobRunner(stub, sessions)
    idle.start()
    idle.stop()
    assert [t.name for t in idle._threads] == ["caseassist-worker"]

    policy = RetentionPolicy(unapproved_drafts=DAY / 2)
    runner = JobRunner(stub, sessions, retention=policy, retention_interval_s=3600)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with session_scope(sessions) as s:
                if repo.get_recording(session=s, recording_id=ids["rec"]).erased_at:
                    break
            time.sleep(0.05)
    finally:
        runner.stop()
    with session_scope(sessions) as s:
        assert repo.get_recording(session=s, recording_id=ids["rec"]).erased_at is not None
        (row,) = repo.list_audit(session=s, action=AUDIT_ACTION)
        assert row.details["via"] == "worker" and row.object_id == ids["rec"]
    assert not (settings.data_dir / "a.wav").exists()
    sessions.kw["bind"].dispose()


def test_cli_retention_run_and_users_deactivate(tmp_path, monkeypatch, capsys) -> None:
    settings = make_settings(tmp_path)
    for name in ("profile", "data_dir", "database_url", "models_dir"):
        monkeypatch.setenv(f"CASEASSIST_{name.upper()}", str(getattr(settings, name)))
    settings.data_dir.mkdir(parents=True)
    ids, sessions = _now_world(settings)

    assert main(["retention", "run"]) == 0  # no period set
    assert "nothing expires" in capsys.readouterr().out

    monkeypatch.setenv("CASEASSIST_RETENTION_UNAPPROVED_DRAFTS_DAYS", "1")
    line = f"unapproved_draft of recording {ids['rec']}"
    assert main(["retention", "run", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"would delete {line}"
    assert out[-1] == (
        "retention (dry run: nothing deleted): 1 would delete (deactivated_owner 0, "
        "unapproved_draft 1, audio 0, transcripts 0)"
    )
    assert (settings.data_dir / "a.wav").exists()
    assert main(["retention", "run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"deleted {line}" and out[-1].startswith("retention: 1 deleted (")
    assert not (settings.data_dir / "a.wav").exists()
    assert main(["retention", "run"]) == 0
    assert capsys.readouterr().out.startswith("retention: 0 deleted (")

    assert main(["users", "deactivate", ids["user"]]) == 0
    assert f"user {ids['user']} is deactivated since" in capsys.readouterr().out
    assert main(["users", "deactivate", ids["user"]]) == 0  # again: the first time stays
    assert main(["users", "deactivate", "0" * 32]) == 2
    with session_scope(sessions) as s:
        user = repo.get_user(session=s, user_id=ids["user"])
        assert not user.active and user.deactivated_at is not None
        assert [e.action for e in repo.list_audit(session=s, object_id=ids["user"])] == [
            "user.deactivate"
        ]
        assert repo.verify_audit(session=s).intact
    sessions.kw["bind"].dispose()


def test_migration_starts_the_period_of_users_already_inactive(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0002_audit_chain")
        with engine.begin() as conn:
            for i, active in enumerate((True, False), start=1):
                conn.execute(
                    text(
                        "INSERT INTO users (id, name, role, token_hash, active, created_at) "
                        "VALUES (:id, 'u', 'practitioner', :hash, :active, :at)"
                    ),
                    {"id": f"{i:032x}", "hash": f"{i:064x}", "active": active, "at": T0},
                )
        before = datetime.now(UTC) - SECOND
        upgrade(engine)
        with session_scope(session_factory(engine)) as s:
            kept, left = (repo.get_user(session=s, user_id=f"{i:032x}") for i in (1, 2))
            assert kept.deactivated_at is None
            assert left.deactivated_at is not None and left.deactivated_at >= before
    finally:
        engine.dispose()
