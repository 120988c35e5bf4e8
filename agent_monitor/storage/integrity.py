"""Verify the stored evidence: every hash chain, and that alert states agree with their events.

It sits above :mod:`.chain` and :mod:`.alert_state` (which reports in the chain's
:class:`~agent_monitor.storage.chain.ChainReport`), so neither imports the other back.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from agent_monitor.storage.alert_state import verify_alert_states
from agent_monitor.storage.chain import CHAINED, Anchor, ChainReport, verify_chain


def verify_chains(session: Session, anchors: Mapping[str, Anchor] | None = None) -> list[ChainReport]:
    """Verify every chain, and that alert states and handoffs agree with the alert events."""
    anchors = anchors or {}
    reports = [verify_chain(session, name, anchors.get(name)) for name in CHAINED]
    reports.append(verify_alert_states(session))
    return reports
