"""What the web layer needs of "the live calls": list them, find one by id.

On a single node the :class:`~agent_monitor.pipeline.manager.CallManager` is it (its sessions are
:class:`LiveCall`); on a floor of several nodes :class:`agent_monitor.cluster.registry.FloorCalls`
adds the calls other nodes hold, from the registry in Redis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from agent_monitor.model.rules import RequiredDisclosure
from agent_monitor.model.session import CallInfo, SessionStats


class LiveCall(Protocol):
    """One live call as the wall and the access policy see it."""

    @property
    def call_id(self) -> str: ...

    @property
    def info(self) -> CallInfo: ...

    @property
    def stats(self) -> SessionStats: ...

    @property
    def checklist(self) -> tuple[RequiredDisclosure, ...]:
        """The agent's checklist of required disclosures as last published (empty: none yet)."""
        ...


class LiveCalls(Protocol):
    """The live calls this node can show."""

    def live_calls(self) -> Sequence[LiveCall]: ...

    def get(self, call_id: str) -> LiveCall | None: ...
