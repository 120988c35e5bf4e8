"""A floor on loopback: two analysis nodes and one web node (real ``agent-monitor serve``
processes with their own data directories), one real ``redis-server``, one PostgreSQL database.

A supervisor's websocket on the web node sees the calls of both analysis nodes and the web node's
wall lists them (the registry); killing an analysis node (SIGKILL) mid-call marks its call aborted
in the database and as a ``call_ended`` on the supervisor's websocket within seconds, loses no
stored row, and the call continues on the other node under the same call id (its recording too:
the nodes share ``cluster.shared_dir``). A second ``serve`` under a running analysis node's id
refuses to start and leaves that node's live call live; a call live on one analysis node is
refused at the other ("call 'f2' is live on node 'a2'"). Failed sign-ins spread over two nodes are
counted together, and the supervisor listens in on the web node to a call an analysis node holds.
An admin's rule pack change made on the web node reaches both analysis nodes' rule sets, and an
agent's panel read from the web node shows the checklist of the agent's call another node holds.

Hand-offs: both calls carry a scripted threat rendered by espeak-ng (**synthetic** speech spliced
into the real call) that raises a red alert. The first is escalated while both analysis nodes
live (exactly once: one ``handoff_escalated``, one ``escalated`` row); the other node is killed
right after raising the second, whose escalation timer dies with it: a surviving node's sweep
escalates it, once, and the supervisor's websocket on the web node receives it.

Restarts: the killed analysis node comes back and seals the recordings of its call, which the
kill left open (each recording names its writer; the others never seal it), and marks aborted a
call it held but had not yet listed on the floor (nobody else could reap it), telling every wall
it ended; the call then
continues on the other node, which names itself and seals them again at the end. The web node is
restarted; a supervisor's websocket and a supervisor's wall page in Debian Chromium (Playwright)
both resume with ``since``: the wall shows the red alert of a call that started, raised it and
ended entirely while the web node was down (``/api/wall`` lists live calls only, so only the
resumed stream can bring it).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent_monitor.ingest.call_audio import CallAudio, synthetic_speech
from agent_monitor.ingest.client import stream_ingest
from agent_monitor.model.audio import Leg
from agent_monitor.model.session import Holder
from agent_monitor.storage import CallStatus, Database, repo
from agent_monitor.storage.recordings import RecordingWriter, file_sha256, read_recording, recording_path
from tests.pg_support import admin_engine, create_database, drop_database
from tests.redis_support import RedisServer
from tests.web.browser_support import ARGS, CHROMIUM
from tests.web.floor_steps import (
    call_status,
    checklist_on_the_web_node,
    failures_counted_by_the_floor,
    listened_in,
    opened_twice_refused,
    packs_followed,
    twin_refused,
)
from tests.web.live_support import EventCollector
from tests.web.server_process import REPO, TOKEN, ServerProcess
from tests.web.ui_support import PASSWORD, login
from web.resume import order

PG_ENV = "AGENT_MONITOR_TEST_POSTGRES_URL"
#: node presence TTL of the floor (a dead node's calls are aborted within about this)
NODE_TTL_S = 3.0
#: an unacknowledged red hand-off is escalated after this long on the test floor
ESCALATE_AFTER_S = 6.0
VIOLATION = "you are a stupid idiot. we will break your legs"


@pytest.fixture()
def pg_url() -> Iterator[str]:
    server = os.environ.get(PG_ENV)
    if not server:
        pytest.fail(f"{PG_ENV} is not set: the floor test needs a real PostgreSQL")
    admin = admin_engine(server)
    url = create_database(admin, "am_floor")
    try:
        yield url
    finally:
        drop_database(admin, url)
        admin.dispose()


def _node(tmp: Path, name: str, role: str, redis_url: str, pg_url: str) -> ServerProcess:
    env = {
        "AGENT_MONITOR_DATABASE_URL": pg_url,
        "AGENT_MONITOR_CLUSTER__REDIS_URL": redis_url,
        "AGENT_MONITOR_CLUSTER__ROLE": role,
        "AGENT_MONITOR_CLUSTER__NODE_ID": name,
        "AGENT_MONITOR_CLUSTER__PREFIX": "floor-test",
        "AGENT_MONITOR_CLUSTER__HEARTBEAT_S": "0.5",
        "AGENT_MONITOR_CLUSTER__NODE_TTL_S": str(NODE_TTL_S),
        "AGENT_MONITOR_ASR__MODELS": json.dumps({"en": "vosk-model-small-en-us-0.15"}),
        "AGENT_MONITOR_CLUSTER__SHARED_DIR": str(tmp / "shared"),  # the floor's recordings
        "AGENT_MONITOR_LIVE__ESCALATE_AFTER_S": str(ESCALATE_AFTER_S),
        "AGENT_MONITOR_CLUSTER__ESCALATION_SWEEP_S": "0.5",
        "AGENT_MONITOR_CLUSTER__PACKS_CHECK_S": "0.5",
    }
    return ServerProcess(tmp / name / "data", extra_env=env)


def _add_user(node: ServerProcess, name: str, *options: str) -> None:
    added = subprocess.run(
        [sys.executable, "-m", "agent_monitor", "users", "add", name, *options, "--password-stdin"],
        input=PASSWORD + "\n",
        env=node.env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert added.returncode == 0, added.stderr


def _registry(url: str) -> dict[str, object]:
    """What Redis holds of the floor (for failure messages)."""
    import redis

    with redis.Redis.from_url(url, decode_responses=True) as r:
        keys = sorted(r.keys("floor-test:*"))
        return {"keys": keys, "calls": r.hgetall("floor-test:calls"), "ttl": {k: r.pttl(k) for k in keys}}


def _final_utterances(db: Database, call_id: str) -> int:
    with db.session() as s:
        return len(repo.list_utterances(s, call_id, final_only=True))


def test_two_analysis_nodes_and_a_web_node(tmp_path: Path, pg_url: str, real_call: CallAudio) -> None:
    with RedisServer(tmp_path / "redis") as redis_server:
        nodes = {
            name: _node(tmp_path, name, role, redis_server.url, pg_url)
            for name, role in (("a1", "analysis"), ("a2", "analysis"), ("web", "web"))
        }
        _add_user(nodes["web"], "sam", "--role", "supervisor", "--team", "east")
        _add_user(nodes["web"], "root", "--role", "admin")
        for agent in ("A-1", "A-2"):
            _add_user(nodes["web"], agent.lower(), "--role", "agent", "--agent-id", agent, "--team", "east")
        try:
            for node in nodes.values():
                node.start(wait=False)
            for node in nodes.values():
                node.wait_ready(180)
            db = Database.open(pg_url)
            try:
                asyncio.run(_scenario(nodes, db, real_call, tmp_path / "shared", redis_server.url))
            finally:
                db.dispose()
        finally:
            for node in nodes.values():
                node.stop()


def _scripted(call: CallAudio, at_s: float) -> CallAudio:
    """``call`` with the scripted threat (synthetic speech) on the agent's leg at ``at_s``."""
    return call.splice(Leg.AGENT, synthetic_speech(VIOLATION, call.sample_rate), at_s, VIOLATION)


