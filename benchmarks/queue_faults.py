"""Fault test of the shared queue (issue 26): N queued visits, two `caseassist worker` processes,
one SIGKILLed mid-job, PostgreSQL restarted once; then every note counted.

    CASEASSIST_PROFILE=test python benchmarks/queue_faults.py --visits 20 --minutes 2 \\
        --out eval/results/2026-12-06/queue-faults

What it does, in order (test profile, real models, real PostgreSQL at 127.0.0.1:5432/test in a
schema of its own, dropped at the end):

1. synthesises one visit of about ``--minutes`` with espeak-ng (tests/speech.py, cached) and
   uploads it ``--visits`` times through the service in queue mode (which runs no stage);
2. starts ``--workers`` ``python -m assistant.cli worker`` processes (all stages) -- the clock
   starts here, model loading included;
3. once ``--kill-after`` notes exist and every worker is busy, SIGKILLs worker 1 (its stage is
   left ``doing``) and, like systemd's ``Restart=always``, starts a replacement 5 s later;
4. once ``--restart-after`` notes exist, restarts PostgreSQL (``--restart-cmd``) under them;
5. waits until every job is done or failed (or ``--timeout``) and prints: notes, jobs with more
   than one note, jobs done without a note, jobs failed, lost (not finished), the attempts the
   faults cost, and the time to finish. Writes ``result.json`` and ``output.txt`` to ``--out``.

Exit status 0 only if every visit has exactly one note.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

LINES: list[str] = []


def say(line: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    LINES.append(f"{stamp} {line}")
    print(f"{stamp} {line}", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--visits", type=int, default=20)
    p.add_argument("--minutes", type=float, default=2.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--kill-after", type=int, default=2, help="notes before the SIGKILL")
    p.add_argument("--restart-after", type=int, default=6, help="notes before the DB restart")
    p.add_argument("--restart-cmd", default="pg_ctlcluster 15 main restart")
    p.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    p.add_argument("--timeout", type=float, default=3 * 3600)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()

    from tests.speech import long_visit_script, synthesize_dialogue

    admin_info = make_url(args.pg_url).set(drivername="postgresql").render_as_string(False)
    # t_ like the tests' schemas: tests that look for leaks into other schemas skip them
    schema = f"t_qf_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_info, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    db_url = (
        make_url(args.pg_url)
        .set(query={"options": f"-csearch_path={schema}", "application_name": schema})
        .render_as_string(hide_password=False)
    )
    work = Path(tempfile.mkdtemp(prefix="queue-faults-"))
    env = {
        **os.environ,
        "CASEASSIST_PROFILE": "test",
        "CASEASSIST_DATA_DIR": str(work / "var"),
        "CASEASSIST_MODELS_DIR": str(REPO / "var" / "models"),
        "CASEASSIST_DATABASE_URL": db_url,
        "CASEASSIST_QUEUE": "procrastinate",
        "CASEASSIST_LOG_LEVEL": "INFO",
    }
    os.environ.update(env)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        wav = synthesize_dialogue(long_visit_script(args.minutes), work / "visit.wav")
        say(f"visit audio: {wav.stat().st_size / 32000:.0f} s; schema {schema}")
        job_ids = upload(wav, args.visits)
        say(f"queued {len(job_ids)} visits")

        def start(i: int) -> subprocess.Popen[bytes]:
            log = (work / f"worker{i}.log").open("ab")
            return subprocess.Popen(
                [sys.executable, "-m", "assistant.cli", "worker"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        t0 = time.monotonic()
        workers = [start(i) for i in range(args.workers)]
        say(f"started {args.workers} workers (pids {[w.pid for w in workers]})")
        killed = restarted = False
        deadline = t0 + args.timeout
        while True:
            try:
                state = snapshot(db_url, job_ids)
            except psycopg.OperationalError:
                time.sleep(1)
                continue
            if state["finished"] == len(job_ids) or time.monotonic() > deadline:
                break
            if not killed and state["notes"] >= args.kill_after and state["doing"] >= args.workers:
                victim = workers[0]
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                killed = True
                say(
                    f"SIGKILL worker pid {victim.pid} mid-job ({state['notes']} notes, "
                    f"{state['doing']} stages running)"
                )
                threading.Timer(5.0, lambda: workers.__setitem__(0, start(9))).start()
            elif killed and not restarted and state["notes"] >= args.restart_after:
                t = time.monotonic()
                rc = subprocess.run(args.restart_cmd.split(), capture_output=True).returncode
                restarted = True
                say(
                    f"PostgreSQL restarted ({args.restart_cmd!r} rc={rc}, "
                    f"{time.monotonic() - t:.1f} s) with {state['notes']} notes"
                )
            time.sleep(1)
        elapsed = time.monotonic() - t0
        final = snapshot(db_url, job_ids)
        result = {
            "visits": len(job_ids),
            "visit_minutes": args.minutes,
            "workers": args.workers,
            "killed_worker": killed,
            "database_restarted": restarted,
            "notes": final["notes"],
            "jobs_with_one_note": final["one_note"],
            "duplicated": final["duplicated"],
            "done_without_note": final["done_no_note"],
            "failed": final["failed"],
            "lost": len(job_ids) - final["finished"],
            "attempts_spent_on_faults": final["attempts"],
            "time_to_finish_s": round(elapsed, 1),
        }
        say(
            f"RESULT notes {final['one_note']}/{len(job_ids)} visits with exactly one note; "
            f"duplicated {final['duplicated']}, failed {final['failed']}, "
            f"lost {result['lost']}; time to finish {elapsed:.0f} s "
            f"({elapsed / 60:.1f} min) from the workers' start, model loading included"
        )
        say("RESULT " + json.dumps(result))
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
            (args.out / "output.txt").write_text("\n".join(LINES) + "\n")
        return 0 if final["one_note"] == len(job_ids) and final["duplicated"] == 0 else 1
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(120)
            except subprocess.TimeoutExpired:
                w.kill()
        with psycopg.connect(admin_info, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (schema,),
            )
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def upload(wav: Path, n: int) -> list[str]:
    """``n`` uploads through the service in queue mode (a real HTTP client)."""
    from assistant.api.app import create_app
    from assistant.settings import Settings
    from tests.conftest import LiveServer, add_user, free_port

    settings = Settings()
    _, token = add_user(settings, "Bench", "practitioner")
    ids = []
    with LiveServer(create_app(settings), free_port()) as srv:
        client = srv.client(token)
        for _ in range(n):
            with wav.open("rb") as f:
                r = client.post("/v1/recordings", files={"audio": ("visit.wav", f)})
            r.raise_for_status()
            ids.append(r.json()["job_id"])
    return ids


def snapshot(db_url: str, job_ids: list[str]) -> dict[str, int]:
    info = make_url(db_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(info, connect_timeout=3) as conn:
        per_job = conn.execute(
            "SELECT j.id, j.status, j.attempts, count(n.id) FROM jobs j "
            "LEFT JOIN notes n ON n.recording_id = j.recording_id "
            "WHERE j.id = ANY(%s) GROUP BY j.id, j.status, j.attempts",
            (job_ids,),
        ).fetchall()
        doing = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'"
        ).fetchone()
    return {
        "notes": sum(r[3] for r in per_job),
        "one_note": sum(1 for r in per_job if r[3] == 1),
        "duplicated": sum(1 for r in per_job if r[3] > 1),
        "done_no_note": sum(1 for r in per_job if r[1] == "done" and r[3] == 0),
        "failed": sum(1 for r in per_job if r[1] == "failed"),
        "finished": sum(1 for r in per_job if r[1] in ("done", "failed")),
        "attempts": sum(r[2] for r in per_job),
        "doing": int(doing[0]) if doing else 0,
    }


if __name__ == "__main__":
    sys.exit(main())
