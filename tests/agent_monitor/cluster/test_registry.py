"""The registry of live calls on a real ``redis-server`` and a real database (SQLite): calls of one
node seen by the others (with the agent's checklist), ended calls removed, a dead node's calls
aborted exactly once (in the database and as one ``call_ended`` on the bus), a call reconnected
to another node left alone (also when its opening there came before that node's first beat: it
names its holder), an unreadable entry left out without stopping the round, the calls of a
node's previous process reaped after a restart under the same node id (but one the new process
resumed), and the recordings that process left open sealed (another dead node's left for it)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from redis.typing import EncodableT, FieldT

from agent_monitor.cluster.registry import FloorCalls
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import CallEnded
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import DisclosureState, RequiredDisclosure
from agent_monitor.model.session import CallInfo
from agent_monitor.storage import CallStatus, Database, repo
from agent_monitor.storage.recordings import RecordingWriter, file_sha256, recording_path
from tests.agent_monitor.cluster.registry_support import Held, Node, close_all, keeper, start_row, status
from tests.redis_support import RedisServer

#: an agent's checklist as a call's session last published it
CHECKLIST = (
    RequiredDisclosure("EN-DISC-ID-1", "Who is calling", "This is Sam from Acme", 30.0, DisclosureState.SAID),
    RequiredDisclosure("EN-DISC-MINI-1", "Mini-Miranda", None, 60.0, DisclosureState.DUE),
)


async def _test_a_nodes_calls_are_seen_elsewhere_and_leave_when_they_end(
    redis_server: RedisServer, db: Database
) -> None:
    analysis, web_node = Node(), Node()
    a = keeper(redis_server, db, "a", analysis)
    web = keeper(redis_server, db, "web", web_node, holds=False)
    info = CallInfo("c1", "agent-7", debtor_phone="+15550100", debtor_tz="America/Chicago")
    analysis.calls["c1"] = Held(info, checklist=CHECKLIST)
    await a.once()
    await web.once()
    floor = FloorCalls(web_node, web.registry)
    seen = floor.get("c1")
    assert seen is not None and seen.info == info and seen.stats == Held(info).stats
    assert seen.checklist == CHECKLIST  # the agent's panel on the web node shows it
    assert [c.call_id for c in floor.live_calls()] == ["c1"]
    raw = await web.registry.redis.hget(web.registry.calls_key, "c1")
    assert raw is not None
    entry = json.loads(raw)
    del entry["checklist"]  # as a node from before checklists were kept writes it
    await web.registry.redis.hset(web.registry.calls_key, "c1", json.dumps(entry))
    await web.once()
    older = floor.get("c1")
    assert older is not None and older.checklist == () and older.info == info
    del analysis.calls["c1"]
    await a.once()
    await web.once()
    assert floor.get("c1") is None and floor.live_calls() == []


async def _test_an_ended_call_keeps_the_entry_another_node_wrote_since(
    redis_server: RedisServer, db: Database
) -> None:
    a_calls, b_calls = Node(), Node()
    a = keeper(redis_server, db, "a", a_calls)
    b = keeper(redis_server, db, "b", b_calls)
    info = CallInfo("moved-on", "agent-1")
    a_calls.calls["moved-on"] = Held(info)
    await a.once()
    b_calls.calls["moved-on"] = Held(info)  # reconnected to b, which beat before a's session ended
    await b.once()
    del a_calls.calls["moved-on"]
    await a.once()  # a removes its own entries of calls it no longer holds, not b's
    seen = await b.registry.read()  # before b's next beat would write its entry again
    assert seen["moved-on"].node == "b", seen
    del b_calls.calls["moved-on"]
    await b.once()
    assert "moved-on" not in b.registry.calls  # b's own entry goes when b's call ends


async def _test_a_dead_nodes_calls_are_aborted_exactly_once(redis_server: RedisServer, db: Database) -> None:
    dying, b_calls, c_calls = Node(), Node(), Node()
    dead = keeper(redis_server, db, "dead", dying)
    b = keeper(redis_server, db, "b", b_calls)
    c = keeper(redis_server, db, "c", c_calls, holds=False)
    infos = [CallInfo(f"call-{i}", "agent-1") for i in range(3)]
    for info in infos:
        start_row(db, info)
        dying.calls[info.call_id] = Held(info)
    await dead.once()
    await asyncio.gather(b.once(), c.once())  # both watch from before the death (node_ttl_s)
    subs = [k.bus.subscribe() for k in (b, c)]
    await asyncio.sleep(0.8)  # the dead node's presence expires (node_ttl_s 0.6)
    await asyncio.gather(b.once(), c.once(), b.once(), c.once())
    assert sorted(b.reaped + c.reaped) == sorted(i.call_id for i in infos)
    assert all(status(db, i.call_id) is CallStatus.ABORTED for i in infos)
    ended = [e for sub in subs for e in iter(sub.get_nowait, None)]
    assert sorted(e.call_id for e in ended) == sorted(i.call_id for i in infos)
    assert all(
        isinstance(e, CallEnded) and e.status == "aborted" and e.level is WarningLevel.ORANGE for e in ended
    )
    await asyncio.gather(b.once(), c.once())
    assert len(b.reaped + c.reaped) == 3  # nothing twice


async def _test_a_call_reconnected_to_another_node_is_not_aborted(
    redis_server: RedisServer, db: Database
) -> None:
    dying, b_calls = Node(), Node()
    dead = keeper(redis_server, db, "dead", dying)
    b = keeper(redis_server, db, "b", b_calls)
    info = CallInfo("moved", "agent-1")
    start_row(db, info)
    dying.calls["moved"] = Held(info)
    await dead.once()
    await b.once()
    b_calls.calls["moved"] = Held(info)  # the phone switch reconnected the call to b
    await asyncio.sleep(0.8)
    await b.once()
    await b.once()
    assert b.reaped == [] and status(db, "moved") is CallStatus.LIVE
    assert b.registry.calls["moved"].node == "b"


async def _test_a_dead_nodes_call_opening_here_is_left_to_the_opening(
    redis_server: RedisServer, db: Database
) -> None:
    dying, b_calls = Node(), Node()
    dead = keeper(redis_server, db, "dead", dying)
    b = keeper(redis_server, db, "b", b_calls)
    info = CallInfo("reopening", "agent-1")
    start_row(db, info, by=dead)
    dying.calls["reopening"] = Held(info)
    await dead.once()
    await b.once()
    sub = b.bus.subscribe()
    await asyncio.sleep(0.8)  # the dead node's presence expires (node_ttl_s 0.6)
    b_calls.opening.add("reopening")  # the switch reconnected the call to b, whose opening runs
    await b.once()
    await b.once()
    assert b.reaped == [] and status(db, "reopening") is CallStatus.LIVE
    assert sub.get_nowait() is None  # no call_ended for a call opening here
    b_calls.opening.clear()  # the opening failed (refused, disk full): the next round reaps it
    await b.once()
    assert b.reaped == ["reopening"] and status(db, "reopening") is CallStatus.ABORTED


async def _test_a_call_resumed_before_its_entry_moved_is_left_to_its_new_holder(
    redis_server: RedisServer, db: Database
) -> None:
    """The switch reconnects a dead node's call to node c as the dead node's presence expires: c's
    opening has set the row live again, naming itself the holder, but its first beat is still to
    come, so the registry names the dead node and b claims the entry. The call stays live, and no
    wall is told it ended; c's beat then lists it as c's."""
    dying, b_calls, c_calls = Node(), Node(), Node()
    dead = keeper(redis_server, db, "dead", dying)
    b = keeper(redis_server, db, "b", b_calls)
    c = keeper(redis_server, db, "c", c_calls)
    info = CallInfo("moved", "agent-1")
    start_row(db, info, dead)
    dying.calls["moved"] = Held(info)
    await dead.once()
    await b.once()
    sub = b.bus.subscribe()
    await asyncio.sleep(0.8)  # the dead node's presence expires (node_ttl_s 0.6)
    start_row(db, info, c)  # c's opening: the row is c's; c's beat not yet
    await b.once()
    assert status(db, "moved") is CallStatus.LIVE and b.reaped == []
    assert b"moved" not in await b.registry.redis.hgetall("t:calls")  # b's claim took the entry
    assert list(iter(sub.get_nowait, None)) == []  # no call_ended for a call that goes on
    c_calls.calls["moved"] = Held(info)
    await c.once()
    await b.once()
    assert b.registry.calls["moved"].node == "c" and b.reaped == []


async def _test_a_call_its_restarted_node_resumed_is_not_reaped_as_stale(
    redis_server: RedisServer, db: Database
) -> None:
    """A node restarted at once: its previous process's call comes back to the new process, whose
    opening has named itself the holder while the old entry goes stale before the call is among
    the new process's held ones. The stale entry is claimed; the call stays live."""
    before = Node()
    old = keeper(redis_server, db, "node-a", before)
    info = CallInfo("back", "agent-1")
    start_row(db, info, old)
    before.calls["back"] = Held(info)
    await old.once()  # then it dies without a word
    new = keeper(redis_server, db, "node-a", Node())
    start_row(db, info, new)  # the new process's opening, still under way
    for _ in range(6):  # 1.2 s: the old entry goes stale (node_ttl_s 0.6)
        await new.once()
        await asyncio.sleep(0.2)
    assert status(db, "back") is CallStatus.LIVE and new.reaped == []
    assert "back" not in new.registry.calls