def _red_alerts(db: Database, call_id: str) -> int:
    with db.session() as s:
        return sum(a.level.value == "red" for a in repo.list_alerts(s, call_id=call_id))


def _escalations(db: Database, alert_id: int) -> int:
    with db.session() as s:
        return sum(e.action.value == "escalated" for e in repo.alert_events(s, alert_id))


async def _wall_page(playwright: Any, url: str) -> Any:
    """Sam's wall in Debian Chromium, signed in through the login form, live (Playwright's async
    API: the only such page, so it keeps its own form-filling beside
    :func:`tests.web.browser_support.submit_sign_in`, which drives the sync API)."""
    browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    page = await (await browser.new_context(viewport={"width": 1400, "height": 900})).new_page()
    await page.goto(url + "/supervisor")
    await page.fill("#username", "sam")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(url + "/supervisor")
    await page.wait_for_selector("body[data-live='1']", timeout=20_000)
    return page


async def _scenario(
    nodes: dict[str, ServerProcess], db: Database, call: CallAudio, shared: Path, redis_url: str
) -> None:
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found (apt-get install chromium)")
    async with async_playwright() as playwright:
        page = await _wall_page(playwright, nodes["web"].url)
        await _floor(nodes, db, call, shared, redis_url, page)


async def _floor(
    nodes: dict[str, ServerProcess], db: Database, call: CallAudio, shared: Path, redis_url: str, page: Any
) -> None:
    a1, a2, web = nodes["a1"], nodes["a2"], nodes["web"]
    packs_followed(web, a1, a2)
    failures_counted_by_the_floor(web, a2)
    # each node made its own session key (none set), and says so; the ingest token is set
    assert all("web.secret_key is not set" in n.log() for n in (a1, a2, web))
    assert not any("web.ingest_token is not set" in n.log() for n in (a1, a2, web))
    with httpx.Client(base_url=web.url) as c:
        login(c, "sam")
        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
    first, rest = call.excerpt(0.0, 40.0), call.excerpt(40.0, 8.0)
    async with EventCollector(web.ws + "/ws/events", cookie) as wall:
        scripted = _scripted(first, 3.0)  # turns red about 3 s into the call
        streams = {
            "f2": asyncio.create_task(
                stream_ingest(a2.url, scripted, {"call_id": "f2", "agent_id": "A-2"}, speed=1.0, token=TOKEN)
            )
        }
        # f2's hand-off is escalated while both analysis nodes live (and sweep): exactly once
        f2_handoff = await wall.wait_for("f2", "handoff_requested", timeout=60)
        await wall.wait_for("f2", "handoff_escalated", timeout=ESCALATE_AFTER_S + 15)
        assert a1.proc is not None and a1.proc.poll() is None  # a1 was alive all along
        streams["f1"] = asyncio.create_task(
            stream_ingest(a1.url, scripted, {"call_id": "f1", "agent_id": "A-1"}, speed=1.0, token=TOKEN)
        )
        # the web node holds no call, yet its supervisor sees both nodes' calls
        for call_id in streams:
            await wall.wait_for(call_id, "call_started", timeout=30)
        await asyncio.sleep(1.5)  # a registry beat
        async with httpx.AsyncClient(base_url=web.url, headers={"Cookie": cookie}) as http:
            live = (await http.get("/api/live")).json()["calls"]
        assert sorted(c["call_id"] for c in live) == ["f1", "f2"]
        await twin_refused(a2, shared.parent / "twin" / "data", db)
        await opened_twice_refused(a1, first, db)
        await listened_in(web, "f2", cookie)
        checklist_on_the_web_node(web)
        f1_handoff = await wall.wait_for("f1", "handoff_requested", timeout=60)
        stored = _final_utterances(db, "f1")
        agent_leg = recording_path(shared, "f1", Leg.AGENT)
        a1.proc.kill()  # SIGKILL mid-call, its escalation timer pending: no shutdown, no goodbye
        killed_at = time.monotonic()
        try:
            ended = await wall.wait_for("f1", "call_ended", timeout=NODE_TTL_S + 10)
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}; alive: {a1.proc.poll()}; registry: {_registry(redis_url)}"
            ) from None
        assert ended["status"] == "aborted" and "a1" in ended["reason"]
        assert time.monotonic() - killed_at < NODE_TTL_S + 5
        assert call_status(db, "f1") is CallStatus.ABORTED  # marked before the walls were told
        assert _final_utterances(db, "f1") >= stored  # nothing stored was lost
        recorded = read_recording(agent_leg).pcm
        await streams["f1"]  # the client notices its node is gone
        # the dead node's hand-off is escalated by the surviving node's sweep, seen on the web node
        escalated = await wall.wait_for("f1", "handoff_escalated", timeout=ESCALATE_AFTER_S + 10)
        assert escalated["alert_id"] == f1_handoff["alert_id"] and escalated["waited_s"] >= ESCALATE_AFTER_S
        await asyncio.sleep(2.0)  # a second escalation would have come by now
        for call_id, handoff in (("f1", f1_handoff), ("f2", f2_handoff)):
            assert len(wall.of(call_id, "handoff_escalated")) == 1, wall.of(call_id)
            assert _escalations(db, handoff["alert_id"]) == 1
        last_seen = [e["stream_id"] for _, e in wall.events if "stream_id" in e][-1]
    # a1 comes back: at its start it seals f1's recordings, which it left open when it was killed
    # (the other nodes marked f1 aborted meanwhile); f2's are a2's (live, or ended by now); and
    # it marks aborted a call it had opened just before the kill, never listed on the floor
    # (and tells every wall that call ended: the walls saw it start)
    _opened_unlisted(db, shared, "f-unlisted", "a1")
    async with EventCollector(web.ws + "/ws/events", cookie) as walls:
        await asyncio.to_thread(_restart, a1)
        unlisted = await walls.wait_for("f-unlisted", "call_ended", timeout=10)
    assert unlisted["status"] == "aborted" and unlisted["reason"] == "node a1 restarted"
    assert _writers(db, shared, "f1") == {"a1": True} and set(_writers(db, shared, "f2")) == {"a2"}
    assert call_status(db, "f-unlisted") is CallStatus.ABORTED
    assert _writers(db, shared, "f-unlisted") == {"a1": True}
    again = await _web_restart(nodes, db, call, rest, cookie, last_seen, wall, page)
    assert (await streams["f2"]).completed
    assert call_status(db, "f1") is CallStatus.ENDED and call_status(db, "f2") is CallStatus.ENDED
    assert _final_utterances(db, "f1") >= stored
    # the recording went on where the dead node left it, on the surviving node
    after = read_recording(agent_leg).pcm
    assert after.startswith(recorded) and len(after) >= len(recorded) + len(again.sent[Leg.AGENT])
    assert _writers(db, shared, "f1") == {"a2": True}  # opened again there, sealed at its end


