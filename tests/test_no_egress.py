"""No egress (issue 26): the whole pipeline, from upload to an approved, exported note, runs
through the real API with every outbound connection refused except to loopback.

The guard works at the socket level inside the test process, from before the service starts
(so model loading is inside it) to the end: ``socket.socket.connect``/``connect_ex``,
``socket.create_connection``, ``socket.getaddrinfo`` and ``gethostbyname`` are replaced by
checks that raise on, and record, any address that is not loopback (a name lookup is egress
too: DNS); and a ``sys.addaudithook`` hook applies the same checks to the CPython audit events
``socket.connect``, ``socket.sendto``, ``socket.getaddrinfo`` and ``socket.gethostbyname``, which
the C socket module raises however it is reached (a reference taken before the patch,
``_socket`` used directly). The test asserts nothing was attempted.

Outside this guard, said plainly: subprocesses (the test's own espeak-ng and sox, which make the
recording before the guard is armed; the service starts none between upload and export), and
sockets that native code opens without Python's socket module: FFmpeg inside PyAV (it is only
ever given a local file), CTranslate2 and llama.cpp. The libraries' offline switches
(``HF_HUB_OFFLINE`` ...) are the ones the service sets itself (``bootstrap.set_offline``, called
by ``caseassist`` and by ``tests/conftest.py``); this test adds none.

Real components: espeak-ng speech, Whisper tiny.en, Presidio on spaCy, SmolLM2, SQLite,
uvicorn on a loopback port and an httpx client.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.bootstrap import OFFLINE_ENV
from tests.conftest import LiveServer, add_user, free_port, make_settings, wait_for_job
from tests.speech import VISIT_SCRIPT, espeak_available, synthesize_dialogue

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _host(address: Any) -> str | None:
    """The host of a socket address; None for a Unix socket path (local by definition)."""
    if isinstance(address, tuple) and address:
        host = address[0]
        return host.decode() if isinstance(host, bytes) else str(host)
    return None


def is_loopback(host: str | None, *, resolving: bool = False) -> bool:
    """Loopback, or (only when resolving an address to bind to) the unspecified address."""
    if host is None or host.lower() in LOCAL_NAMES or (resolving and host == ""):
        return True
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False  # a name other than localhost: resolving it would ask DNS
    return ip.is_loopback or (resolving and ip.is_unspecified)


class EgressGuard:
    """Refuses and records every non-loopback connection or name lookup while armed."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self.armed = False

    def check(self, what: str, host: str | None, *, resolving: bool = False) -> None:
        if self.armed and not is_loopback(host, resolving=resolving):
            self.attempts.append(f"{what} {host}")
            raise ConnectionRefusedError(f"egress refused by the test: {what} {host}")

    def audit_hook(self, event: str, args: tuple) -> None:
        if not self.armed or not event.startswith("socket."):
            return
        if event in ("socket.connect", "socket.sendto"):
            self.check(event, _host(args[1]))
        elif event == "socket.getaddrinfo":
            host = args[0].decode() if isinstance(args[0], bytes) else args[0]
            self.check(event, host, resolving=True)
        elif event == "socket.gethostbyname":
            self.check(event, args[0], resolving=True)


#: Audit hooks cannot be removed: one hook for the whole run, acting only while a guard is armed.
_GUARD = EgressGuard()
sys.addaudithook(_GUARD.audit_hook)


@pytest.fixture
def egress_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[EgressGuard]:
    guard = _GUARD
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
    create_connection, getaddrinfo = socket.create_connection, socket.getaddrinfo
    gethostbyname = socket.gethostbyname

    def guarded_connect(self: socket.socket, address: Any) -> None:
        guard.check("connect", _host(address))
        return connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        guard.check("connect_ex", _host(address))
        return connect_ex(self, address)

    def guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        guard.check("create_connection", _host(address))
        return create_connection(address, *args, **kwargs)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> list:
        name = host.decode() if isinstance(host, bytes) else host
        guard.check("getaddrinfo", name, resolving=True)
        return getaddrinfo(host, *args, **kwargs)

    def guarded_gethostbyname(host: str) -> str:
        guard.check("gethostbyname", host, resolving=True)
        return gethostbyname(host)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "create_connection", guarded_create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(socket, "gethostbyname", guarded_gethostbyname)
    guard.attempts.clear()
    guard.armed = True
    try:
        yield guard
    finally:
        guard.armed = False


