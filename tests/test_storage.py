"""Storage specification: every test runs on SQLite and on PostgreSQL (``db_url`` fixture),
each on a database of its own migrated to head by ``db.upgrade``."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant.domain import (
    DraftNote,
    DraftProvenance,
    EntitySpan,
    JobStatus,
    ModelRef,
    NoteSection,
    PseudonymMap,
    RedactedSegment,
    RedactedTranscript,
    Role,
    Segment,
    Statement,
    Transcript,
)
from assistant.errors import ConfigurationError, DecryptionFailed, NoteLocked, NotFound
from assistant.notes import NoteBody
from assistant.storage import repo
from assistant.storage.crypto import MappingCipher, MappingDecryptionError
from assistant.storage.db import (
    alembic_config,
    make_engine,
    session_factory,
    session_scope,
    upgrade,
)
from assistant.storage.keys import AesKeyWrapper, Keyring, generate_key
from assistant.storage.models import (
    AppendOnlyViolation,
    AuditEvent,
    Base,
    Note,
    NoteRevision,
    PseudonymMapRow,
    Recording,
    TranscriptRow,
    User,
)

NAMES = {"[PERSON_1]": "Kayleigh Featherstonehaugh", "[ADDRESS_1]": "14 Larkspur Close"}


# --- builders -----------------------------------------------------------------------------
def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(s: Session, name: str = "Pat", role: Role = Role.PRACTITIONER) -> User:
    return repo.create_user(session=s, name=name, role=role, token_hash=token_hash(name + role))


def add_recording(s: Session, owner: User, audio: str = "/var/audio/x.wav") -> Recording:
    return repo.create_recording(
        session=s,
        owner_id=owner.id,
        visit_type="home_visit",
        visit_date=date(2025, 3, 4),
        template="visit_note",
        language="en",
        audio_path=audio,
        audio_sha256="0" * 64,
        size_bytes=1234,
        duration_s=61.5,
        format="wav",
    )


def raw_transcript() -> Transcript:
    seg = Segment(id="s0001", start=0.0, end=2.0, text="Kayleigh Featherstonehaugh lives here")
    return Transcript(segments=(seg,), language="en", duration_s=2.0, source="audio")


def redacted_transcript() -> RedactedTranscript:
    seg = RedactedSegment(id="s0001", start=0.0, end=2.0, text="[PERSON_1] lives here")
    span = EntitySpan(
        segment_id="s0001",
        start=0,
        end=26,
        entity_type="PERSON",
        placeholder="[PERSON_1]",
        score=0.9,
        recognizer="spacy",
    )
    return RedactedTranscript(
        segments=(seg,), language="en", duration_s=2.0, entities=(span,), config_hash="c" * 64
    )


def draft_note() -> DraftNote:
    provenance = DraftProvenance(
        template="visit_note",
        template_version="v1",
        prompt_sha256="p" * 64,
        model=ModelRef(name="tiny", sha256="m" * 64),
        redaction_config_hash="c" * 64,
        attempts=1,
        seed=0,
    )
    statement = Statement(text="[PERSON_1] was at home.", evidence=("s0001",))
    section = NoteSection(key="observations", title="Observations", statements=(statement,))
    return DraftNote(sections=(section,), provenance=provenance)


def add_note(s: Session, rec: Recording, job_id: str | None = None) -> Note:
    draft = draft_note()
    return repo.create_note(
        session=s,
        recording_id=rec.id,
        template="visit_note",
        template_version="v1",
        ai_draft=draft,
        provenance=draft.provenance,
        job_id=job_id,
    )


def count(s: Session, model: type[Base], **where: str) -> int:
    stmt = select(func.count()).select_from(model)
    for column, value in where.items():
        stmt = stmt.where(getattr(model, column) == value)
    return int(s.scalar(stmt) or 0)


# --- migrations ---------------------------------------------------------------------------
def test_migrations_reach_head_and_match_the_models(db_engine: Engine) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head == "0013_user_team"
    upgrade(db_engine)  # idempotent at head
    with db_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert context.get_current_revision() == head
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_accepts_a_url(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
            assert revision == "0013_user_team"
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_schema_holds_the_tables_and_the_version_table(pg_url: str) -> None:
    upgrade(pg_url)
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            schema = conn.scalar(text("SELECT current_schema()"))
            rows = conn.execute(
                text(
                    "SELECT table_schema FROM information_schema.tables "
                    "WHERE table_name IN ('alembic_version', 'users') "
                    # other tests' schemas (t_...) and a running benchmark's (bench_...,
                    # benchmarks/live_service.py) may exist at the same time; any other
                    # schema holding the tables (public, say) would be a leak
                    "AND (table_schema = current_schema() OR (table_schema NOT LIKE 't\\_%' "
                    "AND table_schema NOT LIKE 'bench\\_%'))"
                )
            ).all()
        assert schema.startswith("t_")
        assert sorted(r[0] for r in rows) == [schema, schema]
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_check_constraints_accept_every_domain_value(db_sessions: sessionmaker[Session]) -> None:
    with session_scope(db_sessions) as s:
        users = [add_user(s, name=f"u{i}", role=role) for i, role in enumerate(Role)]
        job = repo.create_job(session=s, recording_id=add_recording(s, users[0]).id)
        for status in JobStatus:
            repo.update_job(session=s, job_id=job.id, status=status)
    with pytest.raises(IntegrityError), session_scope(db_sessions) as s:
        s.add(User(name="x", role="superuser", token_hash="f" * 64))
        s.flush()


# --- users and recordings -----------------------------------------------------------------
def test_users_are_found_by_token_hash_only_while_active(
    db_sessions: sessionmaker[Session],
) -> None:
    with session_scope(db_sessions) as s:
        pat = add_user(s, "Pat")
        assert repo.user_by_token_hash(session=s, token_hash=pat.token_hash) == pat
        assert repo.user_by_token_hash(session=s, token_hash="e" * 64) is None
        repo.set_user_active(session=s, user_id=pat.id, active=False)
        assert repo.user_by_token_hash(session=s, token_hash=pat.token_hash) is None
        found = repo.user_by_token_hash(session=s, token_hash=pat.token_hash, include_inactive=True)
        assert found == pat
        assert pat.created_at.tzinfo is not None
        with pytest.raises(ValueError, match="sha256"):
            repo.create_user(session=s, name="x", role=Role.ADMIN, token_hash="plain-token")
    with pytest.raises(IntegrityError), session_scope(db_sessions) as s:
        repo.create_user(session=s, name="dup", role=Role.ADMIN, token_hash=pat.token_hash)


def test_recordings_are_visible_to_their_owner_and_managers(
    db_sessions: sessionmaker[Session],
) -> None:
    with session_scope(db_sessions) as s:
        pat, sam = add_user(s, "Pat"), add_user(s, "Sam")
        boss = add_user(s, "Boss", Role.MANAGER)
        rec = add_recording(s, pat)
        rec_id = rec.id
    with session_scope(db_sessions) as s:
        rec = repo.get_recording(session=s, recording_id=rec_id)
        assert (rec.visit_date, rec.duration_s, rec.format) == (date(2025, 3, 4), 61.5, "wav")
        assert rec.created_at.tzinfo == UTC
        assert not hasattr(rec, "filename")
        assert [r.id for r in repo.list_recordings_for(session=s, user=pat)] == [rec_id]
        assert repo.list_recordings_for(session=s, user=sam) == []
        assert [r.id for r in repo.list_recordings_for(session=s, user=boss)] == [rec_id]
        assert repo.get_recording_for(session=s, recording_id=rec_id, user=boss).id == rec_id
        with pytest.raises(NotFound):
            repo.get_recording_for(session=s, recording_id=rec_id, user=sam)


# --- jobs ---------------------------------------------------------------------------------
def test_job_lifecycle(db_sessions: sessionmaker[Session]) -> None:
    with session_scope(db_sessions) as s:
        rec = add_recording(s, add_user(s))
        job = repo.create_job(session=s, recording_id=rec.id)
        assert (job.status, job.progress, job.attempts, job.timings) == ("queued", 0.0, 0, {})
        job_id = job.id
    with session_scope(db_sessions) as s:
        repo.update_job(session=s, job_id=job_id, status=JobStatus.REDACTING, progress=0.5)
        repo.record_stage_timing(session=s, job_id=job_id, stage="transcribe", wall_s=3, rtf=0.1)
        repo.record_stage_timing(session=s, job_id=job_id, stage="redact", wall_s=1, rtf=None)
        repo.update_job(session=s, job_id=job_id, status="done", progress=1.0)
        with pytest.raises(ValueError, match="progress"):
            repo.update_job(session=s, job_id=job_id, progress=1.5)
        with pytest.raises(TypeError, match="unknown"):
            repo.update_job(session=s, job_id=job_id, recording_id="other")
    with session_scope(db_sessions) as s:
        job = repo.get_job(session=s, job_id=job_id)
        assert job.status == "done" and job.finished_at is not None
        assert job.timings == {
            "transcribe": {"wall_s": 3.0, "rtf": 0.1},
            "redact": {"wall_s": 1.0, "rtf": None},
        }
        assert [j.id for j in repo.list_jobs_for_recording(session=s, recording_id=rec.id)] == [
            job_id
        ]


def test_claim_takes_the_oldest_queued_job(db_sessions: sessionmaker[Session]) -> None:
    with session_scope(db_sessions) as s:
        assert repo.claim_next_job(session=s) is None
        rec = add_recording(s, add_user(s))
        first, second = (repo.create_job(session=s, recording_id=rec.id) for _ in range(2))
        first_id, second_id = first.id, second.id
    with session_scope(db_sessions) as s:
        job = repo.claim_next_job(session=s)
        assert job is not None and job.id == first_id
        assert (job.status, job.stage) == ("transcribing", "transcribing")
        assert job.started_at is not None and job.heartbeat_at is not None
    with session_scope(db_sessions) as s:
        job = repo.claim_next_job(session=s, status=JobStatus.REDACTING)
        assert job is not None and (job.id, job.status) == (second_id, "redacting")
        assert repo.claim_next_job(session=s) is None


def test_concurrent_claimers_never_share_a_job(db_sessions: sessionmaker[Session]) -> None:
    with session_scope(db_sessions) as s:
        rec = add_recording(s, add_user(s))
        job_ids = {repo.create_job(session=s, recording_id=rec.id).id for _ in range(24)}
    start = threading.Barrier(4)

    def worker() -> list[str]:
        start.wait()
        mine = []
        while True:
            with session_scope(db_sessions) as s:
                job = repo.claim_next_job(session=s)
                if job is None:
                    return mine
                mine.append(job.id)

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(worker) for _ in range(4)]
        claimed = [job_id for f in futures for job_id in f.result(timeout=120)]
    assert sorted(claimed) == sorted(job_ids)  # every job once, none twice


@pytest.mark.postgres
def test_postgresql_claimers_skip_a_row_locked_by_an_open_claim(pg_url: str) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    try:
        with session_scope(factory) as s:
            rec = add_recording(s, add_user(s))
            ids = [repo.create_job(session=s, recording_id=rec.id).id for _ in range(2)]
        with factory() as a, factory() as b:
            job_a = repo.claim_next_job(session=a)  # not committed: row still locked
            b.execute(text("SET LOCAL lock_timeout = '5s'"))  # fail, don't hang, if b waits
            job_b = repo.claim_next_job(session=b)
            assert job_a is not None and job_b is not None
            assert [job_a.id, job_b.id] == ids
            assert repo.claim_next_job(session=b) is None
            a.commit()
            b.commit()
    finally:
        engine.dispose()


# (status before, attempts before) -> (status after, attempts after, error_code after)
REQUEUE_CASES = [
    ("transcribing", 0, "queued", 1, None),
    ("redacting", 1, "queued", 2, None),
    ("drafting", 2, "failed", 3, "interrupted"),
    ("queued", 0, "queued", 0, None),
    ("done", 0, "done", 0, None),
    ("failed", 1, "failed", 1, "boom"),
]


def test_requeue_interrupted_jobs(db_sessions: sessionmaker[Session]) -> None:
    with session_scope(db_sessions) as s:
        rec = add_recording(s, add_user(s))
        ids = []
        for status, attempts, *_ in REQUEUE_CASES:
            job = repo.create_job(session=s, recording_id=rec.id)
            error_code = "boom" if status == "failed" else None
            repo.update_job(
                session=s,
                job_id=job.id,
                status=status,
                stage=status,
                attempts=attempts,
                error_code=error_code,
                heartbeat_at=datetime.now(UTC),
            )
            ids.append(job.id)
    with session_scope(db_sessions) as s:
        assert repo.requeue_interrupted_jobs(session=s, max_attempts=3) == 3
    with session_scope(db_sessions) as s:
        for job_id, (_, _, status, attempts, error_code) in zip(ids, REQUEUE_CASES, strict=True):
            job = repo.get_job(session=s, job_id=job_id)
            assert (job.status, job.attempts, job.error_code) == (status, attempts, error_code)
        requeued = repo.get_job(session=s, job_id=ids[0])
        assert requeued.heartbeat_at is None and requeued.progress == 0.0


def test_requeue_with_stale_before_spares_live_jobs(db_sessions: sessionmaker[Session]) -> None:
    now = datetime.now(UTC)
    with session_scope(db_sessions) as s:
        rec = add_recording(s, add_user(s))
        live, stale = (repo.create_job(session=s, recording_id=rec.id) for _ in range(2))
        repo.update_job(session=s, job_id=live.id, status="drafting", heartbeat_at=now)
        old = now - timedelta(minutes=10)
        repo.update_job(session=s, job_id=stale.id, status="drafting", heartbeat_at=old)
    with session_scope(db_sessions) as s:
        cutoff = now - timedelta(minutes=5)
        assert repo.requeue_interrupted_jobs(session=s, max_attempts=3, stale_before=cutoff) == 1
        assert repo.get_job(session=s, job_id=live.id).status == "drafting"
        assert repo.get_job(session=s, job_id=stale.id).status == "queued"


# --- transcripts --------------------------------------------------------------------------
def test_transcripts_round_trip_as_domain_values(db_sessions: sessionmaker[Session]) -> None:
    with session_scope(db_sessions) as s:
        rec = add_recording(s, add_user(s))
        repo.save_transcript(session=s, recording_id=rec.id, kind="raw", body=raw_transcript())
        repo.save_transcript(
            session=s, recording_id=rec.id, kind="redacted", body=redacted_transcript()
        )
        # a re-run replaces, it does not duplicate
        repo.save_transcript(session=s, recording_id=rec.id, kind="raw", body=raw_transcript())
        with pytest.raises(ValueError):
            repo.save_transcript(
                session=s, recording_id=rec.id, kind="raw", body=redacted_transcript()
            )
    with session_scope(db_sessions) as s:
        assert repo.get_transcript(session=s, recording_id=rec.id, kind="raw") == raw_transcript()
        redacted = repo.get_transcript(session=s, recording_id=rec.id, kind="redacted")
        assert redacted == redacted_transcript()
        assert count(s, TranscriptRow, recording_id=rec.id) == 2


# --- notes and revisions ------------------------------------------------------------------
def test_revisions_append_and_approval_locks(db_sessions: sessionmaker[Session]) -> None:
    with session_scope(db_sessions) as s:
        pat = add_user(s)
        rec = add_recording(s, pat)
        job = repo.create_job(session=s, recording_id=rec.id)
        note = add_note(s, rec, job_id=job.id)
        assert repo.get_job(session=s, job_id=job.id).note_id == note.id
        first = repo.latest_revision(session=s, note_id=note.id)
        assert (first.number, first.author_id) == (1, None)
        assert first.body == draft_note().model_dump(mode="json") == note.ai_draft
        assert note.provenance["template_version"] == "v1"
        for i in (2, 3):
            body = {"sections": [{"key": "observations", "text": f"edit {i}"}]}
            rev = repo.add_revision(session=s, note_id=note.id, body=body, author_id=pat.id)
            assert rev.number == i
    with session_scope(db_sessions) as s:
        revisions = repo.list_revisions(session=s, note_id=note.id)
        assert [r.number for r in revisions] == [1, 2, 3]
        assert revisions[0].body == note.ai_draft  # the AI draft is never overwritten
        approved = repo.approve_note(session=s, note_id=note.id, user_id=pat.id, edit_distance=7)
        assert (approved.status, approved.approved_by, approved.edit_distance) == (
            "approved",
            pat.id,
            7,
        )
        assert approved.approved_at is not None
    with session_scope(db_sessions) as s:
        with pytest.raises(NoteLocked):
            repo.add_revision(session=s, note_id=note.id, body={"x": 1}, author_id=pat.id)
        with pytest.raises(NoteLocked):
            repo.approve_note(session=s, note_id=note.id, user_id=pat.id, edit_distance=0)
        assert repo.latest_revision(session=s, note_id=note.id).number == 3


def test_note_body_and_review_are_stored_in_the_shape_rows_always_had(
    db_sessions: sessionmaker[Session],
) -> None:
    draft = draft_note()
    provenance = draft.provenance.model_dump(mode="json")
    review = {"verification": {"total": 1}, "gating": {"removed": 0}, "removed_claims": []}
    with session_scope(db_sessions) as s:
        rec = add_recording(s, add_user(s))
        kwargs = {"session": s, "recording_id": rec.id, "template": "visit_note"}
        typed = repo.create_note(
            **kwargs,
            template_version="v1",
            ai_draft=NoteBody.from_draft(draft),
            provenance=draft.provenance,
            review=review,
        )
        # as rows were written before the note body was typed: dicts, review in provenance
        legacy = repo.create_note(
            **kwargs,
            template_version="v1",
            ai_draft={"sections": draft.model_dump(mode="json")["sections"]},
            provenance={**provenance, "review": review},
        )
        with pytest.raises(ValueError, match="twice"):
            repo.create_note(
                **kwargs,
                template_version="v1",
                ai_draft=NoteBody.from_draft(draft),
                provenance={**provenance, "review": review},
                review=review,
            )
    with session_scope(db_sessions) as s:
        a, b = (repo.get_note(session=s, note_id=n.id) for n in (typed, legacy))
        assert (a.ai_draft, a.provenance) == (b.ai_draft, b.provenance)
        for note in (a, b):
            assert repo.note_provenance(note) == provenance
            assert repo.note_review(note) == review
            assert repo.latest_body(session=s, note_id=note.id) == NoteBody.from_draft(draft)
            assert repo.ai_draft_body(note) == NoteBody.from_draft(draft)


def test_history_rows_refuse_orm_updates_and_audit_deletes(
    db_sessions: sessionmaker[Session],
) -> None:
    with session_scope(db_sessions) as s:
        note = add_note(s, add_recording(s, add_user(s)))
        event = repo.add_audit(
            session=s,
            actor_id=None,
            action="note.view",
            object_type="note",
            object_id=note.id,
            request_id="r1",
        )
    with pytest.raises(AppendOnlyViolation), session_scope(db_sessions) as s:
        repo.latest_revision(session=s, note_id=note.id).body = {"tampered": True}
    with pytest.raises(AppendOnlyViolation), session_scope(db_sessions) as s:
        s.delete(s.get(AuditEvent, event.id))
    with session_scope(db_sessions) as s:
        assert repo.latest_revision(session=s, note_id=note.id).body == note.ai_draft
        assert count(s, AuditEvent) == 1


# --- pseudonym maps -----------------------------------------------------------------------
def test_mapping_is_encrypted_at_rest(db_sessions: sessionmaker[Session]) -> None:
    mapping = PseudonymMap(entries=NAMES)
    with session_scope(db_sessions) as s:
        rec = add_recording(s, add_user(s))
        repo.save_mapping(session=s, recording_id=rec.id, mapping=mapping)
    with session_scope(db_sessions) as s:
        row = s.get(PseudonymMapRow, rec.id)
        assert row is not None and row.key_id == "data-key"
        for secret in [*NAMES.values(), *NAMES.keys(), "Featherstonehaugh", "Larkspur"]:
            assert secret.encode() not in row.ciphertext
            assert secret.encode("utf-16-le") not in row.ciphertext
        assert repo.load_mapping(session=s, recording_id=rec.id) == mapping


def test_mapping_with_the_wrong_key_fails_without_leaking(
    db_engine: Engine, db_sessions: sessionmaker[Session]
) -> None:
    with session_scope(db_sessions) as s:
        owner = add_user(s)
        rec, other = add_recording(s, owner), add_recording(s, owner)
        repo.save_mapping(session=s, recording_id=rec.id, mapping=PseudonymMap(entries=NAMES))
        repo.save_mapping(session=s, recording_id=other.id, mapping=PseudonymMap(entries={}))
    # another key-encryption key cannot unwrap the recording's data key
    stranger = session_factory(db_engine, Keyring(AesKeyWrapper(generate_key())))
    with session_scope(stranger) as s:
        with pytest.raises(ConfigurationError, match="not configured") as info:
            repo.load_mapping(session=s, recording_id=rec.id)
        assert "Kayleigh" not in str(info.value)
    with session_scope(db_sessions) as s:
        # a blob moved onto another recording's row does not decrypt: the id is bound in
        blob = s.get(PseudonymMapRow, rec.id).ciphertext  # type: ignore[union-attr]
        s.get(PseudonymMapRow, other.id).ciphertext = blob  # type: ignore[union-attr]
        s.flush()
        with pytest.raises(DecryptionFailed) as failed:
            repo.load_mapping(session=s, recording_id=other.id)
        assert "Kayleigh" not in str(failed.value)
        assert repo.load_mapping(session=s, recording_id=rec.id).entries == NAMES


def test_cipher_rejects_wrong_keys_and_bad_blobs() -> None:
    key = MappingCipher.generate_key()
    cipher, other = MappingCipher(key), MappingCipher(MappingCipher.generate_key())
    blob = cipher.encrypt(PseudonymMap(entries=NAMES))
    assert cipher.key_id == hashlib.sha256(key).hexdigest()[:8] != other.key_id
    assert key.hex() not in repr(cipher)
    for bad_cipher, bad_blob in [(other, blob), (cipher, blob[:-1] + b"\0"), (cipher, b"\x01")]:
        with pytest.raises(MappingDecryptionError) as info:
            bad_cipher.decrypt(bad_blob)
        assert "Kayleigh" not in str(info.value) and "PERSON" not in str(info.value)
    with pytest.raises(Exception, match="32 random bytes"):
        MappingCipher(b"short")


# --- erasure ------------------------------------------------------------------------------
def test_erase_removes_content_but_keeps_audit_rows(db_sessions: sessionmaker[Session]) -> None:
    with session_scope(db_sessions) as s:
        pat = add_user(s)
        rec, kept = add_recording(s, pat, "/audio/a.wav"), add_recording(s, pat, "/audio/b.wav")
        for r in (rec, kept):
            repo.save_transcript(session=s, recording_id=r.id, kind="raw", body=raw_transcript())
            repo.save_transcript(
                session=s, recording_id=r.id, kind="redacted", body=redacted_transcript()
            )
            repo.save_mapping(session=s, recording_id=r.id, mapping=PseudonymMap(entries=NAMES))
            job = repo.create_job(session=s, recording_id=r.id)
            note = add_note(s, r, job_id=job.id)
            repo.add_revision(session=s, note_id=note.id, body={"v": 2}, author_id=pat.id)
            repo.update_job(session=s, job_id=job.id, status="done")
            repo.add_audit(
                session=s,
                actor_id=pat.id,
                action="recording.upload",
                object_type="recording",
                object_id=r.id,
                request_id="req-1",
                details={"format": "wav", "size_bytes": 1234},
            )
        unfinished = repo.create_job(session=s, recording_id=rec.id)
        note_id = note.id  # the kept recording's note
    with session_scope(db_sessions) as s:
        assert repo.erase_recording(session=s, recording_id=rec.id) == [Path("/audio/a.wav")]
        repo.add_audit(
            session=s,
            actor_id=pat.id,
            action="recording.erase",
            object_type="recording",
            object_id=rec.id,
            request_id="req-2",
            details={"files": 1},
        )
    with session_scope(db_sessions) as s:
        erased = repo.get_recording(session=s, recording_id=rec.id)
        assert erased.audio_path is None and erased.erased_at is not None
        assert count(s, TranscriptRow, recording_id=rec.id) == 0
        assert count(s, PseudonymMapRow, recording_id=rec.id) == 0
        assert count(s, Note, recording_id=rec.id) == 0
        assert count(s, NoteRevision) == 2  # only the kept recording's two revisions
        jobs = repo.list_jobs_for_recording(session=s, recording_id=rec.id)
        assert all(j.note_id is None for j in jobs)
        assert repo.get_job(session=s, job_id=unfinished.id).error_code == "recording_erased"
        actions = [e.action for e in repo.list_audit(session=s, object_id=rec.id)]
        assert actions == ["recording.upload", "recording.erase"]
        for kind in ("raw", "redacted"):
            with pytest.raises(NotFound):
                repo.get_transcript(session=s, recording_id=rec.id, kind=kind)
        with pytest.raises(NotFound):
            repo.load_mapping(session=s, recording_id=rec.id)
        with pytest.raises(NotFound):
            repo.create_job(session=s, recording_id=rec.id)
        assert [r.id for r in repo.list_recordings_for(session=s, user=pat)] == [kept.id]
        # the other recording is untouched
        assert repo.get_transcript(session=s, recording_id=kept.id, kind="raw") == raw_transcript()
        assert len(repo.list_revisions(session=s, note_id=note_id)) == 2
        assert repo.erase_recording(session=s, recording_id=rec.id) == []  # idempotent


# --- audit --------------------------------------------------------------------------------
def test_audit_keeps_ids_counts_and_formats_only(db_sessions: sessionmaker[Session]) -> None:
    with session_scope(db_sessions) as s:
        pat = add_user(s)
        ok = {"format": "docx", "revisions": 3, "entity_counts": {"PERSON": 2}, "ids": ["s0001"]}
        repo.add_audit(
            session=s,
            actor_id=pat.id,
            action="note.export",
            object_type="note",
            object_id="n1",
            request_id="r1",
            details=ok,
        )
        for bad in (
            {"text": "x"},
            {"name": "Pat"},
            {"summary": "Kayleigh was upset"},
            {"nested": {"quote": "ok"}},
            {"blob": b"raw"},
        ):
            with pytest.raises(ValueError):
                repo.add_audit(
                    session=s,
                    actor_id=pat.id,
                    action="note.edit",
                    object_type="note",
                    object_id="n1",
                    request_id="r2",
                    details=bad,
                )
    with session_scope(db_sessions) as s:
        [event] = repo.list_audit(session=s, actor_id=pat.id, action="note.export")
        assert event.details == ok and event.at.tzinfo == UTC
        assert repo.list_audit(session=s, object_type="recording") == []


# --- missing ids --------------------------------------------------------------------------
MISSING = "0" * 32
NOT_FOUND_CALLS = [
    ("get_user", {"user_id": MISSING}),
    ("get_recording", {"recording_id": MISSING}),
    ("get_job", {"job_id": MISSING}),
    ("create_job", {"recording_id": MISSING}),
    ("update_job", {"job_id": MISSING, "progress": 0.5}),
    ("get_transcript", {"recording_id": MISSING, "kind": "raw"}),
    ("save_transcript", {"recording_id": MISSING, "kind": "raw", "body": raw_transcript()}),
    ("get_note", {"note_id": MISSING}),
    ("list_revisions", {"note_id": MISSING}),
    ("latest_revision", {"note_id": MISSING}),
    ("add_revision", {"note_id": MISSING, "body": {}, "author_id": None}),
    ("approve_note", {"note_id": MISSING, "user_id": MISSING, "edit_distance": 0}),
    ("erase_recording", {"recording_id": MISSING}),
    ("set_user_active", {"user_id": MISSING, "active": False}),
]


@pytest.mark.parametrize(
    ("function", "kwargs"), NOT_FOUND_CALLS, ids=[c[0] for c in NOT_FOUND_CALLS]
)
def test_missing_ids_raise_not_found(
    db_sessions: sessionmaker[Session], function: str, kwargs: dict[str, object]
) -> None:
    with db_sessions() as s, pytest.raises(NotFound) as info:
        getattr(repo, function)(session=s, **kwargs)
    assert info.value.code == "not_found"


def test_missing_mapping_and_owner_raise_not_found(db_sessions: sessionmaker[Session]) -> None:
    with db_sessions() as s:
        rec = add_recording(s, add_user(s))
        with pytest.raises(NotFound):
            repo.load_mapping(session=s, recording_id=rec.id)
        with pytest.raises(NotFound):
            add_recording(s, User(id=MISSING, name="ghost", role="admin", token_hash="a" * 64))