def _opened_unlisted(db: Database, shared: Path, call_id: str, node: str) -> None:
    """A call as ``node``'s process left it when killed after opening it, before its first beat
    listed it in the registry: live in the database, held by that process, recordings open."""
    with db.session() as s:
        holder = Holder(node, "killed-process")
        repo.start_call(s, call_id, "A-1", source_protocol="ws-ingest", resume=True, holder=holder)
    for leg in Leg:
        path = recording_path(shared, call_id, leg)
        with db.session() as s:
            repo.register_recording(s, call_id, leg, str(path), 8000, writer=node)
        writer = RecordingWriter(path, 8000)
        writer.write(b"\x01\x00" * 8000)
        writer.flush()


def _restart(node: ServerProcess) -> None:
    node.stop()  # killed: closes what the test holds of it
    node.start(120.0)


def _writers(db: Database, shared: Path, call_id: str) -> dict[str | None, bool]:
    """Each node named as the writer of the call's two recordings, and whether all it wrote are
    sealed with their file's sha256."""
    with db.session() as s:
        recs = repo.list_recordings(s, call_id)
    assert len(recs) == 2
    writers: dict[str | None, bool] = {}
    for r in recs:
        sealed = r.sha256 is not None and r.sha256 == file_sha256(recording_path(shared, call_id, r.leg))
        writers[r.writer] = writers.get(r.writer, True) and sealed
    return writers


