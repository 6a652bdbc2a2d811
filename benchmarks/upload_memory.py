"""The service's memory under 10 concurrent 200 MB uploads (goal: flat; issue 26).

    .venv/bin/python benchmarks/upload_memory.py [--uploads 10] [--mib 200]
        [--database sqlite|postgresql] [--dir /work/tmp] [--out eval/results/DATE/load]

A real ``caseassist serve`` (test profile) in a subprocess, its worker off so that only the
intake is measured (the 10 queued jobs would each transcribe 1.8 hours of tone). One WAV of
``--mib`` MiB (16 kHz mono, a quiet square wave: nobody's voice) is written a second at a time
into a temporary folder under ``--dir``; ``--uploads`` threads post it at once, each streaming
it from disk. The service's peak resident set (``VmHWM`` of ``/proc/PID/status``) is read
before and after, and its current RSS sampled every 0.1 s meanwhile. Everything written (the
WAV, the service's folder with the encrypted uploads) is deleted at the end. Not a test: one
run, printed and written as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.crypto_bench import make_wav  # noqa: E402
from benchmarks.live_service import LiveService, vm_kib  # noqa: E402
from eval.provenance import machine  # noqa: E402

RATE = 16000


def upload(svc: LiveService, wav: Path, out: list[dict], i: int) -> None:
    t0 = time.perf_counter()
    with wav.open("rb") as f, httpx.Client(timeout=600) as client:
        r = client.post(
            svc.base_url + "/v1/recordings",
            headers=svc.headers(),
            files={"audio": (f"visit-{i}.wav", f, "audio/wav")},
            data={"visit_date": "2026-12-01"},
        )
    out.append(
        {
            "upload": i,
            "status": r.status_code,
            "seconds": round(time.perf_counter() - t0, 1),
            "error": None if r.status_code == 202 else r.json().get("error", {}).get("code"),
        }
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--uploads", type=int, default=10)
    ap.add_argument("--mib", type=float, default=200.0)
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--dir", type=Path, default=ROOT / "var" / "bench")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "eval" / "results" / date.today().isoformat() / "load"
    )
    args = ap.parse_args()

    size = int(args.mib * 1024 * 1024)
    need = size * args.uploads * 2 + size  # the uploads, their .part files, the WAV
    args.dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(args.dir).free
    if free < need * 1.2:
        print(f"not enough disk under {args.dir}: {free >> 20} MiB free, {need >> 20} needed")
        return 2

    work = Path(tempfile.mkdtemp(prefix="upload-memory-", dir=args.dir))
    try:
        wav = work / "tone.wav"
        minutes = (size - 44) / (RATE * 2) / 60
        wav_bytes = make_wav(wav, minutes=minutes, rate=RATE, channels=1)
        with LiveService(database=args.database, run_worker=False, root=work) as svc:
            httpx.get(svc.base_url + "/v1/recordings", headers=svc.headers()).raise_for_status()
            before = {"VmHWM_kib": vm_kib(svc.pid, "VmHWM"), "VmRSS_kib": vm_kib(svc.pid, "VmRSS")}
            samples: list[int] = []
            done = threading.Event()

            def sample() -> None:
                while not done.is_set():
                    samples.append(vm_kib(svc.pid, "VmRSS"))
                    time.sleep(0.1)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            results: list[dict] = []
            threads = [
                threading.Thread(target=upload, args=(svc, wav, results, i))
                for i in range(args.uploads)
            ]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            done.set()
            sampler.join()
            after = {"VmHWM_kib": vm_kib(svc.pid, "VmHWM"), "VmRSS_kib": vm_kib(svc.pid, "VmRSS")}
            stored = sum(p.stat().st_size for p in (svc.dir / "var" / "uploads").iterdir())
    finally:
        shutil.rmtree(work, ignore_errors=True)

    growth_mib = (after["VmHWM_kib"] - before["VmHWM_kib"]) / 1024
    result = {
        "benchmark": "upload_memory",
        "date": date.today().isoformat(),
        "command": "python benchmarks/upload_memory.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "database": args.database,
        "uploads": args.uploads,
        "wav_bytes": wav_bytes,
        "wav_minutes": round(minutes, 1),
        "accepted": sum(1 for r in results if r["status"] == 202),
        "answers": sorted(results, key=lambda r: r["upload"]),
        "wall_s": round(wall, 1),
        "mib_per_s": round(wav_bytes * args.uploads / wall / 2**20, 1),
        "stored_bytes": stored,
        "rss_before": before,
        "rss_after": after,
        "rss_sampled_max_kib": max(samples) if samples else None,
        "rss_samples": len(samples),
        "peak_growth_mib": round(growth_mib, 1),
        "peak_growth_per_uploaded_mib": round(growth_mib / (wav_bytes * args.uploads / 2**20), 4),
        "goal": "flat: the peak RSS does not grow with what is uploaded",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"upload_memory-{args.database}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    print(f"machine: {result['machine']['cpu_model']}, {result['machine']['cores']} cores")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
