"""Issue 26, "deploy it like a council would": the audit trail is a tamper-evident hash chain.

Each record holds the hash of the one before; ``caseassist audit verify`` (and
``GET /v1/audit/verify``) names the first broken link; an export carries every record and the
chain head, so an auditor can later prove the log only grew. Every test runs on SQLite and on
PostgreSQL (``db_url``); tampering is done with raw SQL, as someone with database access would.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
import types
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from assistant.cli import main
from assistant.storage import repo
from assistant.storage.audit_chain import GENESIS, ChainHead, ChainReport, record_hash
from assistant.storage.db import (
    alembic_config,
    make_engine,
    session_factory,
    session_scope,
    upgrade,
)
from assistant.storage.models import AuditEvent
from tests.conftest import LiveServer, add_user, free_port, make_settings, seed_recording

SECRET = "Amara Okafor, 14 Rosewood Close"

#: Details as routes write them: ids, counts, formats, flags, nested counts.
DETAILS = [
    {"format": "wav", "size_bytes": 48000, "duration_s": 61.5},
    {"revision": 2},
    {"reidentified": False},
    {"entity_counts": {"PERSON": 2, "PHONE_NUMBER": 1}, "ids": ["s0001", "s0002"]},
    {},
    {"edit_distance": 17},
]


# --- helpers --------------------------------------------------------------------------------
def append(sessions: sessionmaker[Session], n: int = len(DETAILS)) -> list[str]:
    """``n`` records, each in a transaction of its own; their ids in order."""
    ids = []
    for i in range(n):
        with session_scope(sessions) as s:
            event = repo.add_audit(
                session=s,
                actor_id=None,
                action=f"test.action{i % 3}",
                object_type="note",
                object_id=f"n{i}",
                request_id=f"req-{i}",
                details=DETAILS[i % len(DETAILS)],
            )
            ids.append(event.id)
    return ids


def verify(sessions: sessionmaker[Session], *anchors: ChainHead) -> ChainReport:
    with session_scope(sessions) as s:
        return repo.verify_audit(session=s, anchors=anchors)


def rows(engine: Engine) -> list[AuditEvent]:
    with session_scope(session_factory(engine)) as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def sql(engine: Engine, statement: str, **params: object) -> None:
    """Raw SQL, as someone with database access would tamper. ``:details`` is a JSON text."""
    if engine.dialect.name == "postgresql":
        statement = statement.replace(":details", "CAST(:details AS json)")
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def auditor_hash(record: dict, prev_hash: str) -> str:
    """The hash as docs/security.md tells an auditor to recompute it, with hashlib and json only."""
    payload = {k: record[k] for k in ("id", "at", "actor_id", "action", "object_type")}
    payload |= {k: record[k] for k in ("object_id", "request_id", "details")}
    payload |= {"v": 1, "prev_hash": prev_hash}
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode()).hexdigest()


def check_as_an_auditor(records: list[dict], head: dict) -> None:
    """Recompute every hash and link of an export, and its head, without the service's code."""
    prev = GENESIS
    for seq, record in enumerate(records, start=1):
        assert record["seq"] == seq
        assert record["prev_hash"] == prev
        assert auditor_hash(record, prev) == record["hash"], record["id"]
        prev = record["hash"]
    assert head == {"seq": len(records), "hash": prev}


# --- an intact chain ------------------------------------------------------------------------
def test_an_empty_chain_and_an_untouched_chain_verify(db_sessions: sessionmaker[Session]) -> None:
    empty = verify(db_sessions)
    assert empty.intact and empty.records == 0 and empty.head == ChainHead(0, GENESIS)

    ids = append(db_sessions)
    report = verify(db_sessions)
    assert report.intact, report.problem
    assert report.records == len(ids)
    with session_scope(db_sessions) as s:
        chain = list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    assert [e.id for e in chain] == ids
    assert [e.seq for e in chain] == list(range(1, len(ids) + 1))
    assert [e.prev_hash for e in chain] == [GENESIS] + [e.hash for e in chain[:-1]]
    assert report.head == ChainHead(len(ids), chain[-1].hash)
    # time order follows chain order: each record's time is taken under the chain lock
    assert [e.at for e in chain] == sorted(e.at for e in chain)


# --- tampering is detected and named ----------------------------------------------------------
def _rewrite_hash(engine: Engine, seq: int) -> None:
    """Edit a record and recompute its own hash, as someone who knows the encoding would."""
    [row] = [r for r in rows(engine) if r.seq == seq]
    details = {"edit_distance": 0}
    forged = record_hash(
        id=row.id,
        at=row.at,
        actor_id=row.actor_id,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        request_id=row.request_id,
        details=details,
        prev_hash=row.prev_hash,
    )
    sql(
        engine,
        "UPDATE audit_events SET details = :details, hash = :h WHERE seq = :seq",
        details=json.dumps(details),
        h=forged,
        seq=seq,
    )


