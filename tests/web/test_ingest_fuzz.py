"""Issue #15: a bounded fuzzer (hypothesis) over the four ingest paths of a real server (uvicorn on
127.0.0.1, the real Vosk model, SQLite): ``/ws/ingest``, ``/ws/twilio``, AudioSocket TCP and
``POST /api/audiosocket/register``. Inputs are valid messages with fields replaced by hostile
values (huge, negative, non-finite numbers, lone surrogates, control characters, wrong types),
junk frames and junk bytes. Every connection must end with a reason (never 1011/1006, never a
5xx), the server must log no error, and no call may stay live afterwards.

Examples per path: ``AGENT_MONITOR_FUZZ_EXAMPLES`` (default 40; derandomized, so CI runs the same
cases every time)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import socket
import struct
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from agent_monitor.compose import create_app
from agent_monitor.errors import NotFoundError
from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings
from agent_monitor.storage import CallStatus, repo
from tests.web.raw_websocket import open_websocket, ws_frame
from tests.web.ui_support import serve

TOKEN = "fuzz-ingest-token-0123456789abcdef"
EXAMPLES = int(os.environ.get("AGENT_MONITOR_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
#: a server closing an ingest connection on its own may only say: normal, unacceptable data, policy,
#: too big, try again later (1011 = server error and 1006 = no close frame are failures)
GOOD_CLOSES = {1000, 1003, 1008, 1009, 1013}

# --- hostile values --------------------------------------------------------------------------
odd_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["\ud800", "a\udfff", "\u202e", "\x00", "\x85", "通话", "../..", "a/b", "", " ", "x" * 200]
    ),
)
odd_number = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 2**63, 10**400]),
)
json_value = st.recursive(
    st.none() | st.booleans() | odd_number | odd_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=8,
)


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the valid value, sometimes a hostile one."""
    return st.one_of(valid, valid, valid, json_value)


def dumps(value: Any) -> str:
    return json.dumps(value)  # NaN / Infinity / 1e400-as-int and \\ud800 escapes pass through


call_ids = st.uuids().map(lambda u: f"fz-{u.hex[:12]}")
start_fields = st.fixed_dictionaries(
    {
        "type": maybe(st.just("start")),
        "call_id": maybe(call_ids),
        "agent_id": maybe(st.just("A-FUZZ")),
        "sample_rate": maybe(st.sampled_from([8000, 16000])),
        "encoding": maybe(st.sampled_from(["L16", "mulaw"])),
        "channels": maybe(st.sampled_from([["agent", "debtor"], ["agent"], ["debtor"]])),
    },
    optional={
        "debtor_phone": maybe(st.just("+15550001111")),
        "debtor_tz": maybe(st.just("America/Chicago")),
        "started_at": maybe(st.just("2030-01-01T00:00:00Z")),
        "lang": maybe(st.sampled_from(["en", "zh"])),
    },
)
frames = st.lists(
    st.one_of(
        st.binary(max_size=4000),
        st.integers(min_value=1, max_value=50).map(lambda n: bytes(640 * n)),
        json_value.map(dumps),
        st.just(dumps({"type": "stop"})),
    ),
    max_size=6,
)


# --- the server --------------------------------------------------------------------------------
class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Server:
    url: str
    audiosocket_port: int
    services: Any
    errors: ErrorLog

    @property
    def ws(self) -> str:
        return self.url.replace("http://", "ws://")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, base_settings: Settings) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("fuzz") / "data"
    s: Settings = base_settings.model_copy(
        update={
            "data_dir": data,
            "server": base_settings.server.model_copy(
                update={"audiosocket_port": 0, "start_timeout_s": 2.0, "audiosocket_idle_timeout_s": 2.0}
            ),
            "web": base_settings.web.model_copy(update={"ingest_token": SecretStr(TOKEN)}),
        }
    )
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    app = create_app(s)
    try:
        with serve(app) as url:
            services = app.state.services
            yield Server(url, services.audiosocket.port, services, errors)
    finally:
        logging.getLogger().removeHandler(errors)


