#!/usr/bin/env bash
# The project's checks: lint, types, then the whole test suite on SQLite and PostgreSQL with the real
# Vosk model and the shared recordings (AGENT_MONITOR_EVAL_DATA_DIR, default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || { echo "test: run scripts/setup.sh first" >&2; exit 2; }
if [ -z "${AGENT_MONITOR_TEST_POSTGRES_URL:-}" ]; then
    AGENT_MONITOR_TEST_POSTGRES_URL=$(bash scripts/postgres.sh | tail -n 1)
    export AGENT_MONITOR_TEST_POSTGRES_URL
fi
"$PY" -m ruff check .
"$PY" -m ruff format --check .
"$PY" -m mypy
# A worker process per core (pytest-xdist), at most 4 on a larger machine (each loads the speech
# model and starts servers and browsers: memory, not cores, runs out first), each test file whole on
# one of them (its fixtures are built once); AGENT_MONITOR_TEST_WORKERS=0 runs every test in this one
# process, 1 to 4 that many workers.
exec "$PY" -m pytest -n "${AGENT_MONITOR_TEST_WORKERS:-auto}" --maxprocesses 4 --dist loadfile "$@"
