"""The install script (`scripts/_env.sh`, behind both README commands) builds llama.cpp without
its AMX kernels, which crash on the first model call on some Intel virtual machines, and
rebuilds an installed copy that has them; the service warns when it loads such a build.

The script is run by bash against a stand-in `.venv/bin/python` that records what pip is asked
to do: a real rebuild takes minutes of compiling. The real build is checked by every test that
drafts with a model: on this project's Intel machines those crash without the fix."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.drafting.llm import amx_build_warning
from tests.conftest import REPO

INFO_AMX = "CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 | "
INFO_NO_AMX = "CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | AVX512_VNNI = 1 | LLAMAFILE = 1 | "

FAKE_PYTHON = """#!/usr/bin/env bash
# Stand-in for .venv/bin/python: answers amx_rebuild_version (the installed llama_cpp's version
# if its build has AMX kernels, else nothing), logs pip calls.
case "$*" in
  *amx_rebuild_version*) cat "$(dirname "$0")/amx_version" ;;
  "-m pip "*) echo "pip ${*:3} | CMAKE_ARGS=${CMAKE_ARGS:-}" >> "$(dirname "$0")/pip.log" ;;
  *) exit 3 ;;
esac
"""


def _project(tmp_path: Path, system_info: str) -> Path:
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "_env.sh", root / "scripts" / "_env.sh")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    amx = amx_build_warning(system_info) is not None
    (bin_dir / "amx_version").write_text("0.3.36\n" if amx else "\n")
    return root


def _ensure_venv(root: Path, **env: str) -> list[str]:
    """Run ensure_venv as scripts/test.sh does; return the pip calls it made."""
    environment = {k: v for k, v in os.environ.items() if k not in ("CMAKE_ARGS",)}
    environment.pop("CASEASSIST_LLAMA_AMX", None)
    environment.update(env)
    subprocess.run(
        ["bash", "-c", 'source scripts/_env.sh && ensure_venv "[dev]"'],
        cwd=root,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    log = root / ".venv" / "bin" / "pip.log"
    return log.read_text().splitlines() if log.exists() else []


x86_only = pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64"), reason="AMX exists on x86-64 only"
)


@x86_only
def test_first_install_builds_llama_cpp_without_amx_kernels(tmp_path):
    calls = _ensure_venv(_project(tmp_path, INFO_NO_AMX))
    install = [c for c in calls if c.startswith("pip install -q -e .[dev]")]
    assert len(install) == 1, calls
    flags = "'-mno-amx-tile -mno-amx-int8 -mno-amx-bf16'"
    assert f"-DCMAKE_C_FLAGS={flags} -DCMAKE_CXX_FLAGS={flags}" in install[0]
    assert not [c for c in calls if "--force-reinstall" in c], "no rebuild when AMX is absent"


@x86_only
def test_an_installed_build_with_amx_kernels_is_rebuilt_without_them(tmp_path):
    root = _project(tmp_path, INFO_AMX)
    (root / ".venv" / f".installed-{_stamp_hash(root)}-[dev]").touch()  # installed earlier
    calls = _ensure_venv(root)
    assert calls[0].startswith("pip cache remove llama_cpp_python"), calls
    rebuild = calls[1]
    assert "install -q --force-reinstall --no-deps llama-cpp-python==0.3.36" in rebuild
    assert "-mno-amx-int8" in rebuild
    assert len(calls) == 2


@x86_only
def test_a_council_can_keep_amx_on_bare_metal(tmp_path):
    calls = _ensure_venv(_project(tmp_path, INFO_AMX), CASEASSIST_LLAMA_AMX="on")
    assert calls[-1] == "pip install -q -e .[dev] | CMAKE_ARGS=", calls  # no AMX flags
    assert not [c for c in calls if "--force-reinstall" in c], "an AMX build is kept"


@x86_only
def test_a_council_s_own_cmake_args_are_kept(tmp_path):
    calls = _ensure_venv(_project(tmp_path, INFO_NO_AMX), CMAKE_ARGS="-DGGML_CUDA=on")
    assert "CMAKE_ARGS=-DGGML_CUDA=on -DCMAKE_C_FLAGS=" in calls[-1], calls


def _stamp_hash(root: Path) -> str:
    out = subprocess.run(
        ["bash", "-c", "cat pyproject.toml | sha256sum | cut -c1-12"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def test_service_warns_when_loading_a_build_with_amx_kernels():
    warning = amx_build_warning(INFO_AMX)
    assert warning and "AMX" in warning and "segmentation fault" in warning
    assert amx_build_warning(INFO_NO_AMX) is None


def test_installed_llama_cpp_has_no_amx_kernels():
    """The build in this environment: made by the install script, so without AMX (unless a
    council asked for it)."""
    llama_cpp = pytest.importorskip("llama_cpp")
    if os.environ.get("CASEASSIST_LLAMA_AMX") == "on":
        pytest.skip("AMX asked for")
    assert amx_build_warning(llama_cpp.llama_print_system_info().decode()) is None