#: registry entries no decoder can read: stats.legs a list (AttributeError), not UTF-8, a number out
#: of range (``int(inf)``), a call id that is not UTF-8
BAD_ENTRIES: dict[FieldT, EncodableT] = {
    b"legs-list": b'{"node":"dead","info":{"call_id":"x","agent_id":"a"},"stats":{"legs":[]},"at":0}',
    b"not-utf8": b"\xff\xfe",
    b"\xff-key": b"{}",
}


async def _test_unreadable_entries_do_not_stop_the_reaping(redis_server: RedisServer, db: Database) -> None:
    dying, web_node = Node(), Node()
    dead = keeper(redis_server, db, "dead", dying)
    web = keeper(redis_server, db, "web", web_node, holds=False)
    info = CallInfo("real", "agent-1")
    start_row(db, info)
    dying.calls["real"] = Held(info)
    await asyncio.gather(dead.once(), web.once())  # web watches from before the death
    redis = web.registry.redis
    real = await redis.hget("t:calls", "real")
    assert isinstance(real, bytes)
    overflow = real.replace(b'"utterances": 4', b'"utterances": 1e999')
    assert overflow != real
    await redis.hset("t:calls", mapping={**BAD_ENTRIES, b"overflow": overflow})
    await asyncio.sleep(0.8)  # the dead node's presence expires (node_ttl_s 0.6)
    await web.once()
    assert web.reaped == ["real"] and status(db, "real") is CallStatus.ABORTED
    assert web.registry.malformed == len(BAD_ENTRIES) + 1
    assert set(web.registry.calls) == set()


