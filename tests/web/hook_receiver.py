"""A local HTTP server standing in for the phone system behind the take-over's hook
(:mod:`web.ui.phone_hook`) in the tests."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """A local HTTP server standing in for the phone system: records each POST's JSON; answers
    calls named ``slow-*`` after 3 s (longer than the hook's timeout)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.bodies.append({**body, "_auth": self.headers.get("Authorization")})
                if str(body["call_id"]).startswith("slow-"):
                    time.sleep(3.0)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the hook gave up
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()
