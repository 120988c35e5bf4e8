"""One run's lines, and a search's summary line."""

from __future__ import annotations

import os

from benchmarks.capacity.keepup import ALERT_TYPES, RunResult, Search, fmt, lag_windows, percentile

MISSED = {
    "agent_warning": "violations not detected",
    "alert_raised": "no new alert (not detected, or the call level was already that high)",
}


def report_run(r: RunResult, title: str = "") -> None:
    worst = max(r.max_lag.values(), default=None)
    print(f"\n== {title}{r.calls} concurrent stereo calls: {'KEPT UP' if r.kept_up else 'FELL BEHIND'}")
    print(
        f"   recognition lag (s): p50 {fmt(percentile(r.lag_samples, 50))}"
        f"  p95 {fmt(percentile(r.lag_samples, 95))}  worst {fmt(worst)}"
        f"  ({len(r.lag_samples)} samples, {len(r.max_lag)} calls seen);"
        f" dropped chunks {sum(r.dropped.values())}"
    )
    for kind in ALERT_TYPES:
        lat = r.latencies[kind]
        print(
            f"   {kind} latency (s): p50 {fmt(percentile(lat, 50))}  p95 {fmt(percentile(lat, 95))}"
            f"  max {fmt(percentile(lat, 100))}  (n={len(lat)}, {MISSED[kind]}: {r.missed[kind]})"
        )
    ll = r.loop_lag
    print(
        f"   event-loop lag (ms): p50 {ll.get('p50_ms', 0):.1f}  p99 {ll.get('p99_ms', 0):.1f}"
        f"  max {ll.get('max_ms', 0):.1f}  ({ll.get('samples', 0)} samples)"
    )
    print(
        f"   server CPU (process tree): {r.cpu_pct_per_call:.1f}% of one core per call"
        f" ({r.cpu_s / r.wall_s * 100 if r.wall_s else 0:.0f}% total);"
        f" {r.cpu_s / r.leg_seconds if r.leg_seconds else 0:.3f} CPU-s per leg-second"
    )
    if r.others_cpu_s and r.wall_s:
        shares = ", ".join(f"{name} {cpu / r.wall_s * 100:.0f}%" for name, cpu in r.others_cpu_s.items())
        print(f"   CPU of what shares the cores (% of one core): {shares}")
    for lane, c in r.lanes.items():
        jobs, ratio = c["jobs"] or 1, c["ran_s"] / c["cpu_s"] if c["cpu_s"] else 0.0
        print(
            f"   {lane} jobs: {c['jobs']:.0f}, mean queue wait {c['waited_s'] / jobs * 1000:.1f} ms,"
            f" CPU {c['cpu_s']:.1f} s, run {c['ran_s']:.1f} s (x{ratio:.2f} of CPU: the rest"
            " waited for the GIL or a core)"
        )
    if r.threads:
        shares = ", ".join(f"{name} {cpu:.0f}/{wait:.0f}" for name, cpu, wait in r.threads)
        print(
            f"   busiest server threads, % of the run on a CPU / waiting for one: {shares}"
            " (near 100 together: never idle, short of CPU)"
        )
    print(f"   server memory: idle {r.rss_idle_mib:.0f} MiB, +{r.rss_mib_per_call:.1f} MiB per call at peak")
    if r.lag_events:
        where = ", ".join(f"{t}-{t + 10} s: {k}" for t, k in lag_windows(r.lag_events).items())
        print(f"   polls that saw a call >= 1 s behind, by call time: {where}")
    if os.environ.get("BENCH_VERBOSE"):
        for cid, received, lag in r.lag_events[:40]:
            print(f"     behind: {cid} at {received:.1f} s by {lag:.2f} s")
    for failure in r.failed_streams:
        print(f"   stream failed: {failure}")


def summary(name: str, search: Search) -> str:
    """``name: max N kept up (alert p95 ...)`` from a search."""
    kept = [r for n, r in search.runs if n == search.best]
    at = f" (alert_raised p95 {fmt(percentile(kept[0].latencies['alert_raised'], 95))} s)" if kept else ""
    failed = search.first_failure
    if failed is None:
        tail = " (every level tried kept up)"
    else:
        worst = max(search.runs[-1][1].max_lag.values(), default=None)
        tail = f"; {failed} fell behind (worst lag {fmt(worst)} s)"
    return f"{name}: max calls kept up {search.best}{at}{tail}"
