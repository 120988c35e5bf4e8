"""What the model-store tests share: the model's name, the pinned Maven AAR and the helpers that
build archives from the real model files and list what an install left behind."""

from __future__ import annotations

import http.server
import socket
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from asr.offline.model_store import ModelStore

NAME = "vosk-model-small-en-us-0.15"
AAR_COORD = ("com/alphacephei", "vosk-model-en", "0.3.45")
AAR_SHA256 = "8a5792fccaf873b4745dbd1b3fe19d8a77a15898e806674020eea820424771cd"


def zip_dir(src: Path, dest: Path, top: str, skip: frozenset[str] = frozenset()) -> Path:
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_STORED) as zf:
        for p in sorted(src.rglob("*")):
            rel = p.relative_to(src).as_posix()
            if p.is_file() and rel not in skip:
                zf.write(p, f"{top}/{rel}" if top else rel)
    return dest


def leftovers(store: ModelStore) -> list[str]:
    """The store's entries other than its download folder (a model, or debris of an install)."""
    if not store.model_dir.exists():
        return []
    return sorted(p.name for p in store.model_dir.iterdir() if p.name != "downloads")


def free_port() -> int:
    """A local port nothing listens on (for a refused connection)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` served on a free local port in a thread; yields the server's base URL
    (``http://127.0.0.1:PORT``) and stops the server when the block ends."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join()
