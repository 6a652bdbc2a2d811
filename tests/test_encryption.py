"""Encryption at rest (docs/security.md): what lies on disk is ciphertext, the right key reads
it back, a rotation loses nothing, and a wrong key, an altered byte or a swapped blob is a
clear error.

The end-to-end test uploads a real synthetic visit through the API on the test profile and
then reads every byte the service wrote (database, its WAL, uploads) looking for the words of
the transcript it produced. The others work on the repository with a keyring, fast.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from assistant.audio.sealed import CHUNK, SealedFile, is_sealed
from assistant.bootstrap import key_file, open_database
from assistant.cli.admin import cmd_keys_rotate, cmd_keys_status
from assistant.domain import PseudonymMap
from assistant.errors import ConfigurationError, DecryptionFailed
from assistant.storage import repo
from assistant.storage.crypto import MappingCipher
from assistant.storage.db import MigrationKeys, downgrade, make_engine, session_scope, upgrade
from assistant.storage.keys import (
    AesKeyWrapper,
    KeyFiles,
    generate_key,
    read_key_file,
    write_key_file,
)
from assistant.storage.models import Note, NoteRevision, TranscriptRow
from assistant.storage.repo.keys import rewrap
from tests.conftest import (
    REPO,
    LiveServer,
    add_user,
    free_port,
    make_settings,
    seed_recording,
    wait_for_job,
)
from tests.speech import VISIT_SCRIPT, espeak_available, synthesize_dialogue

SECTIONS = {"sections": [{"key": "summary", "statements": []}]}


def _words(text: str) -> set[str]:
    """Distinctive words: six letters or more (short ones occur by chance in binary data)."""
    return {w.lower() for w in re.findall(r"[A-Za-z]{6,}", text)}


_SEALED = re.compile(rb"sealed:v\d+:[A-Za-z0-9_\-=]+")
"""A sealed (encrypted) column value as stored: the prefix, then base64."""


def _texts(value: object) -> list[str]:
    """Every ``text`` and ``quote`` string in an API answer: what was said and drafted."""
    if isinstance(value, dict):
        own = [v for k, v in value.items() if k in ("text", "quote") and isinstance(v, str)]
        return own + [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _bytes_under(root: Path, skip: Path) -> dict[Path, bytes]:
    return {
        p: p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and skip not in p.parents
    }


# --- end to end: a real upload --------------------------------------------------------------
@pytest.mark.models
@pytest.mark.slow
@pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed")
def test_upload_stores_only_ciphertext_and_survives_rotation(
    tmp_path, tmp_path_factory, engines
) -> None:
    from assistant.api.app import create_app

    blank = make_settings(tmp_path / "blank")
    blank.data_dir.mkdir(parents=True)
    open_database(blank)[0].dispose()
    schema = b"".join(_bytes_under(tmp_path / "blank", skip=blank.models_dir).values()).lower()
    # the first six turns: names, an address, a phone number; a shorter job on a busy machine
    wav = synthesize_dialogue(VISIT_SCRIPT[:6], tmp_path_factory.mktemp("audio") / "visit.wav")
    original = wav.read_bytes()
    settings = make_settings(tmp_path / "site")
    with LiveServer(create_app(settings, engines=engines), free_port()) as server:
        _, token = add_user(settings, "Practitioner A", "practitioner")
        client = server.client(token)
        with wav.open("rb") as f:
            r = client.post("/v1/recordings", files={"audio": ("v.wav", f, "audio/wav")})
        assert r.status_code == 202, r.text
        rec_id = r.json()["recording_id"]
        job = wait_for_job(client, r.json()["job_id"], timeout=1800)
        assert job["status"] == "done", job
        before = _readable(client, rec_id, job["note_id"])

        # every word the service heard, redacted or drafted, is nowhere on disk in clear
        words = _words(" ".join(_texts(before)))
        # words that a blank database holds too are schema ("number" is a column's name)
        words = {w for w in words if w.encode() not in schema}
        assert len(words) >= 10, words
        stored = _bytes_under(tmp_path / "site", skip=tmp_path / "site" / "var" / "models")
        assert any(p.suffix == ".db" for p in stored) and any("uploads" in str(p) for p in stored)
        for path, data in stored.items():
            # a sealed value's base64 can spell a word by chance ("…qxpersond5…", once in a
            # CI run): look outside ciphertext
            clear = _SEALED.sub(b" ", data).lower()
            found = [w for w in words if w.encode() in clear]
            assert not found, f"{path.name} holds {len(found)} transcript word(s) in clear"
        audio_files = [p for p in stored if p.parent.name == "uploads"]
        assert len(audio_files) == 1 and is_sealed(audio_files[0])
        assert original[44:4096] not in audio_files[0].read_bytes()

        # the player gets the audio as uploaded, whole and by ranges across chunk edges
        url = f"/v1/recordings/{rec_id}/audio"
        assert client.get(url).content == original
        size = len(original)
        for rng, (a, b) in {
            "bytes=0-99": (0, 100),
            f"bytes={CHUNK - 10}-{CHUNK + 9}": (CHUNK - 10, CHUNK + 10),
            f"bytes={2 * CHUNK}-": (2 * CHUNK, size),
            "bytes=-100": (size - 100, size),
            f"bytes={size - 5}-{size + 500}": (size - 5, size),
        }.items():
            part = client.get(url, headers={"Range": rng})
            assert part.status_code == 206, rng
            assert part.content == original[a:b], rng
            assert part.headers["content-range"] == f"bytes {a}-{b - 1}/{size}"
        assert client.get(url, headers={"Range": f"bytes={size}-"}).status_code == 416

        # rotation while the service runs: it keeps reading, and re-reads the key files
        old_id = _status(settings)
        assert cmd_keys_rotate(argparse.Namespace(), settings) == 0
        assert _status(settings) != old_id
        assert not KeyFiles(key_file(settings)).new.exists()
        assert _readable(client, rec_id, job["note_id"]) == before
    # a fresh start holds only the new key, and reads everything
    with LiveServer(create_app(settings, engines=engines), free_port()) as server:
        assert _readable(server.client(token), rec_id, job["note_id"]) == before
        assert server.client(token).get(f"/v1/recordings/{rec_id}/audio").content == original


def _readable(client, rec_id: str, note_id: str) -> dict:
    out = {
        "raw": client.get(f"/v1/recordings/{rec_id}/transcript").json(),
        "redacted": client.get(f"/v1/recordings/{rec_id}/transcript/redacted").json(),
        "note": client.get(f"/v1/notes/{note_id}", params={"reidentify": "true"}).json(),
    }
    out["note"].pop("expires", None)
    assert out["raw"]["segments"] and out["note"]["sections"], out
    return out


def _status(settings) -> str:
    engine, keyring, _sessions = open_database(settings)
    engine.dispose()
    return keyring.wrapping.key_id


# --- fast tests on the repository -----------------------------------------------------------
@pytest.fixture
def reopen():
    """``open_database`` as a fresh start does; every engine is disposed after the test."""
    engines: list[Engine] = []

    def opener(settings):  # noqa: ANN001, ANN202
        engine, keyring, sessions = open_database(settings)
        engines.append(engine)
        return engine, keyring, sessions

    yield opener
    for engine in engines:
        engine.dispose()


@pytest.fixture
def site(tmp_path, db_url):
    """Settings, and the database (SQLite, and PostgreSQL when reachable) opened as the service
    opens it (key file created)."""
    settings = make_settings(tmp_path, database_url=db_url)
    engine, keyring, sessions = open_database(settings)
    yield settings, engine, sessions
    engine.dispose()


def _seed(sessions: sessionmaker[Session], tmp_path: Path, name: str) -> dict[str, str]:
    """A recording with transcripts, a name map, a note with two revisions and audio."""
    audio = tmp_path / f"{name}.wav"
    audio.write_bytes(os.urandom(3 * CHUNK + 17))
    with session_scope(sessions) as s:
        owner = repo.create_user(
            session=s,
            name=name,
            role="practitioner",
            token_hash=hashlib.sha256(name.encode()).hexdigest(),
        )
        rec = seed_recording(s, owner.id)
        rec.audio_path = str(audio)
        repo.save_mapping(
            session=s, recording_id=rec.id, mapping=PseudonymMap(entries={"[PERSON_1]": "Amara"})
        )
        note = repo.create_note(
            session=s,
            recording_id=rec.id,
            template="visit_note",
            template_version="v1",
            ai_draft=SECTIONS,
            provenance={"model": "m"},
        )
        repo.add_revision(session=s, note_id=note.id, body=SECTIONS, author_id=owner.id)
        ids = {"rec": rec.id, "note": note.id, "audio": str(audio)}
    with session_scope(sessions) as s:
        assert repo.seal_plain_audio(session=s) == 1
    return ids


def _read_all(sessions: sessionmaker[Session], ids: dict[str, str]) -> tuple:
    with session_scope(sessions) as s:
        raw = repo.get_transcript(session=s, recording_id=ids["rec"], kind="raw")
        mapping = repo.load_mapping(session=s, recording_id=ids["rec"])
        bodies = [r.body for r in repo.list_revisions(session=s, note_id=ids["note"])]
        note = repo.get_note(session=s, note_id=ids["note"])
        rec = repo.get_recording(session=s, recording_id=ids["rec"])
        source = repo.audio_source(session=s, recording=rec)
        assert source is not None
        with source.open() as fh:
            audio = fh.read()
        return raw.segments[0].text, mapping.entries, bodies, note.provenance, len(audio)


def test_columns_hold_ciphertext_and_read_back(site, tmp_path) -> None:
    settings, engine, sessions = site
    ids = _seed(sessions, tmp_path, "ada")
    with engine.connect() as conn:
        for table in ("transcripts", "notes", "note_revisions", "pseudonym_maps"):
            dump = " ".join(str(row) for row in conn.execute(sa.text(f"SELECT * FROM {table}")))
            assert "Amara" not in dump and "summary" not in dump and "Hello" not in dump, table
        assert conn.execute(sa.text("SELECT count(*) FROM data_keys")).scalar_one() == 1
    assert _read_all(sessions, ids) == (
        "Hello Amara.",
        {"[PERSON_1]": "Amara"},
        [SECTIONS, SECTIONS],
        {"model": "m"},
        3 * CHUNK + 17,
    )


def test_rotation_rewraps_every_key_and_recovers_when_interrupted(
    site, tmp_path, reopen, capsys
) -> None:
    settings, engine, sessions = site
    ids = [_seed(sessions, tmp_path, name) for name in ("ada", "ben")]
    before = [_read_all(sessions, i) for i in ids]
    files = KeyFiles(key_file(settings))
    first = files.path.read_bytes()

    args = argparse.Namespace()
    assert cmd_keys_rotate(args, settings) == 0
    assert files.path.read_bytes() != first and not files.new.exists() and not files.old.exists()
    assert oct(files.path.stat().st_mode & 0o777) == "0o600"
    _, keyring, fresh = reopen(settings)  # only the new key file now
    assert [_read_all(fresh, i) for i in ids] == before
    with session_scope(fresh) as s:
        assert list(repo.key_counts(session=s).values()) == [2]

    # interrupted after writing the next key, and again between the two renames
    write_key_file(files.new, generate_key())
    _, _, midway = reopen(settings)  # both keys are read: all still readable
    assert [_read_all(midway, i) for i in ids] == before
    assert cmd_keys_rotate(args, settings) == 0  # finishes that rotation
    write_key_file(files.new, generate_key())
    with session_scope(midway) as s:
        rewrap(session=s, keyring=reopen(settings)[1], to_key_id=_id_of(files.new))
    os.replace(files.path, files.old)  # the crash: .old and .new, no key file
    _, _, crashed = reopen(settings)
    assert [_read_all(crashed, i) for i in ids] == before
    capsys.readouterr()
    assert cmd_keys_status(args, settings) == 0
    status = capsys.readouterr().out
    assert (
        "a rotation was interrupted" in status and f"{_id_of(files.new)}: 2 recording(s)" in status
    )
    assert cmd_keys_rotate(args, settings) == 0
    assert not files.new.exists() and not files.old.exists()
    _, _, done = reopen(settings)
    assert [_read_all(done, i) for i in ids] == before
    with session_scope(done) as s:
        actions = [e.action for e in repo.list_audit(session=s)]
    assert actions.count("keys.rotate") == 3


def _id_of(path: Path) -> str:
    from assistant.storage.keys import read_key_file

    return read_key_file(path).key_id


@pytest.mark.parametrize(
    "damage, message",
    [
        ("other key", "not configured"),
        ("missing", "is missing"),
        ("garbage", "does not hold a 32-byte key"),
        ("world readable", "chmod 600"),
    ],
)
def test_a_wrong_key_file_stops_the_start_with_what_to_do(
    site, tmp_path, damage: str, message: str
) -> None:
    settings, engine, sessions = site
    _seed(sessions, tmp_path, "ada")
    path = key_file(settings)
    if damage == "other key":
        path.unlink()
        write_key_file(path, generate_key())
    elif damage == "missing":
        path.unlink()
    elif damage == "garbage":
        path.write_bytes(b"not a key\n")
    else:
        path.chmod(0o644)
    with pytest.raises(ConfigurationError, match=message) as info:
        open_database(settings)
    assert "Amara" not in str(info.value)
    assert not path.exists() or damage != "missing"  # no new key was made over the data


def test_the_service_refuses_to_start_with_a_wrong_key(site, tmp_path, engines) -> None:
    from assistant.api.app import create_app

    settings, engine, sessions = site
    _seed(sessions, tmp_path, "ada")
    key_file(settings).unlink()
    write_key_file(key_file(settings), generate_key())
    with pytest.raises(ConfigurationError, match="restore that key file"):
        with TestClient(create_app(settings, engines=engines)):
            pass


@pytest.mark.models
def test_serve_stops_on_a_wrong_key_before_listening_with_what_to_do(site, tmp_path) -> None:
    """`caseassist serve` in a process of its own, as a container starts it: a key file that
    is not the one the data was wrapped with ends the start with one clear paragraph."""
    settings, engine, sessions = site
    _seed(sessions, tmp_path, "ada")
    key_file(settings).unlink()
    write_key_file(key_file(settings), generate_key())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CASEASSIST_"))}
    env.update(
        PYTHONPATH=str(REPO),
        CASEASSIST_PROFILE="test",
        CASEASSIST_MODELS_DIR=str(settings.models_dir),
        CASEASSIST_DATA_DIR=str(settings.data_dir),
        CASEASSIST_DATABASE_URL=settings.resolved_database_url,
    )
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "serve", "--port", str(free_port())],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    # one paragraph of its own, whatever was logged before it
    assert re.search(
        r"(?m)^error \[configuration_error\]: data keys are wrapped by key file:", done.stderr
    )
    assert "restore that key file" in done.stderr
    assert "Traceback" not in done.stderr and "Started server" not in done.stderr
    assert "Amara" not in done.stdout + done.stderr


def test_tampered_ciphertext_is_a_clear_error(site, tmp_path) -> None:
    settings, engine, sessions = site
    ids = _seed(sessions, tmp_path, "ada")
    audio = Path(ids["audio"])
    data = bytearray(audio.read_bytes())
    data[len(data) // 2] ^= 1
    audio.write_bytes(bytes(data))
    with session_scope(sessions) as s:
        rec = repo.get_recording(session=s, recording_id=ids["rec"])
        source = repo.audio_source(session=s, recording=rec)
        assert source is not None
        with source.open() as fh, pytest.raises(DecryptionFailed, match="chunk 1"):
            fh.read()
    truncated = audio.read_bytes()[: -(CHUNK // 2)]
    audio.write_bytes(truncated)
    with pytest.raises(DecryptionFailed):
        SealedFile(audio, source.key, source.aad).open().read()

    transcripts = _table("transcripts", "body", sa.JSON)
    with engine.begin() as conn:
        stored = conn.execute(
            sa.select(transcripts.c.id, transcripts.c.body).where(transcripts.c.kind == "raw")
        ).one()
        flipped = stored.body[:-6] + ("A" if stored.body[-6] != "A" else "B") + stored.body[-5:]
        conn.execute(
            sa.update(transcripts).where(transcripts.c.id == stored.id).values(body=flipped)
        )
    with session_scope(sessions) as s, pytest.raises(DecryptionFailed) as info:
        repo.find_transcript(session=s, recording_id=ids["rec"], kind="raw")
        repo.find_transcript(session=s, recording_id=ids["rec"], kind="redacted")
    assert "Amara" not in str(info.value) and "Hello" not in str(info.value)


def test_blobs_swapped_between_recordings_are_refused(site, tmp_path) -> None:
    settings, engine, sessions = site
    a, b = _seed(sessions, tmp_path, "ada"), _seed(sessions, tmp_path, "ben")
    # audio files swapped on disk
    tmp = Path(a["audio"]).with_suffix(".swap")
    os.replace(a["audio"], tmp)
    os.replace(b["audio"], a["audio"])
    os.replace(tmp, b["audio"])
    with session_scope(sessions) as s:
        for ids in (a, b):
            rec = repo.get_recording(session=s, recording_id=ids["rec"])
            source = repo.audio_source(session=s, recording=rec)
            assert source is not None
            with source.open() as fh, pytest.raises(DecryptionFailed):
                fh.read(10)
    # database values swapped: transcripts (and raw with redacted), notes, revisions, maps
    swaps = [
        ("transcripts", "body", "recording_id", a["rec"], b["rec"], "kind = 'raw'"),
        ("notes", "ai_draft", "id", a["note"], b["note"], "1 = 1"),
        ("note_revisions", "body", "note_id", a["note"], b["note"], "number = 2"),
        ("pseudonym_maps", "ciphertext", "recording_id", a["rec"], b["rec"], "1 = 1"),
    ]
    for name, column, key, x, y, where in swaps:
        kind = sa.LargeBinary if name == "pseudonym_maps" else sa.JSON
        table = _table(name, column, kind)
        with engine.begin() as conn:
            rows = {
                k: conn.execute(
                    sa.select(table.c[column]).where(table.c[key] == k, sa.text(where))
                ).scalar_one()
                for k in (x, y)
            }
            for k, other in ((x, y), (y, x)):
                conn.execute(
                    sa.update(table)
                    .where(table.c[key] == k, sa.text(where))
                    .values({column: rows[other]})
                )
    with session_scope(sessions) as s:
        with pytest.raises(DecryptionFailed):
            repo.get_transcript(session=s, recording_id=a["rec"], kind="raw")
        with pytest.raises(DecryptionFailed):
            repo.load_mapping(session=s, recording_id=a["rec"])
    for model in (Note, NoteRevision):
        with session_scope(sessions) as s, pytest.raises(DecryptionFailed):
            list(s.scalars(sa.select(model)))
    # within one recording: its raw and redacted transcripts exchanged
    transcripts = _table("transcripts", "body", sa.JSON)
    mine = transcripts.c.recording_id == b["rec"]
    with engine.begin() as conn:
        found = conn.execute(sa.select(transcripts.c.kind, transcripts.c.body).where(mine))
        bodies = {kind: body for kind, body in found}
        for kind, other in (("raw", "redacted"), ("redacted", "raw")):
            conn.execute(
                sa.update(transcripts)
                .where(mine, transcripts.c.kind == kind)
                .values(body=bodies[other])
            )
    with session_scope(sessions) as s, pytest.raises(DecryptionFailed):
        repo.get_transcript(session=s, recording_id=b["rec"], kind="redacted")


def _table(name: str, column: str, kind: type) -> sa.TableClause:
    """The columns a test alters behind the service's back, typed for either database."""
    return sa.table(
        name,
        *(sa.column(c, sa.String) for c in ("id", "recording_id", "note_id", "kind", "number")),
        sa.column(column, kind),
    )