async def _finish(ws: Any) -> int | None:
    """Read until the server closes (its close code) or stays quiet for a moment (``None``)."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 1.0)
    except ConnectionClosed:
        return ws.close_code
    except TimeoutError:
        return None


async def _websocket(url: str, headers: dict[str, str] | None, texts_and_frames: list[Any]) -> int | None:
    try:
        async with connect(url, additional_headers=headers, open_timeout=10) as ws:
            try:
                for item in texts_and_frames:
                    await ws.send(item)
            except ConnectionClosed:
                return ws.close_code
            return await _finish(ws)
    except InvalidStatus as exc:
        return 4000 + exc.response.status_code  # a refused handshake (e.g. 403 -> 4403)


def _check_close(code: int | None) -> None:
    assert code is None or code in GOOD_CLOSES or 4400 <= code < 4500, f"closed with {code}"


@FUZZ
@given(start=start_fields, rest=frames)
def test_fuzz_ws_ingest(server: Server, start: dict[str, Any], rest: list[Any]) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    _check_close(asyncio.run(_websocket(server.ws + "/ws/ingest", headers, [dumps(start), *rest])))


def _twilio_start(params: dict[str, Any], tracks: Any) -> dict[str, Any]:
    return {
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": "MZ" + "0" * 32,
        "start": {
            "streamSid": "MZ" + "0" * 32,
            "callSid": "CA" + uuid.uuid4().hex,
            "tracks": tracks,
            "customParameters": params,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    }


media_events = st.fixed_dictionaries(
    {
        "event": maybe(st.sampled_from(["media", "mark", "dtmf", "stop", "connected"])),
        "sequenceNumber": maybe(st.integers(min_value=2, max_value=10**6).map(str)),
        "media": maybe(
            st.fixed_dictionaries(
                {
                    "track": maybe(st.sampled_from(["inbound", "outbound"])),
                    "timestamp": maybe(st.integers(min_value=0, max_value=10**13).map(str)),
                    "payload": maybe(
                        st.binary(min_size=1, max_size=800).map(lambda b: base64.b64encode(b).decode())
                    ),
                }
            )
        ),
    }
)


@FUZZ
@given(
    params=st.fixed_dictionaries(
        {"agent_id": maybe(st.just("A-FUZZ")), "token": maybe(st.just(TOKEN)), "call_id": maybe(call_ids)}
    ),
    tracks=maybe(st.just(["inbound", "outbound"])),
    events=st.lists(
        st.one_of(media_events.map(dumps), json_value.map(dumps), st.binary(max_size=64)), max_size=8
    ),
)
def test_fuzz_twilio(server: Server, params: dict[str, Any], tracks: Any, events: list[Any]) -> None:
    connected = dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})
    messages = [connected, dumps(_twilio_start(params, tracks)), *events]
    _check_close(asyncio.run(_websocket(server.ws + "/ws/twilio", None, messages)))


audiosocket_frames = st.one_of(
    st.tuples(st.sampled_from([0x00, 0x01, 0x03, 0x10, 0xFF, 0x42]), st.binary(max_size=700)).map(
        lambda kp: struct.pack(">BH", kp[0], len(kp[1])) + kp[1]
    ),
    st.integers(min_value=1, max_value=20).map(lambda n: struct.pack(">BH", 0x10, 320) + bytes(320) * 1 * n),
    st.binary(max_size=50),
)


async def _audiosocket(port: int, first: bytes, rest: list[bytes]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(first + b"".join(rest))
        await writer.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader.read(65536), 0.3)
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()


@FUZZ
@given(
    leg_byte=st.sampled_from([b"\x00", b"\x01", b"\x07"]),
    uuid_ok=st.booleans(),
    rest=st.lists(audiosocket_frames, max_size=6),
)
def test_fuzz_audiosocket(server: Server, leg_byte: bytes, uuid_ok: bool, rest: list[bytes]) -> None:
    value = uuid.uuid4().bytes[:-1] + leg_byte
    first = struct.pack(">BH", 0x01, 16) + value if uuid_ok else struct.pack(">BH", 0x01, 15) + value[:15]
    asyncio.run(_audiosocket(server.audiosocket_port, first, rest))


@FUZZ
@given(
    body=st.one_of(
        st.fixed_dictionaries(
            {
                "uuid": maybe(st.uuids().map(str)),
                "leg": maybe(st.sampled_from(["agent", "debtor"])),
                "call": maybe(start_fields),
            }
        ).map(dumps),
        json_value.map(dumps),
        st.binary(max_size=200),
    ),
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]),
)
def test_fuzz_audiosocket_register(server: Server, body: Any, content_type: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type}
    content = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    r = httpx.post(server.url + "/api/audiosocket/register", content=content, headers=headers, timeout=30)
    assert r.status_code < 500, (r.status_code, r.text)


def test_half_open_audiosocket_legs_are_closed(server: Server) -> None:
    """A leg that sends one frame and then nothing is closed ``audiosocket_idle_timeout_s`` (2 s
    here) after its call has opened (the wait starts then: a start kept waiting by a slow database
    is not the leg's silence; measured from the first frame, this failed on a slowed database)."""

    def opened(call_id: str) -> bool:
        session = server.services.manager.get(call_id)
        return session is not None and bool(session.legs)

    async def run() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.audiosocket_port)
        try:  # closed however the test ends: a socket left open fails the next test on this worker
            value = uuid.uuid4().bytes[:-1] + b"\x00"
            writer.write(struct.pack(">BH", 0x01, 16) + value + struct.pack(">BH", 0x10, 320) + bytes(320))
            await writer.drain()
            closing = asyncio.ensure_future(reader.read())  # EOF once the server gives up on the leg
            deadline = time.monotonic() + 30
            while not opened(f"audiosocket-{uuid.UUID(bytes=value)}"):
                assert not closing.done(), "the leg was closed before its call was seen open"
                assert time.monotonic() < deadline, "the call did not open"
                await asyncio.sleep(0.02)
            t0 = time.monotonic()
            data = await asyncio.wait_for(closing, 10)
            assert time.monotonic() - t0 < 2.0 + 3.0
            return data
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    asyncio.run(run())