async def _test_a_restarted_nodes_previous_calls_are_reaped(redis_server: RedisServer, db: Database) -> None:
    before, twin_calls = Node(), Node()
    old = keeper(redis_server, db, "node-a", before)
    twin = keeper(redis_server, db, "node-b", twin_calls)  # two live processes, one node id:
    twin_again = keeper(redis_server, db, "node-b", Node())  # neither reaps the other's calls
    for i, node in enumerate((before, before, twin_calls)):
        info = CallInfo(f"c{i}", "agent-1")
        start_row(db, info)
        node.calls[info.call_id] = Held(info)
    await old.once()  # then it dies without a word (its presence and entries stay)
    new = keeper(redis_server, db, "node-a", Node())  # restarted at once: same node id
    for _ in range(6):  # beats for 1.2 s: the presence of node-a never expires (node_ttl_s 0.6)
        await asyncio.gather(new.once(), twin.once(), twin_again.once())
        await asyncio.sleep(0.2)
    assert sorted(new.reaped) == ["c0", "c1"] and twin.reaped == twin_again.reaped == []
    assert [status(db, c) for c in ("c0", "c1", "c2")] == [CallStatus.ABORTED] * 2 + [CallStatus.LIVE]
    await new.once()
    assert sorted(new.registry.calls) == ["c2"] and len(new.reaped) == 2


def _recorded(db: Database, media: Path, info: CallInfo, node: str) -> None:
    """A call of ``node`` whose two recordings its process left open (killed mid-call)."""
    start_row(db, info)
    for leg in Leg:
        path = recording_path(media, info.call_id, leg)
        with db.session() as s:
            repo.register_recording(s, info.call_id, leg, str(path), 8000, writer=node)
        writer = RecordingWriter(path, 8000)
        writer.write(b"\x01\x00" * 8000)
        writer.flush()