def _swap(engine: Engine, a: int, b: int) -> None:
    for old, new in ((a, -1), (b, a), (-1, b)):
        sql(engine, "UPDATE audit_events SET seq = :new WHERE seq = :old", old=old, new=new)


# (tamper, expected kind, seq of the record named; None: the end of the chain)
TAMPERING: dict[str, tuple[Callable[[Engine], None], str, int | None]] = {
    "edited details": (
        lambda e: sql(
            e,
            "UPDATE audit_events SET details = :details WHERE seq = 3",
            details='{"reidentified": true}',
        ),
        "edited",
        3,
    ),
    "edited action": (
        lambda e: sql(e, "UPDATE audit_events SET action = 'note.view' WHERE seq = 2"),
        "edited",
        2,
    ),
    "edited time": (
        lambda e: sql(
            e,
            "UPDATE audit_events SET at = :at WHERE seq = 4",
            at=datetime(2020, 1, 1, tzinfo=UTC)
            if e.dialect.name != "sqlite"
            else "2020-01-01 00:00:00.000000",
        ),
        "edited",
        4,
    ),
    "deleted middle": (lambda e: sql(e, "DELETE FROM audit_events WHERE seq = 3"), "deleted", 4),
    "deleted first": (lambda e: sql(e, "DELETE FROM audit_events WHERE seq = 1"), "deleted", 2),
    "deleted last": (lambda e: sql(e, "DELETE FROM audit_events WHERE seq = 6"), "deleted", None),
    "reordered": (lambda e: _swap(e, 2, 3), "reordered", 2),
    "renumbered": (
        lambda e: sql(e, "UPDATE audit_events SET seq = 60 WHERE seq = 6"),
        "deleted",  # seq 6 vanished: the chain ends at 5 while the head says 6
        None,
    ),
    "edited, hash rewritten": (lambda e: _rewrite_hash(e, 3), "broken_link", 4),
    "head rewritten": (
        lambda e: sql(e, "UPDATE audit_chain_head SET hash = :h", h="f" * 64),
        "head",
        6,
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_detected_and_the_first_broken_link_named(
    db_engine: Engine, db_sessions: sessionmaker[Session], case: str
) -> None:
    tamper, kind, named_seq = TAMPERING[case]
    ids = append(db_sessions)
    assert verify(db_sessions).intact
    tamper(db_engine)
    report = verify(db_sessions)
    assert not report.intact
    problem = report.problem
    assert problem is not None
    assert problem.kind == kind, problem
    if named_seq is None:
        assert problem.record_id is None
    else:
        # the record named is the one that was at this seq before the tampering
        named = ids[named_seq - 1] if case != "reordered" else ids[named_seq]
        assert problem.record_id == named, problem
        assert named in problem.message


def test_a_rebuilt_chain_is_caught_by_an_earlier_exported_head(
    db_engine: Engine, db_sessions: sessionmaker[Session]
) -> None:
    append(db_sessions, 3)
    with session_scope(db_sessions) as s:
        earlier = repo.export_audit(session=s, format="json").head
    append(db_sessions, 3)
    assert verify(db_sessions, earlier).intact  # the log only grew

    # Someone who knows the encoding edits record 2 and rebuilds every hash after it, and the
    # head: the chain is consistent again and only the earlier head shows it was rewritten.
    prev = GENESIS
    for row in rows(db_engine):
        details = {"edit_distance": 0} if row.seq == 2 else row.details
        new = record_hash(
            id=row.id,
            at=row.at,
            actor_id=row.actor_id,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            request_id=row.request_id,
            details=details,
            prev_hash=prev,
        )
        sql(
            db_engine,
            "UPDATE audit_events SET details = :details, prev_hash = :p, hash = :h WHERE id = :id",
            details=json.dumps(details),
            p=prev,
            h=new,
            id=row.id,
        )
        prev = new
    sql(db_engine, "UPDATE audit_chain_head SET hash = :h", h=prev)
    assert verify(db_sessions).intact
    report = verify(db_sessions, earlier)
    assert report.problem is not None and report.problem.kind == "anchor"
    assert report.problem.seq == earlier.seq

    # a chain cut short of an earlier head (head row rewritten to match) is caught too
    sql(db_engine, "DELETE FROM audit_events WHERE seq > 2")
    [second] = [r for r in rows(db_engine) if r.seq == 2]
    sql(db_engine, "UPDATE audit_chain_head SET seq = 2, hash = :h", h=second.hash)
    report = verify(db_sessions, ChainHead(5, "a" * 64))
    assert report.problem is not None and report.problem.kind == "deleted"


# --- the command line ----------------------------------------------------------------------
@pytest.fixture
def cli_env(tmp_path, monkeypatch, db_url):
    monkeypatch.setenv("CASEASSIST_PROFILE", "test")
    monkeypatch.setenv("CASEASSIST_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CASEASSIST_DATABASE_URL", db_url)
    return tmp_path


def test_cli_verify_names_the_broken_record_and_export_writes_every_record(
    cli_env, db_url, capsys
) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    try:
        ids = append(sessions)
        assert main(["audit", "verify"]) == 0
        out = capsys.readouterr().out
        assert f"{len(ids)} record(s)" in out
        head = ChainHead.parse(out.split("head: ")[1])

        for fmt in ("json", "csv"):
            path = cli_env / f"audit.{fmt}"
            assert main(["audit", "export", "--format", fmt, "--out", str(path)]) == 0
            assert f"head: {head}" in capsys.readouterr().out
            head = verify(sessions).head  # each export is audited: the chain grew by one
        chain = rows(engine)
        assert [r.action for r in chain[-2:]] == ["audit.export"] * 2
        doc = json.loads((cli_env / "audit.json").read_text())
        assert [r["id"] for r in doc["records"]] == ids
        check_as_an_auditor(doc["records"], doc["head"])
        table = list(csv.DictReader(io.StringIO((cli_env / "audit.csv").read_text())))
        records = [
            {**r, "seq": int(r["seq"]), "details": json.loads(r["details"])}
            | {k: r[k] or None for k in ("actor_id", "object_id", "request_id")}
            for r in table
        ]
        assert [r["id"] for r in records] == [r.id for r in chain[:-1]]  # all but its own
        check_as_an_auditor(records, {"seq": len(records), "hash": records[-1]["hash"]})

        earlier = f"{doc['head']['seq']}:{doc['head']['hash']}"
        assert main(["audit", "verify", "--anchor", earlier]) == 0
        capsys.readouterr()

        # a name slipped into a record by hand: verify says which record, never what it holds
        sql(
            engine,
            "UPDATE audit_events SET details = :details WHERE id = :id",
            details=json.dumps({"note": SECRET}),
            id=ids[2],
        )
        assert main(["audit", "verify"]) == 1
        captured = capsys.readouterr()
        assert ids[2] in captured.err and "edited" in captured.err
        assert SECRET not in captured.out + captured.err
        assert main(["audit", "verify", "--anchor", "12:nothex"]) == 2
    finally:
        engine.dispose()


# --- concurrent appends ------------------------------------------------------------------
def test_concurrent_appends_make_one_unbroken_chain(db_sessions: sessionmaker[Session]) -> None:
    threads, each = 8, 6
    barrier = threading.Barrier(threads)

    def worker(_: int) -> int:
        barrier.wait()
        return len(append(db_sessions, each))

    with ThreadPoolExecutor(threads) as pool:
        assert sum(pool.map(worker, range(threads))) == threads * each
    report = verify(db_sessions)
    assert report.intact, report.problem
    assert report.records == report.head.seq == threads * each


STUB_ENGINES = types.SimpleNamespace(models=None)
NOTE = {
    "sections": [
        {
            "key": "purpose",
            "title": "Purpose of the visit",
            "statements": [
                {
                    "text": "Visit to see [PERSON_1] at home.",
                    "kind": "observed",
                    "speaker": None,
                    "evidence": ["s0001"],
                    "flags": [],
                }
            ],
        }
    ]
}


def test_concurrent_requests_through_the_api_make_one_unbroken_chain(tmp_path, db_url) -> None:
    from assistant.api.app import create_app

    settings = make_settings(tmp_path, database_url=db_url, run_worker=False)
    owner, token = add_user(settings, "Sam", "practitioner")
    _, auditor = add_user(settings, "Ade", "auditor")
    from assistant.bootstrap import open_database

    engine, _, sessions = open_database(settings)  # with the service's key file
    with session_scope(sessions) as s:
        rec = seed_recording(s, owner)
        note = repo.create_note(
            session=s,
            recording_id=rec.id,
            template="visit_note",
            template_version="v1",
            ai_draft=NOTE,
            provenance={"model": {"name": "m", "sha256": "0"}},
        )
        note_id = note.id
    engine.dispose()
    with LiveServer(create_app(settings, engines=STUB_ENGINES), free_port()) as srv:
        views = [srv.client(token) for _ in range(10)]
        bad = [srv.client("ca_not-a-token-" + "x" * 20) for _ in range(4)]  # own transactions
        for c in views + bad:
            assert c.get("/health/live").status_code == 200
        barrier = threading.Barrier(len(views) + len(bad))

        def call(c, path):
            barrier.wait()
            return c.get(path).status_code

        calls = [(c, f"/v1/notes/{note_id}") for c in views] + [(c, "/v1/audit") for c in bad]
        with ThreadPoolExecutor(len(calls)) as pool:
            codes = list(pool.map(lambda a: call(*a), calls))
        assert codes == [200] * len(views) + [401] * len(bad)

        client = srv.client(auditor)
        report = client.get("/v1/audit/verify").json()
        assert report["intact"] is True and report["problem"] is None
        assert report["records"] == report["head"]["seq"] == len(calls)

        export = client.get("/v1/audit/export", params={"format": "json"})
        assert export.status_code == 200
        doc = export.json()
        assert export.headers["x-audit-chain-head"] == f"{doc['head']['seq']}:{doc['head']['hash']}"
        check_as_an_auditor(doc["records"], doc["head"])
        # each reading is itself on the record, after it: the check is in the export
        assert [r["action"] for r in doc["records"][len(calls) :]] == ["audit.verify"]
        listed = client.get("/v1/audit", params={"limit": 5000}).json()
        assert [r["id"] for r in listed][: len(calls) + 1] == [r["id"] for r in doc["records"]]
        assert listed[-1]["action"] == "audit.export"

        csv_export = client.get("/v1/audit/export", params={"format": "csv"})
        assert csv_export.headers["content-type"].startswith("text/csv")
        # + verify, export, the listing
        assert len(list(csv.DictReader(io.StringIO(csv_export.text)))) == len(calls) + 3

        earlier = f"{doc['head']['seq']}:{doc['head']['hash']}"
        again = client.get("/v1/audit/verify", params={"anchor": earlier}).json()
        assert again["intact"] is True and again["records"] == len(calls) + 4
        assert client.get("/v1/audit/verify", params={"anchor": "x"}).status_code == 422
        for path in ("/v1/audit/verify", "/v1/audit/export"):
            assert srv.client(token).get(path).status_code == 403


# --- migration of a database that already has audit rows -------------------------------------
def _upgrade_to(engine: Engine, revision: str, *, down: bool = False) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_migration_chains_existing_rows_in_their_listed_order(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0001_initial")
        t0 = datetime(2025, 6, 1, 9, 0, 0, 123456, tzinfo=UTC)
        users = sa.table(
            "users",
            *(sa.column(c) for c in ("id", "name", "role")),
            sa.column("token_hash"),
            sa.column("active"),
            sa.column("created_at", sa.DateTime(True)),
        )
        old = sa.table(
            "audit_events",
            *(sa.column(c) for c in ("id", "actor_id", "action", "object_type", "object_id")),
            sa.column("request_id"),
            sa.column("at", sa.DateTime(timezone=True)),
            sa.column("details", sa.JSON()),
        )
        # inserted out of order, two with the same time: listed (and chained) by (at, id)
        seeded = [
            ("c" * 32, t0 + timedelta(seconds=2), {"format": "docx", "revisions": 3}),
            ("b" * 32, t0, {"entity_counts": {"PERSON": 2}, "duration_s": 61.5}),
            ("a" * 32, t0, {}),
            ("d" * 32, t0 + timedelta(days=1), {"ids": ["s0001"], "reidentified": True}),
        ]
        with engine.begin() as conn:
            conn.execute(
                users.insert().values(
                    id="u" * 32,
                    name="Pat",
                    role="practitioner",
                    token_hash="0" * 64,
                    active=True,
                    created_at=t0,
                )
            )
            for i, (id_, at, details) in enumerate(seeded):
                conn.execute(
                    old.insert().values(
                        id=id_,
                        actor_id="u" * 32 if i % 2 else None,
                        action="note.view",
                        object_type="note",
                        object_id=f"n{i}",
                        request_id=None,
                        at=at,
                        details=details,
                    )
                )
        upgrade(engine)
        sessions = session_factory(engine)
        report = verify(sessions)
        assert report.intact, report.problem
        chain = rows(engine)
        assert [r.id for r in chain] == ["a" * 32, "b" * 32, "c" * 32, "d" * 32]
        assert report.head == ChainHead(4, chain[-1].hash)

        [new] = append(sessions, 1)  # appends go on from the migrated head
        assert rows(engine)[-1].id == new and rows(engine)[-1].seq == 5
        assert verify(sessions).intact

        # down and up again: the same rows get the same hashes (the encoding is deterministic)
        hashes = [r.hash for r in rows(engine)]
        _upgrade_to(engine, "0001_initial", down=True)
        upgrade(engine)
        assert [r.hash for r in rows(engine)] == hashes
        assert verify(sessions).intact
    finally:
        engine.dispose()


# --- reading the trail is on the record --------------------------------------------------------
def test_reading_the_trail_is_itself_audited_and_chained(tmp_path, db_url, cli_env) -> None:
    """Every reading through the API (the list, the check, the export) appends a record naming
    the reader, the filters as ids and action names and counts, never a record's contents; it
    comes after the reading, so the next one shows it, and the chain still verifies."""
    from assistant.api.app import create_app

    settings = make_settings(tmp_path, database_url=db_url, run_worker=False)
    owner, token = add_user(settings, "Sam", "practitioner")
    auditor_id, auditor = add_user(settings, "Ade", "auditor")
    admin_id, admin = add_user(settings, "Ali", "admin")
    from assistant.bootstrap import open_database

    engine, _, sessions = open_database(settings)
    with session_scope(sessions) as s:
        rec = seed_recording(s, owner)
        repo.add_audit(session=s, actor_id=owner, action="transcript.view", object_type="recording",
                       object_id=rec.id, request_id=None, details={"kind": "raw"})  # fmt: skip
    engine.dispose()
    with LiveServer(create_app(settings, engines=STUB_ENGINES), free_port()) as srv:
        reader = srv.client(auditor)
        first = reader.get(
            "/v1/audit", params={"object_id": rec.id, "action": "transcript.view", "limit": 10}
        ).json()
        assert [r["action"] for r in first] == ["transcript.view"]
        trail = reader.get("/v1/audit").json()
        viewed = trail[-1]
        assert viewed["action"] == "audit.view" and viewed["actor_id"] == auditor_id
        assert viewed["object_type"] == "audit" and viewed["object_id"] is None
        assert viewed["details"] == {
            "filters": {"object": rec.id, "action": "transcript.view"},
            "limit": 10,
            "records": 1,
            "via": "api",
        }

        report = reader.get("/v1/audit/verify").json()
        assert report["intact"] is True
        export = srv.client(admin).get("/v1/audit/export", params={"format": "json"}).json()
        checked, listed = export["records"][-1], export["records"][-2]
        assert checked["action"] == "audit.verify" and checked["actor_id"] == auditor_id
        assert checked["details"] == {
            "intact": True,
            "records": report["records"],
            "problem": None,
            "anchors": 0,
            "via": "api",
        }
        assert listed["action"] == "audit.view" and listed["details"]["filters"] == {}
        last = reader.get("/v1/audit").json()[-1]
        assert last["action"] == "audit.export" and last["actor_id"] == admin_id
        assert last["details"] == {"format": "json", "records": len(export["records"])}
        check_as_an_auditor(export["records"], export["head"])

        # a refusal (403) is not audited, as no 403 is (only failed sign-ins are); a filter
        # that is not an id or an action name is refused (422) before anything is read
        before = len(reader.get("/v1/audit", params={"limit": 5000}).json())
        assert srv.client(token).get("/v1/audit").status_code == 403
        assert srv.client(token).get("/v1/audit/verify").status_code == 403
        assert reader.get("/v1/audit", params={"action": "a b"}).status_code == 422
        assert reader.get("/v1/audit", params={"object_id": "<x>"}).status_code == 422
        after = reader.get("/v1/audit", params={"limit": 5000}).json()
        assert len(after) == before + 1  # the one listing between the two counts
        assert SECRET not in repr(after)

        # with the head row gone, the reading goes ahead (it is how the damage is seen)
        engine = make_engine(db_url)
        sql(engine, "DELETE FROM audit_chain_head")
        broken = reader.get("/v1/audit/verify").json()
        assert broken["intact"] is False and broken["problem"]["kind"] == "head"
        assert reader.get("/v1/audit").status_code == 200
        engine.dispose()

    engine = make_engine(db_url)
    with engine.begin() as conn:  # put the head back where the last record left it
        last_row = conn.execute(
            text("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        ).one()
    sql(engine, "INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, :s, :h)",
        s=last_row.seq, h=last_row.hash)  # fmt: skip
    engine.dispose()
    assert main(["audit", "verify"]) == 0
