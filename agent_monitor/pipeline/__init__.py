"""The live call pipeline: one engine for live calls and recorded ones.

Interface used by the ingest layer and the web application::

    from agent_monitor.pipeline import CallManager, CallSession, InProcessEventBus, EventBus
    from agent_monitor.model.session import CallInfo
    from agent_monitor.model import events

    stages = agent_monitor.compose.build_stages(settings)            # the composition root's
    bus = InProcessEventBus(settings.live.subscriber_queue)
    manager = CallManager(settings, stages, db, bus)                 # clock=... for tests,
                                                                     # metrics=... (the server's)
    session = await manager.start_call(CallInfo(call_id=..., agent_id=..., sample_rate=8000,
                                                encoding="mulaw", source="twilio"))
    session.push_audio(Leg.AGENT, frame_bytes)                       # never blocks
    await session.stop("stop")              # or "client disconnected" -> status aborted
    manager.get(call_id); manager.live_calls(); session.level; session.stats
    await manager.acknowledge_alert(alert_id, by="sup1")             # stops escalation
    await manager.shutdown()

    with bus.subscribe(lambda e: e.call_id == call_id) as sub:
        async for event in sub: ...                                  # event.to_dict() is JSON

Modules: :mod:`.bus` (event bus and its overflow policy), :mod:`.audio_in` (decoding, inbox
overflow policy), :mod:`.leg` (per-leg worker: the stages' Protocols of
:mod:`agent_monitor.model.stages`), :mod:`.fusion` (the level policy), :mod:`.policy` (the alert
policy: warn, store or settle, raise, hand off, queue; pure), :mod:`.alerts` (alerts carried
out), :mod:`.session`, :mod:`.manager`, :mod:`.escalation` (handoff timer, injectable clock),
:mod:`.store`/:mod:`.records`/:mod:`.journal` (the outbox: database writes off the live path,
retried and spilled to a journal during an outage), :mod:`.analyze` (files), :mod:`.metrics` (what
the pipeline reports for monitoring: a Protocol the server's Prometheus registry satisfies).
"""

from agent_monitor.pipeline.bus import EventBus, EventFilter, InProcessEventBus, Subscription
from agent_monitor.pipeline.escalation import Clock, Escalator, SystemClock
from agent_monitor.pipeline.fusion import Fusion, LevelDecision
from agent_monitor.pipeline.manager import CallManager
from agent_monitor.pipeline.session import NORMAL_STOP_REASONS, CallSession

__all__ = [
    "NORMAL_STOP_REASONS",
    "CallManager",
    "CallSession",
    "Clock",
    "Escalator",
    "EventBus",
    "EventFilter",
    "Fusion",
    "InProcessEventBus",
    "LevelDecision",
    "Subscription",
    "SystemClock",
]
