"""Job status under load: 50 clients asking ``GET /v1/jobs/{id}`` back to back while the
service's worker processes a visit (goal: p99 under 50 ms; issue 26).

    .venv/bin/python benchmarks/status_load.py [--clients 50] [--interval 1] [--minutes 2]
        [--database sqlite|postgresql] [--queue] [--out eval/results/DATE/load]

A real ``caseassist serve`` (test profile, its in-process worker) in a subprocess; a generated
visit (espeak-ng, ``tests/speech.py``) is uploaded and the clients poll its job from the upload
until it is done, each every ``--interval`` seconds from a random start (the web app's progress
page asks every 2 s), or back to back with ``--interval 0``: 50 clients that never pause keep 50
requests queued, so their latency measures the service's capacity more than its speed (by
Little's law, latency = clients / throughput). Every answer's latency is kept with the stage
the answer reported, so the figures while drafting are given apart from the whole run. The
clients run in this process on the same machine (one asyncio loop), so their own CPU use
competes with the service's and is in the figures. Not a test: one run, printed and written as
JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.live_service import LiveService  # noqa: E402
from eval.provenance import machine  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def summary(ms: list[float]) -> dict[str, float | int]:
    if not ms:
        return {"requests": 0}
    return {
        "requests": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p90_ms": round(percentile(ms, 90), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


async def poll(
    client: httpx.AsyncClient,
    url: str,
    stop: asyncio.Event,
    out: list[tuple[float, str, int]],
    interval: float,
) -> None:
    await asyncio.sleep(random.uniform(0, interval))  # noqa: S311 - clients out of step
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            r = await client.get(url)
        except httpx.TransportError:  # a refused or dropped connection is an answer that failed
            out.append(((time.perf_counter() - t0) * 1000, "connection error", 0))
            await asyncio.sleep(interval)
            continue
        elapsed = (time.perf_counter() - t0) * 1000
        label = "-"
        if r.status_code == 200:  # queued, transcribing, ..., drafting, done
            label = r.json()["status"]
        out.append((elapsed, str(label), r.status_code))
        if interval:
            await asyncio.sleep(max(0.0, interval - elapsed / 1000))


async def load(
    svc: LiveService, job_id: str, clients: int, interval: float
) -> tuple[list, float, dict]:
    url = f"/v1/jobs/{job_id}"
    samples: list[tuple[float, str, int]] = []
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=svc.base_url, headers=svc.headers(), limits=limits, timeout=30
    ) as client:
        tasks = [
            asyncio.create_task(poll(client, url, stop, samples, interval)) for _ in range(clients)
        ]
        t0 = time.perf_counter()
        final: dict = {}
        failures = 0
        while True:  # a watcher on its own connection: stop when the job has ended
            await asyncio.sleep(0.5)
            try:
                final = (await client.get(url)).json()
                failures = 0
            except httpx.TransportError:
                failures += 1
                if failures > 60:  # half a minute without an answer: the service is gone
                    break
                continue
            if final.get("status") in ("done", "failed"):
                break
        stop.set()
        await asyncio.gather(*tasks)
        return samples, time.perf_counter() - t0, final


@contextlib.contextmanager
def worker(svc: LiveService, start: bool) -> Iterator[None]:
    """With ``start``, one `caseassist worker` (every stage) beside the service, stopped after."""
    if not start:
        yield
        return
    with (svc.dir / "worker.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "worker"],
            cwd=svc.dir, env=svc.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument(
        "--interval", type=float, default=1.0, help="seconds between a client's requests; 0: none"
    )
    ap.add_argument("--minutes", type=float, default=2.0, help="length of the generated visit")
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument(
        "--queue",
        action="store_true",
        help="the council layout: the service answers, a separate `caseassist worker` process "
        "runs the stages through the shared queue (PostgreSQL)",
    )
    ap.add_argument(
        "--out", type=Path, default=ROOT / "eval" / "results" / date.today().isoformat() / "load"
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="CASEASSIST_X=VALUE",
        help="a setting for the service and worker (repeatable), e.g. CASEASSIST_ASR_THREADS=1",
    )
    args = ap.parse_args()

    from tests.speech import long_visit_script, synthesize_dialogue

    wav = synthesize_dialogue(
        long_visit_script(args.minutes), ROOT / "var" / "bench" / f"visit-{args.minutes:g}min.wav"
    )
    load_before = [round(x, 2) for x in os.getloadavg()]  # other work on the machine
    if args.queue:
        args.database = "postgresql"
    env = dict(kv.split("=", 1) for kv in args.set)
    if args.queue:
        env["CASEASSIST_QUEUE"] = "procrastinate"
    with LiveService(database=args.database, env=env) as svc, worker(svc, args.queue):
        with wav.open("rb") as f:
            up = httpx.post(
                svc.base_url + "/v1/recordings",
                headers=svc.headers(),
                files={"audio": ("visit.wav", f, "audio/wav")},
                data={"visit_date": "2026-12-01"},
                timeout=120,
            )
        up.raise_for_status()
        job_id = up.json()["job_id"]
        # the clients time every answer in this process: a collection here pauses them all
        # (15-120 ms every 45 s, measured) and would be counted as the service's slowness; the
        # few minutes of a run need no collecting
        gc.collect()
        gc.disable()
        try:
            samples, wall, final = asyncio.run(load(svc, job_id, args.clients, args.interval))
        finally:
            gc.enable()
        if svc.proc is not None and svc.proc.poll() is not None:
            print(svc.log.read_text()[-3000:], file=sys.stderr)
            raise SystemExit("the service exited during the run")

    errors = sum(1 for _, _, code in samples if code != 200)
    by_stage: dict[str, list[float]] = {}
    for ms, stage, code in samples:
        if code == 200:
            by_stage.setdefault(stage, []).append(ms)
    result = {
        "benchmark": "status_load",
        "date": date.today().isoformat(),
        "command": "python benchmarks/status_load.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "database": args.database,
        "layout": "service + separate worker (queue)" if args.queue else "service with its worker",
        "settings": args.set,
        "clients": args.clients,
        "interval_s": args.interval,
        "load_average_before": load_before,
        "visit_minutes": args.minutes,
        "job_status": final.get("status"),
        "job_timings": final.get("timings"),
        "wall_s": round(wall, 1),
        "throughput_rps": round(len(samples) / wall, 1),
        "non_200": errors,
        "all": summary([ms for ms, _, code in samples if code == 200]),
        "by_stage": {stage: summary(ms) for stage, ms in sorted(by_stage.items())},
        "goal": "p99 < 50 ms while a job drafts",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    layout = ("-queue" if args.queue else "") + "".join(
        "-" + kv.removeprefix("CASEASSIST_").lower().replace("=", "") for kv in args.set
    )
    path = args.out / f"status_load-{args.database}{layout}-interval{args.interval:g}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    print(f"machine: {result['machine']['cpu_model']}, {result['machine']['cores']} cores")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
