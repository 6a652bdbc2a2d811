#!/usr/bin/env bash
# README command 2: run the whole test suite (installs what it needs on a fresh machine).
# Tests use the real tiny models ('test' profile), SQLite always, and PostgreSQL at
# 127.0.0.1:5432/test when it is reachable.
source "$(dirname "$0")/_env.sh"
# chromium: the browser tests drive it through Playwright (never Playwright's own download)
apt_want espeak-ng sox ffmpeg pocketsphinx-testdata chromium
apt_install
ensure_venv "[dev,eval]"
ensure_oidc_mock_venv
CASEASSIST_PROFILE=test .venv/bin/caseassist models install --profile test
export CASEASSIST_PROFILE=test
echo ">> lint (ruff: the code, its tests, evaluation and benchmarks)"
.venv/bin/ruff check assistant eval tests benchmarks
echo ">> type check (mypy, assistant/)"
.venv/bin/python -m mypy
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
exit $rc
