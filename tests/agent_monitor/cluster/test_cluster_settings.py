"""The ``cluster`` settings: a node's presence must outlive its beats (``node_ttl_s`` at least
2 x ``heartbeat_s``), or the nodes of a floor take each other for dead and abort live calls."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent_monitor.errors import ConfigError
from agent_monitor.settings import ClusterSettings, load_settings


@pytest.mark.parametrize(("heartbeat_s", "node_ttl_s"), [(5.0, 1.0), (1.0, 1.0), (1.0, 1.99)])
def test_a_ttl_shorter_than_two_beats_is_refused(heartbeat_s: float, node_ttl_s: float) -> None:
    with pytest.raises(ValidationError, match=r"node_ttl_s .* at least 2 x heartbeat_s"):
        ClusterSettings(heartbeat_s=heartbeat_s, node_ttl_s=node_ttl_s)


def test_a_ttl_of_two_beats_or_more_is_accepted() -> None:
    assert ClusterSettings(heartbeat_s=1.0, node_ttl_s=2.0).node_ttl_s == 2.0
    assert ClusterSettings().node_ttl_s >= 2 * ClusterSettings().heartbeat_s  # the defaults


def test_the_environment_cannot_set_a_ttl_shorter_than_two_beats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_MONITOR_CLUSTER__HEARTBEAT_S", "5")
    monkeypatch.setenv("AGENT_MONITOR_CLUSTER__NODE_TTL_S", "1")
    with pytest.raises(ConfigError, match=r"cluster: .*2 x heartbeat_s"):
        load_settings()
