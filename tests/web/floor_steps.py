"""Steps of the floor test (:mod:`tests.web.test_floor`): rule pack choices made on the web node
followed by the analysis nodes, sign-in limits counted by the floor, and, while both analysis
nodes hold a live call, listen-in on the web node, a second ``serve`` under a running node's id,
a call opened on a second node while another holds it, and an agent's panel on the web node."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.ingest.client import stream_ingest
from agent_monitor.storage import CallStatus, Database, repo
from agent_monitor.storage.tables import CallHolder
from tests.web.server_process import TOKEN, ServerProcess
from tests.web.ui_support import login


def call_status(db: Database, call_id: str) -> CallStatus:
    with db.session() as s:
        return repo.get_call(s, call_id).status


def _tried(node: httpx.Client, csrf: dict[str, str]) -> set[str]:
    """The rules the node's rule set in use finds in an insult ("try on text", no pack given)."""
    body = {"text": "you are a stupid idiot", "lang": "en"}
    r = node.post("/api/admin/rules/try", json=body, headers=csrf)
    assert r.status_code == 200, r.text
    return {h["rule"] for h in r.json()["hits"]}


def _followed(nodes: dict[str, tuple[httpx.Client, dict[str, str]]], insults: bool) -> None:
    """Each analysis node's rule set finds the insult (``insults``) or not, within 20 s."""
    deadline = time.monotonic() + 20
    for name, (client, csrf) in nodes.items():
        while ("EN-INSULT-1" in _tried(client, csrf)) is not insults:
            assert time.monotonic() < deadline, f"{name} did not follow the change"
            time.sleep(0.2)


def packs_followed(web: ServerProcess, *analysis: ServerProcess) -> None:
    """The admin switches the English abuse pack off on the web node, which takes no calls: the
    analysis nodes' rule sets follow within ``cluster.packs_check_s`` ("try on text" there, with
    the rule set in use); then on again (before, the change reached no other node)."""
    with httpx.Client(base_url=web.url) as admin:
        csrf = login(admin, "root")
        nodes = {}
        for node in analysis:
            client = httpx.Client(base_url=node.url)
            nodes[node.extra_env["AGENT_MONITOR_CLUSTER__NODE_ID"]] = (client, login(client, "root"))
        try:
            _followed(nodes, insults=True)
            for enabled in (False, True):
                change = {"file": "en/abuse.yaml", "enabled": enabled}
                r = admin.put("/api/admin/rules/files", json=change, headers=csrf)
                assert r.status_code == 200, r.text
                _followed(nodes, insults=enabled)
        finally:
            for client, _ in nodes.values():
                client.close()


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


def checklist_on_the_web_node(web: ServerProcess) -> None:
    """Agent A-2's panel, read from the web node (as after a reload or a reconnection of its
    socket), shows f2, which a2 holds, with its checklist of required disclosures (it was empty on
    every node but the holder: the panel lost the checklist until it next changed)."""
    with httpx.Client(base_url=web.url) as client:
        login(client, "a-2")
        r = client.get("/api/agent/current")
    assert r.status_code == 200, r.text
    panel = r.json()
    assert panel["call"]["call_id"] == "f2" and panel["call"]["status"] == "live", panel
    assert panel["checklist"] and all(d["state"] in ("due", "said", "missed") for d in panel["checklist"]), (
        panel
    )


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
