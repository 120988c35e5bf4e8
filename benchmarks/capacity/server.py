"""``agent-monitor serve`` in a child process for the benchmark, measured as a process tree.

A :class:`Node` is one server: its own data directory (recordings, ingest token; the database too
unless a shared ``database_url`` is given), a free port, optionally pinned to CPUs with
``taskset -c``, with extra environment (``AGENT_MONITOR_SERVER__WORKERS``,
``AGENT_MONITOR_CLUSTER__REDIS_URL``). The benchmark signs in as its own admin. CPU and memory are
read from ``/proc`` for the server and every process below it (worker processes included).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BENCH_USER, BENCH_PASSWORD = "bench-admin", "bench admin password"
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree_pids(root: int) -> list[int]:
    """``root`` and every live process below it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += parents.get(pid, [])
    return out


def tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) of ``root`` and its live descendants, with their waited-for
    children."""
    total = 0
    for pid in tree_pids(root):
        try:
            f = _stat(pid)
        except OSError:
            continue
        total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    return total / os.sysconf("SC_CLK_TCK")


def thread_clock(pid: int) -> dict[int, tuple[float, float]]:
    """Per thread of ``pid``: CPU seconds so far and seconds it waited for a core (``schedstat``)."""
    out: dict[int, tuple[float, float]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            f = task.joinpath("stat").read_text().rsplit(")", 1)[1].split()
            waited_ns = int(task.joinpath("schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out[int(task.name)] = ((int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK"), waited_ns / 1e9)
    return out


def tree_rss_mib(root: int) -> float:
    total = 0.0
    for pid in tree_pids(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def agent_monitor(*args: str) -> list[str]:
    return [sys.executable, "-m", "agent_monitor", *args]


@dataclass
class Node:
    """One running server and the benchmark's credentials on it."""

    url: str
    proc: subprocess.Popen[bytes]
    data_dir: Path
    cookie: str = ""
    #: the session's CSRF token (``X-CSRF-Token`` of a POST)
    csrf: str = ""
    token: str = ""
    reported: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_s(self) -> float:
        return tree_cpu_s(self.pid)

    def threads(self) -> dict[int, tuple[float, float]]:
        """The server process's threads: CPU and run-queue seconds so far (:func:`thread_clock`)."""
        return thread_clock(self.pid)

    def rss_mib(self) -> float:
        return tree_rss_mib(self.pid)

    def processes(self) -> int:
        return len(tree_pids(self.pid))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def add_admin(env: dict[str, str]) -> None:
    add = agent_monitor("users", "add", BENCH_USER, "--role", "admin", "--password-stdin")
    done = subprocess.run(add, env=env, cwd=REPO, input=BENCH_PASSWORD + "\n", text=True, capture_output=True)
    if done.returncode != 0 and "exists" not in done.stderr:
        raise SystemExit(f"cannot add the benchmark admin: {done.stderr.strip()[-400:]}")


def start_node(
    data_dir: Path,
    *,
    workers: str | None = None,
    cpus: str | None = None,
    env_extra: dict[str, str] | None = None,
) -> Node:
    """Start a server on ``data_dir``; returns once ``/healthz`` answers and the admin signed in."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **(env_extra or {}), "AGENT_MONITOR_DATA_DIR": str(data_dir)}
    if workers is not None:
        env["AGENT_MONITOR_SERVER__WORKERS"] = workers
    add_admin(env)
    port = free_port()
    cmd = agent_monitor("serve", "--port", str(port), "--audiosocket-port", "off")
    if cpus is not None:
        taskset = shutil.which("taskset")
        if taskset is None:
            raise SystemExit("taskset is not installed (util-linux)")
        cmd = [taskset, "-c", cpus, *cmd]
    with (data_dir / "server.log").open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log)
    node = Node(f"http://127.0.0.1:{port}", proc, data_dir)
    _wait_healthy(node)
    reply = httpx.post(
        node.url + "/api/auth/login", json={"username": BENCH_USER, "password": BENCH_PASSWORD}, timeout=10
    )
    reply.raise_for_status()
    node.cookie = f"am_session={reply.cookies['am_session']}"
    node.csrf = reply.json()["csrf_token"]
    node.token = (data_dir / "ingest-token").read_text(encoding="ascii").strip()
    node.reported = worker_report(node)
    return node


def _wait_healthy(node: Node, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            httpx.get(node.url + "/healthz", timeout=2).raise_for_status()
            return
        except httpx.HTTPError:
            if node.proc.poll() is not None or time.monotonic() > deadline:
                node.stop()
                tail = (node.data_dir / "server.log").read_text(errors="replace")[-600:]
                raise SystemExit(f"server did not start: {tail}") from None
            time.sleep(0.5)


def worker_report(node: Node) -> dict[str, Any]:
    """What the server says about its workers (any ``worker``/``node`` key of ``/healthz`` or
    ``/api/metrics``, its start-up lines that mention workers), and the processes counted under it."""
    found: dict[str, Any] = {}
    for path in ("/healthz", "/api/metrics"):
        try:
            reply = httpx.get(node.url + path, headers={"Cookie": node.cookie}, timeout=5).json()
        except (httpx.HTTPError, ValueError):
            continue
        for key, value in reply.items() if isinstance(reply, dict) else ():
            if "worker" in key or key in ("node", "role"):
                found[f"{path} {key}"] = value
    said = (node.data_dir / "server.log").read_text(errors="replace").splitlines()
    lines = [line.strip()[-160:] for line in said if "worker" in line.lower()]
    if lines:
        found["log"] = lines[:2]
    found["processes"] = node.processes()
    return found
