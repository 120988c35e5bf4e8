"""The Redis event bus between processes, on a real ``redis-server``: delivery across buses, exact
events, critical events kept through a Redis restart and a reader restart, the overflow policy,
entries that are not events passed over (by the reader, a restarted reader and a replay)."""

from __future__ import annotations

import asyncio

import pytest
from redis.typing import EncodableT, FieldT

from agent_monitor.cluster.redis_bus import RedisEventBus
from agent_monitor.errors import ClusterError, InvalidRequestError
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import AlertRaised, Event, TranscriptEvent
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.session import LevelReason
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.pipeline.bus import Subscription
from agent_monitor.settings import ClusterSettings
from tests.redis_support import RedisServer
from web.resume import missed_events


def _partial(i: int) -> TranscriptEvent:
    tr = Transcript(Leg.AGENT, 0, 0.0, float(i), f"w{i}", False, (Word("w", 0.0, 0.5, 0.5),))
    return TranscriptEvent(call_id="c1", t=float(i), transcript=tr)


def _alert(i: int) -> AlertRaised:
    reason = LevelReason(kind="rule", level=WarningLevel.RED, text="x", t=float(i))
    return AlertRaised(
        call_id="c1", t=float(i), alert_id=i, level=WarningLevel.RED, reasons=(reason,), agent_id="a1"
    )


def _settings(server: RedisServer, **kw: object) -> ClusterSettings:
    return ClusterSettings(redis_url=server.url, prefix="t", reconnect_max_s=0.3, **kw)


async def _take(sub: Subscription, n: int, timeout: float = 10.0) -> list[Event]:
    return [await asyncio.wait_for(sub.get(), timeout) for _ in range(n)]


@pytest.mark.asyncio
async def test_events_reach_the_other_node_exactly_and_in_order(redis_server: RedisServer) -> None:
    a = RedisEventBus(_settings(redis_server), "a")
    b = RedisEventBus(_settings(redis_server), "b")
    await a.start()
    await b.start()
    try:
        await asyncio.sleep(0.3)  # b has found the stream's end
        local, remote = a.subscribe(), b.subscribe()
        sent: list[Event] = [_alert(1), _partial(2), _alert(3)]
        for e in sent:
            await a.publish(e)
        assert await _take(local, 3) == sent  # at once, from the publisher itself
        assert await _take(remote, 3) == sent
        assert local.get_nowait() is None  # its own events come back from Redis only once
        await asyncio.sleep(0.3)
        assert local.get_nowait() is None and remote.get_nowait() is None
    finally:
        await a.close()
        await b.close()


@pytest.mark.asyncio
async def test_critical_events_wait_for_redis_and_go_out_in_order(redis_server: RedisServer) -> None:
    a = RedisEventBus(_settings(redis_server, publish_buffer=2), "a")
    b = RedisEventBus(_settings(redis_server), "b")
    await a.start()
    await b.start()
    try:
        await a.publish(_alert(0))
        sub = b.subscribe()
        assert await _take(sub, 1) == [_alert(0)]
        await asyncio.to_thread(redis_server.stop)
        for i in range(1, 6):
            await a.publish(_alert(i))
            await a.publish(_partial(i))
        assert a.unsent >= 5 and a.dropped_unsent > 0  # non-critical beyond the buffer dropped
        await asyncio.sleep(0.5)
        await asyncio.to_thread(redis_server.start)
        assert await a.flush(10.0)
        got = await _take(sub, 5 + (10 - 5 - a.dropped_unsent))
        alerts = [e for e in got if isinstance(e, AlertRaised)]
        assert alerts == [_alert(i) for i in range(1, 6)]
        assert a.dropped_unsent == 10 - len(got)
    finally:
        await a.close()
        await b.close()


@pytest.mark.asyncio
async def test_a_restarted_node_resumes_after_the_last_event_it_delivered(redis_server: RedisServer) -> None:
    a = RedisEventBus(_settings(redis_server), "analysis-1")
    web = RedisEventBus(_settings(redis_server), "web-1")
    await a.start()
    await web.start()
    try:
        sub = web.subscribe()
        await a.publish(_alert(1))
        assert await _take(sub, 1) == [_alert(1)]
        await asyncio.sleep(0.2)  # the cursor is stored after each batch
        await web.close()
        for i in (2, 3):
            await a.publish(_alert(i))  # published while the web node is down
        assert await a.flush(5.0)
        web = RedisEventBus(_settings(redis_server), "web-1")
        sub = web.subscribe()
        await web.start()
        assert await _take(sub, 2) == [_alert(2), _alert(3)]
        fresh = RedisEventBus(_settings(redis_server), "web-2")  # a new node starts at the end
        await fresh.start()
        fresh_sub = fresh.subscribe()
        await asyncio.sleep(0.5)
        assert fresh_sub.get_nowait() is None
        await fresh.close()
    finally:
        await a.close()
        await web.close()