async def _test_a_restarted_node_seals_what_its_previous_process_left_open(
    redis_server: RedisServer, db: Database, media: Path
) -> None:
    before, other = Node(), Node()
    old = keeper(redis_server, db, "node-a", before, media=media)
    dying = keeper(redis_server, db, "node-d", other, media=media)
    for call_id, node, held in (("mine", "node-a", before), ("theirs", "node-d", other)):
        info = CallInfo(call_id, "agent-1")
        _recorded(db, media, info, node)
        held.calls[call_id] = Held(info)
    await asyncio.gather(old.once(), dying.once())  # then both die without a word
    new = keeper(redis_server, db, "node-a", Node(), media=media)  # node-a restarted at once
    for _ in range(6):  # 1.2 s: node-a's previous entries go stale, node-d's presence expires
        await new.once()
        await asyncio.sleep(0.2)
    assert sorted(new.reaped) == ["mine", "theirs"]
    with db.session() as s:
        for leg in Leg:
            mine = repo.require_recording(s, "mine", leg)
            assert mine.sha256 == file_sha256(recording_path(media, "mine", leg))
            assert mine.samples_written == 8000 and mine.closed_at is not None
            assert repo.require_recording(s, "theirs", leg).sha256 is None  # node-d's, left for it


@pytest.mark.asyncio
async def test_a_restarted_node_seals_what_its_previous_process_left_open(
    redis_server: RedisServer, db: Database, tmp_path: Path
) -> None:
    try:
        await _test_a_restarted_node_seals_what_its_previous_process_left_open(redis_server, db, tmp_path)
    finally:
        await close_all()


@pytest.mark.asyncio
async def test_a_restarted_nodes_previous_calls_are_reaped(redis_server: RedisServer, db: Database) -> None:
    try:
        await _test_a_restarted_nodes_previous_calls_are_reaped(redis_server, db)
    finally:
        await close_all()


@pytest.mark.asyncio
async def test_unreadable_entries_do_not_stop_the_reaping(redis_server: RedisServer, db: Database) -> None:
    try:
        await _test_unreadable_entries_do_not_stop_the_reaping(redis_server, db)
    finally:
        await close_all()


@pytest.mark.asyncio
async def test_a_nodes_calls_are_seen_elsewhere_and_leave_when_they_end(
    redis_server: RedisServer, db: Database
) -> None:
    try:
        await _test_a_nodes_calls_are_seen_elsewhere_and_leave_when_they_end(redis_server, db)
    finally:
        await close_all()


@pytest.mark.asyncio
async def test_a_dead_nodes_calls_are_aborted_exactly_once(redis_server: RedisServer, db: Database) -> None:
    try:
        await _test_a_dead_nodes_calls_are_aborted_exactly_once(redis_server, db)
    finally:
        await close_all()


@pytest.mark.asyncio
async def test_a_call_reconnected_to_another_node_is_not_aborted(
    redis_server: RedisServer, db: Database
) -> None:
    try:
        await _test_a_call_reconnected_to_another_node_is_not_aborted(redis_server, db)
    finally:
        await close_all()


@pytest.mark.asyncio
async def test_a_call_resumed_before_its_entry_moved_is_left_to_its_new_holder(
    redis_server: RedisServer, db: Database
) -> None:
    try:
        await _test_a_call_resumed_before_its_entry_moved_is_left_to_its_new_holder(redis_server, db)
    finally:
        await close_all()


@pytest.mark.asyncio
async def test_a_call_its_restarted_node_resumed_is_not_reaped_as_stale(
    redis_server: RedisServer, db: Database
) -> None:
    try:
        await _test_a_call_its_restarted_node_resumed_is_not_reaped_as_stale(redis_server, db)
    finally:
        await close_all()


@pytest.mark.asyncio
async def test_an_ended_call_keeps_the_entry_another_node_wrote_since(
    redis_server: RedisServer, db: Database
) -> None:
    try:
        await _test_an_ended_call_keeps_the_entry_another_node_wrote_since(redis_server, db)
    finally:
        await close_all()


@pytest.mark.asyncio
async def test_a_dead_nodes_call_opening_here_is_left_to_the_opening(
    redis_server: RedisServer, db: Database
) -> None:
    try:
        await _test_a_dead_nodes_call_opening_here_is_left_to_the_opening(redis_server, db)
    finally:
        await close_all()
