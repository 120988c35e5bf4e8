"""A websocket over a plain socket, for tests that must send what a websocket library will not
(bytes that are not UTF-8 in a text frame) or end the connection as a library will not (a reset,
a half-close)."""

from __future__ import annotations

import base64
import os
import socket


def ws_frame(opcode: int, payload: bytes) -> bytes:
    """One masked client frame (mask 0: the payload goes as it is)."""
    n = len(payload)
    size = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
    return bytes([0x80 | opcode]) + size + b"\x00\x00\x00\x00" + payload


def open_websocket(url: str, path: str, token: str) -> socket.socket:
    """A websocket to ``path`` of the server at ``url`` (``http://host:port``), handshake done."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    head = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        f"Authorization: Bearer {token}",
    ]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    reply = sock.recv(4096)
    if not reply.startswith(b"HTTP/1.1 101"):
        sock.close()
        raise AssertionError(f"websocket handshake refused: {reply[:200]!r}")
    return sock
