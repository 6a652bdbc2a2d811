"""Shared fixtures: real models (the 'test' profile), a database per test, a live server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.bootstrap import set_offline

set_offline()

from tests.conftest_db import *  # noqa: E402, F403 - DB fixtures (sqlite_url, pg_url, db_url)

REPO = Path(__file__).resolve().parent.parent


def make_settings(tmp_path: Path, **overrides):
    from assistant.settings import Settings

    values = dict(
        profile="test",
        data_dir=tmp_path / "var",
        models_dir=REPO / "var" / "models",
        database_url=f"sqlite:///{tmp_path / 'test.db'}",
        asr_threads=2,
        llm_threads=2,
        llm_n_ctx=4096,
        llm_max_tokens=1024,
        log_level="INFO",
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def engines():
    """The real tiny models, loaded once for the whole run (they are read-only)."""
    from assistant.model_store.store import resolve_models
    from assistant.pipeline import Engines

    settings = make_settings(Path("/nonexistent"))
    try:
        models = resolve_models(settings)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"test models are not installed ({exc}); run scripts/test.sh")
    return Engines.load(settings, models)


class LiveServer:
    """The app served by uvicorn on a loopback port, driven by a real HTTP client."""

    def __init__(self, app, port: int):
        import uvicorn

        self.base_url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self._clients: list[httpx.Client] = []

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        for client in self._clients:
            client.close()
        self.server.should_exit = True
        self.thread.join(30)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=self.base_url, headers=headers, timeout=120)
        self._clients.append(client)
        return client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_user(settings, name: str, role: str) -> tuple[str, str]:
    """Create a user directly in the app's database; return (user_id, token)."""
    from assistant.auth import hash_token, new_token
    from assistant.storage import repo
    from assistant.storage.db import make_engine, session_factory, session_scope, upgrade

    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    token = new_token()
    with session_scope(session_factory(engine)) as s:
        user = repo.create_user(session=s, name=name, role=role, token_hash=hash_token(token))
        uid = user.id
    engine.dispose()
    return uid, token


def seed_recording(session, owner_id: str):
    """A three-second recording with its raw ("Hello Amara.") and redacted ("Hello
    [PERSON_1].") one-segment transcripts, stored for ``owner_id``; returns the recording."""
    from assistant.domain import RedactedSegment, RedactedTranscript, Segment, Transcript
    from assistant.storage import repo

    rec = repo.create_recording(
        session=session,
        owner_id=owner_id,
        visit_type="home visit",
        template="visit_note",
        language="en",
        audio_path=None,
        audio_sha256="0" * 64,
        size_bytes=1,
        format="wav",
        duration_s=3.0,
    )
    raw = Transcript(
        segments=(Segment(id="s0001", start=0, end=3, text="Hello Amara."),),
        language="en",
        duration_s=3.0,
        source="text",
    )
    red = RedactedTranscript(
        segments=(RedactedSegment(id="s0001", start=0, end=3, text="Hello [PERSON_1]."),),
        language="en",
        duration_s=3.0,
        entities=(),
        config_hash="x",
    )
    repo.save_transcript(session=session, recording_id=rec.id, kind="raw", body=raw)
    repo.save_transcript(session=session, recording_id=rec.id, kind="redacted", body=red)
    return rec


def wait_for_job(client: httpx.Client, job_id: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/jobs/{job_id}").json()
        if body["status"] in ("done", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.25)


@pytest.fixture
def speech_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp().parent / "speech-cache"


@pytest.fixture
def live(tmp_path, engines, db_url) -> Iterator[tuple[LiveServer, object]]:
    """A running service on a fresh database (SQLite, and PostgreSQL when reachable), sharing
    the session's loaded models."""
    from assistant.api.app import create_app

    settings = make_settings(tmp_path, database_url=db_url)
    app = create_app(settings, engines=engines)
    with LiveServer(app, free_port()) as server:
        yield server, settings
