"""Prometheus ``/metrics``: a real call through the real server, then the metrics it left.

Real uvicorn server on loopback (the ``live_server`` fixture), real Vosk model, real SQLite
database; the real stereo phone call of the shared data with a scripted violation rendered by
espeak-ng (**synthetic** speech), streamed over ``/ws/ingest`` at real time. The exposition is
parsed with ``prometheus_client.parser``."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from pydantic import SecretStr

from agent_monitor.ingest.call_audio import CallAudio, synthetic_speech
from agent_monitor.ingest.client import stream_ingest
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings
from tests.web.auth_support import app_settings, running
from tests.web.live_support import EventCollector, LiveServer
from web.metrics import PrometheusMetrics

VIOLATION = "you are a stupid idiot"


def scrape(url: str, **headers: str) -> dict[str, list[Sample]]:
    response = httpx.get(url + "/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples_by_name(text_string_to_metric_families(response.text))


def samples_by_name(families: Iterable[object]) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = {}
    for family in families:
        for sample in family.samples:  # type: ignore[attr-defined]
            out.setdefault(sample.name, []).append(sample)
    return out


def value(samples: dict[str, list[Sample]], name: str, **labels: str) -> float:
    found = [s.value for s in samples[name] if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, samples.get(name))
    return found[0]


def lanes(server: LiveServer) -> dict[str, dict[str, float]]:
    """The worker threads' lane counters from ``/api/metrics`` (JSON, for supervisors and admins)."""
    response = httpx.get(server.url + "/api/metrics", headers={"Cookie": server.cookie})
    assert response.status_code == 200, response.text
    return dict(response.json()["lanes"])


@pytest.fixture(scope="module")
def short_call(real_call: CallAudio) -> CallAudio:
    """16 s of the real call with a synthetic agent insult spliced in at 8 s."""
    clip = synthetic_speech(VIOLATION, real_call.sample_rate)
    return real_call.excerpt(0.0, 16.0).splice(Leg.AGENT, clip, 8.0, VIOLATION)


def test_a_real_call_shows_in_the_metrics(live_server: LiveServer, short_call: CallAudio) -> None:
    async def run() -> dict[str, list[Sample]]:
        async with EventCollector(live_server.ws + "/ws/events", live_server.cookie) as events:
            stream = asyncio.create_task(
                stream_ingest(
                    live_server.url,
                    short_call,
                    {"call_id": "metrics-1", "agent_id": "A-7"},
                    speed=1.0,
                    token=live_server.token,
                )
            )
            await events.wait_for("metrics-1", "call_started")
            during = await asyncio.to_thread(scrape, live_server.url)
            result = await stream
            assert result.completed, (result.close_code, result.close_reason)
            await events.wait_for("metrics-1", "call_ended")
            assert events.of("metrics-1", "alert_raised"), [e["type"] for e in events.of("metrics-1")]
        return during

    before, lanes_before = scrape(live_server.url), lanes(live_server)
    during = asyncio.run(run())
    after, lanes_after = scrape(live_server.url), lanes(live_server)
    # the worker threads' lanes: recognition and rules urgent, the debtor's stress deferred
    ran = {lane: lanes_after[lane]["jobs"] - lanes_before[lane]["jobs"] for lane in ("urgent", "deferred")}
    assert ran["urgent"] >= 20 and ran["deferred"] >= 5, ran
    assert lanes_after["urgent"]["cpu_s"] > lanes_before["urgent"]["cpu_s"]
    assert lanes_after["deferred"]["queued"] == 0
    node = live_server.settings.server.node_name or socket.gethostname()
    assert value(during, "agent_monitor_calls_live", node=node) == 1
    assert value(after, "agent_monitor_calls_live", node=node) == 0
    for leg in ("agent", "debtor"):  # ~10 batches per leg (at most 1 s of audio each)
        count = value(after, "agent_monitor_recognition_lag_seconds_count", leg=leg)
        assert count - value(before, "agent_monitor_recognition_lag_seconds_count", leg=leg) >= 10
        assert value(after, "agent_monitor_recognition_lag_seconds_sum", leg=leg) >= 0.0
        assert value(after, "agent_monitor_audio_dropped_seconds_total", leg=leg) == 0.0
    alerts = value(after, "agent_monitor_alert_latency_seconds_count")
    assert alerts - value(before, "agent_monitor_alert_latency_seconds_count") >= 1
    # at real time, the alert follows the words within seconds (the +Inf bucket holds all of them)
    assert value(after, "agent_monitor_alert_latency_seconds_bucket", le="10.0") == alerts
    writes = value(after, "agent_monitor_db_write_seconds_count")
    assert writes - value(before, "agent_monitor_db_write_seconds_count") >= 5  # utterances, hits, end
    assert value(after, "agent_monitor_event_loop_lag_seconds_count") > value(
        before, "agent_monitor_event_loop_lag_seconds_count"
    )
    assert value(after, "agent_monitor_outbox_pending_writes") == 0
    assert value(after, "agent_monitor_leg_inbox_seconds", leg="agent") == 0
    assert value(after, "agent_monitor_bus_subscribers") >= 0
    assert "agent_monitor_bus_pending_events" in after


def test_off_loopback_scrapes_need_the_token(base_settings: Settings, tmp_path: Path) -> None:
    """Unset token: loopback only (the live server above scrapes from 127.0.0.1); set: the token."""
    settings = app_settings(base_settings, tmp_path / "data")
    with running(settings) as client:  # the test client's address is "testclient", not loopback
        assert client.get("/metrics").status_code == 403
    with running(
        app_settings(base_settings, tmp_path / "data2", metrics_token=SecretStr("m" * 32))
    ) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
        assert ok.status_code == 200 and "agent_monitor_calls_live" in ok.text


def test_each_application_has_its_own_registry() -> None:
    first, second = PrometheusMetrics(), PrometheusMetrics()
    first.alert_published(0.5)
    assert "agent_monitor_alert_latency_seconds_count 1.0" in first.exposition().decode()
    assert "agent_monitor_alert_latency_seconds_count 0.0" in second.exposition().decode()
