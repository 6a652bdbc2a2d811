"""schemathesis over the whole OpenAPI of a live service: no server error, and every answer
matches the schema it documents (issue 26).

    .venv/bin/python benchmarks/api_fuzz.py [--max-examples 100] [--roles practitioner,admin]
        [--database sqlite|postgresql] [--out eval/results/DATE/load]

A real ``caseassist serve`` (test profile) in a subprocess, with one real visit uploaded and
drafted, then ``schemathesis run`` as the visit's owner with its real recording, job and note
ids (every operation but the recording's erasure, which would end that run's data), and then
once per role with that role's token and made-up ids, checks ``not_a_server_error`` and
``response_schema_conformance``, every phase (examples, coverage, fuzzing, stateful), seed 0.
``CASEASSIST_API_TOKEN_ATTEMPTS`` is raised for the run: the fuzzer sends bad tokens, and after
ten of them the service refuses the address (429) whatever it sends, which would leave the
rest of the run testing the throttle only (tests/test_hardening.py tests the throttle).
Prints and writes each run's case count and failures (JSON, and schemathesis's own JUnit
report). tests/test_api_fuzz.py runs the same with a few examples per operation.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.live_service import LiveService  # noqa: E402
from eval.provenance import machine  # noqa: E402

CHECKS = "not_a_server_error,response_schema_conformance"


def schemathesis(
    base_url: str,
    token: str,
    *,
    max_examples: int,
    report: Path,
    ids: dict[str, str] | None = None,
    seed: int = 0,
) -> dict:
    """One ``schemathesis run``; its exit code, case count and failures (from its reports).
    ``ids``: path parameters to use as they are (real ones), through a config file."""
    report.mkdir(parents=True, exist_ok=True)
    config = report / "schemathesis.toml"
    config.write_text("[parameters]\n" + "".join(f'{k} = "{v}"\n' for k, v in (ids or {}).items()))
    extra = ["--exclude-name", "DELETE /v1/recordings/{recording_id}"] if ids else []
    cmd = [
        str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(config), "run",
        f"{base_url}/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", CHECKS,
        "--max-examples", str(max_examples),
        "--seed", str(seed),
        "--workers", "1",
        "--request-timeout", "60",
        "--report", "junit,ndjson",
        "--report-dir", str(report),
        "--output-sanitize", "true",
        *extra,
    ]  # fmt: skip
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    cases, statuses = count_cases(report)
    return {
        "exit_code": done.returncode,
        "seconds": round(time.perf_counter() - t0, 1),
        "cases": cases,
        "status_codes": statuses,
        "failures": junit_failures(report),
        "summary": done.stdout[-3000:],
    }


def count_cases(report: Path) -> tuple[int, dict[str, int]]:
    """Requests made, and their answers by status code, from the NDJSON event stream."""
    statuses: dict[str, int] = {}
    for path in report.glob("*.ndjson"):
        for line in path.read_text().splitlines():
            for status in _statuses(json.loads(line)):
                statuses[status] = statuses.get(status, 0) + 1
    return sum(statuses.values()), dict(sorted(statuses.items()))


def _statuses(event: object) -> list[str]:
    found: list[str] = []
    if isinstance(event, dict):
        response = event.get("response")
        if isinstance(response, dict) and isinstance(response.get("status_code"), int):
            found.append(str(response["status_code"]))
        for key, value in event.items():
            if key != "response":
                found += _statuses(value)
    elif isinstance(event, list):
        for value in event:
            found += _statuses(value)
    return found


def junit_failures(report: Path) -> list[str]:
    out = []
    for path in report.glob("*.xml"):
        # schemathesis's own report, written just now (not untrusted input)
        for case in ET.parse(path).getroot().iter("testcase"):  # noqa: S314
            for bad in list(case.findall("failure")) + list(case.findall("error")):
                out.append(f"{case.get('name')}: {(bad.get('message') or '')[:300]}")
    return out


def seed_visit(svc: LiveService) -> dict[str, str]:
    """Upload a short generated visit and wait for its note: the ids of real things."""
    from tests.speech import VISIT_SCRIPT, synthesize_dialogue

    wav = synthesize_dialogue(VISIT_SCRIPT[:6], ROOT / "var" / "bench" / "fuzz-visit.wav")
    with wav.open("rb") as f:
        up = httpx.post(
            svc.base_url + "/v1/recordings",
            headers=svc.headers(),
            files={"audio": ("visit.wav", f, "audio/wav")},
            timeout=120,
        )
    up.raise_for_status()
    ids = up.json()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        job = httpx.get(f"{svc.base_url}/v1/jobs/{ids['job_id']}", headers=svc.headers()).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(1)
    if job["status"] != "done":
        raise RuntimeError(f"the seed visit's job ended {job['status']}")
    return {"recording_id": ids["recording_id"], "job_id": ids["job_id"], "note_id": job["note_id"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-examples", type=int, default=100)
    ap.add_argument("--roles", default="practitioner,admin")
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "eval" / "results" / date.today().isoformat() / "load"
    )
    args = ap.parse_args()
    runs = {}
    no_throttle = {"CASEASSIST_API_TOKEN_ATTEMPTS": "1000000"}
    with LiveService(database=args.database, env=no_throttle) as svc:
        ids = seed_visit(svc)
        # the real ids first: the others' stateful phase finds them too, and may erase them
        plan = [("practitioner", ids)] + [(role, None) for role in args.roles.split(",")]
        for role, real in plan:
            token = svc.token if role == "practitioner" else svc.add_user(f"Fuzz {role}", role)
            name = f"{role}-real-ids" if real else role
            report = args.out / f"api_fuzz-{args.database}-{name}"
            runs[name] = schemathesis(
                svc.base_url, token, max_examples=args.max_examples, report=report, ids=real
            )
            for ndjson in report.glob("*.ndjson"):
                ndjson.unlink()  # large, and it holds the requests; the counts are kept below
            run = runs[name]
            print(
                f"{name}: exit {run['exit_code']}, {run['cases']} cases, "
                f"{len(run['failures'])} failure(s), {run['seconds']} s"
            )
    result = {
        "benchmark": "api_fuzz",
        "date": date.today().isoformat(),
        "command": "python benchmarks/api_fuzz.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "database": args.database,
        "schemathesis": "4.32.5",
        "checks": CHECKS,
        "max_examples": args.max_examples,
        "runs": runs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"api_fuzz-{args.database}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    for role, run in runs.items():
        print(f"--- {role}\n{run['summary']}")
    print(f"wrote {path}")
    return 0 if all(r["exit_code"] == 0 for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
