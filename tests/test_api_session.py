"""A request's database work is committed before its response is sent: a client that acts on
an answer (approve right after an edit) must find what that answer reported."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from assistant.api.deps import SessionDep
from assistant.domain import Role
from assistant.storage import User, make_engine, repo, session_factory, upgrade


def test_the_session_is_committed_before_the_response_starts(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    app = FastAPI()
    app.state.sessions = session_factory(engine)

    @app.post("/users")
    def add(session: SessionDep) -> dict:
        repo.create_user(session=session, name="x", role=Role.ADMIN, token_hash="a" * 64)
        return {}

    seen: list[int] = []

    async def watching(scope, receive, send):
        async def send_and_look(message):
            if message["type"] == "http.response.start":
                with engine.connect() as conn:  # another connection: sees committed rows only
                    seen.append(conn.scalar(select(func.count()).select_from(User)) or 0)
            await send(message)

        await app(scope, receive, send_and_look)

    try:
        with TestClient(watching) as client:
            assert client.post("/users").status_code == 200
    finally:
        engine.dispose()
    assert seen == [1]