def _raw_ingest(server: Server) -> socket.socket:
    """A websocket to ``/ws/ingest`` over a plain socket, so a test can reset or half-close it."""
    return open_websocket(server.url, "/ws/ingest", TOKEN)


def _gone_call(server: Server, call_id: str) -> CallStatus | None:
    """The stored status of a call once it is no longer live (None: it never started)."""
    deadline = time.monotonic() + 30
    while server.services.manager.get(call_id) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.services.manager.get(call_id) is None
    with server.services.db.session() as s:
        try:
            return repo.get_call(s, call_id).status
        except NotFoundError:
            return None


def _start(call_id: str) -> bytes:
    start = {
        "type": "start",
        "call_id": call_id,
        "agent_id": "A-GONE",
        "encoding": "L16",
        "sample_rate": 8000,
    }
    return ws_frame(1, dumps(start).encode())


def test_a_client_gone_before_the_started_reply_is_a_disconnect(server: Server) -> None:
    """A client that resets the connection right after its start message, before the server's
    ``started`` reply: the call (if the start was read at all) ends aborted as a disconnect, and the
    server logs no error (it used to log a "connection failed" traceback and end the call as a
    server error)."""
    before = len(server.errors.records)
    for _ in range(3):
        call_id = "gone-" + uuid.uuid4().hex[:8]
        with _raw_ingest(server) as sock:
            sock.sendall(_start(call_id))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
        assert _gone_call(server, call_id) in (None, CallStatus.ABORTED)
    problems = [f"{r.name}: {r.getMessage()}" for r in server.errors.records[before:]]
    assert not problems, problems


def test_a_client_that_stops_and_half_closes_ends_its_call(server: Server, real_call: CallAudio) -> None:
    """A client that sends its stop and half-closes without waiting for ``stopped``: the call ends
    (not aborted), its audio kept, and the server logs no error (it used to log a traceback from
    the unsendable reply)."""
    before = len(server.errors.records)
    call_id = "gone-" + uuid.uuid4().hex[:8]
    with _raw_ingest(server) as sock:
        sock.sendall(_start(call_id))
        sock.recv(4096)  # started
        speech = real_call.excerpt(0.0, 2.0)  # both legs interleaved, in 20 ms frames
        pcm = np.stack([speech.agent, speech.debtor], axis=1).astype("<i2").tobytes()
        for i in range(0, len(pcm), 640):
            sock.sendall(ws_frame(2, pcm[i : i + 640]))
        sock.sendall(ws_frame(1, dumps({"type": "stop"}).encode()))
        sock.shutdown(socket.SHUT_WR)
        assert _gone_call(server, call_id) is CallStatus.ENDED
    with server.services.db.session() as s:
        assert repo.require_recording(s, call_id, Leg.AGENT).path
    problems = [f"{r.name}: {r.getMessage()}" for r in server.errors.records[before:]]
    assert not problems, problems


def test_after_the_fuzzing_the_server_is_healthy_and_clean(server: Server) -> None:
    deadline = time.monotonic() + 60
    while server.services.manager.live_calls() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not server.services.manager.live_calls()
    assert httpx.get(server.url + "/healthz").json()["ok"] is True
    problems = [f"{r.name}: {r.getMessage()}" for r in server.errors.records]
    assert not problems, problems[:5]
