"""The service's access log never holds a query string: a set-password link's token (valid for
72 hours, it sets someone's password), a sign-in's authorisation code, a search for a family's
name. Found on a walk-through: ``GET /set-password?token=<the token>`` in uvicorn's log."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import httpx

from assistant.api.app import NoQueryStrings
from tests.conftest import REPO, free_port


def _record(path: str) -> logging.LogRecord:
    # as uvicorn.protocols.http logs an answered request
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 200), None,
    )  # fmt: skip


def test_the_query_string_is_dropped_and_the_path_kept():
    record = _record("/set-password?token=abc123secret")
    assert NoQueryStrings().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /set-password?… HTTP/1.1" 200'
    plain = _record("/health/live")
    NoQueryStrings().filter(plain)
    assert plain.getMessage() == '127.0.0.1:5000 - "GET /health/live HTTP/1.1" 200'


def test_a_set_password_token_never_reaches_the_served_log(tmp_path):
    """`caseassist serve` as deployed, its log read back after a link is opened."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CASEASSIST_"))}
    env.update(
        PYTHONPATH=str(REPO),
        CASEASSIST_PROFILE="test",
        CASEASSIST_MODELS_DIR=str(REPO / "var" / "models"),
        CASEASSIST_DATA_DIR=str(tmp_path / "var"),
        CASEASSIST_RUN_WORKER="false",
        CASEASSIST_LOG_LEVEL="INFO",
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while True:
                assert proc.poll() is None, log.read_text()
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health/live").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            secret = "Zq7uTokenThatMustNotBeLogged"
            httpx.get(f"http://127.0.0.1:{port}/set-password?token={secret}")
            httpx.get(f"http://127.0.0.1:{port}/visits?q=Amara+Okafor")
            time.sleep(0.5)
        finally:
            proc.terminate()
            proc.wait(30)
    text = log.read_text()
    assert "GET /set-password?…" in text  # the request is logged, without its query
    assert secret not in text and "Okafor" not in text
