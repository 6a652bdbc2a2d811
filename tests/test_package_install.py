"""`pip install .` (not editable) gives a working `caseassist`: the prompts, redaction
configuration, safeguarding lexicon and model manifest travel inside the package, and its
`caseassist serve` passes the health check the containers use (deploy/compose.yaml).

The package is built from a copy of the sources into a folder of its own, without its
dependencies (those come from this virtualenv), and `python -m assistant.cli process` runs from a
folder outside the repository, so neither the checkout nor the editable install can stand in."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port

pytestmark = [pytest.mark.models, pytest.mark.slow]

VISIT = """Social worker: Hello, I'm Priya, the social worker. I've come for the planned visit.
Child: I like my new school. I go to my room when it gets loud.
Social worker: I'll visit again in four weeks.
"""


def _build_backend_here() -> bool:
    """Can this virtualenv's setuptools build a wheel by itself (no download)? From 70.1 it
    carries bdist_wheel; before, it needs the `wheel` package."""
    if importlib.util.find_spec("wheel") is not None:
        return True
    try:
        major, minor = (int(part) for part in version("setuptools").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return False
    return (major, minor) >= (70, 1)


def _install(tmp_path: Path) -> Path:
    """The package as `pip install .` lays it out, in a folder of its own."""
    src, target = tmp_path / "src", tmp_path / "site"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "out")
    for package in ("assistant", "eval"):
        shutil.copytree(REPO / package, src / package, ignore=skip)
    # Without build isolation where the virtualenv can build a wheel offline; otherwise pip
    # fetches the build backend pyproject.toml names (a venv's own setuptools may be too old).
    isolation = ["--no-build-isolation"] if _build_backend_here() else []
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", *isolation]
    built = subprocess.run(
        [*cmd, "--target", str(target), str(src)], capture_output=True, text=True, timeout=600
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return target


def test_the_installed_package_processes_a_transcript(tmp_path):
    target = _install(tmp_path)
    run_dir = tmp_path / "elsewhere"  # outside the repository: its assistant/ is not on the path
    run_dir.mkdir()
    (run_dir / "visit.txt").write_text(VISIT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CASEASSIST_"))}
    env.update(
        PYTHONPATH=str(target),
        CASEASSIST_PROFILE="test",
        CASEASSIST_MODELS_DIR=str(REPO / "var" / "models"),
        CASEASSIST_DATA_DIR=str(run_dir / "var"),
        CASEASSIST_LLM_N_CTX="4096",
        CASEASSIST_LLM_MAX_TOKENS="1024",
    )

    def python(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args], cwd=run_dir, env=env, capture_output=True, text=True,
            timeout=900,
        )  # fmt: skip

    where = python("-c", "import assistant; print(assistant.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(target), where.stdout

    done = python("-m", "assistant.cli", "process", "visit.txt", "--out", "out")
    assert done.returncode == 0, done.stdout + done.stderr
    note = json.loads((run_dir / "out" / "note.json").read_text())
    assert note["provenance"]["template"] == "visit_note" and "review" in note


def test_the_installed_package_serves_and_passes_the_container_health_checks(tmp_path):
    """What the images run: `caseassist serve` (CMD) and the compose file's health checks,
    from the installed package's own `caseassist` script, outside the repository."""
    import yaml

    target = _install(tmp_path)
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CASEASSIST_"))}
    env.update(
        PYTHONPATH=str(target),
        # the image's PATH: its scripts, then its virtualenv's python
        PATH=f"{target / 'bin'}:{Path(sys.executable).parent}:{env.get('PATH', '')}",
        CASEASSIST_PROFILE="test",
        CASEASSIST_MODELS_DIR=str(REPO / "var" / "models"),
        CASEASSIST_DATA_DIR=str(run_dir / "var"),
        CASEASSIST_PORT=str(port),
        CASEASSIST_RUN_WORKER="false",
    )
    assert (target / "bin" / "caseassist").is_file()
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    health = compose["services"]["caseassist"]["healthcheck"]["test"][1:]
    models_check = compose["services"]["worker"]["healthcheck"]["test"][1:]

    def check(cmd: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cmd, cwd=run_dir, env=env, capture_output=True, text=True, timeout=300
        )

    assert check(health).returncode != 0  # nothing listens yet: unhealthy
    done = check(models_check)
    assert done.returncode == 0 and "OK" in done.stdout, done.stderr
    with (run_dir / "serve.log").open("w") as log:
        server = subprocess.Popen(
            ["caseassist", "serve"], cwd=run_dir, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 300
        while (result := check(health)).returncode != 0:
            assert server.poll() is None, (run_dir / "serve.log").read_text()
            assert time.monotonic() < deadline, result.stderr
            time.sleep(1)
    finally:
        server.terminate()
        server.wait(60)
    assert Path(check(["python", "-c", "import assistant; print(assistant.__file__)"]).stdout
                .strip()).is_relative_to(target)  # fmt: skip