def test_erasure_deletes_the_data_key(site, tmp_path) -> None:
    settings, engine, sessions = site
    ids = _seed(sessions, tmp_path, "ada")
    with session_scope(sessions) as s:
        repo.erase_recording(session=s, recording_id=ids["rec"])
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM data_keys")).scalar_one() == 0


def test_migration_0008_encrypts_existing_content_and_downgrades(tmp_path) -> None:
    """A database from before encryption: plain rows, a map under the old mapping key and a
    plain audio file become ciphertext at the first start; the downgrade puts them back."""
    settings = make_settings(tmp_path)
    settings.data_dir.mkdir(parents=True)
    legacy_key = MappingCipher.generate_key()
    (settings.data_dir / "mapping.key").write_bytes(base64.urlsafe_b64encode(legacy_key))
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine, "0005_job_status_diarising")
    ids = _legacy_content(engine, MappingCipher(legacy_key), tmp_path)
    engine.dispose()

    engine, keyring, sessions = open_database(settings)
    with engine.connect() as conn:
        body = conn.execute(sa.text("SELECT body FROM transcripts WHERE kind = 'raw'")).scalar_one()
        assert "Amara" not in body and "sealed:v1:" in body
        assert "Amara" not in str(conn.execute(sa.text("SELECT * FROM note_revisions")).all())
    assert is_sealed(Path(ids["audio"]))
    assert _read_all(sessions, ids) == (
        "Hello Amara.",
        {"[PERSON_1]": "Amara"},
        [SECTIONS],
        {"model": "m"},
        1000,
    )
    downgrade(engine, "0005_job_status_diarising", keys=MigrationKeys(keyring, legacy_key))
    with engine.connect() as conn:
        assert (
            "Amara"
            in conn.execute(sa.text("SELECT body FROM transcripts WHERE kind = 'raw'")).scalar_one()
        )
        assert "summary" in conn.execute(sa.text("SELECT body FROM note_revisions")).scalar_one()
    assert Path(ids["audio"]).read_bytes() == b"\x01" * 1000
    # without the keys the migration refuses rather than leave content in clear
    with pytest.raises(ConfigurationError, match="was given no key"):
        upgrade(engine)
    engine.dispose()


