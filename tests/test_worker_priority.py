"""The service's own worker runs below the threads that answer requests (``worker_nice``).

Whisper computes in threads CTranslate2 starts as the model loads, not in the job's thread, so
lowering the job thread alone left speech recognition at the service's priority. Each case
runs the service in a subprocess: nice values only go down, and the test process keeps its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, make_settings
from tests.speech import espeak_available, synthesize

pytestmark = [
    pytest.mark.models,
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed"),
]

# Runs the app with its worker thread on a loopback port, uploads one recording, waits for its
# note and prints, per thread, the CPU time it used during the job and its nice value.
PROBE = r"""
import json, sys, time
from pathlib import Path
from assistant.api.app import create_app
from tests.conftest import LiveServer, add_user, free_port, make_settings

tmp, wav, nice = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])

def threads():
    out = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            f = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(task.name)] = (int(f[11]) + int(f[12]), int(f[16]))  # utime+stime, nice
    return out

settings = make_settings(tmp, worker_nice=nice)
_, token = add_user(settings, "P", "practitioner")
with LiveServer(create_app(settings), free_port()) as srv:
    client = srv.client(token)
    before = threads()
    with wav.open("rb") as f:
        r = client.post("/v1/recordings", files={"audio": ("v.wav", f)})
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    deadline = time.monotonic() + 300
    while (status := client.get(f"/v1/jobs/{job_id}").json()["status"]) not in ("done", "failed"):
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    after = threads()
    server_tid = srv.thread.native_id
print(json.dumps({
    "status": status,
    "switch_ms": sys.getswitchinterval() * 1000,
    "server": after.get(server_tid, before.get(server_tid, (0, None)))[1],
    "threads": [[after[t][0] - before.get(t, (0, 0))[0], after[t][1]] for t in after],
}))
"""


@pytest.fixture(scope="module")
def visit_wav(tmp_path_factory) -> Path:
    text = (
        "Hello, I am the social worker. Thank you for seeing me today. How has Tom been "
        "sleeping since the last visit? He has been sleeping better and he goes to school "
        "every day now. He likes football and he plays on Saturdays with his friends. "
    )
    return synthesize(text * 3, tmp_path_factory.mktemp("nice") / "visit.wav")


def _probe(tmp_path: Path, wav: Path, nice: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEASSIST_")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path), str(wav), str(nice)],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_embedded_worker_computes_below_the_threads_that_answer(tmp_path, visit_wav):
    base = os.getpriority(os.PRIO_PROCESS, 0)
    lowered = min(19, base + 10)
    got = _probe(tmp_path, visit_wav, 10)
    assert got["status"] == "done"
    assert got["server"] == base  # the thread that answers requests keeps the service's value
    used = sum(ticks for ticks, _ in got["threads"])
    below = sum(ticks for ticks, nice in got["threads"] if nice == lowered)
    assert used > 0
    # speech recognition, redaction and drafting: nearly all the job's CPU time ran lowered
    # (before, CTranslate2's threads ran at the service's value: most of it did not)
    assert below / used >= 0.8, got
    # and a request thread waits 0.5 ms, not Python's 5, for the lock the job's Python work holds
    assert got["switch_ms"] == pytest.approx(0.5)


def test_worker_nice_zero_leaves_every_thread_as_it_was(tmp_path, visit_wav):
    base = os.getpriority(os.PRIO_PROCESS, 0)
    got = _probe(tmp_path, visit_wav, 0)
    assert got["status"] == "done"
    assert {nice for _, nice in got["threads"]} == {base}


def test_the_service_leaves_what_it_loaded_out_of_garbage_collection(tmp_path, engines) -> None:
    """What the service loads at start lives as long as it does; a full collection that walked
    it held the interpreter lock, and every answer in flight, for 50-200 ms about twice a
    minute. While the service runs, those objects are frozen out of collection; once it stops,
    a process that goes on (these tests) collects them again."""
    import gc

    from fastapi.testclient import TestClient

    from assistant.api.app import create_app

    before = gc.get_freeze_count()
    settings = make_settings(tmp_path, run_worker=False)
    with TestClient(create_app(settings, engines=engines)) as client:
        assert client.get("/health/live").status_code == 200
        frozen = gc.get_freeze_count()
        assert frozen > before + 10_000, (before, frozen)
        # what a request makes after the start is collected as before
        assert gc.isenabled()
    assert gc.get_freeze_count() == 0
