# Shared by scripts/serve.sh and scripts/test.sh: a virtualenv with the project installed.
# Idempotent: a second run reuses the venv and pip's cache (the llama-cpp-python wheel that
# took ~15 minutes to compile the first time is reused from ~/.cache/pip).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3

need_apt=()
apt_want() { for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p"); done; }
apt_install() {
  if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      echo ">> apt-get install ${need_apt[*]}"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
      echo "!! please install with apt-get: ${need_apt[*]}" >&2
    fi
  fi
}

ensure_venv() {
  local extras="$1"
  if [ ! -x .venv/bin/python ]; then
    echo ">> creating .venv"
    "$PYTHON" -m venv .venv
  fi
  local stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-12)-$extras"
  if [ ! -f "$stamp" ]; then
    echo ">> installing caseassist and its dependencies (first time: llama-cpp-python compiles for ~15-20 min)"
    .venv/bin/python -m pip install -q --upgrade pip
    llama_build_flags
    .venv/bin/python -m pip install -q -e ".$extras"
    touch "$stamp"
  fi
  ensure_llama_without_amx
}

# llama.cpp compiles for the CPU it is built on (-march=native). On Intel CPUs with AMX
# (Sapphire Rapids and later) that adds AMX matrix kernels, which crash with a segmentation
# fault on the first model call on some virtual machines (seen here on a Firecracker VM;
# llama.cpp issue 20824). We build without them: the AVX-512 kernels are used instead. A
# council on bare metal that wants AMX sets CASEASSIST_LLAMA_AMX=on before the first install.
AMX_OFF="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
amx_wanted() {
  [ "${CASEASSIST_LLAMA_AMX:-off}" = on ] && return 0
  case "$(uname -m)" in x86_64 | amd64) return 1 ;; *) return 0 ;; esac # no AMX elsewhere
}
llama_build_flags() {
  amx_wanted && return 0
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DCMAKE_C_FLAGS='$AMX_OFF' -DCMAKE_CXX_FLAGS='$AMX_OFF'"
}
# pip reuses a wheel it built earlier whatever CMAKE_ARGS say, so check what was installed and
# rebuild (once: the good wheel is then the cached one) if it has the AMX kernels.
ensure_llama_without_amx() {
  amx_wanted && return 0
  local version # the service's own rule (assistant/drafting/llm.py), so the two cannot disagree
  version="$(.venv/bin/python -c 'from assistant.drafting.llm import amx_rebuild_version as v; print(v() or "")')"
  [ -n "$version" ] || return 0
  echo ">> llama-cpp-python $version was built with AMX kernels; rebuilding without them (~5-15 min)"
  .venv/bin/python -m pip cache remove llama_cpp_python >/dev/null 2>&1 || true
  llama_build_flags
  .venv/bin/python -m pip install -q --force-reinstall --no-deps "llama-cpp-python==$version"
}

# The OpenID provider the single sign-on tests run (oidc-provider-mock, pinned in pyproject's dev
# extra) needs Python 3.12: on 3.11 it gets a venv of its own. Tests find it at
# .venv-oidc-mock/bin/python (or CASEASSIST_TEST_OIDC_PYTHON).
ensure_oidc_mock_venv() {
  local pin py
  pin="$(grep -o 'oidc-provider-mock==[0-9.]*' pyproject.toml)"
  [ -f ".venv-oidc-mock/.installed-$pin" ] && return 0
  py=""
  if python3.12 -c '' 2>/dev/null; then py=python3.12; fi
  [ -n "$py" ] || py="$(ls -d /root/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12 2>/dev/null | head -1 || true)"
  if [ -z "$py" ]; then
    echo "!! no Python 3.12 for the OIDC provider the SSO tests run (tests/test_sso.py will fail)" >&2
    return 0
  fi
  echo ">> creating .venv-oidc-mock ($pin, $py)"
  "$py" -m venv .venv-oidc-mock
  .venv-oidc-mock/bin/python -m pip install -q "$pin"
  touch ".venv-oidc-mock/.installed-$pin"
}