def test_the_migrations_missing_key_error_names_commands_that_exist(tmp_path) -> None:
    """Run without the keys (Alembic by hand), migration 0008 said to run `caseassist db
    upgrade`, a command there is not. Every command its message names is one the command
    line takes, and the message names the migration it comes from."""
    from assistant.cli import _parser

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0005_job_status_diarising")
    _legacy_content(engine, MappingCipher(MappingCipher.generate_key()), tmp_path)
    with pytest.raises(ConfigurationError) as refused:
        upgrade(engine)
    engine.dispose()
    message = refused.value.message
    assert "0008_encrypt_at_rest" in message
    named = re.findall(r"`caseassist ([^`]+)`", message)
    assert named, message
    parser = _parser()
    for command in named:
        try:
            parser.parse_args(command.split())
        except SystemExit:
            pytest.fail(f"the message names `caseassist {command}`, which is not a command")


def _legacy_content(engine: Engine, legacy: MappingCipher, tmp_path: Path) -> dict[str, str]:
    """What a 0005 database held: plain JSON content and a map under the mapping key."""
    from assistant.domain import RedactedTranscript, Segment, Transcript
    from assistant.storage.models import PseudonymMapRow, Recording, User, utcnow

    audio = tmp_path / "old.wav"
    audio.write_bytes(b"\x01" * 1000)
    raw = Transcript(
        segments=(Segment(id="s0001", start=0, end=3, text="Hello Amara."),),
        language="en",
        duration_s=3.0,
        source="text",
    )
    red = RedactedTranscript(
        segments=(), language="en", duration_s=3.0, entities=(), config_hash="x"
    )
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(User.__table__).values(
                id="u1",
                name="Ada",
                role="practitioner",
                token_hash="t" * 64,
                active=True,
                created_at=now,
            )
        )
        conn.execute(
            sa.insert(Recording.__table__).values(
                id="r1",
                owner_id="u1",
                created_at=now,
                template="visit_note",
                language="en",
                audio_path=str(audio),
                audio_sha256="0" * 64,
                size_bytes=1000,
                format="wav",
            )
        )
        for kind, value in (("raw", raw), ("redacted", red)):
            conn.execute(
                sa.insert(TranscriptRow.__table__).values(
                    id=f"t{kind}",
                    recording_id="r1",
                    kind=kind,
                    body=value.model_dump(mode="json"),
                    created_at=now,
                )
            )
        conn.execute(
            sa.insert(Note.__table__).values(
                id="n1",
                recording_id="r1",
                template="visit_note",
                template_version="v1",
                status="draft",
                ai_draft=SECTIONS,
                provenance={"model": "m"},
                created_at=now,
            )
        )
        conn.execute(
            sa.insert(NoteRevision.__table__).values(
                id="v1", note_id="n1", number=1, body=SECTIONS, created_at=now
            )
        )
        blob = legacy.encrypt(PseudonymMap(entries={"[PERSON_1]": "Amara"}), associated_data=b"r1")
        conn.execute(
            sa.insert(PseudonymMapRow.__table__).values(
                recording_id="r1", ciphertext=blob, key_id=legacy.key_id
            )
        )
    return {"rec": "r1", "note": "n1", "audio": str(audio)}


