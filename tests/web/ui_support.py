"""Helpers of the UI tests: users of every role, and stored calls to look at.

The calls are written through the real repository API into the test's database; their audio is
an excerpt of the real phone call of the shared data (recorded through the real
:class:`RecordingWriter`). Their transcripts are **scripted** text (not recognised) so they hold
known personal numbers for the masking checks.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from agent_monitor.accounts.passwords import hash_password
from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.model.rules import HitStatus, RuleHit, Severity
from agent_monitor.model.stress import BaselineStatus, StressLevel, StressSample
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.storage import CallStatus, repo
from agent_monitor.storage.recordings import RecordingWriter, recording_path
from agent_monitor.storage.repo.transcripts import save_utterance

PASSWORD = "correct horse battery staple"
#: username -> (role, agent_id, team)
USERS: dict[str, tuple[Role, str | None, str | None]] = {
    "agent1": (Role.AGENT, "A-1", None),
    "agent2": (Role.AGENT, "A-2", None),
    "sup1": (Role.SUPERVISOR, None, "T1"),
    "sup2": (Role.SUPERVISOR, None, "T2"),
    "qa1": (Role.QA, None, None),
    "admin1": (Role.ADMIN, None, None),
}
AGENT_TEAMS = {"A-1": "T1", "A-2": "T1", "A-3": "T2"}
CARD = "4111 1111 1111 1111"
PHONE = "13812345678"
DEBTOR_PHONE = "+14155551234"


def add_users(db: Any) -> None:
    digest = hash_password(PASSWORD)
    with db.session() as s:
        for agent, agent_team in AGENT_TEAMS.items():
            repo.ensure_agent(s, agent, team=agent_team)
        for name, (role, agent_id, team) in USERS.items():
            repo.create_user(s, name, digest, role, agent_id=agent_id, team=team)


def _words(text: str, start: float) -> tuple[Word, ...]:
    return tuple(Word(w, start + 0.4 * i, start + 0.4 * i + 0.35, 0.9) for i, w in enumerate(text.split()))


def add_call(
    db: Any,
    data_dir: Path,
    call_id: str,
    agent_id: str,
    audio: CallAudio,
    level: WarningLevel,
    *,
    ended: bool = True,
    debt_id: str | None = None,
) -> None:
    """A finished call of ``agent_id`` with a scripted transcript (a card and a phone number), a
    rule hit, an alert at ``level``, stress readings, both legs recorded, queued for QA; with
    ``ended=False`` the call is still live (its alerts can be taken over; end it with
    ``repo.end_call``); ``debt_id``: the debt the call came with."""
    started = datetime.now(UTC) - timedelta(hours=1)
    lines = [
        (Leg.AGENT, 0.5, "hello this is the collections office"),
        (Leg.DEBTOR, 3.0, f"my card is {CARD} and my phone is {PHONE}"),
        (Leg.AGENT, 8.0, "you are a stupid idiot pay now"),
    ]
    with db.session() as s:
        repo.start_call(
            s,
            call_id,
            agent_id,
            source_protocol="ws-ingest",
            started_at=started,
            debtor_phone=DEBTOR_PHONE,
            debt_id=debt_id,
        )
        for n, (leg, start, text) in enumerate(lines):
            words = _words(text, start)
            save_utterance(s, call_id, Transcript(leg, n, start, words[-1].end, text, True, words, "en"))
        hit = RuleHit(
            "abuse.insult",
            "Insulting the debtor",
            "abuse",
            Severity.RED,
            Leg.AGENT,
            (0, 18),
            "you are a stupid idiot",
            "Abusive language toward the debtor",
            "FDCPA 15 U.S.C. 1692d(2)",
            compliant="I understand this is difficult; let us find a way to settle the balance.",
            utterance=2,
            start=8.0,
            end=9.5,
        )
        repo.save_rule_hit(s, call_id, hit, status=HitStatus.CONFIRMED)
        reasons = [{"kind": "rule", "rule": hit.rule, "text": f"insult; debtor said {PHONE}", "t": 9.5}]
        repo.raise_alert(s, call_id, level, reasons, raised_at_s=9.5, handoff=level is WarningLevel.RED)
        samples = [
            StressSample(
                float(t), 30.0 + 5 * t, StressLevel.NONE, BaselineStatus.RELATIVE, None, 1.0, Leg.DEBTOR
            )
            for t in range(1, 10)
        ]
        repo.add_stress_samples(s, call_id, samples)
        for leg in Leg:
            path = recording_path(data_dir, call_id, leg)
            repo.register_recording(s, call_id, leg, str(path), audio.sample_rate, started_at=started)
            writer = RecordingWriter(path, audio.sample_rate)
            writer.write((audio.agent if leg is Leg.AGENT else audio.debtor).astype("<i2").tobytes())
            info = writer.close()
            repo.close_recording(
                s,
                call_id,
                leg,
                bytes_written=info.bytes_written,
                samples_written=info.samples_written,
                sha256=info.sha256,
            )
        if ended:
            repo.end_call(s, call_id, ended_at=started + timedelta(seconds=30), status=CallStatus.ENDED)
        repo.enqueue_for_qa(s, call_id, level, "scripted test call")


@contextmanager
def live_again(db: Any, *call_ids: str) -> Iterator[None]:
    """The stored calls ``call_ids`` live again (as after a reconnection) for the ``with`` block,
    then ended as they were (status and end time): only a live call can be taken over."""
    with db.session() as s:
        was = {c: (repo.get_call(s, c).status, repo.get_call(s, c).ended_at) for c in call_ids}
        for c in call_ids:
            repo.start_call(s, c, repo.get_call(s, c).agent_id, source_protocol="ws-ingest", resume=True)
    try:
        yield
    finally:
        with db.session() as s:
            for c, (status, ended_at) in was.items():
                repo.end_call(s, c, ended_at=ended_at, status=status)


@contextmanager
def serve(app: Any, **options: Any) -> Iterator[str]:
    """Run ``app`` on uvicorn at 127.0.0.1 (random port) in a thread; yields its base URL.
    ``options``: more ``uvicorn.Config`` arguments (``serve`` uses
    :func:`web.server_options.uvicorn_options`)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = {"log_level": "warning", "ws_max_size": 1 << 20, **options}
    server = uvicorn.Server(uvicorn.Config(app, **config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)
        sock.close()


def ui_app(settings: Any) -> Any:
    """The whole application (auth, pages and their APIs) for ``settings``."""
    from agent_monitor.compose import create_app

    return create_app(settings)


def login(client: httpx.Client, username: str) -> dict[str, str]:
    """Sign in as ``username`` (replacing the client's session); returns the CSRF header."""
    client.cookies.clear()
    r = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


async def replay(url: str, app: Any, audio: CallAudio, start: dict[str, Any], speed: float) -> Any:
    """Stream ``audio`` as a live call into ``/ws/ingest`` of the server at ``url`` (with the
    server's ingest token, as a machine client)."""
    from agent_monitor.ingest.client import stream_ingest

    return await stream_ingest(url, audio, start, speed=speed, token=app.state.auth.ingest_token)


async def replay_until(
    url: str, app: Any, audio: CallAudio, start: dict[str, Any], done: threading.Event, speed: float = 1.0
) -> Any:
    """:func:`replay` (at real time unless ``speed``) that hangs up once ``done`` is set: the stop
    message (the end of the call, as after its last frame) goes out then, so the call lasts as long
    as the test needs it (at most the length of ``audio``) and ends as cleanly (``completed``) as a
    call played through."""
    from websockets.asyncio.client import connect

    from agent_monitor.ingest.client import StreamResult, auth_headers, encode, ws_url
    from agent_monitor.ingest.ws_ingest import interleave

    msg = {"type": "start", **start, "sample_rate": audio.sample_rate, "encoding": "L16"}
    result = StreamResult(call_id=str(start["call_id"]))
    step = audio.sample_rate // 50  # 20-ms frames
    headers = auth_headers(app.state.auth.ingest_token)
    async with connect(ws_url(url, "/ws/ingest"), max_size=None, additional_headers=headers) as ws:
        await ws.send(json.dumps({**msg, "channels": ["agent", "debtor"]}))
        reply = json.loads(await ws.recv())
        assert reply.get("type") == "started", reply
        begun = time.monotonic()
        for i in range(0, len(audio.agent), step):
            if done.is_set():
                break
            await asyncio.sleep(max(0.0, begun + i / audio.sample_rate / speed - time.monotonic()))
            legs = [encode(audio.agent[i : i + step], "L16"), encode(audio.debtor[i : i + step], "L16")]
            await ws.send(interleave(legs, 2))
            result.seconds_sent = (i + step) / audio.sample_rate
        await ws.send(json.dumps({"type": "stop"}))
        async for message in ws:
            if json.loads(message).get("type") == "stopped":
                result.stopped = json.loads(message)
    result.close_code, result.close_reason = ws.close_code, ws.close_reason or ""
    return result


@contextmanager
def live_call(url: str, app: Any, audio: CallAudio, start: dict[str, Any]) -> Iterator[list[Any]]:
    """The call ``audio`` at real time in a thread (:func:`replay_until`) while the ``with`` block
    checks the pages; leaving the block hangs up and waits for the call's end. The list yielded gets
    the :class:`~agent_monitor.ingest.client.StreamResult` (``completed`` on a clean end), or the
    exception that ended the stream (a server stopped under it)."""
    done = threading.Event()
    results: list[Any] = []

    def run() -> None:
        try:
            results.append(asyncio.run(replay_until(url, app, audio, start, done)))
        except Exception as exc:  # handed to the test, which asserts on it
            results.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield results
    finally:
        done.set()
        thread.join(120)


@contextmanager
def ui_server(base_settings: Any, data_root: Path) -> Iterator[tuple[str, Any]]:
    """The full app (UI and auth) on a free loopback port with its own data dir and the test users."""
    settings = base_settings.model_copy(
        update={
            "data_dir": data_root / "data",
            "server": base_settings.server.model_copy(update={"audiosocket_port": None}),
        }
    )
    app = ui_app(settings)
    with serve(app) as url:
        add_users(app.state.services.db)
        yield url, app
