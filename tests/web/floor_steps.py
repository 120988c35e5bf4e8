"""Steps of the floor test (:mod:`tests.web.test_floor`) run while both analysis nodes hold a
live call: sign-in limits counted by the floor, listen-in on the web node, a second ``serve``
under a running node's id, and a call opened on a second node while another holds it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.ingest.client import stream_ingest
from agent_monitor.storage import CallStatus, Database, repo
from agent_monitor.storage.tables import CallHolder
from tests.web.server_process import TOKEN, ServerProcess


def call_status(db: Database, call_id: str) -> CallStatus:
    with db.session() as s:
        return repo.get_call(s, call_id).status


def failures_counted_by_the_floor(*nodes: ServerProcess) -> None:
    """Failed sign-ins spread over two nodes count together: the sixth is refused (429)."""
    codes = []
    for i in range(6):
        with httpx.Client(base_url=nodes[i % 2].url) as c:
            r = c.post("/api/auth/login", json={"username": "mallory", "password": "guess"})
            codes.append(r.status_code)
    assert codes == [401] * 5 + [429], codes


async def listened_in(web: ServerProcess, call_id: str, cookie: str) -> None:
    """The supervisor listens in on the web node to a call an analysis node holds (its recording
    read from the floor's shared directory)."""
    from websockets.asyncio.client import connect

    url = f"{web.ws}/ws/listen/{call_id}"
    async with connect(url, additional_headers={"Cookie": cookie}, open_timeout=10) as ws:
        head = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert head == {"type": "audio", "call_id": call_id, "sample_rate": 8000}
        frame = await asyncio.wait_for(ws.recv(), 10)
        assert isinstance(frame, bytes) and frame[:1] in (b"\x00", b"\x01") and len(frame) > 1


async def twin_refused(node: ServerProcess, data_dir: Path, db: Database) -> None:
    """A second `serve` under a running node's id (its own data directory) refuses to start: its
    start would have marked the node's live call aborted and sealed recordings still written."""
    twin = ServerProcess(data_dir, extra_env=node.extra_env)
    twin.start(wait=False)
    assert twin.proc is not None
    try:
        code = await asyncio.to_thread(twin.proc.wait, 60)
    finally:
        twin.stop()
    assert code == 1 and "node id 'a2' is in use by a running node" in twin.log(), twin.log()
    assert call_status(db, "f2") is CallStatus.LIVE


async def opened_twice_refused(node: ServerProcess, call: CallAudio, db: Database) -> None:
    """Call f2, live on a2, opened at ``node`` too (a client reconnected to another node while the
    first still has the call, or a call's legs sent to two nodes) is refused there, naming a2;
    f2 stays live, held by a2 (without the check ``node`` took it over, and a2's end then marked
    it ended while it went on)."""
    params = {"call_id": "f2", "agent_id": "A-2"}
    result = await stream_ingest(node.url, call.excerpt(0.0, 2.0), params, speed=1.0, token=TOKEN)
    outcome = (result.close_code, result.close_reason, result.frames)
    assert not result.completed and result.frames == 0, outcome
    assert "call 'f2' is live on node 'a2'" in result.close_reason, outcome
    with db.session() as s:
        holder = s.get(CallHolder, "f2")
        assert holder is not None and holder.node == "a2"
    assert call_status(db, "f2") is CallStatus.LIVE