_HSM_KEY = generate_key()


def memory_kek(settings) -> AesKeyWrapper:  # noqa: ANN001 - the provider hook's signature
    """Stands in for an HSM/KMS client: CASEASSIST_ENCRYPTION_KEY_PROVIDER points here."""
    return AesKeyWrapper(_HSM_KEY)


def test_a_key_provider_replaces_the_key_file(tmp_path, reopen) -> None:
    settings = make_settings(tmp_path, encryption_key_provider="tests.test_encryption:memory_kek")
    engine, keyring, sessions = reopen(settings)
    ids = _seed(sessions, tmp_path, "ada")
    assert not key_file(settings).exists()
    assert keyring.wrapping.key_id == AesKeyWrapper(_HSM_KEY).key_id
    assert cmd_keys_rotate(argparse.Namespace(), settings) == 2  # rotated in the KMS
    _, _, again = reopen(settings)
    assert _read_all(again, ids)[0] == "Hello Amara."
    for bad in (
        "tests.test_encryption:nothing",
        "no_such_module:f",
        "tests.test_encryption:_texts",
    ):
        with pytest.raises(ConfigurationError):
            open_database(settings.model_copy(update={"encryption_key_provider": bad}))


def test_a_data_key_made_before_a_rotation_is_stored_under_the_new_key(site) -> None:
    """An upload that began before a rotation and ends after it (old KEK deleted meanwhile)."""
    settings, engine, sessions = site
    keyring = sessions.kw["info"]["keyring"]
    key, wrapped, old_id = keyring.new_data_key("r1")
    assert keyring.rewrap_if_rotated("r1", key, wrapped, old_id) == (wrapped, old_id)
    assert cmd_keys_rotate(argparse.Namespace(), settings) == 0
    stored, new_id = keyring.rewrap_if_rotated("r1", key, wrapped, old_id)
    assert new_id != old_id and new_id == _id_of(key_file(settings))
    assert read_key_file(key_file(settings)).unwrap(stored, associated_data=b"data-key:r1") == key
