"""A real ``caseassist serve`` in a subprocess, for the load and robustness benchmarks.

It runs on the test profile in a folder of its own (SQLite there, or a PostgreSQL schema of its
own with ``database="postgresql"``), with a practitioner added by ``caseassist users add``.
Nothing here is a test: the scripts that use it print and save what they measured."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

import httpx

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("ASSISTANT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def vm_kib(pid: int, field: str) -> int:
    """A ``/proc/PID/status`` figure in KiB: VmHWM is the peak resident set, VmRSS the current."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class LiveService:
    """``with LiveService(...) as svc:`` starts the service and waits until ``/health/ready``."""

    def __init__(
        self,
        *,
        database: str = "sqlite",
        run_worker: bool = True,
        env: dict[str, str] | None = None,
        root: Path | None = None,
    ) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="caseassist-bench-", dir=root))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database = database
        self.schema: str | None = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CASEASSIST_")}
        self.env.update(
            CASEASSIST_PROFILE="test",
            CASEASSIST_DATA_DIR=str(self.dir / "var"),
            CASEASSIST_MODELS_DIR=str(ROOT / "var" / "models"),
            CASEASSIST_RUN_WORKER="true" if run_worker else "false",
            CASEASSIST_LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
        )
        if database == "postgresql":
            self.schema = f"bench_{uuid.uuid4().hex[:12]}"
            self.env["CASEASSIST_DATABASE_URL"] = (
                PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1)
                + f"?options=-csearch_path%3D{self.schema}&application_name={self.schema}"
            )
        self.env.update(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.dir / "service.log"
        self.token = ""

    # --- life ----------------------------------------------------------------------------
    def __enter__(self) -> LiveService:
        if self.schema:
            self._pg(f'CREATE SCHEMA "{self.schema}"')
        try:
            self.token = self.add_user("Bench Practitioner", "practitioner")
            with self.log.open("wb") as log:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "assistant.cli", "serve", "--port", str(self.port)],
                    cwd=self.dir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.schema:
            self._pg(  # the schema name is made here, from a uuid
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608
                f"WHERE application_name = '{self.schema}' AND pid <> pg_backend_pid()"
            )
            self._pg(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        shutil.rmtree(self.dir, ignore_errors=True)

    def _pg(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def _wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the service exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.base_url + "/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the service did not become ready")

    # --- helpers -------------------------------------------------------------------------
    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "assistant.cli", *args],
            cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"caseassist {args[0]} failed: {done.stderr[-2000:]}")
        return done.stdout

    def add_user(self, name: str, role: str) -> str:
        out = self.cli("users", "add", "--name", name, "--role", role)
        match = re.search(r"^token: (\S+)$", out, re.M)
        assert match, "users add printed no token"
        return match.group(1)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}
