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
    .venv/bin/python -m pip install -q -e ".$extras"
    touch "$stamp"
  fi
}
