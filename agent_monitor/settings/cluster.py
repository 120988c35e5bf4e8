"""Settings of a floor of several nodes sharing Redis and PostgreSQL (README: "Running a floor")."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator

from agent_monitor.settings.base import Section

__all__ = ["ClusterSettings", "NodeRole"]

#: ``all``: one node does everything (today's server); ``analysis``: ingest and the pipeline;
#: ``web``: pages, REST and websockets only (no speech models loaded, no ingest)
NodeRole = Literal["all", "analysis", "web"]


class ClusterSettings(Section):
    """``AGENT_MONITOR_CLUSTER__*``: how this node joins the others (nothing, by default)."""

    #: Redis of the floor, e.g. ``redis://10.0.0.5:6379/0``; ``None``: the in-process bus (one node)
    redis_url: str | None = None
    #: prefix of every Redis key of this floor (the event stream is ``PREFIX:events``)
    prefix: str = Field("agent-monitor", min_length=1, max_length=100)
    #: the event stream is trimmed to about this many entries (``XADD MAXLEN ~``); a node that was
    #: away longer than these events take to publish misses the oldest of them (counted)
    stream_maxlen: int = Field(100_000, ge=1000)
    role: NodeRole = "all"
    #: a directory every node of the floor mounts (NFS, CephFS, ...): recordings are kept under it
    #: instead of ``data_dir``, so a call the phone switch moves to another node continues its
    #: recording there and web nodes play recordings back; ``None``: ``data_dir`` (one node)
    shared_dir: Path | None = None
    #: this node's name on the floor (its stream cursor and its calls in the registry are kept
    #: under it, so a restarted node resumes where it stopped); default: ``HOST:PORT``
    node_id: str | None = Field(None, min_length=1, max_length=200)
    #: an analysis node renews its presence and its calls in the registry this often (at most half
    #: of ``node_ttl_s``)
    heartbeat_s: float = Field(1.0, gt=0.0, le=30.0)
    #: a node whose presence is older than this is dead: its calls are marked aborted; at least
    #: twice ``heartbeat_s`` (a live node must renew its presence before it expires, with a beat
    #: to spare, or the others take it for dead and abort its live calls)
    node_ttl_s: float = Field(5.0, gt=0.0, le=300.0)
    #: a Redis that does not answer is retried after 0.1 s, doubling up to this
    reconnect_max_s: float = Field(5.0, gt=0.0, le=60.0)
    #: while Redis is away, at most this many non-critical events wait to be sent (the rest are
    #: dropped, counted); critical events always wait, in order
    publish_buffer: int = Field(10_000, ge=0)
    #: an analysis (or ``all``) node looks this often for handoffs due for escalation that no
    #: node escalated (the node that raised the alert may have died): its timer's escalation is
    #: taken over within this period
    escalation_sweep_s: float = Field(1.0, gt=0.0, le=30.0)
    #: handoffs requested longer ago than ``live.escalate_after_s`` plus this are left to the
    #: supervisors (a floor started again after a long stop does not escalate old handoffs en masse)
    escalation_horizon_s: float = Field(3600.0, gt=0.0)
    #: every node reads the stored rule pack choices this often: an admin's change made on another
    #: node (a web node's admin page) reaches its new calls (and its "try on text") within this
    packs_check_s: float = Field(2.0, gt=0.0, le=300.0)

    @model_validator(mode="after")
    def _ttl_outlives_beats(self) -> Self:
        if self.node_ttl_s < 2 * self.heartbeat_s:
            raise ValueError(
                f"node_ttl_s ({self.node_ttl_s:g}) must be at least 2 x heartbeat_s "
                f"({self.heartbeat_s:g}): a live node's presence would expire between its beats "
                "and its live calls be aborted"
            )
        return self
