#!/usr/bin/env bash
# README command 1: install everything on a fresh machine and start the service
# (default profile, SQLite under ./var). Re-running it just starts the service.
source "$(dirname "$0")/_env.sh"
ensure_venv ""
PROFILE="${CASEASSIST_PROFILE:-default}"
echo ">> installing and verifying the '$PROFILE' models (first time: ~1.3 GB of wheels)"
.venv/bin/caseassist models install --profile "$PROFILE"
echo ">> starting caseassist on http://${CASEASSIST_HOST:-127.0.0.1}:${CASEASSIST_PORT:-8000} (API docs at /docs)"
echo "   get a first token in another shell: .venv/bin/caseassist users add --name 'Your Name' --role practitioner"
CASEASSIST_PROFILE="$PROFILE" exec .venv/bin/caseassist serve
