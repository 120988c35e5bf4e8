#!/usr/bin/env bash
# Start Debian's PostgreSQL cluster (if needed) and make sure the test role exists; print the URL the
# tests read from AGENT_MONITOR_TEST_POSTGRES_URL. Needs root (or sudo) for pg_ctlcluster/su.
# The URL is the only thing on stdout: everything the PostgreSQL tools say goes to stderr (CI once
# failed because pg_ctlcluster printed "Removed stale pid file." into the captured URL).
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! $SUDO pg_ctlcluster "$version" main status >/dev/null 2>&1; then
    $SUDO pg_ctlcluster "$version" main start >&2
fi
for _ in $(seq 1 30); do
    $SUDO su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
    sleep 1
done
exists=$($SUDO su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='agent_monitor'\"")
if [ "$exists" != "1" ]; then
    $SUDO su postgres -c "psql -qc \"CREATE ROLE agent_monitor LOGIN CREATEDB PASSWORD 'agent_monitor'\"" >&2
fi
echo "postgresql+psycopg://agent_monitor:agent_monitor@localhost:5432/postgres"
