"""A real ``agent-monitor serve`` in a child process (for tests that measure the process itself:
memory under attack, a second server on the same data directory, access log contents)."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import httpx

REPO = Path(__file__).resolve().parents[2]
TOKEN = "attack-test-ingest-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    data_dir: Path
    port: int = field(default_factory=free_port)
    audiosocket_port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    #: RLIMIT_FSIZE of the server process (bytes): no file it writes may grow beyond this, the
    #: kernel answers such writes with EFBIG, as a full disk answers with ENOSPC
    max_file_bytes: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _log_file: BinaryIO | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(REPO),
                "AGENT_MONITOR_DATA_DIR": str(self.data_dir),
                "AGENT_MONITOR_SERVER__PORT": str(self.port),
                "AGENT_MONITOR_SERVER__AUDIOSOCKET_PORT": str(self.audiosocket_port),
                "AGENT_MONITOR_WEB__INGEST_TOKEN": TOKEN,
                "AGENT_MONITOR_ASR__SPARE_RECOGNIZERS": "2",
            }
        )
        env.update(self.extra_env)
        return env

    def __post_init__(self) -> None:
        # two free ports picked one after the other can be the same one (each probe socket is
        # closed before the next is opened): the server would then fail to bind its second listener
        while self.audiosocket_port == self.port:
            self.audiosocket_port = free_port()

    def start(self, timeout: float = 120.0, wait: bool = True) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir.parent / f"serve-{self.port}.log"
        self._log_file = out = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agent_monitor", "serve"],
            env=self.env(),
            stdout=out,
            stderr=out,
            cwd=REPO,
            preexec_fn=self._limit_files if self.max_file_bytes else None,
        )
        if wait:
            try:
                self.wait_ready(timeout)
            except BaseException:
                self.stop()  # the process and its log file, which the failing fixture never stops
                raise
        return self

    def _limit_files(self) -> None:
        assert self.max_file_bytes is not None
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.max_file_bytes, self.max_file_bytes))

    def wait_ready(self, timeout: float = 120.0) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server did not start within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def rss_bytes(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
