"""End to end: a live call's ``debt_id`` and ``consented`` reach the stored call over every ingest
path of a real server (/ws/ingest, /ws/twilio through the ``replay`` command, AudioSocket by
registration); a bad value is refused naming the field, and nothing is stored for it.

Real server, real Vosk model, real SQLite database, the real phone call of the shared data."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agent_monitor.errors import NotFoundError
from agent_monitor.ingest.audiosocket import Kind, encode_frame, uuid_frame
from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.ingest.client import auth_headers, stream_ingest
from agent_monitor.storage import CallStatus, repo
from tests.web.live_support import LiveServer


def stored_debt(server: LiveServer, call_id: str, debtor_id: str) -> tuple[str, bool]:
    """The call's debt and consent as the frequency rule reads them from the database."""
    since = datetime.now(UTC) - timedelta(days=2)
    with server.services.db.session() as s:
        assert repo.get_call(s, call_id).status is CallStatus.ENDED
        [row] = [r for r in repo.debtor_calls_since(s, debtor_id, since, besides="") if r.call.id == call_id]
        return row.debt_id, row.consented


async def wait_gone(server: LiveServer, call_id: str) -> None:
    for _ in range(300):
        if server.services.manager.get(call_id) is None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{call_id} still live")


def test_ws_ingest_stores_the_debt_and_the_consent(live_server: LiveServer, real_call: CallAudio) -> None:
    start = {
        "call_id": "debt-ws-1",
        "agent_id": "A-3",
        "debtor_id": "D-ws",
        "debt_id": "L-7",
        "consented": True,
    }
    result = asyncio.run(
        stream_ingest(
            live_server.url, real_call.excerpt(30.0, 2.0), start, speed=4.0, token=live_server.token
        )
    )
    assert result.completed, (result.close_code, result.close_reason)
    assert stored_debt(live_server, "debt-ws-1", "D-ws") == ("L-7", True)


def test_the_call_page_and_its_evidence_export_give_the_debt_and_refuse_it_changed(
    live_server: LiveServer, real_call: CallAudio
) -> None:
    start = {
        "call_id": "debt-ws-2",
        "agent_id": "A-3",
        "debtor_id": "D-ws",
        "debt_id": "L-6",
        "consented": True,
    }
    result = asyncio.run(
        stream_ingest(
            live_server.url, real_call.excerpt(30.0, 1.0), start, speed=4.0, token=live_server.token
        )
    )
    assert result.completed, (result.close_code, result.close_reason)
    with httpx.Client(base_url=live_server.url, headers={"Cookie": live_server.cookie}, timeout=60) as client:
        record = client.get("/api/calls/debt-ws-2").json()["call"]
        assert (record["debtor_id"], record["debt_id"], record["consented"]) == ("D-ws", "L-6", True)
        exported = client.get("/api/calls/debt-ws-2/export.zip")
        assert exported.status_code == 200, exported.text
        call_json = zipfile.ZipFile(io.BytesIO(exported.content)).read("debt-ws-2/call.json")
        assert (json.loads(call_json)["debt_id"], json.loads(call_json)["consented"]) == ("L-6", True)
        with live_server.services.db.engine.begin() as conn:
            changed = conn.execute(
                text("UPDATE call_debts SET consented = false WHERE call_id = 'debt-ws-2'")
            )
            assert changed.rowcount == 1
        refused = client.get("/api/calls/debt-ws-2/export.zip")
    assert refused.status_code == 409 and "does not match its seals" in refused.json()["detail"], refused.text


@pytest.mark.parametrize(
    ("change", "needle"),
    [({"consented": "yes"}, "consented: Input should be a valid boolean"), ({"debt_id": "L\t7"}, "debt_id")],
)
def test_a_bad_debt_or_consent_is_refused_with_the_field_named(
    live_server: LiveServer, change: dict[str, object], needle: str
) -> None:
    start = {"type": "start", "call_id": "debt-bad", "agent_id": "A-3", **change}

    async def run() -> tuple[int, str]:
        async with connect(
            live_server.ws + "/ws/ingest", additional_headers=auth_headers(live_server.token)
        ) as ws:
            await ws.send(json.dumps(start))
            try:
                await ws.recv()
            except ConnectionClosed as exc:
                assert exc.rcvd is not None
                return exc.rcvd.code, exc.rcvd.reason
        raise AssertionError("not closed")

    code, reason = asyncio.run(run())
    assert code == 1008 and reason.startswith("invalid start message") and needle in reason, reason
    with live_server.services.db.session() as s, pytest.raises(NotFoundError):
        repo.get_call(s, "debt-bad")


def test_the_replay_command_over_twilio_stores_the_debt_and_the_consent(
    live_server: LiveServer, eval_data: Path
) -> None:
    call_file = eval_data / "calls" / "spokenwoz" / "MUL1011.opus"
    command = [sys.executable, "-m", "agent_monitor", "replay", str(call_file), "--server", live_server.url]
    options = ["--speed", "4", "--duration", "3", "--protocol", "twilio", "--call-id", "debt-twilio-1"]
    debt = ["--debtor-id", "D-tw", "--debt-id", "L-8", "--consented"]
    done = subprocess.run(
        [*command, *options, *debt],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AGENT_MONITOR_WEB__INGEST_TOKEN": live_server.token},
    )
    assert done.returncode == 0, done.stderr
    assert stored_debt(live_server, "debt-twilio-1", "D-tw") == ("L-8", True)


def test_an_audiosocket_registration_carries_the_debt_and_the_consent(
    live_server: LiveServer, real_call: CallAudio
) -> None:
    port = live_server.services.audiosocket.port  # type: ignore[union-attr]
    register = live_server.url + "/api/audiosocket/register"
    headers = {"Authorization": f"Bearer {live_server.token}"}
    call = {"call_id": "debt-as-1", "agent_id": "A-5", "debtor_id": "D-as", "debt_id": "L-9"}
    bad = {"uuid": str(uuid.uuid4()), "leg": "agent", "call": {**call, "consented": "yes"}}
    refused = httpx.post(register, json=bad, headers=headers)
    assert refused.status_code == 422 and "consented" in refused.json()["detail"], refused.text
    leg_uuid = uuid.uuid4()
    good = {"uuid": str(leg_uuid), "leg": "agent", "call": {**call, "consented": False}}
    assert httpx.post(register, json=good, headers=headers).status_code == 200
    samples = real_call.excerpt(40.0, 1.0).agent

    async def run() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        frames = b"".join(
            encode_frame(Kind.AUDIO, samples[i : i + 160].astype("<i2").tobytes())
            for i in range(0, len(samples), 160)
        )
        writer.write(uuid_frame(leg_uuid) + frames + encode_frame(Kind.HANGUP))
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 30) == b""  # no error frame
        writer.close()
        await wait_gone(live_server, "debt-as-1")

    asyncio.run(run())
    assert stored_debt(live_server, "debt-as-1", "D-as") == ("L-9", False)
