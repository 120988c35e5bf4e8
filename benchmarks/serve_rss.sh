#!/usr/bin/env bash
# Resident memory and start-up CPU of one idle `agent-monitor serve` (all roles, speech in the server
# process, the default 32 warmed spares): the static graph with and without huge pages for the heap
# (`server.huge_pages`), and the lookahead graph.
#
#   benchmarks/serve_rss.sh
#
# Each server gets a fresh data directory (SQLite) and a random port; it is measured 5 s after
# /healthz first answers (the spares are warmed before the server listens), then stopped.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD AGENT_MONITOR_SERVER__WORKERS=0
for config in "true true" "true false" "false true"; do
    read -r static huge <<<"$config"
    dir=$(mktemp -d)
    port=$((20000 + RANDOM % 20000))
    AGENT_MONITOR_DATA_DIR=$dir AGENT_MONITOR_ASR__STATIC_GRAPH=$static AGENT_MONITOR_SERVER__HUGE_PAGES=$huge \
        .venv/bin/python -m agent_monitor serve --port "$port" --audiosocket-port off >"$dir/log" 2>&1 &
    pid=$!
    waited=0
    until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
        sleep 1
        waited=$((waited + 1))
        if [ "$waited" -ge 300 ] || ! kill -0 "$pid" 2>/dev/null; then
            echo "static_graph=$static huge_pages=$huge: the server did not come up; its log:" >&2
            tail -5 "$dir/log" >&2
            break
        fi
    done
    sleep 5
    if kill -0 "$pid" 2>/dev/null; then
        rss=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
        echo "asr.static_graph=$static server.huge_pages=$huge: ready after ${waited} s, RSS ${rss} MiB, CPU $(ps -o cputime= -p "$pid")"
        kill "$pid"
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$dir"
done
