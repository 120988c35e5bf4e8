"""The real server for the live evaluation: ``agent-monitor serve`` in a child process.

It runs on a free local port (never 8000) with a temporary data directory (its own SQLite
database, recordings, ingest token) and the installed Vosk model. An admin user is created before
it starts; :class:`Server` carries the admin's session cookie (for ``/ws/events`` and
``/api/live``) and the ingest token (for ``/ws/ingest``).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from agent_monitor.errors import StreamingClientError
from agent_monitor.model.roles import Role

ADMIN = "eval-live-admin"


@dataclass(frozen=True, slots=True)
class Server:
    url: str
    pid: int
    cookie: str
    token: str

    @property
    def ws(self) -> str:
        return "ws://" + self.url.removeprefix("http://")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _agent_monitor(*args: str) -> list[str]:
    return [sys.executable, "-m", "agent_monitor", *args]


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            httpx.get(url + "/healthz", timeout=2).raise_for_status()
            return
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(encoding="utf-8", errors="replace").strip()[-500:]
                raise StreamingClientError(f"the server did not start: {tail or 'timed out'}") from None
            time.sleep(0.5)


def _sign_in(url: str, password: str) -> str:
    reply = httpx.post(url + "/api/auth/login", json={"username": ADMIN, "password": password}, timeout=10)
    if reply.status_code != 200:
        raise StreamingClientError(f"cannot sign in to the evaluation server: {reply.status_code}")
    return f"am_session={reply.cookies['am_session']}"


@contextmanager
def running_server(
    env_extra: dict[str, str] | None = None, start_timeout_s: float = 120.0
) -> Iterator[Server]:
    """Start the server (temporary data dir, an admin user) and stop it on exit."""
    with tempfile.TemporaryDirectory(prefix="am-eval-live-") as tmp:
        env = {**os.environ, **(env_extra or {}), "AGENT_MONITOR_DATA_DIR": tmp}
        password = secrets.token_urlsafe(16)
        add = _agent_monitor("users", "add", ADMIN, "--role", Role.ADMIN.value, "--password-stdin")
        done = subprocess.run(
            add, env=env, input=password + "\n", text=True, capture_output=True, check=False
        )
        if done.returncode != 0:
            raise StreamingClientError(f"cannot create the evaluation admin: {done.stderr.strip()[-300:]}")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        serve = _agent_monitor("serve", "--port", str(port), "--audiosocket-port", "off")
        log = Path(tmp) / "server.log"
        with log.open("wb") as log_file:
            proc = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
        try:
            _wait_healthy(url, proc, log, start_timeout_s)
            token = (Path(tmp) / "ingest-token").read_text(encoding="ascii").strip()
            yield Server(url, proc.pid, _sign_in(url, password), token)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