def test_the_guard_refuses_and_records_all_but_loopback(egress_guard: EgressGuard) -> None:
    import _socket

    with socket.socket() as server:  # loopback works: a listener and a client
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
    assert socket.getaddrinfo("localhost", 80)
    assert egress_guard.attempts == []

    def on(sock: Any, call: str, *args: Any) -> None:
        try:
            getattr(sock, call)(*args)
        finally:
            sock.close()

    refused = [
        lambda: socket.create_connection(("192.0.2.1", 443), timeout=1),  # TEST-NET-1
        lambda: on(socket.socket(socket.AF_INET6), "connect_ex", ("2001:db8::1", 443)),
        lambda: socket.getaddrinfo("huggingface.co", 443),
        lambda: socket.gethostbyname("example.org"),
        # past the patched functions: only the audit hook sees these
        lambda: on(_socket.socket(), "connect", ("192.0.2.2", 80)),
        lambda: _socket.getaddrinfo("example.net", 80),
        lambda: on(
            _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM), "sendto", b"x", ("192.0.2.3", 53)
        ),
    ]
    for attempt in refused:
        with pytest.raises(ConnectionRefusedError):
            attempt()
    hosts = " ".join(egress_guard.attempts)
    for host in ("192.0.2.1", "2001:db8::1", "huggingface.co", "example.org", "192.0.2.2"):
        assert host in hosts
    assert "example.net" in hosts and "192.0.2.3" in hosts


@pytest.mark.models
@pytest.mark.slow
@pytest.mark.skipif(not espeak_available(), reason="espeak-ng and sox are needed for speech")
def test_upload_to_approved_note_makes_no_outbound_connection(tmp_path, request) -> None:
    # The recording is made first: espeak-ng and sox are the test's tools, not the service's.
    wav = synthesize_dialogue(VISIT_SCRIPT, tmp_path / "visit.wav")
    guard: EgressGuard = request.getfixturevalue("egress_guard")
    # The offline switches are the service's own (bootstrap.set_offline), nothing more.
    assert {k: os.environ.get(k) for k in OFFLINE_ENV} == OFFLINE_ENV

    from assistant.api.app import create_app

    settings = make_settings(tmp_path)  # SQLite; the models are loaded by the app, guarded
    _, token = add_user(settings, "Practitioner A", "practitioner")
    with LiveServer(create_app(settings), free_port()) as server:
        client = server.client(token)
        with wav.open("rb") as f:
            r = client.post(
                "/v1/recordings",
                files={"audio": ("visit.wav", f, "audio/wav")},
                data={"visit_type": "home visit", "template": "visit_note"},
            )
        assert r.status_code == 202, r.text
        job = wait_for_job(client, r.json()["job_id"])
        assert job["status"] == "done", job
        recording_id, note_id = r.json()["recording_id"], job["note_id"]
        assert client.get(f"/v1/recordings/{recording_id}/transcript").status_code == 200
        assert client.get(f"/v1/recordings/{recording_id}/transcript/redacted").status_code == 200
        draft = client.get(f"/v1/notes/{note_id}").json()
        assert draft["status"] == "draft"
        for item in draft["safeguarding"]:  # each confirmed before approval
            path = f"/v1/notes/{note_id}/statements/{item['section']}/{item['index']}/confirm"
            assert client.post(path).status_code == 200
        approved = client.post(f"/v1/notes/{note_id}/approve")
        assert approved.status_code == 200 and approved.json()["status"] == "approved"
        export = client.get(
            f"/v1/notes/{note_id}/export", params={"format": "md", "reidentify": "true"}
        )
        assert export.status_code == 200

    assert guard.attempts == [], f"outbound connections were attempted: {guard.attempts}"