async def _web_restart(
    nodes: dict[str, ServerProcess],
    db: Database,
    call: CallAudio,
    rest: CallAudio,
    cookie: str,
    last_seen: str,
    wall: EventCollector,
    page: Any,
) -> Any:
    """The web node restarts (its supervisors' sockets drop) while the phone switch reconnects f1
    to the surviving node, same call id (the call continues, its events go on the stream), and a
    new call, f3, starts, raises a red alert and ends before the web node is back."""
    a2, web = nodes["a2"], nodes["web"]
    await asyncio.to_thread(web.stop)
    f3 = _scripted(call.excerpt(0.0, 8.0), 3.0)
    again, short = await asyncio.gather(
        stream_ingest(a2.url, rest, {"call_id": "f1", "agent_id": "A-1"}, speed=2.0, token=TOKEN),
        stream_ingest(a2.url, f3, {"call_id": "f3", "agent_id": "A-2"}, speed=2.0, token=TOKEN),
    )
    assert again.completed, again.close_reason
    assert short.completed, short.close_reason
    deadline = time.monotonic() + 10  # f3 raised its red alert, and ended, while no web node ran
    while _red_alerts(db, "f3") == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert _red_alerts(db, "f3") >= 1
    await asyncio.to_thread(web.start, 120.0)
    # the wall page's own socket resumes (live_conn.js, since=its last stream id) after its
    # back-off: it shows the red alert of f3, a call it never saw live (within the 30-s grace of
    # an ended call on the wall)
    await page.wait_for_selector("#alert-feed .alert.red[data-call='f3']", timeout=60_000)
    await page.wait_for_selector("body[data-live='1']", timeout=10_000)
    async with EventCollector(f"{web.ws}/ws/events?since={last_seen}", cookie) as back:
        # the supervisor's socket resumes: the critical events it missed come first, none lost
        started = await back.wait_for("f1", "call_started", timeout=20)
        assert started["resumed"] is True
        await back.wait_for("f3", "alert_raised", timeout=20)
        for call_id in ("f1", "f2", "f3"):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                ends = [e for _, e in wall.events + back.events if e["call_id"] == call_id]
                if any(e["type"] == "call_ended" and e["status"] == "ended" for e in ends):
                    break
                await asyncio.sleep(0.2)
            else:
                raise AssertionError(f"no call_ended (ended) for {call_id}")
        # nothing from before ``since`` comes again (frames read from the stream carry their id)
        replayed = [e["stream_id"] for _, e in back.events if "stream_id" in e]
        assert replayed and all(order(sid) > order(last_seen) for sid in replayed)
    return again
