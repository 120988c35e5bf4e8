"""Prometheus metrics of one application: ``GET /metrics`` in the Prometheus text format.

:class:`PrometheusMetrics` owns one :class:`~prometheus_client.CollectorRegistry` per application
(never the global default, so several applications in one process, as in the tests, do not clash).
It is the call manager's :class:`~agent_monitor.pipeline.metrics.PipelineMetrics`: the pipeline
observes histograms and counters through it (each observation is a few arithmetic operations
under a lock, nothing waits). What exists as state anyway is read at scrape time by
:class:`LiveState` (a custom collector, on the event loop, so it sees a consistent state):

======================================================= ======================================
``agent_monitor_calls_live{node}``                      gauge: live calls of this node
``agent_monitor_recognition_lag_seconds{leg}``          histogram: received minus recognised audio
``agent_monitor_audio_dropped_seconds_total{leg}``      counter: audio dropped from recognition
``agent_monitor_alert_latency_seconds``                 histogram: end of the words -> alert published
``agent_monitor_event_loop_lag_seconds``                histogram: how late a 100 ms timer fires
``agent_monitor_db_write_seconds``                      histogram: one outbox transaction
``agent_monitor_leg_inbox_seconds{leg}``                gauge: audio waiting for recognition
``agent_monitor_outbox_pending_writes``                 gauge: writes waiting in the outboxes' memory
``agent_monitor_bus_pending_events``                    gauge: events waiting in subscribers' queues
``agent_monitor_bus_subscribers``                       gauge: subscribers of the event bus
======================================================= ======================================

The route and who may scrape: :mod:`web.api_metrics`.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agent_monitor.cluster.redis_bus import RedisEventBus
from agent_monitor.model.audio import Leg
from agent_monitor.pipeline import CallManager, EventBus, InProcessEventBus
from agent_monitor.settings import Settings
from web.loop_monitor import LoopLagMonitor

PREFIX = "agent_monitor_"
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
ALERT_BUCKETS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)
DB_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
LOOP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class PrometheusMetrics:
    """The registry of one application and the pipeline's observations (see the module docs)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.lag = Histogram(
            PREFIX + "recognition_lag_seconds",
            "How far recognition is behind the audio received on a leg, after each processed batch",
            ["leg"],
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.dropped = Counter(
            PREFIX + "audio_dropped_seconds",
            "Seconds of leg audio dropped from recognition (inbox full)",
            ["leg"],
            registry=r,
        )
        self.alert_latency = Histogram(
            PREFIX + "alert_latency_seconds",
            "From the end of the offending words to the alert being published",
            buckets=ALERT_BUCKETS,
            registry=r,
        )
        self.db = Histogram(
            PREFIX + "db_write_seconds", "One outbox database transaction", buckets=DB_BUCKETS, registry=r
        )
        self.loop_lag = Histogram(
            PREFIX + "event_loop_lag_seconds",
            "How much later than asked a periodic event-loop timer fires",
            buckets=LOOP_BUCKETS,
            registry=r,
        )
        for leg in Leg:  # every leg's series exists from the start (a rate over a missing series is empty)
            self.lag.labels(leg=leg.value)
            self.dropped.labels(leg=leg.value)

    # --- PipelineMetrics ----------------------------------------------------------------------------
    def recognition_lag(self, leg: Leg, seconds: float) -> None:
        self.lag.labels(leg=leg.value).observe(max(0.0, seconds))

    def audio_dropped(self, leg: Leg, seconds: float) -> None:
        self.dropped.labels(leg=leg.value).inc(seconds)

    def alert_published(self, latency_s: float) -> None:
        self.alert_latency.observe(latency_s)

    def db_write(self, seconds: float) -> None:
        self.db.observe(seconds)

    # --- state read at scrape time ------------------------------------------------------------------
    def watch(
        self, settings: Settings, manager: CallManager, bus: EventBus, loop_lag: LoopLagMonitor
    ) -> None:
        """Read the live state of ``manager`` and ``bus`` at each scrape; observe the loop lag."""
        node = settings.server.node_name or socket.gethostname()
        self.registry.register(LiveState(node, manager, bus))
        loop_lag.on_sample = self.loop_lag.observe

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class LiveState(Collector):
    """Gauges read from the call manager and the bus when Prometheus scrapes."""

    def __init__(self, node: str, manager: CallManager, bus: EventBus) -> None:
        self.node = node
        self.manager = manager
        self.bus = bus

    def describe(self) -> list[Metric]:
        return []  # collected afresh at each scrape (no fixed samples to describe)

    def collect(self) -> Iterator[Metric]:
        calls = self.manager.live_calls()
        live = GaugeMetricFamily(PREFIX + "calls_live", "Live calls on this node", labels=["node"])
        live.add_metric([self.node], len(calls))
        yield live
        inbox = GaugeMetricFamily(
            PREFIX + "leg_inbox_seconds", "Audio queued for recognition, all live calls", labels=["leg"]
        )
        for leg in Leg:
            workers = [s.legs[leg] for s in calls if leg in s.legs]
            inbox.add_metric([leg.value], sum(w.inbox.queued_samples / w.sample_rate for w in workers))
        yield inbox
        stores = self.manager.outbox.stores
        yield GaugeMetricFamily(
            PREFIX + "outbox_pending_writes",
            "Database writes waiting in the outboxes' memory (not yet written or spilled)",
            value=sum(s.queued for s in stores),
        )
        if isinstance(self.bus, InProcessEventBus | RedisEventBus):
            yield GaugeMetricFamily(
                PREFIX + "bus_pending_events", "Events waiting in subscribers' queues", value=self.bus.pending
            )
            yield GaugeMetricFamily(
                PREFIX + "bus_subscribers", "Event bus subscribers", value=self.bus.subscribers
            )
        if isinstance(self.bus, RedisEventBus):
            yield GaugeMetricFamily(
                PREFIX + "bus_unsent_events", "Events published here, not yet in Redis", value=self.bus.unsent
            )
            yield GaugeMetricFamily(
                PREFIX + "bus_unsent_dropped_events",
                "Non-critical events dropped while Redis was away (since start)",
                value=self.bus.dropped_unsent,
            )
