"""schemathesis over the OpenAPI of a live service (uvicorn on a loopback port, real models of
the test profile, SQLite and PostgreSQL): no answer is a server error, and every answer matches
the schema the OpenAPI gives for it. Kept short here (a few examples per operation, a fixed
seed); benchmarks/api_fuzz.py runs the full one, with a drafted note's real ids as well."""

from __future__ import annotations

import pytest

from assistant.api.app import create_app
from benchmarks.api_fuzz import schemathesis
from tests.conftest import LiveServer, add_user, free_port, make_settings, seed_recording

pytestmark = [pytest.mark.models, pytest.mark.slow]


def test_no_server_error_and_every_answer_matches_its_schema(tmp_path, engines, db_url):
    # the fuzzer sends bad tokens on purpose: with the default limit every later case is a 429
    settings = make_settings(tmp_path, database_url=db_url, api_token_attempts=1_000_000)
    uid, token = add_user(settings, "Fuzz Practitioner", "practitioner")
    app = create_app(settings, engines=engines)
    with LiveServer(app, free_port()) as server:
        from assistant.storage.db import session_scope

        with session_scope(app.state.sessions) as s:  # a recording with transcripts to find
            rec_id = seed_recording(s, uid).id
        run = schemathesis(
            server.base_url,
            token,
            max_examples=3,
            report=tmp_path / "report",
            ids={"recording_id": rec_id},
        )
    assert run["exit_code"] == 0, run["summary"]
    assert run["failures"] == []
    # it did run: hundreds of cases, and answers beyond refusals
    assert run["cases"] > 300, run["status_codes"]
    assert run["status_codes"].get("200", 0) > 10, run["status_codes"]
    assert "500" not in run["status_codes"]