@pytest.mark.asyncio
async def test_slow_remote_subscriber_keeps_every_alert(redis_server: RedisServer) -> None:
    a = RedisEventBus(_settings(redis_server), "a")
    b = RedisEventBus(_settings(redis_server), "b", maxsize=5)
    await a.start()
    await b.start()
    try:
        await asyncio.sleep(0.3)
        sub = b.subscribe()
        for i in range(20):
            await a.publish(_partial(i))
            await a.publish(_alert(i))
        assert await a.flush(5.0)
        for _ in range(100):
            if b.received == 40:
                break
            await asyncio.sleep(0.05)
        got = [e for e in iter(sub.get_nowait, None)]
        assert [e for e in got if isinstance(e, AlertRaised)] == [_alert(i) for i in range(20)]
        assert sub.dropped == 40 - len(got) > 0
    finally:
        await a.close()
        await b.close()


@pytest.mark.asyncio
async def test_malformed_stream_entries_are_skipped_and_counted(redis_server: RedisServer) -> None:
    b = RedisEventBus(_settings(redis_server), "b")
    a = RedisEventBus(_settings(redis_server), "a")
    await b.start()
    await a.start()
    try:
        await asyncio.sleep(0.3)
        sub = b.subscribe()
        await a.redis.xadd("t:events", {"node": "x", "seq": 1, "event": '{"type": "nope"}'})
        await a.redis.xadd("t:events", {"node": "x", "seq": 2, "event": "not json"})
        await a.publish(_alert(7))
        assert await _take(sub, 1) == [_alert(7)]
        assert b.malformed == 2
    finally:
        await a.close()
        await b.close()


#: entries no decoder can read: not UTF-8 (a decoding client fails inside XREAD itself), a number
#: out of range (``int(inf)``), nesting deeper than the parser's recursion limit
POISON: list[dict[FieldT, EncodableT]] = [
    {"node": "x", "seq": 1, "event": b"\xff\xfe not utf-8"},
    {
        "node": "x",
        "seq": 2,
        "event": b'{"type":"transcript","call_id":"c","t":0,"leg":"agent","utterance":1e999,'
        b'"start":0,"end":1,"text":"x","final":true,"words":[],"lang":"en"}',
    },
    {"node": "x", "seq": 3, "event": b"[" * 100_000 + b"]" * 100_000},
]


async def _poison(bus: RedisEventBus) -> None:
    for fields in POISON:
        await bus.redis.xadd("t:events", fields)


@pytest.mark.asyncio
async def test_entries_that_break_decoding_are_passed_over_restarts_included(
    redis_server: RedisServer,
) -> None:
    a = RedisEventBus(_settings(redis_server), "a")
    web = RedisEventBus(_settings(redis_server), "web-1")
    await a.start()
    await web.start()
    try:
        await asyncio.sleep(0.3)
        sub = web.subscribe()
        await _poison(a)
        await a.publish(_alert(1))
        assert await _take(sub, 1) == [_alert(1)]
        assert web.malformed == len(POISON)
        await asyncio.sleep(0.2)  # the cursor is stored after each batch
        await web.close()
        await _poison(a)
        await a.publish(_alert(2))
        assert await a.flush(5.0)
        web = RedisEventBus(_settings(redis_server), "web-1")  # restarted: resumes at its cursor
        sub = web.subscribe()
        await web.start()
        assert await _take(sub, 1) == [_alert(2)]
        assert web.malformed == len(POISON)
    finally:
        await a.close()
        await web.close()


@pytest.mark.asyncio
async def test_replay_passes_over_bad_entries_and_refuses_ids_redis_refuses(
    redis_server: RedisServer,
) -> None:
    a = RedisEventBus(_settings(redis_server), "a")
    web = RedisEventBus(_settings(redis_server), "web")
    await a.start()
    await web.start()
    try:
        await asyncio.sleep(0.3)
        sub = web.subscribe()
        await a.publish(_alert(1))
        await _poison(a)
        await a.publish(_alert(2))
        await a.publish(_alert(3))
        got = await _take(sub, 3)
        first = web.stream_id(got[0])
        assert first is not None
        replayed = await missed_events(web, first, lambda e: True)
        assert [e for _, e in replayed] == [_alert(2), _alert(3)]
        for since in ("99999999999999999999-0", "18446744073709551615-18446744073709551615"):
            with pytest.raises(InvalidRequestError, match="since"):
                await missed_events(web, since, lambda e: True)
        # Redis away: a "come back later" the websocket closes with 1011, not an unhandled error
        redis_server.stop()
        with pytest.raises(ClusterError, match="the event stream cannot be read now"):
            await missed_events(web, first, lambda e: True)
    finally:
        await a.close()
        await web.close()
